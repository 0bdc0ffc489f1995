"""The PyTorch segment path (what CUDA tensors take), exercised on the CPU.

On the CPU, torch batches normally detour through NumPy (faster there); a bfloat16 batch, or
one that requires grad, takes the torch-native path that CUDA batches take, and
``device_codes`` is the on-device factorisation of CUDA id tensors. CUDA itself is tested
where a GPU is present.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import advshape
from advshape._src import arrays

SPECS = [
    "grpo",
    "grpo:std=sample,eps=1e-6",
    "rloo",
    "grpo_k:k=2",
    "pkpo:k=2,baseline=loo",
    "dr_grpo",
]


def _batch(rng, binary: bool):
    sizes = [4, 16, 16, 5, 9, 16]
    ids = np.repeat(np.arange(len(sizes)) * 11 + 2, sizes)
    perm = rng.permutation(ids.size)
    values = (rng.random(ids.size) < 0.4) if binary else rng.normal(size=ids.size)
    return values.astype(np.float64)[perm], ids[perm]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("binary", [True, False])
def test_torch_native_path_equals_numpy(spec, binary):
    shaper = advshape.shaper(spec)
    if shaper.info.binary_only and not binary:
        pytest.skip("binary-only shaper")
    rng = np.random.default_rng(3)
    values, ids = _batch(rng, binary)
    want = shaper.advantages(values, groups=ids)
    # float64 that requires grad: not viewable by NumPy, so the torch-native path
    x = torch.tensor(values, requires_grad=True)
    got = shaper.advantages(x, groups=torch.from_numpy(ids))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12, atol=1e-14)
    got = shaper.advantages(x, groups=[f"id{i}" for i in ids])
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12, atol=1e-14)
    # bfloat16 rewards: statistics in float64, one rounding at the end
    xb = torch.tensor(values, dtype=torch.bfloat16)
    got = shaper.advantages(xb, groups=ids)
    assert got.dtype == torch.bfloat16
    want_b = shaper.advantages(xb.double().numpy(), groups=ids)
    np.testing.assert_allclose(got.double().numpy(), want_b, rtol=8e-3, atol=1e-2)


def test_device_codes_group_like_the_host():
    rng = np.random.default_rng(5)
    ids = rng.integers(-(10**12), 10**12, size=6)[rng.integers(0, 6, size=200)]
    codes, slots = arrays.device_codes(torch.from_numpy(ids), 200)
    host, _ = arrays.codes_numpy(ids)
    pairs = {(int(a), int(b)) for a, b in zip(codes, host)}
    assert len(pairs) == len(set(ids.tolist())) == slots
    with pytest.raises(ValueError, match="NaN"):
        arrays.device_codes(torch.tensor([0.0, float("nan")]), 2)
    with pytest.raises(ValueError, match="one id per reward"):
        arrays.device_codes(torch.zeros(3), 2)


def test_torch_native_path_checks_overflow_after_the_cast():
    shaper = advshape.shaper("entropy:lam=1e4")
    rewards = torch.zeros(2048, dtype=torch.bfloat16)
    rewards[:1] = 1
    ids = torch.arange(2048) // 1024
    rewards.requires_grad_(False)
    # bfloat16's range is float32's: the same scores fit there; half of torch.float16 does not
    out = shaper.advantages(rewards, groups=ids)
    assert torch.isfinite(out).all()
    with pytest.raises(ValueError, match="overflows"):
        shaper.advantages(rewards.to(torch.float16).requires_grad_(True), groups=ids)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("spec", SPECS)
def test_cuda_ragged_batches_stay_on_the_device(spec):
    shaper = advshape.shaper(spec)
    rng = np.random.default_rng(4)
    values, ids = _batch(rng, True)
    want = shaper.advantages(values.astype(np.float32), groups=ids)
    x = torch.tensor(values, dtype=torch.float32, device="cuda")
    for groups in (torch.from_numpy(ids).cuda(), ids, [str(i) for i in ids]):
        got = shaper.advantages(x, groups=groups)
        assert got.device.type == "cuda" and got.dtype == torch.float32
        np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-6, atol=1e-6)
