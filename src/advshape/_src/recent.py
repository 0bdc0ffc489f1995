"""Shapers published after the paper: MaxRL, W-REINFORCE / NSR / PSR and verl's GRPO Pass@k.

Scores ``(A⁺, A⁻)`` as functions of the counts (N⁺, N), population surrogates F(ρ) in closed
form (the continuous-reward form of ``grpo_passk`` is in :mod:`continuous`). Kept apart from :mod:`scores` (the
paper's shapers) so that each file cites one body of work. ρ̂ = N⁺/N throughout.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src.closed_forms import as_rho
from advshape._src.scores import Scores

__all__ = [
    "grpo_passk",
    "maxrl",
    "maxrl_surrogate",
    "nsr",
    "psr",
    "two_level",
    "two_level_surrogate",
    "w_reinforce",
]


def _counts(n_pos: ArrayLike, n: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    a, b = np.broadcast_arrays(np.asarray(n_pos, np.float64), np.asarray(n, np.float64))
    return a, b


# --- MaxRL ---------------------------------------------------------------------------------


def maxrl(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """MaxRL (Tajwar et al. 2026, arXiv 2602.02710): A_i = (r_i − ρ̂)/ρ̂, 0 for an all-wrong group.

    The estimator averages ∇log π over the N⁺ successes, (1/N⁺)·Σ_{r_i=1} ∇log π(y_i), with
    the group mean of ∇log π as control variate; as advantages of the (1/N)·Σ A_i ∇log π update
    this is A⁺ = (1 − ρ̂)/ρ̂ = N⁻/N⁺ and A⁻ = −1 when N⁺ ≥ 1; a group with no success gives no
    update. (prime-rl ``max_rl``, SkyRL ``maxrl``.)

    Source checked: the paper's Maclaurin objective log p = −Σ_k fail@k/k and its gradient
    identity ∇log p = Σ_k (1/k)·∇pass@k (abstract and project page); the advantage form above
    is the one the issue and the trainers state. The paper's equation numbers were not
    available to us, so none is cited.
    """
    n_pos, n = _counts(n_pos, n)
    some = n_pos > 0
    a_pos = np.where(some, (n - n_pos) / np.where(some, n_pos, 1.0), 0.0)
    return a_pos, np.where(some, -1.0, 0.0)


def maxrl_surrogate(rho: ArrayLike) -> NDArray[np.float64]:
    """MaxRL's population surrogate: F(ρ) = log ρ (maximum likelihood of success), F(1) = 0.

    The limit weights are w⁺ = w⁻ = 1 − ρ, so F' = (1 − ρ)/ρ + 1 = 1/ρ: F is defined up to an
    additive constant and diverges (to −∞) at ρ = 0; F(0) = −inf. At group size N the exact
    expected-update coefficient is c_N(ρ) = (1 − (1 − ρ)^{N−1})/ρ = Σ_{k=1}^{N−1} (1/k)·dρ_k/dρ:
    the truncated maximum-likelihood objective Σ_{k<N} Pass@k/k of the MaxRL paper.
    """
    rho = as_rho(rho)
    with np.errstate(divide="ignore"):
        return np.log(rho)


# --- W-REINFORCE, NSR, PSR ------------------------------------------------------------------


def two_level(n_pos: ArrayLike, n: ArrayLike, a: float, b: float) -> Scores:
    """A⁺ = a, A⁻ = −b whatever the group: the reward ±1 split into its two halves."""
    n_pos, n = _counts(n_pos, n)
    return np.full(n_pos.shape, float(a)), np.full(n_pos.shape, -float(b))


def w_reinforce(n_pos: ArrayLike, n: ArrayLike, lam: float = 0.1) -> Scores:
    """Weighted-REINFORCE (Zhu et al. 2025, arXiv 2506.01347): λ·L_PSR + L_NSR, so A⁺ = λ, A⁻ = −1."""
    return two_level(n_pos, n, lam, 1.0)


def nsr(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """Negative sample reinforcement only (Zhu et al. 2025): A⁺ = 0, A⁻ = −1."""
    return two_level(n_pos, n, 0.0, 1.0)


def psr(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """Positive sample reinforcement only (Zhu et al. 2025): A⁺ = 1, A⁻ = 0 (= REINFORCE)."""
    return two_level(n_pos, n, 1.0, 0.0)


def two_level_surrogate(rho: ArrayLike, a: float, b: float) -> NDArray[np.float64]:
    """F(ρ) = (a + b)·ρ for A⁺ = a, A⁻ = −b: the weights are w⁺ = aρ, w⁻ = b(1 − ρ), so
    F' = a + b. Exact at every N too: c_N(ρ) = Σ_j Bin(j; N−1, ρ)·(A⁺ − A⁻) = a + b."""
    return (float(a) + float(b)) * as_rho(rho)


# --- verl's grpo_passk (Tang et al. 2025) -----------------------------------------------------


def grpo_passk(n_pos: ArrayLike, n: ArrayLike, std: str = "sample", eps: float = 1e-6) -> Scores:
    """verl's ``grpo_passk`` (Tang et al. 2025, arXiv 2503.19595) on binary rewards.

    Only the best response of a group gets an advantage, (r_max − r_second)/(σ_sample + ε)
    (``std="none"``: no division). With 0/1 rewards r_max − r_second is 1 exactly when N⁺ = 1,
    and then σ_sample = √(ρ̂(1 − ρ̂)·N/(N − 1)) = 1/√N, so A⁺ = [N⁺ = 1]/(1/√N + ε), A⁻ = 0.
    """
    n_pos, n = _counts(n_pos, n)
    one = n_pos == 1
    if std == "sample":
        rho = n_pos / n
        sigma = np.sqrt(rho * (1.0 - rho) * n / np.where(n > 1, n - 1.0, 1.0))
        value = 1.0 / np.where(one, sigma + eps, 1.0)
    else:
        value = np.ones(n_pos.shape)
    return np.where(one, value, 0.0), np.zeros(n_pos.shape)
