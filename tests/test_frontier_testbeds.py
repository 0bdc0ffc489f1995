"""The testbed adapters: settings and starts, and each testbed's run as the frontier stores it."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest

from advshape.frontier.testbeds import TESTBEDS, get_testbed, per_problem_pass_at_k
from tests._reference import pass_estimate


def test_per_problem_pass_at_k_of_both_kinds():
    got = per_problem_pass_at_k({"counts": [0, 1, 5, 8], "n": 8}, 3)
    assert got.tolist() == pytest.approx(
        [float(pass_estimate(c, 8, 3)) for c in (0, 1, 5, 8)], abs=1e-15
    )
    fail = [Fraction(1, 2), Fraction(9, 10), Fraction(0)]
    exact = [float(1 - q**4) for q in fail]
    assert per_problem_pass_at_k({"fail": [float(q) for q in fail]}, 4).tolist() == pytest.approx(
        exact, abs=1e-15
    )


def test_settings_layer_defaults_set_and_starts():
    digits = get_testbed("digits")
    s = digits.settings("strong", steps=100, eval_points=8, options={"lr": "0.01", "hidden": "8"})
    assert (s.steps, s.eval_every, s.start, s.lr, s.hidden) == (100, 13, "sft", 0.01, 8)
    lm = get_testbed("lm").settings("weak", steps=40, eval_points=8, options={}, quick=True)
    assert (lm.lr_schedule, lm.eval_problems, lm.eval_samples, lm.eval_every) == (
        "cosine",
        128,
        16,
        5,
    )
    assert lm.warmstart_steps < 300  # the weak start: a short warm start
    with pytest.raises(ValueError, match="--testbed must be one of"):
        get_testbed("cifar")
    with pytest.raises(ValueError, match="expected bool"):
        get_testbed("lm").settings("strong", steps=4, eval_points=2, options={"progress": "maybe"})


def test_every_testbed_has_its_default_starts():
    for bed in TESTBEDS.values():
        assert set(bed.default_starts) <= set(bed.starts)


def test_bandit_run_stores_exact_held_out_failures():
    bandit = get_testbed("bandit")
    s = bandit.settings(
        "default", steps=20, eval_points=4, options={"problems": "256", "batch": "16"}
    )
    bandit.check(s, "grpo_k:k=4")
    result = bandit.run(s, "grpo_k:k=4", 1, "unused")
    assert [e["step"] for e in result["evals"]] == [0, 5, 10, 15, 20]
    # the stored failures reproduce the bandit's own exact test pass@k means
    from advshape.bandit.dynamics import simulate
    from advshape.bandit.run import resolve_shaper

    records = simulate(s, resolve_shaper("grpo_k:k=4", s.k), 1)
    for record, stored in zip(records, result["evals"], strict=True):
        assert record["step"] == stored["step"]
        for k in (1, 16):
            mean = per_problem_pass_at_k(stored["problems"], k).mean()
            assert mean == pytest.approx(record[f"test_pass@{k}"], abs=1e-12)
    other = bandit.run(s, "grpo", 2, "unused")
    assert other["problem_set"] != result["problem_set"]  # problems nest in seeds
    with pytest.raises(ValueError, match="shared"):
        bandit.check(dataclasses.replace(s, model="tabular"), "grpo")


def test_lm_run_through_its_public_trainer(tmp_path):
    pytest.importorskip("transformers")
    lm = get_testbed("lm")
    options = {
        "warmstart_steps": "5",
        "eval_problems": "8",
        "eval_samples": "4",
        "prompts_per_step": "4",
        "samples_per_prompt": "4",
        "cache_dir": str(tmp_path / "cache"),
    }
    s = lm.settings("strong", steps=2, eval_points=2, options=options)
    lm.check(s, "grpo_k:k=2")
    lm.prepare(s)
    result = lm.run(s, "grpo_k:k=2", 0, str(tmp_path / "run"))
    assert [e["step"] for e in result["evals"]] == [0, 1, 2]
    counts = np.asarray(result["evals"][-1]["problems"]["counts"])
    assert counts.shape == (8,) and counts.min() >= 0 and counts.max() <= 4
    again = lm.run(s, "grpo_k:k=2", 0, str(tmp_path / "run"))  # a finished run is resumed: no work
    assert again["evals"] == result["evals"]
    assert lm.run(s, "grpo", 1, str(tmp_path / "run1"))["problem_set"] == result["problem_set"]
    with pytest.raises(ValueError, match="k=8"):
        lm.check(s, "grpo_k:k=8")  # K > N = 4
