"""The generic Array-API path, for real: array-api-strict (the standard's own strict namespace,
which rejects anything outside the standard) and JAX on the CPU (issue 10, section 5).

Each library is optional (``pip install array-api-strict`` / ``advshape[jax]``); its tests are
skipped where it is absent. References are the NumPy results, themselves tested against exact
values elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import advshape

SPECS = [
    "reinforce",
    "rloo",
    "grpo",
    "grpo:std=sample,eps=1e-6",
    "dr_grpo",
    "grpo_k:k=2",
    "rloo_k:k=3",
    "entropy:lam=0.5",
    "pkpo:k=2",
    "pkpo:k=3,baseline=loo",
    "pkpo:k=2,baseline=none",
]


def _strict():
    xp = pytest.importorskip("array_api_strict")
    return xp, (lambda a, dtype=None: xp.asarray(a, dtype=dtype)), "array_api_strict", 1e-12


# JAX starts threads when imported; a later os.fork() in the same process (multiprocessing in
# other tests) could then deadlock. Its tests therefore run in a child pytest process, started
# by test_jax_in_a_child_process below.
_IN_CHILD = os.environ.get("ADVSHAPE_TEST_JAX") == "1"


def _jax():
    if not _IN_CHILD:
        pytest.skip("JAX runs in a child process (test_jax_in_a_child_process)")
    pytest.importorskip("jax")
    import jax.numpy as jnp

    # JAX's default is float32 (no float64 without jax_enable_x64): statistics in float32
    return jnp, (lambda a, dtype=None: jnp.asarray(a, dtype=dtype)), "jax", 2e-5


LIBRARIES = {"array-api-strict": _strict, "jax": _jax}


def _batches():
    rng = np.random.default_rng(7)
    binary = (rng.random((5, 8)) < 0.45).astype(np.float32)
    binary[0] = 1.0  # a constant group
    continuous = rng.normal(size=(5, 8)).astype(np.float32)
    continuous[1] = 0.25
    sizes = [4, 8, 8, 5, 12]
    ids = np.repeat(np.arange(len(sizes)) * 7 + 3, sizes)  # sparse ids, unequal sizes
    perm = rng.permutation(ids.size)
    return binary, continuous, ids[perm], rng


# JAX compiles every new shape: a few shapers there (all of them under array-api-strict)
CASES = [("array-api-strict", spec) for spec in SPECS] + [
    ("jax", spec) for spec in ("grpo", "pkpo:k=3,baseline=loo")
]


@pytest.mark.parametrize(("library", "spec"), CASES)
def test_dense_and_ragged_binary_and_continuous(library, spec):
    _xp, make, module, rtol = LIBRARIES[library]()
    shaper = advshape.shaper(spec)
    binary, continuous, ids, rng = _batches()
    cases = [("binary", binary)]
    if not shaper.info.binary_only:
        cases.append(("continuous", continuous))
    for kind, rewards in cases:
        # dense: one group per row
        out = shaper.advantages(make(rewards))
        assert type(out).__module__.split(".")[0] in (module, "jaxlib"), type(out)
        assert out.shape == rewards.shape
        want = shaper.advantages(rewards)
        np.testing.assert_allclose(np.asarray(out), want, rtol=rtol, atol=rtol, err_msg=kind)
        # ragged: shuffled, unequal group sizes, ids given three ways
        flat = (
            (rng.random(ids.size) < 0.5) if kind == "binary" else rng.normal(size=ids.size)
        ).astype(np.float32)
        want = shaper.advantages(flat, groups=ids)
        for groups in (ids, ids.tolist(), make(ids)):
            out = shaper.advantages(make(flat), groups=groups)
            assert type(out).__module__.split(".")[0] in (module, "jaxlib"), type(out)
            np.testing.assert_allclose(np.asarray(out), want, rtol=rtol, atol=rtol, err_msg=kind)


@pytest.mark.parametrize("library", list(LIBRARIES))
def test_output_dtype_follows_the_input(library):
    xp, make, _module, _ = LIBRARIES[library]()
    rewards = np.array([[1.0, 0.0, 0.0, 1.0]], dtype=np.float32)
    assert advshape.shaper("grpo").advantages(make(rewards)).dtype == xp.float32
    assert advshape.shaper("grpo").advantages(make(rewards, xp.bool)).dtype in (
        xp.float32,
        getattr(xp, "float64", xp.float32),
    )


@pytest.mark.parametrize("library", list(LIBRARIES))
def test_bad_input_in_other_libraries(library):
    xp, make, _module, _ = LIBRARIES[library]()
    with pytest.raises(ValueError, match="complex"):
        advshape.shaper("grpo").advantages(make(np.array([[1 + 0j, 0]]), xp.complex64))
    with pytest.raises(ValueError, match="NaN"):
        advshape.shaper("grpo").advantages(
            make(np.array([1.0, 0.0]), xp.float32), groups=make(np.array([0.0, np.nan]), xp.float32)
        )
    with pytest.raises(ValueError, match="binary"):
        advshape.shaper("grpo_k:k=2").advantages(make(np.array([[1.0, 0.5]]), xp.float32))
    with pytest.raises(ValueError, match="finite"):
        advshape.shaper("grpo").advantages(make(np.array([[1.0, np.inf]]), xp.float32))
    out = advshape.shaper("grpo").advantages(make(np.zeros(0), xp.float32), groups=[])
    assert out.shape == (0,)


@pytest.mark.parametrize("library", list(LIBRARIES))
def test_working_precision_at_the_edges(library):
    """Issue 20 in another library, in its working dtype (JAX without x64: float32): PKPO with
    a shared offset, grpo on a near-constant group and grpo_passk where (x − x̄)² overflows
    float32, against exact references; bfloat16 ids are refused."""
    from fractions import Fraction

    from . import _reference as ref

    xp, make, _module, _ = LIBRARIES[library]()
    work = getattr(xp, "float64", None) if library != "jax" else xp.float32
    ulp = 2**-52 if work == getattr(xp, "float64", None) else 2**-23
    x = np.float32(100) + np.array([0.125, 0.5, 0.25, 0.75, 0.5], dtype=np.float32)
    r = [Fraction(float(v)) for v in x]
    for baseline in ("none", "loo", "loo_unscaled", "loo_minus_one"):
        got = np.asarray(advshape.shaper(f"pkpo:k=2,baseline={baseline}").advantages(make(x)))
        want = np.array([float(ref.pkpo_enumerated(r, i, 2, baseline)) for i in range(5)])
        np.testing.assert_allclose(got, want, rtol=4 * 2**-23, atol=8 * ulp * 100, err_msg=baseline)
        constant = advshape.shaper(f"pkpo:k=2,baseline={baseline}").advantages(
            make(np.full(5, 12345.678, np.float32))
        )
        if baseline in ("loo_unscaled", "loo_minus_one"):
            assert np.all(np.asarray(constant) == 0), baseline
    near = np.array([1000.0, 1000.0, 1000.0 + 2**-13, 1000.0], dtype=np.float32)
    got = np.asarray(advshape.shaper("grpo").advantages(make(near)))
    np.testing.assert_allclose(got, [-1 / 3**0.5, -1 / 3**0.5, 3**0.5, -1 / 3**0.5], rtol=4e-7)
    big = np.array([1e20, 0.0, 0.0, 0.5], dtype=np.float32)
    got = np.asarray(advshape.shaper("grpo_passk").advantages(make(big)))
    want = [float(ref.grpo_passk([Fraction(float(v)) for v in big], i)) for i in range(4)]
    np.testing.assert_allclose(got, want, rtol=4e-7)
    with pytest.raises(ValueError, match="bfloat16"):
        advshape.shaper("grpo").advantages(
            make(np.array([1.0, 0.0, 1.0, 0.0]), xp.float32),
            groups=make(np.array([1, 1, 2, 2]), getattr(xp, "bfloat16", xp.float32))
            if library == "jax"
            else np.array([1, 1, 2, 2], dtype=pytest.importorskip("ml_dtypes").bfloat16),
        )


def test_strict_continuous_statistics_are_float64_for_float32_input():
    xs = pytest.importorskip("array_api_strict")
    near = np.array([0.3] * 15 + [float(np.float32(0.3)) + 1.1e-6], dtype=np.float32)
    out = advshape.shaper("grpo").advantages(xs.asarray(near))
    np.testing.assert_array_equal(np.asarray(out), advshape.shaper("grpo").advantages(near))
    assert float(out[0]) == pytest.approx(-0.2581989, rel=1e-6)


def test_jax_in_a_child_process():
    if _IN_CHILD:
        pytest.skip("already the child")
    try:
        import importlib.util

        if importlib.util.find_spec("jax") is None:
            pytest.skip("jax is not installed (pip install 'advshape[jax]')")
    except ValueError:
        pytest.skip("jax is not importable")
    env = {**os.environ, "ADVSHAPE_TEST_JAX": "1", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            __file__,
            "-k",
            "jax and not child",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "5 passed" in out.stdout and "skipped" not in out.stdout, out.stdout[-2000:]
