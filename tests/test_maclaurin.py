"""MaxRL's family (advshape._src.maclaurin): scores against the subset definitions for every N ≤ 32
and N⁺, exact expected updates by Binomial enumeration (Fractions), surrogates against quadrature,
and N = 4096 against mpmath for every N⁺."""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import mpmath
import numpy as np
import pytest

import advshape
from advshape._src.combinatorics import partial_ratio_sum
from advshape._src.maclaurin import maclaurin_surrogate, maclaurin_update_coefficient
from tests import _reference as ref
from tests._registry_helpers import check_scores

ORDERS = (1, 2, 3, 5, 8, 16, 32, 40)  # 40 > every N below: acts as T = N
MACLAURIN = ("maclaurin", "maclaurin_loo", "maclaurin_cross_fitted")
RHOS = [Fraction(1, 9), Fraction(1, 3), Fraction(1, 2), Fraction(5, 7)]


@pytest.mark.parametrize("name", MACLAURIN)
@pytest.mark.parametrize("order", ORDERS)
def test_scores_every_n_up_to_32_and_every_n_pos(name, order):
    """Against the U-statistic definitions (subset counts in Fractions), all-wrong and all-correct
    groups included."""
    for n in range(1, 33):
        check_scores(advshape.shaper(name, T=order), name, n, T=order)


@pytest.mark.parametrize("baseline", ["none", "loo", "cross_fitted"])
def test_reference_counting_forms_equal_subset_enumeration(baseline):
    """The counting forms used above against listing every k-subset (and disjoint partner)."""
    counted = {"none": ref.maclaurin, "loo": ref.maclaurin_loo}.get(
        baseline, ref.maclaurin_cross_fitted
    )
    for n in range(2, 8):
        for order in range(1, n + 2):
            for n_pos in range(n + 1):
                r = ref.rewards_vector(n_pos, n)
                for i in (0, n - 1):
                    want = ref.maclaurin_enumerated(r, i, order, baseline)
                    assert counted(r, i, order) == want, (baseline, n, order, n_pos, i)


def _truncated_likelihood_slope(rho: Fraction, order: int) -> Fraction:
    """d/dρ Σ_{k≤T} Pass@k/k = Σ_{k≤T} (1 − ρ)^{k−1}."""
    return sum((1 - rho) ** (k - 1) for k in range(1, order + 1))


@pytest.mark.parametrize("name", ["maclaurin", "maclaurin_cross_fitted"])
def test_expected_update_is_the_truncated_likelihood_gradient_exactly(name):
    """E[update] = ∇Σ_{k≤min(T,N)} Pass@k/k at every N, exactly (Fractions); T > N acts as T = N.
    And the library's float c_N and F_N agree with the exact ones."""
    definition = ref.MACLAURIN[name]
    for n in range(1, 11):
        for order in range(1, n + 3):
            for rho in RHOS:
                got = ref.exact_c_n(lambda r, i, t=order: definition(r, i, t), n, rho)
                assert got == _truncated_likelihood_slope(rho, min(order, n)), (name, n, order)
            shaper = advshape.shaper(name, T=order)
            floats = np.array([float(r) for r in RHOS])
            np.testing.assert_allclose(
                advshape.expected_update_coefficient(shaper, n, floats),
                maclaurin_update_coefficient(floats, n, order),
                rtol=1e-13,
            )
            np.testing.assert_allclose(
                advshape.finite_n_surrogate(shaper, n, floats),
                maclaurin_surrogate(floats, min(order, n)),
                rtol=1e-13,
            )


def test_leave_one_out_baseline_is_biased_at_finite_n():
    """The authors' LOO subset baseline shares responses with the subset it centres, so the
    expected update is not ∇F_T (exact, N = 3, T = 2, ρ = 1/3: 16/9 − 1/3 against 16/9); the
    bias vanishes as N grows (the population surrogate is still F_T)."""
    rho = Fraction(1, 3)
    loo = ref.exact_c_n(lambda r, i: ref.maclaurin_loo(r, i, 2), 3, rho)
    assert _truncated_likelihood_slope(rho, 2) == Fraction(5, 3)
    assert loo == Fraction(4, 3)
    gaps = []
    for n in (4, 8, 16, 32):
        shaper = advshape.shaper("maclaurin_loo:T=3")
        c_n = advshape.expected_update_coefficient(shaper, n, np.array([0.3]))
        gaps.append(abs(c_n[0] - maclaurin_update_coefficient(0.3, n, 3)))
    assert all(b < a for a, b in itertools.pairwise(gaps)) and gaps[0] > 1e-3, gaps


def test_orders_beyond_n_are_order_n_and_t1_is_reinforce():
    for n in (1, 2, 7, 16):
        a = advshape.shaper("maclaurin", T=n).scores(np.arange(n + 1), n)
        b = advshape.shaper("maclaurin", T=n + 5).scores(np.arange(n + 1), n)
        np.testing.assert_array_equal(a, b)
        one = advshape.shaper("maclaurin:T=1").scores(np.arange(n + 1), n)
        np.testing.assert_array_equal(one, advshape.shaper("reinforce").scores(np.arange(n + 1), n))


# --- N = 4096: mpmath, every N⁺ ------------------------------------------------------------


def _mp_signal(n: int, n_neg: int, order: int) -> mpmath.mpf:
    """Σ_{k=2}^{min(T,N⁻)} C(N⁻−1, k−1)/C(N−1, k−1) in 30-digit arithmetic, each ratio as a
    running product of (N⁻ − j)/(N − j): the definition, summed term by term."""
    total, term = mpmath.mpf(0), mpmath.mpf(1)
    for k in range(2, min(order, n_neg) + 1):
        term *= mpmath.mpf(n_neg - k + 1) / (n - k + 1)
        total += term
    return total


@pytest.mark.parametrize("order", [2, 8, 64, 1000, 4096])
def test_order_t_at_n_4096_agrees_with_mpmath_to_1e_13_for_every_n_pos(order):
    """The terms span hundreds of orders of magnitude (C(4095, k) ratios); the library's closed
    form must hold 1e-9 relative in float64 (item 5 of issue 17); it holds 1e-13. Every N⁺ for
    T ≤ 64; every 31st N⁺ and both ends for the long sums (T = 1000, 4096: ~N terms each)."""
    n = 4096
    _, a_neg = advshape.shaper("maclaurin", T=order).scores(np.arange(n + 1), n)
    n_pos = range(n + 1) if order <= 64 else sorted({*range(0, n + 1, 31), 1, 2, n - 2, n - 1})
    worst = 0.0
    with mpmath.workdps(30):
        for m in n_pos:
            want = -_mp_signal(n, n - m, order)
            if want == 0:
                assert a_neg[m] == 0.0, m
                continue
            worst = max(worst, float(abs((mpmath.mpf(a_neg[m]) - want) / want)))
    assert worst < 1e-13, worst


def test_partial_ratio_sum_against_fractions():
    for n in range(0, 26):
        m = np.arange(n + 1)
        for j_max in range(0, n + 3):
            want = [
                sum((Fraction(comb(mm, j), comb(n, j)) for j in range(1, min(j_max, n) + 1)), 0)
                for mm in m
            ]
            np.testing.assert_allclose(
                partial_ratio_sum(m, n, j_max), [float(w) for w in want], rtol=1e-14, atol=0
            )
    with pytest.raises(ValueError, match="0 <= m <= n"):
        partial_ratio_sum([5], 4, 2)


# --- pass-rate normalisations of the authors' core_algos.py --------------------------------


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("p_normalization", {}),
        ("p_normalization", {"eps": 0.0}),
        ("p_normalization", {"eps": 0.25}),
        ("clipped_pnorm", {}),
        ("clipped_pnorm", {"floor": 0.5}),
        ("clipped_pnorm", {"floor": 0.0}),
        ("one_sided_grpo", {}),
        ("one_sided_grpo", {"eps": 0.0}),
    ],
)
def test_pass_rate_normalisations_every_n(name, params):
    shaper = advshape.shaper(name, **params)
    for n in range(1, 33):
        check_scores(shaper, name, n, **shaper.params)


def test_p_normalization_with_eps_0_is_maxrl_and_clip_0_too():
    m = np.arange(17)
    maxrl = advshape.shaper("maxrl").scores(m, 16)
    for spec in ("p_normalization:eps=0", "clipped_pnorm:floor=0"):
        np.testing.assert_array_equal(advshape.shaper(spec).scores(m, 16), maxrl)


@pytest.mark.parametrize(
    ("spec", "slope"),
    [
        ("maclaurin:T=1", lambda t: 1),
        ("maclaurin:T=7", lambda t: sum((1 - t) ** (k - 1) for k in range(1, 8))),
        ("p_normalization:eps=0.01", lambda t: 1 / (t + mpmath.mpf("0.01"))),
        ("clipped_pnorm", lambda t: 1 / max(t, mpmath.mpf("0.125"))),
        ("one_sided_grpo:eps=0.001", lambda t: 1 / (mpmath.sqrt(t) + mpmath.mpf("0.001"))),
        ("one_sided_grpo:eps=0", lambda t: 1 / mpmath.sqrt(t)),
    ],
)
def test_closed_form_surrogates_against_quadrature(spec, slope):
    """F(ρ) − F(0) = ∫₀^ρ F' (mpmath quadrature, split at the clip's kink)."""
    f = advshape.shaper(spec).surrogate
    for point in ("1e-9", "0.05", "0.125", "0.3", "0.999", "1"):
        with mpmath.workdps(40):  # other test modules set the global precision lower
            end = mpmath.mpf(point)
            exact = mpmath.quad(slope, [0, min(end, mpmath.mpf("0.125")), end])
        assert f(float(point)) - f(0.0) == pytest.approx(float(exact), rel=1e-12, abs=1e-15)


def test_log_surrogates_are_anchored_at_one():
    for spec in ("p_normalization:eps=0", "clipped_pnorm:floor=0"):
        f = advshape.shaper(spec).surrogate
        assert f(1.0) == 0.0 and f(0.0) == -np.inf
        assert f(0.25) == pytest.approx(np.log(0.25), rel=1e-15)


def test_maclaurin_surrogate_is_exact_at_the_ends_and_for_large_t():
    assert maclaurin_surrogate(0.0, 50) == 0.0
    assert maclaurin_surrogate(1.0, 4) == pytest.approx(1 + 1 / 2 + 1 / 3 + 1 / 4, rel=1e-15)
    # T → ∞: Σ_k Pass@k/k − H_T → log ρ
    t = 20000
    harmonic = float(mpmath.harmonic(t))
    assert maclaurin_surrogate(0.2, t) - harmonic == pytest.approx(np.log(0.2), abs=1e-12)


def test_order_follows_a_schedule():
    """maclaurin:T=linear(64,1): T is an integer order, so the schedule rounds like K's does."""
    s = advshape.scheduled("maclaurin:T=linear(64,1)")
    orders = [s.at(step, 100).params["T"] for step in (1, 50, 100)]
    assert orders[0] == 64 and orders[-1] == 1 and 1 < orders[1] < 64
