"""Scheduled shapers: a shaper whose parameters (typically K) follow schedules over a run.

``advshape.scheduled(spec)`` turns any spec or :class:`Shaper` into a :class:`ScheduledShaper`
(constant when nothing is scheduled); ``.at(step, total_steps)`` is the :class:`Shaper` of one
step. This is the one type trainers hold; ``advshape.shaper`` always returns a plain
:class:`Shaper` and refuses a scheduled spec. The schedule grammar and its exact resolution
rule are in :mod:`advshape._src.schedule`; this module sits above the registry, which builds
the shaper of each step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from advshape._src import registry
from advshape._src.schedule import Schedule, check_step
from advshape._src.shaper import Shaper, ShaperInfo

__all__ = ["ScheduledShaper", "scheduled"]


class ScheduledShaper:
    """A shaper whose parameters follow schedules; :meth:`at` gives the shaper of one step.

    Made by :func:`scheduled` (``advshape.scheduled``), from a spec whose parameter values are
    schedules, or from any fixed spec or :class:`Shaper` as a constant schedule, so that
    trainers treat both alike::

        schedule = advshape.scheduled(spec)
        for step in range(1, total + 1):
            shaper = schedule.at(step, total)      # an ordinary advshape.Shaper
            advantages = shaper.advantages(rewards)

    Args:
        name: the registry name of the shaper (``"grpo_k"``), kept as ``.name``.
        spec: the canonical text, kept as ``.spec``: ``advshape.scheduled(spec)`` rebuilds the
            object anywhere, and it pickles as it.
        params: the fixed parameter values and, for the scheduled ones, their
            :class:`Schedule`, kept as ``.params``.
        schedules: each scheduled parameter's :class:`Schedule` (empty: constant), kept as
            ``.schedules``.
        integer: for each scheduled parameter, whether it is an integer (rounded half up).
        fixed: the shaper itself when nothing is scheduled, else None.

    Example:
        >>> import advshape
        >>> k = advshape.scheduled("grpo_k:k=steps(8@1,4@51,1@101)")
        >>> [k.at(step).spec for step in (1, 50, 51, 200)]
        ['grpo_k:k=8', 'grpo_k:k=8', 'grpo_k:k=4', 'grpo_k:k=1']
        >>> advshape.scheduled("rloo").at(7).spec  # a fixed spec: a constant schedule
        'rloo'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the Pass@K shapers of Table 1); Walder & Karkhanis 2025 (PKPO anneals k during
        training), https://arxiv.org/abs/2505.15201.
    """

    __slots__ = ("_cache", "_fixed", "_integer", "name", "params", "schedules", "spec")

    def __init__(
        self,
        name: str,
        spec: str,
        params: Mapping[str, Any],
        schedules: Mapping[str, Schedule],
        integer: Mapping[str, bool],
        fixed: Shaper | None = None,
    ) -> None:
        self.name = name
        self.spec = spec
        self.params = dict(params)  # fixed values and Schedule objects
        self.schedules = dict(schedules)
        self._integer = dict(integer)  # scheduled parameter -> is an integer (rounded half up)
        self._fixed = fixed  # the shaper itself, when nothing is scheduled
        self._cache: dict[tuple[tuple[str, Any], ...], Shaper] = {}

    @property
    def is_constant(self) -> bool:
        """Whether nothing is scheduled (every step has the same shaper)."""
        return not self.schedules

    @property
    def needs_total(self) -> bool:
        """Whether :meth:`at` needs ``total_steps`` (some point is placed by percentage)."""
        return any(s.needs_total for s in self.schedules.values())

    def values_at(self, step: int, total_steps: int | None = None) -> dict[str, int | float]:
        """The scheduled parameters' values at ``step`` of a run of ``total_steps``.

        Args:
            step: the training step, 1 for the first update.
            total_steps: the run's length (needed when a point is placed by percentage).

        Returns:
            ``{parameter: value}``: integers rounded half up after exact rational
            interpolation, floats exact; empty for a constant schedule.

        Example:
            >>> import advshape
            >>> advshape.scheduled("grpo_k:k=linear(16,1)").values_at(5, 100)
            {'k': 15}

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
            PKPO (annealing k), https://arxiv.org/abs/2505.15201.
        """
        try:
            if not self.schedules:
                check_step(step, total_steps, False)
            return {
                name: schedule.resolve(step, total_steps, self._integer[name])
                for name, schedule in self.schedules.items()
            }
        except ValueError as err:
            raise ValueError(f"shaper {self.spec!r}: {err}") from err

    def at(self, step: int, total_steps: int | None = None) -> Shaper:
        """The :class:`advshape.Shaper` of ``step`` of a run of ``total_steps`` steps.

        Args:
            step: the training step, 1 for the first update (TRL's, verl's and ``advshape
                train``'s logged step); a step past the run resolves like its last.
            total_steps: the run's length (needed when a point is placed by percentage).

        Returns:
            The shaper with the scheduled parameters at their values of that step.

        Example:
            >>> import advshape
            >>> advshape.scheduled("grpo_k:k=linear(16,1)").at(100, 100).spec
            'grpo_k:k=1'

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
            PKPO (annealing k), https://arxiv.org/abs/2505.15201.
        """
        values = self.values_at(step, total_steps)
        if self._fixed is not None:
            return self._fixed
        return self._shaper(values)

    def _shaper(self, values: Mapping[str, Any]) -> Shaper:
        key = tuple(sorted(values.items()))
        if key not in self._cache:
            fixed = {k: v for k, v in self.params.items() if k not in self.schedules}
            self._cache[key] = registry.build(self.name, {**fixed, **values})
        return self._cache[key]

    def _as_values(self, name: str, values: tuple[Fraction, ...]) -> list[int | float]:
        return [int(v) if self._integer[name] else float(v) for v in values]

    def variants(self) -> tuple[Shaper, ...]:
        """Every shaper the schedule can resolve to (integer parameters), or the shapers at
        the schedules' point values (float ones), largest values first.

        Returns:
            The shapers; one for a constant schedule. A schedule over many integers has one
            per integer (``linear(1000,1)``: 1,000): use :meth:`check_group_size`, which
            checks the extremes only, to check a run against a group size.

        Example:
            >>> import advshape
            >>> [s.spec for s in advshape.scheduled("rloo_k:k=linear(3,1)").variants()]
            ['rloo_k:k=3', 'rloo_k:k=2', 'rloo_k:k=1']

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        """
        if self._fixed is not None:
            return (self._fixed,)
        names = list(self.schedules)
        choices = [
            self._as_values(n, tuple(reversed(self.schedules[n].reachable(self._integer[n]))))
            for n in names
        ]
        return tuple(self._shaper(dict(zip(names, combo))) for combo in itertools.product(*choices))

    def extremes(self) -> tuple[Shaper, ...]:
        """The shapers at every combination of the scheduled parameters' smallest and largest
        values (at most 2^(number of schedules)), the largest values first.

        Every value a schedule takes lies between these (:meth:`Schedule.bounds`), and the
        registry's rules that involve a parameter are monotone in it (K ≤ N; ``min_n``, a
        documented requirement of :class:`advshape.ShaperEntry`, tested for every entry;
        ranges, which are intervals), so a rule that holds at the extremes holds at every step.

        Returns:
            The shapers; one for a constant schedule.

        Example:
            >>> import advshape
            >>> [s.spec for s in advshape.scheduled("grpo_k:k=linear(10000000,1)").extremes()]
            ['grpo_k:k=10000000', 'grpo_k:k=1']

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        """
        if self._fixed is not None:
            return (self._fixed,)
        names = list(self.schedules)
        choices = []
        for name in names:
            low, high = self.schedules[name].bounds()
            choices.append(self._as_values(name, (high, low) if high != low else (high,)))
        return tuple(self._shaper(dict(zip(names, combo))) for combo in itertools.product(*choices))

    def check_group_size(self, n: int) -> None:
        """Raise ``ValueError`` unless every shaper of the run accepts groups of ``n``.

        The rules are the shapers' own (minimum group size, K ≤ N for the unbiased Pass@K
        estimators): each shaper of :meth:`extremes` shapes one all-wrong group of ``n``, so
        the cost does not depend on the schedule's range (``linear(10000000,1)`` checks two
        shapers). The message names the schedule and the most demanding value.

        Args:
            n: the group size the run will use.

        Raises:
            ValueError: some step's shaper cannot shape groups of ``n``.

        Example:
            >>> import advshape
            >>> advshape.scheduled("grpo_k:k=linear(16,1)").check_group_size(8)
            Traceback (most recent call last):
            ...
            ValueError: shaper 'grpo_k:k=linear(16,1)' becomes 'grpo_k:k=16' during the run: shaper 'grpo_k:k=16': k=16 > group size n=8; its unbiased Pass@K estimator needs n >= k: sample at least 16 responses per prompt, lower k, or use 'biased_k:k=16', which is defined for any k

        References:
            Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
            (Eq. 11: the unbiased Pass@K estimator needs N ≥ K).
        """
        for variant in self.extremes():  # largest values first
            try:
                variant.advantages(np.zeros((1, int(n))))
            except ValueError as err:
                if self._fixed is not None:
                    raise
                raise ValueError(
                    f"shaper {self.spec!r} becomes {variant.spec!r} during the run: {err}"
                ) from err

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
        # A constant one travels as its shaper (which pickles as its own recipe, or refuses).
        return scheduled, ((self._fixed if self._fixed is not None else self.spec),)


def _scheduled_shaper(entry: registry.ShaperEntry, given: Mapping[str, Any]) -> ScheduledShaper:
    """A :class:`ScheduledShaper`: the schedules parsed, their point values checked (every
    value lies between two points, and the parameters' ranges are intervals)."""
    known = {p.name: p for p in entry.params}
    schedules: dict[str, Schedule] = {}
    integer: dict[str, bool] = {}
    for key, value in given.items():
        if not registry.is_schedule(value) or key not in known:
            continue  # unknown names are reported by resolve_params below
        p = known[key]
        if p.kind not in (int, float):
            raise ValueError(
                f"shaper {entry.name!r} parameter {key!r} is a {p.kind.__name__} and cannot "
                f"follow a schedule; schedules are for numeric parameters such as k"
            )
        try:
            schedule = Schedule.parse(value)
        except ValueError as err:
            raise ValueError(f"shaper {entry.name!r} parameter {key!r}: {err}") from err
        integer[key] = p.kind is int
        for point in schedule.points:
            if integer[key] and point.value.denominator != 1:
                raise ValueError(
                    f"shaper {entry.name!r} parameter {key!r} is an integer, but schedule "
                    f"{str(schedule)!r} has the value {float(point.value):g}"
                )
            try:
                registry.check_param(
                    entry.name, p, int(point.value) if integer[key] else float(point.value)
                )
            except ValueError as err:
                raise ValueError(f"{err}, in schedule {str(schedule)!r}") from err
        schedules[key] = schedule
    # The other parameters, checked with the schedules at their first point's values.
    first = {
        k: int(s.points[0].value) if integer[k] else float(s.points[0].value)
        for k, s in schedules.items()
    }
    resolved = registry.resolve_params(entry, {**given, **first})
    params = {**resolved, **schedules}
    return ScheduledShaper(
        name=entry.name,
        spec=registry.canonical_spec(entry, params),
        params=params,
        schedules=schedules,
        integer=integer,
    )


def _constant(fixed: Shaper) -> ScheduledShaper:
    return ScheduledShaper(
        name=fixed.name, spec=fixed.spec, params=fixed.params, schedules={}, integer={}, fixed=fixed
    )


def scheduled(
    spec: str | Shaper | ScheduledShaper,
    /,
    *,
    defaults: Mapping[str, Any] | None = None,
    **params: Any,
) -> ScheduledShaper:
    """Any spec or shaper as a :class:`ScheduledShaper`: what a trainer resolves per step.

    A numeric parameter may follow a schedule over the run, ``"grpo_k:k=linear(16,1)"`` or
    ``advshape.scheduled("rloo_k", k="steps(8@1,4@51,1@101)")`` (grammar and exact resolution
    rule in :mod:`advshape._src.schedule`); every value a schedule reaches is checked against
    the parameter's range now. A fixed spec (any form :func:`advshape.shaper` reads, surrogates
    included) or a :class:`Shaper` gives a constant schedule, whose ``.at(step, total)`` is
    that shaper.

    Args:
        spec: a spec string, a :class:`Shaper`, or a :class:`ScheduledShaper` (returned
            unchanged).
        defaults: values for parameters the shaper takes but neither the spec nor the
            keywords give, e.g. ``defaults={"k": 8}``.
        **params: parameters, as in the spec (schedules as text or :class:`Schedule`).

    Returns:
        A :class:`ScheduledShaper`.

    Raises:
        ValueError: as :func:`advshape.shaper`, and for a schedule that does not parse, a
            schedule of a non-numeric parameter, or a point value out of the parameter's range.

    Example:
        >>> import advshape
        >>> sched = advshape.scheduled("grpo_k:k=linear(16@0%,1@80%)")
        >>> sched.at(1, 100).spec, sched.at(100, 100).spec
        ('grpo_k:k=16', 'grpo_k:k=1')
        >>> advshape.scheduled("rloo").is_constant
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
        PKPO, https://arxiv.org/abs/2505.15201 (annealing k during training).
    """
    if isinstance(spec, ScheduledShaper):
        if params or defaults:
            raise ValueError("parameters cannot be given with an already-built ScheduledShaper")
        return spec
    if isinstance(spec, Shaper):
        if params:
            raise ValueError("parameters cannot be given with an already-built Shaper")
        return _constant(spec)
    if not isinstance(spec, str):
        raise ValueError(
            f"advshape.scheduled takes a spec string such as 'grpo_k:k=linear(16,1)', an "
            f"advshape.Shaper or a ScheduledShaper, got {type(spec).__name__}"
        )
    name, given = registry.given_params(spec, defaults, params)
    if registry.built_above(name) or not any(registry.is_schedule(v) for v in given.values()):
        return _constant(registry.build(name, given, spec if not params else None))
    return _scheduled_shaper(registry.lookup(name), given)
