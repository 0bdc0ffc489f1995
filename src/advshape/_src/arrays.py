"""Array-API plumbing: reward validation, per-group counts, and dense <-> ragged groups.

Works on any array library that array-api-compat knows (NumPy, PyTorch on CPU or CUDA,
JAX, CuPy, …); results stay in the caller's library, on the caller's device. There is no
Python loop over groups or responses: a ragged batch is sorted once into blocks of equal
group size, each block is a dense ``[groups, size]`` matrix, and the results are put back
in the original order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np

Array = Any  # an array of any Array-API library
DenseFn = Callable[[Any, Array], Array]  # (xp, rewards [..., n]) -> advantages [..., n]

__all__ = [
    "apply_grouped",
    "binary_counts",
    "check_finite",
    "float_dtype",
]


def namespace(x: Array):
    try:
        return array_api_compat.array_namespace(x)
    except TypeError as err:
        raise ValueError(
            f"rewards must be an array (NumPy, PyTorch, JAX, CuPy, ...), got {type(x).__name__}; "
            "wrap Python lists with numpy.asarray(...)"
        ) from err


def float_dtype(xp, x: Array):
    """x's dtype if it is real floating, else the library's default real floating dtype."""
    if xp.isdtype(x.dtype, "real floating"):
        return x.dtype
    if not (xp.isdtype(x.dtype, "integral") or xp.isdtype(x.dtype, "bool")):
        raise ValueError(f"rewards must be real numbers, got dtype {x.dtype}")
    return xp.__array_namespace_info__().default_dtypes(device=array_api_compat.device(x))[
        "real floating"
    ]


def _first(xp, x: Array, mask: Array) -> str:
    flat_mask = xp.reshape(mask, (-1,))
    idx = int(xp.argmax(xp.astype(flat_mask, xp.int8)))
    value = float(xp.reshape(x, (-1,))[idx])
    pos = np.unravel_index(idx, tuple(x.shape)) if x.ndim > 1 else (idx,)
    where = pos[0] if len(pos) == 1 else tuple(int(p) for p in pos)
    return f"{value!r} at index {where}"


def check_finite(xp, rewards: Array, shaper: str) -> None:
    """Reject NaN and ±inf: a NaN reward would silently poison a whole group's advantages."""
    if xp.isdtype(rewards.dtype, "real floating"):
        ok = xp.isfinite(rewards)
        if not bool(xp.all(ok)):
            raise ValueError(
                f"shaper {shaper!r}: rewards must be finite, got {_first(xp, rewards, ~ok)}; "
                "fix the reward function (or map failures to 0) before shaping"
            )


def binary_counts(xp, rewards: Array) -> tuple[Array, Array] | None:
    """(r == 1 mask, N⁺ per row) if every reward is 0 or 1, else None.

    One comparison pass and one ``count_nonzero`` pass: the rewards are binary iff their
    non-zeros are exactly their ones (NaN and inf count as non-zero, so they fail too).
    """
    if xp.isdtype(rewards.dtype, "bool"):
        pos = rewards
    else:
        pos = rewards == 1
    n_pos = xp.count_nonzero(pos, axis=-1)
    if not xp.isdtype(rewards.dtype, "bool"):
        if int(xp.count_nonzero(rewards)) != int(xp.sum(n_pos)):
            return None
    return pos, n_pos


def non_binary_error(xp, rewards: Array, shaper: str) -> ValueError:
    bad = ~((rewards == 0) | (rewards == 1))
    return ValueError(
        f"shaper {shaper!r} needs binary rewards in {{0, 1}}, got {_first(xp, rewards, bad)}; "
        "threshold the verifier's score (e.g. rewards >= 1), or use 'pkpo', which accepts "
        "continuous rewards"
    )


def to_numpy(x: Array) -> np.ndarray:
    """A host NumPy copy of any array (small arrays only: counts, sizes)."""
    if isinstance(x, np.ndarray):
        return x
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def _factorize(groups: Any, n: int, xp, device) -> tuple[Array, np.ndarray]:
    """Group ids (ints or strings, any order) -> (dense group index per response on device,
    host array of group sizes)."""
    if array_api_compat.is_array_api_obj(groups) and not isinstance(groups, np.ndarray):
        gxp = array_api_compat.array_namespace(groups)
        if groups.ndim != 1 or groups.shape[0] != n:
            raise ValueError(
                f"groups must be 1-D with one id per reward ({n}), got shape {tuple(groups.shape)}"
            )
        # unique_inverse and unique_counts both sort the ids, so their outputs line up
        # (torch has no unique_all).
        inverse = gxp.unique_inverse(groups).inverse_indices
        sizes = to_numpy(gxp.unique_counts(groups).counts)
        inverse = xp.asarray(inverse, device=device)
        return xp.astype(xp.reshape(inverse, (-1,)), xp.int64), sizes.astype(np.int64)
    ids = groups if isinstance(groups, np.ndarray) else np.asarray(groups, dtype=object)
    if ids.ndim != 1 or ids.shape[0] != n:
        raise ValueError(f"groups must be 1-D with one id per reward ({n}), got shape {ids.shape}")
    codes = _codes(ids)
    sizes = np.bincount(codes)
    inverse = xp.asarray(codes, device=device)
    return inverse, sizes.astype(np.int64)


def _codes(ids: np.ndarray) -> np.ndarray:
    """Dense int64 group codes 0..G−1 for an array of ids (any order)."""
    if ids.dtype.kind in "biu":
        return np.unique(ids, return_inverse=True)[1].reshape(-1).astype(np.int64)
    if ids.dtype.kind in "US":
        return _string_codes(ids)
    # Python objects (verl's uid strings): hashing them is per-object work whatever we do;
    # one dict pass beats sorting them, which compares objects in Python too.
    lookup: dict[Any, int] = {}
    try:
        return np.fromiter(
            (lookup.setdefault(x, len(lookup)) for x in ids), dtype=np.int64, count=ids.size
        )
    except TypeError as err:
        raise ValueError(
            f"group ids must be hashable (ints or strings), got {type(ids[0]).__name__}"
        ) from err


def _string_codes(ids: np.ndarray) -> np.ndarray:
    """Codes for fixed-width string ids: a vectorised 64-bit FNV-style hash per id, then a
    sort of the hashes (far faster than sorting strings), verified exactly afterwards."""
    width = ids.dtype.itemsize // (4 if ids.dtype.kind == "U" else 1)
    chars = np.ascontiguousarray(ids).view(np.uint32 if ids.dtype.kind == "U" else np.uint8)
    chars = chars.reshape(ids.size, max(width, 1))
    h = np.full(ids.size, 14695981039346656037, dtype=np.uint64)
    prime = np.uint64(1099511628211)
    for j in range(chars.shape[1]):  # over character positions, not responses
        h ^= chars[:, j].astype(np.uint64)
        h *= prime
    _, first, codes = np.unique(h, return_index=True, return_inverse=True)
    codes = codes.reshape(-1)
    if not np.array_equal(ids[first][codes], ids):  # a 64-bit collision: fall back to exact
        codes = np.unique(ids, return_inverse=True)[1].reshape(-1)
    return codes.astype(np.int64)


def apply_grouped(
    rewards: Array,
    groups: Any,
    dense_fn: DenseFn,
    check_size: Callable[[int], None],
) -> Array:
    """Apply ``dense_fn`` (which works along the last axis of ``[..., n]``) to each group.

    ``groups=None``: ``rewards`` is ``[..., n]``, one group per row. Otherwise ``rewards`` is
    1-D and ``groups`` gives each response's group id; groups may be non-contiguous and of
    different sizes. ``check_size(n)`` raises for group sizes the shaper cannot handle.
    """
    xp = namespace(rewards)
    if groups is None:
        if rewards.ndim == 0:
            raise ValueError("rewards must have at least one axis (the group axis, last)")
        check_size(int(rewards.shape[-1]))
        return dense_fn(xp, rewards)
    if rewards.ndim != 1:
        raise ValueError(
            f"with groups=..., rewards must be 1-D (one entry per response), got shape {tuple(rewards.shape)}; "
            "for one group per row pass groups=None"
        )
    n = int(rewards.shape[0])
    device = array_api_compat.device(rewards)
    inverse, sizes = _factorize(groups, n, xp, device)
    distinct = np.unique(sizes)
    for size in distinct:
        check_size(int(size))
    if distinct.size == 1:  # all groups the same size: one dense block
        size = int(distinct[0])
        order = xp.argsort(inverse, stable=True)
        block = dense_fn(xp, xp.reshape(xp.take(rewards, order, axis=0), (-1, size)))
        return _unpermute(xp, xp.reshape(block, (-1,)), order)
    # Sort responses by (group size, group index): each size is then a contiguous dense block.
    size_rank = np.searchsorted(distinct, sizes)
    key = xp.asarray(size_rank, device=device)[inverse] * len(sizes) + inverse
    order = xp.argsort(key, stable=True)
    sorted_rewards = xp.take(rewards, order, axis=0)
    blocks, start = [], 0
    for size in distinct:
        length = int(np.sum(sizes == size)) * int(size)
        block = xp.reshape(sorted_rewards[start : start + length], (-1, int(size)))
        blocks.append(xp.reshape(dense_fn(xp, block), (-1,)))
        start += length
    return _unpermute(xp, xp.concat(blocks), order)


def _unpermute(xp, values: Array, order: Array) -> Array:
    """out[order[i]] = values[i]."""
    if array_api_compat.is_numpy_namespace(xp) or array_api_compat.is_torch_namespace(xp):
        out = xp.empty_like(values)
        out[order] = values
        return out
    return xp.take(values, xp.argsort(order), axis=0)
