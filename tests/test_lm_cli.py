"""`advshape train` / `advshape compare` end to end on a tiny configuration."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("reasoning_gym")
pytest.importorskip("matplotlib")

from advshape.cli import main

TINY = [
    "--steps", "2", "--prompts-per-step", "4", "--samples-per-prompt", "4", "--n-train", "40",
    "--eval-problems", "4", "--eval-samples", "4", "--eval-ks", "1", "4", "--eval-every", "1",
    "--hidden-size", "16", "--num-layers", "1", "--num-heads", "2", "--warmstart-steps", "2",
    "--warmstart-batch-size", "8", "--threads", "1", "--no-progress",
]  # fmt: skip


def test_compare_writes_report_with_plots_and_table(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", "--shapers", "grpo", "grpo_k:k=2", "--seeds", "2", "--out", str(out)]
    assert main([*argv, *TINY, "--cache-dir", str(tmp_path / "cache")]) == 0
    for name in ("report.html", "pass_at_1.png", "pass_at_4.png", "summary.json"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert [row["shaper"] for row in summary] == ["grpo", "grpo_k:k=2"]
    assert all(row["seeds"] == 2 and len(row["pass@4"]["final"]) == 2 for row in summary)
    assert "grpo_k:k=2" in (out / "report.html").read_text()
    assert sorted(os.listdir(out / "grpo_k__k=2")) == ["seed0", "seed1"]
    # A second call finds every run finished and only rewrites the report.
    mtime = (out / "grpo" / "seed0" / "metrics.jsonl").stat().st_mtime
    assert main([*argv, *TINY, "--cache-dir", str(tmp_path / "cache")]) == 0
    assert (out / "grpo" / "seed0" / "metrics.jsonl").stat().st_mtime == mtime


def test_parallel_jobs_give_the_same_results(tmp_path):
    argv = ["compare", "--shapers", "grpo", "skew_r", "--seeds", "1", *TINY]
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main([*argv, *cache, "--out", str(tmp_path / "serial")]) == 0
    assert main([*argv, *cache, "--out", str(tmp_path / "parallel"), "--jobs", "2"]) == 0
    for spec in ("grpo", "skew_r"):
        serial = (tmp_path / "serial" / spec / "seed0" / "metrics.jsonl").read_text()
        parallel = (tmp_path / "parallel" / spec / "seed0" / "metrics.jsonl").read_text()
        strip = lambda text: [  # noqa: E731
            {k: v for k, v in json.loads(line).items() if "second" not in k and "_per_s" not in k}
            for line in text.splitlines()
        ]
        assert strip(serial) == strip(parallel)


def test_train_writes_a_run_folder(tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--shaper", "skew_r", "--out", str(out), "--cache-dir", str(tmp_path / "c")]
    assert main([*argv, *TINY]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["shaper"]["spec"] == "skew_r" and config["reward_mode"] == "binary"
    assert (out / "model" / "config.json").exists() and (out / "report.html").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "--shapers", "grpo", "nope"], "unknown shaper 'nope'"),
        (["compare", "--task", "chess"], "unknown task 'chess'"),
        (["train", "--eval-samples", "8"], r"K=\[16\] with n=8"),
        (["compare", "--seeds", "0"], r"--seeds must be an integer in \[1, "),
    ],
)
def test_bad_options_exit_2_with_a_message(tmp_path, capsys, argv, message):
    import re

    assert main([*argv, "--out", str(tmp_path / "x"), "--cache-dir", str(tmp_path / "c")]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "c").exists()  # failed before any work
