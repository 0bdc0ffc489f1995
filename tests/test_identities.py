"""The paper's identities and exact finite-N unbiasedness (Lemma 2 reduces to a sum over N⁺)."""

from fractions import Fraction
from math import comb

import numpy as np
import pytest

import advshape
from advshape._src.maclaurin import maclaurin_update_coefficient
from tests import _reference as ref
from tests._registry_helpers import example_shaper

K1_REDUCTIONS = {  # shaper at K = 1  ->  the 0/1 shaper it must equal (paper Sec. 3, 4, 6)
    "reinforce_k": "reinforce",
    "rloo_k": "rloo",
    "grpo_k": "grpo",
    "grpo_k_chen": "grpo",
    "mix_chen": "grpo",
    "mix_direct": "grpo",
    "biased_k": "grpo",
    "pkpo": "reinforce",  # loo−1 at k = 1 has an empty baseline: s_i = r_i
}


@pytest.mark.parametrize(("k_name", "plain"), sorted(K1_REDUCTIONS.items()))
def test_k_equals_1_reduces_to_the_0_1_shaper(k_name, plain):
    for n in range(2, 33):
        got = advshape.shaper(k_name, k=1).scores(np.arange(n + 1), n)
        want = advshape.shaper(plain).scores(np.arange(n + 1), n)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_chen_is_omega_times_grpo_eq_19():
    for n in range(2, 33):
        for k in range(1, n + 1):
            m = np.arange(1, n)
            rho = m / n
            fail = advshape.fail_at_k(n, m, k)
            omega = np.sqrt(fail / (1 - fail)) * np.sqrt(rho / (1 - rho))
            chen = advshape.shaper("grpo_k_chen", k=k).scores(m, n)
            grpo = advshape.shaper("grpo").scores(m, n)
            np.testing.assert_allclose(chen[0], omega * grpo[0], rtol=1e-9, atol=1e-14)
            np.testing.assert_allclose(chen[1], omega * grpo[1], rtol=1e-9, atol=1e-14)


def test_effective_weights_eq_7_and_eq_9():
    for n in range(2, 33):
        m = np.arange(n + 1)
        rho = m / n
        w_pos, w_neg = advshape.shaper("rloo").weights(m, n)  # Eq. (7): N/(N−1)·ρ̂(1−ρ̂) both
        np.testing.assert_allclose(w_pos, n / (n - 1) * rho * (1 - rho), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(w_neg, n / (n - 1) * rho * (1 - rho), rtol=1e-14, atol=1e-15)
        w_pos, w_neg = advshape.shaper("grpo").weights(m, n)  # Eq. (9): √(ρ̂(1−ρ̂)) both
        np.testing.assert_allclose(w_pos, np.sqrt(rho * (1 - rho)), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(w_neg, np.sqrt(rho * (1 - rho)), rtol=1e-14, atol=1e-15)
        # GRPO_K (Eq. 16): f̂±·√(ρ̂(1−ρ̂)); the two weights differ (asymmetric)
        f_pos, f_neg = advshape.fail_at_k_loo(n, m, min(2, n))
        w_pos, w_neg = advshape.shaper("grpo_k", k=min(2, n)).weights(m, n)
        inner = slice(1, n)
        np.testing.assert_allclose(
            w_pos[inner], (f_pos * np.sqrt(rho * (1 - rho)))[inner], rtol=1e-13
        )
        np.testing.assert_allclose(
            w_neg[inner], (f_neg * np.sqrt(rho * (1 - rho)))[inner], rtol=1e-13
        )


def test_pkpo_k_equals_n_loo_minus_one_rewards_only_the_best():
    """Tang et al. 2025 / verl's grpo_passk (without its std division): r_max − r_second."""
    rng = np.random.default_rng(1)
    for n in range(2, 12):
        x = rng.normal(size=(50, n))
        adv = advshape.shaper("pkpo", k=n).advantages(x)
        top2 = np.sort(x, axis=-1)[:, -2:]
        best = np.argmax(x, axis=-1)
        want = np.zeros_like(x)
        want[np.arange(50), best] = top2[:, 1] - top2[:, 0]
        np.testing.assert_allclose(adv, want, rtol=1e-12, atol=1e-12)


# --- Exact unbiasedness at finite N ------------------------------------------------------


def _exact_scores(name, n, n_pos, k, baseline=None):
    """Fraction scores from the reference definitions (rational for these shapers)."""
    r = ref.rewards_vector(n_pos, n)

    def one(i):
        if name == "reinforce_k":
            return ref.loo_fail(r, i, k) * r[i]
        if name == "rloo_k":
            return ref.loo_fail(r, i, k) * ref.rloo(r, i)
        if name == "pkpo":
            return ref.pkpo_enumerated([Fraction(v) for v in r], i, k, baseline)
        raise KeyError(name)

    a_pos = one(0) if n_pos >= 1 else Fraction(0)
    a_neg = one(n - 1) if n_pos < n else Fraction(0)
    return a_pos, a_neg


def _exact_c_n(name, n, k, rho: Fraction, baseline=None) -> Fraction:
    """c_N(ρ) = (1/N) Σ_m Bin(m; N, ρ)·[A⁺(m)·m/ρ − A⁻(m)·(N−m)/(1−ρ)] (Lemma 2), exactly."""
    total = Fraction(0)
    for m in range(n + 1):
        a_pos, a_neg = _exact_scores(name, n, m, k, baseline)
        pmf = comb(n, m) * rho**m * (1 - rho) ** (n - m)
        total += pmf * (a_pos * m / rho - a_neg * (n - m) / (1 - rho))
    return total / n


@pytest.mark.parametrize(
    ("name", "baseline"),
    [
        ("reinforce_k", None),
        ("rloo_k", None),
        ("pkpo", "none"),
        ("pkpo", "loo"),
        ("pkpo", "loo_minus_one"),
    ],
)
def test_unbiased_shapers_ascend_pass_at_k_exactly_at_finite_n(name, baseline):
    """E[update] = const·(1 − ρ)^{K−1}·∇ρ = const/K·∇ρ_K for every ρ, exactly (Fractions)."""
    rhos = [Fraction(1, 7), Fraction(1, 3), Fraction(1, 2), Fraction(4, 5)]
    for n in range(2, 9):
        for k in range(1, n + 1):
            if baseline == "loo" and k > n - 1:
                continue
            ratios = {_exact_c_n(name, n, k, rho, baseline) / (1 - rho) ** (k - 1) for rho in rhos}
            assert len(ratios) == 1, (name, baseline, n, k, ratios)
            (ratio,) = ratios
            assert ratio > 0
            # and the library's float c_N agrees with the exact sum
            params = {"k": k} | ({"baseline": baseline} if baseline else {})
            got = advshape.expected_update_coefficient(
                advshape.shaper(name, **params), n, [float(r) for r in rhos]
            )
            want = [float(ratio * (1 - r) ** (k - 1)) for r in rhos]
            np.testing.assert_allclose(got, want, rtol=1e-12)


# Unbiased shapers whose target is not ρ_K: their exact c_N(ρ) at group size N (T = 3 here).
OTHER_TARGETS = {
    "maclaurin": lambda rho, n: maclaurin_update_coefficient(rho, n, 3),
    "maclaurin_cross_fitted": lambda rho, n: maclaurin_update_coefficient(rho, n, 3),
    "linear_r": lambda rho, n: maclaurin_update_coefficient(rho, n, n),  # Σ_{k≤N} Pass@k/k
}


@pytest.mark.parametrize("name", advshape.names())
def test_registry_unbiased_flag_matches_exact_expectation(name):
    """A shaper flagged unbiased has c_N(ρ) ∝ (1 − ρ)^{K−1} at finite N (or ∝ the c_N of its own
    stated target, OTHER_TARGETS); the others do not."""
    shaper = example_shaper(name, k=3)
    k = shaper.info.target_k
    rho = np.linspace(0.05, 0.95, 19)
    c_n = advshape.expected_update_coefficient(shaper, 8, rho)
    target = OTHER_TARGETS.get(name, lambda rho, n: (1 - rho) ** (k - 1))
    ratio = c_n / target(rho, 8)
    is_constant = np.allclose(ratio, ratio[0], rtol=1e-10)
    assert is_constant == shaper.info.unbiased, (name, ratio)


def test_expected_update_coefficient_matches_the_m_over_rho_form():
    """The library's j-form of c_N against the paper-form sum, for a biased shaper (mpmath)."""
    shaper = advshape.shaper("grpo_k", k=3)
    n = 12
    a_pos, a_neg = shaper.scores(np.arange(n + 1), n)
    for rho in (0.03, 0.2, 0.5, 0.77, 0.99):
        r = ref.mpmath.mpf(rho)
        want = (
            sum(
                ref.mpmath.binomial(n, m)
                * r**m
                * (1 - r) ** (n - m)
                * (a_pos[m] * m / r - a_neg[m] * (n - m) / (1 - r))
                for m in range(n + 1)
            )
            / n
        )
        assert advshape.expected_update_coefficient(shaper, n, rho) == pytest.approx(
            float(want), rel=1e-12
        )


def test_finite_n_surrogate_is_the_integral_of_c_n():
    shaper = advshape.shaper("grpo")
    n = 16
    rho = np.linspace(0, 1, 2001)
    c = advshape.expected_update_coefficient(shaper, n, rho)
    trapezoid = np.concatenate([[0], np.cumsum((c[1:] + c[:-1]) / 2 * np.diff(rho))])
    np.testing.assert_allclose(advshape.finite_n_surrogate(shaper, n, rho), trapezoid, atol=1e-6)
    assert advshape.finite_n_surrogate(shaper, n, 0.0) == 0.0
