"""Checks of option values, declared once per option and run before any work.

A :class:`Bound` states the valid range of a numeric option (and why, or what to do);
``Bound.check("--lr", value)`` raises ``ValueError`` with one line naming the option, the
value and the valid range. NaN never passes (every comparison with NaN is false) and every
bound has an upper end, so inf and absurd values ("1e308 problems") are refused up front
instead of failing deep inside the work. Checks of several options at once (relations such
as "heads divide the hidden size") are written next to the tables that use these.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Bound", "OneOf", "check_options", "field_checks", "flag", "option"]


def flag(name: str) -> str:
    """The command-line spelling of a dataclass field: ``eval_ks`` -> ``--eval-ks``."""
    return "--" + name.replace("_", "-")


def _num(x: float) -> str:
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e15):
        return str(int(x))
    return f"{x:g}"


@dataclass(frozen=True)
class Bound:
    """low <= value <= high (``<`` with ``low_open``/``high_open``); ``integer``: whole numbers.

    ``why`` is appended to the message: what the option means at the edge, or the fix.
    """

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    why: str = ""

    def describe(self) -> str:
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        kind = "an integer" if self.integer else "a number"
        return f"{kind} in {lo}{_num(self.low)}, {_num(self.high)}{hi}"

    def ok(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.integer and not float(value).is_integer():
            return False
        v = float(value)
        if math.isnan(v):
            return False
        above = v > self.low if self.low_open else v >= self.low
        below = v < self.high if self.high_open else v <= self.high
        return above and below

    def check(self, option: str, value: Any) -> None:
        values = value if isinstance(value, (tuple, list)) else (value,)
        for v in values:
            if not self.ok(v):
                why = f"; {self.why}" if self.why else ""
                raise ValueError(f"{option} must be {self.describe()}, got {v!r}{why}")


@dataclass(frozen=True)
class OneOf:
    """The value is one of ``choices`` (for options that argparse does not restrict itself)."""

    choices: tuple[Any, ...]  # strings, or (False, True) for a flag

    def check(self, option: str, value: Any) -> None:
        if value not in self.choices:
            listed = ", ".join(str(c) for c in self.choices)
            raise ValueError(f"{option} must be one of {listed}; got {value!r}")


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


def count(low: int, high: int, why: str = "") -> Bound:
    """A whole number in [low, high]."""
    return Bound(low, high, integer=True, why=why)


def real(
    low: float, high: float, *, low_open: bool = False, high_open: bool = False, why: str = ""
) -> Bound:
    """A finite real number in the interval (each end closed unless marked open)."""
    return Bound(low, high, low_open=low_open, high_open=high_open, why=why)


__all__ += ["count", "real"]


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
