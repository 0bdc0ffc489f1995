"""Continuous rewards: group statistics exact whatever the input dtype (issue 10, section 2).

References are exact: the rewards' own binary values as Fractions, centred and normalised in
rational arithmetic (one square root at the end, in mpmath), then compared with the library's
output after rounding to the output dtype.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

import advshape

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
