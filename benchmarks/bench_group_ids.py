"""Group-id factorisation: each special path of ``advshape._src.arrays.codes_numpy`` (and one it
no longer has) against the plain route it replaces, at realistic batch sizes, in one run.

Ids as trainers hold them, for B responses in groups of N (shuffled):

- verl's ``uid``: an object array of ``str(uuid.uuid4())``, one string object per prompt,
  repeated for its N responses (``np.repeat`` of the per-prompt array, as verl builds it);
- the same strings as a fixed-width NumPy string array (dtype ``<U36``, what
  ``np.array(list_of_str)`` gives);
- the same strings as a Python list of str (one object per prompt, repeated);
- integer ids 0..G−1 (int64).

Routes timed (codes only; every route gives the same partition, checked):

- object ids: pointer identity then one dict pass over one object per prompt (the CPython
  special path advshape had until issue 16 measured it; reproduced below as it was) vs one
  dict pass over every id (the plain exact route, advshape's now) vs ``np.unique``;
- fixed-width strings: the 64-bit multiply-hash (verified exactly) vs ``np.unique`` on the
  strings, and vs converting them to Python objects and the dict;
- integer ids: ids in [0, 2B + 1024) are their own codes vs ``np.unique``.

Prints best-of-R times in microseconds and the ratio plain / special (> 1: the special path
is faster).

    python benchmarks/bench_group_ids.py [--sizes 4096 65536] [--n 16] [--repeats 7]
"""

from __future__ import annotations

import argparse
import ctypes
import time
import uuid

import numpy as np

from advshape._src import arrays


def best_of(repeats: int, fn, *args) -> float:
    """Best per-call time in seconds, each timing a loop long enough to be measurable."""
    fn(*args)
    loops, elapsed = 1, 0.0
    while True:  # calibrate: a timing block of at least 20 ms
        t0 = time.perf_counter()
        for _ in range(loops):
            fn(*args)
        elapsed = time.perf_counter() - t0
        if elapsed >= 0.02:
            break
        loops *= 2
    times = [elapsed / loops]
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn(*args)
        times.append((time.perf_counter() - t0) / loops)
    return min(times)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Two code arrays describe the same grouping (codes may be numbered differently)."""
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return bool(np.unique(pairs[:, 0]).size == pairs.shape[0] == np.unique(pairs[:, 1]).size)


def codes_by_identity(ids: np.ndarray) -> np.ndarray:
    """The removed special path: group an object array by its entries' PyObject pointers (a
    sort of integers), then one dict pass over one object per pointer (64-bit CPython only)."""
    n = ids.shape[0]
    pointers = np.ctypeslib.as_array((ctypes.c_int64 * n).from_address(ids.ctypes.data))
    order = np.argsort(pointers)
    by_pointer = pointers.take(order)
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(by_pointer[1:], by_pointer[:-1], out=starts[1:])
    rep_codes, _ = arrays._codes_by_dict(ids.take(order[starts]))
    codes = np.empty(n, dtype=np.intp)
    codes[order] = rep_codes.take(np.cumsum(starts) - 1)
    return codes


def dict_codes(ids: np.ndarray) -> np.ndarray:
    return arrays._codes_by_dict(ids)[0]


def unique_codes(ids: np.ndarray) -> np.ndarray:
    return np.unique(ids, return_inverse=True)[1].reshape(-1)


def object_then_dict(ids: np.ndarray) -> np.ndarray:
    return arrays._codes_by_dict(ids.astype(object))[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[4096, 65_536])
    parser.add_argument("--n", type=int, default=16, help="responses per prompt")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"group size {args.n}, shuffled; best of {args.repeats}; numpy {np.__version__}\n")
    print("| responses | ids | special path | µs | plain route | µs | plain / special |")
    print("|---:|---|---|---:|---|---:|---:|")
    for size in args.sizes:
        groups = size // args.n
        perm = rng.permutation(groups * args.n)
        uids = np.array([str(uuid.uuid4()) for _ in range(groups)], dtype=object)
        verl_uid = np.repeat(uids, args.n)[perm]  # one str object per prompt, repeated
        fixed = verl_uid.astype(str)  # <U36
        int_ids = np.repeat(np.arange(groups, dtype=np.int64), args.n)[perm]
        rows = [
            (
                "verl uid (object)",
                "pointer identity + dict (removed)",
                codes_by_identity,
                "dict over every id",
                dict_codes,
                verl_uid,
            ),
            (
                "verl uid (object)",
                "dict over every id",
                dict_codes,
                "np.unique",
                unique_codes,
                verl_uid,
            ),
            (
                "uuid strings (<U36)",
                "multiply-hash",
                lambda x: arrays._fixed_width_codes(x)[0],
                "np.unique",
                unique_codes,
                fixed,
            ),
            (
                "uuid strings (<U36)",
                "multiply-hash",
                lambda x: arrays._fixed_width_codes(x)[0],
                "as objects + dict",
                object_then_dict,
                fixed,
            ),
            (
                "int ids 0..G−1",
                "ids as codes",
                lambda x: arrays.codes_numpy(x)[0],
                "np.unique",
                unique_codes,
                int_ids,
            ),
        ]
        for label, special_name, special, plain_name, plain, ids in rows:
            assert same_partition(special(ids), plain(ids)), (label, special_name)
            t_special = best_of(args.repeats, special, ids)
            t_plain = best_of(args.repeats, plain, ids)
            print(
                f"| {size:,} | {label} | {special_name} | {t_special * 1e6:,.0f} | "
                f"{plain_name} | {t_plain * 1e6:,.0f} | {t_plain / t_special:.2f}× |",
                flush=True,
            )
        # what a caller pays end to end: host_ids + codes_numpy, per kind of container
        for label, ids in (
            ("verl uid (object)", verl_uid),
            ("uuid strings (<U36)", fixed),
            ("list of str", verl_uid.tolist()),
            ("int ids 0..G−1", int_ids),
        ):
            t = best_of(
                args.repeats, lambda x, size=size: arrays.codes_numpy(arrays.host_ids(x, size)), ids
            )
            print(f"| {size:,} | {label} | host_ids + codes_numpy | {t * 1e6:,.0f} | | | |")


if __name__ == "__main__":
    main()
