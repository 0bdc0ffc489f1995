"""Advantage scores (A⁺, A⁻) of every count-based shaping in the paper.

Each function maps the counts of a group — ``n_pos`` = N⁺ correct out of ``n`` = N — to the
advantage of a correct and of a wrong response, as float64 NumPy arrays (inputs broadcast).
ρ̂ = N⁺/N throughout. Where ρ̂ ∈ {0, 1} every response has the same reward, and every
mean-centred shaping returns 0 for both scores (the std-normalised ones define 0/0 := 0,
the convention of GRPO implementations). Inputs are validated by the caller
(:mod:`advshape._src.shaper`); these are the bare formulas.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src.combinatorics import _ratios, fail_estimate, loo_fail_weights

Scores = tuple[NDArray[np.float64], NDArray[np.float64]]

__all__ = [
    "biased_k",
    "dr_grpo",
    "entropy",
    "grpo",
    "grpo_k",
    "grpo_k_chen",
    "mix_chen",
    "mix_direct",
    "pkpo",
    "reinforce",
    "reinforce_k",
    "rloo",
    "rloo_k",
    "skew_r",
]


def _rho(n_pos: ArrayLike, n: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(n_pos, dtype=np.float64) / np.asarray(n, dtype=np.float64)


def _safe_div(num: ArrayLike, den: ArrayLike) -> NDArray[np.float64]:
    """num / den with 0 where den == 0 (all-correct or all-wrong groups)."""
    den = np.asarray(den, dtype=np.float64)
    ok = den != 0
    return np.where(ok, np.asarray(num, dtype=np.float64) / np.where(ok, den, 1.0), 0.0)


def reinforce(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """REINFORCE (paper Eq. 5): A_i = r_i, so A⁺ = 1, A⁻ = 0."""
    shape = np.broadcast_shapes(np.shape(n_pos), np.shape(n))
    return np.ones(shape), np.zeros(shape)


def rloo(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """RLOO (paper Eq. 6): A⁺ = N(1 − ρ̂)/(N − 1) = N⁻/(N − 1), A⁻ = −Nρ̂/(N − 1) = −N⁺/(N − 1)."""
    n_pos, n = np.broadcast_arrays(np.asarray(n_pos, np.float64), np.asarray(n, np.float64))
    return (n - n_pos) / (n - 1), -n_pos / (n - 1)


def grpo(n_pos: ArrayLike, n: ArrayLike, std: str = "population", eps: float = 0.0) -> Scores:
    """GRPO (paper Eq. 8): A_i = (r_i − ρ̂)/(σ̂ + ε).

    With the population std σ̂ = √(ρ̂(1 − ρ̂)) and ε = 0 (the paper's form):
    A⁺ = √((1 − ρ̂)/ρ̂), A⁻ = −√(ρ̂/(1 − ρ̂)). ``std="sample"`` uses σ̂·√(N/(N − 1)).
    0 when ρ̂ ∈ {0, 1}.
    """
    rho = _rho(n_pos, n)
    sigma = np.sqrt(rho * (1.0 - rho))
    if std == "sample":
        sigma = sigma * np.sqrt(np.asarray(n, np.float64) / (np.asarray(n, np.float64) - 1.0))
    den = sigma + eps
    den = np.where(sigma == 0, 0.0, den)  # constant group: no signal, whatever ε is
    return _safe_div(1.0 - rho, den), _safe_div(-rho, den)


def dr_grpo(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """Dr. GRPO (Liu et al. 2025): A_i = r_i − ρ̂, i.e. A⁺ = 1 − ρ̂, A⁻ = −ρ̂ (no std division)."""
    rho = _rho(n_pos, n)
    return 1.0 - rho, -rho


def _scaled_grpo(n_pos: ArrayLike, n: ArrayLike, scale: NDArray[np.float64]) -> Scores:
    a_pos, a_neg = grpo(n_pos, n)
    return scale * a_pos, scale * a_neg


def skew_r(n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """Skew-R (paper Claim 3): A± = (1 − ρ̂)·A±_GRPO."""
    return _scaled_grpo(n_pos, n, 1.0 - _rho(n_pos, n))


def reinforce_k(n_pos: ArrayLike, n: ArrayLike, k: int) -> Scores:
    """REINFORCE_K (paper Eqs. 12, 14): A⁺ = f̂⁺_{K−1}, A⁻ = 0 (the constant K dropped)."""
    f_pos, _ = loo_fail_weights(n_pos, n, k)
    return f_pos, np.zeros_like(f_pos)


def rloo_k(n_pos: ArrayLike, n: ArrayLike, k: int) -> Scores:
    """RLOO_K (paper Eq. 15, Table 1): A⁺ = f̂⁺_{K−1}·N⁻/(N − 1), A⁻ = −f̂⁻_{K−1}·N⁺/(N − 1)."""
    f_pos, f_neg = loo_fail_weights(n_pos, n, k)
    a_pos, a_neg = rloo(n_pos, n)
    return f_pos * a_pos, f_neg * a_neg


def grpo_k(n_pos: ArrayLike, n: ArrayLike, k: int) -> Scores:
    """GRPO_K (paper Eqs. 16–17): A± = f̂±_{K−1}·A±_GRPO (asymmetric reweighting)."""
    f_pos, f_neg = loo_fail_weights(n_pos, n, k)
    a_pos, a_neg = grpo(n_pos, n)
    return f_pos * a_pos, f_neg * a_neg


def chen_omega(n_pos: ArrayLike, n: ArrayLike, k: int) -> NDArray[np.float64]:
    """ω̃_K = √((1 − ρ̂_K)/ρ̂_K)·√(ρ̂/(1 − ρ̂)) (paper Eq. 19); 0 where ρ̂ ∈ {0, 1}."""
    rho = _rho(n_pos, n)
    fail_k = fail_estimate(n_pos, n, k)  # 1 − ρ̂_K, accurate also when ρ̂_K ≈ 1
    inner = (rho > 0) & (rho < 1)
    ratio = _safe_div(fail_k * rho, np.where(inner, (1.0 - fail_k) * (1.0 - rho), 0.0))
    return np.sqrt(ratio)


def grpo_k_chen(n_pos: ArrayLike, n: ArrayLike, k: int) -> Scores:
    """GRPO~_K of Chen et al. 2025 (paper Eq. 18 = Eq. 19): A± = ω̃_K·A±_GRPO.

    Eq. (18) reads A⁺ = √((1 − ρ̂_K)/ρ̂_K), A⁻ = (1 − ρ̂_K − f̂⁻_{K−1})/√(ρ̂_K(1 − ρ̂_K));
    we evaluate the equivalent Eq. (19), which stays finite when ρ̂_K = 1 (then both are 0).
    """
    return _scaled_grpo(n_pos, n, chen_omega(n_pos, n, k))


def mix_chen(n_pos: ArrayLike, n: ArrayLike, k: int) -> Scores:
    """Chen et al.'s mix (paper Eq. 23): A± = (1 − ρ̂ + ρ̂·ω̃_K)·A±_GRPO."""
    rho = _rho(n_pos, n)
    return _scaled_grpo(n_pos, n, 1.0 - rho + rho * chen_omega(n_pos, n, k))


def mix_direct(n_pos: ArrayLike, n: ArrayLike, k: int) -> Scores:
    """The direct mix (paper Eq. 24): A± = (1 − ρ̂ + ρ̂·f̂±_{K−1})·A±_GRPO."""
    rho = _rho(n_pos, n)
    f_pos, f_neg = loo_fail_weights(n_pos, n, k)
    a_pos, a_neg = grpo(n_pos, n)
    return (1.0 - rho + rho * f_pos) * a_pos, (1.0 - rho + rho * f_neg) * a_neg


def biased_k(n_pos: ArrayLike, n: ArrayLike, k: int) -> Scores:
    """Biased Pass@K scaling of Mahdavi et al. 2025 (paper Eq. 36): A± = (1 − ρ̂)^{K−1}·A±_GRPO.

    Defined for every K ≥ 1, also K > N.
    """
    return _scaled_grpo(n_pos, n, (1.0 - _rho(n_pos, n)) ** (k - 1))


def entropy(n_pos: ArrayLike, n: ArrayLike, lam: float) -> Scores:
    """Entropy-regularised shaping (paper Eq. 26, App. B.5):

        A± = [1 + λ·√(ρ̂(1 − ρ̂))·log((1 − ρ̂)/ρ̂)]·A±_GRPO

    the forward-engineered shaping of F(ρ) = 2 arcsin√ρ + λ·H(ρ). 0 where ρ̂ ∈ {0, 1}.
    """
    rho = _rho(n_pos, n)
    inner = (rho > 0) & (rho < 1)
    safe = np.where(inner, rho, 0.5)
    scale = np.where(
        inner, 1.0 + lam * np.sqrt(safe * (1.0 - safe)) * np.log((1.0 - safe) / safe), 0.0
    )
    return _scaled_grpo(n_pos, n, scale)


def pkpo(n_pos: ArrayLike, n: ArrayLike, k: int, baseline: str = "loo_minus_one") -> Scores:
    """PKPO (Walder & Karkhanis 2025) on binary rewards, with PKPO's overall k/n dropped.

    s̄_i is the mean, over the k-subsets of the group that contain i, of the subset's max reward:
    s̄⁺ = 1 and s̄⁻ = 1 − f̂⁻_{K−1} (paper Eq. 37, App. C.4). Baselines (see
    :mod:`advshape._src.pkpo`), with ρ̂₋ᵢ(k) = 1 − C(N⁻ of the others, k)/C(N−1, k) the Pass@k
    estimate of the other N − 1 responses:

    - ``"none"``: A = s̄;
    - ``"loo"``: PKPO's s^(loo) (Eq. 29): A = s̄ − N/(N−1)·ρ̂₋ᵢ(k);
    - ``"loo_unscaled"``: A = s̄ − ρ̂₋ᵢ(k);
    - ``"loo_minus_one"``: A⁺ = f̂⁺_{K−1}, A⁻ = 0, i.e. REINFORCE_K.
    """
    n_pos, n = np.broadcast_arrays(np.asarray(n_pos, np.int64), np.asarray(n, np.int64))
    f_pos, f_neg = loo_fail_weights(n_pos, n, k)
    if baseline == "none":
        return np.ones(n.shape), 1.0 - f_neg
    if baseline == "loo_minus_one":
        return f_pos, np.zeros(n.shape)
    if baseline not in ("loo", "loo_unscaled"):
        raise ValueError(f"unknown PKPO baseline {baseline!r}")
    n_neg = n - n_pos
    a_pos = np.zeros(n.shape)
    a_neg = np.zeros(n.shape)
    for top in np.unique(n - 1):
        sel = (n - 1) == top
        scale = (top + 1) / top if baseline == "loo" else 1.0

        # C(m, k)/C(n−1, k): Fail@k of the others
        def fail_others(m: NDArray[np.int64], top: int = int(top)) -> NDArray[np.float64]:
            return _ratios(top, int(k), m)

        # correct i (exists iff N⁺ ≥ 1): s̄ = 1, the others hold N⁻ wrong
        pass_others = 1.0 - fail_others(np.minimum(n_neg[sel], top))
        a_pos[sel] = np.where(n_pos[sel] >= 1, 1.0 - scale * pass_others, 0.0)
        # wrong i (exists iff N⁻ ≥ 1): s̄ = 1 − f̂⁻, the others hold N⁻ − 1 wrong
        pass_others = 1.0 - fail_others(np.maximum(n_neg[sel] - 1, 0))
        a_neg[sel] = np.where(n_neg[sel] >= 1, (1.0 - f_neg[sel]) - scale * pass_others, 0.0)
    return a_pos, a_neg
