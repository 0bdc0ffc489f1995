"""Prompt weightings (advshape._src.weighting): Linear-R and Sqrt-R (Heckel et al.), F-GRPO's focal
weight. Scores against the definitions for every N ≤ 32 and N⁺, the all-wrong groups' term of the
exact finite-N surrogate, closed forms against quadrature and reverse-engineering."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

import advshape
from advshape._src.maclaurin import maclaurin_update_coefficient
from tests import _reference as ref
from tests._registry_helpers import check_scores

RHOS = [Fraction(1, 9), Fraction(1, 3), Fraction(1, 2), Fraction(5, 7)]
GRID = np.array([0.0, 1e-9, 1e-3, 0.05, 0.3, 0.5, 0.8, 0.999, 1.0])


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("linear_r", {}),
        ("sqrt_r", {}),
        ("focal", {"gamma": 0.0}),
        ("focal", {"gamma": 0.25}),
        ("focal", {"gamma": 0.5}),
        ("focal", {"gamma": 1.7}),
        ("focal", {"gamma": 3.0}),
    ],
)
def test_scores_every_n_up_to_32_and_every_n_pos(name, params):
    for n in range(1, 33):
        check_scores(advshape.shaper(name, **params), name, n, **params)


def test_focal_at_integer_gamma_is_biased_k_and_at_zero_grpo():
    m = np.arange(17)
    for k in (1, 2, 5, 9):
        np.testing.assert_allclose(
            advshape.shaper(f"focal:gamma={k - 1}").scores(m, 16),
            advshape.shaper(f"biased_k:k={k}").scores(m, 16),
            rtol=1e-15,
            atol=0,
        )
    np.testing.assert_array_equal(
        advshape.shaper("focal:gamma=0").scores(m, 16), advshape.shaper("grpo").scores(m, 16)
    )


def test_effective_weights_are_one_minus_rho_and_its_square_root():
    """ω(ρ̂)·ρ̂(1 − ρ̂): w⁺ = ρ̂A⁺ = w⁻ = −(1 − ρ̂)A⁻ = (1 − ρ̂) resp. √(1 − ρ̂) on mixed groups."""
    m = np.arange(1, 16)
    rho = m / 16
    for spec, want in (("linear_r", 1 - rho), ("sqrt_r", np.sqrt(1 - rho))):
        w_pos, w_neg = advshape.shaper(spec).weights(m, 16)
        np.testing.assert_allclose(w_pos, want, rtol=1e-14)
        np.testing.assert_allclose(w_neg, want, rtol=1e-14)


def test_linear_r_ascends_the_order_n_likelihood_exactly():
    """E[update] = ∇Σ_{k≤N} Pass@k/k exactly (Fractions): MaxRL's order-N objective, of which
    the all-wrong groups carry the k = N term (1 − ρ)^{N−1}: maxrl, which skips them, has
    Σ_{k<N}."""

    def linear_r(r, i):
        rho = ref.mean(r)
        return Fraction(-1) if rho == 0 else (r[i] - rho) / rho

    for n in range(1, 12):
        for rho in RHOS:
            exact = ref.exact_c_n(linear_r, n, rho)
            assert exact == sum((1 - rho) ** (k - 1) for k in range(1, n + 1)), (n, rho)
            assert exact - ref.exact_c_n(ref.maxrl, n, rho) == (1 - rho) ** (n - 1)
        floats = np.array([float(r) for r in RHOS])
        np.testing.assert_allclose(
            advshape.expected_update_coefficient(advshape.shaper("linear_r"), n, floats),
            maclaurin_update_coefficient(floats, n, n),
            rtol=1e-13,
        )
        np.testing.assert_allclose(
            advshape.finite_n_surrogate(advshape.shaper("linear_r"), n, floats),
            advshape.finite_n_surrogate(advshape.shaper(f"maclaurin:T={n}"), n, floats),
            rtol=1e-13,
        )


@pytest.mark.parametrize("name", ["linear_r", "sqrt_r"])
def test_the_all_wrong_term_of_the_finite_n_surrogate(name):
    """With A⁻(0, N) = −1 the all-wrong groups add (1 − ρ)^{N−1} to c_N, i.e. Pass@N/N to F_N:
    F_N = F_N(gated) + (1 − (1 − ρ)^N)/N, the gated shaper being the same with no update on
    all-wrong groups."""
    shaper = advshape.shaper(name)
    assert shaper.scores is not None

    def gated_scores(n_pos, n):
        a_pos, a_neg = shaper.scores(n_pos, n)
        return a_pos, np.where(np.asarray(n_pos) == 0, 0.0, a_neg)

    gated = advshape.count_shaper(f"{name}_gated", gated_scores)
    rho = np.linspace(0, 1, 11)
    for n in (1, 2, 8, 33):
        diff = advshape.finite_n_surrogate(shaper, n, rho) - advshape.finite_n_surrogate(
            gated, n, rho
        )
        np.testing.assert_allclose(diff, (1 - (1 - rho) ** n) / n, rtol=1e-13, atol=1e-15)


def test_log_divergent_closed_forms_against_quadrature():
    """F(ρ) = F(1) − ∫_ρ^1 F' with F(1) = 0, −∞ at ρ = 0. Linear-R: F' = 1/t. Sqrt-R: F' =
    1/(t√(1 − t)), integrated with s = √(1 − t) as ∫_0^{√(1−ρ)} 2/(1 − s²) ds (smooth)."""
    linear, root = advshape.shaper("linear_r").surrogate, advshape.shaper("sqrt_r").surrogate
    for f in (linear, root):
        assert f(1.0) == 0.0 and f(0.0) == -np.inf
    for point in ("1e-12", "1e-4", "0.3", "0.9", "0.999999"):
        with mpmath.workdps(40):  # other test modules set the global precision lower
            rho = mpmath.mpf(point)
            log_exact = -mpmath.quad(lambda t: 1 / t, [rho, 1])
            exact = -mpmath.quad(lambda s: 2 / (1 - s * s), [0, mpmath.sqrt(1 - rho)])
        assert linear(float(point)) == pytest.approx(float(log_exact), rel=1e-12)
        assert root(float(point)) == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.75])
def test_focal_closed_form_against_quadrature(gamma):
    f = advshape.shaper("focal", gamma=gamma).surrogate
    for point in ("1e-9", "0.2", "0.7", "1"):
        with mpmath.workdps(40):
            exact = mpmath.quad(
                lambda t: t ** (-0.5) * (1 - t) ** (gamma - 0.5), [0, mpmath.mpf(point)]
            )
        assert f(float(point)) == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize("spec", ["linear_r", "sqrt_r"])
def test_reverse_engineering_reports_the_log_divergence(spec):
    """From nothing but the scores: F diverges at ρ = 0, anchored F(1) = 0, and is the closed
    form there to 1e-7 (the all-wrong groups' weight w⁻(0) = 1 sits in the grid's first cell)."""
    curve = advshape.reverse_engineer(spec)
    assert curve.divergent == (0,) and curve.anchor == 1.0
    inner = GRID[GRID > 0]
    np.testing.assert_allclose(
        curve(inner), advshape.shaper(spec).surrogate(inner), rtol=0, atol=1e-7
    )


def test_focal_reverse_engineered_surrogate_is_the_incomplete_beta():
    from advshape.surrogates.verify import sup_normalised_error

    for gamma in (0.5, 2.5):
        s = advshape.shaper("focal", gamma=gamma)
        assert sup_normalised_error(advshape.reverse_engineer(s), s.surrogate) < 1e-8


def test_focal_gamma_follows_a_real_schedule():
    s = advshape.scheduled("focal:gamma=linear(2,0)")
    assert s.at(1, 101).params["gamma"] == 2.0 and s.at(101, 101).params["gamma"] == 0.0
    assert s.at(51, 101).params["gamma"] == pytest.approx(1.0)
