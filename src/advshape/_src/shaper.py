"""The ``Shaper`` type: one advantage shaping as a NamedTuple of pure functions.

A shaper that depends on the rewards only through the counts (N⁺, N) is fully described by
its score function ``scores(n_pos, n) -> (A⁺, A⁻)``. Its advantages on a batch are then a
table lookup: for each group size n in the batch, tabulate (A⁺, A⁻) for N⁺ = 0..n once
(O(n), independent of K), count N⁺ per group, and pick A⁺ or A⁻ per response. That is one
pass over the rewards plus one write, on whatever array library and device they live.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src import arrays
from advshape._src.combinatorics import _as_counts

ScoresFn = Callable[..., tuple[NDArray[np.float64], NDArray[np.float64]]]
GenericFn = Callable[[Any, Any, Any], Any]  # (xp, rewards [..., n], out dtype) -> advantages

__all__ = ["Shaper", "ShaperInfo", "count_shaper", "set_rebuild", "weights_from_scores"]


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

    def __reduce__(self):
        # A shaper travels (to Ray / multiprocessing workers) as the recipe that built it:
        # registry shapers as their spec string, forward-engineered ones as their surrogate text.
        # The layer that builds a shaper registers its recipe (see ``set_rebuild``), so this core
        # module imports nothing above it.
        recipe = _REBUILD.get(self.advantages)
        if recipe is not None and recipe[0] is self.scores:
            return recipe[1], recipe[2]
        raise TypeError(
            f"shaper {self.spec!r} cannot be pickled: it is neither a registry shaper nor "
            "forward-engineered from a text surrogate (a count_shaper of your own, or "
            "from_surrogate of a Python callable); build it inside the worker, register it with "
            "advshape.register, or give from_surrogate a string"
        )


# advantages function -> (scores function, rebuild callable, its arguments). Keyed weakly by the
# shaper's own ``advantages`` closure, so a recipe lives exactly as long as its shaper's functions,
# and checked against ``scores`` so that a ``_replace``d shaper does not pickle as the original.
_REBUILD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def set_rebuild(shaper: Shaper, rebuild: Callable[..., Shaper], *args: Any) -> Shaper:
    """Make ``shaper`` picklable as ``rebuild(*args)`` (a module-level function, picklable args).

    The hook by which a layer above the core (the registry, the surrogates layer) says how its
    shapers are rebuilt in another process. Returns ``shaper``.
    """
    _REBUILD[shaper.advantages] = (shaper.scores, rebuild, args)
    return shaper


def weights_from_scores(scores: Callable, n_pos: ArrayLike, n: ArrayLike):
    """(w⁺, w⁻) = (ρ̂·A⁺, −(1 − ρ̂)·A⁻) from a score function (paper Eqs. 7, 9; Table 1)."""
    a_pos, a_neg = scores(n_pos, n)
    rho = np.asarray(n_pos, np.float64) / np.asarray(n, np.float64)
    return rho * a_pos + 0.0, -(1.0 - rho) * a_neg + 0.0  # + 0.0: no −0.0 in printed tables


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
        # + 0.0 turns the −0.0 of products like −ρ̂·0 into 0.0
        return np.asarray(a_pos, np.float64) + 0.0, np.asarray(a_neg, np.float64) + 0.0

    return scores


def _row_counts(pos: np.ndarray) -> np.ndarray:
    """Number of True per row of a C-contiguous bool matrix, fast for short rows.

    A bool is one byte holding 0 or 1, so a row of n = 8m bools is m uint64 words whose set
    bits are exactly its Trues: a popcount per word (NumPy ≥ 2) replaces a reduction over a
    short axis, which NumPy does slowly row by row.
    """
    n = pos.shape[1]
    if n % 8 == 0 and n <= 64 and hasattr(np, "bitwise_count"):
        words = np.bitwise_count(pos.view(np.uint64))
        counts = words[:, 0].astype(np.int64)
        for j in range(1, n // 8):  # at most 8 columns of words
            counts += words[:, j]
        return counts
    if n < 256:
        return np.einsum("ij->i", pos.view(np.uint8)).astype(np.int64)
    return pos.sum(axis=-1)


def _dense_numpy(rewards: np.ndarray, table: Callable) -> np.ndarray | None:
    """The table lookup for NumPy, tuned for many short rows; None if rewards are not binary.

    NumPy's generic reductions and broadcast ``where`` pay a per-row cost on rows of ~16;
    counting through a uint8 ``einsum`` and selecting with exact 0/1 masks avoids it.
    """
    n = rewards.shape[-1]
    if rewards.dtype == np.bool_:
        pos = rewards
    else:
        pos = rewards == 1
        # binary iff every entry is 0 or 1 (NaN and inf are neither)
        if np.count_nonzero(pos | (rewards == 0)) != rewards.size:
            return None
    pos2 = np.ascontiguousarray(pos).reshape(-1, n)
    n_pos = _row_counts(pos2)
    tab_pos, tab_neg = table(n)
    dtype = rewards.dtype if rewards.dtype.kind == "f" else np.float64
    a_pos = np.repeat(tab_pos.astype(dtype)[n_pos], n).reshape(pos2.shape)
    a_neg = np.repeat(tab_neg.astype(dtype)[n_pos], n).reshape(pos2.shape)
    # a⁻·[r = 0] + a⁺·[r = 1]: multiplying by exact 0/1 keeps every value bit-exact
    a_neg *= ~pos2
    a_pos *= pos2
    a_neg += a_pos
    return a_neg.reshape(rewards.shape)


_NUMPY_SHARED: set = set()  # torch dtypes NumPy can view without a copy (filled lazily)


def _dense_torch(rewards, table: Callable, cache: dict):
    """The table lookup for PyTorch (CPU or CUDA); None if rewards are not binary."""
    import torch

    if not _NUMPY_SHARED:
        _NUMPY_SHARED.update(
            {
                torch.float32,
                torch.float64,
                torch.int64,
                torch.int32,
                torch.int16,
                torch.int8,
                torch.uint8,
                torch.bool,
            }
        )
    dtype = rewards.dtype if rewards.dtype.is_floating_point else torch.get_default_dtype()
    if (
        rewards.device.type == "cpu"
        and rewards.dtype in _NUMPY_SHARED
        and not rewards.requires_grad
    ):
        # On the CPU the NumPy path is several times faster than torch's small-row kernels,
        # and from_numpy/.numpy() share memory, so the detour costs nothing.
        out = _dense_numpy(rewards.numpy(), table)
        return None if out is None else torch.from_numpy(out).to(dtype)
    if rewards.dtype == torch.bool:
        pos = rewards
    else:
        pos = rewards == 1
        if not bool(torch.logical_or(pos, rewards == 0).all()):
            return None
    n = int(rewards.shape[-1])
    key = (n, rewards.device, dtype)
    if key not in cache:
        tab_pos, tab_neg = table(n)
        cache[key] = (
            torch.as_tensor(tab_pos, dtype=dtype, device=rewards.device),
            torch.as_tensor(tab_neg, dtype=dtype, device=rewards.device),
        )
    tab_pos, tab_neg = cache[key]
    n_pos = pos.sum(dim=-1)
    # a⁻·[r = 0] + a⁺·[r = 1]: exact, and faster than a broadcast torch.where on CPU
    return tab_neg[n_pos].unsqueeze(-1) * ~pos + tab_pos[n_pos].unsqueeze(-1) * pos


def _dense_array_api(xp, rewards, table: Callable):
    """The table lookup for any Array-API library; None if rewards are not binary."""
    counts = arrays.binary_counts(xp, rewards)
    if counts is None:
        return None
    pos, n_pos = counts
    dtype = arrays.float_dtype(xp, rewards)
    device = arrays.array_api_compat.device(rewards)
    tab_pos, tab_neg = table(int(rewards.shape[-1]))
    idx = xp.reshape(n_pos, (-1,))
    shape = (*tuple(n_pos.shape), 1)
    a_pos = xp.take(xp.asarray(tab_pos, dtype=dtype, device=device), idx, axis=0)
    a_neg = xp.take(xp.asarray(tab_neg, dtype=dtype, device=device), idx, axis=0)
    return xp.where(pos, xp.reshape(a_pos, shape), xp.reshape(a_neg, shape))


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
        if isinstance(rewards, np.ndarray) and rewards.dtype.kind in "biuf":
            out = _dense_numpy(rewards, table)
        elif arrays.array_api_compat.is_torch_array(rewards):
            out = _dense_torch(rewards, table, device_tables)
        else:
            out = _dense_array_api(xp, rewards, table)
        if out is not None:
            return out
        # not binary: the shaper's real-reward form, if it has one
        if generic is None:
            raise arrays.non_binary_error(xp, rewards, spec)
        arrays.check_finite(xp, rewards, spec)
        return generic(xp, rewards, arrays.float_dtype(xp, rewards))

    device_tables: dict = {}  # (n, device, dtype) -> tables already on the device
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
