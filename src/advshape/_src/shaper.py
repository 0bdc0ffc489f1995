"""The ``Shaper`` type: one advantage shaping as a NamedTuple of pure functions.

A shaper that depends on the rewards only through the counts (N⁺, N) is fully described by
its score function ``scores(n_pos, n) -> (A⁺, A⁻)``. Its advantages on a batch are then a
table lookup: for each group size n in the batch, tabulate (A⁺, A⁻) for N⁺ = 0..n once
(O(n), independent of K), count N⁺ per group, and pick A⁺ or A⁻ per response. That is one
pass over the rewards plus one write, on whatever array library and device they live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src import arrays
from advshape._src.combinatorics import _as_counts

ScoresFn = Callable[..., tuple[NDArray[np.float64], NDArray[np.float64]]]
GenericFn = Callable[[Any, Any, Any], Any]  # (xp, rewards [..., n], out dtype) -> advantages

__all__ = ["Shaper", "ShaperInfo", "count_shaper", "weights_from_scores"]


class ShaperInfo(NamedTuple):
    """Registry metadata of a shaper (with its parameters resolved)."""

    summary: str
    paper: str
    equation: str
    formula: str
    target_k: int  # the K of the Pass@K the shaper targets (1: the 0/1 reward)
    unbiased: bool  # expected update ∝ ∇ρ_K exactly, at every finite N ≥ min_n
    binary_only: bool  # rejects rewards outside {0, 1}
    count_based: bool  # advantages depend on binary rewards only through (N⁺, N)
    min_n: int  # smallest group size the shaper is defined for
    k_le_n: bool  # needs K ≤ N (an unbiased Pass@K estimator exists only then)


class Shaper(NamedTuple):
    """An advantage shaping: rewards of a group of N responses -> per-response advantages.

    Fields are plain functions (call ``shaper.advantages(rewards)``), so a shaper can be
    passed around, pickled by name (``shaper.spec``) and rebuilt with ``advshape.shaper``.

    - ``advantages(rewards, groups=None)``: ``rewards`` is ``[..., n]`` with one group per
      row along the last axis, or 1-D with ``groups`` giving each response's group id (ints
      or strings; any order, any sizes). Returns advantages of the same shape, array library
      and device, in a floating dtype (the rewards' own, or the library default).
    - ``scores(n_pos, n) -> (A⁺, A⁻)``: float64 advantage scores of a correct and a wrong
      response in a group of n with n_pos correct (broadcasting); None if not count-based.
    - ``weights(n_pos, n) -> (w⁺, w⁻)``: effective gradient weights w⁺ = ρ̂·A⁺,
      w⁻ = −(1 − ρ̂)·A⁻, so the update is w⁺∇̂₊ − w⁻∇̂₋ (paper Table 1, middle column).
    - ``surrogate(rho)``: the population surrogate reward F(ρ) it ascends, or None.
    """

    name: str
    params: Mapping[str, Any]
    spec: str
    info: ShaperInfo
    advantages: Callable[..., Any]
    scores: Callable[[ArrayLike, ArrayLike], tuple[NDArray[np.float64], NDArray[np.float64]]] | None
    weights: (
        Callable[[ArrayLike, ArrayLike], tuple[NDArray[np.float64], NDArray[np.float64]]] | None
    )
    surrogate: Callable[[ArrayLike], NDArray[np.float64]] | None = None


def weights_from_scores(scores: Callable, n_pos: ArrayLike, n: ArrayLike):
    """(w⁺, w⁻) = (ρ̂·A⁺, −(1 − ρ̂)·A⁻) from a score function (paper Eqs. 7, 9; Table 1)."""
    a_pos, a_neg = scores(n_pos, n)
    rho = np.asarray(n_pos, np.float64) / np.asarray(n, np.float64)
    return rho * a_pos, -(1.0 - rho) * a_neg


def _size_checker(spec: str, info: ShaperInfo) -> Callable[[int], None]:
    def check(n: int) -> None:
        if n < info.min_n:
            raise ValueError(
                f"shaper {spec!r} needs groups of at least {info.min_n} responses, got a group of {n}; "
                "sample more responses per prompt (TRL: num_generations, verl: actor_rollout_ref.rollout.n)"
            )
        if info.k_le_n and info.target_k > n:
            raise ValueError(
                f"shaper {spec!r}: k={info.target_k} > group size n={n}; its unbiased Pass@K "
                f"estimator needs n >= k: sample at least {info.target_k} responses per prompt, "
                f"lower k, or use 'biased_k:k={info.target_k}', which is defined for any k"
            )

    return check


def _validated_scores(spec: str, info: ShaperInfo, raw: Callable) -> Callable:
    check = _size_checker(spec, info)

    def scores(n_pos: ArrayLike, n: ArrayLike):
        n_pos_, n_ = np.broadcast_arrays(_as_counts("n_pos", n_pos), _as_counts("n", n))
        if n_.size:
            if np.any(n_pos_ > n_):
                i = np.argmax(n_pos_ > n_)
                raise ValueError(f"n_pos={n_pos_.flat[i]} exceeds the group size n={n_.flat[i]}")
            for size in np.unique(n_):
                check(int(size))
        a_pos, a_neg = raw(n_pos_, n_)
        return np.asarray(a_pos, np.float64), np.asarray(a_neg, np.float64)

    return scores


def count_shaper(
    name: str,
    scores: ScoresFn,
    *,
    params: Mapping[str, Any] | None = None,
    spec: str | None = None,
    info: ShaperInfo | None = None,
    generic: GenericFn | None = None,
    surrogate: Callable[[ArrayLike], NDArray[np.float64]] | None = None,
) -> Shaper:
    """Build a :class:`Shaper` from a score function ``scores(n_pos, n) -> (A⁺, A⁻)``.

    This is how every registry shaper is made, and how a user makes their own: give the
    advantage of a correct and of a wrong response as a function of the counts, and get
    vectorised advantages on NumPy/PyTorch/… arrays, dense or ragged, for free.
    ``generic(xp, rewards, dtype)``, if given, handles non-binary rewards (else they raise).
    """
    params = dict(params or {})
    spec = spec or name
    info = info or ShaperInfo(
        summary=f"user-defined shaper {name!r}",
        paper="user-defined",
        equation="",
        formula="",
        target_k=int(params.get("k", 1)),
        unbiased=False,
        binary_only=generic is None,
        count_based=True,
        min_n=1,
        k_le_n=False,
    )
    checked_scores = _validated_scores(spec, info, scores)

    @lru_cache(maxsize=64)
    def table(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        a_pos, a_neg = checked_scores(np.arange(n + 1), np.full(n + 1, n))
        if not (np.all(np.isfinite(a_pos)) and np.all(np.isfinite(a_neg))):
            raise ValueError(f"shaper {spec!r} produced non-finite scores for group size {n}")
        return a_pos, a_neg

    def dense(xp, rewards):
        counts = arrays.binary_counts(xp, rewards)
        dtype = arrays.float_dtype(xp, rewards)
        if counts is None:
            if generic is None:
                raise arrays.non_binary_error(xp, rewards, spec)
            arrays.check_finite(xp, rewards, spec)
            return generic(xp, rewards, dtype)
        pos, n_pos = counts
        tab_pos, tab_neg = table(int(rewards.shape[-1]))
        device = arrays.array_api_compat.device(rewards)
        idx = xp.reshape(n_pos, (-1,))
        shape = (*tuple(n_pos.shape), 1)
        a_pos = xp.reshape(
            xp.take(xp.asarray(tab_pos, dtype=dtype, device=device), idx, axis=0), shape
        )
        a_neg = xp.reshape(
            xp.take(xp.asarray(tab_neg, dtype=dtype, device=device), idx, axis=0), shape
        )
        return xp.where(pos, a_pos, a_neg)

    check_size = _size_checker(spec, info)

    def advantages(rewards, groups=None):
        return arrays.apply_grouped(rewards, groups, dense, check_size)

    def weights(n_pos: ArrayLike, n: ArrayLike):
        return weights_from_scores(checked_scores, n_pos, n)

    advantages.__doc__ = f"Advantages of shaper {spec!r}: see advshape.Shaper."
    return Shaper(
        name=name,
        params=params,
        spec=spec,
        info=info,
        advantages=advantages,
        scores=checked_scores,
        weights=weights,
        surrogate=surrogate,
    )
