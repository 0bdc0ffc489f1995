"""The ``advshape`` command line.

Each subcommand lives in its own module of this package with two functions,
``configure(parser)`` (adds its arguments; must import nothing heavy) and
``run(args) -> int`` (does the work; imports what it needs). The table below
is the only place a new subcommand is registered.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# subcommand -> (module in advshape.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("registry_cmds", "print the registry of shapers as a table"),
    "show": ("registry_cmds", "print A+, A-, w+, w- for every N+ of one shaper"),
    "verify": ("surrogate_cmds", "check the paper's surrogate-reward claims numerically"),
    "table": ("surrogate_cmds", "print the paper's Table 1 from the registry, checked"),
    "explain": (
        "explain_cmds",
        "what any estimator optimises: verl's, TRL's, yours (checks, scores, F)",
    ),
    "plot": ("surrogate_cmds", "draw Figures 1-5, or weights/surrogates of any shapers"),
    "simulate": ("bandit_cmds", "compare shapers on the exact bandit testbed (pass@1, pass@K)"),
    "train": ("lm_cmds", "RLVR of a small language model on a reasoning-gym task with one shaper"),
    "compare": ("lm_cmds", "train several shapers x seeds from one warm start; HTML/PNG report"),
}


class UsageError(Exception):
    """Bad command-line input: printed as ``advshape: error: ...`` with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advshape",
        description="Advantage shaping for RL with verifiable rewards.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(f"advshape.cli.{module}")
        sp = sub.add_parser(name, help=help_text, description=help_text)
        getattr(mod, f"configure_{name}")(sp)
        sp.set_defaults(_run=getattr(mod, f"run_{name}"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (UsageError, ValueError) as err:
        print(f"advshape {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("advshape: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `advshape table | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
