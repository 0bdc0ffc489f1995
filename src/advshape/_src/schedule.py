"""Parameter schedules: a shaper parameter (typically K) that changes over a training run.

PKPO (Walder & Karkhanis 2025) anneals k during training: a large k early (explore, optimise
Pass@k) and k = 1 at the end (recover Pass@1). A schedule is written into the shaper spec, so
one string configures every trainer alike::

    grpo_k:k=linear(16,1)                 16 at the first step, 1 at the last, linear between
    grpo_k:k=linear(16@0%,1@80%)          16 → 1 over the first 80 % of the run, then 1
    rloo_k:k=steps(8@1,4@51,1@101)        8 for steps 1–50, 4 for 51–100, 1 from step 101
    rloo_k:k=steps(8,4,1)                 8, 4 and 1 for a third of the run each

Grammar: ``linear(POINT,POINT,...)`` (piecewise linear) or ``steps(POINT,POINT,...)``
(piecewise constant), at least two points, where a POINT is ``VALUE@WHEN`` and WHEN is a step
number ``S`` (an integer ≥ 1) or a percentage of the run ``P%`` (0 ≤ P ≤ 100). All points of
one schedule use the same unit, in strictly increasing order. Without ``@`` the points are
spread evenly over the run: ``linear(a,b,...)`` puts its m points at 0 %, 100/(m−1) %, …,
100 %; ``steps(a,b,...)`` gives each of its m values 1/m of the run (from i/m on).

Resolution at step s (1 for the first update, as TRL, verl and ``advshape train`` number
their logged steps) of a run of T steps:

- the run's progress is x = (s − 1)/(T − 1) (x = 0 when T = 1), so 0 % is the first step and
  100 % the last; a step past T resolves like step T;
- ``steps``: the value of the last point at or before s (or x); before the first point, the
  first value;
- ``linear``: the straight line between the two points around s (or x); before the first
  point the first value, after the last the last value;
- an integer parameter (K) is rounded half up, ⌊v + ½⌋, after exact rational interpolation
  (no float rounding can make two machines disagree); a float parameter takes the exact value.

The value at step s depends only on s, T and the text, so a resumed run resolves every step
exactly as an uninterrupted one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, NamedTuple

from advshape._src.spec import DECIMAL_RE, SCHEDULE_RE, ascii_number_hint, is_schedule_text

__all__ = ["KINDS", "Schedule", "is_schedule_text"]

KINDS = ("linear", "steps")
_EXAMPLES = "e.g. 'linear(16,1)', 'linear(16@0%,1@80%)' or 'steps(8@1,4@51,1@101)'"


def _number_text(value: Fraction) -> str:
    """Shortest exact decimal text of a terminating fraction (all parsed values terminate)."""
    if value.denominator == 1:
        return str(value.numerator)
    with localcontext() as ctx:
        ctx.prec = 60
        text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _parse_number(text: str, what: str, schedule: str) -> Fraction:
    # Decimal text in ASCII digits only (no 1/3, no 4_0 or ４, as in every spec value): every
    # value then has an exact, finite canonical text.
    if not DECIMAL_RE.fullmatch(text.strip()):
        hint = ascii_number_hint(text)
        raise ValueError(
            f"schedule {schedule!r}: {what} {text.strip()!r} is not a decimal number "
            + (f"({hint})" if hint else f"({_EXAMPLES})")
        )
    return Fraction(text.strip())


class Point(NamedTuple):
    value: Fraction
    at: Fraction  # a step number (unit "step") or a fraction of the run in [0, 1] (unit "%")


class Schedule:
    """A piecewise-linear or piecewise-constant schedule of one shaper parameter, such as K.

    Made by ``Schedule.parse("linear(16,1)")`` (the grammar is in this module's docstring);
    ``str(schedule)`` is its canonical text, which parses back to an equal schedule.
    ``schedule.value(step, total_steps)`` is the exact rational value at a step (1-based), at
    the run's progress x = (s − 1)/(T − 1); :meth:`resolve` rounds it half up, ⌊v + ½⌋, for
    an integer parameter.

    Attributes:
        kind: ``"linear"`` (piecewise linear) or ``"steps"`` (piecewise constant).
        points: the points, each a (value, place) pair of exact fractions; the place is a
            step number or a fraction of the run in [0, 1].
        unit: ``"step"`` or ``"%"``, the unit of every point's place.
        even: whether the text placed no point (``linear(16,1)``): spread evenly over the run.

    Example:
        >>> from advshape import Schedule
        >>> k = Schedule.parse("linear(16, 1)")
        >>> str(k), [k.resolve(step, 11, integer=True) for step in (1, 2, 6, 11)]
        ('linear(16,1)', [16, 15, 9, 1])
        >>> Schedule.parse("steps(8@1,4@51,1@101)").value(60)
        Fraction(4, 1)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the K of Pass@K, Eq. 11); Walder & Karkhanis 2025 (PKPO anneals k during training),
        https://arxiv.org/abs/2505.15201.
    """

    __slots__ = ("even", "kind", "points", "unit")

    def __init__(self, kind: str, points: tuple[Point, ...], unit: str, even: bool) -> None:
        self.kind = kind
        self.points = points
        self.unit = unit  # "step" or "%"
        self.even = even  # written without @: points spread evenly over the run

    # ------------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, text: str) -> Schedule:
        """The schedule a text names, ``KIND(POINT,...)`` (a :class:`Schedule`: itself).

        Raises ``ValueError`` naming what does not follow the grammar (module docstring)."""
        if isinstance(text, Schedule):
            return text
        if not isinstance(text, str):
            raise ValueError(f"a schedule must be text such as {_EXAMPLES}, got {text!r}")
        match = SCHEDULE_RE.match(text)
        if match is None:
            raise ValueError(f"cannot read schedule {text!r}: write KIND(POINT,...), {_EXAMPLES}")
        kind, body = match.group(1).lower(), match.group(2)
        if kind not in KINDS:
            raise ValueError(
                f"unknown schedule {match.group(1)!r} in {text!r}: use linear(...) or "
                f"steps(...), {_EXAMPLES}"
            )
        items = [item.strip() for item in body.split(",")]
        if len(items) < 2 or any(not item for item in items):
            raise ValueError(
                f"schedule {text!r} needs at least two comma-separated points, {_EXAMPLES}"
            )
        timed = ["@" in item for item in items]
        if any(timed) and not all(timed):
            raise ValueError(
                f"schedule {text!r} mixes points with and without '@': give every point a "
                "place (VALUE@STEP or VALUE@P%) or none (spread evenly over the run)"
            )
        if not any(timed):
            values = [_parse_number(item, "value", text) for item in items]
            m = len(values)
            # linear: m points at 0, 1/(m−1), …, 1; steps: value i from i/m of the run on
            places = [Fraction(i, m - 1 if kind == "linear" else m) for i in range(m)]
            return cls(kind, tuple(map(Point, values, places)), "%", even=True)
        points, units = [], set()
        for item in items:
            value_text, _, when = item.partition("@")
            value = _parse_number(value_text, "value", text)
            when = when.strip()
            if when.endswith("%"):
                units.add("%")
                percent = _parse_number(when[:-1], "percentage", text)
                if not 0 <= percent <= 100:
                    raise ValueError(f"schedule {text!r}: {when} is outside 0%..100% of the run")
                at = percent / 100
            else:
                units.add("step")
                at = _parse_number(when, "step", text)
                if at.denominator != 1 or at < 1:
                    raise ValueError(
                        f"schedule {text!r}: step {when!r} must be an integer >= 1 (the first "
                        "step is 1), or write a percentage of the run such as 50%"
                    )
            points.append(Point(value, at))
        if len(units) > 1:
            raise ValueError(
                f"schedule {text!r} mixes step numbers and percentages: use one unit "
                "(all @STEP or all @P%)"
            )
        for before, after in itertools.pairwise(points):
            if after.at <= before.at:
                raise ValueError(
                    f"schedule {text!r}: points must be in strictly increasing order of "
                    f"their place (got {_place_text(before.at, units)} then "
                    f"{_place_text(after.at, units)})"
                )
        return cls(kind, tuple(points), units.pop(), even=False)

    # ------------------------------------------------------------------ text
    def __str__(self) -> str:
        if self.even:
            inner = ",".join(_number_text(p.value) for p in self.points)
        else:
            inner = ",".join(
                f"{_number_text(p.value)}@{_place_text(p.at, {self.unit})}" for p in self.points
            )
        return f"{self.kind}({inner})"

    def __repr__(self) -> str:
        return f"Schedule({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __reduce__(self) -> tuple[Callable[[str], Schedule], tuple[str]]:
        return (Schedule.parse, (str(self),))

    # ------------------------------------------------------------------ values
    @property
    def needs_total(self) -> bool:
        """Whether resolving needs the run's length (points placed by percentage)."""
        return self.unit == "%"

    def value(self, step: int, total_steps: int | None = None) -> Fraction:
        """The exact value at ``step`` (1-based) of a run of ``total_steps`` steps."""
        step, total = check_step(step, total_steps, self.needs_total)
        if self.unit == "%":
            assert total is not None  # _check_step requires it when points are percentages
            x = Fraction(min(step, total) - 1, total - 1) if total > 1 else Fraction(0)
        else:
            x = Fraction(min(step, total) if total is not None else step)
        points = self.points
        if x <= points[0].at:
            return points[0].value
        if x >= points[-1].at:
            return points[-1].value
        for left, right in itertools.pairwise(points):
            if left.at <= x < right.at:
                if self.kind == "steps":
                    return left.value
                return left.value + (right.value - left.value) * (x - left.at) / (
                    right.at - left.at
                )
        raise AssertionError("unreachable: x lies between the first and the last point")

    def resolve(self, step: int, total_steps: int | None, integer: bool) -> int | float:
        """:meth:`value`, rounded half up for an integer parameter, else a float."""
        value = self.value(step, total_steps)
        return math.floor(value + Fraction(1, 2)) if integer else float(value)

    def bounds(self) -> tuple[Fraction, Fraction]:
        """The smallest and the largest value of the schedule.

        Every value it takes, at any step of any run, lies between its smallest and largest
        point value (a linear piece stays between its two points; rounding an integer
        parameter half up keeps a value between two integers there too), and both are taken.

        Returns:
            ``(smallest, largest)``, exact.

        Example:
            >>> Schedule.parse("steps(3@1,9@5,2@9)").bounds()
            (Fraction(2, 1), Fraction(9, 1))

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
            Walder & Karkhanis (annealing k), https://arxiv.org/abs/2505.15201.
        """
        values = [p.value for p in self.points]
        return min(values), max(values)

    def reachable(self, integer: bool) -> tuple[Fraction, ...]:
        """Values the schedule can take (integer parameter) or its corner values (float).

        For an integer parameter: every point value and, on a linear piece, every integer
        between two points' values; for a float parameter: the point values, which bound
        every value a linear piece takes. Checking a shaper at each of these checks it at
        every step of any run.
        """
        values = {p.value for p in self.points}
        if integer and self.kind == "linear":
            for left, right in itertools.pairwise(self.points):
                low, high = sorted((left.value, right.value))
                values.update(Fraction(v) for v in range(math.ceil(low), math.floor(high) + 1))
        return tuple(sorted(values))


def _place_text(at: Fraction, units: set[str]) -> str:
    return f"{_number_text(at * 100)}%" if "%" in units else _number_text(at)


def check_step(step: Any, total_steps: Any, needs_total: bool) -> tuple[int, int | None]:
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise ValueError(f"step must be an integer >= 1 (1 = the first update), got {step!r}")
    step = int(step)
    if step < 1:
        raise ValueError(f"step must be >= 1 (1 = the first update), got {step}")
    if total_steps is None:
        if needs_total:
            raise ValueError(
                "this schedule places its points by percentage of the run and needs the "
                "run's length: pass total_steps (or place the points by step number, "
                "VALUE@STEP)"
            )
        return step, None
    if isinstance(total_steps, bool) or not hasattr(total_steps, "__index__"):
        raise ValueError(f"total_steps must be an integer >= 1, got {total_steps!r}")
    total_steps = int(total_steps)
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    return step, total_steps
