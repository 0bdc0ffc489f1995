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
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

if TYPE_CHECKING:
    from advshape._src.shaper import Shaper, ShaperInfo

__all__ = ["KINDS", "Schedule", "ScheduledShaper", "is_schedule_text"]

KINDS = ("linear", "steps")
_SCHEDULE_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.DOTALL)
_EXAMPLES = "e.g. 'linear(16,1)', 'linear(16@0%,1@80%)' or 'steps(8@1,4@51,1@101)'"


def is_schedule_text(value: Any) -> bool:
    """Whether ``value`` is written like a schedule, ``name(...)``."""
    return isinstance(value, str) and _SCHEDULE_RE.match(value) is not None


def _number_text(value: Fraction) -> str:
    """Shortest exact decimal text of a terminating fraction (all parsed values terminate)."""
    if value.denominator == 1:
        return str(value.numerator)
    with localcontext() as ctx:
        ctx.prec = 60
        text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_DECIMAL_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _parse_number(text: str, what: str, schedule: str) -> Fraction:
    # Decimal text only (no 1/3): every value then has an exact, finite canonical text.
    if not _DECIMAL_RE.match(text.strip()):
        raise ValueError(
            f"schedule {schedule!r}: {what} {text.strip()!r} is not a decimal number ({_EXAMPLES})"
        )
    return Fraction(text.strip())


class Point(NamedTuple):
    value: Fraction
    at: Fraction  # a step number (unit "step") or a fraction of the run in [0, 1] (unit "%")


class Schedule:
    """A piecewise-linear or piecewise-constant schedule of one parameter (see module doc).

    ``Schedule.parse("linear(16,1)")``; ``str(schedule)`` is its canonical text, which
    parses back to an equal schedule. ``schedule.value(step, total_steps)`` is the exact
    rational value at a step; :meth:`resolve` rounds it for an integer parameter.
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
        if isinstance(text, Schedule):
            return text
        if not isinstance(text, str):
            raise ValueError(f"a schedule must be text such as {_EXAMPLES}, got {text!r}")
        match = _SCHEDULE_RE.match(text)
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
        step, total = _check_step(step, total_steps, self.needs_total)
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


def _check_step(step: Any, total_steps: Any, needs_total: bool) -> tuple[int, int | None]:
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


class ScheduledShaper:
    """A shaper whose parameters follow schedules; :meth:`at` gives the shaper of one step.

    Made by ``advshape.shaper("grpo_k:k=linear(16,1)")`` (any spec whose parameter values
    are schedules) or by ``advshape.scheduled(spec_or_shaper)``, which also wraps a fixed
    shaper as a constant schedule so that trainers can treat both alike::

        schedule = advshape.scheduled(spec)
        for step in range(1, total + 1):
            shaper = schedule.at(step, total)      # an ordinary advshape.Shaper
            advantages = shaper.advantages(rewards)

    ``spec`` is the canonical text (it rebuilds the object anywhere, and pickles as it);
    ``schedules`` maps each scheduled parameter to its :class:`Schedule`. Using the object
    itself as a shaper (``.advantages``, ``.scores``) raises ``ValueError``: it has no single
    set of parameters until a step is given.
    """

    __slots__ = ("_build", "_cache", "_fixed", "_integer", "name", "params", "schedules", "spec")

    def __init__(
        self,
        name: str,
        spec: str,
        params: Mapping[str, Any],
        schedules: Mapping[str, Schedule],
        integer: Mapping[str, bool],
        build: Callable[..., Shaper] | None,
        fixed: Shaper | None = None,
    ) -> None:
        self.name = name
        self.spec = spec
        self.params = dict(params)  # fixed values and Schedule objects
        self.schedules = dict(schedules)
        self._integer = dict(integer)
        self._build = build  # build(**values) -> Shaper
        self._fixed = fixed  # the shaper itself, when nothing is scheduled
        self._cache: dict[tuple[tuple[str, Any], ...], Shaper] = {}

    @property
    def is_constant(self) -> bool:
        return not self.schedules

    @property
    def needs_total(self) -> bool:
        """Whether :meth:`at` needs ``total_steps`` (some point is placed by percentage)."""
        return any(s.needs_total for s in self.schedules.values())

    def values_at(self, step: int, total_steps: int | None = None) -> dict[str, int | float]:
        """The scheduled parameters' values at ``step`` of a run of ``total_steps``."""
        try:
            if not self.schedules:
                _check_step(step, total_steps, False)
            return {
                name: schedule.resolve(step, total_steps, self._integer[name])
                for name, schedule in self.schedules.items()
            }
        except ValueError as err:
            raise ValueError(f"shaper {self.spec!r}: {err}") from err

    def at(self, step: int, total_steps: int | None = None) -> Shaper:
        """The :class:`advshape.Shaper` of ``step`` (1 = the first update) of a run of
        ``total_steps`` steps (needed when a point is placed by percentage)."""
        values = self.values_at(step, total_steps)
        if self._fixed is not None:
            return self._fixed
        return self._shaper(values)

    def _shaper(self, values: Mapping[str, Any]) -> Shaper:
        key = tuple(sorted(values.items()))
        if key not in self._cache:
            assert self._build is not None  # set whenever a parameter is scheduled
            fixed = {k: v for k, v in self.params.items() if k not in self.schedules}
            self._cache[key] = self._build(**fixed, **values)
        return self._cache[key]

    def variants(self) -> tuple[Shaper, ...]:
        """Every shaper the schedule can resolve to (integer parameters), or the shapers at
        the schedules' corner values (float ones): check these to check a whole run, e.g.
        that every K it reaches is ≤ N. Largest values first, so that a check that stops at
        the first failure reports the most demanding one (the largest K)."""
        if self._fixed is not None:
            return (self._fixed,)
        names = list(self.schedules)
        choices = [
            [
                int(v) if self._integer[n] else float(v)
                for v in reversed(self.schedules[n].reachable(self._integer[n]))
            ]
            for n in names
        ]
        return tuple(self._shaper(dict(zip(names, combo))) for combo in itertools.product(*choices))

    def check_group_size(self, n: int) -> None:
        """Raise ``ValueError`` unless every shaper of the run accepts groups of ``n``
        (minimum group size, K ≤ N for the unbiased Pass@K estimators), naming the schedule
        and the most demanding value it reaches."""
        import numpy as np

        for variant in self.variants():  # largest values first
            try:
                variant.advantages(np.zeros((1, int(n))))
            except ValueError as err:
                if self._fixed is not None:
                    raise
                raise ValueError(
                    f"shaper {self.spec!r} becomes {variant.spec!r} during the run: {err}"
                ) from err

    def _refuse(self, what: str) -> Callable[..., NoReturn]:
        def refuse(*args: Any, **kwargs: Any) -> NoReturn:
            raise ValueError(
                f"shaper {self.spec!r} has a schedule ({', '.join(self.schedules)}), so it has "
                f"no single {what}: resolve it at a training step first, "
                f".at(step, total_steps), e.g. advshape.shaper({self.spec!r}).at(1, 100)"
            )

        return refuse

    @property
    def advantages(self) -> Callable[..., Any]:
        return self._fixed.advantages if self._fixed is not None else self._refuse("advantages")

    @property
    def scores(self) -> Callable[..., Any] | None:
        return self._fixed.scores if self._fixed is not None else self._refuse("scores")

    @property
    def weights(self) -> Callable[..., Any] | None:
        return self._fixed.weights if self._fixed is not None else self._refuse("weights")

    @property
    def info(self) -> ShaperInfo:
        """Metadata of the first step's shaper; what does not depend on the scheduled values
        (paper, formula, binary_only, ...) holds at every step, target_k and min_n do not."""
        if self._fixed is not None:
            return self._fixed.info
        return self._shaper(self.values_at(1, 1)).info

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScheduledShaper) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)

    def __repr__(self) -> str:
        return f"ScheduledShaper({self.spec!r})"

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        if self._fixed is not None:
            from advshape._src.registry import scheduled

            return (scheduled, (self._fixed,))
        from advshape._src.registry import shaper

        return (shaper, (self.spec,))
