"""PKPO reward transformation (Walder & Karkhanis 2025) for binary and continuous rewards.

Sort a group ascending, x₍₁₎ ≤ … ≤ x₍ₙ₎ (ties in any order: every quantity below is a
mean of subset maxima, which ties do not change). A k-subset containing the response at
sorted position p has maximum x₍ₚ₎ if its other k − 1 members lie below p, and x₍q₎ for
the largest q > p otherwise. Counting subsets gives, in O(n log n) per group,

    s₍ₚ₎ = [C(p−1, k−1)·x₍ₚ₎ + Σ_{q>p} C(q−2, k−2)·x₍q₎] / C(n−1, k−1)

the mean max over the k-subsets containing p. The leave-one-out baselines use the max over
the subsets of the *other* n − 1 responses, of size k (ρ̂₋ₚ(k), the max@k estimate without p)
or k − 1 ("loo_minus_one", max ∅ := 0):

    ρ̂₋₍ₚ₎(k)   = [Σ_{q<p} C(q−1, k−1)·x₍q₎ + Σ_{q>p} C(q−2, k−1)·x₍q₎] / C(n−1, k)
    s − b^loo−1 = [C(p−1, k−1)·x₍ₚ₎ − Σ_{q<p} C(q−1, k−2)·x₍q₎] / C(n−1, k−1)

(the Σ_{q>p} terms of s and b^loo−1 cancel). Baselines:

- ``"none"``: A = s (PKPO's s_i of Eq. 29 is (k/n)·s: the constant k/n is dropped, as the seed
  paper does in Eq. 37);
- ``"loo"``: PKPO's s^(loo) (Walder & Karkhanis, Eq. 29 and Listing 1), with k/n dropped:
  A = s − n/(n−1)·ρ̂₋(k). The n/(n−1) is PKPO's: s^(loo)_i = s_i − (1/(n−1))·Σ_{j≠i} S(j, k, [n]∖i)
  and Σ_{j≠i} S(j, k, [n]∖i) = k·ρ̂₋ᵢ(k). It is *not* zero-mean in a group: at k = 1 it is
  A_i = x_i − mean_{j≠i} x_j·n/(n−1), i.e. PKPO's x_i/n − mean_{j≠i} x_j/(n−1) times n, not RLOO;
- ``"loo_unscaled"``: A = s − ρ̂₋(k), the same baseline without the n/(n−1) (also unbiased: the
  baseline does not depend on response i; at k = 1 it is RLOO). Not in PKPO; kept for comparison;
- ``"loo_minus_one"``: A = s − b^loo−1 (PKPO's s^(loo−1), k/n dropped; at k = 1, REINFORCE). With k = n, "loo_minus_one" gives the best
response x₍ₙ₎ − x₍ₙ₋₁₎ and everyone else 0. All weights are binomial ratios taken from
:func:`binom_ratio_table`, so nothing overflows.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np
from numpy.typing import NDArray

from advshape._src.arrays import Array, DType, Namespace, working_dtype
from advshape._src.combinatorics import binom_ratio_table, bounded_cache

BASELINES = ("none", "loo", "loo_unscaled", "loo_minus_one")

__all__ = ["BASELINES", "offset_weight", "pkpo_dense", "pkpo_position_weights"]


def _readonly(weights: dict[str, NDArray[np.float64]]) -> dict[str, NDArray[np.float64]]:
    out = {key: np.array(value, dtype=np.float64) for key, value in weights.items()}
    for value in out.values():
        value.setflags(write=False)  # cached and shared: nobody may write to it
    return out


@bounded_cache
def pkpo_position_weights(n: int, k: int, baseline: str) -> dict[str, NDArray[np.float64]]:
    """Weights per sorted position p = 1..n (index p − 1) for group size n and target k.

    Returns ``self`` (on x₍ₚ₎), ``above`` (summed over q > p) and ``below`` (summed over q < p).
    """
    p = np.arange(1, n + 1)
    zeros = np.zeros(n)
    # α_p = C(p−1, k−1)/C(n−1, k−1)
    alpha = binom_ratio_table(n - 1, k - 1)[p - 1]
    if baseline == "none":
        # β_q = C(q−2, k−2)/C(n−1, k−1) = (k−1)/(n−1)·C(q−2, k−2)/C(n−2, k−2), q ≥ 2
        beta = zeros.copy()
        if k >= 2:
            beta[1:] = (k - 1) / (n - 1) * binom_ratio_table(n - 2, k - 2)[p[1:] - 2]
        return _readonly({"self": alpha, "above": beta, "below": zeros})
    if baseline == "loo_minus_one":
        # ε_q = C(q−1, k−2)/C(n−1, k−1) = (k−1)/(n−k+1)·C(q−1, k−2)/C(n−1, k−2)
        eps = zeros.copy()
        if k >= 2:
            eps = (k - 1) / (n - k + 1) * binom_ratio_table(n - 1, k - 2)[p - 1]
        return _readonly({"self": alpha, "above": zeros, "below": -eps})
    if baseline in ("loo", "loo_unscaled"):  # needs k ≤ n − 1
        # PKPO's s^(loo) subtracts n/(n−1)·ρ̂₋(k) (see the module docstring)
        scale = n / (n - 1) if baseline == "loo" else 1.0
        beta = zeros.copy()
        if k >= 2:
            beta[1:] = (k - 1) / (n - 1) * binom_ratio_table(n - 2, k - 2)[p[1:] - 2]
        # γ_q = C(q−1, k−1)/C(n−1, k) = k/(n−k)·α_q ; δ_q = C(q−2, k−1)/C(n−1, k) = k/(n−1)·C(q−2, k−1)/C(n−2, k−1)
        gamma = k / (n - k) * alpha
        delta = zeros.copy()
        delta[1:] = k / (n - 1) * binom_ratio_table(n - 2, k - 1)[p[1:] - 2]
        return _readonly({"self": alpha, "above": beta - scale * delta, "below": -scale * gamma})
    raise ValueError(f"unknown PKPO baseline {baseline!r}; choose one of {BASELINES}")


# Up to this group size the whole transformation is one small matrix product per group
# (O(n²) but a single BLAS call); beyond it, prefix sums keep the cost O(n).
_MATMUL_MAX_N = 64


@bounded_cache
def pkpo_matrix(n: int, k: int, baseline: str) -> NDArray[np.float64]:
    """W with A₍ₚ₎ = Σ_q x₍q₎·W[q, p] on sorted rewards: diag = self, q > p = above, q < p = below."""
    w = pkpo_position_weights(n, k, baseline)
    ones = np.ones((n, n))
    matrix = (
        np.diag(w["self"])
        + np.tril(w["above"][:, None] * ones, -1)
        + np.triu(w["below"][:, None] * ones, 1)
    )
    matrix.setflags(write=False)  # cached and shared
    return matrix


def offset_weight(n: int, k: int, baseline: str) -> float:
    """How a common offset c of the rewards moves every advantage: A(x + c) = A(x) + c·this.

    Each quantity is a mean of subset maxima, which moves by c (the empty maximum, 0, does
    not): s by c, ρ̂₋(k) by c, the (k − 1)-subset baseline by c if k ≥ 2 (0 if k = 1). So
    "none" 1, "loo_unscaled" 0, "loo_minus_one" 0 (1 at k = 1, where it is REINFORCE) and
    "loo" 1 − n/(n − 1) = −1/(n − 1): these are the column sums of :func:`pkpo_matrix`, exactly.
    """
    if baseline == "none" or (baseline == "loo_minus_one" and k == 1):
        return 1.0
    if baseline == "loo":
        return -1.0 / (n - 1)
    return 0.0


def pkpo_dense(xp: Namespace, rewards: Array, k: int, baseline: str, out_dtype: DType) -> Array:
    """PKPO advantages along the last axis of ``rewards`` [..., n] (any Array-API library).

    Exact to the working precision (float64 where the library has it) for any finite rewards:
    each group is shifted by its smallest reward first, A(x) = A(x − x₍₁₎) + x₍₁₎·w₀ with w₀ the
    exact :func:`offset_weight`, so a shared offset cancels before any weighted sum (a constant
    group gives exactly x₍₁₎·w₀: 0 for the offset-invariant baselines); a group whose spread
    overflows is scaled by a power of two first. Tied rewards get one value (computed at the
    last of their sorted positions), so the result does not depend on the responses' order.
    """
    n = int(rewards.shape[-1])
    device = array_api_compat.device(rewards)
    # sums of weighted rewards in the working precision (float64 where available), whatever
    # the rewards' dtype; cast to the output dtype at the end
    work = working_dtype(xp, rewards)
    # sort in the rewards' own dtype (ordering is exact in any dtype, and cheaper there)
    x = rewards if xp.isdtype(rewards.dtype, "real floating") else xp.astype(rewards, out_dtype)
    xs: Array  # sorted rewards and their permutation, in the library of `rewards`
    order: Array
    if isinstance(x, np.ndarray):  # plain NumPy: an unstable argsort (the compat one is stable)
        order = np.argsort(x, axis=-1)
        xs = np.take_along_axis(x, order, axis=-1)
    elif array_api_compat.is_torch_array(x):
        xs, order = x.sort(dim=-1)  # values and permutation in one pass
    else:
        order = xp.argsort(x, axis=-1)  # ties may land in any order: results do not depend on it
        xs = xp.take_along_axis(x, order, axis=-1)
    sorted_work = xp.astype(xs, work)
    low = sorted_work[..., :1]
    delta = sorted_work - low  # ≥ 0; exact for rewards narrower than the working dtype
    unit = None
    if not bool(xp.all(xp.isfinite(delta[..., -1:]))):  # x₍ₙ₎ − x₍₁₎ overflows: scale first
        # by c = 2^(−E), E = ⌊log₂ max|x|⌋, as two normal factors (as continuous._Units does)
        top = xp.maximum(xp.abs(low), xp.abs(sorted_work[..., -1:]))
        exponent = xp.floor(xp.log2(top))  # top > 0 here
        half = xp.floor(exponent / 2)
        c0, c1 = 2.0 ** (half - exponent), 2.0 ** (-half)
        delta = sorted_work * c0 * c1 - low * c0 * c1
        unit = (2.0 ** (exponent - half), 2.0**half)
    out = _weighted_sums(xp, delta, k, baseline, work, device)
    if unit is not None:
        out = out * unit[0] * unit[1]
    shift = offset_weight(n, k, baseline)
    if shift != 0.0:
        out = out + low * shift
    out = _equal_for_ties(xp, out, xs)
    return _unsort(xp, xp.astype(out, out_dtype), order)


def _weighted_sums(
    xp: Namespace, xs: Array, k: int, baseline: str, work: DType, device: Any
) -> Array:
    """A₍ₚ₎ = Σ_q x₍q₎·W[q, p] of sorted rows ``xs``: one small matrix product per row up to
    n = _MATMUL_MAX_N, prefix sums beyond."""
    n = int(xs.shape[-1])
    if n <= _MATMUL_MAX_N:
        matrix = xp.asarray(np.array(pkpo_matrix(n, k, baseline)), dtype=work, device=device)
        return np.matmul(xs, matrix) if isinstance(xs, np.ndarray) else xp.matmul(xs, matrix)
    w = pkpo_position_weights(n, k, baseline)
    out = xp.asarray(np.array(w["self"]), dtype=work, device=device) * xs
    if np.any(w["above"]):
        weighted = xp.asarray(np.array(w["above"]), dtype=work, device=device) * xs
        # Σ_{q>p} = total − inclusive prefix sum
        out = out + (
            xp.sum(weighted, axis=-1, keepdims=True) - xp.cumulative_sum(weighted, axis=-1)
        )
    if np.any(w["below"]):
        weighted = xp.asarray(np.array(w["below"]), dtype=work, device=device) * xs
        out = out + (xp.cumulative_sum(weighted, axis=-1) - weighted)  # Σ_{q<p}
    return out


def _equal_for_ties(xp: Namespace, values: Array, xs: Array) -> Array:
    """``values`` (by sorted position) with every run of tied rewards given the value at the
    run's last position. Tied responses have equal advantages by definition (the same reward,
    the same others), but the formula of each position rounds differently; this picks one."""
    tied = xs[..., 1:] == xs[..., :-1]  # position p continues into p + 1
    if not bool(xp.any(tied)):
        return values
    device = array_api_compat.device(xs)
    index = xp.__array_namespace_info__().default_dtypes(device=device)["indexing"]
    last = xp.zeros((*tuple(xs.shape[:-1]), 1), dtype=index, device=device)
    cont = xp.concat((xp.astype(tied, index), last), axis=-1)  # 0 at each run's end
    ends_before = xp.cumulative_sum(1 - cont, axis=-1) - (1 - cont)  # the run index of p
    run_ends = xp.argsort(cont, axis=-1, stable=True)  # run ends first, in order
    return xp.take_along_axis(values, xp.take_along_axis(run_ends, ends_before, axis=-1), axis=-1)


def _unsort(xp: Namespace, values: Array, order: Array) -> Array:
    """Inverse of take_along_axis(·, order): out[..., order[..., i]] = values[..., i]."""
    if isinstance(values, np.ndarray):
        out = np.empty_like(values)
        np.put_along_axis(out, order, values, axis=-1)
        return out
    if array_api_compat.is_torch_array(values):
        return values.new_empty(values.shape).scatter_(-1, order, values)
    return xp.take_along_axis(values, xp.argsort(order, axis=-1), axis=-1)
