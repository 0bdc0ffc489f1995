"""Exact-as-float64 binomial ratios, the unbiased Pass@K estimator and Fail@(K-1) weights.

Every quantity here is a ratio of binomial coefficients C(m, d) / C(top, d). Computing the
binomials themselves overflows float64 beyond n ≈ 1030, so we never do: the ratio is the
product ∏_{j=m+1}^{top} (1 − d/j), accumulated in log space with ``log1p`` (all terms have
the same sign, so the relative error stays below ~top·ε). A table for every m = 0..top
costs O(top) and serves a whole batch whose groups share a size.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, cast, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "binom_ratio_table",
    "bounded_cache",
    "fail_at_k",
    "fail_at_k_loo",
    "partial_ratio_sum",
    "pass_at_k",
]

# Every cache of tables in the core holds at most this many bytes of arrays (least recently
# used first out), however large the group sizes it has seen.
CACHE_BYTES = 64 * 2**20

# Tables are built up to this size (top + 1 float64 = 8 MiB); beyond it a ratio is computed
# directly as a product of d factors, O(d) per entry (see _gather).
TABLE_MAX_TOP = 2**20
# binom_ratio_table itself refuses tables beyond this (512 MiB).
PUBLIC_TABLE_MAX_TOP = 2**26
# Direct products beyond this many factors per entry would take minutes: refused.
DIRECT_MAX_D = 2**22
# Counts are used as float64 (ρ̂ = N⁺/N): beyond 2⁵³ they are no longer exact there.
MAX_COUNT = 2**53


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, tuple | list):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    return 64


_P = ParamSpec("_P")
_R = TypeVar("_R", covariant=True)


class BoundedCache(Protocol, Generic[_P, _R]):
    """A function wrapped by :func:`bounded_cache` (called with positional arguments only)."""

    cache_clear: Callable[[], None]  # drop every entry
    cache_bytes: Callable[[], int]  # bytes of arrays held now

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...


@overload
def bounded_cache(
    fn: Callable[_P, _R], *, max_bytes: int = CACHE_BYTES
) -> BoundedCache[_P, _R]: ...


@overload
def bounded_cache(
    fn: None = None, *, max_bytes: int = CACHE_BYTES
) -> Callable[[Callable[_P, _R]], BoundedCache[_P, _R]]: ...


def bounded_cache(
    fn: Callable[_P, _R] | None = None, *, max_bytes: int = CACHE_BYTES
) -> BoundedCache[_P, _R] | Callable[[Callable[_P, _R]], BoundedCache[_P, _R]]:
    """An LRU cache bounded by the bytes of the arrays it holds (``lru_cache`` counts entries,
    and 256 entries of a 10⁶-response table are 2 GB). Cached arrays must be read-only."""
    if fn is None:

        def decorate(f: Callable[_P, _R]) -> BoundedCache[_P, _R]:
            return bounded_cache(f, max_bytes=max_bytes)

        return decorate
    call: Callable[..., Any] = fn
    entries: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
    held = [0]

    @functools.wraps(fn)
    def cached(*args: Any) -> Any:
        if args in entries:
            entries.move_to_end(args)
            return entries[args][0]
        value = call(*args)
        size = _nbytes(value)
        if size <= max_bytes:
            entries[args] = (value, size)
            held[0] += size
            while held[0] > max_bytes:
                _, (_, old) = entries.popitem(last=False)
                held[0] -= old
        return value

    def cache_clear() -> None:
        entries.clear()
        held[0] = 0

    wrapper = cast(BoundedCache[_P, _R], cached)
    wrapper.cache_clear = cache_clear
    wrapper.cache_bytes = lambda: held[0]
    return wrapper


@bounded_cache
def _log_binom_ratio_table_cached(top: int, d: int) -> NDArray[np.float64]:
    """log T[m], T[m] = C(m, d)/C(top, d), for m = 0..top (−inf where m < d)."""
    table = np.full(top + 1, -np.inf)
    # log T[m] = Σ_{j=m+1}^{top} log1p(−d/j) for m ≥ d: terms of one sign, so the sum keeps
    # its relative accuracy (~(top − m)·ε) however small |log T| is.
    j = np.arange(d + 1, top + 1, dtype=np.float64)
    terms = np.log1p(-d / j)
    table[d:] = np.concatenate([np.cumsum(terms[::-1])[::-1], [0.0]])  # Σ terms[i:]
    table.setflags(write=False)  # cached and shared: nobody may write to it
    return table


@bounded_cache
def _binom_ratio_table_cached(top: int, d: int) -> NDArray[np.float64]:
    if d == 0:
        table = np.ones(top + 1, dtype=np.float64)
    else:
        table = np.exp(_log_binom_ratio_table_cached(top, d))  # exp(−inf) = 0 for m < d
    table.setflags(write=False)  # cached and shared: nobody may write to it
    return table


def binom_ratio_table(top: int, d: int) -> NDArray[np.float64]:
    """T[m] = C(m, d) / C(top, d) for m = 0..top, as float64 (read-only, cached).

    Computed as ∏_{j=m+1}^{top} (1 − d/j) in log space, so it neither overflows nor
    loses relative accuracy for top up to 10⁶ and beyond. Requires 0 ≤ d ≤ top.
    """
    top, d = int(top), int(d)
    if not 0 <= d <= top:
        raise ValueError(f"binom_ratio_table needs 0 <= d <= top, got d={d}, top={top}")
    if top > PUBLIC_TABLE_MAX_TOP:
        raise ValueError(
            f"binom_ratio_table({top}, {d}) would hold {top + 1:,} floats "
            f"({(top + 1) * 8 / 2**30:.3g} GiB); tables stop at top = {PUBLIC_TABLE_MAX_TOP:,}. "
            "pass_at_k / fail_at_k / fail_at_k_loo compute single ratios for any n"
        )
    return _binom_ratio_table_cached(top, d)


def partial_ratio_sum(m: ArrayLike, n: int, j_max: int) -> NDArray[np.float64]:
    """G(m) = Σ_{j=1}^{J} C(m, j)/C(n, j) for integer arrays 0 ≤ m ≤ n, J = ``j_max``.

        G(m) = m/(n − m + 1)·(1 − C(m − 1, J)/C(n, J))

    (hockey stick: Σ_{j=0}^{J} C(m, j)/C(n, j) = [C(n + 1, m) − C(n − J, m − J − 1)]/C(n, m), and
    C(n − J, m − J − 1)/C(n, m − 1) = C(m − 1, J)/C(n, J)). The bracket is −expm1 of the log
    ratio table, so it keeps its relative accuracy when the ratio is close to 1: the whole sum
    is O(n) per (n, J) however large J is, and accurate to a few ulp times n (no sum of terms
    spanning hundreds of orders of magnitude). J ≥ n is the full sum m/(n − m + 1).

    Example:
        >>> from advshape._src.combinatorics import partial_ratio_sum
        >>> partial_ratio_sum([0, 1, 2, 3], 3, 2).tolist()  # 0, 1/3, 2/3 + 1/3, 1 + 1
        [0.0, 0.3333333333333333, 1.0, 2.0]
    """
    n, j_max = int(n), int(j_max)
    m_ = np.asarray(m, dtype=np.int64)
    if np.any(m_ < 0) or np.any(m_ > n) or j_max < 0:
        raise ValueError(f"partial_ratio_sum needs 0 <= m <= n = {n} and J >= 0, got J = {j_max}")
    if j_max == 0:
        return np.zeros(m_.shape)
    j_max = min(j_max, n)
    log_ratio = _log_binom_ratio_table_cached(n, j_max)[np.maximum(m_ - 1, 0)]
    # m = 0: C(−1, J) := 0 for J ≥ 1, and the prefactor is 0 anyway
    bracket = np.where(m_ >= 1, -np.expm1(log_ratio), 0.0)
    return m_ / (n - m_ + 1.0) * bracket


def _as_counts(name: str, value: ArrayLike) -> NDArray[np.int64]:
    if isinstance(value, np.ma.MaskedArray):
        raise ValueError(
            f"{name} is a numpy masked array; pass plain counts (masks are not applied)"
        )
    try:
        arr = np.asarray(value)
    except OverflowError:
        raise ValueError(
            f"{name} must be at most 2**53 (exact in float64), got {value!r}"
        ) from None
    if arr.dtype == object:  # Python ints beyond int64
        raise ValueError(f"{name} must be integer counts of at most 2**53, got {value!r}")
    if arr.dtype == np.uint64 and arr.size and arr.max() > MAX_COUNT:
        raise ValueError(f"{name} must be at most 2**53 (exact in float64), got {arr.max()}")
    if arr.dtype == np.bool_:
        raise ValueError(f"{name} must be integer counts, got booleans")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{name} must be finite integer counts, got {arr[~np.isfinite(arr)].ravel()[0]}"
            )
        if not np.all(arr == np.round(arr)):
            bad = arr[arr != np.round(arr)].ravel()[0]
            raise ValueError(f"{name} must be whole numbers, got {bad}")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integer counts, got dtype {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative, got {arr[arr < 0].ravel()[0]}")
    if arr.size and arr.max() > MAX_COUNT:
        raise ValueError(f"{name} must be at most 2**53 (exact in float64), got {arr.max()}")
    return arr.astype(np.int64, copy=False)


def _gather(
    tops: NDArray[np.int64], ds: NDArray[np.int64], ms: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Elementwise C(m, d)/C(top, d) over broadcast arrays, one table per distinct (top, d)."""
    out = np.empty(tops.shape, dtype=np.float64)
    if tops.size == 0:
        return out
    if np.all(tops == tops.flat[0]) and np.all(ds == ds.flat[0]):
        return _ratios(int(tops.flat[0]), int(ds.flat[0]), ms)
    pairs, inverse = np.unique(
        np.stack([tops.ravel(), ds.ravel()], axis=1), axis=0, return_inverse=True
    )
    inverse = inverse.ravel()
    flat_m, flat_out = ms.ravel(), out.reshape(-1)
    for p, (top, d) in enumerate(pairs):
        sel = inverse == p
        flat_out[sel] = _ratios(int(top), int(d), flat_m[sel])
    return out


def _ratios(top: int, d: int, ms: NDArray[np.int64]) -> NDArray[np.float64]:
    """C(m, d)/C(top, d) for the given m: from the cached table up to TABLE_MAX_TOP, else
    directly as ∏_{j<d} (m − j)/(top − j) (O(d) per entry, no table of top + 1 floats)."""
    if top <= TABLE_MAX_TOP:
        return binom_ratio_table(top, d)[ms]
    if d > DIRECT_MAX_D:
        raise ValueError(
            f"a binomial ratio with n = {top} and k = {d} is out of reach (tables stop at n = "
            f"{TABLE_MAX_TOP}, direct products at k = {DIRECT_MAX_D}); use a smaller group or K"
        )
    m = np.asarray(ms, dtype=np.float64)
    out = np.ones(m.shape)
    for j in range(d):  # over the d factors, vectorised over the entries
        out *= np.maximum(m - j, 0.0) / (top - j)
    return out


def _check_n_c_k(
    n: ArrayLike, c: ArrayLike, k: ArrayLike, *, what: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    n_, c_, k_ = np.broadcast_arrays(_as_counts("n", n), _as_counts("c", c), _as_counts("k", k))
    if np.any(c_ > n_):
        i = np.argmax(c_ > n_)
        raise ValueError(
            f"{what}: c (correct count) cannot exceed n, got c={c_.flat[i]} > n={n_.flat[i]}"
        )
    if np.any(k_ < 1):
        raise ValueError(f"{what}: k must be >= 1, got k={k_[k_ < 1].flat[0]}")
    if np.any(k_ > n_):
        i = np.argmax(k_ > n_)
        raise ValueError(
            f"{what}: k={k_.flat[i]} > n={n_.flat[i]}: no unbiased estimator exists with fewer "
            "samples than k; sample n >= k responses, or use the biased (1 - rho_hat)^(k-1) "
            "scaling (shaper 'biased_k')"
        )
    return n_, c_, k_


def pass_at_k(n: ArrayLike, c: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """Unbiased Pass@K estimate from n samples of which c are correct.

        ρ̂_K = 1 − C(n − c, k) / C(n, k)                (paper Eq. 11; Chen et al. 2021)

    the probability that k responses drawn without replacement from the n contain at least
    one correct one. Vectorised with NumPy broadcasting over ``n``, ``c`` and ``k``; float64,
    accurate for n up to 10⁶ (no binomial is ever formed). Raises ``ValueError`` for
    k > n (no unbiased estimator exists), c > n, k < 1 or negative counts.
    """
    n_, c_, k_ = _check_n_c_k(n, c, k, what="pass_at_k")
    return 1.0 - _gather(n_, k_, n_ - c_)


def fail_at_k(n: ArrayLike, c: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """Unbiased Fail@K estimate 1 − ρ̂_K = C(n − c, k) / C(n, k), without the cancellation
    of computing 1 − :func:`pass_at_k` when ρ̂_K is close to 1. Same arguments and errors."""
    n_, c_, k_ = _check_n_c_k(n, c, k, what="fail_at_k")
    return _gather(n_, k_, n_ - c_)


def fail_at_k_loo(
    n: ArrayLike, c: ArrayLike, k: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Leave-one-out Fail@(K−1) weights (f̂⁺_{K−1}, f̂⁻_{K−1}) of a correct and a wrong response.

        f̂⁺ = C(N⁻, K−1) / C(N−1, K−1) = (1 − ρ̂_K) / (1 − ρ̂ − (K−1)/N)
        f̂⁻ = C(N⁻−1, K−1) / C(N−1, K−1) = (1 − ρ̂_K) / (1 − ρ̂)     (paper Eq. 13, Lemma 1)

    with N = n, N⁻ = n − c. Each is the unbiased Fail@(K−1) estimate from the other N − 1
    responses. Where a weight is never used its binomial form still defines it: f̂⁺ at c = 0
    is N/(N − K + 1) and f̂⁻ at c = n is 0 (1 when K = 1). Same broadcasting and errors as
    :func:`pass_at_k`; n ≥ 1.
    """
    n_, c_, k_ = _check_n_c_k(n, c, k, what="fail_at_k_loo")
    n_neg = n_ - c_
    top, d = n_ - 1, k_ - 1
    # f+: index N⁻ into the (N−1, K−1) table; N⁻ = N (no correct response) is outside it.
    has_pos = c_ >= 1
    f_pos = np.where(has_pos, 0.0, n_ / np.maximum(n_ - k_ + 1, 1)).astype(np.float64)
    f_pos_in = _gather(top, d, np.where(has_pos, n_neg, 0))
    f_pos = np.where(has_pos, f_pos_in, f_pos)
    has_neg = n_neg >= 1
    f_neg = _gather(top, d, np.where(has_neg, n_neg - 1, 0))
    f_neg = np.where(has_neg, f_neg, np.where(k_ == 1, 1.0, 0.0))
    return f_pos, f_neg
