"""max@K with the leave-two-out baseline (advshape._src.maxpo): against the pairwise definition
(subset enumeration, Fractions) on binary and continuous rewards, exactly centred in every group
(dense, ragged, NumPy and torch), and unbiased for ∇max@K by exact enumeration of a categorical
policy's outcomes."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

import advshape
from tests import _reference as ref
from tests._registry_helpers import check_scores


def test_binary_scores_against_the_leave_two_out_definition_every_n_and_k():
    for n in range(2, 11):
        for k in range(1, n):
            check_scores(advshape.shaper("maxpo", k=k), "maxpo", n, k=k)


def test_binary_groups_are_centred_and_equal_pkpo_loo_unscaled():
    for n in (2, 5, 16, 257):
        m = np.arange(n + 1)
        for k in sorted({1, min(2, n - 1), n - 1}):
            a_pos, a_neg = advshape.shaper("maxpo", k=k).scores(m, n)
            np.testing.assert_allclose(m * a_pos + (n - m) * a_neg, 0, atol=1e-12)
            np.testing.assert_array_equal(
                (a_pos, a_neg), advshape.shaper(f"pkpo:k={k},baseline=loo_unscaled").scores(m, n)
            )


def test_continuous_rewards_against_the_pairwise_definition():
    rng = np.random.default_rng(3)
    for n in range(2, 7):
        for k in range(1, n):
            shaper = advshape.shaper("maxpo", k=k)
            for _ in range(3):
                values = [Fraction(int(v), 8) for v in rng.integers(-8, 9, size=n)]  # ties too
                got = shaper.advantages(np.array([[float(v) for v in values]]))[0]
                want = [float(ref.maxpo_leave_two_out(values, i, k)) for i in range(n)]
                np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_exactly_centred_for_real_rewards_dense_and_ragged():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    rewards = rng.normal(size=(200, 12))
    adv = advshape.shaper("maxpo:k=4").advantages(rewards)
    assert np.max(np.abs(adv.sum(axis=-1))) < 1e-13
    # PKPO's own leave-one-out (k − 1) baseline is not centred: the motivation of L2O
    pkpo = advshape.shaper("pkpo:k=4").advantages(rewards)
    assert np.max(np.abs(pkpo.sum(axis=-1))) > 0.1
    sizes = rng.integers(5, 20, size=40)
    groups = np.repeat(np.arange(40), sizes)
    flat = torch.tensor(rng.normal(size=groups.size))
    ragged = advshape.shaper("maxpo:k=4").advantages(flat, groups=groups)
    sums = np.bincount(groups, weights=ragged.numpy())
    assert np.max(np.abs(sums)) < 1e-12


def _max_at_k_gradient(values, probs, k: int, up: int, down: int) -> Fraction:
    """(∂_up − ∂_down) of E[max of K draws] for a categorical policy over sorted ``values``,
    E = Σ_v v·[P(Y ≤ v)^K − P(Y < v)^K], differentiated in the probabilities."""
    total = Fraction(0)
    below = Fraction(0)
    for a, v in enumerate(values):
        at_most = below + probs[a]

        def d(cdf_has_up: bool, cdf_has_down: bool, cdf: Fraction) -> Fraction:
            return k * cdf ** (k - 1) * (int(cdf_has_up) - int(cdf_has_down))

        total += v * (d(up <= a, down <= a, at_most) - d(up < a, down < a, below))
        below = at_most
    return total


@pytest.mark.parametrize("k", [1, 2, 3])
def test_expected_update_is_the_max_at_k_gradient_exactly(k):
    """E[(1/N)·Σ_i A_i·(∂_up − ∂_down) log p(y_i)] = (1/K)·(∂_up − ∂_down) max@K, by enumerating
    all 3⁴ outcomes of N = 4 draws from a 3-valued categorical policy (Fractions)."""
    n = 4
    values = [Fraction(0), Fraction(1, 2), Fraction(3, 2)]
    probs = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    shaper = advshape.shaper("maxpo", k=k)
    for up, down in ((2, 0), (1, 0), (2, 1)):
        expected = Fraction(0)
        for draw in itertools.product(range(3), repeat=n):
            x = [values[a] for a in draw]
            weight = np.prod([probs[a] for a in draw])
            adv = [ref.maxpo_leave_two_out(x, i, k) for i in range(n)]
            score = [
                Fraction(int(a == up), 1) / probs[up] - Fraction(int(a == down)) / probs[down]
                for a in draw
            ]
            expected += weight * sum(a * s for a, s in zip(adv, score)) / n
            # the library agrees with the definition on this draw
            got = shaper.advantages(np.array([[float(v) for v in x]]))[0]
            np.testing.assert_allclose(got, [float(a) for a in adv], rtol=1e-13, atol=1e-15)
        assert expected == _max_at_k_gradient(values, probs, k, up, down) / k, (k, up, down)


def test_needs_more_responses_than_k():
    with pytest.raises(ValueError, match="at least 5 responses"):
        advshape.shaper("maxpo:k=4").advantages(np.zeros((2, 4)))
