"""Shapings defined for any real rewards, written for any Array-API library.

Binary batches never come here (their exact (N⁺, N) tables are used); these are the same
definitions applied to continuous rewards. Each takes ``(xp, rewards, dtype)`` with groups
along the last axis of ``[..., n]``; the mean/std shapings also take ``groups=``, an object
giving per-group sums (:class:`advshape._src.arrays.DenseGroups` for the last axis, or the
segment sums of a ragged batch), so dense and ragged batches share one formula.

Group statistics are exact to the working precision, whatever the rewards' dtype:

- they are computed in float64 where the library has it (float16/bfloat16/float32 rewards
  are widened first), and cast to the output dtype only at the end;
- each group is first shifted by one of its own members (y = x − x_ref), so a group of
  nearly equal rewards keeps its differences (no cancellation against a large mean) and a
  constant group is exactly y = 0 (advantage 0, never ±1 from a rounding residue);
- the std is taken of d/s with s = mean |d|, so neither d² nor its mean under- or overflows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar

import numpy as np

from advshape._src import arrays
from advshape._src.arrays import Array, DType, Groups, Namespace
from advshape._src.pkpo import pkpo_dense

__all__ = ["dr_grpo", "grpo", "pkpo", "reinforce", "rloo"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _groups(xp: Namespace, rewards: Array, groups: Groups | None) -> Groups:
    return arrays.DenseGroups(xp, int(rewards.shape[-1])) if groups is None else groups


def _centred(xp: Namespace, rewards: Array, groups: Groups) -> tuple[Array, float]:
    """(d, unit) with x − mean(x) = unit·d per group, in the working dtype.

    If the working dtype is wide enough (arrays.widens), plainly (unit = 1). Otherwise the
    rewards are halved (exact), shifted by a member of their group (so nearly equal rewards
    keep their differences and a constant group gives exactly 0) and averaged as Σ(y/N), so
    no intermediate overflows for any finite rewards (unit = 2).
    """
    x = xp.astype(rewards, arrays.working_dtype(xp, rewards))
    n = _at_least_one(xp, groups.count)
    if arrays.widens(xp, rewards):
        return x - groups.spread(groups.total(x) / n), 1.0
    half = x * 0.5
    y = half - groups.spread(groups.reference(half))
    return y - groups.spread(groups.total(y / (n if isinstance(n, int) else groups.spread(n)))), 2.0


def _at_least_one(xp: Namespace, count: Any) -> Any:
    """Group sizes with unused code slots (size 0) read as 1: no 0/0 where nothing is read."""
    return count if isinstance(count, int) else xp.where(count > 0, count, xp.ones_like(count))


def _bessel(xp: Namespace, count: Any) -> Any:
    """N/(N − 1) per group (groups of one are refused before; unused slots read 1)."""
    if isinstance(count, int):
        return count / (count - 1)
    return count / xp.where(count > 1, count - 1, xp.ones_like(count))


def _segmentable(fn: _F) -> _F:
    vars(fn)["accepts_groups"] = True  # also computes ragged batches through per-group sums
    return fn


def _numpy_segments_fast(
    rewards: np.ndarray,
    groups: arrays.NumpySegments,
    dtype: DType,
    what: str,
    std: str = "population",
    eps: float = 0.0,
) -> np.ndarray:
    """rloo / dr_grpo / grpo of a ragged NumPy batch of narrow floats, in place.

    The same formulas as below (float64 statistics, no shift needed: see arrays.widens), with
    two float64 work buffers reused and the last multiply written straight into the output
    dtype; that is two thirds of the memory traffic of the generic form.
    """
    codes, slots = groups.codes, groups.slots
    n = np.maximum(groups.count, 1.0)  # unused slots (0 members) read 1: no 0/0
    d = rewards.astype(np.float64)
    mean = np.bincount(codes, weights=d, minlength=slots) / n
    work = mean.take(codes)
    np.subtract(d, work, out=d)  # d = x − mean
    if what == "dr_grpo":
        return d.astype(dtype)
    if what == "rloo":
        factor = groups.count / np.where(groups.count > 1, groups.count - 1, 1.0)
    else:
        np.multiply(d, d, out=work)
        sigma = np.sqrt(np.bincount(codes, weights=work, minlength=slots) / n)
        if std == "sample":
            sigma *= np.sqrt(groups.count / np.where(groups.count > 1, groups.count - 1, 1.0))
        constant = sigma == 0  # exactly centred to 0: see arrays.widens
        factor = np.where(constant, 0.0, 1.0 / (np.where(constant, 1.0, sigma) + eps))
    np.take(factor, codes, out=work, mode="clip")  # codes are in range; "clip" avoids a buffer
    out = np.empty(d.shape, dtype)
    np.multiply(d, work, out=out, casting="same_kind")
    return out


def _fast(groups: Groups | None, xp: Namespace, rewards: Array) -> TypeGuard[arrays.NumpySegments]:
    return isinstance(groups, arrays.NumpySegments) and arrays.widens(xp, rewards)


@_segmentable
def reinforce(xp: Namespace, rewards: Array, dtype: DType, groups: Groups | None = None) -> Array:
    """A_i = r_i (paper Eq. 5)."""
    return xp.astype(rewards, dtype, copy=True)


@_segmentable
def rloo(xp: Namespace, rewards: Array, dtype: DType, groups: Groups | None = None) -> Array:
    """A_i = r_i − (1/(N−1)) Σ_{j≠i} r_j = N/(N−1)·(r_i − r̄) (paper Eq. 6)."""
    if _fast(groups, xp, rewards):
        return _numpy_segments_fast(rewards, groups, dtype, "rloo")
    groups = _groups(xp, rewards, groups)
    factor = _bessel(xp, groups.count)
    factor = factor if isinstance(factor, float) else groups.spread(factor)
    d, unit = _centred(xp, rewards, groups)
    return xp.astype(d * (factor * unit), dtype)


@_segmentable
def dr_grpo(xp: Namespace, rewards: Array, dtype: DType, groups: Groups | None = None) -> Array:
    """A_i = r_i − r̄ (Dr. GRPO, Liu et al. 2025)."""
    if _fast(groups, xp, rewards):
        return _numpy_segments_fast(rewards, groups, dtype, "dr_grpo")
    d, unit = _centred(xp, rewards, _groups(xp, rewards, groups))
    return xp.astype(d * unit, dtype)


@_segmentable
def grpo(
    xp: Namespace,
    rewards: Array,
    dtype: DType,
    std: str = "population",
    eps: float = 0.0,
    groups: Groups | None = None,
) -> Array:
    """A_i = (r_i − r̄)/(σ̂ + ε) (paper Eq. 8); 0 for a group whose rewards are all equal.

    σ̂ is the population std, or with ``std="sample"`` σ̂·√(N/(N − 1)). A constant group is
    detected exactly (it is centred to d = 0 exactly), not through a rounded σ̂.
    """
    if _fast(groups, xp, rewards):
        return _numpy_segments_fast(rewards, groups, dtype, "grpo", std, eps)
    groups = _groups(xp, rewards, groups)
    n = _at_least_one(xp, groups.count)
    d, unit = _centred(xp, rewards, groups)  # x − x̄ = unit·d, σ̂ = unit·σ̂(d)
    eps = eps / unit
    if arrays.widens(xp, rewards):  # d² is exact enough and cannot under- or overflow
        scale = None
        sigma = xp.sqrt(groups.total(d * d) / n)
    else:
        scale = groups.total(xp.abs(d)) / n  # mean |d|: 0 exactly for a constant group
        scale = xp.where(scale == 0, xp.ones_like(scale), scale)
        e = d / groups.spread(scale)  # mean |e| = 1: e² neither under- nor overflows
        sigma = xp.sqrt(groups.total(e * e) / n)  # σ̂ / scale
    if std == "sample":
        sigma = sigma * _bessel(xp, groups.count) ** 0.5
    constant = sigma == 0
    if scale is None:
        inverse = 1.0 / (xp.where(constant, xp.ones_like(sigma), sigma) + eps)
    else:  # d/(scale·σ' + ε) = (d/scale)·1/(σ' + ε/scale)
        d = e
        inverse = 1.0 / (xp.where(constant, xp.ones_like(sigma), sigma) + eps / scale)
    inverse = xp.where(constant, xp.zeros_like(inverse), inverse)
    return xp.astype(d * groups.spread(inverse), dtype)


def pkpo(
    xp: Namespace, rewards: Array, dtype: DType, k: int, baseline: str = "loo_minus_one"
) -> Array:
    """PKPO on continuous rewards: see :mod:`advshape._src.pkpo`."""
    return pkpo_dense(xp, rewards, k, baseline, dtype)
