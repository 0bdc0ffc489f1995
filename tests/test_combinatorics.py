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
            [[float(ref.pass_estimate(ci, n, ki)) for ki in range(1, n + 1)] for ci in range(n + 1)]
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
                want = ref.pass_estimate(c, n, k)
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
                one_minus = 1 - ref.pass_estimate(c, n, k)
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
    assert got[1, 2] == pytest.approx(float(ref.pass_estimate(2, 16, 4)))
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


# --- Beyond the tables (n > 2²⁰): every value exact, in work independent of n ----------------

# Relative accuracy of the direct path: about an ulp where NumPy's long double is wider than
# float64 (x86 Linux), a few hundred ulps of the log otherwise (exp of a log near −700).
EXACT_RTOL = 4e-16 if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps else 2e-13


def _mp_fail(n: int, c: int, k: int):
    """C(n − c, k)/C(n, k) to 80 digits, through log-gammas (an independent route)."""
    mp = ref.mpmath
    if n - c < k:
        return mp.mpf(0)
    if c == 0:
        return mp.mpf(1)
    with mp.workdps(80):
        log = (
            mp.loggamma(n - c + 1)
            + mp.loggamma(n - k + 1)
            - mp.loggamma(n + 1)
            - mp.loggamma(n - c - k + 1)
        )
        return mp.exp(log)


def _huge_cases():
    rng = np.random.default_rng(20)
    for n in (2**20 + 1, 2**21 + 3, 10**9 + 7, 2**40, 2**53):
        edge = [
            (0, 1),
            (0, n),
            (1, 1),
            (1, n),
            (1, n - 1),
            (n, n),
            (n, 1),
            (n - 1, n - 1),
            (2, n - 1),
            (3, 10**6),
            (12345, 100),
            (n // 2, n // 2),
            (n - 1, 1),
        ]
        root = int(n**0.5)
        edge += [(4096, 4096), (4097, 4097), (root, root), (root // 4, 8 * root)]
        edge += [(int(c), int(k)) for c, k in rng.integers(1, n, size=(6, 2))]
        for c, k in edge:
            if 0 <= c <= n and 1 <= k <= n:
                yield n, c, k


@pytest.mark.parametrize(("n", "c", "k"), list(_huge_cases()))
def test_pass_and_fail_at_k_are_exact_beyond_the_tables(n, c, k):
    fail = _mp_fail(n, c, k)
    got_pass, got_fail = float(advshape.pass_at_k(n, c, k)), float(advshape.fail_at_k(n, c, k))
    tiny = ref.mpmath.mpf(2) ** -1022  # below this float64 is subnormal: absolute error
    assert abs(got_fail - fail) <= EXACT_RTOL * max(fail, tiny), (got_fail, float(fail))
    assert abs(got_pass - (1 - fail)) <= EXACT_RTOL * max(1 - fail, tiny), (got_pass, 1 - fail)
    assert not np.signbit(got_pass) and not np.signbit(got_fail)
    f_pos, f_neg = advshape.fail_at_k_loo(n, c, k)  # Eq. (13): C(N⁻, K−1)/C(N−1, K−1), ...
    # over N − 1 responses: at N − 1 = 2²⁰ that is the cached table, relative error ~N·ε
    rtol = EXACT_RTOL if n - 1 > 2**20 else 1e-10
    if c >= 1:
        want = _mp_fail(n - 1, c - 1, k - 1)
        assert abs(float(f_pos) - want) <= rtol * max(want, tiny)
    if c < n:
        want = _mp_fail(n - 1, c, k - 1)
        assert abs(float(f_neg) - want) <= rtol * max(want, tiny)


def test_huge_n_is_exact_at_the_edges_the_old_code_refused():
    # k = n > 2²² was refused ("out of reach"); these are exact by definition
    n = 2**30
    assert advshape.pass_at_k(n, 1, n) == 1.0 and advshape.fail_at_k(n, 0, n) == 1.0
    assert advshape.pass_at_k(n, 0, n) == 0.0 and advshape.pass_at_k(n, n, n) == 1.0
    # one correct of n, k = n − 1: Pass = (n − 1)/n exactly representable here
    assert advshape.pass_at_k(n, 1, n - 1) == (n - 1) / n
    assert advshape.fail_at_k(n, 1, n - 1) == 1 / n


def test_huge_n_work_does_not_grow_with_n(monkeypatch):
    """An operation count, not a timing: the logarithms evaluated per call stay below 2¹²⁺¹
    terms (log1p and log of each factor) for every n up to 2⁵³, and are the same at every n
    for the same (c, k); no O(n) table is built."""
    from advshape._src import combinatorics

    evaluated = []
    for name in ("log1p", "log"):
        real = getattr(np, name)

        def counting(x, *args, _real=real, **kwargs):
            evaluated.append(np.size(x))
            return _real(x, *args, **kwargs)

        monkeypatch.setattr(np, name, counting)

    def no_table(*args):
        raise AssertionError("an O(n) table was built")

    monkeypatch.setattr(combinatorics, "_log_binom_ratio_table_cached", no_table)
    per_n = {}
    for n in (2**21, 2**30, 2**40, 2**53):
        counts = []
        for c, k in ((1, n), (1, n - 1), (4096, 4096), (4097, 10**5), (n // 2, n // 2), (5, 5)):
            evaluated.clear()
            advshape.pass_at_k(n, c, k)
            advshape.fail_at_k_loo(n, c, k)
            counts.append(sum(evaluated))
        per_n[n] = counts
        assert max(counts) <= 3 * 2 * 2**12  # three ratios, at most 2¹² factors × 2 logs each
    assert len({tuple(v) for v in per_n.values()}) == 1, per_n


def test_many_values_beyond_the_tables():
    """A shaper's table at N > 2²⁰ asks for every N⁺ at once: vectorised over the factors for
    small k, an O(N) table for large k; both agree with the exact values."""
    n = 2**20 + 7
    c = np.arange(0, n + 1, 4099)
    for k in (8, 1000):
        got = advshape.fail_at_k(n, c, k)
        for i in (0, 1, 2, 50, len(c) - 1):
            want = _mp_fail(n, int(c[i]), k)
            assert abs(got[i] - want) <= 1e-9 * max(want, ref.mpmath.mpf(2) ** -1022)
