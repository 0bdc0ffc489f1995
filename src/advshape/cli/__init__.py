"""The ``advshape`` command line.

Each subcommand lives in a module of this package, which defines ``run_NAME(args) -> int``
(does the work; imports what it needs) and its options in one of two ways:

- ``OPTIONS[NAME]``, a dataclass whose fields are the options (``train``, ``compare``,
  ``probe``, ``simulate``), read by :func:`advshape.cli.dataclass_options.parse`, with an
  optional ``describe_NAME() -> str`` for the text of ``--help`` above the options;
- ``configure_NAME(parser)``, which adds argparse arguments (the other commands).

Neither may import anything heavy at module level. The table below is the only place a new
subcommand is registered.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, NoReturn

from advshape._version import __version__

__all__ = ["COMMANDS", "UsageError", "main"]

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
"""Every subcommand: its name -> (its module in ``advshape.cli``, its one-line help)."""


class UsageError(Exception):
    """Bad command-line input that no single option owns, raised by a command's ``run_NAME``.

    :func:`main` prints it as one line, ``advshape NAME: error: MESSAGE``, and returns the
    exit code 2 (as it does for a ``ValueError``).

    Example:
        >>> from advshape.cli import UsageError
        >>> str(UsageError("give at least one shaper"))
        'give at least one shaper'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """


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


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"advshape.cli.{COMMANDS[name][0]}")


def options_class(name: str) -> type | None:
    """The dataclass whose fields are the options of ``advshape NAME`` (None: argparse's)."""
    return getattr(_module(name), "OPTIONS", {}).get(name)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``advshape`` and of its argparse subcommands; a dataclass
    subcommand appears in the list of commands, its options are read by :func:`parse`."""
    parser = _Parser(
        prog="advshape",
        description="Advantage shaping for RL with verifiable rewards.",
    )
    parser.add_argument("--version", action="version", version=f"advshape {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if options_class(name) is None:
            getattr(_module(name), f"configure_{name}")(sp)
    return parser


def parse(argv: Sequence[str]) -> tuple[str, Any]:
    """(command, its parsed options): a dataclass for a dataclass command, else a Namespace.
    Raises ``SystemExit`` after ``--help`` (0) or a usage error (2), already printed."""
    if argv and argv[0] in COMMANDS and (cls := options_class(argv[0])) is not None:
        # tyro only for the dataclass commands: `advshape list` and `--help` stay light
        from advshape.cli.dataclass_options import parse as parse_options

        name = argv[0]
        describe = getattr(_module(name), f"describe_{name}", None)
        description = describe() if describe is not None else COMMANDS[name][1]
        return name, parse_options(cls, argv[1:], prog=f"advshape {name}", description=description)
    args = build_parser().parse_args(argv)
    return args.command, args


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``advshape`` command; a user's mistake ends in one line on stderr and exit code 2.

    Every command checks all of its options before it writes anything (and raises
    ``ValueError``/``UsageError`` naming the option); an ``OSError`` (an ``--out`` that
    cannot be written) and a run that diverged (``FloatingPointError``: the options made the
    numbers overflow) are reported the same way, without a traceback.

    Args:
        argv: the arguments after ``advshape`` (None: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 done, 2 a usage error (printed on stderr), 130 interrupted; a
        command may return its own (``advshape verify``: 1 when a check fails).

    Example:
        >>> from advshape.cli import main
        >>> main(["show", "rloo", "--n", "2", "--format", "csv"])  # A± and w± of RLOO at N = 2
        N+,rho_hat,A+,A-,w+,w-
        0,0,2,0,0,0
        1,0.5,1,-1,0.5,0.5
        2,1,0,-2,0,0
        0
        >>> main(["show", "rlo"])  # stderr: advshape show: error: unknown shaper 'rlo'; ...
        2

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1, which ``advshape show`` prints for one shaper).
    """
    try:
        command, args = parse(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:  # --help (0) or a usage error (2), already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return int(getattr(_module(command), f"run_{command}")(args) or 0)
    except (UsageError, ValueError, OSError, FloatingPointError) as err:
        if isinstance(err, BrokenPipeError):  # e.g. `advshape table | head`: the reader left
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        print(f"advshape {command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("advshape: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
