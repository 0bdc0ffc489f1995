"""The RL trainer end to end: resume equals an uninterrupted run, the warm start is shared, a
diverged run stops cleanly, the run folder is guarded, every loss path runs, runs in
processes give the same numbers (test_lm_cli.py). The loss: test_lm_loss.py; the options:
test_lm_config.py."""

from __future__ import annotations

import dataclasses
import json
import math
import os

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("reasoning_gym")

from advshape.lm.train import TrainingDiverged, step_problems, train  # noqa: E402
from tests._lm_args import tiny_args  # noqa: E402


def test_step_problems_walk_the_train_set_without_repeats():
    # 10 problems, 4 a step: steps 1-2 and the first half of step 3 are one permutation
    steps = [step_problems(10, 4, seed=7, step=t) for t in (1, 2, 3, 4, 5)]
    first_sweep = steps[0] + steps[1] + steps[2][:2]
    assert sorted(first_sweep) == list(range(10))
    second_sweep = steps[2][2:] + steps[3] + steps[4]
    assert sorted(second_sweep) == list(range(10))
    # a step's draw depends on (seed, step) only: the same when asked again, or alone
    assert step_problems(10, 4, seed=7, step=4) == steps[3]
    assert step_problems(10, 4, seed=8, step=4) != steps[3]


TIMING_FIELDS = {
    "samples_per_s",
    "tokens_per_s",
    "sample_seconds",
    "score_seconds",
    "forward_seconds",
    "backward_seconds",
    "step_seconds",
}


def _strip_timing(records):
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in records]


def test_resume_equals_uninterrupted_run(tmp_path):
    whole = train(tiny_args(tmp_path, out=str(tmp_path / "whole")))
    assert whole["finished"]
    # Interrupted after step 3 (checkpoint at step 2): step 3 is redone on resume.
    part = train(tiny_args(tmp_path, out=str(tmp_path / "part"), stop_after=3))
    assert not part["finished"]
    resumed = train(tiny_args(tmp_path, out=str(tmp_path / "part"), resume=True))
    assert resumed["finished"]
    assert _strip_timing(resumed["history"]) == _strip_timing(whole["history"])
    steps = [r["step"] for r in resumed["history"] if r["kind"] == "train"]
    assert steps == [1, 2, 3, 4]
    for name in ("config.json", "metrics.jsonl", "checkpoint.pt", "report.html", "model"):
        assert os.path.exists(tmp_path / "part" / name)
    with open(tmp_path / "part" / "metrics.jsonl") as f:
        on_disk = [json.loads(line) for line in f]
    assert _strip_timing(on_disk) == _strip_timing(whole["history"])


def test_k_schedule_resume_equals_uninterrupted_run(tmp_path):
    # k = linear(4,1) over 4 steps: 4, 3, 2, 1 (x = (t − 1)/3, rounded half up)
    spec = "grpo_k:k=linear(4,1)"
    whole = train(tiny_args(tmp_path, out=str(tmp_path / "whole"), shaper=spec))
    assert [r["shaper_k"] for r in whole["history"] if r["kind"] == "train"] == [4, 3, 2, 1]
    train(tiny_args(tmp_path, out=str(tmp_path / "part"), shaper=spec, stop_after=3))
    resumed = train(tiny_args(tmp_path, out=str(tmp_path / "part"), shaper=spec, resume=True))
    assert _strip_timing(resumed["history"]) == _strip_timing(whole["history"])
    with open(tmp_path / "part" / "config.json") as f:
        assert json.load(f)["shaper"]["spec"] == spec


def test_a_second_run_reuses_the_cached_warm_start(tmp_path):
    a = train(tiny_args(tmp_path, out=str(tmp_path / "a"), steps=1, eval_every=1))
    entries = os.listdir(tmp_path / "cache")
    b = train(tiny_args(tmp_path, out=str(tmp_path / "b"), steps=1, eval_every=1, seed=5))
    assert os.listdir(tmp_path / "cache") == entries
    assert a["history"][0] == b["history"][0]  # same start, same paired evaluation draws


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    import advshape.lm.loss as loss_module

    real = loss_module.policy_loss
    monkeypatch.setattr(loss_module, "policy_loss", lambda *a, **k: real(*a, **k) * float("nan"))
    args = tiny_args(tmp_path)
    with pytest.raises(TrainingDiverged, match=r"step 1: loss=nan .* checkpoint \(step 0\)"):
        train(args)
    state = torch.load(os.path.join(args.out, "checkpoint.pt"), weights_only=False)
    assert state["step"] == 0
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_run_folder_is_not_overwritten_without_resume(tmp_path):
    train(tiny_args(tmp_path, steps=1, eval_every=1))
    with pytest.raises(ValueError, match="already holds a run; pass --resume"):
        train(tiny_args(tmp_path, steps=1, eval_every=1))
    with pytest.raises(ValueError, match=r"options \['lr'\] differ"):
        train(dataclasses.replace(tiny_args(tmp_path, steps=1, eval_every=1), lr=1.0, resume=True))


@pytest.mark.parametrize(
    ("overrides", "reward_mode"),
    [
        (dict(shaper="pkpo:k=2", loss_aggregation="token-mean"), "score"),
        (dict(shaper="grpo_k:k=2", ppo_epochs=2, clip=0.1, loss_aggregation="seq-mean"), "binary"),
    ],
)
def test_other_paths_run_to_the_end(tmp_path, overrides, reward_mode):
    args = tiny_args(tmp_path, steps=2, eval_every=1, **overrides)
    result = train(args)
    assert result["finished"]
    with open(os.path.join(args.out, "config.json")) as f:
        assert json.load(f)["reward_mode"] == reward_mode
    train_records = [r for r in result["history"] if r["kind"] == "train"]
    assert all(math.isfinite(r["loss"]) and math.isfinite(r["grad_norm"]) for r in train_records)


def test_a_given_local_checkpoint_trains_without_warm_start(tmp_path):
    first = tiny_args(tmp_path, out=str(tmp_path / "first"), steps=1, eval_every=1)
    train(first)
    args = tiny_args(
        tmp_path, out=str(tmp_path / "second"), steps=1, eval_every=1, warmstart_steps=0,
        model=str(tmp_path / "first" / "model"),
    )  # fmt: skip
    result = train(args)
    # No warm start: RL starts exactly where the given checkpoint ended.
    assert result["history"][0]["pass@4"] == pytest.approx(
        train(dataclasses.replace(args, out=str(tmp_path / "third")))["history"][0]["pass@4"]
    )
    with open(tmp_path / "second" / "config.json") as f:
        assert json.load(f)["warm_start"]["final_loss"] is None
