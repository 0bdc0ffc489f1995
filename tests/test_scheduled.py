"""``advshape.scheduled`` and ``ScheduledShaper`` (``advshape._src.scheduled``): the one type
trainers hold; ``advshape.shaper`` always returns a plain ``Shaper``."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

import advshape
from advshape import ScheduledShaper, Shaper
from advshape._src import registry, scheduled


def test_shaper_always_returns_a_shaper_and_scheduled_a_scheduled_shaper():
    for spec in ("grpo", "grpo_k:k=4", "pkpo:k=2,baseline=loo"):
        assert type(advshape.shaper(spec)) is Shaper
        assert type(advshape.scheduled(spec)) is ScheduledShaper
    assert type(advshape.scheduled("grpo_k:k=linear(4,1)")) is ScheduledShaper


def test_large_schedule_is_checked_in_constant_work(monkeypatch):
    """check_group_size builds the shapers at the schedule's extremes only: two for
    linear(10000000,1), not ten million (an operation count, not a timing)."""
    built = []
    real = registry.build

    def counting(name, given, text=None):
        built.append(dict(given))
        return real(name, given, text)

    monkeypatch.setattr(registry, "build", counting)
    s = advshape.scheduled("grpo_k:k=linear(10000000,1)")
    with pytest.raises(
        ValueError,
        match=r"^shaper 'grpo_k:k=linear\(10000000,1\)' becomes 'grpo_k:k=10000000' during the "
        r"run: .*k=10000000 > group size n=16",
    ):
        s.check_group_size(16)
    assert sorted(b["k"] for b in built) == [
        1,
        10000000,
    ]  # the extremes; the largest is checked first
    built.clear()
    big = advshape.scheduled("biased_k:k=linear(10000000,1)")  # defined for any K
    big.check_group_size(16)
    assert sorted(b["k"] for b in built) == [1, 10000000]
    assert [v.spec for v in big.extremes()] == ["biased_k:k=10000000", "biased_k:k=1"]


def test_extremes_bound_every_value_and_min_n_is_monotone_in_every_numeric_parameter():
    """What makes checking the extremes exact: every registry entry's min_n is monotone in each
    numeric parameter (ShaperEntry's documented requirement), K ≤ N is monotone in K, and a
    schedule's values lie between its smallest and largest point."""
    for entry in advshape.registry().values():
        numeric = [p for p in entry.params if p.kind in (int, float)]
        for p in numeric:
            base = {
                q.name: (4 if q.kind is int else 0.5)
                if q.default is advshape.REQUIRED
                else q.default
                for q in entry.params
            }
            grid = range(1, 65) if p.kind is int else np.linspace(0.0, 8.0, 65)
            choices = [q for q in entry.params if q.kind is str and q.check is not None]
            others = [{}] + [{q.name: c} for q in choices for c in q.check.choices]
            for other in others:
                mins = [entry.min_n({**base, **other, p.name: v}) for v in grid]
                increasing = all(a <= b for a, b in itertools.pairwise(mins))
                decreasing = all(a >= b for a, b in itertools.pairwise(mins))
                assert increasing or decreasing, (entry.name, p.name, other, mins)
    s = advshape.scheduled("rloo_k:k=steps(3@1,9@5,2@9)")
    every = {s.at(t).params["k"] for t in range(1, 20)}
    low, high = min(every), max(every)
    assert [v.params["k"] for v in s.extremes()] == [high, low] == [9, 2]


def test_pkpo_loo_schedule_checks_min_n_at_its_largest_k():
    s = advshape.scheduled("pkpo:k=linear(5,2),baseline=loo")  # needs N >= K + 1
    s.check_group_size(6)
    with pytest.raises(ValueError, match="becomes 'pkpo:k=5,baseline=loo'.*at least 6 responses"):
        s.check_group_size(5)


def test_constant_and_scheduled_pickle_as_their_spec():
    fixed = advshape.shaper("rloo_k:k=2")
    constant = advshape.scheduled(fixed)
    assert constant.__reduce__() == (scheduled.scheduled, (fixed,))
    assert pickle.loads(pickle.dumps(constant)).at(3).spec == "rloo_k:k=2"
    s = advshape.scheduled("rloo_k:k=linear(4,2)")
    assert s.__reduce__() == (scheduled.scheduled, ("rloo_k:k=linear(4,2)",))
    assert pickle.loads(pickle.dumps(s)) == s


def test_defaults_fill_only_what_the_shaper_takes():
    assert advshape.scheduled("grpo_k", defaults={"k": 8}).spec == "grpo_k:k=8"
    assert advshape.scheduled("grpo_k:k=2", defaults={"k": 8}).spec == "grpo_k:k=2"
    assert advshape.scheduled("grpo", defaults={"k": 8}).spec == "grpo"
    assert (
        advshape.scheduled("grpo_k:k=linear(4,2)", defaults={"k": 8}).spec == "grpo_k:k=linear(4,2)"
    )


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="already-built ScheduledShaper"):
        advshape.scheduled(advshape.scheduled("grpo"), k=3)
    with pytest.raises(ValueError, match="already-built Shaper"):
        advshape.scheduled(advshape.shaper("grpo"), eps=0.1)
    with pytest.raises(ValueError, match="takes a spec string"):
        advshape.scheduled(4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lam cannot follow a schedule"):
        advshape.scheduled("surrogate", F="rho", regularizer="rho", lam="linear(1,0)")
