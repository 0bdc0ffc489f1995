"""Command-line options from a dataclass, through tyro: the one convention of every command
whose options are a dataclass (``advshape train``, ``compare``, ``probe``, ``simulate``, and the
examples' scripts).

Each field is an option ``--field-name`` of the field's type; its help is the string literal
under the field (tyro reads it), then its default and, for a field declared with
:func:`advshape._options.option`, its valid range (a ``Bound``) or its choices (a ``OneOf`` of
strings). ``bool`` fields are flag pairs ``--name/--no-name``, ``tuple[T, ...]`` fields take
several values. A dataclass may list fields that its command does not offer in a
``hidden_options`` class variable; they keep their defaults.

A mistake is reported as argparse reports one: ``PROG: error: MESSAGE (see `PROG --help`)``,
one line on stderr, and ``SystemExit(2)``; the message names the option. tyro draws a box of
several lines instead: its parse-error hook (``tyro._errors``, private and pinned with tyro in
constraints.txt) gives the failure as data, and should that hook be gone, the box is read back
and put on one line. Values are only parsed here; their ranges are checked by each command
before it writes anything (:func:`advshape._options.check_options`).

Example:
    >>> import dataclasses
    >>> from advshape._options import count, option
    >>> @dataclasses.dataclass
    ... class Options:
    ...     steps: int = option(10, count(1, 100))
    ...     '''number of steps'''
    ...     fast: bool = False
    ...     '''skip the slow part'''
    >>> parse(Options, ["--steps", "3", "--fast"], prog="demo")
    Options(steps=3, fast=True)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import re
import sys
import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar, cast

import tyro

from advshape._options import Bound, OneOf, field_checks

try:  # tyro's structured parse errors; private, so a later tyro may move it (see below)
    from tyro import _errors as tyro_errors
except ImportError:  # pragma: no cover - the pinned tyro has it
    tyro_errors = None  # type: ignore[assignment]

__all__ = ["offered_fields", "parse"]

T = TypeVar("T")


class _ParseError(Exception):
    """A command line tyro refused, as one line."""


def offered_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of a dataclass that are options of its command: all but ``hidden_options``.

    Args:
        cls: the options' dataclass.

    Returns:
        Its ``dataclasses.Field`` objects, in declaration order, without the hidden ones
        (those keep their defaults).

    Example:
        >>> import dataclasses, typing
        >>> from advshape.cli.dataclass_options import offered_fields
        >>> @dataclasses.dataclass
        ... class Options:
        ...     steps: int = 10
        ...     seed: int = 0
        ...     hidden_options: typing.ClassVar[tuple[str, ...]] = ("seed",)
        >>> [f.name for f in offered_fields(Options)]
        ['steps']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    hidden = set(getattr(cls, "hidden_options", ()))
    return [f for f in dataclasses.fields(cls) if f.name not in hidden]


def parse(
    cls: type[T],
    args: Sequence[str] | None = None,
    *,
    prog: str | None = None,
    description: str | None = None,
) -> T:
    """A dataclass of options read from command-line arguments, through tyro.

    Each field is ``--field-name``; ``--help`` prints the options (with each one's default and
    valid range) and raises ``SystemExit(0)``; a bad command line prints one line
    ``PROG: error: ...`` on stderr and raises ``SystemExit(2)``. Values are parsed, not
    range-checked: a command checks them before it writes anything.

    Args:
        cls: the options' dataclass (fields declared with ``advshape._options.option`` show
            their ranges in ``--help``).
        args: the arguments (None: ``sys.argv[1:]``).
        prog: the program name in messages (None: ``sys.argv[0]``).
        description: the text of ``--help`` above the options.

    Returns:
        An instance of ``cls``.

    Raises:
        SystemExit: after ``--help`` (0) or a usage error (2), already printed.

    Example:
        >>> import dataclasses
        >>> from advshape.cli.dataclass_options import parse
        >>> @dataclasses.dataclass
        ... class Options:
        ...     k: int = 4
        ...     '''the K of Pass@K'''
        >>> parse(Options, ["--k", "8"], prog="demo")
        Options(k=8)
        >>> parse(Options, ["--k", "eight"], prog="demo")
        Traceback (most recent call last):
        ...
        SystemExit: 2

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the K of Pass@K, Sec. 1.1.2).
    """
    args = list(sys.argv[1:] if args is None else args)
    prog = prog or sys.argv[0]
    box = io.StringIO()
    try:
        hook = (
            tyro_errors.on_parse_error(_raise_one_line)
            if tyro_errors is not None
            else contextlib.nullcontext()
        )
        with hook, contextlib.redirect_stderr(box):
            parsed: Any = tyro.cli(
                _cli_class(cast(Any, cls)), args=args, prog=prog, description=description
            )
    except _ParseError as err:
        message = str(err)
    except SystemExit as exit_:
        if exit_.code in (0, None):  # --help
            raise
        message = _box_as_line(box.getvalue())
    else:
        values = {f.name: getattr(parsed, f.name) for f in dataclasses.fields(cast(Any, cls))}
        return cls(**values)
    print(f"{prog}: error: {message} (see `{prog} --help`)", file=sys.stderr)
    raise SystemExit(2)


def _hint(check: Bound, default: str) -> str:
    return f"(default: {default}; {check.describe()})"


@functools.cache  # every call of a command builds the same class
def _cli_class(cls: type) -> type:
    """A subclass of ``cls`` whose fields carry what tyro shows: ranges, choices, hidden."""
    types = typing.get_type_hints(cls)
    checks = field_checks(cls)
    hidden = {f.name for f in dataclasses.fields(cls)} - {f.name for f in offered_fields(cls)}
    fields: list[tuple[str, Any, Any]] = []
    for f in dataclasses.fields(cls):
        kind: Any = types[f.name]
        check = checks.get(f.name)
        markers: list[Any] = []
        if f.name in hidden:
            markers.append(tyro.conf.Suppress)
        elif isinstance(check, OneOf) and kind is str:
            kind = Literal[check.choices]  # tyro lists the choices and refuses others
        elif isinstance(check, Bound):
            markers.append(tyro.conf.arg(help_behavior_hint=functools.partial(_hint, check)))
        if f.default is not dataclasses.MISSING:
            default = dataclasses.field(default=f.default)
        else:
            default = dataclasses.field(default_factory=f.default_factory)
        annotated = cast(Any, Annotated)[tuple([kind, *markers])] if markers else kind
        fields.append((f.name, annotated, default))
    return dataclasses.make_dataclass(cls.__name__, fields, bases=(cls,))


def _raise_one_line(event: Any) -> None:
    """tyro's parse-error hook: the failure as one line, raised past tyro's own report."""
    errors = tyro_errors
    if isinstance(event, errors.InstantiationFailure):
        where = f"argument {event.argument.display_name()}: " if event.argument else ""
        # a union type (int | None) lists each member's failure on its own line: one line
        raise _ParseError(f"{where}{' '.join(str(event.message).split())}")
    if isinstance(event, errors.InvalidChoice):
        raise _ParseError(
            f"argument {event.argument.display_name()}: invalid choice {event.value!r} "
            f"(choose from {', '.join(event.choices)})"
        )
    if isinstance(event, errors.BadValue):
        got = f", got {event.offending_value!r}" if event.offending_value is not None else ""
        raise _ParseError(f"argument {event.argument.display_name()}: expected a value{got}")
    if isinstance(event, errors.UnrecognizedArgs):
        raise _ParseError(f"unrecognized arguments: {' '.join(event.tokens)}")
    # Any other failure: tyro draws its box, which parse() puts on one line.


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _box_as_line(box: str) -> str:
    """The title and first section of tyro's error box, on one line."""
    rows: list[str] = []
    for line in _ANSI.sub("", box).splitlines():
        text = line.strip().strip("│╭╮╰╯─ ").strip()
        if not text:
            if rows and set(line.strip()) <= set("│─ "):  # the rule under the first section
                break
            continue
        rows.append(text)
    return " ".join(rows) or "invalid command line"
