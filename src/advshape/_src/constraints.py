"""Constraints on values: one vocabulary for shaper parameters and command-line options.

A :class:`Bound` states the valid range of a number, a :class:`OneOf` the valid choices.
``constraint.check(name, value)`` raises ``ValueError`` with one line naming the value's
owner (a shaper parameter, ``--lr``), the value and what is valid. The registry declares each
shaper parameter's range with these (``advshape.Param(..., check=count(1))``) and the command
line declares its options' ranges with the same objects (``advshape._options``), so a range is
written once and the library's errors and the command line's read alike.

NaN never passes a bound (every comparison with NaN is false); a bound whose upper end is
infinite is open there, so ``inf`` is refused too.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

__all__ = ["Bound", "OneOf", "count", "real"]


def _num(x: float) -> str:
    if isinstance(x, int) or (float(x).is_integer() and abs(x) < 1e15):
        return str(int(x))
    return f"{x:g}"


@dataclass(frozen=True)
class Bound:
    """The valid range of a number: low ≤ value ≤ high, each end closed unless marked open.

    The range of a shaper parameter (``advshape.Param(..., check=count(1))``) or of a
    command-line option; :meth:`check` raises the one-line ``ValueError`` that names the value's
    owner. An infinite ``high`` is always open (``inf`` is not a valid value of anything here).

    Attributes:
        low: the lower end.
        high: the upper end (``math.inf``: none).
        low_open: whether ``low`` itself is excluded (low < value).
        high_open: whether ``high`` itself is excluded (value < high).
        integer: whether only whole numbers are valid.
        why: appended to the message: what the value means at the edge, or the fix.

    Example:
        >>> Bound(0, 1, high_open=True).describe()
        'a number in [0, 1)'
        >>> count(1).describe()
        'an integer >= 1'
        >>> count(1).check("k", 0)
        Traceback (most recent call last):
        ...
        ValueError: k must be an integer >= 1, got 0

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (K ≥ 1 and K ≤ N, Eq. 11, are the ranges of Pass@K's parameters).
    """

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    why: str = ""

    def describe(self) -> str:
        """The valid values in words: ``'an integer in [1, 17]'``, ``'a number >= 0'``.

        Returns:
            The phrase that follows "must be" in the message of :meth:`check`.

        Example:
            >>> Bound(0, 30).describe()
            'a number in [0, 30]'

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        """
        kind = "an integer" if self.integer else "a number"
        if math.isinf(self.high):
            return f"{kind} {'>' if self.low_open else '>='} {_num(self.low)}"
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        return f"{kind} in {lo}{_num(self.low)}, {_num(self.high)}{hi}"

    def ok(self, value: Any) -> bool:
        """Whether ``value`` is a finite real number (not a bool) inside the bound.

        Args:
            value: any value.

        Returns:
            True if it passes; NaN, ±inf, bools, strings and (for ``integer``) fractions fail.

        Example:
            >>> count(1).ok(3), count(1).ok(2.5), real(0).ok(float("nan"))
            (True, False, False)

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return False
        if self.integer and not v.is_integer():
            return False
        above = v > self.low if self.low_open else v >= self.low
        below = v < self.high if self.high_open else v <= self.high
        return above and below

    def check(self, name: str, value: Any) -> None:
        """Raise ``ValueError`` naming ``name`` unless ``value`` (or each of a tuple/list) is
        inside the bound.

        Args:
            name: what the value is, as the message should name it (``"--lr"``, ``"shaper
                'grpo' parameter 'eps'"``).
            value: the value, or a tuple/list of values.

        Raises:
            ValueError: one line, ``"{name} must be {describe()}, got {value!r}[; {why}]"``.

        Example:
            >>> real(0, 1, high_open=True, why="a fraction").check("--test-fraction", 1.5)
            Traceback (most recent call last):
            ...
            ValueError: --test-fraction must be a number in [0, 1), got 1.5; a fraction

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        """
        values = value if isinstance(value, (tuple, list)) else (value,)
        for v in values:
            if not self.ok(v):
                why = f"; {self.why}" if self.why else ""
                raise ValueError(f"{name} must be {self.describe()}, got {v!r}{why}")


@dataclass(frozen=True)
class OneOf:
    """The valid choices of a value: one of ``choices`` (strings, or (False, True) for a flag).

    Attributes:
        choices: the valid values, in the order the message lists them.

    Example:
        >>> OneOf(("population", "sample")).check("std", "median")
        Traceback (most recent call last):
        ...
        ValueError: std must be one of population, sample; got 'median'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO's std estimator, Eq. 8, is one of population or sample).
    """

    choices: tuple[Any, ...]

    def describe(self) -> str:
        """The valid values in words: ``'one of population, sample'``.

        Returns:
            The phrase that follows "must be" in the message of :meth:`check`.

        Example:
            >>> OneOf(("sample", "none")).describe()
            'one of sample, none'

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        """
        return "one of " + ", ".join(str(c) for c in self.choices)

    def check(self, name: str, value: Any) -> None:
        """Raise ``ValueError`` naming ``name`` unless ``value`` is one of the choices (a bool
        only where the choices are bools: 1 is not True here).

        Args:
            name: what the value is, as the message should name it.
            value: the value.

        Raises:
            ValueError: one line, ``"{name} must be one of ...; got {value!r}"``.

        Example:
            >>> OneOf((False, True)).check("--resume", "yes")
            Traceback (most recent call last):
            ...
            ValueError: --resume must be one of False, True; got 'yes'

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        """
        if value not in self.choices or isinstance(value, bool) != any(
            isinstance(c, bool) for c in self.choices
        ):
            raise ValueError(f"{name} must be {self.describe()}; got {value!r}")


def count(low: int, high: float = math.inf, why: str = "") -> Bound:
    """A whole number in [low, high] (no upper end by default).

    Args:
        low: the smallest valid value.
        high: the largest valid value (``math.inf``: none).
        why: appended to the message (what the value means, or the fix).

    Returns:
        The :class:`Bound`.

    Example:
        >>> count(1, 17).describe()
        'an integer in [1, 17]'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    return Bound(low, high, high_open=math.isinf(high), integer=True, why=why)


def real(
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    why: str = "",
) -> Bound:
    """A finite real number in the interval (each end closed unless marked open; no upper end
    by default).

    Args:
        low: the lower end.
        high: the upper end (``math.inf``: none; an infinite end is open).
        low_open: exclude ``low``.
        high_open: exclude ``high``.
        why: appended to the message (what the value means, or the fix).

    Returns:
        The :class:`Bound`.

    Example:
        >>> real(0).describe(), real(0, 1e6, low_open=True).describe()
        ('a number >= 0', 'a number in (0, 1000000]')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    return Bound(low, high, low_open=low_open, high_open=high_open or math.isinf(high), why=why)
