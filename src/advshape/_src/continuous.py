"""Shapings defined for any real rewards, written for any Array-API library.

Binary batches never come here (their exact (N⁺, N) tables are used); these are the same
definitions applied to continuous rewards. Each takes ``(xp, rewards, dtype)`` with groups
along the last axis of ``[..., n]``; the mean/std shapings also take ``groups=``, an object
giving per-group sums (:class:`advshape._src.arrays.DenseGroups` for the last axis, or the
segment sums of a ragged batch), so dense and ragged batches share one formula.

Group statistics are exact to the working precision, whatever the rewards' dtype and
magnitude, in every order of the responses:

- they are computed in float64 where the library has it (float16/bfloat16/float32 rewards
  are widened first), and cast to the output dtype only at the end;
- float64 rewards (and float32 ones where the library has no float64) are shifted by one
  member of their group first (y = x − x_ref), so a group of nearly equal rewards keeps its
  differences (no cancellation against a large mean) and a constant group is exactly y = 0
  (advantage 0, never ±1 from a rounding residue);
- where a difference would overflow, or deviations are so small that their rounding is no
  longer relative (subnormals), each group is scaled by a power of two first (exact), so no
  finite reward gives an overflow, a silent 0 or a NaN;
- the std is taken of d/s with s = mean |d|, so neither d² nor its mean under- or overflows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeGuard, TypeVar

import array_api_compat
import numpy as np

from advshape._src import arrays
from advshape._src.arrays import Array, DType, Groups, Namespace
from advshape._src.pkpo import pkpo_dense

__all__ = ["dr_grpo", "grpo", "grpo_passk", "pkpo", "reinforce", "rloo"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _groups(xp: Namespace, rewards: Array, groups: Groups | None) -> Groups:
    return arrays.DenseGroups(xp, int(rewards.shape[-1])) if groups is None else groups


def _at_least_one(xp: Namespace, count: Any) -> Any:
    """Group sizes with unused code slots (size 0) read as 1: no 0/0 where nothing is read."""
    return count if isinstance(count, int) else xp.where(count > 0, count, xp.ones_like(count))


def _bessel(xp: Namespace, count: Any) -> Any:
    """N/(N − 1) per group (groups of one are refused before; unused slots read 1)."""
    if isinstance(count, int):
        return count / (count - 1)
    return count / xp.where(count > 1, count - 1, xp.ones_like(count))


class _Units:
    """Per-group powers of two c = 2^(−E), E = ⌊log₂ maxᵢ |xᵢ|⌋ (0 for an all-zero group), so
    that x·c lies in [1, 2) at its largest whatever the group's magnitude. Multiplying by a
    power of two changes no digit; c and 1/c are kept as two factors each, so that every
    factor is a normal number for any E from −1074 to 1023."""

    def __init__(self, xp: Namespace, groups: Groups, x: Array) -> None:
        self.spread = groups.spread
        top = groups.maximum(xp.abs(x))
        positive = top > 0
        exponent = xp.where(positive, xp.floor(xp.log2(xp.where(positive, top, 1.0))), 0.0)
        half = xp.floor(exponent / 2)
        self.c = (2.0 ** (half - exponent), 2.0 ** (-half))  # per group; c = c₀·c₁
        self.unit = (2.0 ** (exponent - half), 2.0**half)  # 1/c, the factor nearer 1 first

    def scale(self, x: Array) -> Array:
        """x·c, per response."""
        return x * self.spread(self.c[0]) * self.spread(self.c[1])

    def restore(self, x: Array) -> Array:
        """x/c, per response: back to the rewards' units (may overflow: checked by the caller)."""
        return x * self.spread(self.unit[0]) * self.spread(self.unit[1])


class _Deviations(NamedTuple):
    """x − x̄ = d/c per group (c from ``units``; 1 where it is None); ``mean_abs`` = mean |d|
    per group where asked for."""

    d: Array
    units: _Units | None
    mean_abs: Array | None


def _tiny(xp: Namespace, dtype: DType) -> float:
    """The smallest spread whose deviations still round relatively: 2^(emin + mantissa bits)
    (2^−970 in float64), far above the subnormals."""
    info = xp.finfo(dtype)
    return float(info.smallest_normal) / float(info.eps)


def _deviations(
    xp: Namespace, rewards: Array, groups: Groups, *, mean_abs: bool, rescale: bool = False
) -> _Deviations:
    """Each group's deviations from its own mean, exact to the working precision.

    Rewards that the working dtype holds with bits to spare (:func:`arrays.widens`) are
    centred plainly. Others are shifted by a member of their group first, y = x − x_ref; that
    is exact to the working precision unless a difference overflows or, with ``mean_abs``
    (the caller divides by the spread), the deviations are so small (subnormal) that their
    rounding is no longer relative. Then, and only then, every group is scaled by a power of
    two first (:class:`_Units`; one more pass and a per-group maximum).
    """
    x = xp.astype(rewards, arrays.working_dtype(xp, rewards))
    n = _at_least_one(xp, groups.count)
    if arrays.widens(xp, rewards):
        d = x - groups.spread(groups.total(x) / n)
        return _Deviations(d, None, groups.total(xp.abs(d)) / n if mean_abs else None)
    units = _Units(xp, groups, x) if rescale else None
    y = x if units is None else units.scale(x)
    y = y - groups.spread(groups.reference(y))
    d = y - groups.spread(groups.total(y) / n)
    total_abs = groups.total(xp.abs(d)) if mean_abs else None
    if units is None:
        if total_abs is None:
            fits = arrays.surely_finite(d) or bool(xp.all(xp.isfinite(d)))
        else:  # Σ|d| = 0 only for a constant group; else mean |d| must be finite, not tiny
            fits = bool(xp.all(xp.isfinite(total_abs))) and bool(
                xp.all((total_abs == 0) | (total_abs / n >= _tiny(xp, x.dtype)))
            )
        if not fits:
            return _deviations(xp, rewards, groups, mean_abs=mean_abs, rescale=True)
    return _Deviations(d, units, None if total_abs is None else total_abs / n)


def _inverse_spread(xp: Namespace, sigma: Array, eps: float, dev: _Deviations) -> Array:
    """Per group, s/(σ + ε) in the units of ``dev`` (so that A = (d/s)·this), where σ = s·σ'
    is the group's std in the rewards' units, σ' = ``sigma`` the std of d/s, and s the
    rewards-units spread. 0 for a constant group (σ' = 0).

    1/(σ' + ε/s) with r = s/ε, written so that no step under- or overflows: 1/(σ' + 1/r)
    for r > 1 (r = inf: ε = 0 or negligible), r/(σ'·r + 1) otherwise.
    """
    constant = sigma == 0
    sigma_safe = xp.where(constant, xp.ones_like(sigma), sigma)
    if eps == 0:
        inverse = 1.0 / sigma_safe
    else:
        assert dev.mean_abs is not None
        r = xp.where(dev.mean_abs == 0, xp.ones_like(sigma), dev.mean_abs) / eps
        if dev.units is not None:  # s = mean_abs/c: divide r by c
            r = r / dev.units.c[0] / dev.units.c[1]
        big = r > 1
        inverse = xp.where(
            big,
            1.0 / (sigma_safe + 1.0 / xp.where(big, r, xp.ones_like(r))),
            r / (sigma_safe * xp.where(big, xp.ones_like(r), r) + 1.0),
        )
    return xp.where(constant, xp.zeros_like(inverse), inverse)


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


def _in_reward_units(dev: _Deviations, x: Array) -> Array:
    return x if dev.units is None else dev.units.restore(x)


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
    dev = _deviations(xp, rewards, groups, mean_abs=False)
    return xp.astype(_in_reward_units(dev, dev.d * factor), dtype)


@_segmentable
def dr_grpo(xp: Namespace, rewards: Array, dtype: DType, groups: Groups | None = None) -> Array:
    """A_i = r_i − r̄ (Dr. GRPO, Liu et al. 2025)."""
    if _fast(groups, xp, rewards):
        return _numpy_segments_fast(rewards, groups, dtype, "dr_grpo")
    dev = _deviations(xp, rewards, _groups(xp, rewards, groups), mean_abs=False)
    return xp.astype(_in_reward_units(dev, dev.d), dtype)


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
    if arrays.widens(xp, rewards):  # d² is exact enough and cannot under- or overflow
        d = _deviations(xp, rewards, groups, mean_abs=False).d
        sigma = xp.sqrt(groups.total(d * d) / n)
        if std == "sample":
            sigma = sigma * _bessel(xp, groups.count) ** 0.5
        constant = sigma == 0
        inverse = 1.0 / (xp.where(constant, xp.ones_like(sigma), sigma) + eps)
        inverse = xp.where(constant, xp.zeros_like(inverse), inverse)
        return xp.astype(d * groups.spread(inverse), dtype)
    dev = _deviations(xp, rewards, groups, mean_abs=True)
    e, sigma = _normalised(xp, dev, groups, n, std)
    return xp.astype(e * groups.spread(_inverse_spread(xp, sigma, eps, dev)), dtype)


def _normalised(
    xp: Namespace, dev: _Deviations, groups: Groups, n: Any, std: str
) -> tuple[Array, Array]:
    """(e, σ') with e = d/s (s = mean |d|: mean |e| = 1, so e² neither under- nor overflows)
    and σ' the std of e (population, or sample with ``std="sample"``)."""
    assert dev.mean_abs is not None
    scale = xp.where(dev.mean_abs == 0, xp.ones_like(dev.mean_abs), dev.mean_abs)
    e = dev.d / groups.spread(scale)
    sigma = xp.sqrt(groups.total(e * e) / n)
    if std == "sample":
        sigma = sigma * _bessel(xp, groups.count) ** 0.5
    return e, sigma


def grpo_passk(
    xp: Namespace, rewards: Array, dtype: DType, std: str = "sample", eps: float = 1e-6
) -> Array:
    """verl's ``grpo_passk`` (Tang et al. 2025, arXiv 2503.19595) on real rewards:
    A = (r_max − r_second)/(σ̂_sample + ε) at the first argmax, 0 elsewhere (``std="none"``:
    no division); a group whose two best rewards tie gets 0 everywhere (verl computes 0/ε
    there, the same 0, except with ε = 0, where verl's 0/0 gives NaN and this gives 0).

    σ̂ comes from the same float64, shifted statistics as :func:`grpo` (exact to the working
    precision, the same value in every order of the responses), and r_max − r_second is one
    subtraction of the two exact best rewards.
    """
    n = int(rewards.shape[-1])
    own = rewards if xp.isdtype(rewards.dtype, "real floating") else None
    work = arrays.working_dtype(xp, rewards)
    ordered = xp.sort(rewards if own is not None else xp.astype(rewards, work), axis=-1)
    top = xp.astype(ordered[..., -1:], work)
    second = xp.astype(ordered[..., -2:-1], work)
    tie = top == second
    if std == "none":
        value = top - second
    else:
        groups = arrays.DenseGroups(xp, n)
        if arrays.widens(xp, rewards):  # as in grpo: plain float64 statistics
            d = _deviations(xp, rewards, groups, mean_abs=False).d
            sigma = xp.sqrt(xp.sum(d * d, axis=-1, keepdims=True) / (n - 1))
            value = (top - second) / xp.where(tie, xp.ones_like(sigma), sigma + eps)
        else:
            dev = _deviations(xp, rewards, groups, mean_abs=True)
            gap = _gap(dev, top, second)
            if not bool(xp.all(xp.isfinite(gap))):  # top − second overflows: scale first
                dev = _deviations(xp, rewards, groups, mean_abs=True, rescale=True)
                gap = _gap(dev, top, second)
            _, sigma = _normalised(xp, dev, groups, n, "sample")
            scale = xp.where(dev.mean_abs == 0, xp.ones_like(gap), dev.mean_abs)
            value = (gap / scale) * _inverse_spread(xp, sigma, eps, dev)
    value = xp.where(tie, xp.zeros_like(value), value)
    best = xp.argmax(rewards, axis=-1, keepdims=True)  # the first of the best
    positions = xp.reshape(
        xp.arange(n, device=array_api_compat.device(rewards)), (1,) * (rewards.ndim - 1) + (n,)
    )
    return xp.astype(xp.where(positions == best, value, xp.zeros_like(value)), dtype)


def _gap(dev: _Deviations, top: Array, second: Array) -> Array:
    """r_max − r_second in the units of ``dev`` (c·top − c·second)."""
    if dev.units is None:
        return top - second
    c0, c1 = dev.units.c
    return top * c0 * c1 - second * c0 * c1


def pkpo(
    xp: Namespace, rewards: Array, dtype: DType, k: int, baseline: str = "loo_minus_one"
) -> Array:
    """PKPO on continuous rewards: see :mod:`advshape._src.pkpo`."""
    return pkpo_dense(xp, rewards, k, baseline, dtype)
