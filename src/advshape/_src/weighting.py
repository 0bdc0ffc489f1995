"""Prompt weightings A_i = ω(ρ̂)·(r_i − ρ̂): Heckel et al.'s asymmetric weights and F-GRPO's focal
weight.

With binary rewards every mean-centred shaper is a prompt weighting: the update of a group is
ω(ρ̂)·ρ̂(1 − ρ̂)·(∇̄₁ − ∇̄₀), ∇̄₁/∇̄₀ the mean score-function of its correct/wrong responses, so
ω(ρ̂)·ρ̂(1 − ρ̂) is the *effective weight* of the prompt (GRPO: √(ρ̂(1 − ρ̂)); RLOO: ρ̂(1 − ρ̂)·N/(N−1)).

- **Asymmetric prompt weighting** (Heckel, Soltanolkotabi and Thrampoulidis 2026, arXiv
  2602.11128). Linear-R: ω = 1/ρ̂, effective weight 1 − ρ̂; Sqrt-R: ω = 1/(ρ̂·√(1 − ρ̂)),
  effective weight √(1 − ρ̂), the weight the paper's theory finds optimal in "effective time"
  (GRPO's being optimal in "regular time"). Both are finite at ρ̂ = 0, where A⁻ = −ρ̂·ω(ρ̂) → −1:
  unlike every mean-centred shaper they push down the wrong responses of an **all-wrong group**.
  Source checked: the abstract and third-party summaries of the paper; its full text (and so its
  equation numbers, Plateau-R and Uniform-R) was not available to us: only the two weights
  stated there are implemented.
- **F-GRPO** (Plyusov et al. 2026, arXiv 2602.06717, Sec. 4): GRPO's advantage times the focal
  factor g = (1 − ρ̂)^γ, any real γ ≥ 0 (``biased_k:k=K`` is γ = K − 1).

ρ̂ = N⁺/N throughout; scores are float64 NumPy arrays, inputs broadcast.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src.closed_forms import as_rho, incomplete_beta
from advshape._src.scores import Scores, grpo

__all__ = [
    "focal",
    "focal_surrogate",
    "linear_r",
    "linear_r_surrogate",
    "sqrt_r",
    "sqrt_r_surrogate",
]

Array = NDArray[np.float64]


def _rho(n_pos: ArrayLike, n: ArrayLike) -> Array:
    a, b = np.broadcast_arrays(np.asarray(n_pos, np.float64), np.asarray(n, np.float64))
    rho: Array = a / b
    return rho


def linear_r(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """Linear-R (Heckel et al. 2026): A_i = (r_i − ρ̂)/ρ̂, also for an all-wrong group.

        A⁺ = (1 − ρ̂)/ρ̂ = N⁻/N⁺,   A⁻ = −1   (every N⁺ < N, N⁺ = 0 included)

    Effective weight 1 − ρ̂. Its exact expected update at group size N is
    Σ_{k=1}^{N} (1 − ρ)^{k−1}·∇ρ = ∇Σ_{k≤N} Pass@k/k: MaxRL's order-N objective, unbiasedly (it is
    MaxRL's ``vr_cond`` estimator). advshape's ``maxrl`` is the same with no update for an
    all-wrong group, which drops the k = N term: its surrogate is Σ_{k<N} Pass@k/k. Population
    surrogate: log ρ.

    Args:
        n_pos: N⁺, correct responses per group (broadcasts with ``n``).
        n: N, the group size.

    Returns:
        (A⁺, A⁻) as float64 arrays (A⁺ = 0 where N⁺ = 0, where it is never used).

    Example:
        >>> from advshape._src.weighting import linear_r
        >>> [v.tolist() for v in linear_r([0, 1, 4], 4)]
        [[0.0, 3.0, 0.0], [-1.0, -1.0, -1.0]]

    References:
        arXiv 2510.23049 (the seed paper); Heckel, Soltanolkotabi and Thrampoulidis 2026,
        Asymmetric Prompt Weighting for Reinforcement Learning with Verifiable Rewards,
        arXiv 2602.11128 (Linear-R); Tajwar, Zeng et al. 2026, arXiv 2602.02710 (``vr_cond``).
    """
    rho = _rho(n_pos, n)
    some = rho > 0
    return np.where(some, (1.0 - rho) / np.where(some, rho, 1.0), 0.0), np.full(rho.shape, -1.0)


def sqrt_r(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """Sqrt-R (Heckel et al. 2026): A_i = (r_i − ρ̂)/(ρ̂·√(1 − ρ̂)), also for an all-wrong group.

        A⁺ = √(1 − ρ̂)/ρ̂,   A⁻ = −1/√(1 − ρ̂)   (A⁻ = −1 at N⁺ = 0)

    Effective weight √(1 − ρ̂): the ω ∝ 1/(ρ√(1 − ρ)) that the paper's policy-dynamics theory
    finds optimal in effective time. Population surrogate
    F(ρ) = log((1 − √(1 − ρ))/(1 + √(1 − ρ))), F(1) = 0, −∞ at ρ = 0.

    Args:
        n_pos: N⁺ (broadcasts with ``n``).
        n: N.

    Returns:
        (A⁺, A⁻) as float64 arrays (0 where never used: A⁺ at N⁺ = 0, A⁻ at N⁺ = N).

    Example:
        >>> from advshape._src.weighting import sqrt_r
        >>> [v.round(4).tolist() for v in sqrt_r([0, 1, 3], 4)]
        [[0.0, 3.4641, 0.6667], [-1.0, -1.1547, -2.0]]

    References:
        arXiv 2510.23049 (the seed paper); Heckel, Soltanolkotabi and Thrampoulidis 2026,
        arXiv 2602.11128 (Sqrt-R; effective-time optimal weight).
    """
    rho = _rho(n_pos, n)
    some, left = rho > 0, rho < 1
    root = np.sqrt(1.0 - rho)
    a_pos = np.where(some, root / np.where(some, rho, 1.0), 0.0)
    a_neg = np.where(left, -1.0 / np.where(left, root, 1.0), 0.0)
    return a_pos, a_neg


def focal(n_pos: ArrayLike, n: ArrayLike, gamma: float) -> Scores:
    """F-GRPO (Plyusov et al. 2026, Sec. 4): A± = (1 − ρ̂)^γ·A±_GRPO, γ ≥ 0 real.

    The focal factor g = (1 − μ̂_pos)^γ (μ̂_pos = ρ̂, the group's success rate) down-weights
    prompts the policy already solves; γ = 0 is GRPO and γ = K − 1 is ``biased_k:k=K``. GRPO's
    population std and ε = 0, so 0 for constant groups. Surrogate B(ρ; ½, γ + ½).

    Args:
        n_pos: N⁺ (broadcasts with ``n``).
        n: N.
        gamma: the focal exponent γ ≥ 0.

    Returns:
        (A⁺, A⁻) as float64 arrays.

    Example:
        >>> from advshape._src.weighting import focal
        >>> [v.round(4).tolist() for v in focal([2], 8, gamma=0.5)]
        [[1.5], [-0.5]]

    References:
        arXiv 2510.23049 (the seed paper, Eq. 36: the integer case); Plyusov et al. 2026,
        F-GRPO: Don't Let Your Policy Learn the Obvious and Forget the Rare, arXiv 2602.06717.
    """
    a_pos, a_neg = grpo(n_pos, n)
    scale = (1.0 - _rho(n_pos, n)) ** gamma
    return scale * a_pos, scale * a_neg


def linear_r_surrogate(rho: ArrayLike) -> Array:
    """Linear-R's population surrogate F(ρ) = log ρ, anchored F(1) = 0 (−∞ at ρ = 0).

    Args:
        rho: ρ in [0, 1].

    Returns:
        F(ρ) as float64.

    Example:
        >>> from advshape._src.weighting import linear_r_surrogate
        >>> linear_r_surrogate([1.0]).tolist()
        [0.0]

    References:
        arXiv 2510.23049 (the seed paper, Lemma 2); Heckel et al. 2026, arXiv 2602.11128.
    """
    with np.errstate(divide="ignore"):
        return np.log(as_rho(rho))


def sqrt_r_surrogate(rho: ArrayLike) -> Array:
    """Sqrt-R's population surrogate: F' = 1/(ρ√(1 − ρ)), so with s = √(1 − ρ)

        F(ρ) = log((1 − s)/(1 + s)) = log ρ − 2·log(1 + s),   F(1) = 0, F(0) = −∞

    (the second form has no cancellation at small ρ).

    Args:
        rho: ρ in [0, 1].

    Returns:
        F(ρ) as float64.

    Example:
        >>> from advshape._src.weighting import sqrt_r_surrogate
        >>> round(float(sqrt_r_surrogate(0.75)), 6)  # log(1/3)
        -1.098612

    References:
        arXiv 2510.23049 (the seed paper, Lemma 2); Heckel et al. 2026, arXiv 2602.11128.
    """
    rho = as_rho(rho)
    with np.errstate(divide="ignore"):
        return np.log(rho) - 2.0 * np.log1p(np.sqrt(1.0 - rho))


def focal_surrogate(rho: ArrayLike, gamma: float) -> Array:
    """F-GRPO's surrogate: F' = ρ^{−1/2}(1 − ρ)^{γ−1/2}, so F = B(ρ; ½, γ + ½), F(0) = 0.

    γ = K − 1 is GRPO_K's and the biased scaling's B(ρ; ½, K − ½) (seed paper App. C.3).

    Args:
        rho: ρ in [0, 1].
        gamma: γ ≥ 0.

    Returns:
        F(ρ) as float64.

    Example:
        >>> from advshape._src.weighting import focal_surrogate
        >>> round(float(focal_surrogate(1.0, 0.0)), 12)  # 2·arcsin(1) = π
        3.14159265359

    References:
        arXiv 2510.23049 (the seed paper, Eq. 35, App. C.3); Plyusov et al. 2026,
        arXiv 2602.06717.
    """
    return incomplete_beta(as_rho(rho), 0.5, float(gamma) + 0.5)
