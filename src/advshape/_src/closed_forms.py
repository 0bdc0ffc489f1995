"""Closed-form population surrogate rewards F(ρ) of the registered shapers (paper Table 1).

A count-based shaper with N → ∞ limit weights w±(ρ) ascends, in expectation, the surrogate
F with F'(ρ) = w⁺(ρ)/ρ + w⁻(ρ)/(1 − ρ) (paper Lemma 2). The functions below are these F in
closed form, vectorised over ρ ∈ [0, 1] and exact at the end points, with F(0) = 0 unless the
paper writes the surrogate with another constant (ρ_K, arcsin-forms: both already vanish at 0).
Surrogates are defined up to an affine map; compare them after normalising F(0) = 0,
F(1) = 1 (:func:`normalise`).

Only NumPy is imported at module level: the incomplete beta function (Eq. 35) comes from
SciPy, imported inside the functions that need it, so ``import advshape`` stays light.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FORMULAS",
    "as_rho",
    "biased_k",
    "dr_grpo",
    "entropy",
    "grpo",
    "grpo_k",
    "grpo_k_chen",
    "incomplete_beta",
    "mix_chen",
    "mix_direct",
    "normalise",
    "pass_at_k_population",
    "pkpo",
    "reinforce",
    "reinforce_k",
    "rloo",
    "rloo_k",
    "skew_r",
]

Array = NDArray[np.float64]

# The surrogate column of Table 1 (and its extensions), as text for tables and plots.
FORMULAS: dict[str, str] = {
    "reinforce": "ρ",
    "rloo": "ρ",
    "grpo": "2·arcsin√ρ  (ε = 0); ∫₀^ρ dt/(√(t(1−t)) + ε) for ε > 0",
    "dr_grpo": "ρ",
    "skew_r": "arcsin√ρ + √(ρ(1−ρ))",
    "reinforce_k": "ρ_K = 1 − (1−ρ)^K",
    "rloo_k": "ρ_K = 1 − (1−ρ)^K",
    "grpo_k": "B(1 − (1−ρ_K)^{1/K}; ½, K−½) = B(ρ; ½, K−½)",
    "grpo_k_chen": "(2/K)·arcsin√ρ_K",
    "mix_chen": "B(ρ; ½, 3/2) + (1/K)[B(v; ½, ½) − B(v; 1/K+½, ½)]_{v=1−ρ_K}^{v=1}",
    "mix_direct": "B(ρ; ½, 3/2) + B(ρ; 3/2, K−½)",
    "biased_k": "B(ρ; ½, K−½)  (shared with GRPO_K, App. C.3)",
    "entropy": "2·arcsin√ρ + λ·H(ρ)",
    "pkpo": "ρ_K = 1 − (1−ρ)^K",
    "maxrl": "log ρ  (up to a constant; −∞ at ρ = 0)",
    "w_reinforce": "(1 + λ)·ρ",
    "nsr": "ρ",
    "psr": "ρ",
    "grpo_passk": "none as N → ∞ (weights vanish); at group size N: ρ_N = 1 − (1−ρ)^N",
    "maclaurin": "Σ_{k≤T} ρ_k/k  (exact at every N ≥ T)",
    "maclaurin_loo": "Σ_{k≤T} ρ_k/k  (as N → ∞ only: biased at finite N)",
    "maclaurin_cross_fitted": "Σ_{k≤T} ρ_k/k  (exact at every N ≥ T)",
    "p_normalization": "log(1 + ρ/ε)  (ε = 0: log ρ, −∞ at ρ = 0)",
    "clipped_pnorm": "ρ/c for ρ ≤ c, 1 + log(ρ/c) above",
    "one_sided_grpo": "2√ρ − 2ε·log(1 + √ρ/ε)  (ε = 0: 2√ρ)",
    "linear_r": "log ρ  (−∞ at ρ = 0); at group size N exactly Σ_{k≤N} ρ_k/k",
    "sqrt_r": "log((1 − √(1−ρ))/(1 + √(1−ρ)))  (−∞ at ρ = 0)",
    "focal": "B(ρ; ½, γ + ½)",
    "maxpo": "ρ_K = 1 − (1−ρ)^K  (continuous rewards: max@K)",
}


def as_rho(rho: ArrayLike, what: str = "rho") -> Array:
    """ρ as a float64 array, checked to lie in [0, 1] (a probability)."""
    if isinstance(rho, np.ma.MaskedArray):
        raise ValueError(
            f"{what} is a numpy masked array; pass plain values (masks are not applied)"
        )
    if np.iscomplexobj(rho):
        raise ValueError(f"{what} must be real probabilities in [0, 1], got a complex value")
    try:
        arr = np.asarray(rho, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be real probabilities in [0, 1], got {rho!r}") from None
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite probabilities in [0, 1], got a NaN or infinity")
    if arr.size and (np.any(arr < 0.0) or np.any(arr > 1.0)):
        bad = arr[(arr < 0.0) | (arr > 1.0)].ravel()[0]
        raise ValueError(
            f"{what} must lie in [0, 1] (a success probability), got {bad!r}; clip or rescale it"
        )
    return arr


def normalise(values: ArrayLike, at_zero: float, at_one: float) -> Array:
    """Affine normalisation (F − F(0)) / (F(1) − F(0)), so that F(0) = 0 and F(1) = 1."""
    span = at_one - at_zero
    if not np.isfinite(span) or span == 0.0:
        raise ValueError(
            f"cannot normalise a surrogate with F(1) − F(0) = {span!r}: it must be finite and "
            "non-zero (a reward that does not change between ρ = 0 and ρ = 1 ranks nothing)"
        )
    return (np.asarray(values, dtype=np.float64) - at_zero) / span


def incomplete_beta(x: ArrayLike, a: float, b: float) -> Array:
    """The (non-regularised) incomplete beta function B(x; a, b) = ∫₀^x u^{a−1}(1−u)^{b−1} du."""
    try:  # only the Pass@K surrogates need SciPy
        from scipy import special
    except ImportError as err:
        raise ImportError(
            "the incomplete beta function (Pass@K surrogates, Eq. 35) needs scipy: "
            "pip install 'advshape[surrogates]'"
        ) from err

    x = np.asarray(x, dtype=np.float64)
    # For x > ½ use B(x; a, b) = B(a, b)·(1 − I_{1−x}(b, a)): 1 − x is exact there, and SciPy's
    # I_x(½, ½) loses ~1e-10 near x = 1 otherwise.
    upper = x > 0.5
    lower = special.betainc(a, b, np.where(upper, 0.0, x))
    reflected = 1.0 - special.betainc(b, a, np.where(upper, 1.0 - x, 0.0))
    return cast(Array, np.where(upper, reflected, lower) * special.beta(a, b))  # SciPy: untyped


def pass_at_k_population(rho: ArrayLike, k: int) -> Array:
    """ρ_K = 1 − (1 − ρ)^K, the population Pass@K of a prompt with 0/1 success rate ρ."""
    rho = as_rho(rho)
    with np.errstate(divide="ignore"):  # log1p(−1) = −inf gives exactly ρ_K = 1 at ρ = 1
        return cast(Array, -np.expm1(k * np.log1p(-rho)))  # a ufunc's result is typed Any


def _arcsin_sqrt(x: Array, one_minus_x: Array | None = None) -> Array:
    """arcsin√x, as atan2(√x, √(1 − x)): full precision near x = 1, where arcsin's slope is
    infinite (np.arcsin(np.sqrt(1 − 1e-12)) is off by 6e-11)."""
    return np.arctan2(np.sqrt(x), np.sqrt(1.0 - x if one_minus_x is None else one_minus_x))


def reinforce(rho: ArrayLike) -> Array:
    """REINFORCE (Eq. 5): F(ρ) = ρ (the 0/1 reward itself)."""
    return np.array(as_rho(rho))  # a copy


def rloo(rho: ArrayLike) -> Array:
    """RLOO (Eq. 6, Table 1): F(ρ) = ρ."""
    return np.array(as_rho(rho))  # a copy


def dr_grpo(rho: ArrayLike) -> Array:
    """Dr. GRPO: w± = ρ(1 − ρ) as for RLOO, so F(ρ) = ρ."""
    return np.array(as_rho(rho))  # a copy


def grpo(rho: ArrayLike, std: str = "population", eps: float = 0.0) -> Array:
    """GRPO (Corollary 1, Table 1): F(ρ) = 2·arcsin√ρ.

    The sample std differs from the population one by √(N/(N−1)) → 1, so it has the same
    surrogate. With ε > 0 the limit weights are w± = ρ(1−ρ)/(σ + ε), σ = √(ρ(1−ρ)), so
    F'(ρ) = 1/(σ + ε). With ρ = sin²θ, u = tan θ, a = 2ε this integrates in closed form:

        F(ρ) = 2θ − a·I,  I = (2/s)·atanh(s·z)  (a < 1, s = √(1−a²)),
                              (2/s)·arctan(s·z) (a > 1, s = √(a²−1)),  2z (a = 1),

    with z = u/(u + a) = √ρ/(√ρ + a√(1−ρ)), finite at both ends.
    """
    rho = as_rho(rho)
    theta = _arcsin_sqrt(rho)
    if eps == 0.0:
        return 2.0 * theta
    a = 2.0 * float(eps)
    sq, sq1 = np.sqrt(rho), np.sqrt(1.0 - rho)
    z = sq / (sq + a * sq1)
    if abs(a - 1.0) < 1e-12:
        integral = 2.0 * z
    elif a < 1.0:
        s = np.sqrt(1.0 - a * a)
        integral = 2.0 / s * np.arctanh(s * z)
    else:
        s = np.sqrt(a * a - 1.0)
        integral = 2.0 / s * np.arctan(s * z)
    return 2.0 * theta - a * integral


def skew_r(rho: ArrayLike) -> Array:
    """Skew-R (Claim 3, Eq. 25): F(ρ) = arcsin√ρ + √(ρ(1 − ρ))."""
    rho = as_rho(rho)
    return _arcsin_sqrt(rho) + np.sqrt(rho * (1.0 - rho))


def reinforce_k(rho: ArrayLike, k: int) -> Array:
    """REINFORCE_K (Eqs. 12, 14): F = ρ_K, the Pass@K reward (up to the dropped factor K)."""
    return pass_at_k_population(rho, k)


def rloo_k(rho: ArrayLike, k: int) -> Array:
    """RLOO_K (Eq. 15, Table 1): F = ρ_K = 1 − (1 − ρ)^K."""
    return pass_at_k_population(rho, k)


def pkpo(rho: ArrayLike, k: int, baseline: str = "loo_minus_one") -> Array:
    """PKPO (Walder & Karkhanis, Eq. 37, App. C.4): F = ρ_K for every baseline.

    Without a baseline the limit weights are asymmetric, w⁺ = ρ, w⁻ = −(1 − ρ)(1 − (1 − ρ)^{K−1})
    (a *positive* push on wrong responses), yet F' = (1 − ρ)^{K−1} = ρ_K'/K all the same.
    """
    del baseline  # every baseline subtracts a quantity independent of the response: same F
    return pass_at_k_population(rho, k)


def grpo_k(rho: ArrayLike, k: int) -> Array:
    """GRPO_K (App. C.1, Eq. 35): F = B(1 − (1 − ρ_K)^{1/K}; ½, K − ½) = B(ρ; ½, K − ½).

    F'(ρ) = ρ^{−1/2}(1 − ρ)^{K−3/2}; for K = 1 this is 2·arcsin√ρ (GRPO).
    """
    return incomplete_beta(as_rho(rho), 0.5, k - 0.5)


def biased_k(rho: ArrayLike, k: int) -> Array:
    """Biased scaling (1 − ρ̂)^{K−1}·A±_GRPO (Eq. 36): the same surrogate as GRPO_K (App. C.3)."""
    return grpo_k(rho, k)


def grpo_k_chen(rho: ArrayLike, k: int) -> Array:
    """GRPO~_K of Chen et al. (Claim 1, Eq. 21): F = (2/K)·arcsin√ρ_K."""
    with np.errstate(divide="ignore"):
        log_fail = k * np.log1p(-as_rho(rho))  # log(1 − ρ_K): no cancellation near ρ_K = 1
    return 2.0 / k * _arcsin_sqrt(-np.expm1(log_fail), np.exp(log_fail))


def mix_direct(rho: ArrayLike, k: int) -> Array:
    """Direct mix (Eq. 24): limit scale 1 − ρ + ρ(1 − ρ)^{K−1} of GRPO, so

    F'(ρ) = √((1−ρ)/ρ) + ρ^{1/2}(1−ρ)^{K−3/2}  ⇒  F = B(ρ; ½, 3/2) + B(ρ; 3/2, K − ½).
    """
    rho = as_rho(rho)
    return incomplete_beta(rho, 0.5, 1.5) + incomplete_beta(rho, 1.5, k - 0.5)


def mix_chen(rho: ArrayLike, k: int) -> Array:
    """Chen et al.'s mix (Eq. 23): limit scale 1 − ρ + ρ·ω_K of GRPO, ω_K = √((1−ρ_K)ρ/(ρ_K(1−ρ))).

    F'(ρ) = √((1−ρ)/ρ) + (ρ/(1−ρ))·√((1−ρ_K)/ρ_K). With x = 1 − ρ, v = x^K the second term
    integrates to (1/K)[B(v; ½, ½) − B(v; 1/K + ½, ½)], so with F(0) = 0

        F(ρ) = B(ρ; ½, 3/2) + (1/K)·[G(1) − G(1 − ρ_K)],  G(v) = B(v; ½, ½) − B(v; 1/K + ½, ½).
    """
    rho = as_rho(rho)
    with np.errstate(divide="ignore"):
        v = np.exp(k * np.log1p(-rho))  # (1 − ρ)^K = 1 − ρ_K, without cancellation

    def g(x: ArrayLike) -> Array:
        return incomplete_beta(x, 0.5, 0.5) - incomplete_beta(x, 1.0 / k + 0.5, 0.5)

    return incomplete_beta(rho, 0.5, 1.5) + (g(1.0) - g(v)) / k


def entropy(rho: ArrayLike, lam: float) -> Array:
    """Entropy-regularised GRPO (Sec. 6.3, Eq. 26): F = 2·arcsin√ρ + λ·H(ρ), H the binary entropy."""
    rho = as_rho(rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(rho > 0, rho * np.log(rho), 0.0) - np.where(
            rho < 1, (1.0 - rho) * np.log1p(-rho), 0.0
        )
    return 2.0 * _arcsin_sqrt(rho) + lam * h
