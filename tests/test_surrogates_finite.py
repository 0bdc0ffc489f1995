"""Exact finite-N checks: subset-enumeration advantages, rational c_N, and the rate F_N -> F."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

import advshape
from advshape.surrogates.finite import (
    brute_force_advantages,
    exact_update_coefficient,
    finite_n_convergence,
)

CASES = [
    ("rloo_k", {}),
    ("reinforce_k", {}),
    ("pkpo", {"baseline": "none"}),
    ("pkpo", {"baseline": "loo"}),
    ("pkpo", {"baseline": "loo_unscaled"}),
    ("pkpo", {"baseline": "loo_minus_one"}),
]


@pytest.mark.parametrize("name, extra", CASES)
def test_enumerated_advantages_match_the_registry_scores(name, extra):
    for k in (1, 2, 3):
        for n in range(k + 1, 8):
            s = advshape.shaper(name, k=k, **extra)
            for m in range(n + 1):
                rewards = [1] * m + [0] * (n - m)
                exact = brute_force_advantages(name, rewards, k=k, **extra)
                a_pos, a_neg = s.scores(m, n)
                for a, r in zip(exact, rewards):
                    assert float(a) == pytest.approx(float(a_pos if r else a_neg), abs=1e-14)


@pytest.mark.parametrize("name, extra", CASES)
def test_unbiased_c_n_is_exactly_proportional_to_fail_at_k_minus_1(name, extra):
    """c_N is a polynomial of degree N − 1 in ρ: equal to C·(1 − ρ)^{K−1} at N points ⇒ equal."""
    for k in (2, 3):
        low = k + 1 if extra.get("baseline") in ("loo", "loo_unscaled") else k
        for n in range(low, 8):
            points = [Fraction(i, n + 1) for i in range(1, n + 1)]

            def advantages(r, k=k):
                return brute_force_advantages(name, r, k=k, **extra)

            ratios = {
                exact_update_coefficient(advantages, n, p) / (1 - p) ** (k - 1) for p in points
            }
            assert ratios == {Fraction(1)}, (name, extra, k, n, ratios)


def test_biased_shaper_is_not_proportional():
    """A check that can fail: GRPO_K's c_N is not ∝ (1 − ρ)^{K−1} (it is biased)."""
    s = advshape.shaper("grpo_k:k=2")
    rho = np.array([0.2, 0.5, 0.8])
    ratio = advshape.expected_update_coefficient(s, 6, rho) / (1 - rho)
    assert np.ptp(ratio) > 0.1


def test_exact_coefficient_refuses_end_points():
    with pytest.raises(ValueError, match="strictly inside"):
        exact_update_coefficient(lambda r: [0] * len(r), 3, Fraction(0))
    with pytest.raises(ValueError, match="no brute-force definition"):
        brute_force_advantages("grpo", [1, 0])


def test_finite_n_surrogates_converge_like_one_over_sqrt_n():
    s = advshape.shaper("grpo")
    rows, rate = finite_n_convergence(s, [16, 64, 256, 1024], s.surrogate)
    errors = [e for _, e in rows]
    assert all(b < a for a, b in itertools.pairwise(errors))
    assert 0.35 < rate < 0.6  # measured 0.45: sup error near the ends, where ρ ~ 1/N
    assert errors[0] == pytest.approx(0.07049, abs=1e-4)  # N = 16


def test_unbiased_finite_n_surrogate_is_exact_at_every_n():
    s = advshape.shaper("rloo_k:k=3")
    rows, _ = finite_n_convergence(s, [3, 5, 16], s.surrogate)
    assert max(e for _, e in rows) < 1e-13
