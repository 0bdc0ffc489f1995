"""The hierarchical bootstrap against its exact distribution, enumerated on known counts."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from advshape.frontier.stats import Estimate, Resampler, percentile_interval
from tests._reference import pass_estimate

# Known counts: c correct of n = 8 samples, for S = 2 seeds x P = 3 problems. The values
# bootstrapped are the unbiased per-problem Pass@2 estimates, exact Fractions (Eq. 11).
N, K = 8, 2
COUNTS = [[0, 3, 8], [1, 5, 6]]
VALUES = [[pass_estimate(c, N, K) for c in row] for row in COUNTS]


def exact_distribution(values, design):
    """{T: probability} over every resample: seeds drawn with replacement, problems within."""
    s, p = len(values), len(values[0])
    dist: dict[Fraction, Fraction] = {}
    for seeds in itertools.product(range(s), repeat=s):
        if design == "crossed":
            draws = [(problems,) * s for problems in itertools.product(range(p), repeat=p)]
        else:
            one = list(itertools.product(range(p), repeat=p))
            draws = list(itertools.product(one, repeat=s))
        weight = Fraction(1, s**s * len(draws))
        for per_slot in draws:
            total = sum(
                sum((values[seed][i] for i in problems), Fraction(0))
                for seed, problems in zip(seeds, per_slot)
            )
            t = total / (s * p)
            dist[t] = dist.get(t, Fraction(0)) + weight
    assert sum(dist.values()) == 1
    return dist


def moments(dist):
    mean = sum(t * w for t, w in dist.items())
    return mean, sum((t - mean) ** 2 * w for t, w in dist.items())


@pytest.mark.parametrize("design", ["crossed", "nested"])
def test_replicates_follow_the_exact_resampling_distribution(design):
    dist = exact_distribution(VALUES, design)
    mean, var = moments(dist)
    b = 40_000
    reps = Resampler(2, 3, design=design, resamples=b, seed=3).replicates(
        [[float(v) for v in row] for row in VALUES]
    )
    # mean and variance within a few Monte Carlo standard errors of the exact ones
    assert reps.mean() == pytest.approx(float(mean), abs=4 * math.sqrt(float(var) / b))
    kurt = float(sum((t - mean) ** 4 * w for t, w in dist.items()) / var**2)
    assert reps.var() == pytest.approx(float(var), rel=4 * math.sqrt((kurt - 1) / b))
    # the whole distribution: P(T <= t) at every support point, within 4 binomial SEs
    cdf = Fraction(0)
    for t in sorted(dist):
        cdf += dist[t]
        got = float(np.mean(reps <= float(t) + 1e-12))
        se = math.sqrt(float(cdf * (1 - cdf)) / b)
        assert got == pytest.approx(float(cdf), abs=4 * se + 1e-9)


def _population_variance(xs):
    mean = sum(xs, Fraction(0)) / len(xs)
    return sum(((x - mean) ** 2 for x in xs), Fraction(0)) / len(xs)


def test_enumerated_variances_equal_the_closed_forms():
    # Two independent routes to the resampling variance of the grand mean. With V_r, V_c and
    # V the population variances of the seed means, the problem means and all values:
    #   crossed: [(P − 1)·V_r + (S − 1)·V_c + V] / (S·P)
    #   nested:  [(1/S) Σ_s σ²_s / P + V_r] / S        (σ²_s: seed s's variance over problems)
    s, p = len(VALUES), len(VALUES[0])
    seed_means = [sum(row, Fraction(0)) / p for row in VALUES]
    problem_means = [sum((VALUES[j][i] for j in range(s)), Fraction(0)) / s for i in range(p)]
    v_r, v_c = _population_variance(seed_means), _population_variance(problem_means)
    v_all = _population_variance([v for row in VALUES for v in row])
    crossed = ((p - 1) * v_r + (s - 1) * v_c + v_all) / (s * p)
    nested = (sum(_population_variance(row) for row in VALUES) / s / p + v_r) / s
    assert moments(exact_distribution(VALUES, "crossed"))[1] == crossed
    assert moments(exact_distribution(VALUES, "nested"))[1] == nested
    # a problem effect shared by the seeds does not average out over them
    assert crossed > nested


def test_point_is_the_exact_grand_mean():
    r = Resampler(2, 3, design="crossed", resamples=10)
    expected = sum(sum(row, Fraction(0)) for row in VALUES) / 6
    assert r.point([[float(v) for v in row] for row in VALUES]) == pytest.approx(
        float(expected), abs=1e-15
    )


def test_one_seed_is_the_binomial_law_of_the_resampled_mean():
    # One seed: the problem bootstrap alone. Half the problems score 1, half 0, so a draw's
    # mean is Binomial(P, 1/2)/P, whose quantiles are known directly.
    from scipy.stats import binom

    problems = 400
    values = [[1.0] * (problems // 2) + [0.0] * (problems // 2)]
    for design in ("crossed", "nested"):
        est = Resampler(1, problems, design=design, resamples=20_000, seed=1).estimate(values)
        low, high = binom.ppf([0.025, 0.975], problems, 0.5) / problems
        assert est.mean == 0.5
        assert est.low == pytest.approx(low, abs=0.006)
        assert est.high == pytest.approx(high, abs=0.006)


def test_seed_variation_widens_the_pooled_interval():
    # Every problem is the same within a seed, seeds differ: the problem-only bootstrap of the
    # old pooled interval would give a point; the hierarchical one covers the seed spread.
    values = [[0.2] * 50, [0.4] * 50, [0.6] * 50]
    r = Resampler(3, 50, design="crossed", resamples=4000)
    est = r.estimate(values)
    assert est.mean == pytest.approx(0.4)
    assert est.low < 0.3 and est.high > 0.5
    for seed_est, level in zip(r.per_seed(values), (0.2, 0.4, 0.6), strict=True):
        assert seed_est == pytest.approx(Estimate(level, level, level))


def test_differences_are_paired_through_shared_draws():
    # b = a + 0.1 everywhere: every resample's difference is exactly 0.1.
    rng = np.random.default_rng(0)
    a = rng.random((3, 30))
    for design in ("crossed", "nested"):
        r = Resampler(3, 30, design=design, resamples=300)
        diff = r.replicates(a + 0.1) - r.replicates(a)
        assert np.allclose(diff, 0.1)


def test_percentile_interval_and_bad_input():
    assert percentile_interval([1.0, float("nan"), 3.0], 0.5) == (1.5, 2.5)
    with pytest.raises(ValueError, match="design must be one of"):
        Resampler(2, 2, design="paired")
    with pytest.raises(ValueError, match="one row per seed"):
        Resampler(2, 3, design="crossed").point([[1, 2, 3]])
