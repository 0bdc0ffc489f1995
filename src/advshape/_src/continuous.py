"""Shapings defined for any real rewards, written for any Array-API library.

Binary batches never come here (their exact (N⁺, N) tables are used); these are the same
definitions applied to continuous rewards, along the last axis of ``[..., n]``.
"""

from __future__ import annotations

from advshape._src.pkpo import pkpo_dense

__all__ = ["dr_grpo", "grpo", "pkpo", "reinforce", "rloo"]


def _centred(xp, rewards, dtype):
    x = xp.astype(rewards, dtype)
    return x, x - xp.mean(x, axis=-1, keepdims=True)


def reinforce(xp, rewards, dtype):
    """A_i = r_i (paper Eq. 5)."""
    return xp.astype(rewards, dtype, copy=True)


def rloo(xp, rewards, dtype):
    """A_i = r_i − (1/(N−1)) Σ_{j≠i} r_j = N/(N−1)·(r_i − r̄) (paper Eq. 6)."""
    n = rewards.shape[-1]
    _, d = _centred(xp, rewards, dtype)
    return d * (n / (n - 1))


def dr_grpo(xp, rewards, dtype):
    """A_i = r_i − r̄ (Dr. GRPO, Liu et al. 2025)."""
    return _centred(xp, rewards, dtype)[1]


def grpo(xp, rewards, dtype, std: str = "population", eps: float = 0.0):
    """A_i = (r_i − r̄)/(σ̂ + ε) (paper Eq. 8); 0 for a group whose rewards are all equal.

    Constant groups are detected exactly (max == min) rather than through σ̂ == 0: the mean of
    equal floats can differ from them in the last bit, and dividing that residue by an equally
    tiny σ̂ would give ±1 instead of 0.
    """
    n = rewards.shape[-1]
    x, d = _centred(xp, rewards, dtype)
    sigma = xp.sqrt(xp.mean(d * d, axis=-1, keepdims=True))
    if std == "sample":
        sigma = sigma * (n / (n - 1)) ** 0.5
    constant = xp.max(x, axis=-1, keepdims=True) == xp.min(x, axis=-1, keepdims=True)
    den = xp.where(constant, xp.ones_like(sigma), sigma + eps)
    return xp.where(constant, xp.zeros_like(d), d / den)


def pkpo(xp, rewards, dtype, k: int, baseline: str = "loo_minus_one"):
    """PKPO on continuous rewards: see :mod:`advshape._src.pkpo`."""
    return pkpo_dense(xp, rewards, k, baseline, dtype)
