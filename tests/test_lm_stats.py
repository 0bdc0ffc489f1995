"""Paired differences of held-out Pass@K: exact means, bootstrap intervals on known counts."""

from __future__ import annotations

import math
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from advshape.lm.stats import Difference, paired_difference, pass_at_ks, per_problem_pass_at_k


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def test_per_problem_estimates_and_means_are_exact():
    n, counts = 32, [0, 1, 5, 16, 31, 32, 7]
    for k in (1, 2, 8, 16):
        got = per_problem_pass_at_k(counts, n, k)
        assert list(got) == pytest.approx([float(exact(n, c, k)) for c in counts], abs=1e-13)
    means = pass_at_ks(counts, n, range(1, 17))
    assert list(means) == [f"pass@{k}" for k in range(1, 17)]
    assert means["pass@4"] == pytest.approx(float(sum(exact(n, c, 4) for c in counts) / 7))


def test_difference_mean_is_the_exact_mean_over_seeds_and_problems():
    n, k = 8, 2
    a = [[3, 0, 8, 5], [4, 1, 7, 5]]
    b = [[1, 0, 8, 2], [2, 2, 6, 5]]
    expected = sum(
        exact(n, x, k) - exact(n, y, k) for sa, sb in zip(a, b) for x, y in zip(sa, sb)
    ) / Fraction(8)
    assert paired_difference(a, b, n, k).mean == pytest.approx(float(expected), abs=1e-13)


def test_a_constant_difference_has_a_point_interval():
    # Every problem: 4 of 8 correct against 2 of 8, so every bootstrap draw gives the same Δ.
    d = paired_difference([[4] * 50], [[2] * 50], 8, 1)
    assert d == pytest.approx(Difference(0.25, 0.25, 0.25))
    assert d.excludes_zero


def test_interval_matches_the_binomial_law_of_the_resampled_mean():
    # Half the problems differ by +1 in Pass@1 (n = 1: 1 correct vs 0), half by 0. A bootstrap
    # draw's Δ is then Binomial(P, 1/2) / P, whose 2.5% and 97.5% quantiles we know directly.
    problems = 400
    a = [[1] * (problems // 2) + [0] * (problems // 2)]
    b = [[0] * problems]
    d = paired_difference(a, b, 1, 1, resamples=20_000)
    assert d.mean == 0.5
    from scipy.stats import binom

    low, high = binom.ppf([0.025, 0.975], problems, 0.5) / problems
    assert d.low == pytest.approx(low, abs=0.006)
    assert d.high == pytest.approx(high, abs=0.006)
    half_width = 1.96 * math.sqrt(0.25 / problems)
    assert d.high - d.low == pytest.approx(2 * half_width, rel=0.08)


def test_opposite_differences_give_an_interval_around_zero():
    d = paired_difference([[1, 0] * 100], [[0, 1] * 100], 1, 1)
    assert d.mean == 0.0 and d.low < 0 < d.high and not d.excludes_zero


def test_unpaired_inputs_are_refused():
    with pytest.raises(ValueError, match="same seeds and problems"):
        paired_difference([[1, 2]], [[1, 2, 3]], 4, 1)


def test_text_shows_mean_and_interval():
    assert Difference(0.1234, -0.01, 0.25).text() == "+0.123 [-0.010, +0.250]"
    assert np.isclose(Difference(1, 2, 3).mean, 1)
