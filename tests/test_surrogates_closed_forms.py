"""Closed-form surrogates of the registry vs 25-digit quadrature of their stated derivative.

For each shaper the N → ∞ limit of its weights gives F'(ρ) = w⁺/ρ + w⁻/(1 − ρ) (Lemma 2); the
derivatives below are written from the paper's limit weights, independently of the closed
forms, and integrated with mpmath's tanh-sinh quadrature (exact for the end singularities).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import advshape
from advshape._src import closed_forms

mpmath.mp.dps = 25


def _rho_k(r, k):
    """1 − (1 − r)^k as r·Σ_{i<k}(1 − r)^i: no cancellation at the tiny r tanh-sinh visits."""
    return r * sum((1 - r) ** i for i in range(k))


def _sigma(r):
    return mpmath.sqrt(r * (1 - r))


# spec -> F'(ρ) as an mpmath function (limit weights of Table 1 and Secs. 3–6, App. C)
DERIVATIVES = {
    "reinforce": lambda r: 1,
    "rloo": lambda r: 1,
    "dr_grpo": lambda r: 1,
    "grpo": lambda r: 1 / _sigma(r),
    "grpo:std=sample": lambda r: 1 / _sigma(r),
    "grpo:eps=0.1": lambda r: 1 / (_sigma(r) + mpmath.mpf("0.1")),
    "grpo:eps=0.5": lambda r: 1 / (_sigma(r) + mpmath.mpf("0.5")),
    "grpo:eps=3": lambda r: 1 / (_sigma(r) + 3),
    "skew_r": lambda r: (1 - r) / _sigma(r),
    "entropy:lam=0.7": lambda r: 1 / _sigma(r) + mpmath.mpf("0.7") * mpmath.log((1 - r) / r),
    "reinforce_k:k=3": lambda r: 3 * (1 - r) ** 2,
    "rloo_k:k=4": lambda r: 4 * (1 - r) ** 3,
    "pkpo:k=5": lambda r: 5 * (1 - r) ** 4,
    "pkpo:k=3,baseline=none": lambda r: 3 * (1 - r) ** 2,
    "grpo_k:k=1": lambda r: 1 / _sigma(r),
    "grpo_k:k=3": lambda r: (1 - r) ** 2 / _sigma(r),
    "biased_k:k=5": lambda r: (1 - r) ** 4 / _sigma(r),
    # (1−ρ)^{K−1}/√(ρ_K(1−ρ_K)) with 1 − ρ_K = (1−ρ)^K simplified, so it is finite at ρ = 1
    "grpo_k_chen:k=4": lambda r: (1 - r) / mpmath.sqrt(_rho_k(r, 4)),
    "mix_direct:k=3": lambda r: (1 - r + r * (1 - r) ** 2) / _sigma(r),
    # (1 − ρ + ρ·ω_K)/σ, ω_K = √((1−ρ_K)/ρ_K)·√(ρ/(1−ρ)) (Eq. 19), simplified as above
    "mix_chen:k=3": lambda r: (
        mpmath.sqrt((1 - r) / r) + r * mpmath.sqrt(1 - r) / mpmath.sqrt(_rho_k(r, 3))
    ),
    "mix_chen:k=1": lambda r: 1 / _sigma(r),
}

POINTS = ["0", "1e-9", "0.3", "0.77", "0.999999", "1"]


@pytest.mark.parametrize("spec", sorted(DERIVATIVES))
def test_closed_form_is_the_integral_of_the_limit_derivative(spec):
    s = advshape.shaper(spec)
    derivative = DERIVATIVES[spec]
    rho = np.array([float(p) for p in POINTS])
    ours = s.surrogate(rho) - s.surrogate(0.0)
    for value, point in zip(ours, POINTS):
        exact = mpmath.quad(derivative, [0, mpmath.mpf(point)]) if point != "0" else 0
        assert abs(value - float(exact)) <= 1e-12 * max(1.0, abs(float(exact))), (spec, point)


# Shapers whose weights vanish as N → ∞ at every fixed ρ: no population surrogate exists
# (grpo_passk ascends Pass@N at group size N: tests/test_recent_shapers.py checks it exactly).
NO_POPULATION_LIMIT = {"grpo_passk"}


def test_every_registry_shaper_has_a_closed_form():
    for name in advshape.names():
        entry = advshape.registry()[name]
        assert (entry.surrogate is None) == (name in NO_POPULATION_LIMIT), name
        assert name in closed_forms.FORMULAS


def test_surrogates_are_vectorised_and_exact_at_the_ends():
    rho = np.linspace(0, 1, 12).reshape(3, 4)
    f = advshape.shaper("grpo_k:k=4").surrogate(rho)
    assert f.shape == (3, 4)
    assert f[0, 0] == 0.0
    # B(½, K − ½) at ρ = 1: for K = 4, Γ(½)Γ(7/2)/Γ(4) = 5π/16
    assert f[-1, -1] == pytest.approx(5 * np.pi / 16, rel=1e-15)
    assert advshape.shaper("grpo").surrogate(1.0) == pytest.approx(np.pi, rel=1e-16)
    assert advshape.shaper("grpo_k_chen:k=3").surrogate(1.0) == pytest.approx(np.pi / 3, rel=1e-15)


def test_grpo_k_paper_form_in_rho_k_equals_the_rho_form():
    """Eq. (35) is written in ρ_K: B(1 − (1 − ρ_K)^{1/K}; ½, K − ½) = B(ρ; ½, K − ½)."""
    rho = np.linspace(0, 1, 101)
    for k in (2, 5):
        rho_k = closed_forms.pass_at_k_population(rho, k)
        paper = closed_forms.incomplete_beta(1 - (1 - rho_k) ** (1 / k), 0.5, k - 0.5)
        np.testing.assert_allclose(closed_forms.grpo_k(rho, k), paper, rtol=0, atol=1e-13)


def test_incomplete_beta_matches_mpmath_near_one():
    for x in (1e-12, 0.3, 0.5, 0.9, 1 - 1e-9, 1.0):
        ours = closed_forms.incomplete_beta(x, 0.5, 2.5)
        exact = mpmath.betainc(0.5, 2.5, 0, x)
        assert abs(ours - float(exact)) < 1e-14, x


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf")])
def test_rho_outside_unit_interval_is_refused(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        advshape.shaper("skew_r").surrogate(np.array([0.2, bad]))


def test_normalise_refuses_a_flat_surrogate():
    with pytest.raises(ValueError, match="F\\(1\\) − F\\(0\\)"):
        closed_forms.normalise(np.ones(3), 1.0, 1.0)
