"""advshape._src.arrays: group ids, bool and integer rewards, autograd (issue 20, classes 4, 6, 7).

The reference for group ids is Python's own equality, applied pair by pair (i and j are one
group iff ids[i] == ids[j]); the advantages of a batch are then compared with those of the
same batch grouped by explicit integer codes of that partition.
"""

from __future__ import annotations

import decimal
from fractions import Fraction

import numpy as np
import pytest
import torch

import advshape
from advshape._src import arrays


def same(a, b) -> bool:
    """Equal as Python values: == both ways and the same hash (what makes two dict keys one;
    NumPy's np.float32(0.1) == 0.1 rounds 0.1 to float32 first, but the hashes of the two
    different values differ)."""
    return bool(a == b) and bool(b == a) and hash(a) == hash(b)


def partition(ids) -> np.ndarray:
    """Integer codes with codes[i] == codes[j] iff ids[i] and ids[j] are equal Python values."""
    codes = np.full(len(ids), -1)
    for i in range(len(ids)):
        if codes[i] < 0:
            codes[i] = i
            for j in range(i + 1, len(ids)):
                if codes[j] < 0 and same(ids[j], ids[i]):
                    codes[j] = i
    return codes


# pairs of ids that Python tells apart (or not), each repeated so that every group has 2+ members
ID_CASES = {
    "int and its string": [1, "1"],
    "trailing NUL": ["a", "a\x00"],
    "bytes with trailing NUL": [b"a", b"a\x00"],
    "str and bytes": ["a", b"a"],
    "big int next to a float": [2**53 + 1, 2.0**53],
    "equal big int and float": [2**53, 2.0**53, 7],
    "ints beyond int64": [2**64 + 1, 2**64, -(2**70)],
    "bool, int and float": [True, 1, 1.0, 0, False],
    "float32 next to its float": [np.float32(0.1), 0.1],
    "signed zeros": [0.0, -0.0, 1],
    "tuples": [(1, 2), (1, 3), (2, 1)],
    "Fraction, Decimal and float": [Fraction(1, 2), 0.5, decimal.Decimal("0.5"), Fraction(1, 3)],
    "mixed everything": [1, "1", 1.5, (1,), b"1", None.__class__.__name__],
}


@pytest.mark.parametrize("container", ["list", "tuple", "generator", "object array"])
@pytest.mark.parametrize("case", list(ID_CASES))
def test_ids_are_one_group_iff_equal_as_python_values(case, container):
    distinct = ID_CASES[case]
    rng = np.random.default_rng(len(case))
    ids = [distinct[i] for i in rng.permutation(np.repeat(np.arange(len(distinct)), 3))]
    rewards = rng.normal(size=len(ids))
    want = advshape.shaper("rloo").advantages(rewards, groups=partition(ids))
    if container == "list":
        groups = list(ids)
    elif container == "tuple":
        groups = tuple(ids)
    elif container == "generator":
        groups = (x for x in ids)
    else:
        groups = np.empty(len(ids), dtype=object)
        groups[:] = [x for x in ids] if case != "tuples" else [None] * len(ids)
        if case == "tuples":
            for i, x in enumerate(ids):
                groups[i] = x
    got = advshape.shaper("rloo").advantages(rewards, groups=groups)
    np.testing.assert_array_equal(got, want)
    diag = advshape.group_diagnostics(rewards, got, list(ids), threshold=0.0)
    assert diag["groups"] == len(np.unique(partition(ids)))


def test_arrays_are_grouped_by_their_values():
    """A NumPy array holds values, not the objects it was made from: np.array(["a", "a\\0"])
    already holds "a" twice, and is one group, as its own == says."""
    ids = np.array(["a", "a\x00", "b", "b"])
    assert ids[0] == ids[1]
    out = advshape.shaper("rloo").advantages(np.array([1.0, 0.0, 1.0, 0.0]), groups=ids)
    np.testing.assert_array_equal(out, [1, -1, 1, -1])
    for dtype in (np.int64, np.uint64, np.float64, np.int8):
        ids = np.array([3, 3, 100, 100], dtype=dtype)
        np.testing.assert_array_equal(
            advshape.shaper("rloo").advantages(np.array([1.0, 0.0, 1.0, 0.0]), groups=ids),
            [1, -1, 1, -1],
        )


@pytest.mark.parametrize(
    ("groups", "match"),
    [
        (3, "a single int"),
        (np.int64(3), "groups must"),
        (np.array(3), "got shape"),
        (torch.tensor(3), "got shape"),
        (None.__class__, "a single"),
        ("abab", "a single str"),
        (b"abab", "a single bytes"),
        ({0, 1, 2, 3}, "no order"),
        ({0: 1, 1: 1, 2: 2, 3: 2}, "no order"),
        (torch.tensor([0, 0, 1, 1], dtype=torch.bfloat16), "bfloat16 cannot hold distinct"),
        (np.zeros(4, dtype=[("a", int)]), "are not supported"),
        (np.array(["2020-01-01", "NaT", "NaT", "2020-01-01"], dtype="datetime64[D]"), "NaN"),
        (np.array([1.0, np.nan, np.nan, 1.0]), "NaN"),
        ([1, None, None, 1], "None"),
        ([float("nan")] * 4, "NaN"),
        ([[0], [0], [1], [1]], "hashable"),
    ],
)
def test_bad_ids_get_a_value_error(groups, match):
    rewards = np.array([1.0, 0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=match):
        advshape.shaper("rloo").advantages(rewards, groups=groups)
    with pytest.raises(ValueError, match=match):
        advshape.shaper("rloo").advantages(torch.from_numpy(rewards), groups=groups)
    with pytest.raises(ValueError, match=match):
        advshape.group_diagnostics(rewards, rewards, groups)


def test_ml_dtypes_bfloat16_ids_are_refused():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    groups = np.array([0, 0, 1, 1], dtype=ml_dtypes.bfloat16)
    with pytest.raises(ValueError, match="bfloat16 cannot hold distinct"):
        advshape.shaper("rloo").advantages(np.array([1.0, 0.0, 1.0, 0.0]), groups=groups)


def test_lists_of_plain_ints_and_floats_take_the_fast_exact_route():
    assert arrays.host_ids([1, 2, True], 3).dtype == np.int64
    assert arrays.host_ids([1.5, 2.0], 2).dtype == np.float64
    assert arrays.host_ids([2**63, 1], 2).dtype == object  # beyond int64: Python ints
    assert arrays.host_ids(["a", "b"], 2).dtype == object  # never NumPy's NUL-stripping "U"
    assert arrays.host_ids([1, 2.5], 2).dtype == object  # never a float64 that rounds ints


def _odd_bools(pattern: list[int], n: int) -> np.ndarray:
    """Bool arrays whose bytes are not 0/1, as .view(bool) and frombuffer make them."""
    raw = np.array(pattern, dtype=np.uint8)
    return np.frombuffer(raw.tobytes(), dtype=np.bool_).reshape(-1, n)


@pytest.mark.parametrize("n", [4, 8, 16, 300])
@pytest.mark.parametrize("spec", ["grpo", "grpo_k:k=2", "rloo"])
def test_bool_rewards_with_any_bytes_count_as_numpy_reads_them(n, spec):
    rng = np.random.default_rng(n)
    raw = rng.choice([0, 1, 2, 3, 128, 255], size=(5, n)).astype(np.uint8)
    raw[0] = 255  # every byte non-canonical: the pattern that overflowed the popcount
    odd = _odd_bools(raw.ravel().tolist(), n)
    canonical = raw != 0
    assert np.array_equal(np.count_nonzero(odd, axis=1), np.count_nonzero(canonical, axis=1))
    shaper = advshape.shaper(spec)
    want = shaper.advantages(canonical)
    np.testing.assert_array_equal(shaper.advantages(odd), want)
    torch.testing.assert_close(
        shaper.advantages(torch.from_numpy(odd.copy())),
        shaper.advantages(torch.from_numpy(canonical)),
        rtol=0,
        atol=0,
    )
    ids = np.repeat(np.arange(5), n)
    np.testing.assert_array_equal(shaper.advantages(odd.ravel(), groups=ids), want.ravel())
    assert arrays.canonical_bool(canonical) is canonical  # no copy when already 0/1


def test_integer_rewards_beyond_2_53_are_refused_not_rounded():
    shaper = advshape.shaper("grpo")
    for rewards in (
        np.array([2**60, 2**60 + 1, 0, 0]),  # float64 would make the first two equal
        np.array([2**63 + 5, 0, 1, 2], dtype=np.uint64),
        np.array([-(2**53) - 1, 0, 1, 2]),
    ):
        with pytest.raises(ValueError, match=r"beyond ±2\^53.*offset"):
            shaper.advantages(rewards)
        with pytest.raises(ValueError, match=r"beyond ±2\^53"):
            shaper.advantages(torch.from_numpy(rewards.astype(np.int64)), groups=[0, 0, 1, 1])
    # 2^53 itself is exact: the answer is that of the same values as Fractions
    x = [2**53, 0, 1, 2]
    mean = Fraction(sum(x), 4)
    sigma = float(sum((Fraction(v) - mean) ** 2 for v in x) / 4) ** 0.5
    np.testing.assert_allclose(
        shaper.advantages(np.array(x)), [float(v - mean) / sigma for v in x], rtol=1e-15
    )
    # binary integer rewards never come near it
    assert advshape.shaper("grpo_k:k=2").advantages(np.array([1, 0, 0, 1], np.uint64)).size == 4


def test_long_double_rewards_are_refused():
    if np.dtype(np.longdouble).itemsize <= 8:
        pytest.skip("long double is float64 on this platform")
    for rewards in (np.array([1.0, 0.0], np.longdouble), np.array([0.5, 0.0], np.longdouble)):
        with pytest.raises(ValueError, match="long double.*astype"):
            advshape.shaper("grpo").advantages(rewards)


@pytest.mark.parametrize("spec", ["grpo", "grpo_k:k=2", "pkpo:k=2", "grpo_passk"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_advantages_of_rewards_that_require_grad_are_detached(spec, dtype):
    values = [[1.0, 0.0, 0.0, 1.0], [0.5, 0.25, 1.0, 0.0]]
    shaper = advshape.shaper(spec)
    for row in values if not shaper.info.binary_only else values[:1]:
        rewards = torch.tensor(row, dtype=dtype, requires_grad=True)
        for groups in (None, [3, 3, 3, 3]):
            out = shaper.advantages(rewards, groups=groups)
            assert out.grad_fn is None and not out.requires_grad
            want = shaper.advantages(rewards.detach(), groups=groups)
            torch.testing.assert_close(out, want, rtol=0, atol=0)
