"""Continuous rewards: group statistics exact whatever the input dtype (issue 10, section 2).

References are exact: the rewards' own binary values as Fractions, centred and normalised in
rational arithmetic (one square root at the end, in mpmath), then compared with the library's
output after rounding to the output dtype.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch

import advshape
from advshape._src.pkpo import offset_weight

from . import _reference as ref


def exact_advantages(name: str, values, std: str = "population", eps: float = 0.0) -> np.ndarray:
    """float64 of the exact advantages of one group (Fractions of the input's exact values)."""
    r = [Fraction(float(v)) for v in values]
    n = len(r)
    out = []
    for i in range(n):
        if name == "rloo":
            out.append(float(ref.exact(ref.rloo(r, i))))
        elif name == "dr_grpo":
            out.append(float(ref.exact(r[i] - ref.mean(r))))
        else:
            centred, var = ref.grpo_parts(r, i, std)
            if var == 0:
                out.append(0.0)
            else:
                sigma = ref.mpmath.sqrt(ref.exact(var))
                out.append(float(ref.exact(centred) / (sigma + eps)))
    return np.array(out)


def check(got, want, dtype_rtol):
    got = np.asarray(got, dtype=np.float64)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=dtype_rtol, atol=0)


NEAR = [0.3] * 15 + [float(np.float32(0.3)) + 1.1e-6]  # sixteen float32, one ~1e-6 higher


@pytest.mark.parametrize("name", ["grpo", "rloo", "dr_grpo"])
@pytest.mark.parametrize("layout", ["dense", "ragged"])
def test_nearly_equal_float32_rewards(name, layout):
    x = np.array(NEAR, dtype=np.float32)
    want = exact_advantages(name, x)
    if name == "grpo":  # [−0.258…, …, 3.873]: not [0, …, 0, 4.0]
        assert want[0] == pytest.approx(-0.2581988897, rel=1e-9)
        assert want[-1] == pytest.approx(3.8729833462, rel=1e-9)
    shaper = advshape.shaper(name)
    for rewards in (x, torch.from_numpy(x)):
        if layout == "dense":
            got = shaper.advantages(rewards)
        else:
            perm = np.random.default_rng(0).permutation(16)
            ids = np.zeros(16, dtype=np.int64)
            got = shaper.advantages(rewards[perm], groups=ids)
            want_here = want[perm]
            check(got, want_here, 2e-7)
            continue
        assert got.dtype == rewards.dtype  # float32 in, float32 out
        check(got, want, 2e-7)


@pytest.mark.parametrize("layout", ["dense", "ragged"])
def test_float16_variance_that_would_overflow(layout):
    x = np.array([1000, 0, 0, 0.5], dtype=np.float16)  # Σ(x − x̄)² = 7.5e5 > 65504
    want = exact_advantages("grpo", x)
    for rewards in (x, torch.from_numpy(x)):
        if layout == "dense":
            got = advshape.shaper("grpo").advantages(rewards)
        else:
            got = advshape.shaper("grpo").advantages(rewards, groups=[7, 7, 7, 7])
        assert got.dtype == rewards.dtype
        check(got, want, 1e-3)
        assert not np.allclose(np.asarray(got, np.float64), 0)


def test_float16_variance_that_would_underflow():
    x = torch.tensor([1e-4, 0, 0, 0], dtype=torch.float16)  # (x − x̄)² ≈ 5.6e-9 < fp16's 6e-8
    want = exact_advantages("grpo", x.numpy())
    check(advshape.shaper("grpo").advantages(x), want, 1e-3)
    check(
        advshape.shaper("grpo").advantages(x, groups=torch.zeros(4, dtype=torch.int64)), want, 1e-3
    )


@pytest.mark.parametrize(
    "values",
    [
        [1e-200, 0.0, 0.0, 0.0],  # d² underflows float64
        [1e300, -1e300, 0.0, 5e299],  # d² overflows float64
        [1.0 + 2**-52, 1.0, 1.0, 1.0],  # one ulp apart
        [1e16, 1e16 + 2, 1e16 + 4, 1e16],  # a large mean
    ],
)
def test_float64_extremes_grpo(values):
    x = np.array(values)
    want = exact_advantages("grpo", x)
    check(advshape.shaper("grpo").advantages(x), want, 1e-12)
    check(advshape.shaper("grpo").advantages(x, groups=["a"] * 4), want, 1e-12)
    check(advshape.shaper("grpo").advantages(torch.from_numpy(x), groups=[1, 1, 1, 1]), want, 1e-12)
    check(advshape.shaper("grpo:std=sample,eps=0").advantages(x), want * np.sqrt(3 / 4), 1e-12)


def test_rloo_on_huge_rewards():
    assert np.all(advshape.shaper("rloo").advantages(np.full(4, 1e308)) == 0)  # was −inf
    x = np.array([1e308, 0.0, 0.0, -5e307])
    check(advshape.shaper("rloo").advantages(x), exact_advantages("rloo", x), 1e-14)
    with pytest.raises(ValueError, match="do not fit in float64.*rescale"):
        advshape.shaper("rloo").advantages(np.array([1.7e308, -1.7e308, 0.0, 0.0]))
    x = np.array([1.7e308, -1.7e308])  # d = ±1.7e308: fits
    np.testing.assert_array_equal(advshape.shaper("dr_grpo").advantages(x, groups=[0, 0]), x)
    with pytest.raises(ValueError, match="do not fit in float64"):  # d₀ = 2.27e308
        advshape.shaper("dr_grpo").advantages(
            np.array([1.7e308, -1.7e308, -1.7e308]), groups=[0] * 3
        )


def test_float16_output_overflow_names_the_dtype():
    x = np.array([60000.0, -60000.0], dtype=np.float16)  # rloo: ±2·60000 > 65504
    with pytest.raises(ValueError, match="float16.*float32"):
        advshape.shaper("rloo").advantages(x)
    with pytest.raises(ValueError, match="float16.*float32"):
        advshape.shaper("rloo").advantages(torch.from_numpy(x))
    assert advshape.shaper("rloo").advantages(x.astype(np.float32)).tolist() == [120000, -120000]


def test_constant_groups_are_exactly_zero():
    for dtype in (np.float16, np.float32, np.float64):
        x = np.full((3, 7), 0.1, dtype=dtype)
        assert np.all(advshape.shaper("grpo").advantages(x) == 0)
        assert np.all(advshape.shaper("grpo").advantages(x.ravel(), groups=np.arange(21) % 3) == 0)


def test_score_table_overflowing_on_the_cast_is_checked_after_the_cast():
    """entropy:lam=1e4 at N = 1024: A⁺ at N⁺ = 1 is 69,269 > float16's 65,504."""
    shaper = advshape.shaper("entropy:lam=1e4")
    a_pos, a_neg = shaper.scores(np.arange(1025), 1024)
    assert a_pos[1] > np.finfo(np.float16).max and np.isfinite(a_pos[1])
    rewards = np.zeros((2, 1024), dtype=np.float16)
    rewards[0, :512] = 1
    rewards[1, :1] = 1  # uses A⁺(1, 1024): does not fit
    for batch in (rewards, torch.from_numpy(rewards)):
        with pytest.raises(ValueError, match="overflows float16.*float32"):
            shaper.advantages(batch)
    with pytest.raises(ValueError, match="overflows float16"):
        shaper.advantages(rewards.ravel(), groups=np.repeat([5, 9], 1024))
    # a batch that uses only representable scores: the exact values, rounded once, no NaN
    ok = shaper.advantages(rewards[:1])
    want = np.where(rewards[0] == 1, a_pos[512], a_neg[512]).astype(np.float16)
    np.testing.assert_array_equal(ok[0], want)
    np.testing.assert_array_equal(shaper.advantages(rewards[0], groups=np.zeros(1024, int)), want)
    np.testing.assert_array_equal(
        shaper.advantages(rewards[:1].astype(np.float32))[0],
        np.where(rewards[0] == 1, a_pos[512], a_neg[512]).astype(np.float32),
    )


def test_pkpo_statistics_in_float64_for_float16_rewards():
    x = np.array([[1000, 0.5, 0, 999.5, 3, 2, 1, 0.25]], dtype=np.float16)
    shaper = advshape.shaper("pkpo:k=3,baseline=loo")
    want = shaper.advantages(x.astype(np.float64)).astype(np.float16)
    np.testing.assert_array_equal(shaper.advantages(x), want)


# --- issue 20: grpo_passk, PKPO, extreme grpo; dense, ragged, every order ----------------------


def exact_passk(values, std="sample", eps=1e-6) -> np.ndarray:
    r = [Fraction(float(v)) for v in values]
    return np.array([float(ref.grpo_passk(r, i, std=std, eps=eps)) for i in range(len(r))])


def every_layout(shaper, x):
    """(layout, advantages in x's order) for x itself, every permutation of it, ragged with
    shuffled ids, and torch; x is one group."""
    n = x.shape[0]
    yield "dense", shaper.advantages(x)
    for perm in itertools.permutations(range(n)) if n <= 5 else [np.arange(n)[::-1]]:
        perm = np.array(perm)
        out = np.empty(n, dtype=np.asarray(shaper.advantages(x)).dtype)
        out[perm] = shaper.advantages(x[perm])
        yield f"permuted {perm.tolist()}", out
    ids = ["q"] * n + ["other"] * 4
    both = np.concatenate([x, np.array([0.0, 1.0, 0.5, 0.25], dtype=x.dtype)])
    yield "ragged", shaper.advantages(both, groups=ids)[:n]
    yield "torch", shaper.advantages(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([300.0, 0.0, 0.0, 1.5], np.float16),  # Σ(x − x̄)² = 6.7e4 > float16's 65504
        ([1e20, 0.0, 0.0, 0.5], np.float32),  # (1e20)² overflows float32
        ([1e4, 1e4, 1e4 + 0.0009765625, 1e4], np.float32),  # near-constant (1 ulp apart)
        ([0.1, 0.7, 0.3, 0.9, 0.7], np.float32),
        ([1000.0, 999.5, 998.0, 1000.5, 1000.0], np.float16),
    ],
)
def test_grpo_passk_in_narrow_dtypes_is_exact_in_every_order(values, dtype):
    x = np.array(values, dtype=dtype)
    want = exact_passk(x)
    assert np.count_nonzero(want) == 1
    first = None
    for layout, got in every_layout(advshape.shaper("grpo_passk"), x):
        assert got.dtype == dtype, layout
        check(got, want, float(np.finfo(dtype).eps))  # one rounding of the exact value
        first = got if first is None else first
        np.testing.assert_array_equal(got, first, err_msg=layout)  # the same value, bitwise


def test_grpo_passk_bfloat16_and_std_none():
    x = torch.tensor([3.0, 1.0, 1.0, 1.25, 2.75], dtype=torch.bfloat16)
    want = exact_passk(x.double().numpy())
    got = advshape.shaper("grpo_passk").advantages(x)
    assert got.dtype == torch.bfloat16
    check(got.double().numpy(), want, 2**-8)
    got = advshape.shaper("grpo_passk:std=none").advantages(np.array([-1e308, 1e308, 5.0]))
    np.testing.assert_array_equal(got, [0, 1e308 - 5.0, 0])
    with pytest.raises(ValueError, match="do not fit in float64"):  # the gap itself is 3e308
        advshape.shaper("grpo_passk:std=none").advantages(np.array([1.5e308, -1.5e308]))


@pytest.mark.parametrize(
    "values",
    [
        [1.7e308, -1.7e308, -1.7e308, 1.7e308],  # x − x_ref overflows
        [1.7e308, 1.6e308, 1.7e308, -1.7e308, 0.0],
        [5e-324, 0.0, 0.0, 0.0],  # the smallest subnormal (halving it gave 0)
        [1e-323, 0.0, 0.0],  # its mean 3.3e-324 is not representable
        [2.5e-310, -1e-312, 3e-311, 0.0],  # subnormal deviations
        [1e300, 1e300 * (1 + 2**-52), 1e300],  # one ulp apart, huge
        [1e-300, 3e-300, -2e-300],
    ],
)
@pytest.mark.parametrize("spec", ["grpo", "grpo:std=sample,eps=1e-6", "grpo_passk"])
def test_extreme_finite_rewards_give_the_exact_answer(values, spec):
    x = np.array(values)
    std = "sample" if "sample" in spec or spec == "grpo_passk" else "population"
    eps = 1e-6 if "eps" in spec or spec == "grpo_passk" else 0.0
    if spec == "grpo_passk":
        want = exact_passk(x)
    else:
        want = exact_advantages("grpo", x, std=std, eps=eps)
    for layout, got in every_layout(advshape.shaper(spec), x):
        # a few ulp of the group's largest advantage (1 ulp of a subnormal result: 5e-324)
        tol = 4 * 2**-52 * np.abs(want).max() + 2 * 5e-324
        np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=layout)


@pytest.mark.parametrize(
    "values",
    [
        [5e-324, 0.0, 0.0, 0.0],
        [1e-323, 0.0, 0.0],
        [1.7e308, -1.7e308],  # fits: ±1.7e308 (dr_grpo); rloo: ±3.4e308 does not
        [8e307, -8e307, 0.0],
        [1e16, 1e16 + 2, 1e16 + 4, 1e16],
    ],
)
@pytest.mark.parametrize("name", ["rloo", "dr_grpo"])
def test_rloo_and_dr_grpo_exact_or_refused_at_the_extremes(values, name):
    x = np.array(values)
    want_exact = [ref.exact(ref.rloo([Fraction(v) for v in values], i)) for i in range(len(x))]
    if name == "dr_grpo":
        r = [Fraction(v) for v in values]
        want_exact = [ref.exact(r[i] - ref.mean(r)) for i in range(len(x))]
    if max(abs(v) for v in want_exact) > np.finfo(np.float64).max:
        with pytest.raises(ValueError, match="do not fit in float64"):
            advshape.shaper(name).advantages(x)
        return
    want = np.array([float(v) for v in want_exact])
    for layout, got in every_layout(advshape.shaper(name), x):
        # one rounding, to the nearest float64 (subnormals included: 1 ulp = 5e-324)
        np.testing.assert_allclose(
            got, want, rtol=4e-16, atol=5e-324 + 4e-16 * np.abs(want).max(), err_msg=layout
        )


BASELINE_NAMES = ("none", "loo", "loo_unscaled", "loo_minus_one")


@pytest.mark.parametrize("baseline", BASELINE_NAMES)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_pkpo_offset_weight_is_exact(baseline, k):
    """A(x + c) − A(x) = c·w₀ for every response, from subset enumeration in Fractions."""
    if baseline in ("loo", "loo_unscaled") and k > 4:
        return
    x = [Fraction(v) for v in (3, 1, 4, 1, 5)]
    c = Fraction(7, 3)
    for i in range(len(x)):
        moved = ref.pkpo_enumerated([v + c for v in x], i, k, baseline)
        assert moved - ref.pkpo_enumerated(x, i, k, baseline) == c * Fraction(
            offset_weight(5, k, baseline)
        ).limit_denominator(100)


@pytest.mark.parametrize("baseline", BASELINE_NAMES)
@pytest.mark.parametrize("offset", [0.0, 1e6, -1e12, 1e15])
def test_pkpo_with_a_large_offset_is_exact(baseline, offset):
    rng = np.random.default_rng(11)
    x = offset + np.round(rng.random(6), 3)  # the rewards as given (offset included)
    x[4] = x[1]  # a tie
    shaper = advshape.shaper(f"pkpo:k=3,baseline={baseline}")
    r = [Fraction(float(v)) for v in x]
    want = np.array([float(ref.pkpo_enumerated(r, i, 3, baseline)) for i in range(6)])
    spread = float(np.max(x) - np.min(x))
    for layout, got in every_layout(shaper, x):
        # error: rounding of the differences from the smallest reward, and of x₍₁₎·w₀
        tol = 1e-15 * (spread * 8 + abs(offset) * abs(offset_weight(6, 3, baseline)))
        np.testing.assert_allclose(got, want, rtol=0, atol=tol + 1e-300, err_msg=layout)
        assert got[4] == got[1], layout  # tied responses: one value


@pytest.mark.parametrize("baseline", BASELINE_NAMES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_pkpo_constant_groups(baseline, dtype):
    for value in (0.1, 1e4, -3e7 if dtype != np.float16 else -6e4):
        x = np.full((3, 5), value, dtype=dtype)
        got = advshape.shaper(f"pkpo:k=2,baseline={baseline}").advantages(x)
        want = dtype(float(dtype(value)) * offset_weight(5, 2, baseline))
        assert np.all(got == want), (value, got)
        if baseline in ("loo_unscaled", "loo_minus_one"):
            assert np.all(got == 0)


@pytest.mark.parametrize("spec", ["pkpo:k=2", "pkpo:k=3,baseline=loo", "pkpo:k=4,baseline=none"])
def test_pkpo_ties_give_one_value_in_every_order_and_layout(spec):
    rng = np.random.default_rng(2)
    shaper = advshape.shaper(spec)
    x = rng.choice([0.0, 0.25, 0.5, 1.0 / 3.0], size=(20, 8))
    dense = shaper.advantages(x)
    for row, out in zip(x, dense):  # equal rewards, equal advantages (bitwise)
        for value in np.unique(row):
            assert np.unique(out[row == value]).size == 1
    perm = np.stack([rng.permutation(8) for _ in range(20)])
    np.testing.assert_array_equal(
        shaper.advantages(np.take_along_axis(x, perm, 1)), np.take_along_axis(dense, perm, 1)
    )
    ids = np.repeat(np.arange(20), 8)
    order = rng.permutation(ids.size)
    ragged = np.empty(ids.size)
    ragged[order] = shaper.advantages(x.ravel()[order], groups=ids[order])
    np.testing.assert_array_equal(ragged, dense.ravel())


def test_float64_dense_and_ragged_agree_to_a_few_ulp():
    """What docs/reliability.md promises for float64 rewards: the sums of a group are taken in
    another order (ragged, shuffled), so values may differ in the last bits, by at most a few
    units of the group's largest advantage; narrower rewards give the same values."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 16)) * np.exp(rng.normal(size=(50, 1)) * 20)
    ids = np.repeat(np.arange(50), 16)
    order = rng.permutation(ids.size)
    for spec in ("grpo", "rloo", "dr_grpo", "pkpo:k=4"):
        shaper = advshape.shaper(spec)
        dense = shaper.advantages(x)
        ragged = np.empty(ids.size)
        ragged[order] = shaper.advantages(x.ravel()[order], groups=ids[order])
        scale = np.abs(dense).max(axis=1, keepdims=True)
        assert np.max(np.abs(ragged.reshape(50, 16) - dense) / scale) <= 4 * 2**-52, spec
        narrow = x.astype(np.float32) / np.float32(scale.max())
        dense32 = shaper.advantages(narrow)
        ragged32 = np.empty(ids.size, np.float32)
        ragged32[order] = shaper.advantages(narrow.ravel()[order], groups=ids[order])
        np.testing.assert_array_equal(ragged32.reshape(50, 16), dense32, err_msg=spec)


def _random_groups(dtype, rng):
    """Groups of every kind the review used: ordinary, large offset, near-constant (1 ulp),
    near the overflow threshold, near the subnormals, few distinct values."""
    info = np.finfo(dtype)
    for kind in range(6):
        for _ in range(3):
            n = int(rng.integers(2, 8))
            if kind == 0:
                x = rng.normal(size=n)
            elif kind == 1:
                x = 1e3 + rng.normal(size=n) * 1e-2
            elif kind == 2:
                x = rng.uniform(-1, 1, size=n) * float(info.max) / 2
            elif kind == 3:
                x = rng.normal(size=n) * float(info.smallest_normal) * 4
            elif kind == 4:
                x = np.full(n, rng.normal())
                x[int(rng.integers(n))] = np.nextafter(dtype(x[0]), dtype(np.inf))
            else:
                x = rng.choice([0.0, 0.5, 2.0], size=n)
            yield np.asarray(x).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    ("spec", "name", "std", "eps"),
    [
        ("grpo", "grpo", "population", 0.0),
        ("grpo:std=sample,eps=1e-6", "grpo", "sample", 1e-6),
        ("rloo", "rloo", "population", 0.0),
        ("dr_grpo", "dr_grpo", "population", 0.0),
        ("grpo_passk", "grpo_passk", "sample", 1e-6),
    ],
)
def test_random_groups_of_every_magnitude(dtype, spec, name, std, eps):
    rng = np.random.default_rng(20)
    shaper = advshape.shaper(spec)
    for x in _random_groups(dtype, rng):
        if name == "grpo_passk":
            want = exact_passk(x, std, eps)
        else:
            want = exact_advantages(name, x, std, eps)
        if np.abs(want).max() > np.finfo(dtype).max:  # the answer itself does not fit
            with pytest.raises(ValueError, match="do not fit"):
                shaper.advantages(x)
            continue
        ulp = float(np.finfo(dtype).eps)
        got = shaper.advantages(x)
        tol = 2 * ulp * np.abs(want).max() + 2 * float(np.finfo(dtype).smallest_subnormal)
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=0, atol=tol, err_msg=str(x))
        perm = rng.permutation(x.size)
        again = np.empty_like(got)
        again[perm] = shaper.advantages(x[perm], groups=np.zeros(x.size, int))
        np.testing.assert_allclose(again.astype(np.float64), want, rtol=0, atol=tol)
