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
    "fail_estimate",
    "loo_fail_weights",
    "partial_ratio_sum",
    "pass_at_k",
    "pass_estimate",
]

# Every cache of tables in the core holds at most this many bytes of arrays (least recently
# used first out), however large the group sizes it has seen.
CACHE_BYTES = 64 * 2**20

# Tables are built up to this size (top + 1 float64 = 8 MiB); beyond it ratios are computed
# directly (see _ratios).
TABLE_MAX_TOP = 2**20
# binom_ratio_table itself refuses tables beyond this (512 MiB).
PUBLIC_TABLE_MAX_TOP = 2**26
# Beyond TABLE_MAX_TOP: up to this many distinct values are computed exactly one by one ...
EXACT_MAX_VALUES = 64
# ... as a product of at most this many factors (in log space), else by a series in O(1);
EXACT_MAX_FACTORS = 2**12
# many values at once by a product over the d factors vectorised over them when d is this
# small, else from an uncached O(top) table.
VECTOR_MAX_D = 64
# e^-746 < 2^-1075, half the smallest float64: a ratio below e^(-746) is 0.0 in float64.
UNDERFLOW_LOG = 746
# The exact path's working precision (80-bit on x86 Linux; float64 where long double is).
_WIDE: type[np.longdouble] = np.longdouble
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

        T[m] = ∏_{j=m+1}^{top} (1 − d/j) for m ≥ d, 0 for m < d

    computed in log space with ``log1p``, so it neither overflows nor loses relative accuracy
    (below ~top·ε) for top up to 10⁶ and beyond: the Fail@K estimate of paper Eq. (11) is
    T[N − N⁺] with top = N, d = K, and the leave-one-out weights of Eq. (13) index the table
    with top = N − 1, d = K − 1.

    Args:
        top: the largest m, at most 2²⁶ (512 MiB of float64).
        d: 0 ≤ d ≤ top.

    Returns:
        The read-only table of top + 1 floats (cached, bounded by bytes).

    Raises:
        ValueError: d outside [0, top], or top above 2²⁶ (``pass_at_k`` & co compute single
            values for any n).

    Example:
        >>> import advshape
        >>> [round(t, 12) for t in advshape.binom_ratio_table(4, 2).tolist()]  # C(m, 2)/C(4, 2)
        [0.0, 0.0, 0.166666666667, 0.5, 1.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eqs. 11 and 13).
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
    tops: NDArray[np.int64],
    ds: NDArray[np.int64],
    ms: NDArray[np.int64],
    complement: bool = False,
) -> NDArray[np.float64]:
    """Elementwise C(m, d)/C(top, d) (or 1 minus it, with ``complement``) over broadcast
    arrays, one table or one exact computation per distinct (top, d)."""
    out = np.empty(tops.shape, dtype=np.float64)
    if tops.size == 0:
        return out
    if np.all(tops == tops.flat[0]) and np.all(ds == ds.flat[0]):
        return _ratios(int(tops.flat[0]), int(ds.flat[0]), ms, complement)
    pairs, inverse = np.unique(
        np.stack([tops.ravel(), ds.ravel()], axis=1), axis=0, return_inverse=True
    )
    inverse = inverse.ravel()
    flat_m, flat_out = ms.ravel(), out.reshape(-1)
    for p, (top, d) in enumerate(pairs):
        sel = inverse == p
        flat_out[sel] = _ratios(int(top), int(d), flat_m[sel], complement)
    return out


def _ratios(
    top: int, d: int, ms: NDArray[np.int64], complement: bool = False
) -> NDArray[np.float64]:
    """C(m, d)/C(top, d) for the given m (or 1 minus it, with ``complement``).

    Up to TABLE_MAX_TOP: from the cached table. Beyond it, a few distinct m are computed
    exactly one by one (:func:`_log_ratio`, O(min(top − m, d, 2¹²)) work each, whatever top
    is); many distinct m at once (a shaper's table of every N⁺) as a product over the d
    factors ∏_{j<d} (m − j)/(top − j) vectorised over the m when d ≤ 64, else from an uncached
    O(top) table.
    """
    ms = np.asarray(ms)
    if top <= TABLE_MAX_TOP:
        ratio = binom_ratio_table(top, d)[ms]
        return 1.0 - ratio if complement else ratio
    values, inverse = np.unique(ms, return_inverse=True)
    if values.size <= EXACT_MAX_VALUES or (d > VECTOR_MAX_D and top > PUBLIC_TABLE_MAX_TOP):
        logs = np.array([_log_ratio(top, d, int(m)) for m in values.tolist()], dtype=_WIDE)
        with np.errstate(under="ignore"):  # a ratio below 2⁻¹⁰⁷⁴ is 0.0 in float64
            wide = -np.expm1(logs) if complement else np.exp(logs)
        per_value = wide.astype(np.float64) + 0.0  # + 0.0: 1 − 1 is 0.0, not −0.0
        return per_value[inverse.reshape(ms.shape)]
    if d <= VECTOR_MAX_D:
        m = ms.astype(np.float64)
        ratio = np.ones(m.shape)
        for j in range(d):  # over the d factors, vectorised over the entries
            ratio *= np.maximum(m - j, 0.0) / (top - j)
    else:  # an O(top) table of logs (cached while it fits the cache)
        ratio = np.exp(_log_binom_ratio_table_cached(top, d)[ms])
    return 1.0 - ratio if complement else ratio


def _log_ratio(top: int, d: int, m: int) -> Any:
    """log C(m, d)/C(top, d) (−inf when m < d), in O(min(c, d, 2¹²)) work for c = top − m,
    however large top is, in NumPy's long double (the x87 80-bit format on x86 Linux: 11 bits
    beyond float64, so that exp of it is right to an ulp in float64 even when the log is −700).

    With L = min(c, d) and X = max(c, d), the ratio is the product of L factors
    ∏_{i<L} (1 − X/(top − i)) (over the c removed responses, or over the d drawn ones: the
    same value), summed in log space with pairwise summation. When L > 2¹² the ratio is below
    e^{−cd/top}, so it is 0 in float64 unless cd < 746·top; then c, d < 0.19·(top + 1) and
    :func:`_log_ratio_series` gives it in O(1).
    """
    c = top - m
    if m < d:
        return _WIDE(-np.inf)
    if c == 0 or d == 0:
        return _WIDE(0)
    short, long = min(c, d), max(c, d)
    if short <= EXACT_MAX_FACTORS:
        below = _WIDE(top) - np.arange(short, dtype=_WIDE)  # top − i, exact (below 2⁵³)
        # each factor 1 − X/(top − i): log1p(−X/(top − i)) while the factor is >= 1/2, else the
        # log of (top − i − X)/(top − i), a quotient of exact integers: either is to an ulp
        factor = (below - _WIDE(long)) / below
        with np.errstate(divide="ignore"):
            terms = np.where(factor < 0.5, np.log(factor), np.log1p(-_WIDE(long) / below))
        return _WIDE(np.sum(terms))
    if c * d >= UNDERFLOW_LOG * top:  # ratio <= e^{-cd/top} < 2^-1075: 0.0 in float64
        return _WIDE(-np.inf)
    return _log_ratio_series(top, c, d)


def _log_ratio_series(top: int, c: int, d: int) -> Any:
    """log C(top − c, d)/C(top, d) for c, d < 0.19·(top + 1), top > 2²⁰, from Stirling's
    series of the four log-gammas, summed without cancellation.

    With S = top + 1, α = c/S, β = d/S and G_p = (α + β)^p − α^p − β^p (a sum of positive
    binomial terms), the ratio Γ(S−c)Γ(S−d)/(Γ(S)Γ(S−c−d)) has

        log ratio = −Σ_{p≥2} G_p·(S/(p(p−1)) + 1/(2p)) − cd(2S − c − d)/(12·S(S−c)(S−d)(S−c−d))

    (the (z − ½)·log z terms expanded in α and β around log S, whose own terms cancel
    exactly; then the 1/(12z) terms, combined exactly; the next, 1/(360z³), changes the sum by
    less than 10⁻²⁰ of itself here). Every term of the series has the same sign, and they
    fall by a factor α + β < 0.37 each.
    """
    big = _WIDE(top + 1)  # exact: top + 1 <= 2⁵³ + 1 < 2⁶⁴
    alpha, beta = _WIDE(c) / big, _WIDE(d) / big
    total = _WIDE(0)
    p = 2
    while True:
        binomial, g = _WIDE(1), _WIDE(0)
        for i in range(1, p):  # G_p = Σ_{i=1}^{p−1} C(p, i)·α^i·β^(p−i): positive terms
            binomial = binomial * (p - i + 1) / i
            g += binomial * alpha**i * beta ** (p - i)
        term = g * (big / (p * (p - 1)) + _WIDE(1) / (2 * p))
        total += term
        if term <= 1e-22 * total or p > 96:
            break
        p += 1
    c_, d_ = _WIDE(c), _WIDE(d)
    stirling = (
        c_ * d_ * (2 * big - c_ - d_) / (12 * big * (big - c_) * (big - d_) * (big - c_ - d_))
    )
    return _WIDE(-total - stirling)


def _check_counts(
    n_pos: ArrayLike, n: ArrayLike, k: ArrayLike, *, what: str, pos_name: str = "n_pos"
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    n_pos_, n_, k_ = np.broadcast_arrays(
        _as_counts(pos_name, n_pos), _as_counts("n", n), _as_counts("k", k)
    )
    if np.any(n_pos_ > n_):
        i = np.argmax(n_pos_ > n_)
        raise ValueError(
            f"{what}: {pos_name} (correct count) cannot exceed n, got {pos_name}="
            f"{n_pos_.flat[i]} > n={n_.flat[i]}"
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
    return n_pos_, n_, k_


def pass_estimate(
    n_pos: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    *,
    _what: str = "pass_estimate",
    _pos: str = "n_pos",
) -> NDArray[np.float64]:
    """The unbiased Pass@K estimate ρ̂_K of a group with N⁺ = ``n_pos`` correct of N = ``n``.

        ρ̂_K = 1 − C(N − N⁺, K)/C(N, K)                        (paper Eq. 11)

    The counts order of the core, (N⁺, N, K); :func:`pass_at_k` is the same estimate in the
    HumanEval order (n, c, k). See :func:`pass_at_k` for accuracy and cost.

    Args:
        n_pos: N⁺, the correct responses (broadcasts with ``n`` and ``k``).
        n: N, the responses.
        k: K ≥ 1, at most N.

    Returns:
        ρ̂_K, float64.

    Example:
        >>> from advshape._src.combinatorics import pass_estimate
        >>> float(pass_estimate(3, 16, 8))
        0.9
        >>> float(pass_estimate(1, 2**40, 2**40 - 1))  # 1 − 2⁻⁴⁰, exactly, in microseconds
        0.9999999999990905

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 11); Chen et al. 2021, https://arxiv.org/abs/2107.03374 (the estimator).
    """
    n_pos_, n_, k_ = _check_counts(n_pos, n, k, what=_what, pos_name=_pos)
    return _gather(n_, k_, n_ - n_pos_, complement=True)


def fail_estimate(
    n_pos: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    *,
    _what: str = "fail_estimate",
    _pos: str = "n_pos",
) -> NDArray[np.float64]:
    """The unbiased Fail@K estimate 1 − ρ̂_K = C(N − N⁺, K)/C(N, K), in the counts order.

    Computed directly, without the cancellation of 1 − ρ̂_K when ρ̂_K is close to 1; the
    HumanEval-order form is :func:`fail_at_k`.

    Args:
        n_pos: N⁺, the correct responses (broadcasts with ``n`` and ``k``).
        n: N, the responses.
        k: K ≥ 1, at most N.

    Returns:
        1 − ρ̂_K, float64.

    Example:
        >>> from advshape._src.combinatorics import fail_estimate
        >>> round(float(fail_estimate(3, 16, 8)), 12)  # C(13, 8)/C(16, 8) = 1/10
        0.1

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 11); Chen et al. 2021, https://arxiv.org/abs/2107.03374.
    """
    n_pos_, n_, k_ = _check_counts(n_pos, n, k, what=_what, pos_name=_pos)
    return _gather(n_, k_, n_ - n_pos_)


def loo_fail_weights(
    n_pos: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    *,
    _what: str = "loo_fail_weights",
    _pos: str = "n_pos",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Leave-one-out Fail@(K−1) weights (f̂⁺_{K−1}, f̂⁻_{K−1}) of a correct and a wrong response.

        f̂⁺ = C(N⁻, K−1) / C(N−1, K−1) = (1 − ρ̂_K) / (1 − ρ̂ − (K−1)/N)
        f̂⁻ = C(N⁻−1, K−1) / C(N−1, K−1) = (1 − ρ̂_K) / (1 − ρ̂)     (paper Eq. 13, Lemma 1)

    with N⁻ = N − N⁺: each is the unbiased Fail@(K−1) estimate from the other N − 1
    responses. Where a weight is never used its binomial form still defines it: f̂⁺ at N⁺ = 0
    is N/(N − K + 1) and f̂⁻ at N⁺ = N is 0 (1 when K = 1). The HumanEval-order form is
    :func:`fail_at_k_loo`.

    Args:
        n_pos: N⁺, the correct responses (broadcasts with ``n`` and ``k``).
        n: N ≥ 1, the responses.
        k: K ≥ 1, at most N.

    Returns:
        ``(f̂⁺, f̂⁻)``, float64.

    Example:
        >>> from advshape._src.combinatorics import loo_fail_weights
        >>> [round(float(f), 6) for f in loo_fail_weights(3, 16, 8)]  # C(13, 7)/C(15, 7), C(12, 7)/C(15, 7)
        [0.266667, 0.123077]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 13, Lemma 1).
    """
    n_pos_, n_, k_ = _check_counts(n_pos, n, k, what=_what, pos_name=_pos)
    n_neg = n_ - n_pos_
    top, d = n_ - 1, k_ - 1
    # f+: index N⁻ into the (N−1, K−1) table; N⁻ = N (no correct response) is outside it.
    has_pos = n_pos_ >= 1
    f_pos = np.where(has_pos, 0.0, n_ / np.maximum(n_ - k_ + 1, 1)).astype(np.float64)
    f_pos_in = _gather(top, d, np.where(has_pos, n_neg, 0))
    f_pos = np.where(has_pos, f_pos_in, f_pos)
    has_neg = n_neg >= 1
    f_neg = _gather(top, d, np.where(has_neg, n_neg - 1, 0))
    f_neg = np.where(has_neg, f_neg, np.where(k_ == 1, 1.0, 0.0))
    return f_pos, f_neg


def pass_at_k(n: ArrayLike, c: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """Unbiased Pass@K estimate from n samples of which c are correct (HumanEval's order).

        ρ̂_K = 1 − C(n − c, k)/C(n, k)                (paper Eq. 11; Chen et al. 2021)

    the probability that k responses drawn without replacement from the n contain at least
    one correct one. The arguments follow the HumanEval convention of Chen et al. 2021,
    ``pass_at_k(n, c, k)`` with c = N⁺; the rest of advshape writes counts as (N⁺, N, K)
    (:func:`advshape._src.combinatorics.pass_estimate` is this function in that order).

    Vectorised with NumPy broadcasting; float64. For n ≤ 2²⁰ a cached table of C(m, k)/C(n, k)
    serves every c (relative error below ~n·ε). Beyond, each value is computed exactly to a
    few ulps (the product of min(c, k) factors in log space, or, when both exceed 2¹⁶, a
    cancellation-free Stirling series; 1 − ρ̂_K via expm1), in at most 2¹⁶ steps however
    large n is (up to 2⁵³): e.g. n = k = 2⁴⁰ takes microseconds.

    Args:
        n: the number of samples (responses).
        c: how many of them are correct.
        k: K ≥ 1, at most n (no unbiased estimator exists for k > n).

    Returns:
        ρ̂_K, float64, of the broadcast shape.

    Raises:
        ValueError: k > n, c > n, k < 1, negative or non-integer counts, counts above 2⁵³.

    Example:
        >>> import advshape
        >>> float(advshape.pass_at_k(16, 3, 8))
        0.9
        >>> float(advshape.pass_at_k(2**40, 1, 2**40))  # every sample drawn: the one correct one too
        1.0

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 11); Chen et al. 2021 (HumanEval), https://arxiv.org/abs/2107.03374.
    """
    return pass_estimate(c, n, k, _what="pass_at_k", _pos="c")


def fail_at_k(n: ArrayLike, c: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """Unbiased Fail@K estimate 1 − ρ̂_K = C(n − c, k) / C(n, k) (HumanEval's argument order).

    Computed directly, without the cancellation of 1 − :func:`pass_at_k` when ρ̂_K is close to
    1; same arguments, accuracy, cost and errors as :func:`pass_at_k`.

    Args:
        n: the number of samples.
        c: how many of them are correct.
        k: K ≥ 1, at most n.

    Returns:
        1 − ρ̂_K, float64.

    Example:
        >>> import advshape
        >>> round(float(advshape.fail_at_k(16, 3, 8)), 12)  # C(13, 8)/C(16, 8) = 1/10
        0.1

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 11); Chen et al. 2021 (HumanEval), https://arxiv.org/abs/2107.03374.
    """
    return fail_estimate(c, n, k, _what="fail_at_k", _pos="c")


def fail_at_k_loo(
    n: ArrayLike, c: ArrayLike, k: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Leave-one-out Fail@(K−1) weights (f̂⁺_{K−1}, f̂⁻_{K−1}), in HumanEval's argument order.

        f̂⁺ = C(N⁻, K−1) / C(N−1, K−1),  f̂⁻ = C(N⁻−1, K−1) / C(N−1, K−1)   (paper Eq. 13)

    with N = n, N⁻ = n − c: the unbiased Fail@(K−1) estimates from the other N − 1 responses
    of a correct and of a wrong one. The same as
    :func:`advshape._src.combinatorics.loo_fail_weights` with the arguments (c, n, k); same
    broadcasting, accuracy and errors as :func:`pass_at_k`; n ≥ 1.

    Args:
        n: the number of samples.
        c: how many of them are correct.
        k: K ≥ 1, at most n.

    Returns:
        ``(f̂⁺, f̂⁻)``, float64.

    Example:
        >>> import advshape
        >>> [round(float(f), 6) for f in advshape.fail_at_k_loo(16, 3, 8)]  # C(13, 7)/C(15, 7), C(12, 7)/C(15, 7)
        [0.266667, 0.123077]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 13, Lemma 1); Chen et al. 2021 (HumanEval), https://arxiv.org/abs/2107.03374.
    """
    return loo_fail_weights(c, n, k, _what="fail_at_k_loo", _pos="c")
