"""MaxRL's family (Tajwar, Zeng et al. 2026, arXiv 2602.02710): the order-T Maclaurin shapers,
their baselines, and the pass-rate normalisations of the authors' code.

MaxRL writes maximum likelihood of success as log ρ = −Σ_{k≥1} fail@k/k, fail@k = (1 − ρ)^k, and
truncates it at order T:

    F_T(ρ) = Σ_{k=1}^{T} Pass@k/k,      F_T'(ρ) = Σ_{k=1}^{T} (1 − ρ)^{k−1}

(T = 1: REINFORCE's ρ; T → ∞: log ρ up to a constant). Its authors' verl code
(``verl/trainer/ppo/maclaurin.py``, functions ``maclaurin_weights``, ``maclaurin_weights_loo``,
``maclaurin_weights_cross_fitted``) gives each response a weight w with update Σ_i w_i·∇log π(y_i).
advshape's advantages multiply the mean (1/N)·Σ_i A_i·∇log π(y_i), so A = N·w; with N⁺ correct and
N⁻ = N − N⁺ wrong responses:

- ``maclaurin``: A⁺ = 1, A⁻ = −Σ_{k=2}^{min(T, N⁻)} C(N⁻−1, k−1)/C(N−1, k−1). The k = 1 term is
  REINFORCE on the successes; term k ≥ 2 is −(1/k)·∇fail@k, estimated from the all-wrong k-subsets
  that contain the response (an unbiased U-statistic). So E[update] = ∇F_{min(T,N)} exactly.
- ``maclaurin_cross_fitted``: each k-subset's signal gets the baseline "fraction of all-wrong
  k-subsets among the responses outside it" (disjoint, hence independent: unbiased), for the
  orders with 2k ≤ N; orders with 2k > N keep no baseline (the authors' fallback).
- ``maclaurin_loo``: each k-subset's baseline is the all-wrong fraction of the *other* k-subsets
  (k ≤ N − 1). Those overlap the subset, so this baseline is **not** independent of it: the
  estimator is biased at finite N (exact enumeration in tests/test_maclaurin.py), though its
  N → ∞ surrogate is still F_T.
- ``p_normalization`` (r − ρ̂)/(ρ̂ + ε), ``clipped_pnorm`` (r − ρ̂)/max(ρ̂, c) and
  ``one_sided_grpo`` (r − ρ̂)/(√ρ̂ + ε): the authors' ``core_algos.py`` estimators of those names.

Every table is O(N) per group size, with no loop over k: the truncated sums of binomial ratios are
evaluated in closed form by :func:`~advshape._src.combinatorics.partial_ratio_sum`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src.closed_forms import as_rho
from advshape._src.combinatorics import partial_ratio_sum
from advshape._src.scores import Scores

__all__ = [
    "clipped_pnorm",
    "clipped_pnorm_surrogate",
    "maclaurin",
    "maclaurin_cross_fitted",
    "maclaurin_loo",
    "maclaurin_surrogate",
    "maclaurin_update_coefficient",
    "one_sided_grpo",
    "one_sided_grpo_surrogate",
    "p_normalization",
    "p_normalization_surrogate",
]

Array = NDArray[np.float64]


def _by_group_size(
    n_pos: ArrayLike, n: ArrayLike, table: Callable[[NDArray[np.int64], int], Scores]
) -> Scores:
    """Evaluate ``table(n_pos_of_that_size, size)`` once per distinct group size (a registry
    shaper's lookup table has one size; a direct ``scores`` call may mix them)."""
    n_pos_, n_ = np.broadcast_arrays(np.asarray(n_pos, np.int64), np.asarray(n, np.int64))
    a_pos, a_neg = np.zeros(n_.shape), np.zeros(n_.shape)
    for size in np.unique(n_):
        sel = n_ == size
        a_pos[sel], a_neg[sel] = table(n_pos_[sel], int(size))
    return a_pos, a_neg


def _signal(n_neg: NDArray[np.int64], n: int, t: int) -> Array:
    """Σ_{k=2}^{min(T, N⁻)} C(N⁻−1, k−1)/C(N−1, k−1) = G(N⁻ − 1; N − 1, T − 1) (0 where N⁻ = 0)."""
    return partial_ratio_sum(np.maximum(n_neg - 1, 0), n - 1, t - 1)


def maclaurin(n_pos: ArrayLike, n: ArrayLike, T: int) -> Scores:
    """MaxRL's order-T Maclaurin estimator (``maclaurin_weights`` of the authors' code), × N:

        A⁺ = 1,   A⁻ = −Σ_{k=2}^{min(T, N⁻)} C(N⁻−1, k−1)/C(N−1, k−1)
                     = −(N⁻ − 1)/(N⁺ + 1)·[1 − C(N⁻ − 2, T − 1)/C(N − 1, T − 1)]

    Its expected update is exactly ∇Σ_{k=1}^{min(T,N)} Pass@k/k at every N: T = 1 is REINFORCE,
    T = N the whole truncated likelihood a group of N can estimate (orders T > N act as T = N).
    The closed form (second line) is O(N) per group size and accurate to ~1e-13 relative at
    N = 4096 for every N⁺ (the summands span hundreds of orders of magnitude; no sum is formed).

    Args:
        n_pos: N⁺, correct responses per group (broadcasts with ``n``).
        n: N, the group size.
        T: the truncation order T ≥ 1.

    Returns:
        (A⁺, A⁻) as float64 arrays.

    Example:
        >>> from advshape._src.maclaurin import maclaurin
        >>> a_pos, a_neg = maclaurin([0, 1, 4], 4, T=3)
        >>> a_pos.tolist(), a_neg.round(4).tolist()
        ([1.0, 1.0, 1.0], [-2.0, -1.0, 0.0])

    References:
        arXiv 2510.23049 (the seed paper, Sec. 5: surrogates of count-based shapers);
        Tajwar, Zeng et al. 2026, Maximum Likelihood Reinforcement Learning, arXiv 2602.02710
        (Maclaurin objective; ``maclaurin_weights`` in the authors' code).
    """

    def table(k: NDArray[np.int64], size: int) -> Scores:
        return np.ones(k.shape), 0.0 - _signal(size - k, size, T)  # 0.0 −: no −0.0

    return _by_group_size(n_pos, n, table)


def _log_factorials(top: int) -> Array:
    """log i! for i = 0..top (a cumulative sum of logs: ~1e-13 absolute at top = 4096)."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, top + 1, dtype=np.float64)))])


def _log_binom(n: int) -> Array:
    """log C(n, k) for k = 0..n."""
    log_fact = _log_factorials(n)
    log_c: Array = log_fact[n] - log_fact - log_fact[::-1]
    return log_c


def maclaurin_loo(n_pos: ArrayLike, n: ArrayLike, T: int) -> Scores:
    """MaxRL's Maclaurin estimator with the leave-one-out subset baseline (the authors'
    ``maclaurin_weights_loo``, verl estimator ``maclaurin_baseline``), × N. With F = N⁻,
    K = min(T, N − 1) and Q = Σ_{k=2}^{K} C(F, k)/(C(N, k) − 1):

        A⁺ = 1 + Q,   A⁻ = Q·(1 − N/F) − [T ≥ N]·[F = N]

    (the last term keeps the order-N signal of an all-wrong group, as the authors do). **Biased**
    at finite N: the baseline of a k-subset is the all-wrong fraction of the other k-subsets,
    which share responses with it (tests/test_maclaurin.py enumerates the exact expectation).

    Args:
        n_pos: N⁺ (broadcasts with ``n``).
        n: N.
        T: the truncation order T ≥ 1.

    Returns:
        (A⁺, A⁻) as float64 arrays.

    Example:
        >>> from advshape._src.maclaurin import maclaurin_loo
        >>> [v.round(4).tolist() for v in maclaurin_loo([1, 2], 4, T=3)]
        [[1.9333, 1.2], [-0.3111, -0.2]]

    References:
        arXiv 2510.23049 (the seed paper); Tajwar, Zeng et al. 2026, arXiv 2602.02710
        (``maclaurin_weights_loo`` in the authors' code).
    """

    def table(k: NDArray[np.int64], size: int) -> Scores:
        f = size - k
        top = min(T, size - 1)
        # Σ_{k=2}^{K} C(F,k)/C(N,k) = (F/N)·G(F − 1; N − 1, K − 1)
        main = np.where(
            f >= 1,
            f / size * partial_ratio_sum(np.maximum(f - 1, 0), size - 1, max(top - 1, 0)),
            0.0,
        )
        # + Σ_k [C(F,k)/C(N,k)]/(C(N,k) − 1): only the orders with C(N,k) < e⁴⁵ matter in float64
        log_c = _log_binom(size)
        orders = np.arange(2, top + 1)
        orders = orders[log_c[orders] < 45.0]
        if orders.size:
            log_f = _log_binom_rows(f, orders)  # log C(F, k), −inf where F < k
            ratio = np.exp(log_f - log_c[orders])
            main = main + ratio @ (1.0 / np.expm1(log_c[orders]))
        safe = np.where(f >= 1, f, 1)
        a_neg = main * (1.0 - size / safe) - ((T >= size >= 2) & (f == size))
        return 1.0 + main, np.where(f >= 1, a_neg, 0.0)

    return _by_group_size(n_pos, n, table)


def _log_binom_rows(f: NDArray[np.int64], orders: NDArray[np.int64]) -> Array:
    """log C(f, k) for every f (rows) and k in ``orders`` (columns); −inf where f < k."""
    log_fact = _log_factorials(int(max(f.max(initial=0), orders.max())))
    ff, kk = f[:, None], orders[None, :]
    ok = ff >= kk
    value = log_fact[ff] - log_fact[kk] - log_fact[np.where(ok, ff - kk, 0)]
    return np.where(ok, value, -np.inf)


def maclaurin_cross_fitted(n_pos: ArrayLike, n: ArrayLike, T: int) -> Scores:
    """MaxRL's Maclaurin estimator with the cross-fitted (disjoint-subset) baseline, × N (the
    authors' ``maclaurin_weights_cross_fitted``, verl estimator ``cross_fitted_maclaurin``).

    A k-subset's baseline is the all-wrong fraction of the k-subsets disjoint from it, for the
    orders with 2k ≤ N. Summed over the subsets that contain a response, that baseline is the
    unbiased Fail@k estimate of the *other* N − 1 responses, so with F = N⁻, K_b = min(T, ⌊N/2⌋):

        A⁺ = 1 + Σ_{k=2}^{K_b} C(F, k)/C(N − 1, k)
        A⁻ = −Σ_{k=2}^{min(T, F)} C(F−1, k−1)/C(N−1, k−1) + Σ_{k=2}^{K_b} C(F − 1, k)/C(N − 1, k)

    (the authors' Eqs. (84)–(85) sums over the subsets' composition collapse to these single
    ratios; the tests check both against each other in Fractions). Unbiased: E[update] =
    ∇Σ_{k=1}^{min(T,N)} Pass@k/k, as for ``maclaurin``.

    Args:
        n_pos: N⁺ (broadcasts with ``n``).
        n: N.
        T: the truncation order T ≥ 1.

    Returns:
        (A⁺, A⁻) as float64 arrays.

    Example:
        >>> from advshape._src.maclaurin import maclaurin_cross_fitted
        >>> [v.round(4).tolist() for v in maclaurin_cross_fitted([1, 3], 4, T=2)]
        [[2.0, 1.0], [-0.3333, 0.0]]

    References:
        arXiv 2510.23049 (the seed paper); Tajwar, Zeng et al. 2026, arXiv 2602.02710
        (``maclaurin_weights_cross_fitted`` in the authors' code, citing the paper's
        Eqs. (81)–(86); the equation numbers were not checked against the paper).
    """

    def table(k: NDArray[np.int64], size: int) -> Scores:
        f = size - k
        top_b = min(T, size // 2)
        a_pos = np.ones(k.shape)
        a_neg = 0.0 - _signal(f, size, T)
        if top_b >= 2:
            # Σ_{k=2}^{Kb} C(m,k)/C(n,k) = (m/n)·G(m − 1; n − 1, Kb − 1), n = N − 1
            has_pos = f <= size - 1
            m = np.where(has_pos, f, 0)
            a_pos += m / (size - 1) * partial_ratio_sum(np.maximum(m - 1, 0), size - 2, top_b - 1)
            m = np.maximum(f - 1, 0)
            a_neg += m / (size - 1) * partial_ratio_sum(np.maximum(m - 1, 0), size - 2, top_b - 1)
        return a_pos, a_neg

    return _by_group_size(n_pos, n, table)


def maclaurin_surrogate(rho: ArrayLike, T: int) -> Array:
    """F_T(ρ) = Σ_{k=1}^{T} Pass@k/k = Σ_{k=1}^{T} (1 − (1 − ρ)^k)/k, F_T(0) = 0.

    The population surrogate of the three Maclaurin shapers (their N → ∞ weights give
    F' = Σ_{k≤T} (1 − ρ)^{k−1}); ``maclaurin`` and ``maclaurin_cross_fitted`` ascend it exactly
    at every N ≥ T. Each Pass@k is −expm1(k·log1p(−ρ)), accurate for small ρ.

    Args:
        rho: success probabilities ρ in [0, 1].
        T: the truncation order.

    Returns:
        F_T(ρ), float64, the shape of ``rho``.

    Example:
        >>> from advshape._src.maclaurin import maclaurin_surrogate
        >>> float(maclaurin_surrogate(1.0, 3))  # H_3 = 1 + 1/2 + 1/3
        1.8333333333333333

    References:
        arXiv 2510.23049 (the seed paper, Lemma 2); Tajwar, Zeng et al. 2026, arXiv 2602.02710.
    """
    rho = as_rho(rho)
    flat = rho.reshape(-1)
    out = np.empty(flat.shape)
    k = np.arange(1, int(T) + 1, dtype=np.float64)
    step = max(1, 2**22 // k.size)  # ρ values per block: blocks of at most 4M terms
    with np.errstate(divide="ignore"):
        log_fail = np.log1p(-flat)  # −inf at ρ = 1: Pass@k = 1 exactly
    for start in range(0, flat.size, step):
        block = log_fail[start : start + step, None] * k
        out[start : start + step] = (-np.expm1(block) / k).sum(axis=-1)
    return out.reshape(rho.shape)


def maclaurin_update_coefficient(rho: ArrayLike, n: int, T: int) -> Array:
    """c_N(ρ) = Σ_{k=1}^{min(T, N)} (1 − ρ)^{k−1}: the exact expected update of ``maclaurin`` and
    ``maclaurin_cross_fitted`` at group size N (= dF_{min(T,N)}/dρ).

    Args:
        rho: ρ in [0, 1].
        n: the group size N.
        T: the truncation order.

    Returns:
        c_N(ρ) as float64.

    Example:
        >>> from advshape._src.maclaurin import maclaurin_update_coefficient
        >>> float(maclaurin_update_coefficient(0.5, 8, 2))
        1.5

    References:
        arXiv 2510.23049 (the seed paper, Lemma 2); Tajwar, Zeng et al. 2026, arXiv 2602.02710.
    """
    rho = as_rho(rho)
    order = min(int(T), int(n))
    # Σ_{k<order} x^k = (1 − x^order)/(1 − x), written to stay exact at x = 1 (ρ = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = -np.expm1(order * np.log1p(-rho)) / rho
    return np.where(rho > 0, ratio, float(order))


# --- pass-rate normalisations of the authors' core_algos.py ----------------------------------


def _centred_over(n_pos: ArrayLike, n: ArrayLike, scale: Callable[[Array], Array]) -> Scores:
    """A = (r − ρ̂)/d(ρ̂) with d = ``scale(ρ̂)`` ≥ 0; 0/0 := 0 (an all-wrong group with d = 0)."""
    n_pos_, n_ = np.broadcast_arrays(np.asarray(n_pos, np.float64), np.asarray(n, np.float64))
    rho = n_pos_ / n_
    d = scale(rho)
    ok = d > 0
    safe = np.where(ok, d, 1.0)
    return np.where(ok, (1.0 - rho) / safe, 0.0), np.where(ok, -rho / safe, 0.0)


def p_normalization(n_pos: ArrayLike, n: ArrayLike, eps: float = 1e-6) -> Scores:
    """MaxRL's p-normalisation (the authors' ``p_normalization`` estimator): A = (r − ρ̂)/(ρ̂ + ε).

    A⁺ = (1 − ρ̂)/(ρ̂ + ε), A⁻ = −ρ̂/(ρ̂ + ε): 0 for an all-wrong group (0/ε). With ε = 0 it is
    advshape's ``maxrl``. The authors' default ε is 1e-6.

    Args:
        n_pos: N⁺ (broadcasts with ``n``).
        n: N.
        eps: ε ≥ 0 added to ρ̂.

    Returns:
        (A⁺, A⁻) as float64 arrays.

    Example:
        >>> from advshape._src.maclaurin import p_normalization
        >>> [v.tolist() for v in p_normalization([0, 1, 2], 4, eps=0.0)]
        [[0.0, 3.0, 1.0], [0.0, -1.0, -1.0]]

    References:
        arXiv 2510.23049 (the seed paper); Tajwar, Zeng et al. 2026, arXiv 2602.02710
        (``compute_p_normalization_outcome_advantage`` in the authors' code).
    """
    return _centred_over(n_pos, n, lambda rho: rho + eps)


def clipped_pnorm(n_pos: ArrayLike, n: ArrayLike, floor: float = 0.125) -> Scores:
    """Clipped p-normalisation (the authors' ``clipped_pnorm``): A = (r − ρ̂)/max(ρ̂, c), c = 0.125.

    The authors' code also divides by N, a constant at fixed N that advshape drops (as it drops
    PKPO's k/N): here ``clipped_pnorm`` equals ``p_normalization:eps=0`` for ρ̂ ≥ c, and below c it
    is (r − ρ̂)/c, a bounded weight for hard prompts. An all-wrong group gets 0.

    Args:
        n_pos: N⁺ (broadcasts with ``n``).
        n: N.
        floor: the clip c ≥ 0 (c = 0: ``maxrl``).

    Returns:
        (A⁺, A⁻) as float64 arrays.

    Example:
        >>> from advshape._src.maclaurin import clipped_pnorm
        >>> [v.tolist() for v in clipped_pnorm([1, 4], 16)]
        [[7.5, 3.0], [-0.5, -1.0]]

    References:
        arXiv 2510.23049 (the seed paper); Tajwar, Zeng et al. 2026, arXiv 2602.02710
        (``compute_clipped_pnorm_outcome_advantage`` in the authors' code).
    """
    return _centred_over(n_pos, n, lambda rho: np.maximum(rho, floor))


def one_sided_grpo(n_pos: ArrayLike, n: ArrayLike, eps: float = 1e-6) -> Scores:
    """One-sided GRPO (the authors' ``one_sided_grpo``): A = (r − ρ̂)/(√ρ̂ + ε).

    GRPO divides by √(ρ̂(1 − ρ̂)); this divides by √ρ̂ only, so A⁺ = (1 − ρ̂)/(√ρ̂ + ε),
    A⁻ = −ρ̂/(√ρ̂ + ε), 0 for an all-wrong group. Its surrogate is 2√ρ (ε = 0).

    Args:
        n_pos: N⁺ (broadcasts with ``n``).
        n: N.
        eps: ε ≥ 0 added to √ρ̂ (the authors' default 1e-6).

    Returns:
        (A⁺, A⁻) as float64 arrays.

    Example:
        >>> from advshape._src.maclaurin import one_sided_grpo
        >>> [v.tolist() for v in one_sided_grpo([1, 4], 4, eps=0.0)]
        [[1.5, 0.0], [-0.5, -1.0]]

    References:
        arXiv 2510.23049 (the seed paper); Tajwar, Zeng et al. 2026, arXiv 2602.02710
        (``compute_one_sided_grpo_outcome_advantage`` in the authors' code).
    """
    return _centred_over(n_pos, n, lambda rho: np.sqrt(rho) + eps)


def p_normalization_surrogate(rho: ArrayLike, eps: float = 1e-6) -> Array:
    """F(ρ) = log(1 + ρ/ε), F(0) = 0 (F' = 1/(ρ + ε)); ε = 0: log ρ, anchored F(1) = 0.

    Args:
        rho: ρ in [0, 1].
        eps: ε ≥ 0.

    Returns:
        F(ρ) as float64 (−inf at ρ = 0 when ε = 0).

    Example:
        >>> from advshape._src.maclaurin import p_normalization_surrogate
        >>> round(float(p_normalization_surrogate(0.5, eps=0.5)), 6)  # log 2
        0.693147

    References:
        arXiv 2510.23049 (the seed paper, Lemma 2); Tajwar, Zeng et al. 2026, arXiv 2602.02710.
    """
    rho = as_rho(rho)
    if eps == 0:
        with np.errstate(divide="ignore"):
            return np.log(rho)
    return np.log1p(rho / eps)


def clipped_pnorm_surrogate(rho: ArrayLike, floor: float = 0.125) -> Array:
    """F(ρ) = ρ/c for ρ ≤ c, 1 + log(ρ/c) above (F' = 1/max(ρ, c)); c = 0: log ρ, F(1) = 0.

    Args:
        rho: ρ in [0, 1].
        floor: the clip c ≥ 0.

    Returns:
        F(ρ) as float64.

    Example:
        >>> from advshape._src.maclaurin import clipped_pnorm_surrogate
        >>> clipped_pnorm_surrogate([0.0, 0.0625, 0.125], floor=0.125).tolist()
        [0.0, 0.5, 1.0]

    References:
        arXiv 2510.23049 (the seed paper, Lemma 2); Tajwar, Zeng et al. 2026, arXiv 2602.02710.
    """
    rho = as_rho(rho)
    if floor == 0:
        with np.errstate(divide="ignore"):
            return np.log(rho)
    return np.where(rho <= floor, rho / floor, 1.0 + np.log(np.maximum(rho, floor) / floor))


def one_sided_grpo_surrogate(rho: ArrayLike, eps: float = 1e-6) -> Array:
    """F(ρ) = 2√ρ − 2ε·log(1 + √ρ/ε), F(0) = 0 (F' = 1/(√ρ + ε)); ε = 0: 2√ρ.

    Args:
        rho: ρ in [0, 1].
        eps: ε ≥ 0.

    Returns:
        F(ρ) as float64.

    Example:
        >>> from advshape._src.maclaurin import one_sided_grpo_surrogate
        >>> float(one_sided_grpo_surrogate(0.25, eps=0.0))
        1.0

    References:
        arXiv 2510.23049 (the seed paper, Lemma 2); Tajwar, Zeng et al. 2026, arXiv 2602.02710.
    """
    root = np.sqrt(as_rho(rho))
    if eps == 0:
        return 2.0 * root
    return 2.0 * root - 2.0 * eps * np.log1p(root / eps)
