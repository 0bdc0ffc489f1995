"""Pass@K estimator and Fail@(K−1) weights against exact Fractions and subset enumeration."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import advshape
from tests import _reference as ref


def test_pass_at_k_every_n_c_k_up_to_32():
    for n in range(1, 33):
        c, k = np.meshgrid(np.arange(n + 1), np.arange(1, n + 1), indexing="ij")
        got = advshape.pass_at_k(n, c, k)
        want = np.array(
            [[float(ref.pass_at_k(n, ci, ki)) for ki in range(1, n + 1)] for ci in range(n + 1)]
        )
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_pass_at_k_is_the_subset_fraction():
    for n in range(1, 9):
        for c in range(n + 1):
            r = ref.rewards_vector(c, n)
            for k in range(1, n + 1):
                assert advshape.pass_at_k(n, c, k) == pytest.approx(
                    float(ref.pass_at_k_enumerated(r, k)), abs=1e-15
                )


@pytest.mark.parametrize("n", [100, 1000, 4096, 65_536, 1_000_000])
def test_pass_at_k_large_n_spot_checks(n):
    rng = np.random.default_rng(n)
    ks = np.unique(np.concatenate([[1, 2, n // 2, n], rng.integers(1, n + 1, 4)]))
    for k in ks:
        for c in np.unique(
            np.concatenate([[0, 1, n - int(k), n - int(k) + 1, n], rng.integers(0, n + 1, 3)])
        ):
            if not 0 <= c <= n:
                continue
            c, k = int(c), int(k)
            if n <= 4096:
                want = ref.pass_at_k(n, c, k)
            else:  # 1 − C(n−c, k)/C(n, k) with 50-digit binomials
                want = (
                    1 - ref.mpmath.binomial(n - c, k) / ref.mpmath.binomial(n, k)
                    if n - c >= k
                    else 1
                )
            got = float(advshape.pass_at_k(n, c, k))
            assert math.isfinite(got)
            assert got == pytest.approx(float(want), rel=1e-9, abs=1e-300)


def test_fail_weights_are_loo_pass_at_k_minus_1_and_lemma_1():
    for n in range(1, 33):
        for c in range(n + 1):
            r = ref.rewards_vector(c, n)
            for k in range(1, n + 1):
                f_pos, f_neg = advshape.fail_at_k_loo(n, c, k)
                if c >= 1:
                    assert f_pos == pytest.approx(
                        float(ref.loo_fail(r, 0, k)), rel=1e-13, abs=1e-15
                    )
                if c < n:
                    assert f_neg == pytest.approx(
                        float(ref.loo_fail(r, n - 1, k)), rel=1e-13, abs=1e-15
                    )
                # Lemma 1: 1 − ρ̂_K = (1 − ρ̂)·f̂⁻ = (1 − ρ̂ − (K−1)/N)·f̂⁺
                one_minus = 1 - ref.pass_at_k(n, c, k)
                rho = Fraction(c, n)
                assert float((1 - rho) * Fraction(float(f_neg))) == pytest.approx(
                    float(one_minus), abs=1e-13
                )
                assert float(
                    (1 - rho - Fraction(k - 1, n)) * Fraction(float(f_pos))
                ) == pytest.approx(float(one_minus), abs=1e-13)


def test_unused_weights_follow_the_binomial_conventions():
    f_pos, f_neg = advshape.fail_at_k_loo(10, 0, 4)  # no correct response: C(10,3)/C(9,3)
    assert f_pos == pytest.approx(10 / 7)
    f_pos, f_neg = advshape.fail_at_k_loo(10, 10, 4)  # no wrong response
    assert f_neg == 0.0 and f_pos == 0.0
    assert advshape.fail_at_k_loo(10, 10, 1)[1] == 1.0


def test_broadcasting_and_dtype():
    got = advshape.pass_at_k(np.array([[8], [16]]), np.array([0, 1, 2]), 4)
    assert got.shape == (2, 3) and got.dtype == np.float64
    assert got[1, 2] == pytest.approx(float(ref.pass_at_k(16, 2, 4)))
    assert advshape.pass_at_k(np.array([], dtype=int), 0, 1).shape == (0,)


def test_binom_ratio_table_matches_comb():
    for top, d in itertools.product(range(0, 40, 3), range(0, 40, 4)):
        if d > top:
            continue
        table = advshape.binom_ratio_table(top, d)
        want = [math.comb(m, d) / math.comb(top, d) for m in range(top + 1)]
        np.testing.assert_allclose(table, want, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((4, 1, 5), "k=5 > n=4: no unbiased estimator.*biased_k"),
        ((4, 5, 2), "cannot exceed n"),
        ((4, -1, 2), "non-negative"),
        ((4, 1, 0), "k must be >= 1"),
        ((4, 1.5, 2), "whole numbers"),
        ((4, np.nan, 2), "finite"),
        ((4, True, 2), "booleans"),
        ((4, "a", 2), "integer counts"),
    ],
)
def test_bad_counts_raise_clear_errors(args, match):
    with pytest.raises(ValueError, match=match):
        advshape.pass_at_k(*args)
    with pytest.raises(ValueError, match=match):
        advshape.fail_at_k_loo(*args)
