"""``advshape frontier``: every shaper family on held-out pass@1 against pass@K, with verdicts.

Arguments only here (nothing heavy at import time); the work is in ``advshape.frontier``.
"""

from __future__ import annotations

import argparse
import sys


def configure_frontier(parser: argparse.ArgumentParser) -> None:
    from advshape.frontier.testbeds import TESTBEDS

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "testbeds (--testbed), their starts (--starts; default first) and --set keys:\n"
        + "\n".join(
            f"  {name:<7} starts: {', '.join(bed.default_starts)} (default)"
            + "".join(f", {s}" for s in bed.starts if s not in bed.default_starts)
            + f"; --set: the fields of {_settings_class(name)}; default --k {bed.default_k}, "
            f"--steps {bed.default_steps} (--quick: {bed.quick_steps})"
            for name, bed in TESTBEDS.items()
        )
        + "\n\nfamilies: a spec with one knob list, e.g. 'grpo_k:k={1,2,4,8}' or "
        "'grpo_k:k={linear(8,1),steps(8,1)}'; without --family, the default set (docs/frontier.md)"
    )
    parser.add_argument(
        "--testbed", default="lm", choices=tuple(TESTBEDS), help="where to train (default: lm)"
    )
    parser.add_argument(
        "--task",
        default=None,
        help="the lm testbed's task (default: divisor); same as --set task=TASK",
    )
    parser.add_argument(
        "--family",
        dest="families",
        action="extend",
        nargs="+",
        default=[],
        metavar="FAMILY",
        help="shaper families or single specs (default: the default set)",
    )
    parser.add_argument(
        "--extra",
        action="extend",
        nargs="+",
        default=[],
        metavar="FAMILY",
        help="families added to --family (or to the default set)",
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="paired RL seeds per spec (default: 3)"
    )
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default: 0)")
    parser.add_argument(
        "--starts", nargs="+", default=[], help="starting policies (default: the testbed's)"
    )
    parser.add_argument(
        "--k", type=int, default=0, help="the K of the pass@K axis (default: the testbed's)"
    )
    parser.add_argument(
        "--steps", type=int, default=0, help="RL steps per run (default: the testbed's)"
    )
    parser.add_argument(
        "--eval-points",
        type=int,
        default=8,
        help="held-out evaluations over a run, besides the start (default: 8)",
    )
    parser.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a testbed setting (repeatable), e.g. --set lr=1e-3 --set eval_problems=512",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smaller frontier of the same families: fewer knob values, steps and problems",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="local processes running runs at once (default: 1)"
    )
    parser.add_argument(
        "--executor",
        default="local",
        choices=("local", "ray"),
        help="local processes, or one Ray task per run on an existing cluster (default: local)",
    )
    parser.add_argument(
        "--address", default="", help="the Ray cluster's address, for --executor ray"
    )
    parser.add_argument(
        "--resamples", type=int, default=2000, help="bootstrap resamples (default: 2000)"
    )
    parser.add_argument(
        "--out", default="runs/frontier", help="the frontier's folder (default: runs/frontier)"
    )
    parser.add_argument(
        "--progress", default=True, action=argparse.BooleanOptionalAction, help="progress bar"
    )


def _settings_class(name: str) -> str:
    return {
        "lm": "advshape.lm.train.Args",
        "bandit": "advshape.bandit.dynamics.BanditConfig",
        "digits": "advshape.digits.train.DigitsConfig",
    }[name]


def run_frontier(ns: argparse.Namespace) -> int:
    import json
    import os

    from advshape.frontier.run import FrontierConfig
    from advshape.frontier.run import run_frontier as run

    options = list(ns.options)
    if ns.task is not None:
        if ns.testbed != "lm":
            raise ValueError(f"--task is for the lm testbed; --testbed {ns.testbed} has no tasks")
        options.append(f"task={ns.task}")
    config = FrontierConfig(
        testbed=ns.testbed,
        families=tuple(ns.families),
        extra=tuple(ns.extra),
        seeds=ns.seeds,
        first_seed=ns.first_seed,
        starts=tuple(ns.starts),
        k=ns.k,
        steps=ns.steps,
        eval_points=ns.eval_points,
        options=tuple(options),
        quick=ns.quick,
        jobs=ns.jobs,
        executor=ns.executor,
        address=ns.address,
        resamples=ns.resamples,
        out=ns.out,
        progress=ns.progress,
    )
    path = run(config)
    with open(os.path.join(ns.out, "frontier.json")) as f:
        summary = json.load(f)
    claims = [c for data in summary["starts"].values() for c in data["claims"]]
    for claim in claims + summary["claims"]:
        print(
            f"- [{claim['start']}] {claim['subject']}: {claim['verdict']}. {claim['evidence']}",
            file=sys.stderr,
        )
    print(path)
    return 0
