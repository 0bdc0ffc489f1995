"""The ``Shaper`` type, and the engine that computes every count-based shaper's advantages.

A shaper whose advantages depend on binary rewards only through the counts (N⁺, N) is fully
described by its score function ``scores(n_pos, n) -> (A⁺, A⁻)`` (paper Sec. 2, Table 1).
Its advantages on a batch are a table lookup, done here once for all such shapers (registry,
:func:`count_shaper`, ``from_surrogate``), in five steps, each one named function:

1. the binary check, :func:`_correct`: the mask r = 1, or None when some reward is neither 0
   nor 1 (those batches take the shaper's real-reward form, if it has one);
2. the counts: N⁺ per row of a dense ``[..., n]`` batch, or N⁺ and the size of each group of a
   ragged one (one ``bincount`` of 2·code + r);
3. the table lookup, :func:`_lookup`: for each group size n in the batch, (A⁺, A⁻) for
   N⁺ = 0..n, computed once in float64 (O(n), independent of K), cast to the output dtype and
   kept on the rewards' device;
4. the overflow policy, :func:`_check_overflow`: a score that overflows the output dtype
   raises if the batch uses it and is 0 where it is never used;
5. per response, A⁺ or A⁻ of its group.

:func:`count_advantages` dispatches over dense/ragged × NumPy/PyTorch/other Array-API
libraries to six kernels (``_dense_numpy`` … ``_ragged_array_api``). A shaper's
``advantages``, ``scores`` and ``weights`` are ``functools.partial`` of
:func:`count_advantages`, :func:`count_scores` and :func:`count_weights` over one
:class:`CountTables` (its score function, checks and table caches): one pass over the
rewards plus one write, on whatever array library and device they live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple, cast

import array_api_compat
import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src import arrays
from advshape._src.combinatorics import CACHE_BYTES, BoundedCache, _as_counts, bounded_cache

Scores = tuple[NDArray[np.float64], NDArray[np.float64]]
ScoresFn = Callable[..., Scores]
GenericFn = Callable[..., Any]  # (xp, rewards [..., n], out dtype[, groups=]) -> advantages
Rebuild = tuple[Callable[[str], Any], str]  # (function, text): the shaper is function(text)

__all__ = [
    "CountTables",
    "Shaper",
    "ShaperInfo",
    "count_advantages",
    "count_scores",
    "count_shaper",
    "count_weights",
    "weights_from_scores",
]


class ShaperInfo(NamedTuple):
    """A shaper's metadata, with its parameters resolved (``shaper.info``).

    Attributes:
        summary: one line: what the shaper is.
        paper: where it comes from (authors, year, arXiv id).
        equation: the paper's equation or section.
        formula: A⁺ and A⁻ in Unicode.
        target_k: the K of the Pass@K ρ_K the shaper targets (1: the 0/1 reward itself).
        unbiased: whether the expected update is ∝ ∇ρ_K exactly, at every finite N ≥ min_n.
        binary_only: whether rewards outside {0, 1} are refused.
        count_based: whether the advantages of binary rewards depend on them only through
            the counts (N⁺, N).
        min_n: the smallest group size N the shaper is defined for.
        k_le_n: whether K ≤ N is needed (an unbiased Pass@K estimator exists only then).

    Example:
        >>> import advshape
        >>> info = advshape.shaper("rloo_k:k=4").info
        >>> info.equation, info.target_k, info.unbiased, info.min_n, info.k_le_n
        ('Eq. (15), Table 1', 4, True, 2, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1; Eq. 11 for K ≤ N).
    """

    summary: str
    paper: str
    equation: str
    formula: str
    target_k: int
    unbiased: bool
    binary_only: bool
    count_based: bool
    min_n: int
    k_le_n: bool


class Shaper(NamedTuple):
    """An advantage shaping: rewards of a group of N responses -> per-response advantages.

        A_i = A⁺(N⁺, N) if r_i = 1,  A⁻(N⁺, N) if r_i = 0          (paper Sec. 2, Table 1)

    Fields are plain functions (call ``shaper.advantages(rewards)``), so a shaper can be
    passed around and pickled (as its spec, which rebuilds it: see :func:`count_shaper`).
    For a count-based shaper they are ``functools.partial`` of :func:`count_advantages`,
    :func:`count_scores` and :func:`count_weights` over its :class:`CountTables`.

    Attributes:
        name: the registry name (``"grpo_k"``), or the name given to :func:`count_shaper`.
        params: the parameters, resolved (``{"k": 4}``).
        spec: the canonical spec text, which rebuilds the shaper (``"grpo_k:k=4"``).
        info: its metadata, a :class:`ShaperInfo`.
        advantages: ``advantages(rewards, groups=None)``: ``rewards`` is ``[..., N]`` with one
            group per row along the last axis, or 1-D with ``groups`` giving each response's
            group id (ints or strings; any order, any sizes). Returns advantages of the same
            shape, array library and device, in a floating dtype (the rewards' own, or the
            library's default).
        scores: ``scores(n_pos, n) -> (A⁺, A⁻)``: float64 advantage scores of a correct and a
            wrong response in a group of N with N⁺ correct (broadcasting); None if not
            count-based.
        weights: ``weights(n_pos, n) -> (w⁺, w⁻)``: effective gradient weights w⁺ = ρ̂·A⁺,
            w⁻ = −(1 − ρ̂)·A⁻, so that the update is w⁺∇̂₊ − w⁻∇̂₋ (paper Table 1, middle
            column); None if not count-based.
        surrogate: ``surrogate(rho)``: the population surrogate reward F(ρ) it ascends, or None.

    Example:
        >>> import pickle, numpy as np, advshape
        >>> s = advshape.shaper("grpo")
        >>> s.advantages(np.array([[1.0, 0.0, 0.0, 0.0]])).round(6).tolist()  # √3, −1/√3
        [[1.732051, -0.57735, -0.57735, -0.57735]]
        >>> round(float(s.surrogate(0.25)), 6)  # F(ρ) = 2·arcsin√ρ = π/3
        1.047198
        >>> pickle.loads(pickle.dumps(s)).spec
        'grpo'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 2 and Table 1: scores, weights and surrogates).
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
        # A shaper travels (to Ray / multiprocessing workers) as the text that rebuilds it,
        # held by its own tables: registry shapers as their spec, text surrogates as their
        # surrogate: spec. A field replaced by another function is not that shaper any more.
        tables = _tables_of(self)
        if tables is not None and tables.rebuild is not None and tables.spec == self.spec:
            build, text = tables.rebuild
            return build, (text,)
        raise TypeError(
            f"shaper {self.spec!r} cannot be pickled: it is neither a registry shaper nor "
            "forward-engineered from a text surrogate (a count_shaper of your own, or "
            "from_surrogate of a Python callable); build it inside the worker, register it with "
            "advshape.register, or give from_surrogate a string"
        )


class CountTables:
    """What a count-based shaper computes with: its score function, checks and table caches.

    ``host`` caches the float64 tables (A⁺, A⁻) of each group size (bounded by bytes);
    ``device`` caches them cast to an output dtype on a device, per (sizes, device, dtype).
    ``rebuild`` is ``(function, text)``, how the shaper pickles, or None (it refuses).
    """

    __slots__ = (
        "device",
        "generic",
        "generic_takes_groups",
        "host",
        "info",
        "raw_scores",
        "rebuild",
        "spec",
    )

    def __init__(
        self,
        spec: str,
        info: ShaperInfo,
        raw_scores: ScoresFn,
        generic: GenericFn | None = None,
        rebuild: Rebuild | None = None,
    ) -> None:
        self.spec = spec
        self.info = info
        self.raw_scores = raw_scores
        self.generic = generic
        inner = getattr(generic, "func", generic)  # registry generics come wrapped in partial
        self.generic_takes_groups = bool(getattr(inner, "accepts_groups", False))
        self.rebuild = rebuild
        self.host: BoundedCache[[int], Scores] = bounded_cache(partial(_host_tables, self))
        self.device: dict[Any, Any] = {}  # (sizes, device, dtype) -> _Lookup; "bytes" -> int

    def __repr__(self) -> str:
        return f"CountTables({self.spec!r})"


def _tables_of(shaper: Shaper) -> CountTables | None:
    """The tables behind a shaper's advantages and scores, if both are the engine's over the
    same tables (a ``_replace``d field is not)."""
    adv, scores = shaper.advantages, shaper.scores
    if (
        isinstance(adv, partial)
        and adv.func is count_advantages
        and isinstance(scores, partial)
        and scores.func is count_scores
        and adv.args[0] is scores.args[0]
    ):
        return cast(CountTables, adv.args[0])
    return None


def weights_from_scores(
    scores: Callable[[ArrayLike, ArrayLike], Scores],
    n_pos: ArrayLike,
    n: ArrayLike,
) -> Scores:
    """Effective gradient weights from a score function:

        w⁺ = ρ̂·A⁺,  w⁻ = −(1 − ρ̂)·A⁻,  ρ̂ = N⁺/N        (paper Eqs. 7, 9; Table 1)

    so that the update (1/N)·Σ A_i ∇log π(y_i) is w⁺∇̂₊ − w⁻∇̂₋.

    Args:
        scores: ``scores(n_pos, n) -> (A⁺, A⁻)``.
        n_pos: N⁺ (broadcasts with ``n``).
        n: N.

    Returns:
        ``(w⁺, w⁻)``, float64, with −0.0 written as 0.0.

    Example:
        >>> import advshape
        >>> grpo = advshape.shaper("grpo").scores
        >>> [round(float(w), 6) for w in weights_from_scores(grpo, 1, 4)]  # √(ρ̂(1−ρ̂)) both
        [0.433013, 0.433013]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eqs. 7 and 9; Table 1, middle column).
    """
    a_pos, a_neg = scores(n_pos, n)
    rho = np.asarray(n_pos, np.float64) / np.asarray(n, np.float64)
    return rho * a_pos + 0.0, -(1.0 - rho) * a_neg + 0.0  # + 0.0: no −0.0 in printed tables


# --- Scores, weights and the group-size rules --------------------------------------------------


def check_group_size(tables: CountTables, n: int) -> None:
    """Raise ``ValueError`` unless the shaper is defined for groups of ``n`` responses: at least
    ``min_n``, and K ≤ N for the unbiased Pass@K estimators (paper Eq. 11)."""
    spec, info = tables.spec, tables.info
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


def count_scores(tables: CountTables, n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """The shaper's advantage scores (A⁺, A⁻) of a correct and a wrong response, checked.

    The counts are validated (non-negative integers, N⁺ ≤ N, group sizes the shaper accepts)
    and the score function's output must be a pair of real arrays that broadcast over the
    counts; scores are float64, with −0.0 written as 0.0.

    Args:
        tables: the shaper's tables (``shaper.scores`` is this function over them).
        n_pos: N⁺, the correct responses of each group.
        n: N, each group's size (broadcasts with ``n_pos``).

    Returns:
        ``(A⁺, A⁻)``, float64 arrays of the broadcast shape.

    Example:
        >>> import advshape
        >>> a_pos, a_neg = advshape.shaper("rloo").scores([0, 1, 4], 4)
        >>> a_pos.tolist(), a_neg.tolist()
        ([1.3333333333333333, 1.0, 0.0], [0.0, -0.3333333333333333, -1.3333333333333333])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1, first column: the scores of every shaper in the paper).
    """
    spec = tables.spec
    n_pos_, n_ = np.broadcast_arrays(_as_counts("n_pos", n_pos), _as_counts("n", n))
    if n_.size:
        if np.any(n_pos_ > n_):
            i = np.argmax(n_pos_ > n_)
            raise ValueError(f"n_pos={n_pos_.flat[i]} exceeds the group size n={n_.flat[i]}")
        for size in np.unique(n_):
            check_group_size(tables, int(size))
    out = tables.raw_scores(n_pos_, n_)
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


def count_weights(tables: CountTables, n_pos: ArrayLike, n: ArrayLike) -> Scores:
    """Effective gradient weights w⁺ = ρ̂·A⁺, w⁻ = −(1 − ρ̂)·A⁻ of the shaper's scores.

    Args:
        tables: the shaper's tables (``shaper.weights`` is this function over them).
        n_pos: N⁺, the correct responses of each group.
        n: N, each group's size.

    Returns:
        ``(w⁺, w⁻)``, float64: the update is w⁺∇̂₊ − w⁻∇̂₋.

    Example:
        >>> import advshape
        >>> [float(w) for w in advshape.shaper("rloo").weights(1, 4)]
        [0.25, 0.25]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eqs. 7 and 9; Table 1, middle column).
    """
    return weights_from_scores(partial(count_scores, tables), n_pos, n)


def _host_tables(tables: CountTables, n: int) -> Scores:
    """(A⁺, A⁻) for N⁺ = 0..n in float64, read-only: what every lookup of size n starts from."""
    a_pos, a_neg = count_scores(tables, np.arange(n + 1), np.full(n + 1, n))
    if not (np.all(np.isfinite(a_pos)) and np.all(np.isfinite(a_neg))):
        raise ValueError(f"shaper {tables.spec!r} produced non-finite scores for group size {n}")
    a_pos.setflags(write=False)
    a_neg.setflags(write=False)
    return a_pos, a_neg


# --- The binary check, the table lookup and the overflow policy -------------------------------


def _correct(rewards: Any) -> Any:
    """The binary check: the mask r = 1, or None if some reward is neither 0 nor 1 (NaN and
    inf are neither). One comparison pass and one pass over (r = 1) | (r = 0)."""
    if isinstance(rewards, np.ndarray):
        if rewards.dtype == np.bool_:
            return arrays.canonical_bool(rewards)  # bytes other than 0/1 would miscount
        pos = rewards == 1
        return pos if np.count_nonzero(pos | (rewards == 0)) == rewards.size else None
    if array_api_compat.is_torch_array(rewards):
        import torch

        if rewards.dtype == torch.bool:
            return arrays.canonical_bool(rewards)
        pos = rewards == 1
        return pos if bool(torch.logical_or(pos, rewards == 0).all()) else None
    xp = array_api_compat.array_namespace(rewards)
    if xp.isdtype(rewards.dtype, "bool"):
        return rewards
    pos = rewards == 1
    return pos if bool(xp.all(pos | (rewards == 0))) else None


class _Lookup(NamedTuple):
    """The score tables of some group sizes, one after another, in one dtype on one device."""

    pos: Any  # A⁺ of every (size, N⁺); an entry that overflows the dtype is 0 here
    neg: Any  # A⁻, likewise
    starts: Any  # where each size's table starts (on the device)
    sizes: Any  # the sizes, ascending (on the device)
    host_starts: NDArray[np.int64]
    host_sizes: tuple[int, ...]
    bad_pos: NDArray[np.intp]  # positions whose A⁺ overflows the dtype (on the host)
    bad_neg: NDArray[np.intp]


_NONE = np.zeros(0, np.intp)


def _cast(values: NDArray[np.float64], like: Any, dtype: Any) -> tuple[Any, NDArray[np.intp]]:
    """``values`` in ``dtype`` on the device of ``like``, entries that overflow it set to 0,
    and the positions of those entries (on the host)."""
    if isinstance(like, np.ndarray):
        with np.errstate(over="ignore"):  # reported by _check_overflow, where used
            out = values.astype(dtype)
        bad = np.flatnonzero(~np.isfinite(out))
        out[bad] = 0
        out.setflags(write=False)  # cached and shared between calls
        return out, bad
    if array_api_compat.is_torch_array(like):
        import torch

        tensor = torch.tensor(values, device=like.device).to(
            dtype
        )  # a copy: host tables are read-only
        finite = torch.isfinite(tensor)
        if bool(finite.all()):
            return tensor, _NONE
        tensor[~finite] = 0
        return tensor, np.flatnonzero(~finite.cpu().numpy())
    xp = array_api_compat.array_namespace(like)
    with np.errstate(over="ignore"):
        out = xp.asarray(np.array(values), dtype=dtype, device=array_api_compat.device(like))
    finite = xp.isfinite(out)
    if bool(xp.all(finite)):
        return out, _NONE
    return xp.where(finite, out, xp.zeros_like(out)), np.flatnonzero(~arrays.to_numpy(finite))


def _lookup(tables: CountTables, sizes: tuple[int, ...], like: Any, dtype: Any) -> _Lookup:
    """The table lookup: the tables of ``sizes`` (ascending) in ``dtype`` on the device of
    ``like``, cached per (sizes, device, dtype) for NumPy and PyTorch."""
    if isinstance(like, np.ndarray):
        key: Any = (sizes, "numpy", dtype)
    elif array_api_compat.is_torch_array(like):
        key = (sizes, like.device, dtype)
    else:
        key = None  # other libraries' devices need not be hashable: built per call
    cached = tables.device.get(key) if key is not None else None
    if cached is not None:
        return cast(_Lookup, cached)
    host = [tables.host(size) for size in sizes]
    starts = np.cumsum([0] + [size + 1 for size in sizes[:-1]]).astype(np.int64)
    pos, bad_pos = _cast(np.concatenate([h[0] for h in host]), like, dtype)
    neg, bad_neg = _cast(np.concatenate([h[1] for h in host]), like, dtype)
    if isinstance(like, np.ndarray):
        starts_dev, sizes_dev = starts, np.asarray(sizes, np.int64)
    else:
        xp = array_api_compat.array_namespace(like)
        device = array_api_compat.device(like)
        starts_dev = xp.asarray(starts, device=device)
        sizes_dev = xp.asarray(np.asarray(sizes, np.int64), device=device)
    lookup = _Lookup(pos, neg, starts_dev, sizes_dev, starts, sizes, bad_pos, bad_neg)
    if key is not None:
        _remember(tables.device, key, lookup)
    return lookup


def _remember(cache: dict[Any, Any], key: Any, lookup: _Lookup) -> None:
    """Keep device tables, at most CACHE_BYTES of them (all dropped when full: they rebuild
    in O(n) from the host tables)."""
    size = int(lookup.pos.nbytes) + int(lookup.neg.nbytes)
    held = cache.get("bytes", 0) + size
    if held > CACHE_BYTES:
        cache.clear()
        held = size
    cache[key] = lookup
    cache["bytes"] = held


def _dtype_name(dtype: Any) -> str:
    try:
        return str(np.dtype(dtype))
    except TypeError:
        return str(dtype)


def _check_overflow(
    tables: CountTables, lookup: _Lookup, index: Any, n_pos: Any, sizes: Any, dtype: Any
) -> None:
    """The overflow policy: a score that does not fit the output dtype raises ``ValueError``
    if the batch uses it (A⁺ of a group with N⁺ > 0, A⁻ of one with N⁺ < N) and is 0 in the
    tables otherwise, so nothing non-finite is ever multiplied or returned.

    ``index`` is each group's position in the lookup tables, ``n_pos`` and ``sizes`` its N⁺
    and N. Costs nothing unless some score overflows the dtype (then the used positions are
    read on the host)."""
    if not (lookup.bad_pos.size or lookup.bad_neg.size):
        return
    for label, bad, used in (
        ("A+", lookup.bad_pos, n_pos > 0),
        ("A-", lookup.bad_neg, n_pos < sizes),
    ):
        hit = np.intersect1d(bad, arrays.to_numpy(index[used])) if bad.size else bad
        if hit.size:
            position = int(hit[0])
            which = int(np.searchsorted(lookup.host_starts, position, side="right")) - 1
            size = lookup.host_sizes[which]
            count = position - int(lookup.host_starts[which])
            value = tables.host(size)[0 if label == "A+" else 1][count]
            raise ValueError(
                f"shaper {tables.spec!r}: the score {label} at N+ = {count} (group size "
                f"{size}) is {value:.6g}, which overflows {_dtype_name(dtype)}; pass float32 "
                "(or float64) rewards"
            )


# --- Dense kernels: rewards [..., n], one group per row ----------------------------------------


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


def _dense_numpy(tables: CountTables, rewards: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """NumPy, tuned for many short rows: NumPy's generic reductions and broadcast ``where``
    pay a per-row cost on rows of ~16; counting through popcounts or a uint8 ``einsum`` and
    selecting with exact 0/1 masks avoids it."""
    n = rewards.shape[-1]
    pos2 = np.ascontiguousarray(pos).reshape(-1, n)
    n_pos = _row_counts(pos2)
    dtype = rewards.dtype if rewards.dtype.kind == "f" else np.float64
    lookup = _lookup(tables, (n,), rewards, dtype)
    _check_overflow(tables, lookup, n_pos, n_pos, n, dtype)
    a_pos = np.repeat(lookup.pos[n_pos], n).reshape(pos2.shape)
    a_neg = np.repeat(lookup.neg[n_pos], n).reshape(pos2.shape)
    # a⁻·[r = 0] + a⁺·[r = 1]: multiplying finite values by exact 0/1 keeps them bit-exact
    a_neg *= ~pos2
    a_pos *= pos2
    a_neg += a_pos
    return a_neg.reshape(rewards.shape)


def _dense_torch(tables: CountTables, rewards: Any, pos: Any) -> Any:
    """PyTorch on its device (CUDA, or CPU tensors NumPy cannot view)."""
    dtype = _torch_float(rewards)
    n = int(rewards.shape[-1])
    lookup = _lookup(tables, (n,), rewards, dtype)
    n_pos = pos.sum(dim=-1)
    _check_overflow(tables, lookup, n_pos, n_pos, n, dtype)
    a_pos = lookup.pos[n_pos].unsqueeze(-1)
    a_neg = lookup.neg[n_pos].unsqueeze(-1)
    # a⁻·[r = 0] + a⁺·[r = 1]: exact, and faster than a broadcast torch.where on CPU
    return a_neg * ~pos + a_pos * pos


def _dense_array_api(tables: CountTables, xp: arrays.Namespace, rewards: Any, pos: Any) -> Any:
    """Any other Array-API library, with standard functions only."""
    n_pos = xp.count_nonzero(pos, axis=-1)
    dtype = arrays.float_dtype(xp, rewards)
    n = int(rewards.shape[-1])
    lookup = _lookup(tables, (n,), rewards, dtype)
    index = xp.reshape(n_pos, (-1,))
    _check_overflow(tables, lookup, index, index, n, dtype)
    shape = (*tuple(n_pos.shape), 1)
    a_pos = xp.reshape(xp.take(lookup.pos, index, axis=0), shape)
    a_neg = xp.reshape(xp.take(lookup.neg, index, axis=0), shape)
    return xp.where(pos, a_pos, a_neg)


# --- Ragged kernels: 1-D rewards and a group id per response ----------------------------------


def _distinct_sizes(sizes: np.ndarray) -> tuple[int, ...]:
    """The distinct non-zero group sizes, ascending (one bincount of the sizes, no sort)."""
    present = np.bincount(sizes)
    present[0] = 0  # unused code slots
    return tuple(np.flatnonzero(present).tolist())


def _group_scores(
    tables: CountTables, n_pos: Any, sizes: Any, distinct: tuple[int, ...], like: Any, dtype: Any
) -> Any:
    """Per group (code slot), the pair (A⁻, A⁺) as a [slots, 2] array (NumPy or PyTorch, on
    the device of ``n_pos``): each slot indexes its size's table at (start of the size) + N⁺.
    Empty slots (size 0) get a harmless entry."""
    for size in distinct:
        check_group_size(tables, size)
    xp = array_api_compat.array_namespace(n_pos)
    if not distinct:
        return xp.zeros((int(sizes.shape[0]), 2), dtype=dtype, device=array_api_compat.device(like))
    lookup = _lookup(tables, distinct, like, dtype)
    if len(distinct) == 1:
        index = n_pos
    else:
        rank = xp.clip(xp.searchsorted(lookup.sizes, sizes), max=len(distinct) - 1)
        index = lookup.starts[rank] + xp.minimum(n_pos, lookup.sizes[rank])
    _check_overflow(tables, lookup, index, n_pos, sizes, dtype)
    return xp.stack(
        (xp.take(lookup.neg, index, axis=0), xp.take(lookup.pos, index, axis=0)), axis=1
    )


def _ragged_numpy(tables: CountTables, rewards: np.ndarray, groups: Any) -> np.ndarray:
    """NumPy by segments: key = 2·code + r, one ``bincount`` of the keys gives (N⁻, N⁺) of
    every group, and the result is one gather of the per-group scores by key."""
    n = rewards.shape[0]
    codes, slots = arrays.codes_numpy(arrays.host_ids(groups, n))
    dtype = rewards.dtype if rewards.dtype.kind == "f" else np.float64
    if n == 0:
        return np.zeros(0, dtype)
    pos = _correct(rewards)
    if pos is None:
        segments = arrays.NumpySegments(codes, slots)
        real: np.ndarray = _ragged_real(
            tables, rewards, codes, segments, _distinct_sizes(segments.sizes)
        )
        return real
    key = codes * 2
    key += pos
    counts = np.bincount(key, minlength=2 * slots).reshape(slots, 2)
    n_pos = counts[:, 1]
    sizes = counts[:, 0] + n_pos
    per_group = _group_scores(tables, n_pos, sizes, _distinct_sizes(sizes), rewards, dtype)
    out: np.ndarray = per_group.reshape(-1).take(key)
    return out


def _ragged_torch(tables: CountTables, rewards: Any, groups: Any) -> Any:
    """PyTorch on the rewards' device: only the distinct group sizes (a few integers) are
    read on the host, to pick the score tables."""
    import torch

    n = int(rewards.shape[0])
    codes, slots = arrays.codes_torch(groups, n, rewards.device)
    dtype = _torch_float(rewards)
    if n == 0:
        return torch.zeros(0, dtype=dtype, device=rewards.device)
    pos = _correct(rewards)
    if pos is None:
        wide = arrays.working_dtype(arrays.namespace(rewards), rewards)
        segments = arrays.TorchSegments(codes, slots, wide)
        present = tuple(int(s) for s in torch.unique(segments.sizes).tolist() if s > 0)
        return _ragged_real(tables, rewards, codes, segments, present)
    key = codes * 2 + pos
    counts = torch.bincount(key, minlength=2 * slots).reshape(slots, 2)
    n_pos = counts[:, 1]
    sizes = counts[:, 0] + n_pos
    distinct = tuple(int(s) for s in torch.unique(sizes).tolist() if s > 0)  # the host read
    return _group_scores(tables, n_pos, sizes, distinct, rewards, dtype).reshape(-1)[key]


def _ragged_array_api(tables: CountTables, xp: arrays.Namespace, rewards: Any, groups: Any) -> Any:
    """Any other Array-API library: codes on the host (ids usually are), then sorted dense
    blocks of equal group size on the device (:func:`arrays.apply_blocks`)."""
    n = int(rewards.shape[0])
    ids = groups
    if not array_api_compat.is_array_api_obj(groups) or isinstance(groups, np.ndarray):
        codes, _ = arrays.codes_numpy(arrays.host_ids(groups, n))
        ids = xp.asarray(codes, device=array_api_compat.device(rewards))
    else:
        arrays.check_id_array(groups, n)
    if n == 0:
        return xp.zeros((0,), dtype=arrays.float_dtype(xp, rewards))
    return arrays.apply_blocks(
        xp, rewards, ids, partial(_dense, tables), partial(check_group_size, tables)
    )


# --- Non-binary rewards ------------------------------------------------------------------------


def _real_rewards(
    tables: CountTables, xp: arrays.Namespace, rewards: Any, groups: Any = None
) -> Any:
    """Non-binary rewards: the shaper's real-reward form (``generic``), if it has one."""
    if tables.generic is None:
        raise arrays.non_binary_error(xp, rewards, tables.spec)
    arrays.check_finite(xp, rewards, tables.spec)
    arrays.check_representable(xp, rewards, tables.spec)
    dtype = arrays.float_dtype(xp, rewards)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow raises just below
        if groups is None:
            out = tables.generic(xp, rewards, dtype)
        else:
            out = tables.generic(xp, rewards, dtype, groups=groups)
    return arrays.check_finite_output(xp, out, tables.spec)


def _ragged_real(
    tables: CountTables, rewards: Any, codes: Any, segments: Any, sizes: tuple[int, ...]
) -> Any:
    """A non-binary ragged batch: by per-group sums where the real-reward form takes them,
    else as dense blocks of equal group size."""
    for size in sizes:
        check_group_size(tables, size)
    if tables.generic_takes_groups:
        return _real_rewards(tables, segments.xp, rewards, segments)
    return arrays.apply_blocks(
        segments.xp, rewards, codes, partial(_dense, tables), partial(check_group_size, tables)
    )


# --- Dispatch ----------------------------------------------------------------------------------

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


def _torch_float(rewards: Any) -> Any:
    """The output dtype of torch rewards: theirs if floating, else torch's default."""
    import torch

    return rewards.dtype if rewards.dtype.is_floating_point else torch.get_default_dtype()


def _dense(tables: CountTables, xp: arrays.Namespace, rewards: Any) -> Any:
    """Dense dispatch: the binary check, then the kernel of the rewards' library. On the CPU
    the NumPy kernel also serves torch tensors (several times faster than torch's small-row
    kernels; ``.numpy()``/``from_numpy`` share memory, so the detour costs nothing)."""
    if isinstance(rewards, np.ndarray) and rewards.dtype.kind in "biuf":
        pos = _correct(rewards)
        return (
            _real_rewards(tables, xp, rewards)
            if pos is None
            else _dense_numpy(tables, rewards, pos)
        )
    if array_api_compat.is_torch_array(rewards):
        import torch

        view = _numpy_view(rewards)
        pos = _correct(rewards if view is None else view)
        if pos is None:
            return _real_rewards(tables, xp, rewards)
        if view is None:
            return _dense_torch(tables, rewards, pos)
        return torch.from_numpy(_dense_numpy(tables, view, pos)).to(_torch_float(rewards))
    pos = _correct(rewards)
    if pos is None:
        return _real_rewards(tables, xp, rewards)
    return _dense_array_api(tables, xp, rewards, pos)


def _ragged(tables: CountTables, xp: arrays.Namespace, rewards: Any, groups: Any) -> Any:
    """Ragged dispatch. CPU torch rewards with host (or CPU) ids run on the NumPy kernel."""
    if isinstance(rewards, np.ndarray):
        return _ragged_numpy(tables, rewards, groups)
    if array_api_compat.is_torch_array(rewards):
        import torch

        view = _numpy_view(rewards)
        if view is not None and (
            not isinstance(groups, torch.Tensor) or groups.device.type == "cpu"
        ):
            return torch.from_numpy(_ragged_numpy(tables, view, groups)).to(_torch_float(rewards))
        return _ragged_torch(tables, rewards, groups)
    return _ragged_array_api(tables, xp, rewards, groups)


def count_advantages(tables: CountTables, rewards: Any, groups: Any = None) -> Any:
    """Advantages of a count-based shaper: A⁺ for each correct response, A⁻ for each wrong one.

        A_i = A⁺(N⁺, N) if r_i = 1,  A⁻(N⁺, N) if r_i = 0          (paper Table 1)

    with N⁺ and N the counts of response i's group. Non-binary rewards take the shaper's
    real-reward form, or raise ``ValueError`` for a binary-only shaper.

    Args:
        tables: the shaper's tables (``shaper.advantages`` is this function over them).
        rewards: ``[..., n]`` with one group per row along the last axis, or 1-D with
            ``groups``; NumPy, PyTorch (any device) or any Array-API array; real dtype.
        groups: None, or one group id per response (ints, strings, or an array of ids): any
            order, any group sizes.

    Returns:
        Advantages of the rewards' shape, library and device, in their floating dtype (or the
        library's default floating dtype for integer and bool rewards).

    Raises:
        ValueError: a group too small for the shaper (or K > N), a score that overflows the
            output dtype where used, non-binary rewards for a binary-only shaper, bad ids.

    Example:
        >>> import numpy as np, advshape
        >>> s = advshape.shaper("rloo")
        >>> s.advantages(np.array([[1.0, 0.0, 0.0, 1.0]])).tolist()
        [[0.6666666666666666, -0.6666666666666666, -0.6666666666666666, 0.6666666666666666]]
        >>> s.advantages(np.array([1.0, 0.0, 1.0, 1.0]), groups=["a", "a", "b", "b"]).tolist()
        [1.0, -1.0, 0.0, 0.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 2 and Table 1: advantages as scores of (N⁺, N)).
    """
    rewards = arrays.detached(rewards)  # advantages are constants of the loss: no autograd
    xp = arrays.namespace(rewards)
    arrays.check_rewards(xp, rewards)
    if groups is None:
        if rewards.ndim == 0:
            raise ValueError("rewards must have at least one axis (the group axis, last)")
        check_group_size(tables, int(rewards.shape[-1]))
        return _dense(tables, xp, rewards)
    if rewards.ndim != 1:
        raise ValueError(
            "with groups=..., rewards must be 1-D (one entry per response), got shape "
            f"{tuple(rewards.shape)}; for one group per row pass groups=None"
        )
    return _ragged(tables, xp, rewards, groups)


def count_shaper(
    name: str,
    scores: ScoresFn,
    *,
    params: Mapping[str, Any] | None = None,
    spec: str | None = None,
    info: ShaperInfo | None = None,
    generic: GenericFn | None = None,
    surrogate: Callable[[ArrayLike], NDArray[np.float64]] | None = None,
    rebuild: Rebuild | None = None,
) -> Shaper:
    """A :class:`Shaper` from a score function ``scores(n_pos, n) -> (A⁺, A⁻)``.

    This is how every registry shaper is made, and how a user makes their own: give the
    advantage of a correct and of a wrong response as a function of the counts, and get
    vectorised advantages on NumPy/PyTorch/… arrays, dense or ragged, from one engine
    (:func:`count_advantages`).

    Args:
        name: the shaper's name.
        scores: ``scores(n_pos, n) -> (A⁺, A⁻)``, broadcasting over integer arrays.
        params: the parameters to report in ``shaper.params``.
        spec: the text that names it (default: ``name``).
        info: its metadata (default: a user-defined shaper, target K = ``params["k"]`` or 1,
            minimum group size 1).
        generic: ``generic(xp, rewards, dtype)``, the form for non-binary rewards (without
            it they raise).
        surrogate: ``F(rho)``, the population surrogate reward it ascends, if known.
        rebuild: ``(function, text)``: how the shaper pickles, as ``function(text)`` (a
            module-level function and the text that rebuilds it, such as
            ``(advshape.shaper, "grpo_k:k=4")``); None: pickling raises ``TypeError``.

    Returns:
        The shaper; its ``advantages``, ``scores`` and ``weights`` are partials of
        :func:`count_advantages`, :func:`count_scores` and :func:`count_weights`.

    Example:
        >>> import numpy as np, advshape
        >>> mine = advshape.count_shaper("centred", lambda n_pos, n: (1 - n_pos / n, -n_pos / n))
        >>> mine.advantages(np.array([[1, 0, 0, 0]])).tolist()
        [[0.75, -0.25, -0.25, -0.25]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 2: every shaper of Table 1 is a pair of scores of (N⁺, N)).
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
    tables = CountTables(spec, info, scores, generic, rebuild)
    return Shaper(
        name=name,
        params=params,
        spec=spec,
        info=info,
        advantages=partial(count_advantages, tables),
        scores=partial(count_scores, tables),
        weights=partial(count_weights, tables),
        surrogate=surrogate,
    )
