"""The options of train, compare and probe: every check before any work, the settings a run
folder compares, the per-run options of a comparison and the probe's. No torch is needed to
check options (the command line builds on this module), except for the tests that build a
shaper on torch tensors or read a transformers checkpoint."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from advshape.lm.config import (
    Args,
    CompareArgs,
    ProbeArgs,
    check_ks,
    resolve_reward_mode,
    run_settings,
    validate,
    validate_compare,
    validate_probe,
)
from tests._lm_args import tiny_args


def test_checking_options_imports_neither_torch_nor_transformers():
    code = (
        "import sys, tempfile\n"
        "from advshape.lm.config import Args, validate\n"
        "validate(Args(out=tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp()))\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_the_default_options_are_valid_and_give_the_default_shaper(tmp_path):
    shaper = validate(Args(out=str(tmp_path / "run"), cache_dir=str(tmp_path / "c")))
    assert shaper.spec == "grpo"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(task="sudoku9"), "unknown task 'sudoku9'"),
        (dict(shaper="grpoo"), "unknown shaper 'grpoo'"),
        (dict(shaper="grpo_k:k=8"), "k=8 > group size n=4"),
        (dict(shaper="grpo_k:k=linear(6,1)"), "k=6 > group size n=4"),
        (dict(shaper="grpo_k:k=linear(4,1"), r"unbalanced '\('"),
        (dict(eval_ks=(1, 8)), r"K=\[8\] with n=4"),
        (dict(loss_aggregation="mean"), "--loss-aggregation must be one of"),
        (dict(shaper="grpo_k:k=2", reward="score"), "takes only 0/1 rewards"),
        (dict(model="/nonexistent/model"), "is not a directory"),
        (dict(prompts_per_step=0), r"--prompts-per-step must be an integer in \[1, "),
        (dict(prompts_per_step=41), "--prompts-per-step 41 exceeds --n-train 40"),
        (dict(num_heads=3), "--num-heads 3 must divide --hidden-size 16; e.g. --num-heads 2"),
        (dict(hidden_size=12, num_heads=4), "--hidden-size / --num-heads = 3 must be even"),
        (dict(max_new_tokens=64), "does not fit the tiny model's 64 positions"),
        (dict(samples_per_prompt=1), "every advantage of 'grpo' is 0"),
        (dict(device="tpu"), "--device must be cpu, cuda or cuda:INDEX, got 'tpu'"),
        (dict(reward="raw"), "--reward must be one of auto, binary, score; got 'raw'"),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        validate(tiny_args(tmp_path, **overrides))


def test_forward_engineered_surrogate_specs_are_accepted(tmp_path):
    pytest.importorskip("sympy")
    shaper = validate(tiny_args(tmp_path, shaper="surrogate:2*asin(sqrt(rho))"))
    adv = np.asarray(shaper.at(1).advantages(np.array([[1.0, 0.0, 0.0, 1.0]])))
    assert adv[0, 0] > 0 > adv[0, 1]


def test_model_path_that_is_not_a_causal_lm(tmp_path):
    transformers = pytest.importorskip("transformers")
    ViTConfig = transformers.ViTConfig

    ViTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2).save_pretrained(
        tmp_path / "vit"
    )
    with pytest.raises(ValueError, match="'vit' model, which is not a causal language model"):
        validate(tiny_args(tmp_path, model=str(tmp_path / "vit")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no readable Hugging Face config.json"):
        validate(tiny_args(tmp_path, model=str(tmp_path / "empty")))


def test_k_above_n_is_a_clear_error():
    with pytest.raises(ValueError, match=r"K=\[16, 32\] with n=8 .* at least 32"):
        check_ks((1, 16, 32), 8)
    with pytest.raises(ValueError, match="at least one K"):
        check_ks((), 8)
    assert check_ks([1, 2], 2) == (1, 2)


def test_run_settings_leave_out_what_may_change_on_resume(tmp_path):
    args = tiny_args(tmp_path, eval_ks=(1, 4), threads=3, stop_after=2, resume=True)
    settings = run_settings(args)
    free = {"resume", "stop_after", "progress", "threads", "out", "report"}
    assert not free & set(settings)
    assert settings["eval_ks"] == [1, 4] and settings["lr"] == args.lr
    assert settings["lr_schedule"] == "constant"  # it changes the numbers: part of them
    assert len(settings) == len(dataclasses.fields(Args)) - len(free)


def test_a_comparison_gives_each_run_its_shaper_seed_and_folder(tmp_path):
    args = CompareArgs(out=str(tmp_path / "cmp"), steps=7, first_seed=2, seeds=2)
    run = args.run_args("grpo_k:k=8", 3)
    assert type(run) is Args  # a plain Args: it pickles into a worker process
    assert (run.shaper, run.seed, run.steps, run.resume) == ("grpo_k:k=8", 3, 7, True)
    assert run.out == str(tmp_path / "cmp" / "grpo_k__k=8" / "seed3")
    assert list(args.seed_list) == [2, 3]
    assert "shaper" in CompareArgs.hidden_options and "shapers" not in CompareArgs.hidden_options


def test_compare_checks_every_run_and_returns_canonical_shapers(tmp_path):
    args = CompareArgs(
        out=str(tmp_path / "cmp"), shapers=("grpo", "grpo_k: k=2"), seeds=1,
        **{k: v for k, v in dataclasses.asdict(tiny_args(tmp_path)).items()
           if k not in ("out", "shaper")},
    )  # fmt: skip
    assert validate_compare(args) == ["grpo", "grpo_k:k=2"]
    with pytest.raises(ValueError, match="lists the same shaper twice: grpo "):
        validate_compare(dataclasses.replace(args, shapers=("grpo", "grpo:std=population")))
    with pytest.raises(ValueError, match="--shapers: unknown shaper 'nope'"):
        validate_compare(dataclasses.replace(args, shapers=("grpo", "nope")))
    with pytest.raises(ValueError, match=r"--jobs must be an integer in \[1, 256\], got 0"):
        validate_compare(dataclasses.replace(args, jobs=0))
    with pytest.raises(ValueError, match="--shapers: give at least one shaper"):
        validate_compare(dataclasses.replace(args, shapers=()))


NEW_SHAPERS = (
    "maclaurin:T=3",
    "maclaurin:T=linear(4,1)",
    "maclaurin_loo:T=2",
    "maclaurin_cross_fitted:T=2",
    "p_normalization",
    "clipped_pnorm",
    "one_sided_grpo",
    "linear_r",
    "sqrt_r",
    "focal:gamma=0.5",
    "maxpo:k=3",
)


def test_compare_accepts_every_2026_shaper(tmp_path):
    """The issue-17 shapers pass compare's run checks at N = 4 all at once; maxpo, like pkpo, gets
    the verifier's raw score under --reward auto, the others the 0/1 pass."""
    args = CompareArgs(
        out=str(tmp_path / "cmp"), shapers=("grpo", *NEW_SHAPERS), seeds=1,
        **{k: v for k, v in dataclasses.asdict(tiny_args(tmp_path)).items()
           if k not in ("out", "shaper")},
    )  # fmt: skip
    assert validate_compare(args)[1:] == list(NEW_SHAPERS)
    for spec in NEW_SHAPERS:
        run = tiny_args(tmp_path, shaper=spec)
        mode = resolve_reward_mode(run, validate(run))
        assert mode == ("score" if spec.startswith("maxpo") else "binary"), spec


def test_the_probe_takes_the_warm_start_options_only(tmp_path):
    args = ProbeArgs(cache_dir=str(tmp_path / "c"), n_train=3, temperatures=(1.0, 0.5))
    run = validate_probe(args)
    assert type(run) is Args and run.prompts_per_step == 1  # RL options do not apply
    assert "eval_ks" not in ProbeArgs.hidden_options and "lr" in ProbeArgs.hidden_options
    with pytest.raises(ValueError, match=r"--temperatures needs at least two values in \(0, 100\]"):
        validate_probe(dataclasses.replace(args, temperatures=(1.0,)))
    with pytest.raises(ValueError, match="--format must be one of table, json; got 'yaml'"):
        validate_probe(dataclasses.replace(args, format="yaml"))
