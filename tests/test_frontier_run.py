"""advshape frontier end to end on the digits: checks before writing, resume after a kill,
one more spec runs only that spec, the report and frontier.json, the Ray executor."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from advshape import names
from advshape.cli import main
from advshape.frontier.run import FrontierConfig, plan, run_frontier

TINY = [
    "--testbed", "digits", "--steps", "6", "--eval-points", "2", "--resamples", "200", "--jobs", "1",
]  # fmt: skip
TINY_FAMILIES = ["--family", "grpo_k:k={1,4}", "maxrl", "--starts", "weak"]


def _results(out):
    found = {}
    for root, _, files in os.walk(out):
        if "result.json" in files:
            path = os.path.join(root, "result.json")
            found[os.path.relpath(root, out)] = os.stat(path).st_mtime_ns
    return found


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--family", "grpo_k:k={1,2"], "--family 'grpo_k:k={1,2'"),
        (["--family", "grpo_k:k={1,32}"], "k=32 > group size"),
        (["--family", "nope"], "unknown shaper 'nope'"),
        (["--set", "lr=abc"], "--set lr='abc'"),
        (["--set", "colour=red"], "has no setting 'colour'"),
        (["--set", "start=sft", "--starts", "weak"], "--set start is fixed by the start 'weak'"),
        (["--starts", "medium"], "--starts 'medium'"),
        (["--seeds", "1"], "--seeds must be"),
        (["--k", "-1"], "--k must be"),
        (["--executor", "ray"], "--executor ray needs --address"),
        (["--address", ""], "--address is empty"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "f"
    argv = ["frontier", *TINY, "--out", str(out), "--no-progress", *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("advshape frontier: error: ")
    assert message in err
    assert not out.exists()


def test_a_spec_in_two_families_runs_once(tmp_path):
    families = ("grpo_k:k={1,2}", "grpo_k: k=2", "grpo")
    p = plan(FrontierConfig(testbed="digits", family=families, out=str(tmp_path / "f")))
    assert p.specs == ("grpo_k:k=1", "grpo_k:k=2", "grpo")
    assert p.aliases == {"grpo": "grpo_k:k=1"}  # GRPO_K at K = 1 is GRPO: one run
    assert len(p.folders) == 2 * 2 * 3  # runs: specs x starts (weak, strong) x seeds
    assert not (tmp_path / "f").exists()  # planning writes nothing


def test_the_same_shaper_under_two_names_runs_once(tmp_path):
    families = ("skew_r", "biased_k:k=2", "grpo", "grpo_k:k={1,linear(8,1)}", "focal:gamma=1")
    families = tuple(f for f in families if not f.startswith("focal") or "focal" in names())
    config = FrontierConfig(
        testbed="digits", jobs=1, family=families, starts=("weak",), steps=4, eval_points=2,
        resamples=100, out=str(tmp_path / "f"), progress=False,
    )  # fmt: skip
    p = plan(config)
    expected = {"biased_k:k=2": "skew_r", "grpo_k:k=1": "grpo"}
    if "focal" in names():
        expected["focal:gamma=1.0"] = "skew_r"  # (1 − ρ̂)^1 · A_GRPO (canonical: 1.0)
    assert p.aliases == expected
    assert {spec for _, spec, _ in p.folders} == {"skew_r", "grpo", "grpo_k:k=linear(8,1)"}
    run_frontier(config)
    summary = json.loads((tmp_path / "f" / "frontier.json").read_text())
    specs = summary["starts"]["weak"]["specs"]
    assert specs["biased_k:k=2"]["final"] == specs["skew_r"]["final"]
    assert summary["aliases"] == expected
    assert "(= `skew_r`: the same shaper, one run)" in (tmp_path / "f" / "summary.md").read_text()


def test_lm_options_are_checked_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "lm"
    code = main(["frontier", "--testbed", "lm", "--family", "grpo", "--k", "64", "--out", str(out)])
    assert code == 2
    assert "--k 64 exceeds the 32 samples" in capsys.readouterr().err
    assert main(["frontier", "--set", "lr=-1", "--family", "grpo", "--out", str(out)]) == 2
    assert "--lr must be" in capsys.readouterr().err
    assert not out.exists()


def test_frontier_writes_its_report_and_json(tmp_path, capsys):
    out = tmp_path / "f"
    assert main(["frontier", *TINY, *TINY_FAMILIES, "--out", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip() == str(out / "report.html")
    summary = json.loads((out / "frontier.json").read_text())
    weak = summary["starts"]["weak"]
    assert set(weak["specs"]) == {"grpo_k:k=1", "grpo_k:k=4", "maxrl"}
    assert weak["steps"] == [0, 3, 6]
    assert weak["frontier"]["specs"] == ["grpo_k:k=1", "grpo_k:k=4"]
    maxrl = weak["specs"]["maxrl"]
    for metric in ("pass@1", "pass@4"):
        final = maxrl["final"][metric]
        assert final["low"] <= final["mean"] <= final["high"] and len(final["per_seed"]) == 3
    assert maxrl["gap"] is not None and maxrl["vs_reference"]["reference"] == "grpo_k:k=1"
    assert [c["subject"] for c in weak["claims"] if c["claim"].startswith("MaxRL")] == ["maxrl"]
    for name in ("report.html", "pareto-weak.png", "curves-weak.png", "settings.json"):
        assert (out / name).stat().st_size > 0


def test_a_rerun_with_one_more_spec_runs_only_that_spec(tmp_path):
    out = str(tmp_path / "f")
    config = FrontierConfig(
        testbed="digits",
        jobs=1,
        family=("grpo_k:k={1,4}",),
        starts=("weak",),
        steps=6,
        eval_points=2,
        resamples=200,
        out=out,
        progress=False,
    )
    run_frontier(config)
    before = _results(out)
    assert len(before) == 6
    run_frontier(FrontierConfig(**{**config.__dict__, "extra": ("maxrl",)}))
    after = _results(out)
    assert {k: v for k, v in after.items() if k in before} == before  # not rewritten
    assert sorted(set(after) - set(before)) == [f"runs/weak/maxrl/seed{s}" for s in range(3)]
    summary = json.loads(open(os.path.join(out, "frontier.json")).read())
    assert summary["timing"]["runs_made"] == 3
    # other settings into the same folder are refused, naming what differs
    with pytest.raises(ValueError, match="differ: lr"):
        run_frontier(FrontierConfig(**{**config.__dict__, "set": ("lr=0.01",)}))


def test_a_killed_frontier_resumes_without_redoing_finished_runs(tmp_path):
    out = tmp_path / "f"
    argv = [
        os.path.join(os.path.dirname(sys.executable), "advshape"), "frontier", "--testbed", "digits", "--steps", "150",
        "--eval-points", "2", "--resamples", "200", "--family", "grpo_k:k={1,2,4}", "--starts",
        "weak", "--out", str(out), "--no-progress", "--jobs", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not _results(out) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = _results(out)
    assert 1 <= len(finished) < 9, "the kill came after the frontier finished: slow the runs"
    assert not (out / "frontier.json").exists()
    assert main(argv[1:]) == 0
    after = _results(out)
    assert len(after) == 9
    assert {k: after[k] for k in finished} == finished  # finished runs were not redone
    summary = json.loads((out / "frontier.json").read_text())
    assert summary["timing"]["runs_made"] == 9 - len(finished)


@pytest.mark.slow
def test_ray_executor_on_a_local_cluster(tmp_path):
    ray = pytest.importorskip("ray")
    venv_bin = os.path.dirname(sys.executable)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths are limited
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        [os.path.join(venv_bin, "ray"), "start", "--head", "--block", f"--port={port}",
         "--num-cpus=2", f"--temp-dir={temp}", "--include-dashboard=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    old = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    try:
        out = tmp_path / "f"
        argv = ["frontier", *TINY, *TINY_FAMILIES, "--out", str(out), "--no-progress"]
        argv += ["--executor", "ray", "--address", f"127.0.0.1:{port}"]
        deadline = time.time() + 240
        code = main(argv)
        while code != 0 and time.time() < deadline:  # the head takes a while to accept drivers
            time.sleep(2)
            code = main(argv)
        assert code == 0
        assert len(_results(out)) == 9
        local = tmp_path / "local"
        assert main(["frontier", *TINY, *TINY_FAMILIES, "--out", str(local), "--no-progress"]) == 0
        a = json.loads((out / "frontier.json").read_text())["starts"]
        b = json.loads((local / "frontier.json").read_text())["starts"]
        assert a["weak"]["specs"]["maxrl"]["final"] == b["weak"]["specs"]["maxrl"]["final"]
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if old is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = old
        os.killpg(head.pid, signal.SIGTERM)  # the head and the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        shutil.rmtree(temp, ignore_errors=True)


def test_a_folder_of_other_files_is_refused(tmp_path, capsys):
    out = tmp_path / "f"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert main(["frontier", *TINY, *TINY_FAMILIES, "--out", str(out), "--no-progress"]) == 2
    assert "holds files but no frontier" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_jobs_0_means_one_process_per_usable_core_at_most_8(monkeypatch):
    from advshape.frontier import run as frontier_run

    assert FrontierConfig().jobs == 0
    for cores, expected in [(1, 1), (2, 2), (8, 8), (64, 8)]:
        monkeypatch.setattr(
            os, "sched_getaffinity", lambda pid, c=cores: set(range(c)), raising=False
        )
        assert frontier_run.default_jobs() == expected
