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

from collections.abc import Callable, Mapping
from typing import Any

from advshape._src.constraints import Bound, OneOf, count, real

__all__ = ["Bound", "OneOf", "check_options", "count", "flag", "real"]


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
