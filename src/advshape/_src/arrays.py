"""Array-API plumbing: reward validation, group ids, per-group sums, and dense <-> ragged groups.

Works on any array library that array-api-compat knows (NumPy, PyTorch on CPU or CUDA,
JAX, CuPy, …); results stay in the caller's library, on the caller's device. There is no
Python loop over groups or responses.

Ragged batches (1-D rewards with a group id per response) take one of two routes:

- NumPy and PyTorch: *segments*. Group ids become integer codes (:func:`codes_numpy`,
  :func:`codes_torch`); per-group sums are ``bincount`` / ``index_add`` over the codes and are
  gathered back per response. The rewards are never sorted (the ids are, where they are not
  small integers: fixed-width strings as integer hashes, Python objects through one dict pass),
  so the cost is a
  few passes over the batch.
- any other Array-API library: *blocks* (:func:`apply_blocks`). The batch is sorted once into
  blocks of equal group size, each block is a dense ``[groups, size]`` matrix, and the results
  are put back in the original order. Only standard Array-API functions are used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from typing import Any, Protocol, cast

import array_api_compat
import numpy as np

Array = Any  # an array of any Array-API library
Namespace = Any  # an Array-API namespace (array_api_compat.array_namespace(x))
DType = Any  # a dtype of an Array-API library
DenseFn = Callable[[Namespace, Array], Array]  # (xp, rewards [..., n]) -> advantages [..., n]

__all__ = [
    "apply_blocks",
    "check_finite",
    "check_rewards",
    "codes_numpy",
    "codes_torch",
    "float_dtype",
    "working_dtype",
]

# Integer ids in [0, bound) are used as codes directly (no sort): per-group arrays then have
# `bound` slots, some empty. Beyond it, ids are factorised with np.unique.
_DIRECT_ID_SLACK = 1024


def namespace(x: Array) -> Namespace:
    if isinstance(x, np.ma.MaskedArray):
        raise ValueError(
            "rewards is a numpy masked array; advshape does not apply masks: drop the masked "
            "responses (rewards.compressed(), with their group ids) or fill them (rewards.filled(0))"
        )
    try:
        return array_api_compat.array_namespace(x)
    except TypeError as err:
        raise ValueError(
            f"rewards must be an array (NumPy, PyTorch, JAX, CuPy, ...), got {type(x).__name__}; "
            "wrap Python lists with numpy.asarray(...)"
        ) from err


def check_rewards(xp: Namespace, rewards: Array) -> None:
    """Real rewards only: complex ones (whose imaginary part would be dropped) are refused,
    and so is NumPy's long double, which advshape would compute in float64 only."""
    dtype = rewards.dtype
    if isinstance(rewards, np.ndarray) and dtype.kind == "f" and dtype.itemsize > 8:
        raise ValueError(
            f"rewards of dtype {dtype} (long double) are not supported: advshape computes in "
            "float64 and would return float64 values labelled as long double; pass "
            "rewards.astype(numpy.float64)"
        )
    if not (
        xp.isdtype(dtype, "real floating")
        or xp.isdtype(dtype, "integral")
        or xp.isdtype(dtype, "bool")
    ):
        raise ValueError(
            f"rewards must be real numbers (bool, integer or real floating), got dtype {dtype}; "
            "pass the real part explicitly if that is what you mean"
        )


def check_representable(xp: Namespace, rewards: Array, shaper: str) -> None:
    """Real-valued (non-binary) rewards must be exactly representable in the working dtype,
    in which their statistics are computed: integers beyond ±2^53 (float64) are refused
    rather than rounded (2^60 and 2^60 + 1 would become one value)."""
    if not xp.isdtype(rewards.dtype, "integral") or rewards.size == 0:
        return
    work = working_dtype(xp, rewards)
    bits = _mantissa_bits(xp, work)
    limit = 2**bits
    low, high = int(xp.min(rewards)), int(xp.max(rewards))
    if high > limit or low < -limit:
        bad = high if high > limit else low
        raise ValueError(
            f"shaper {shaper!r}: the integer reward {bad} is beyond ±2^{bits}, where {work} "
            "(in which advshape computes) no longer holds every integer; subtract a common "
            "offset or rescale the rewards first"
        )


def _mantissa_bits(xp: Namespace, dtype: DType) -> int:
    """Significant bits of a floating dtype, from its machine epsilon (2^−52 -> 53)."""
    return 1 - round(float(np.log2(float(xp.finfo(dtype).eps))))


def canonical_bool(x: Array) -> Array:
    """A bool array whose every byte is 0 or 1, reading as NumPy and PyTorch do (any non-zero
    byte is True). Bool arrays made by ``.view(bool)`` or ``frombuffer`` can hold other
    bytes, which byte-level counting (popcounts, uint8 sums, 2·code + r keys) would misread.
    One pass over the bytes; the array itself when it is already canonical."""
    if isinstance(x, np.ndarray):
        raw = x.view(np.uint8)
        return x if raw.size == 0 or int(raw.max()) <= 1 else raw != 0
    import torch

    raw = x.view(torch.uint8)
    return x if raw.numel() == 0 or int(raw.max()) <= 1 else raw != 0


def detached(x: Array) -> Array:
    """Rewards without autograd history: advantages are constants of the policy-gradient loss,
    so no gradient flows back into the rewards through them (a PyTorch tensor that requires
    grad is detached; other arrays are returned as they are)."""
    if array_api_compat.is_torch_array(x) and x.requires_grad:
        return x.detach()
    return x


def float_dtype(xp: Namespace, x: Array) -> DType:
    """x's dtype if it is real floating, else the library's default real floating dtype."""
    if xp.isdtype(x.dtype, "real floating"):
        return x.dtype
    if not (xp.isdtype(x.dtype, "integral") or xp.isdtype(x.dtype, "bool")):
        raise ValueError(f"rewards must be real numbers, got dtype {x.dtype}")
    return xp.__array_namespace_info__().default_dtypes(device=array_api_compat.device(x))[
        "real floating"
    ]


def working_dtype(xp: Namespace, x: Array) -> DType:
    """float64 where the library and device have it (group statistics are computed in it,
    whatever the rewards' dtype), else the widest real floating dtype available."""
    info = xp.__array_namespace_info__()
    available = info.dtypes(device=array_api_compat.device(x), kind="real floating")
    return available.get("float64", available.get("float32", float_dtype(xp, x)))


def widens(xp: Namespace, x: Array) -> bool:
    """True if x's values are exactly representable in the working dtype with at least 29
    spare mantissa bits (float16/bfloat16/float32 or small ints into float64): then the sum
    of up to 2²⁹ nearly equal values (a near-constant group) is exact, any other group's sum
    rounds only relative to its own magnitude, a constant group is centred to exactly 0, and
    squares of differences neither under- nor overflow, so no shift or rescaling is needed."""
    work = working_dtype(xp, x)
    if work != xp.float64 or x.dtype == xp.float64:
        return False
    if xp.isdtype(x.dtype, "bool"):
        return True
    if xp.isdtype(x.dtype, "integral"):
        return bool(xp.iinfo(x.dtype).bits <= 16)
    return bool(xp.finfo(x.dtype).bits <= 32)


def _first(xp: Namespace, x: Array, mask: Array) -> str:
    flat_mask = xp.reshape(mask, (-1,))
    idx = int(xp.argmax(xp.astype(flat_mask, xp.int8)))
    value = float(xp.reshape(x, (-1,))[idx])
    pos, rest = [], idx
    for dim in reversed(tuple(x.shape)):  # unravel the flat index (host integers only)
        pos.append(rest % int(dim))
        rest //= int(dim)
    pos.reverse()
    where = pos[0] if len(pos) == 1 else tuple(pos)
    return f"{value!r} at index {where}"


def surely_finite(x: Array) -> bool:
    """A one-pass test for NumPy: a finite sum means every value is finite (NaN and ±inf
    propagate); an infinite one may be an overflow of finite values, so False only means
    "look closer"."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.size:
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(np.sum(x)))
    if array_api_compat.is_torch_array(x) and x.is_floating_point() and x.numel():
        return bool(x.detach().sum().isfinite())
    return False


def check_finite(xp: Namespace, rewards: Array, shaper: str) -> None:
    """Reject NaN and ±inf: a NaN reward would silently poison a whole group's advantages."""
    if xp.isdtype(rewards.dtype, "real floating") and not surely_finite(rewards):
        ok = xp.isfinite(rewards)
        if not bool(xp.all(ok)):
            raise ValueError(
                f"shaper {shaper!r}: rewards must be finite, got {_first(xp, rewards, ~ok)}; "
                "fix the reward function (or map failures to 0) before shaping"
            )


def check_finite_output(xp: Namespace, out: Array, shaper: str) -> Array:
    """Advantages that do not fit the output dtype raise instead of becoming ±inf/NaN."""
    if (
        xp.isdtype(out.dtype, "real floating")
        and not surely_finite(out)
        and not bool(xp.all(xp.isfinite(out)))
    ):
        fix = (
            "pass float32 (or float64) rewards"
            if out.dtype not in (xp.float32, xp.float64)
            else "pass float64 rewards"
            if out.dtype == xp.float32
            else "rescale the rewards"
        )
        raise ValueError(
            f"shaper {shaper!r}: the advantages do not fit in {out.dtype} (they overflow to "
            f"inf); {fix}"
        )
    return out


def non_binary_error(xp: Namespace, rewards: Array, shaper: str) -> ValueError:
    bad = ~((rewards == 0) | (rewards == 1))
    return ValueError(
        f"shaper {shaper!r} needs binary rewards in {{0, 1}}, got {_first(xp, rewards, bad)}; "
        "threshold the verifier's score (e.g. rewards >= 1), or use 'pkpo', which accepts "
        "continuous rewards"
    )


def to_numpy(x: Array) -> np.ndarray:
    """A host NumPy copy of a NumPy, PyTorch or CuPy array."""
    if isinstance(x, np.ndarray):
        return x
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().numpy()
    if array_api_compat.is_cupy_array(x):
        return cast(np.ndarray, x.get())  # CuPy is untyped here
    return np.asarray(x)


# --- Group ids -> integer codes ------------------------------------------------------------


def _shape_error(n: int, shape: tuple[int, ...]) -> ValueError:
    return ValueError(f"groups must be 1-D with one id per reward ({n}), got shape {tuple(shape)}")


def _nan_id_error(where: str) -> ValueError:
    return ValueError(
        f"group ids must not be NaN or None (got one {where}); every response needs the id of "
        "its prompt: fill the missing ids before shaping"
    )


def _id_dtype_error(dtype: Any, why: str) -> ValueError:
    return ValueError(
        f"group ids of dtype {dtype} {why}; pass integer ids (int64) or strings, one per reward"
    )


def check_id_tensor(groups: Any) -> None:
    """Refuse id tensors whose dtype cannot hold distinct ids (bfloat16: 8 significant bits,
    so ids above 256 merge) or that NumPy cannot read."""
    if "bfloat16" in str(groups.dtype):
        raise _id_dtype_error(
            groups.dtype, "cannot hold distinct ids (8 significant bits: 257 reads as 256)"
        )
    if getattr(groups, "is_complex", lambda: False)():
        raise _id_dtype_error(groups.dtype, "are not supported")


def host_ids(groups: Any, n: int) -> np.ndarray:
    """Group ids as a 1-D NumPy array in which two entries are equal iff the ids are.

    Arrays (NumPy, PyTorch, CuPy, any Array-API library, anything with ``__array__``) are
    taken at their values. A Python sequence or iterable (list, tuple, generator, ...) keeps
    each id as the Python object it is, so two ids are one group iff they are equal as Python
    values (``1 == 1.0 == True``, but ``1 != "1"``, ``"a" != "a\\0"``, ``"a" != b"a"``,
    ``2**53 + 1 != 2.0**53``): NumPy's coercion of a list to one dtype, which would merge
    some of those, is never applied. Only lists of plain ints (or of plain floats) become
    int64 (float64) arrays, which is exact.
    """
    if isinstance(groups, np.ma.MaskedArray):
        raise ValueError(
            "groups is a numpy masked array; advshape does not apply masks: pass plain ids"
        )
    if isinstance(groups, str | bytes | bytearray):
        raise ValueError(
            f"groups must hold one id per reward ({n}), got a single {type(groups).__name__} "
            f"{groups[:40]!r}; pass a list or array of ids, e.g. [prompt_id] * n"
        )
    if isinstance(groups, Set | Mapping):
        raise ValueError(
            f"groups must be an ordered sequence of ids (one per reward, in the rewards' "
            f"order), got a {type(groups).__name__}, which has no order; pass a list or array"
        )
    if isinstance(groups, np.ndarray):
        check_id_tensor(groups)
        ids = groups
    elif array_api_compat.is_torch_array(groups) or array_api_compat.is_cupy_array(groups):
        check_id_tensor(groups)
        try:
            ids = to_numpy(groups)
        except TypeError as err:  # a dtype NumPy lacks
            raise _id_dtype_error(groups.dtype, "are not supported") from err
    elif array_api_compat.is_array_api_obj(groups) or hasattr(groups, "__array__"):
        check_id_tensor(groups)
        ids = np.asarray(groups)
    elif isinstance(groups, Iterable):
        ids = _python_ids(list(groups))
    else:
        raise ValueError(
            f"groups must hold one id per reward ({n}), got a single {type(groups).__name__} "
            f"{groups!r}; pass a list or array of ids"
        )
    if ids.ndim != 1 or ids.shape[0] != n:
        raise _shape_error(n, ids.shape)
    return ids


def _python_ids(items: list[Any]) -> np.ndarray:
    """Python ids as an array that keeps their Python equality (see :func:`host_ids`)."""
    kinds = set(map(type, items))
    if kinds and kinds <= {int, bool}:
        try:
            return np.array(items, dtype=np.int64)
        except OverflowError:  # beyond int64: kept as Python ints below
            pass
    elif kinds == {float}:
        return np.array(items, dtype=np.float64)
    return np.fromiter(items, dtype=object, count=len(items))  # each id as it is


def check_id_array(groups: Array, n: int) -> None:
    """Checks of an id array of another Array-API library (JAX, ...), which is grouped where it
    lives: one id per reward, a dtype that holds distinct ids, no NaN."""
    check_id_tensor(groups)
    if groups.ndim != 1 or int(groups.shape[0]) != n:
        raise _shape_error(n, tuple(groups.shape))
    gxp = array_api_compat.array_namespace(groups)
    if gxp.isdtype(groups.dtype, "complex floating"):
        raise _id_dtype_error(groups.dtype, "are not supported")
    if gxp.isdtype(groups.dtype, "real floating") and bool(gxp.any(gxp.isnan(groups))):
        raise _nan_id_error("in a float array")


def codes_numpy(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """(code per response, number of code slots): equal ids get equal codes in [0, slots).

    Codes need not be dense (some slots may be empty); they are what per-group arrays are
    indexed by. Integer ids in a small range are their own codes; other numbers are factorised
    with ``np.unique``; fixed-width strings by a verified 64-bit hash; Python objects (verl's
    uid strings) by one dict pass (Python equality). Every route is exact. NaN, NaT and None
    ids are refused.
    """
    n = ids.shape[0]
    if n == 0:
        return np.zeros(0, np.intp), 0
    kind = ids.dtype.kind
    if kind == "f":
        if np.isnan(ids).any():
            raise _nan_id_error("in a float array")
        if np.all(ids == np.round(ids)) and ids.min() >= 0 and ids.max() < 2 * n + _DIRECT_ID_SLACK:
            ids = ids.astype(np.intp)
            kind = "i"
    if kind in "biu":
        low, high = int(ids.min()), int(ids.max())
        if low >= 0 and high < 2 * n + _DIRECT_ID_SLACK:
            return ids.astype(np.intp, copy=False), high + 1
        codes = np.unique(ids, return_inverse=True)[1].reshape(-1)
        return codes.astype(np.intp, copy=False), int(codes.max()) + 1
    if kind in "fcmM":
        if np.any(ids != ids):  # NaN, or NaT: equal to nothing, not even itself
            raise _nan_id_error(f"in a {ids.dtype} array")
        codes = np.unique(ids, return_inverse=True)[1].reshape(-1)
        return codes.astype(np.intp, copy=False), int(codes.max()) + 1
    # Fixed-width strings: a verified integer hash (benchmarks/bench_group_ids.py: 3-5x
    # np.unique on the strings at 4,096 and 65,536 ids). Python objects (verl's uid strings):
    # one dict pass, which hashes and compares the ids themselves (Python equality) and is
    # fast on verl's batches, where each prompt's uid is one string object repeated (its
    # hash is cached); sorting objects would compare them in Python, far slower.
    if kind in "US":
        return _fixed_width_codes(ids)
    if kind != "O":  # structured records, ml_dtypes' bfloat16, ...: not ids
        raise _id_dtype_error(ids.dtype, "are not supported")
    return _codes_by_dict(ids)


# Odd 64-bit multipliers, one per 8-byte word of a fixed-width id (fixed: results are
# reproducible; collisions are caught exactly below whatever they are).
_WORD_MULTIPLIERS = np.random.default_rng(20251202).integers(0, 2**63, 64, dtype=np.uint64) * 2 + 1


def _fixed_width_codes(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes for a fixed-width string array ("U"/"S" dtype): a 64-bit hash of each id's bytes,
    Σ_j word_j·c_j mod 2⁶⁴ over its 8-byte words (one contiguous pass, ``einsum``), factorised
    as integers, then checked exactly (every id equals its code's representative); on a hash
    collision the strings themselves are sorted instead."""
    n = ids.shape[0]
    raw = np.ascontiguousarray(ids).view(np.uint8).reshape(n, ids.dtype.itemsize)
    if raw.shape[1] % 8:
        raw = np.pad(raw, ((0, 0), (0, 8 - raw.shape[1] % 8)))
    words = raw.view(np.uint64)
    multipliers = np.resize(_WORD_MULTIPLIERS, words.shape[1])  # repeats beyond 512 bytes
    h = np.einsum("ij,j->i", words, multipliers)  # wraps modulo 2⁶⁴, as intended
    _, codes = np.unique(h, return_inverse=True)
    codes = codes.reshape(-1).astype(np.intp, copy=False)
    slots = int(codes.max()) + 1
    first = np.empty(slots, dtype=np.intp)
    first[codes] = np.arange(n)
    if not np.array_equal(words.take(first, axis=0).take(codes, axis=0), words):  # collision
        codes = np.unique(ids, return_inverse=True)[1].reshape(-1).astype(np.intp)
        slots = int(codes.max()) + 1
    return codes, slots


def _codes_by_dict(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..G−1 in order of first occurrence, from one dict pass (Python equality)."""
    n = ids.shape[0]
    first: dict[Any, int] = {}
    try:
        at = np.fromiter(map(first.setdefault, ids, range(n)), dtype=np.intp, count=n)
    except TypeError as err:
        bad = next(x for x in ids if not _hashable(x))
        raise ValueError(
            f"group ids must be hashable (ints or strings), got {type(bad).__name__}"
        ) from err
    if any(key is None or key != key for key in first):  # key != key: NaN
        raise _nan_id_error("in the ids")
    # each id's first position -> its group's rank: dense codes, so per-group arrays have G
    # slots, not n
    rank = np.empty(n, dtype=np.intp)
    rank[np.fromiter(first.values(), dtype=np.intp, count=len(first))] = np.arange(len(first))
    return rank.take(at), len(first)


def _hashable(x: Any) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def codes_torch(groups: Any, n: int, device: Any) -> tuple[Any, int]:
    """Codes on ``device`` for a PyTorch batch; integer id tensors on the device stay there.

    An id tensor already on the rewards' device is factorised there (``torch.unique``): the
    ids never travel to the host. Other ids are factorised on the host and copied over once.
    """
    import torch

    if isinstance(groups, torch.Tensor) and groups.device == device and device.type != "cpu":
        return device_codes(groups, n)
    codes, slots = codes_numpy(host_ids(groups, n))
    return torch.from_numpy(codes.astype(np.int64, copy=False)).to(device), slots


def device_codes(groups: Any, n: int) -> tuple[Any, int]:
    """Codes of a torch id tensor, computed where it lives (``torch.unique``; the number of
    groups is the only value that reaches the host)."""
    import torch

    check_id_tensor(groups)
    if groups.ndim != 1 or groups.shape[0] != n:
        raise _shape_error(n, groups.shape)
    if groups.is_floating_point() and bool(torch.isnan(groups).any()):
        raise _nan_id_error("in a float tensor")
    if n == 0:
        return torch.zeros(0, dtype=torch.int64, device=groups.device), 0
    unique, inverse = torch.unique(groups, return_inverse=True)
    return inverse.reshape(-1), int(unique.shape[0])


# --- Per-group sums -------------------------------------------------------------------------


class Groups(Protocol):
    """Per-group sums of a batch, whatever its layout: :class:`DenseGroups`,
    :class:`NumpySegments` or :class:`TorchSegments`."""

    xp: Namespace
    count: Any  # members per group: a Python int (dense), else an array per code slot

    def total(self, x: Array) -> Array: ...

    def spread(self, per_group: Array) -> Array: ...

    def reference(self, x: Array) -> Array: ...

    def maximum(self, x: Array) -> Array: ...


class DenseGroups:
    """Groups along the last axis of ``[..., n]``. Per-group values keep a length-1 last axis
    (keepdims), so ``spread`` is broadcasting and costs nothing."""

    def __init__(self, xp: Namespace, n: int) -> None:
        self.xp = xp
        self.count = n  # members per group: a Python int here

    def total(self, x: Array) -> Array:
        return self.xp.sum(x, axis=-1, keepdims=True)

    def spread(self, per_group: Array) -> Array:
        return per_group

    def reference(self, x: Array) -> Array:
        """One member of each group (the first), broadcast to its group; the segment forms
        pick the same member, so dense and ragged batches shift by the same value."""
        return x[..., :1]

    def maximum(self, x: Array) -> Array:
        """The largest member of each group."""
        return self.xp.max(x, axis=-1, keepdims=True)


class NumpySegments:
    """Ragged groups of 1-D NumPy data, by code: per-group sums via ``bincount`` (float64),
    per-group values indexed by code slot and spread back by a gather."""

    def __init__(self, codes: np.ndarray, slots: int) -> None:
        self.xp = array_api_compat.array_namespace(np.empty(0))
        self.codes, self.slots = codes, slots
        self.sizes = np.bincount(codes, minlength=slots)  # members per slot (0: unused slot)
        self.count = self.sizes.astype(np.float64)

    def total(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=x, minlength=self.slots)

    def spread(self, per_group: np.ndarray) -> np.ndarray:
        return per_group.take(self.codes)

    def reference(self, x: np.ndarray) -> np.ndarray:
        ref = np.zeros(self.slots, dtype=x.dtype)
        ref[self.codes[::-1]] = x[::-1]  # the last write wins: each group's first member
        return ref

    def maximum(self, x: np.ndarray) -> np.ndarray:
        """The largest member of each group (x ≥ 0: unused slots read 0)."""
        top = np.zeros(self.slots, dtype=x.dtype)
        np.maximum.at(top, self.codes, x)
        return top


class TorchSegments:
    """Ragged groups of 1-D PyTorch data (any device), by code: sums via ``index_add``."""

    def __init__(self, codes: Array, slots: int, dtype: DType) -> None:
        import torch

        self.xp = array_api_compat.array_namespace(codes)
        self.codes, self.slots = codes, slots
        self.sizes = torch.bincount(codes, minlength=slots)  # members per slot
        self.count = self.sizes.to(dtype)
        self.first: Any = None  # each group's first member, found when first needed

    def total(self, x: Array) -> Array:
        import torch

        return torch.zeros(self.slots, dtype=x.dtype, device=x.device).index_add_(0, self.codes, x)

    def spread(self, per_group: Array) -> Array:
        return per_group.index_select(0, self.codes)

    def reference(self, x: Array) -> Array:
        import torch

        if self.first is None:  # each group's first member (a deterministic choice)
            n = self.codes.shape[0]
            positions = torch.arange(n, device=self.codes.device)
            first = torch.full((self.slots,), n, dtype=positions.dtype, device=positions.device)
            self.first = first.scatter_reduce_(0, self.codes, positions, reduce="amin")
            self.first.clamp_(max=max(n - 1, 0))  # unused slots: any valid index
        return x.index_select(0, self.first)

    def maximum(self, x: Array) -> Array:
        """The largest member of each group (x ≥ 0: unused slots read 0)."""
        import torch

        top = torch.zeros(self.slots, dtype=x.dtype, device=x.device)
        return top.scatter_reduce_(0, self.codes, x, reduce="amax")


# --- Ragged batches as dense blocks (any Array-API library) ---------------------------------


def apply_blocks(
    xp: Namespace,
    rewards: Array,
    codes: Array,
    dense_fn: DenseFn,
    check_size: Callable[[int], None],
) -> Array:
    """Apply ``dense_fn`` (along the last axis) to each group of a 1-D ragged batch.

    ``codes`` (same library and device as ``rewards``) gives each response's group code. The
    batch is sorted by (group size, group) into dense blocks, one per size. Standard Array-API
    functions only.
    """
    # unique_inverse and unique_counts both sort the codes, so their outputs line up
    inverse = xp.unique_inverse(codes).inverse_indices
    counts = xp.unique_counts(codes).counts
    inverse = xp.reshape(inverse, (-1,))
    per_response = xp.take(counts, inverse, axis=0)
    distinct = xp.unique_values(counts)
    sizes = [int(distinct[i]) for i in range(int(distinct.shape[0]))]
    for size in sizes:
        check_size(size)
    # sort by (group size, group): each size is then one contiguous dense block. Two stable
    # sorts rather than one on size·G + group, which could overflow int32 (JAX's default).
    by_group = xp.argsort(inverse, stable=True)
    order = xp.take(
        by_group, xp.argsort(xp.take(per_response, by_group, axis=0), stable=True), axis=0
    )
    sorted_rewards = xp.take(rewards, order, axis=0)
    blocks, start = [], 0
    for size in sizes:
        length = int(xp.sum(xp.astype(counts == size, xp.int32))) * size
        block = xp.reshape(sorted_rewards[start : start + length], (-1, size))
        blocks.append(xp.reshape(dense_fn(xp, block), (-1,)))
        start += length
    values = xp.concat(blocks) if len(blocks) > 1 else blocks[0]
    return xp.take(values, xp.argsort(order), axis=0)  # out[order[i]] = values[i]
