"""Checks of option values, declared once per option and run before any work.

The constraint objects are the core's (:mod:`advshape._src.constraints`), the same ones the
registry uses for shaper parameters: a :class:`Bound` states the valid range of a numeric
option (and why, or what to do), a :class:`OneOf` its choices; ``Bound.check("--lr", value)``
raises ``ValueError`` with one line naming the option, the value and the valid range. NaN
never passes, and options are given finite upper ends, so inf and absurd values ("1e308
problems") are refused up front instead of failing deep inside the work. Checks of several
options at once (relations such as "heads divide the hidden size") are written next to the
tables that use these.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from advshape._src.constraints import Bound, OneOf, count, real

__all__ = ["Bound", "OneOf", "check_options", "count", "field_checks", "flag", "option", "real"]


def flag(name: str) -> str:
    """The command-line spelling of a dataclass field: ``eval_ks`` -> ``--eval-ks``."""
    return "--" + name.replace("_", "-")


Check = Bound | OneOf | Callable[[str, Any], None]


def check_options(
    obj: Any, checks: Mapping[str, Check], spell: Callable[[str], str] = flag
) -> None:
    """Run ``checks[name]`` on ``getattr(obj, name)`` for every name, in the table's order."""
    for name, check in checks.items():
        option, value = spell(name), getattr(obj, name)
        if callable(check) and not isinstance(check, (Bound, OneOf)):
            check(option, value)
        else:
            check.check(option, value)


def option(default: Any, check: Check) -> Any:
    """A dataclass field that declares its valid values: ``steps: int = option(60, count(1, 99))``.

    The check travels in the field's metadata, beside the field and the string literal under it
    (its help text), so an option's type, default, range and meaning are written in one place;
    :func:`field_checks` collects them for :func:`check_options` and for ``--help``.
    """
    return dataclasses.field(default=default, metadata={"check": check})


def field_checks(cls: Any, *, beyond: Any = None) -> dict[str, Check]:
    """``{field name: check}`` of a dataclass's fields declared with :func:`option`, in order;
    with ``beyond`` (a dataclass ``cls`` extends), only those of the fields ``cls`` adds."""
    inherited = {f.name for f in dataclasses.fields(beyond)} if beyond is not None else set()
    return {
        f.name: f.metadata["check"]
        for f in dataclasses.fields(cls)
        if "check" in f.metadata and f.name not in inherited
    }
