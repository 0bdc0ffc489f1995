"""Write constraints.txt: the exact versions, installed in this environment, of every package
that advshape and the extras `scripts/setup.sh` installs need (their whole dependency closure).

The README's and the docs' measured numbers (sampling trajectories, Pass@K, timings) came from
these versions; `scripts/setup.sh` installs with `-c constraints.txt` so that a fresh set-up
reproduces them. Rerun after a deliberate upgrade, in the environment the numbers came from:

    .venv/bin/python scripts/update_constraints.py          # rewrite constraints.txt
    .venv/bin/python scripts/update_constraints.py --check  # exit 1 if it is out of date
    .venv-skyrl/bin/python scripts/update_constraints.py --skyrl  # constraints-skyrl.txt

Only packages reachable from pyproject's requirements are pinned (not whatever else happens to be
installed), and a local version label is dropped (`torch==2.13.0` also matches `2.13.0+cpu`).
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

import tomllib
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "constraints.txt"
# the extras scripts/setup.sh installs (keep in step with it)
EXTRAS = ("dev", "docs", "surrogates", "bandit", "lm", "trl", "verl", "jax")
# The skyrl extra lives in its own environment (scripts/integration_envs.sh): its own pins.
SKYRL_OUT = ROOT / "constraints-skyrl.txt"
SKYRL_EXTRAS = ("skyrl",)

HEADER = """\
# Exact versions behind the numbers in README.md and docs/ (generated: do not edit by hand).
# scripts/setup.sh installs with `-c constraints.txt`; other versions (transformers, torch in
# particular) give other sampling trajectories, so other Pass@K values: compare them with the
# paired-seed intervals the studies report, not with the point values.
# Regenerate after a deliberate upgrade: .venv/bin/python scripts/update_constraints.py
"""


def _applies(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    env = default_environment()
    return any(req.marker.evaluate({**env, "extra": e}) for e in (extras or {""}))


def closure(extras: tuple[str, ...] = EXTRAS) -> dict[str, str]:
    """name -> installed version for every distribution advshape[extras] needs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    own = canonicalize_name(project["name"])
    todo = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        todo += [Requirement(r) for r in project["optional-dependencies"][extra]]
    pinned: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen or name == own:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"update_constraints: {req.name} (needed by advshape) is not installed here")
        pinned[name] = Version(dist.version).public
        for line in dist.requires or []:
            sub = Requirement(line)
            if _applies(sub, set(req.extras)):
                todo.append(sub)
    return pinned


def render(pinned: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}=={pinned[name]}\n" for name in sorted(pinned))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if constraints.txt differs")
    parser.add_argument(
        "--skyrl", action="store_true", help="write constraints-skyrl.txt (run in .venv-skyrl)"
    )
    args = parser.parse_args()
    out = SKYRL_OUT if args.skyrl else OUT
    text = render(closure(SKYRL_EXTRAS if args.skyrl else EXTRAS))
    if args.check:
        if not out.exists() or out.read_text() != text:
            print(f"{out.name} is out of date: run scripts/update_constraints.py")
            return 1
        return 0
    out.write_text(text)
    print(f"wrote {out.relative_to(ROOT)} ({text.count(chr(10)) - HEADER.count(chr(10))} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
