"""``advshape frontier``: every shaper family on held-out pass@1 against pass@K, with verdicts.

The options are the fields of :class:`advshape.frontier.run.FrontierConfig` (nothing heavy
is imported to build them); the work is in ``advshape.frontier``.
"""

from __future__ import annotations

import sys

from advshape.frontier.run import FrontierConfig

OPTIONS = {"frontier": FrontierConfig}

_SETTINGS = {
    "lm": "advshape.lm.config.Args",
    "bandit": "advshape.bandit.dynamics.BanditConfig",
    "digits": "advshape.digits.train.DigitsConfig",
}


def describe_frontier() -> str:
    """The text of ``advshape frontier --help`` above the options."""
    from advshape.frontier.families import default_families
    from advshape.frontier.testbeds import TESTBEDS

    beds = "\n".join(
        f"  {name}: starts {', '.join(bed.starts)} (default {', '.join(bed.default_starts)}); "
        f"--k {bed.default_k}, --steps {bed.default_steps} (--quick {bed.quick_steps}); "
        f"--set: the fields of {_SETTINGS[name]}"
        for name, bed in TESTBEDS.items()
    )
    return (
        "Train every family of shapers on a testbed (paired seeds, one start), place each spec "
        "at its held-out (pass@1, pass@K) with 95% intervals over seeds and problems, draw the "
        "fixed-K frontier, and state whether four published claims hold (docs/frontier.md).\n\n"
        f"testbeds:\n{beds}\n\ndefault families: {' '.join(default_families())}"
    )


def run_frontier(args: FrontierConfig) -> int:
    import json
    import os

    from advshape.frontier.run import run_frontier as run

    path = run(args)
    with open(os.path.join(args.out, "frontier.json")) as f:
        summary = json.load(f)
    claims = [c for data in summary["starts"].values() for c in data["claims"]]
    for claim in claims + summary["claims"]:
        print(
            f"- [{claim['start']}] {claim['subject']}: {claim['verdict']}. {claim['evidence']}",
            file=sys.stderr,
        )
    print(path)
    return 0
