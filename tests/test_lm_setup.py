"""Where every run starts (``advshape.lm.setup``): per-step seeds, the task, the cached warm
start, threads, precision and the versions recorded."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from advshape.lm.config import Args  # noqa: E402
from advshape.lm.setup import (  # noqa: E402
    autocast,
    make_task,
    package_versions,
    set_threads,
    starting_checkpoint,
    step_seed,
)


def _args(tmp_path, **overrides) -> Args:
    base = dict(
        n_train=20, eval_problems=6, hidden_size=8, num_layers=1, num_heads=2,
        warmstart_steps=2, warmstart_batch_size=4, cache_dir=str(tmp_path / "cache"),
        progress=False,
    )  # fmt: skip
    return Args(**{**base, **overrides})


def test_step_seeds_depend_on_seed_step_and_stream_only():
    seeds = {step_seed(s, t, k) for s in (0, 1) for t in (0, 1, 2) for k in (1, 2, 3)}
    assert len(seeds) == 18  # every (seed, step, stream) its own stream
    assert step_seed(5, 7, 1) == step_seed(5, 7, 1)
    assert all(0 <= s < 2**32 for s in seeds)


def test_the_task_follows_the_options(tmp_path):
    task = make_task(_args(tmp_path, task_seed=3))
    assert (task.name, task.seed, len(task.train), len(task.heldout)) == ("divisor", 3, 20, 6)
    again = make_task(_args(tmp_path, task_seed=3))
    assert [p.prompt for p in again.heldout] == [p.prompt for p in task.heldout]


def test_the_warm_start_is_built_once_then_read_from_the_cache(tmp_path):
    args = _args(tmp_path)
    task = make_task(args)
    path, stats = starting_checkpoint(args, task, progress=False)
    assert os.path.isfile(os.path.join(path, "warmstart.json"))
    assert stats["description"]["model"]["tiny"]["hidden_size"] == 8
    mtime = os.stat(os.path.join(path, "warmstart.json")).st_mtime_ns
    assert starting_checkpoint(args, task, progress=False) == (path, stats)
    assert os.stat(os.path.join(path, "warmstart.json")).st_mtime_ns == mtime
    other, _ = starting_checkpoint(_args(tmp_path, warmstart_lr=1e-3), task, progress=False)
    assert other != path  # anything that changes the weights changes the cache key


def test_threads_and_precision():
    before = torch.get_num_threads()
    try:
        set_threads(1)
        assert torch.get_num_threads() == 1
        set_threads(0)  # 0 leaves torch's choice as it is
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with autocast(Args()):
        assert not torch.is_autocast_enabled("cpu")
    with autocast(Args(precision="bf16")):
        assert torch.is_autocast_enabled("cpu")
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16


def test_the_versions_recorded_with_a_run():
    versions = package_versions()
    assert list(versions) == ["advshape", "torch", "transformers", "numpy"]
    assert versions["torch"].startswith(torch.__version__.split("+")[0])
