"""Build the wheel and the sdist, check their metadata with `twine check --strict`, and check
what they contain: the type marker py.typed, the licence, the version from its single source
(src/advshape/_version.py), the SPDX licence expression and the console script.

    .venv/bin/python scripts/check_dist.py [--outdir DIR]

Run by scripts/test.sh (so by CI). Builds without isolation (setuptools>=77 comes from the
dev extra), so it needs no network. Exit code 0 when all holds, 1 with the reasons otherwise.
"""

from __future__ import annotations

import argparse
import ast
import email
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _version() -> str:
    """The version, read from its single source without importing the package."""
    tree = ast.parse((ROOT / "src/advshape/_version.py").read_text())
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id == "__version__":
            return ast.literal_eval(node.value)
    raise SystemExit("check_dist: no __version__ in src/advshape/_version.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", help="where to build (default: a temporary directory)")
    args = parser.parse_args()
    if args.outdir:
        return check(Path(args.outdir))
    with tempfile.TemporaryDirectory(prefix="advshape-dist-") as tmp:
        return check(Path(tmp))


def check(out: Path) -> int:
    build = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True,
    )
    if build.returncode != 0:
        print(build.stdout[-4000:], build.stderr[-4000:], sep="\n")
        print("check_dist: python -m build failed")
        return 1
    version = _version()
    wheels = sorted(out.glob(f"advshape-{version}-*.whl"))
    sdists = sorted(out.glob(f"advshape-{version}.tar.gz"))
    problems: list[str] = []
    if len(wheels) != 1 or len(sdists) != 1:
        problems.append(f"expected one wheel and one sdist of version {version} in {out}")
        print("\n".join(problems))
        return 1
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheels[0]), str(sdists[0])],
        capture_output=True, text=True,
    )
    print(twine.stdout.strip())
    if twine.returncode != 0:
        problems.append(f"twine check failed: {twine.stderr.strip()}")

    with zipfile.ZipFile(wheels[0]) as whl:
        files = set(whl.namelist())
        dist_info = f"advshape-{version}.dist-info"
        meta = email.message_from_bytes(whl.read(f"{dist_info}/METADATA"))
        entry_points = whl.read(f"{dist_info}/entry_points.txt").decode()
    for needed in ("advshape/py.typed", "advshape/_version.py", f"{dist_info}/licenses/LICENSE"):
        if needed not in files:
            problems.append(f"the wheel lacks {needed}")
    if any(name.startswith("tests/") for name in files):
        problems.append("the wheel ships the tests")
    if meta["Version"] != version:
        problems.append(f"wheel metadata Version {meta['Version']} != _version.py's {version}")
    if meta["License-Expression"] != "Apache-2.0":
        problems.append(f"License-Expression is {meta['License-Expression']!r}, not 'Apache-2.0'")
    if "advshape = advshape.cli:main" not in entry_points:
        problems.append("the wheel has no `advshape` console script")
    with tarfile.open(sdists[0]) as sdist:
        members = set(sdist.getnames())
    for needed in ("LICENSE", "README.md", "pyproject.toml", "src/advshape/py.typed"):
        if f"advshape-{version}/{needed}" not in members:
            problems.append(f"the sdist lacks {needed}")

    if problems:
        print("\n".join(f"check_dist: {p}" for p in problems))
        return 1
    print(
        f"check_dist: {wheels[0].name} ({len(files)} files, py.typed, LICENSE, "
        f"License-Expression Apache-2.0) and {sdists[0].name} OK"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
