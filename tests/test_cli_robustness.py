"""The findings of issue 11, one test each: what is refused, what a failed run leaves behind,
file modes under the umask, one canonical shaper spec, full-precision JSON."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
from fractions import Fraction

import numpy as np
import pytest

import advshape
from advshape._files import check_output_dir, write_json_atomic
from advshape.cli import main


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    return err


# --------------------------------------------------------------------------- canonical specs


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("grpo", "grpo:std=population"),
        ("grpo_k:k=8", " grpo_k: k=8"),
        ("surrogate:rho", "F=rho"),
        ("surrogate:rho;regularizer=rho*(1-rho);lam=0.5", "F=rho;Omega=rho*(1-rho);lam=0.5"),
    ],
)
def test_one_canonical_spec_for_every_spelling(a, b):
    pytest.importorskip("sympy")
    assert advshape.scheduled(a).spec == advshape.scheduled(b).spec


def test_canonical_spec_keeps_lambda_at_full_precision():
    pytest.importorskip("sympy")
    spec = advshape.shaper("F=rho;Omega=rho*(1-rho);lam=0.123456789").spec
    assert spec.endswith("lam=0.123456789")
    assert advshape.shaper(spec).spec == spec  # it rebuilds the same shaper


def test_show_takes_every_spec_form(capsys):
    pytest.importorskip("sympy")
    for spec in ("surrogate:rho", "F=rho"):
        assert main(["show", spec, "--n", "4"]) == 0
        assert capsys.readouterr().out.startswith("F=rho: forward-engineered")


def test_show_json_prints_numbers_at_full_precision(capsys):
    assert main(["show", "rloo", "--n", "3", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    # RLOO: A+ = N(1 - rho_hat)/(N - 1) = (3 - N+)/2, A- = -N+/2 (exact in float64)
    assert {k: rows[1][k] for k in ("N+", "rho_hat", "A+", "A-")} == {
        "N+": 1, "rho_hat": 1 / 3, "A+": 1.0, "A-": -0.5
    }  # fmt: skip
    assert rows[1]["w+"] == pytest.approx(1 / 3, rel=1e-15)
    assert Fraction(rows[2]["rho_hat"]) == Fraction(2 / 3)  # 17 digits, not "0.666667"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "grpo", "--digits", "-1"], r"--digits must be an integer in [1, 17], got -1"),
        (["show", "pass_at_k"], "unknown shaper"),
    ],
)
def test_show_messages(capsys, argv, message):
    assert main(argv) == 2
    assert message in _err(capsys)


def test_pass_at_k_errors_name_pass_at_k():
    import advshape

    with pytest.raises(ValueError, match=r"^pass_at_k: k=5 > n=4"):
        advshape.pass_at_k(4, 1, 5)


# --------------------------------------------------------------------------- output paths


def test_output_paths_are_checked_before_anything_is_written(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is an existing file, not a folder"):
        check_output_dir("--out", tmp_path / "file")
    with pytest.raises(ValueError, match="runs through .* which is a file"):
        check_output_dir("--out", tmp_path / "file" / "sub" / "deeper")
    with pytest.raises(ValueError, match="--out is empty"):
        check_output_dir("--out", "")
    check_output_dir("--out", tmp_path / "new" / "deeper")  # creatable: fine
    assert sorted(os.listdir(tmp_path)) == ["file"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)]
)
def test_written_files_and_folders_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    pytest.importorskip("transformers")
    from advshape.lm.model import (
        TinyModelConfig,
        build_model,
        build_tokenizer,
        save_pretrained_atomic,
    )

    old = os.umask(umask)
    try:
        write_json_atomic(tmp_path / "config.json", {"a": 1})
        tokenizer = build_tokenizer("0123456789")
        model = build_model(
            tokenizer, TinyModelConfig(hidden_size=8, intermediate_size=8, num_hidden_layers=1,
                                       num_attention_heads=2), seed=0,
        )  # fmt: skip
        save_pretrained_atomic(model, tokenizer, str(tmp_path / "model"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == file_mode
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == dir_mode
    weights = tmp_path / "model" / "model.safetensors"
    assert stat.S_IMODE(weights.stat().st_mode) == file_mode


# --------------------------------------------------------------------------- simulate

SIM = [
    "simulate", "--shapers", "grpo", "--seeds", "1", "--problems", "16", "--answers", "4",
    "--max-correct", "1", "--features", "2", "--n", "4", "--k", "2", "--steps", "2",
    "--batch", "4", "--log-every", "1", "--workers", "1", "--no-plots", "--no-progress",
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--test-fraction", "1.5"], "--test-fraction must be a number in [0, 1), got 1.5"),
        (["--test-fraction", "nan"], "--test-fraction must be a number in [0, 1), got nan"),
        (["--problems", "0"], "--problems must be an integer in [1, "),
        (["--answers", "1"], "--answers must be an integer in [2, "),
        (["--max-correct", "4"], "--max-correct 4 must be at most --answers - 1 = 3"),
        (["--prior-noise", "1e308"], "--prior-noise must be a number in [0, 30]"),
        (["--feature-signal", "nan"], "--feature-signal must be a number"),
        (["--shapers", "grpo", "grpo:std=population"], "lists the same shaper twice: grpo "),
        (["--shapers", "surrogate:rho", "F=rho"], "lists the same shaper twice: F=rho "),
        (["--n", "1"], "--n 1: every advantage of 'grpo' is 0 with groups of 1"),
    ],
)
def test_simulate_refuses_before_writing(tmp_path, capsys, argv, message):
    if "rho" in " ".join(argv):
        pytest.importorskip("sympy")
    out = tmp_path / "s"
    assert main([*SIM, *argv, "--out", str(out)]) == 2
    assert message in _err(capsys)
    assert not out.exists()


def test_simulate_rerun_with_another_target_recomputes_the_summary(tmp_path, capsys):
    out = tmp_path / "s"
    assert main([*SIM, "--out", str(out)]) == 0
    assert main([*SIM, "--out", str(out), "--target", "0.3"]) == 0
    assert "samples to pass@2 ≥ 0.3" in (out / "summary.md").read_text()
    assert json.loads((out / "config.json").read_text())["study"]["target"] == 0.3
    # Another shaper list with finished runs is still another study.
    assert main([*SIM, "--out", str(out), "--shapers", "rloo"]) == 2
    assert "another configuration" in _err(capsys)
    # A spelling of the same shaper is the same study.
    assert main([*SIM, "--out", str(out), "--shapers", "grpo:std=population"]) == 0


def test_simulate_folder_without_finished_runs_is_reused(tmp_path, capsys, monkeypatch):
    from advshape.bandit import run as bandit_run

    def diverge(args):
        raise FloatingPointError("the parameters overflowed to inf/NaN; lower --lr")

    out = tmp_path / "s"
    monkeypatch.setattr(bandit_run, "_one_run", diverge)
    assert main([*SIM, "--out", str(out), "--optimizer", "sgd", "--lr", "1e5"]) == 2
    assert "overflowed" in _err(capsys)
    assert (out / "config.json").exists()
    monkeypatch.undo()
    assert main([*SIM, "--out", str(out), "--optimizer", "sgd", "--lr", "0.1"]) == 0


def test_simulate_that_failed_half_way_is_replaced_by_the_corrected_command(
    tmp_path, capsys, monkeypatch
):
    from advshape.bandit import run as bandit_run

    real = bandit_run._one_run

    def second_diverges(args):
        if args[2] == 1:
            raise FloatingPointError("the parameters overflowed to inf/NaN; lower --lr")
        return real(args)

    out = tmp_path / "s"
    argv = [*SIM, "--seeds", "2", "--out", str(out)]
    monkeypatch.setattr(bandit_run, "_one_run", second_diverges)
    assert main([*argv, "--lr", "0.5"]) == 2
    assert len(list((out / "runs").glob("*.json"))) == 1 and (out / "failed.json").exists()
    monkeypatch.undo()
    assert main([*argv, "--lr", "0.05"]) == 0  # corrected: the failed study is replaced
    assert not (out / "failed.json").exists()
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert {r["seed"] for r in records} == {0, 1}
    assert json.loads((out / "config.json").read_text())["study"]["bandit"]["lr"] == 0.05
    # The same command again: everything is finished, nothing is recomputed.
    before = sorted(p.stat().st_mtime_ns for p in (out / "runs").glob("*.json"))
    assert main([*argv, "--lr", "0.05"]) == 0
    assert sorted(p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")) == before
    # A finished study is never replaced by another configuration.
    capsys.readouterr()
    assert main([*argv, "--lr", "0.5"]) == 2
    assert "another configuration" in _err(capsys)


def test_simulate_names_a_damaged_file(tmp_path, capsys):
    out = tmp_path / "s"
    assert main([*SIM, "--out", str(out)]) == 0
    (run_file,) = (out / "runs").glob("*.json")
    run_file.write_text("")
    assert main([*SIM, "--out", str(out)]) == 2
    assert f"{str(run_file)!r} is not valid JSON" in _err(capsys)
    (out / "config.json").write_text("{")
    assert main([*SIM, "--out", str(out), "--lr", "0.5"]) == 2
    assert f"{str(out / 'config.json')!r} is not valid JSON" in _err(capsys)


# --------------------------------------------------------------------------- train / compare

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("reasoning_gym") is None,
    reason="needs torch and reasoning-gym (advshape[lm])",
)

TINY = [
    "--steps", "2", "--prompts-per-step", "2", "--samples-per-prompt", "2", "--n-train", "4",
    "--eval-problems", "2", "--eval-samples", "2", "--eval-ks", "1", "2", "--eval-every", "1",
    "--hidden-size", "8", "--num-layers", "1", "--num-heads", "2", "--warmstart-steps", "0",
    "--threads", "1", "--no-progress",
]  # fmt: skip


@needs_torch
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-grad-norm", "-1"], "--max-grad-norm must be a number in (0, 1000000], got -1.0"),
        (["--max-grad-norm", "0"], "--max-grad-norm must be a number in (0, "),
        (["--temperature", "nan"], "--temperature must be a number in (0, 100], got nan"),
        (["--weight-decay", "nan"], "--weight-decay must be a number"),
        (["--max-new-tokens", "-5"], "--max-new-tokens must be an integer in [0, "),
        (["--max-new-tokens", "64"], "--max-new-tokens 64 does not fit the tiny model's 64"),
        (["--hidden-size", "0"], "--hidden-size must be an integer in [1, "),
        (["--num-heads", "3"], "--num-heads 3 must divide --hidden-size 8; e.g. --num-heads 2"),
        (["--hidden-size", "6"], "--hidden-size / --num-heads = 3 must be even"),
        (["--warmstart-batch-size", "0"], "--warmstart-batch-size must be an integer in [1, "),
        (["--threads", "-1"], "--threads must be an integer in [0, "),
        (["--num-layers", "0"], "--num-layers must be an integer in [1, "),
        (["--warmstart-steps", "-1"], "--warmstart-steps must be an integer in [0, "),
        (["--stop-after", "-1"], "--stop-after must be an integer in [0, "),
        (["--shaper", "rloo", "--samples-per-prompt", "1"], "needs groups of at least 2"),
        (["--samples-per-prompt", "1"], "every advantage of 'grpo' is 0 with groups of 1"),
        (["--lr", "1e300"], "--lr must be a number in (0, 10], got 1e+300"),
        (["--max-new-tokens", "60"], "--max-new-tokens 60: with prompts of up to 6 tokens"),
    ],
)
def test_train_refuses_before_writing(tmp_path, capsys, argv, message):
    out, cache = tmp_path / "run", tmp_path / "cache"
    code = main(["train", *TINY, *argv, "--out", str(out), "--cache-dir", str(cache)])
    assert code == 2
    assert message in _err(capsys)
    assert os.listdir(tmp_path) == []


@needs_torch
def test_compare_refuses_a_shaper_spelled_twice(tmp_path, capsys):
    argv = [
        "compare",
        *TINY,
        "--shapers",
        "grpo_k:k=2",
        "grpo_k: k=2",
        "--out",
        str(tmp_path / "c"),
    ]
    assert main(argv) == 2
    assert "--shapers lists the same shaper twice: grpo_k:k=2" in _err(capsys)
    assert os.listdir(tmp_path) == []


@needs_torch
def test_a_run_that_diverged_is_replaced_by_the_corrected_rerun(tmp_path, capsys, monkeypatch):
    import advshape.lm.loss as loss_module

    out, cache = tmp_path / "run", tmp_path / "cache"
    argv = ["train", *TINY, "--out", str(out), "--cache-dir", str(cache)]
    real = loss_module.policy_loss
    monkeypatch.setattr(loss_module, "policy_loss", lambda *a, **k: real(*a, **k) * float("nan"))
    capsys.readouterr()
    assert main([*argv, "--lr", "0.5"]) == 2
    err = _err(capsys)
    assert "is not finite" in err and "marked failed" in err
    assert (out / "failed.json").exists() and (out / "config.json").exists()
    monkeypatch.undo()
    assert main([*argv, "--lr", "0.01"]) == 0  # another lr, same --out: replaces the failed run
    assert not (out / "failed.json").exists()
    config = json.loads((out / "config.json").read_text())
    assert config["args"]["lr"] == 0.01
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "train"] == [1, 2]


@needs_torch
def test_a_run_without_a_step_is_replaced_and_resume_compares_canonically(tmp_path, capsys):
    out, cache = tmp_path / "run", tmp_path / "cache"
    argv = ["train", *TINY, "--out", str(out), "--cache-dir", str(cache)]
    # A folder holding only the step-0 evaluation (as a run that failed at once leaves it):
    assert main([*argv, "--stop-after", "1"]) == 0
    metrics = out / "metrics.jsonl"
    metrics.write_text(metrics.read_text().splitlines()[0] + "\n")
    assert main([*argv, "--stop-after", "1", "--temperature", "0.5"]) == 0  # replaced
    assert main([*argv, "--resume", "--temperature", "0.5", "--shaper", "grpo:std=population"]) == 0
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "train"] == [1, 2]
    capsys.readouterr()
    assert main([*argv, "--resume", "--temperature", "0.7"]) == 2
    assert "options ['temperature'] differ" in _err(capsys)
    (out / "config.json").write_text("")
    assert main([*argv, "--resume", "--temperature", "0.5"]) == 2
    assert f"{str(out / 'config.json')!r} is not valid JSON" in _err(capsys)


def test_report_names_a_damaged_config(tmp_path):
    from advshape.lm.report import load_run

    (tmp_path / "config.json").write_text("")
    with pytest.raises(ValueError, match="config.json' is not valid JSON"):
        load_run(str(tmp_path))


def test_numbers_in_messages_are_json_free_of_nan():
    # show --format json never prints NaN (not JSON): non-finite values become null
    from advshape.cli.registry_cmds import _json_number

    assert _json_number(np.nan) is None and _json_number(np.inf) is None
    assert _json_number(0.1) == 0.1
