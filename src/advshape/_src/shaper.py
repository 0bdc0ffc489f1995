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
from functools import partial
from typing import Any, NamedTuple, cast

import array_api_compat
import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src import arrays
from advshape._src.combinatorics import CACHE_BYTES, _as_counts, bounded_cache

Scores = tuple[NDArray[np.float64], NDArray[np.float64]]
ScoresFn = Callable[..., Scores]
GenericFn = Callable[..., Any]  # (xp, rewards [..., n], out dtype[, groups=]) -> advantages
TableFn = Callable[[int], Scores]  # group size n -> (A⁺, A⁻) for N⁺ = 0..n
DeviceTables = dict[Any, Any]  # (sizes, device, dtype) -> tables on the device; "bytes" -> int

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

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
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
_REBUILD: weakref.WeakKeyDictionary[
    Callable[..., Any], tuple[Callable[..., Any] | None, Callable[..., Any], tuple[Any, ...]]
] = weakref.WeakKeyDictionary()


def set_rebuild(shaper: Shaper, rebuild: Callable[..., Any], *args: Any) -> Shaper:
    """Make ``shaper`` picklable as ``rebuild(*args)`` (a module-level function, picklable args).

    The hook by which a layer above the core (the registry, the surrogates layer) says how its
    shapers are rebuilt in another process. Returns ``shaper``.
    """
    _REBUILD[shaper.advantages] = (shaper.scores, rebuild, args)
    return shaper


def weights_from_scores(
    scores: Callable[[ArrayLike, ArrayLike], Scores],
    n_pos: ArrayLike,
    n: ArrayLike,
) -> Scores:
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


def _validated_scores(
    spec: str, info: ShaperInfo, raw: Callable[..., Any]
) -> Callable[[ArrayLike, ArrayLike], Scores]:
    check = _size_checker(spec, info)

    def scores(n_pos: ArrayLike, n: ArrayLike) -> Scores:
        n_pos_, n_ = np.broadcast_arrays(_as_counts("n_pos", n_pos), _as_counts("n", n))
        if n_.size:
            if np.any(n_pos_ > n_):
                i = np.argmax(n_pos_ > n_)
                raise ValueError(f"n_pos={n_pos_.flat[i]} exceeds the group size n={n_.flat[i]}")
            for size in np.unique(n_):
                check(int(size))
        out = raw(n_pos_, n_)
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise ValueError(
                f"the score function of shaper {spec!r} must return a pair (A+, A-), got "
                f"{type(out).__name__}"
            )
        result = []
        for label, value in zip(("A+", "A-"), out):
            try:
                if np.iscomplexobj(value):
                    raise TypeError
                arr = np.asarray(value, np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"the score function of shaper {spec!r} returned a non-real {label} "
                    f"({type(value).__name__}); it must return real numbers"
                ) from None
            if arr.shape != n_.shape:
                if arr.ndim == 0:  # a constant score: broadcast it
                    arr = np.broadcast_to(arr, n_.shape)
                else:
                    raise ValueError(
                        f"the score function of shaper {spec!r} returned {label} of shape "
                        f"{arr.shape} for counts of shape {n_.shape}; it must broadcast over "
                        "n_pos and n (one score per count)"
                    )
            result.append(arr + 0.0)  # + 0.0 turns the −0.0 of products like −ρ̂·0 into 0.0
        return result[0], result[1]

    return scores


def _row_counts(pos: np.ndarray) -> np.ndarray:
    """Number of True per row of a C-contiguous bool matrix, fast for short rows.

    A bool is one byte holding 0 or 1, so a row of n = 8m bools is m uint64 words whose set
    bits are exactly its Trues: a popcount per word (NumPy ≥ 2) replaces a reduction over a
    short axis, which NumPy does slowly row by row.
    """
    n = pos.shape[1]
    if n % 8 == 0 and n <= 64 and hasattr(np, "bitwise_count"):
        words: np.ndarray = np.bitwise_count(pos.view(np.uint64))
        counts = words[:, 0].astype(np.int64)
        for j in range(1, n // 8):  # at most 8 columns of words
            counts += words[:, j]
        return counts
    if n < 256:
        row_sums: np.ndarray = np.einsum("ij->i", pos.view(np.uint8))
        return row_sums.astype(np.int64)
    row_totals: np.ndarray = pos.sum(axis=-1)
    return row_totals


def _cast_checked(
    table: np.ndarray, dtype: Any, used: Callable[[], ArrayLike], spec: str, label: str
) -> np.ndarray:
    """``table`` cast to the output dtype; an entry that overflows there raises if it is used
    (``used()`` gives the N⁺ values where it is) and becomes 0 if not, so that nothing
    non-finite is ever multiplied or returned."""
    with np.errstate(over="ignore"):  # an overflow is reported just below
        cast = table.astype(dtype)
    finite = np.isfinite(cast)
    if finite.all():
        return cast
    bad = np.flatnonzero(~finite)
    hit = np.intersect1d(bad, np.asarray(used()))
    if hit.size:
        raise ValueError(
            f"shaper {spec!r}: the score {label} at N+ = {int(hit[0])} (group size "
            f"{table.shape[0] - 1}) is {table[hit[0]]:.6g}, which overflows {np.dtype(dtype)}; "
            "pass float32 (or float64) rewards"
        )
    cast[~finite] = 0
    return cast


def _dense_numpy(rewards: np.ndarray, table: TableFn, spec: str) -> np.ndarray | None:
    """The table lookup for NumPy, tuned for many short rows; None if rewards are not binary.

    NumPy's generic reductions and broadcast ``where`` pay a per-row cost on rows of ~16;
    counting through a uint8 ``einsum`` and selecting with exact 0/1 masks avoids it.
    """
    n = rewards.shape[-1]
    if rewards.dtype == np.bool_:
        pos = arrays.canonical_bool(rewards)
    else:
        pos = rewards == 1
        # binary iff every entry is 0 or 1 (NaN and inf are neither)
        if np.count_nonzero(pos | (rewards == 0)) != rewards.size:
            return None
    pos2 = np.ascontiguousarray(pos).reshape(-1, n)
    n_pos = _row_counts(pos2)
    tab_pos, tab_neg = table(n)
    dtype = rewards.dtype if rewards.dtype.kind == "f" else np.float64
    tab_pos = _cast_checked(tab_pos, dtype, lambda: n_pos[n_pos > 0], spec, "A+")
    tab_neg = _cast_checked(tab_neg, dtype, lambda: n_pos[n_pos < n], spec, "A-")
    a_pos = np.repeat(tab_pos[n_pos], n).reshape(pos2.shape)
    a_neg = np.repeat(tab_neg[n_pos], n).reshape(pos2.shape)
    # a⁻·[r = 0] + a⁺·[r = 1]: multiplying finite values by exact 0/1 keeps them bit-exact
    a_neg *= ~pos2
    a_pos *= pos2
    a_neg += a_pos
    return a_neg.reshape(rewards.shape)


def _distinct_sizes(sizes: np.ndarray) -> list[int]:
    """The distinct non-zero group sizes, ascending (one bincount of the sizes, no sort)."""
    present = np.bincount(sizes)
    present[0] = 0  # unused code slots
    sizes_present: list[int] = np.flatnonzero(present).tolist()
    return sizes_present


def _above(values: np.ndarray, bound: int) -> np.ndarray:
    return values[values > bound]


def _below(values: np.ndarray, bound: int) -> np.ndarray:
    return values[values < bound]


def _slot_scores(
    n_pos: np.ndarray,
    sizes: np.ndarray,
    table: TableFn,
    dtype: Any,
    check_size: Callable[[int], None],
    spec: str,
) -> np.ndarray:
    """Per code slot, the pair (A⁻, A⁺) of its group, as a [slots, 2] array in ``dtype``.

    One table per distinct group size; the tables are concatenated and each slot indexes
    its own at (offset of its size) + N⁺. Empty slots (size 0) get a harmless entry.
    """
    distinct = np.asarray(_distinct_sizes(sizes), dtype=np.int64)
    for size in distinct:
        check_size(int(size))
    if distinct.size == 0:
        return np.zeros((sizes.shape[0], 2), dtype)
    tabs_pos, tabs_neg, offsets, start = [], [], [], 0
    for size in distinct:
        size = int(size)
        sel = sizes == size
        tab_pos, tab_neg = table(size)
        used = n_pos[sel]
        tabs_pos.append(_cast_checked(tab_pos, dtype, partial(_above, used, 0), spec, "A+"))
        tabs_neg.append(_cast_checked(tab_neg, dtype, partial(_below, used, size), spec, "A-"))
        offsets.append(start)
        start += size + 1
    if distinct.size == 1:
        index = n_pos
    else:
        rank = np.minimum(np.searchsorted(distinct, sizes), distinct.size - 1)
        index = np.asarray(offsets)[rank] + np.minimum(n_pos, distinct[rank])
    out = np.empty((sizes.shape[0], 2), dtype)
    out[:, 0] = np.concatenate(tabs_neg)[index]
    out[:, 1] = np.concatenate(tabs_pos)[index]
    return out


def _ragged_numpy(
    rewards: np.ndarray,
    codes: np.ndarray,
    slots: int,
    table: TableFn,
    check_size: Callable[[int], None],
    spec: str,
) -> np.ndarray | None:
    """Binary ragged batch by segments: key = 2·code + r, one ``bincount`` of the keys gives
    (N⁻, N⁺) of every group, and the result is one gather of the per-group scores by key."""
    if rewards.dtype == np.bool_:
        pos = arrays.canonical_bool(rewards)
    else:
        pos = rewards == 1
        if np.count_nonzero(pos | (rewards == 0)) != rewards.shape[0]:
            return None
    key = codes * 2
    key += pos
    counts = np.bincount(key, minlength=2 * slots).reshape(slots, 2)
    n_pos = counts[:, 1]
    sizes = counts[:, 0] + n_pos
    dtype = rewards.dtype if rewards.dtype.kind == "f" else np.float64
    per_slot = _slot_scores(n_pos, sizes, table, dtype, check_size, spec)
    return per_slot.reshape(-1).take(key)


def _torch_correct(rewards: Any) -> Any:
    """The mask of correct responses of a torch reward tensor, or None if a reward is not 0/1."""
    import torch

    if rewards.dtype == torch.bool:
        return arrays.canonical_bool(rewards)
    pos = rewards == 1
    return pos if bool(torch.logical_or(pos, rewards == 0).all()) else None


def _ragged_torch(
    rewards: Any,
    codes: Any,
    slots: int,
    table: TableFn,
    check_size: Callable[[int], None],
    spec: str,
    cache: DeviceTables,
) -> Any:
    """The same on PyTorch, on the rewards' device: only the distinct group sizes (a few
    integers) are read on the host, to pick the score tables."""
    import torch

    pos = _torch_correct(rewards)
    if pos is None:
        return None
    dtype = rewards.dtype if rewards.dtype.is_floating_point else torch.get_default_dtype()
    key = codes * 2 + pos
    counts = torch.bincount(key, minlength=2 * slots).reshape(slots, 2)
    n_pos = counts[:, 1]
    sizes = counts[:, 0] + n_pos
    distinct = torch.unique(sizes).tolist()  # the only host read: a handful of integers
    distinct = tuple(int(s) for s in distinct if s > 0)
    for size in distinct:
        check_size(size)
    if not distinct:
        return torch.zeros(rewards.shape, dtype=dtype, device=rewards.device)
    cache_key = (distinct, rewards.device, dtype)
    if cache_key not in cache:
        tabs = [table(size) for size in distinct]
        flat_pos = np.concatenate([t[0] for t in tabs])
        flat_neg = np.concatenate([t[1] for t in tabs])
        offsets = np.cumsum([0] + [s + 1 for s in distinct[:-1]])
        _remember(
            cache,
            cache_key,
            (
                torch.as_tensor(flat_pos, device=rewards.device).to(dtype),  # overflow: checked
                torch.as_tensor(flat_neg, device=rewards.device).to(dtype),  # below, where used
                torch.as_tensor(offsets, device=rewards.device),
                torch.as_tensor(distinct, device=rewards.device),
            ),
        )
    flat_pos, flat_neg, offsets, sizes_dev = cache[cache_key]
    if len(distinct) == 1:
        index = n_pos
    else:
        rank = torch.searchsorted(sizes_dev, sizes).clamp_(max=len(distinct) - 1)
        index = offsets[rank] + torch.minimum(n_pos, sizes_dev[rank])
    per_slot = torch.stack((flat_neg[index], flat_pos[index]), dim=1)
    if not (bool(torch.isfinite(flat_pos).all()) and bool(torch.isfinite(flat_neg).all())):
        used = torch.stack((n_pos < sizes, n_pos > 0), dim=1)
        if not bool(torch.isfinite(per_slot[used]).all()):
            raise ValueError(
                f"shaper {spec!r}: a score overflows {dtype} in this batch; pass float32 (or "
                "float64) rewards"
            )
        per_slot = torch.where(used, per_slot, torch.zeros_like(per_slot))
    return per_slot.reshape(-1)[key]


def _remember(cache: DeviceTables, key: tuple[Any, ...], tensors: tuple[Any, ...]) -> None:
    """Keep device tables, at most CACHE_BYTES of them (all dropped when full: they rebuild
    in O(n) from the host tables)."""
    size = sum(t.numel() * t.element_size() for t in tensors)
    held = cache.get("bytes", 0) + size
    if held > CACHE_BYTES:
        cache.clear()
        held = size
    cache[key] = tensors
    cache["bytes"] = held


_NUMPY_SHARED: set[Any] = set()  # torch dtypes NumPy can view without a copy (filled lazily)


def _numpy_view(rewards: Any) -> np.ndarray | None:
    """A NumPy view of a CPU tensor that needs no grad and has a NumPy dtype, else None."""
    import torch

    if not _NUMPY_SHARED:
        _NUMPY_SHARED.update(
            {
                torch.float16,
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
    if (
        rewards.device.type == "cpu"
        and rewards.dtype in _NUMPY_SHARED
        and not rewards.requires_grad
    ):
        return cast(np.ndarray, rewards.numpy())
    return None


def _dense_torch(rewards: Any, table: TableFn, cache: DeviceTables, spec: str) -> Any:
    """The table lookup for PyTorch (CPU or CUDA); None if rewards are not binary."""
    import torch

    dtype = rewards.dtype if rewards.dtype.is_floating_point else torch.get_default_dtype()
    view = _numpy_view(rewards)
    if view is not None:
        # On the CPU the NumPy path is several times faster than torch's small-row kernels,
        # and from_numpy/.numpy() share memory, so the detour costs nothing.
        out = _dense_numpy(view, table, spec)
        return None if out is None else torch.from_numpy(out).to(dtype)
    pos = _torch_correct(rewards)
    if pos is None:
        return None
    n = int(rewards.shape[-1])
    key = (n, rewards.device, dtype)
    if key not in cache:
        tab_pos, tab_neg = table(n)
        _remember(
            cache,
            key,
            (
                torch.tensor(tab_pos, device=rewards.device).to(dtype),  # a copy: tables are
                torch.tensor(tab_neg, device=rewards.device).to(dtype),  # read-only
            ),
        )
    tab_pos, tab_neg = cache[key]
    n_pos = pos.sum(dim=-1)
    a_pos = tab_pos[n_pos].unsqueeze(-1)
    a_neg = tab_neg[n_pos].unsqueeze(-1)
    if not (bool(torch.isfinite(tab_pos).all()) and bool(torch.isfinite(tab_neg).all())):
        used = torch.cat((a_pos[n_pos > 0], a_neg[n_pos < n]))
        if not bool(torch.isfinite(used).all()):
            raise ValueError(
                f"shaper {spec!r}: a score overflows {dtype} in this batch; pass float32 (or "
                "float64) rewards"
            )
        return torch.where(pos, a_pos, a_neg)
    # a⁻·[r = 0] + a⁺·[r = 1]: exact, and faster than a broadcast torch.where on CPU
    return a_neg * ~pos + a_pos * pos


def _dense_array_api(xp: arrays.Namespace, rewards: Any, table: TableFn, spec: str) -> Any:
    """The table lookup for any Array-API library; None if rewards are not binary."""
    counts = arrays.binary_counts(xp, rewards)
    if counts is None:
        return None
    pos, n_pos = counts
    dtype = arrays.float_dtype(xp, rewards)
    device = array_api_compat.device(rewards)
    n = int(rewards.shape[-1])
    tab_pos, tab_neg = table(n)
    idx = xp.reshape(n_pos, (-1,))
    shape = (*tuple(n_pos.shape), 1)
    with np.errstate(over="ignore"):  # an overflow is reported just below, if used
        a_pos = xp.take(xp.asarray(np.array(tab_pos), dtype=dtype, device=device), idx, axis=0)
        a_neg = xp.take(xp.asarray(np.array(tab_neg), dtype=dtype, device=device), idx, axis=0)
    ok_pos = xp.isfinite(a_pos) | (idx == 0)
    ok_neg = xp.isfinite(a_neg) | (idx == n)
    if not bool(xp.all(ok_pos & ok_neg)):
        raise ValueError(
            f"shaper {spec!r}: a score overflows {dtype} in this batch; pass float32 (or "
            "float64) rewards"
        )
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
    check_size = _size_checker(spec, info)
    inner = getattr(generic, "func", generic)  # registry generics come wrapped in partial
    generic_takes_groups = bool(getattr(inner, "accepts_groups", False))

    @bounded_cache
    def table(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        a_pos, a_neg = checked_scores(np.arange(n + 1), np.full(n + 1, n))
        if not (np.all(np.isfinite(a_pos)) and np.all(np.isfinite(a_neg))):
            raise ValueError(f"shaper {spec!r} produced non-finite scores for group size {n}")
        a_pos.setflags(write=False)
        a_neg.setflags(write=False)
        return a_pos, a_neg

    def real_rewards(xp: arrays.Namespace, rewards: Any, groups: Any = None) -> Any:
        """Non-binary rewards: the shaper's real-reward form, if it has one."""
        if generic is None:
            raise arrays.non_binary_error(xp, rewards, spec)
        arrays.check_finite(xp, rewards, spec)
        arrays.check_representable(xp, rewards, spec)
        dtype = arrays.float_dtype(xp, rewards)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow raises just below
            if groups is None:
                out = generic(xp, rewards, dtype)
            else:
                out = generic(xp, rewards, dtype, groups=groups)
        return arrays.check_finite_output(xp, out, spec)

    def dense(xp: arrays.Namespace, rewards: Any) -> Any:
        if isinstance(rewards, np.ndarray) and rewards.dtype.kind in "biuf":
            out = _dense_numpy(rewards, table, spec)
        elif array_api_compat.is_torch_array(rewards):
            out = _dense_torch(rewards, table, device_tables, spec)
        else:
            out = _dense_array_api(xp, rewards, table, spec)
        return out if out is not None else real_rewards(xp, rewards)

    device_tables: DeviceTables = {}  # (sizes, device, dtype) -> tables already on the device

    def ragged_numpy(rewards: np.ndarray, groups: Any) -> Any:
        n = rewards.shape[0]
        codes, slots = arrays.codes_numpy(arrays.host_ids(groups, n))
        if n == 0:
            return np.zeros(0, rewards.dtype if rewards.dtype.kind == "f" else np.float64)
        out = _ragged_numpy(rewards, codes, slots, table, check_size, spec)
        if out is not None:
            return out
        segments = arrays.NumpySegments(codes, slots)
        for size in _distinct_sizes(segments.sizes):
            check_size(size)
        xp = segments.xp
        if generic_takes_groups:
            return real_rewards(xp, rewards, segments)
        return arrays.apply_blocks(xp, rewards, codes, dense, check_size)

    def ragged_torch(rewards: Any, groups: Any) -> Any:
        import torch

        n = int(rewards.shape[0])
        codes, slots = arrays.codes_torch(groups, n, rewards.device)
        dtype = rewards.dtype if rewards.dtype.is_floating_point else torch.get_default_dtype()
        if n == 0:
            return torch.zeros(0, dtype=dtype, device=rewards.device)
        out = _ragged_torch(rewards, codes, slots, table, check_size, spec, device_tables)
        if out is not None:
            return out
        wide = arrays.working_dtype(arrays.namespace(rewards), rewards)
        segments = arrays.TorchSegments(codes, slots, wide)
        for size in torch.unique(segments.sizes).tolist():
            if size > 0:
                check_size(int(size))
        xp = segments.xp
        if generic_takes_groups:
            return real_rewards(xp, rewards, segments)
        return arrays.apply_blocks(xp, rewards, codes, dense, check_size)

    def advantages(rewards: Any, groups: Any = None) -> Any:
        rewards = arrays.detached(rewards)
        xp = arrays.namespace(rewards)
        arrays.check_rewards(xp, rewards)
        if groups is None:
            if rewards.ndim == 0:
                raise ValueError("rewards must have at least one axis (the group axis, last)")
            check_size(int(rewards.shape[-1]))
            return dense(xp, rewards)
        if rewards.ndim != 1:
            raise ValueError(
                "with groups=..., rewards must be 1-D (one entry per response), got shape "
                f"{tuple(rewards.shape)}; for one group per row pass groups=None"
            )
        if isinstance(rewards, np.ndarray):
            return ragged_numpy(rewards, groups)
        if array_api_compat.is_torch_array(rewards):
            import torch

            view = _numpy_view(rewards)
            if view is not None and (
                not isinstance(groups, torch.Tensor) or groups.device.type == "cpu"
            ):
                out = ragged_numpy(view, groups)
                dtype = (
                    rewards.dtype if rewards.dtype.is_floating_point else torch.get_default_dtype()
                )
                return torch.from_numpy(out).to(dtype)
            return ragged_torch(rewards, groups)
        # any other Array-API library: codes on the host (ids usually are), blocks on the device
        n = int(rewards.shape[0])
        ids = groups
        if not array_api_compat.is_array_api_obj(groups) or isinstance(groups, np.ndarray):
            codes, _ = arrays.codes_numpy(arrays.host_ids(groups, n))
            ids = xp.asarray(codes, device=array_api_compat.device(rewards))
        else:
            arrays.check_id_array(groups, n)
        if n == 0:
            return xp.zeros((0,), dtype=arrays.float_dtype(xp, rewards))
        return arrays.apply_blocks(xp, rewards, ids, dense, check_size)

    def weights(n_pos: ArrayLike, n: ArrayLike) -> Scores:
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
