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
PROBE = [
    "--n-train", "40", "--eval-problems", "4", "--eval-samples", "4", "--eval-ks", "1", "4",
    "--hidden-size", "16", "--num-layers", "1", "--num-heads", "2", "--warmstart-steps", "2",
    "--warmstart-batch-size", "8", "--threads", "1", "--no-progress",
]  # fmt: skip


def test_compare_writes_report_summary_and_claims(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", "--shapers", "grpo", "grpo_k:k=2", "--seeds", "2", "--out", str(out)]
    assert main([*argv, *TINY, "--cache-dir", str(tmp_path / "cache")]) == 0
    for name in (
        "report.html",
        "headline.png",
        "pass_at_1.png",
        "pass_at_4.png",
        "hard_pass_at_4.png",
    ):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    runs = summary["runs"]
    assert [(r["shaper"], r["seed"]) for r in runs] == [
        ("grpo", 0),
        ("grpo", 1),
        ("grpo_k:k=2", 0),
        ("grpo_k:k=2", 1),
    ]
    ks = [f"pass@{k}" for k in range(1, 5)]  # every K up to min(16, n = 4)
    for run in runs:
        assert list(run["start"]) == list(run["final"]) == ks
        assert set(run["by_class"]) == {"easy", "hard"}
        assert list(run["by_class"]["hard"]["final"]) == ks
        # The values are the unbiased estimator on the run's own saved counts.
        metrics = [
            json.loads(line)
            for line in (
                out
                / ("grpo" if run["shaper"] == "grpo" else "grpo_k__k=2")
                / f"seed{run['seed']}"
                / "metrics.jsonl"
            )
            .read_text()
            .splitlines()
        ]
        final = [r for r in metrics if r["kind"] == "eval"][-1]
        assert run["final"]["pass@4"] == pytest.approx(final["pass@4"])
        assert run["start"] == runs[0]["start"]  # one warm start for every run
    assert summary["probe"]["temperatures"] == [1.0, 0.7, 0.5]
    assert {c["claim"].split(" ")[0] for c in summary["claims"]} == {"grpo", "grpo_k:k=2"}
    assert {(p["shaper"], p["against"]) for p in summary["paired"]} == {
        ("grpo", "start"),
        ("grpo_k:k=2", "start"),
        ("grpo_k:k=2", "grpo"),
    }
    page = (out / "report.html").read_text()
    assert "Headroom" in page and "What holds" in page and "grpo_k:k=2" in page
    err = capsys.readouterr().err
    assert "grpo raises held-out pass@1" in err
    assert sorted(os.listdir(out / "grpo_k__k=2")) == ["seed0", "seed1"]
    # A second call finds every run finished and only rewrites the report.
    mtime = (out / "grpo" / "seed0" / "metrics.jsonl").stat().st_mtime
    assert main([*argv, *TINY, "--cache-dir", str(tmp_path / "cache")]) == 0
    assert (out / "grpo" / "seed0" / "metrics.jsonl").stat().st_mtime == mtime


def test_compare_refuses_the_same_shaper_written_twice(tmp_path, capsys):
    argv = ["compare", "--shapers", "grpo_k:k=2", "grpo_k: k=2", "--out", str(tmp_path / "x")]
    assert main([*argv, *TINY, "--cache-dir", str(tmp_path / "c")]) == 2
    assert "lists the same shaper twice: grpo_k:k=2" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "c").exists()


def test_probe_prints_the_table_and_its_verdicts(tmp_path, capsys):
    argv = ["probe", "--cache-dir", str(tmp_path / "c"), "--format", "json"]
    assert main([*argv, *PROBE]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["temperatures"] == [1.0, 0.7, 0.5]
    assert set(result["rows"][0]["by_class"]) == {"easy", "hard"}
    assert result["words"][0].startswith("pass@1 ")


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
