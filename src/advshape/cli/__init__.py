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
from typing import NoReturn

from advshape._version import __version__

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
    "train": ("lm_cmds", "RLVR of a small language model on a verifiable task with one shaper"),
    "compare": ("lm_cmds", "train several shapers x paired seeds from one warm start; report"),
    "probe": ("lm_cmds", "evaluate a task's warm start at lower temperatures: room for RL?"),
    "frontier": (
        "frontier_cmds",
        "every shaper family on held-out pass@1 against pass@K, with verdicts and intervals",
    ),
}


class UsageError(Exception):
    """Bad command-line input: printed as ``advshape: error: ...`` with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _one_line(err: BaseException) -> str:
    """The error as one line: an OSError as 'what: path', everything else as its text."""
    if isinstance(err, OSError) and err.strerror:
        where = f": {os.fsdecode(err.filename)!r}" if err.filename is not None else ""
        text = f"{err.strerror}{where}"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="advshape",
        description="Advantage shaping for RL with verifiable rewards.",
    )
    parser.add_argument("--version", action="version", version=f"advshape {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(f"advshape.cli.{module}")
        sp = sub.add_parser(name, help=help_text, description=help_text)
        getattr(mod, f"configure_{name}")(sp)
        sp.set_defaults(_run=getattr(mod, f"run_{name}"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a user's mistake ends in one line on stderr and exit code 2.

    Every command checks all of its options before it writes anything (and raises
    ``ValueError``/``UsageError`` naming the option); an ``OSError`` (an ``--out`` that
    cannot be written) and a run that diverged (``FloatingPointError``: the options made the
    numbers overflow) are reported the same way, without a traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2), already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return int(args._run(args) or 0)
    except (UsageError, ValueError, OSError, FloatingPointError) as err:
        if isinstance(err, BrokenPipeError):  # e.g. `advshape table | head`: the reader left
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        print(f"advshape {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("advshape: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
