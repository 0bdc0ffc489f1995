"""``advshape simulate``: compare shapers on the exact bandit testbed.

The options are the fields of :class:`advshape.bandit.dynamics.BanditConfig` (one per
field, with its help text) plus the study's shapers, seeds, target and output folder.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from advshape.bandit.dynamics import BanditConfig
from advshape.bandit.run import DEFAULT_SHAPERS

# BanditConfig's annotations are strings (from __future__ import annotations)
_TYPES = {"int": int, "float": float, "str": str}


def configure_simulate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shapers",
        nargs="+",
        default=list(DEFAULT_SHAPERS),
        metavar="SPEC",
        help="shaper specs (registry names, e.g. grpo grpo_k:k=8 entropy:lam=0.5, or "
        "surrogate:... when advshape.from_surrogate exists); shapers that take k and are "
        "given none get --k (default: %(default)s)",
    )
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds 0..S-1 (default: 3)")
    parser.add_argument(
        "--target", type=float, default=0.44, help="target train pass@K for 'samples to target'"
    )
    parser.add_argument(
        "--out", default="runs/simulate", help="run folder (resumed if it holds this study)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="processes (default: min(2, CPU cores))"
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    group = parser.add_argument_group("bandit")
    for f in dataclasses.fields(BanditConfig):
        kw: dict[str, Any] = {"type": _TYPES[str(f.type)], "default": f.default}
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
        group.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            help=f"{f.metadata['help']} (default: %(default)s"
            + (f"; {f.metadata['check'].describe()})" if "check" in f.metadata else ")"),
            **kw,
        )


def run_simulate(args: argparse.Namespace) -> int:
    from advshape._options import count
    from advshape.bandit.run import StudyConfig, default_workers, run_study

    if args.workers is not None:
        count(1, 1024, why="processes that run the (shaper, seed) pairs").check(
            "--workers", args.workers
        )
    bandit = BanditConfig(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(BanditConfig)}
    )
    study = StudyConfig(
        bandit=bandit, shapers=tuple(args.shapers), seeds=args.seeds, target=args.target
    )
    workers = default_workers() if args.workers is None else args.workers
    result = run_study(
        study, args.out, workers=workers, progress=not args.no_progress, plots=not args.no_plots
    )
    print((Path(result["out"]) / "summary.md").read_text())
    print(f"run folder: {result['out']}")
    return 0
