"""The PyTorch segment path (what CUDA tensors take), exercised on the CPU.

On the CPU, torch batches normally detour through NumPy (faster there); a bfloat16 batch
takes the torch-native path that CUDA batches take, and so does any batch here once the NumPy
detour is switched off (``torch_native``), and ``device_codes`` is the on-device factorisation
of CUDA id tensors. CUDA itself is tested where a GPU is present.
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


@pytest.fixture
def torch_native(monkeypatch):
    """CPU tensors take the torch-native (CUDA) path: no NumPy view."""
    from advshape._src import shaper as shaper_module

    monkeypatch.setattr(shaper_module, "_numpy_view", lambda rewards: None)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("binary", [True, False])
def test_torch_native_path_equals_numpy(spec, binary, torch_native):
    shaper = advshape.shaper(spec)
    if shaper.info.binary_only and not binary:
        pytest.skip("binary-only shaper")
    rng = np.random.default_rng(3)
    values, ids = _batch(rng, binary)
    want = shaper.advantages(values, groups=ids)
    # float64 that requires grad, on the torch-native path: detached, the same values
    x = torch.tensor(values, requires_grad=True)
    got = shaper.advantages(x, groups=torch.from_numpy(ids))
    assert got.dtype == torch.float64 and got.grad_fn is None
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


@pytest.mark.parametrize("spec", ["grpo", "grpo:std=sample,eps=1e-6", "rloo", "dr_grpo"])
def test_torch_native_path_at_the_extremes(spec, torch_native):
    """The per-group power-of-two scaling (scatter_reduce maxima, first members by
    scatter_reduce) on the torch path: the same values as NumPy's, which are tested exact."""
    values = np.array(
        [1.7e308, 5e-324, -1.7e308, 0.0, 1.6e308, 0.0, 1e-323, 0.0, 1e300, 1e300 * (1 + 2**-52)]
    )
    ids = np.array([0, 1, 0, 1, 0, 1, 2, 2, 3, 3])
    shaper = advshape.shaper(spec)
    try:
        want = shaper.advantages(values, groups=ids)
    except ValueError as err:  # rloo of ±1.7e308 does not fit float64: the same refusal
        with pytest.raises(ValueError, match="do not fit"):
            shaper.advantages(torch.from_numpy(values), groups=torch.from_numpy(ids))
        assert "do not fit" in str(err)
        return
    got = shaper.advantages(torch.from_numpy(values), groups=torch.from_numpy(ids))
    np.testing.assert_allclose(got.numpy(), want, rtol=4 * 2**-52, atol=5e-324)
