"""Every registry shaper's scores against the exact reference, for every N ≤ 32, K and N⁺."""

import numpy as np
import pytest

import advshape
from tests._registry_helpers import check_scores as _check
from tests._registry_helpers import example_shaper
from tests._registry_helpers import reference_scores as _reference_scores

K_SHAPERS = ["reinforce_k", "rloo_k", "grpo_k", "grpo_k_chen", "mix_chen", "mix_direct", "biased_k"]
PLAIN = {"reinforce": {}, "rloo": {}, "grpo": {}, "dr_grpo": {}, "skew_r": {}}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_shapers_every_n(name):
    for n in range(2, 33):
        _check(advshape.shaper(name), name, n)


@pytest.mark.parametrize("name", K_SHAPERS)
def test_k_shapers_every_n_k_npos(name):
    for n in range(1, 33):
        for k in range(1, n + 1):
            _check(advshape.shaper(name, k=k), name, n, k=k)


def test_biased_k_beyond_n():
    for n in (2, 4, 8):
        for k in (n + 1, 2 * n, 64):
            _check(advshape.shaper("biased_k", k=k), "biased_k", n, k=k)


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.5, 4.0])
def test_entropy(lam):
    for n in range(1, 33):
        _check(advshape.shaper("entropy", lam=lam), "entropy", n, lam=lam)


def test_grpo_sample_std_and_eps():
    for n in range(2, 33):
        _check(advshape.shaper("grpo:std=sample"), "grpo", n, std="sample")
    # ε is added to the population std: check against the formula directly at N = 8.
    a_pos, a_neg = advshape.shaper("grpo:eps=0.1").scores(np.arange(9), 8)
    rho = np.arange(9) / 8
    sigma = np.sqrt(rho * (1 - rho))
    inner = slice(1, 8)
    np.testing.assert_allclose(a_pos[inner], ((1 - rho) / (sigma + 0.1))[inner], rtol=1e-14)
    np.testing.assert_allclose(a_neg[inner], (-rho / (sigma + 0.1))[inner], rtol=1e-14)
    assert a_pos[0] == a_pos[8] == a_neg[0] == a_neg[8] == 0


@pytest.mark.parametrize("baseline", ["none", "loo", "loo_minus_one"])
def test_pkpo_binary_scores_against_subset_enumeration(baseline):
    for n in range(1, 11):
        for k in range(1, n + 1):
            if baseline == "loo" and k > n - 1:
                continue
            _check(
                advshape.shaper("pkpo", k=k, baseline=baseline), "pkpo", n, k=k, baseline=baseline
            )


def test_large_n_spot_checks():
    rng = np.random.default_rng(0)
    for n in (64, 257, 1024, 4096):
        for name in K_SHAPERS:
            k = int(rng.integers(2, 9))
            shaper = advshape.shaper(name, k=k)
            n_pos = np.unique(np.concatenate([[1, n - k, n - 1], rng.integers(1, n, 3)]))
            a_pos, a_neg = shaper.scores(n_pos, n)
            for j, m in enumerate(n_pos):
                want_pos, want_neg = _reference_scores(name, n, int(m), k=k)
                assert a_pos[j] == pytest.approx(want_pos, rel=1e-10, abs=1e-14), (name, n, m)
                assert a_neg[j] == pytest.approx(want_neg, rel=1e-10, abs=1e-14), (name, n, m)


@pytest.mark.parametrize("name", advshape.names())
def test_constant_groups_give_zero_for_mean_centred_shapers(name):
    shaper = example_shaper(name, k=4)
    a_pos, a_neg = shaper.scores([0, 16], 16)
    if name in ("reinforce", "reinforce_k"):
        # not mean-centred: REINFORCE(_K) rewards an all-correct group (A⁺ = 1, resp. f̂⁺ = 0 for K ≥ 2)
        assert a_pos[1] == (1.0 if name == "reinforce" else 0.0)
        return
    if name == "pkpo":  # loo−1 on binary = REINFORCE_K: all-correct gives f̂⁺ = 0 for K ≥ 2
        assert a_pos[1] == 0 and a_neg[0] == 0
        return
    if name in ("maclaurin", "maclaurin_loo", "maclaurin_cross_fitted"):
        # A⁺ = 1 (the k = 1 REINFORCE term) also when all are correct; an all-wrong group keeps
        # the Fail@k terms k = 2..T (here T = 4): −3, cancelled by the cross-fitted baseline
        # (2T ≤ N) and by the leave-one-out one (which drops every order for an all-wrong group)
        want = {"maclaurin": -3.0, "maclaurin_loo": 0.0, "maclaurin_cross_fitted": 0.0}[name]
        assert (a_pos[1], a_neg[0]) == (1.0, want)
        return
    if name in ("linear_r", "sqrt_r"):  # Heckel et al.: −ρ̂·ω(ρ̂) → −1 on an all-wrong group
        assert (a_pos[1], a_neg[0]) == (0.0, -1.0)
        return
    if name in ("w_reinforce", "nsr", "psr"):
        # not mean-centred either (Zhu et al.): the ±1 reward's halves act on constant groups
        lam = shaper.params.get("lam", 0.1)
        want = {"w_reinforce": (lam, -1.0), "nsr": (0.0, -1.0), "psr": (1.0, 0.0)}[name]
        assert (a_pos[1], a_neg[0]) == want
        return
    assert a_neg[0] == 0 and a_pos[1] == 0
