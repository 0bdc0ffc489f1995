"""The constraint objects (``advshape._src.constraints``) that both the registry's shaper
parameters and the command line's options are checked with: one range, one message."""

from __future__ import annotations

import math

import pytest

import advshape
from advshape import _options
from advshape._src.constraints import Bound, OneOf, count, real


def test_the_command_line_and_the_registry_use_the_same_objects():
    assert _options.Bound is Bound and _options.OneOf is OneOf
    assert _options.count is count and _options.real is real
    assert advshape.Bound is Bound and advshape.OneOf is OneOf
    checks = [p.check for e in advshape.registry().values() for p in e.params]
    assert all(c is None or isinstance(c, Bound | OneOf) for c in checks)
    assert any(isinstance(c, Bound) for c in checks) and any(isinstance(c, OneOf) for c in checks)


def test_a_parameter_message_is_the_constraint_message():
    k = next(p for p in advshape.registry()["grpo_k"].params if p.name == "k")
    with pytest.raises(ValueError) as from_constraint:
        k.check.check("shaper 'grpo_k' parameter 'k'", 0)
    with pytest.raises(ValueError) as from_library:
        advshape.shaper("grpo_k:k=0")
    assert str(from_library.value) == str(from_constraint.value)
    assert str(from_library.value) == "shaper 'grpo_k' parameter 'k' must be an integer >= 1, got 0"


@pytest.mark.parametrize(
    ("bound", "good", "bad", "words"),
    [
        (count(1), [1, 2, 10**30, 4.0], [0, -1, 1.5, True, "4", math.inf], "an integer >= 1"),
        (count(1, 17), [1, 17], [0, 18], "an integer in [1, 17]"),
        (real(0), [0, 0.5, 1e308], [-1e-300, math.nan, math.inf, -math.inf], "a number >= 0"),
        (real(0, 1, high_open=True), [0, 0.999], [1, math.nan], "a number in [0, 1)"),
        (real(0, low_open=True), [1e-300], [0], "a number > 0"),
    ],
)
def test_bounds(bound, good, bad, words):
    assert bound.describe() == words
    for value in good:
        assert bound.ok(value), value
        bound.check("x", value)
    for value in bad:
        assert not bound.ok(value), value
        with pytest.raises(
            ValueError, match=rf"^x must be {words.replace('[', '.').replace(')', '.')}"
        ):
            bound.check("x", value)


def test_bound_checks_each_of_a_sequence_and_says_why():
    with pytest.raises(ValueError, match=r"^--ks must be an integer >= 1, got 0; the K of pass@K$"):
        count(1, why="the K of pass@K").check("--ks", (1, 2, 0))


def test_one_of():
    OneOf(("mean", "sum")).check("--agg", "sum")
    with pytest.raises(ValueError, match=r"^--agg must be one of mean, sum; got 'max'$"):
        OneOf(("mean", "sum")).check("--agg", "max")
    flag = OneOf((False, True))
    flag.check("--resume", True)
    with pytest.raises(ValueError, match=r"^--resume must be one of False, True; got 1$"):
        flag.check("--resume", 1)  # 1 == True, but not a flag's value
    with pytest.raises(ValueError, match=r"^--resume must be one of False, True; got 'yes'$"):
        flag.check("--resume", "yes")
