"""advshape.bandit.run and the ``advshape simulate`` command: run folder, resume, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import advshape
from advshape.bandit import run as bandit_run
from advshape.bandit.dynamics import BanditConfig
from advshape.cli import bandit_cmds
from advshape.cli.dataclass_options import parse


def _study(**kw):
    bandit = BanditConfig(problems=60, steps=10, batch=12, log_every=5, features=4)
    args = dict(bandit=bandit, shapers=("grpo", "grpo_k"), seeds=2, target=0.2)
    args.update(kw)
    return bandit_run.StudyConfig(**args)


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")  # the 'bandit' extra
    out = tmp_path / "study"
    bandit_run.run_study(_study(seeds=1), out, progress=False)
    for name in ("pass_at_1.png", "pass_at_K.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_run_folder_contents(tmp_path):
    out = tmp_path / "study"
    result = bandit_run.run_study(_study(), out, progress=False, plots=False)
    for name in ("config.json", "metrics.jsonl", "summary.md"):
        assert (out / name).stat().st_size > 0, name
    config = json.loads((out / "config.json").read_text())
    assert config["study"]["shapers"] == ["grpo", "grpo_k:k=8"]  # k filled in from --k
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 2 * 2 * 3  # shapers x seeds x records (steps 0, 5, 10)
    assert {(r["shaper"], r["seed"]) for r in lines} == {
        (s, seed) for s in ("grpo", "grpo_k:k=8") for seed in (0, 1)
    }
    summary = (out / "summary.md").read_text()
    assert "| grpo_k:k=8 |" in summary and "test pass@8" in summary
    assert [r["shaper"] for r in result["summary"]] == ["grpo", "grpo_k:k=8"]
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporaries


def test_summary_statistics_are_computed_from_the_records():
    recs = []
    for seed, (hit, final) in enumerate([(200, 0.5), (400, 0.7)]):
        for step, samples, value in [(0, 0, 0.1), (1, hit, 0.45), (2, 600, final)]:
            recs.append(
                {
                    "shaper": "x",
                    "seed": seed,
                    "step": step,
                    "samples": samples,
                    "train_pass@1": value,
                    "train_pass@8": value,
                    "zero_group_frac": 0.5,
                }
            )
    (row,) = bandit_run.summarise(recs, ["x"], 8, 0.4)
    assert row["reached"] == 2
    assert row["samples_to_target"] == pytest.approx((300.0, 141.42135623730951))
    assert row["train_pass@8"] == pytest.approx((0.6, 0.1414213562373095))
    assert row["peak_train_pass@8"] == pytest.approx((0.6, 0.1414213562373095))
    recs[2]["train_pass@8"] = 0.2  # seed 0 ends below its peak 0.45
    (row,) = bandit_run.summarise(recs, ["x"], 8, 0.4)
    assert row["peak_train_pass@8"] == pytest.approx((0.575, 0.1767766952966369))
    assert row["train_pass@8"] == pytest.approx((0.45, 0.3535533905932738))
    (row,) = bandit_run.summarise(recs, ["x"], 8, 0.65)
    assert row["reached"] == 1 and row["samples_to_target"] == (600.0, 0.0)


def test_resume_skips_finished_runs_and_reruns_missing_ones(tmp_path, monkeypatch):
    out = tmp_path / "study"
    first = bandit_run.run_study(_study(), out, progress=False, plots=False)
    calls = []
    real = bandit_run.simulate

    def counting(config, shaper, seed, **kw):
        calls.append((shaper.spec, seed))
        return real(config, shaper, seed, **kw)

    monkeypatch.setattr(bandit_run, "simulate", counting)
    again = bandit_run.run_study(_study(), out, progress=False, plots=False)
    assert calls == []
    assert again["records"] == first["records"]
    next(out.glob("runs/01-*seed1.json")).unlink()
    bandit_run.run_study(_study(), out, progress=False, plots=False)
    assert calls == [("grpo_k:k=8", 1)]
    assert (out / "metrics.jsonl").read_text().count("\n") == len(first["records"])


def test_a_folder_never_mixes_configurations(tmp_path):
    out = tmp_path / "study"
    bandit_run.run_study(_study(), out, progress=False, plots=False)
    with pytest.raises(ValueError, match="another configuration"):
        bandit_run.run_study(_study(seeds=3), out, progress=False, plots=False)


def test_same_configuration_same_numbers_with_workers(tmp_path):
    a = bandit_run.run_study(_study(), tmp_path / "a", progress=False, plots=False)
    b = bandit_run.run_study(_study(), tmp_path / "b", progress=False, plots=False, workers=2)
    assert a["records"] == b["records"]


def test_resolve_shaper():
    assert bandit_run.resolve_shaper("rloo_k", 4).spec == "rloo_k:k=4"
    assert bandit_run.resolve_shaper("rloo_k:k=2", 4).spec == "rloo_k:k=2"
    assert bandit_run.resolve_shaper("entropy:lam=0.5", 4).params == {"lam": 0.5}
    with pytest.raises(ValueError, match="unknown shaper 'grop'"):
        bandit_run.resolve_shaper("grop", 4)
    with pytest.raises(ValueError, match="needs parameter 'lam'"):
        bandit_run.resolve_shaper("entropy", 4)
    with pytest.raises(ValueError, match="non-empty"):
        bandit_run.resolve_shaper(" ", 4)


def test_surrogate_specs_go_to_from_surrogate(monkeypatch):
    from advshape.surrogates import forward

    seen = []

    def fake(text, **kwargs):
        seen.append((text, kwargs))
        return advshape.shaper("skew_r")

    monkeypatch.setattr(forward, "from_surrogate", fake)
    assert (
        bandit_run.resolve_shaper("surrogate:asin(sqrt(rho));lam=0.5;regularizer=rho", 8).name
        == "skew_r"
    )
    assert seen == [("asin(sqrt(rho))", {"lam": 0.5, "regularizer": "rho"})]
    # registry specs that take k get the study's k
    assert bandit_run.resolve_shaper("grpo_k", 8).spec == "grpo_k:k=8"
    assert bandit_run.resolve_shaper("grpo_k:k=2", 8).spec == "grpo_k:k=2"


def _cli(argv):
    return bandit_cmds.run_simulate(parse(bandit_cmds.SimulateArgs, argv, prog="simulate"))


def test_cli_runs_and_prints_the_summary(tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["--shapers", "grpo", "skew_r", "--seeds", "1", "--problems", "50", "--batch", "8"]
    argv += ["--steps", "6", "--log-every", "3", "--features", "3", "--sampling", "prioritised"]
    argv += ["--out", str(out), "--no-plots", "--no-progress", "--workers", "1"]
    assert _cli(argv) == 0
    text = capsys.readouterr().out
    assert "| skew_r |" in text and "prioritised problem sampling" in text
    assert json.loads((out / "config.json").read_text())["study"]["bandit"]["sampling"] == (
        "prioritised"
    )


def test_cli_defaults_are_the_issue_study():
    args = parse(bandit_cmds.SimulateArgs, [], prog="simulate")
    assert args.shapers == bandit_run.DEFAULT_SHAPERS
    assert (args.seeds, args.n, args.k) == (3, 16, 8)
    assert args.model == "shared" and args.dynamics == "sampled"
    assert args.study().bandit == BanditConfig()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--seeds", "0"], r"--seeds must be an integer in \[1, "),
        (["--target", "1.5"], r"--target must be a number in \(0, 1\)"),
        (["--shapers", "grpo_k:k=32"], "k=32 > group size n=16"),
        (["--shapers", "grpo", "grpo"], "lists the same shaper twice"),
        (["--shapers", "grpo", "grpo:std=population"], "lists the same shaper twice: grpo "),
        (["--workers", "-1"], r"--workers must be an integer in \[0, "),
        (["--difficulty", "loguniform:0.5,0.1"], "LOW <= HIGH"),
    ],
)
def test_cli_bad_input(tmp_path, argv, match):
    with pytest.raises(ValueError, match=match):
        _cli([*argv, "--out", str(tmp_path / "x"), "--no-progress", "--no-plots"])


def test_cli_rejects_unknown_choice(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(bandit_cmds.SimulateArgs, ["--model", "deep"], prog="simulate")
    assert exit_.value.code == 2
    assert "argument --model: invalid choice 'deep'" in capsys.readouterr().err


def test_simulate_is_registered_in_the_dispatcher():
    from advshape.cli import COMMANDS

    assert COMMANDS["simulate"][0] == "bandit_cmds"


def test_paired_differences_against_the_first_shaper():
    recs = []
    for shaper, offset in (("a", (0.0, 0.0)), ("b", (0.1, -0.3))):
        for seed in (0, 1):
            recs.append(
                {
                    "shaper": shaper,
                    "seed": seed,
                    "step": 0,
                    "samples": 0,
                    "train_pass@1": 0.5 + offset[seed],
                    "train_pass@8": 0.5,
                    "zero_group_frac": 0.0,
                }
            )
    rows = bandit_run.summarise(recs, ["a", "b"], 8, 0.9)
    assert rows[0]["paired"]["train_pass@1"] == (0.0, 0.0)
    assert rows[1]["paired"]["train_pass@1"] == pytest.approx((-0.1, 0.28284271247461906))
    assert rows[1]["paired_positive"] == {"train_pass@1": 1, "train_pass@8": 0}
    text = bandit_run.summary_markdown(rows, _study(shapers=("a", "b")))
    assert "| b | -0.100 ± 0.283 (1/2) | +0.000 ± 0.000 (0/2) |" in text
    # 95% t interval, 1 degree of freedom: t = tan(π(p − ½)) at p = 0.975, s/√2 = 0.2
    t1 = math.tan(math.pi * 0.475)
    low, high = rows[1]["paired_ci"]["train_pass@1"]
    assert (low, high) == pytest.approx((-0.1 - t1 * 0.2, -0.1 + t1 * 0.2), rel=1e-12)
    assert "| b | [-2.641, +2.441] | [+0.000, +0.000] |" in text


def test_t_interval_three_values():
    # mean 2, s = 1; with 2 degrees of freedom t_p = (2p − 1)/√(2p(1 − p)) in closed form
    p = 0.975
    half = (2 * p - 1) / math.sqrt(2 * p * (1 - p)) / math.sqrt(3)
    low, high = bandit_run._t_interval([1.0, 2.0, 3.0])
    assert (low, high) == pytest.approx((2 - half, 2 + half), rel=1e-12)
    assert bandit_run._t_interval([1.0]) is None


def test_surrogate_shapers_run_under_their_own_spec(tmp_path, monkeypatch):
    from advshape.surrogates import forward

    def fake(text, **kwargs):
        assert text == "2*asin(sqrt(rho))" and not kwargs
        return advshape.count_shaper("mine", advshape.shaper("grpo").scores)

    monkeypatch.setattr(forward, "from_surrogate", fake)
    study = _study(shapers=("grpo", "surrogate:2*asin(sqrt(rho))"), seeds=1)
    result = bandit_run.run_study(study, tmp_path / "s", progress=False, plots=False)
    grpo, mine = ([r for r in result["records"] if r["shaper"] == s] for s in study.shapers)
    assert mine == [{**r, "shaper": study.shapers[1]} for r in grpo]  # same scores, same run


def test_real_from_surrogate_arcsine_is_grpo_up_to_n_over_n_minus_1():
    if not hasattr(advshape, "from_surrogate"):
        pytest.skip("advshape.from_surrogate is not in this tree")
    pytest.importorskip("sympy")
    n = 16
    shaper = bandit_run.resolve_shaper("surrogate:2*asin(sqrt(rho))", 8)
    counts = np.arange(1, n)  # 0 < N+ < N: the groups with a gradient
    got_pos, got_neg = shaper.at(1).scores(counts, np.full(n - 1, n))
    want_pos, want_neg = advshape.shaper("grpo").scores(counts, np.full(n - 1, n))
    np.testing.assert_allclose(got_pos, want_pos * n / (n - 1), rtol=1e-9)
    np.testing.assert_allclose(got_neg, want_neg * n / (n - 1), rtol=1e-9)


def test_paired_samples_to_target_against_the_first_shaper():
    """Per seed, samples to the target minus the first shaper's; seeds where either shaper never
    reaches it are left out (and counted)."""
    recs = []
    hits = {"a": (200, 400, 300), "b": (100, 700, None)}
    for shaper, seed_hits in hits.items():
        for seed, hit in enumerate(seed_hits):
            for step, samples in enumerate((0, 100, 200, 300, 400, 500, 600, 700)):
                reached = hit is not None and samples >= hit
                recs.append(
                    {
                        "shaper": shaper,
                        "seed": seed,
                        "step": step,
                        "samples": samples,
                        "train_pass@1": 0.5 if reached else 0.1,
                        "train_pass@8": 0.5 if reached else 0.1,
                        "zero_group_frac": 0.0,
                    }
                )
    rows = bandit_run.summarise(recs, ["a", "b"], 8, 0.4)
    gap = rows[1]["paired_samples_to_target"]
    assert gap["pairs"] == 2 and gap["sooner"] == 1
    assert gap["mean_std"] == pytest.approx((100.0, 282.842712474619))
    t1 = math.tan(math.pi * 0.475)  # t quantile, 1 degree of freedom
    assert gap["ci"] == pytest.approx((100 - t1 * 200, 100 + t1 * 200), rel=1e-12)
    text = bandit_run.summary_markdown(rows, _study(shapers=("a", "b")))
    assert "| b | +100 ± 283 | [-2,441, +2,641] | 1/2 |" in text
