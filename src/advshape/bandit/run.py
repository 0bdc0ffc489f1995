"""Run shapers x seeds on the bandit and write a run folder (resumable, written atomically).

Layout of ``out/``:

- ``config.json``: the study configuration (bandit settings, resolved shaper specs, seeds);
- ``runs/<i>-<spec>-seed<s>.json``: one finished (shaper, seed) run each — a rerun with the
  same configuration skips them, so an interrupted study resumes where it stopped;
- ``metrics.jsonl``: every metric record of every run, one JSON object per line;
- ``summary.md``: a Markdown table (samples to reach the target pass@K, final pass@1 and
  pass@K on train and held-out problems, mean ± std over seeds);
- ``pass_at_1.png``, ``pass_at_K.png``: metric against samples, mean over seeds with the
  min–max band.

Every file is written to a temporary name and moved into place with ``os.replace``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

import advshape
from advshape._files import atomic_write, check_output_dir, read_json, write_json_atomic
from advshape._options import count, real
from advshape._run_folder import RunFolder
from advshape._shaper_option import canonical_spec, shaper_option
from advshape.bandit.dynamics import BanditConfig, simulate

__all__ = ["DEFAULT_SHAPERS", "StudyConfig", "resolve_shaper", "run_study", "summarise"]

DEFAULT_SHAPERS = (
    "grpo",
    "rloo",
    "skew_r",
    "grpo_k",
    "rloo_k",
    "grpo_k_chen",
    "biased_k",
    "mix_direct",
    "entropy:lam=0.5",
    "pkpo",
)
"""The shapers ``advshape simulate`` compares by default (the study of issue 4). entropy needs
λ: 0.5 keeps the surrogate 2·arcsin√ρ + λ·H(ρ) maximised at ρ = 1 (the paper: for λ ≲ 1.5)
while visibly reweighting towards undecided problems."""


#: The valid values of a study's own options (shared with ``advshape simulate``'s).
SEEDS = count(1, 10_000, why="--seeds must be >= 1: the seeds 0..S-1")
TARGET = real(0.0, 1.0, low_open=True, high_open=True, why="the target pass@K")


def check_shapers(option_name: str, specs: Sequence[str]) -> None:
    if not specs:
        raise ValueError(f"give at least one shaper, e.g. {option_name} grpo grpo_k:k=8")


@dataclass
class StudyConfig:
    """A study: one bandit configuration, several shapers, several seeds.

    Attributes:
        bandit: the training run every (shaper, seed) shares.
        shapers: the shaper specs; those that take k get ``bandit.k`` unless they give one.
        seeds: S, the seeds 0..S−1 (each fixes the problems and the training randomness,
            the same for every shaper).
        target: the train pass@K whose first crossing the summary reports, in (0, 1).

    Example:
        >>> from advshape.bandit import BanditConfig
        >>> from advshape.bandit.run import StudyConfig
        >>> StudyConfig(BanditConfig(), shapers=("grpo", "grpo_k"), seeds=0).validate()
        Traceback (most recent call last):
        ...
        ValueError: --seeds must be an integer in [1, 10000], got 0; --seeds must be >= 1: the seeds 0..S-1

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2).
    """

    bandit: BanditConfig = field(default_factory=BanditConfig)
    shapers: tuple[str, ...] = DEFAULT_SHAPERS
    seeds: int = 3
    target: float = 0.44

    def validate(self) -> None:
        """Every option's range (naming it), the bandit's first."""
        self.bandit.validate()
        check_shapers("--shapers", self.shapers)
        SEEDS.check("--seeds", self.seeds)
        TARGET.check("--target", self.target)

    def to_dict(self) -> dict[str, Any]:
        """The study as a plain dict (its ``config.json``)."""
        d = asdict(self)
        d["shapers"] = list(self.shapers)
        return d


def resolve_shaper(spec: str, k: int, option: str = "--shapers") -> advshape.ScheduledShaper:
    """A count-based shaper from command-line text, with the study's K where it takes one.

    Shapers that take ``k`` get ``k`` unless the text gives one.

    Args:
        spec: any spec form (:func:`advshape._shaper_option.shaper_option`: registry,
            schedules, surrogates).
        k: the study's K.
        option: the option named in errors.

    Returns:
        The (possibly constant) :class:`advshape.ScheduledShaper`.

    Raises:
        ValueError: a bad spec (naming ``option``), a missing optional dependency (SymPy for a
            surrogate), or a shaper that is not count-based.

    Example:
        >>> resolve_shaper("grpo_k", 8).spec, resolve_shaper("grpo_k:k=2", 8).spec
        ('grpo_k:k=8', 'grpo_k:k=2')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1: the shapers and their K).
    """
    shaper = shaper_option(spec, option, default_k=k)
    if getattr(shaper.extremes()[0], "scores", None) is None:
        raise ValueError(
            f"shaper {spec!r} is not count-based; the bandit needs scores(n_pos, n) -> (A+, A-)"
        )
    return shaper


def _run_file(out: Path, index: int, spec: str, seed: int) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", spec)
    return out / "runs" / f"{index:02d}-{safe}-seed{seed}.json"


def _one_run(args: tuple[dict[str, Any], str, int]) -> list[dict[str, Any]]:
    bandit_dict, spec, seed = args
    config = BanditConfig(**bandit_dict)
    return simulate(config, resolve_shaper(spec, config.k), seed)


def run_study(
    study: StudyConfig,
    out: str | os.PathLike,
    *,
    workers: int = 1,
    progress: bool = True,
    plots: bool = True,
) -> dict[str, Any]:
    """Run every (shaper, seed), skipping runs already finished in ``out``; write the folder.

    The folder's layout is in this module's docstring: each finished run is one file, so an
    interrupted study resumes where it stopped; every file is written atomically.

    Args:
        study: the study (checked first, with every shaper against the group size N).
        out: the run folder (created; a folder of the same study is continued).
        workers: processes running (shaper, seed) pairs at once.
        progress: show a progress bar (with tqdm installed).
        plots: draw ``pass_at_1.png`` and ``pass_at_K.png`` (matplotlib).

    Returns:
        ``{"records": [...], "summary": rows, "out": path}``: every metric record (with its
        shaper and seed), the rows of :func:`summarise` and the folder.

    Raises:
        ValueError: bad options or shapers, a shaper listed twice, a shaper whose advantages
            are all zero at N, or ``out`` holding a study with a different configuration.

    Example:
        >>> import os
        >>> from advshape.bandit import BanditConfig
        >>> from advshape.bandit.run import StudyConfig, run_study
        >>> bandit = BanditConfig(model="tabular", problems=8, answers=4, max_correct=1, n=4,
        ...                       k=2, dynamics="expected", optimizer="sgd", lr=1.0, steps=3,
        ...                       batch=8, log_every=3, difficulty="fixed:0.25")
        >>> study = StudyConfig(bandit, shapers=("rloo", "grpo_k"), seeds=2)
        >>> result = run_study(study, "study", progress=False, plots=False)
        >>> sorted(os.listdir("study")), [row["shaper"] for row in result["summary"]]
        (['config.json', 'metrics.jsonl', 'runs', 'summary.md'], ['rloo', 'grpo_k:k=2'])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers of Table 1, compared on Pass@1 and Pass@K).
    """
    study.validate()
    check_output_dir("--out", out)
    out = Path(out)
    shapers = [resolve_shaper(text, study.bandit.k) for text in study.shapers]
    # A registry shaper is named by its canonical spec (which rebuilds it anywhere); a
    # from_surrogate shaper keeps the user's "surrogate:..." text, which is what rebuilds it.
    specs = [
        text.strip() if text.strip().startswith("surrogate:") else s.spec
        for text, s in zip(study.shapers, shapers)
    ]
    canonical = [s.spec for s in shapers]  # what compares: 'surrogate:rho' is 'F=rho'
    if len(set(canonical)) != len(canonical):
        twice = sorted({c for c in canonical if canonical.count(c) > 1})
        raise ValueError(
            f"--shapers lists the same shaper twice: {', '.join(twice)} (as {list(study.shapers)}); "
            "drop the repeat"
        )
    n = study.bandit.n
    for shaper in shapers:  # fail before any work if N does not suit a shaper (e.g. K > N)
        schedule = advshape.scheduled(shaper)
        try:
            schedule.check_group_size(n)  # every K a schedule reaches
            variants = []
            for v in schedule.variants():
                assert v.scores is not None  # resolve_shaper admits count-based shapers only
                variants.append(v.scores(np.arange(n + 1), np.full(n + 1, n)))
        except ValueError as err:
            raise ValueError(f"--shapers {shaper.spec!r} with --n {n}: {err}") from None
        # A+ is used when N+ >= 1, A- when N+ <= N - 1; all zero: the shaper never moves.
        if not any(
            np.any(np.asarray(a_pos)[1:] != 0) or np.any(np.asarray(a_neg)[:-1] != 0)
            for a_pos, a_neg in variants
        ):
            raise ValueError(
                f"--n {n}: every advantage of {shaper.spec!r} is 0 with groups of {n} (it "
                "compares each response with the rest of its group); use at least 2"
            )
    resolved = StudyConfig(study.bandit, tuple(specs), study.seeds, study.target)
    config = {"study": resolved.to_dict(), "advshape_version": advshape.__version__}
    jobs = _jobs(specs, study.seeds)
    folder = RunFolder(out, what="study")
    # A study continues where it stopped when its settings are those of the folder's study
    # (the target is free: it only changes the summary, which every run rewrites).
    k = study.bandit.k
    if not folder.check(
        _settings(config),
        saved_settings=_settings,
        has_work=lambda: (out / "runs").is_dir() and any((out / "runs").glob("*.json")),
        resume=True,
        normalise={"shapers": lambda specs: [canonical_spec(s, default_k=k) for s in specs]},
    ):
        folder.start_afresh("runs")
    # (Re)written every time: a rerun that changes only --target records its new target.
    folder.write_config(config)

    todo = [j for j in jobs if not _run_file(out, *j).exists()]
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # progress is a nicety: run without it (pip install tqdm for it)
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), unit="run", desc="simulate")
    bandit_dict = study.bandit.to_dict()
    try:
        args = [(bandit_dict, spec, seed) for _, spec, seed in todo]
        _run_all(out, todo, args, workers, bar)
    except Exception as err:
        # Marked failed: a rerun with corrected options may replace the finished runs.
        folder.mark_failed(f"{type(err).__name__}: {err}")
        raise
    finally:
        if bar is not None:
            bar.close()
    folder.clear_failed()

    records = []
    for i, spec, seed in jobs:
        path = _run_file(out, i, spec, seed)
        runs = read_json(path, fix="delete it and rerun the command to recompute this run")
        if not isinstance(runs, list) or not runs:
            raise ValueError(
                f"{str(path)!r} holds no run records; delete it and rerun the command to "
                "recompute this run"
            )
        for rec in runs:
            records.append({"shaper": spec, "seed": seed, **rec})
    atomic_write(
        out / "metrics.jsonl", lambda fh: fh.writelines(json.dumps(r) + "\n" for r in records)
    )
    rows = summarise(records, specs, study.bandit.k, study.target)
    atomic_write(out / "summary.md", lambda fh: fh.write(summary_markdown(rows, resolved)))
    if plots:
        plot_curves(records, specs, study.bandit.k, out)
    return {"records": records, "summary": rows, "out": str(out)}


def _jobs(specs: Sequence[str], seeds: int) -> list[tuple[int, str, int]]:
    return [(i, spec, seed) for i, spec in enumerate(specs) for seed in range(seeds)]


def _settings(config: dict[str, Any]) -> dict[str, Any]:
    """What must match for a study to continue in a folder: the bandit's options, the shapers
    (compared canonically), the seeds and advshape's version; the target is free."""
    study = config["study"]
    return {
        **study["bandit"],
        "shapers": study["shapers"],
        "seeds": study["seeds"],
        "advshape_version": config["advshape_version"],
    }


def _run_all(out: Path, todo, args, workers: int, bar) -> None:
    """Run the jobs not yet finished, writing each run's file as soon as it finishes."""
    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for job, records in zip(todo, pool.map(_one_run, args)):
                write_json_atomic(_run_file(out, *job), records)
                if bar is not None:
                    bar.update(1)
    else:
        for job, arg in zip(todo, args):
            write_json_atomic(_run_file(out, *job), _one_run(arg))
            if bar is not None:
                bar.update(1)


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def summarise(
    records: list[dict[str, Any]], specs: Sequence[str], k: int, target: float
) -> list[dict[str, Any]]:
    """Per shaper: samples to reach train pass@K ≥ target, final metrics, paired differences.

    Means and sample standard deviations are over seeds. Each seed fixes the problems and the
    training randomness for every shaper, so each shaper is also compared with the first one
    seed by seed: the paired differences of the final metrics and of the samples to the
    target, their 95 % Student-t intervals and in how many seeds the shaper came out ahead.

    Args:
        records: metric records with ``shaper`` and ``seed`` keys (``run_study``'s).
        specs: the shapers, the first being the reference of the paired differences.
        k: the K of the pass@K columns.
        target: the train pass@K whose first crossing is reported.

    Returns:
        One dict per shaper: ``samples_to_target``, ``train_pass@1``, … as (mean, std),
        ``reached`` (seeds that reached the target), and the ``paired*`` comparisons.

    Example:
        >>> from advshape.bandit import BanditConfig, simulate
        >>> from advshape.bandit.run import summarise
        >>> config = BanditConfig(model="tabular", problems=8, answers=4, max_correct=1, n=4,
        ...                       k=2, dynamics="expected", optimizer="sgd", lr=1.0, steps=3,
        ...                       batch=8, log_every=3, difficulty="fixed:0.25")
        >>> records = [{"shaper": spec, "seed": seed, **record}
        ...            for spec in ("rloo", "grpo_k:k=2") for seed in (0, 1)
        ...            for record in simulate(config, spec, seed)]
        >>> rows = summarise(records, ["rloo", "grpo_k:k=2"], k=2, target=0.44)
        >>> [round(m, 4) for m in rows[1]["paired"]["train_pass@1"]], rows[1]["paired_positive"]
        ([0.0282, 0.0003], {'train_pass@1': 2, 'train_pass@2': 2})

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@1 and Pass@K, Sec. 1.1).
    """
    rows = []
    key = f"train_pass@{k}"
    for spec in specs:
        mine = [r for r in records if r["shaper"] == spec]
        seeds = sorted({r["seed"] for r in mine})
        reach, finals, peaks = [], [], []
        for seed in seeds:
            runs = sorted((r for r in mine if r["seed"] == seed), key=lambda r: r["step"])
            hit = next((r["samples"] for r in runs if r[key] >= target), None)
            reach.append(hit)
            finals.append(runs[-1])
            peaks.append(max(r[key] for r in runs))
        row: dict[str, Any] = {"shaper": spec, "seeds": len(seeds)}
        reached = [h for h in reach if h is not None]
        row["reached"] = len(reached)
        row["samples_to_target"] = _mean_std(reached) if reached else None
        for split in ("train", "test"):
            for kk in sorted({1, k}):  # K = 1: pass@K is pass@1, one column
                name = f"{split}_pass@{kk}"
                if name in finals[0]:
                    row[name] = _mean_std([f[name] for f in finals])
        row[f"peak_train_pass@{k}"] = _mean_std(peaks)
        row["zero_group_frac"] = _mean_std([f["zero_group_frac"] for f in finals])
        row["_finals"] = dict(zip(seeds, finals))
        row["_reach"] = dict(zip(seeds, reach))
        rows.append(row)
    # Seeds fix the problems and the training randomness for every shaper alike, so the
    # per-seed difference to the first shaper removes the problem-set variance.
    ref = rows[0]["_finals"]
    ref_reach = rows[0]["_reach"]
    for row in rows:
        reach_of = row.pop("_reach")
        both = [
            s
            for s in sorted(set(reach_of) & set(ref_reach))
            if None not in (reach_of[s], ref_reach[s])
        ]
        gaps = [float(reach_of[s] - ref_reach[s]) for s in both]
        row["paired_samples_to_target"] = (
            {
                "mean_std": _mean_std(gaps),
                "ci": _t_interval(gaps),
                "sooner": sum(g < 0 for g in gaps),
                "pairs": len(gaps),
            }
            if gaps
            else None
        )
        mine = row.pop("_finals")
        common = sorted(set(mine) & set(ref))
        row["paired"] = {
            name: _mean_std([mine[s][name] - ref[s][name] for s in common])
            for name in dict.fromkeys(  # K = 1: each name once
                ("train_pass@1", f"train_pass@{k}", "test_pass@1", f"test_pass@{k}")
            )
            if name in mine[common[0]]
        }
        row["paired_positive"] = {
            name: sum(mine[s][name] > ref[s][name] for s in common) for name in row["paired"]
        }
        row["paired_ci"] = {
            name: _t_interval([mine[s][name] - ref[s][name] for s in common])
            for name in row["paired"]
        }
    return rows


def _t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float] | None:
    """Student-t confidence interval of the mean of ``values`` (None for fewer than 2)."""
    arr = np.asarray(values, dtype=np.float64)
    if len(arr) < 2:
        return None
    from scipy.stats import t

    half = float(t.ppf(0.5 + level / 2, len(arr) - 1)) * float(arr.std(ddof=1)) / np.sqrt(len(arr))
    return float(arr.mean()) - half, float(arr.mean()) + half


def _fmt(ms: tuple[float, float] | None, digits: int = 3) -> str:
    if ms is None:
        return "—"
    return f"{ms[0]:.{digits}f} ± {ms[1]:.{digits}f}"


def summary_markdown(rows: list[dict[str, Any]], study: StudyConfig) -> str:
    b, k = study.bandit, study.bandit.k
    cols = [f"peak_train_pass@{k}", "train_pass@1", f"train_pass@{k}", "test_pass@1"]
    cols = list(dict.fromkeys([*cols, f"test_pass@{k}"]))  # K = 1: each column once
    cols = [c for c in cols if c in rows[0]]
    best = {c: max(r[c][0] for r in rows) for c in cols}
    reach = [
        r["samples_to_target"][0]
        for r in rows
        if r["samples_to_target"] and r["reached"] == r["seeds"]
    ]
    fastest = min(reach) if reach else None
    lines = [
        f"# advshape simulate: {b.model} model, {b.dynamics} dynamics",
        "",
        f"P = {b.problems} problems ({b.test_fraction:g} held out)"
        if b.model == "shared"
        else f"P = {b.problems} problems",
        f"M = {b.answers} answers, N = {b.n}, K = {k}, {b.optimizer} lr = {b.lr:g}, "
        f"{b.steps} steps x {b.batch} problems ({b.steps * b.batch * b.n} samples), "
        f"{b.sampling} problem sampling, difficulty {b.difficulty}, {study.seeds} seeds.",
        "",
        f"Mean ± std over seeds (sample std). 'samples to pass@{k} ≥ {study.target:g}': samples "
        f"until the exact mean train pass@{k} first reaches the target (over the seeds that "
        f"reached it; the count says how many did). 'peak': the best train pass@{k} along the "
        "run; the other columns are final values. Bold: best mean in the column.",
        "",
        f"| shaper | samples to pass@{k} ≥ {study.target:g} | "
        + " | ".join(c.replace("_", " ") for c in cols)
        + " | zero-gradient groups (final) |",
        "|---|---|" + "---|" * len(cols) + "---|",
    ]
    for r in rows:
        st = r["samples_to_target"]
        reach_txt = (
            "not reached"
            if st is None
            else f"{st[0]:,.0f} ± {st[1]:,.0f} ({r['reached']}/{r['seeds']})"
        )
        if (
            st is not None
            and fastest is not None
            and r["reached"] == r["seeds"]
            and st[0] == fastest
        ):
            reach_txt = f"**{reach_txt}**"
        cells = []
        for c in cols:
            txt = _fmt(r[c])
            cells.append(f"**{txt}**" if r[c][0] == best[c] else txt)
        lines.append(
            f"| {r['shaper']} | {reach_txt} | {' | '.join(cells)} | {_fmt(r['zero_group_frac'], 2)} |"
        )
    ref = rows[0]["shaper"]
    names = list(rows[0]["paired"])
    lines += [
        "",
        f"Final value minus {ref}'s on the same seed (same problems, same random numbers): "
        "mean ± std over seeds, and in how many seeds the shaper came out above.",
        "",
        "| shaper | " + " | ".join(f"Δ {n.replace('_', ' ')}" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for r in rows[1:]:
        cells = [
            f"{r['paired'][n][0]:+.3f} ± {r['paired'][n][1]:.3f} ({r['paired_positive'][n]}/{r['seeds']})"
            for n in names
        ]
        lines.append(f"| {r['shaper']} | " + " | ".join(cells) + " |")
    if len(rows) > 1:
        lines += [
            "",
            f"Samples to pass@{k} ≥ {study.target:g} minus {ref}'s on the same seed (seeds where "
            "both reached the target): mean ± std, 95% t interval, and in how many seeds the "
            "shaper got there sooner.",
            "",
            f"| shaper | Δ samples to pass@{k} ≥ {study.target:g} | 95% interval | sooner |",
            "|---|---|---|---|",
        ]
        for r in rows[1:]:
            gap = r["paired_samples_to_target"]
            if gap is None:
                lines.append(f"| {r['shaper']} | — | — | — |")
                continue
            ci = "—" if gap["ci"] is None else f"[{gap['ci'][0]:+,.0f}, {gap['ci'][1]:+,.0f}]"
            lines.append(
                f"| {r['shaper']} | {gap['mean_std'][0]:+,.0f} ± {gap['mean_std'][1]:,.0f} | {ci} "
                f"| {gap['sooner']}/{gap['pairs']} |"
            )
    if rows[0]["seeds"] > 1 and len(rows) > 1:
        lines += [
            "",
            f"95% confidence interval of the mean paired difference to {ref} (Student t, "
            "seeds − 1 degrees of freedom); an interval that excludes 0 is a difference the "
            "seeds resolve.",
            "",
            "| shaper | " + " | ".join(f"Δ {n.replace('_', ' ')}" for n in names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for r in rows[1:]:
            cells = []
            for n in names:
                ci = r["paired_ci"][n]
                cells.append("—" if ci is None else f"[{ci[0]:+.3f}, {ci[1]:+.3f}]")
            lines.append(f"| {r['shaper']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_curves(records: list[dict[str, Any]], specs: Sequence[str], k: int, out: Path) -> None:
    """pass_at_1.png and pass_at_K.png: mean over seeds vs samples, min–max band, train | test."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = [s for s in ("train", "test") if f"{s}_pass@1" in records[0]]
    for kk, fname in ((1, "pass_at_1.png"), (k, "pass_at_K.png")):
        fig, axes = plt.subplots(1, len(splits), figsize=(6 * len(splits), 4.2), squeeze=False)
        for ax, split in zip(axes[0], splits):
            key = f"{split}_pass@{kk}"
            for spec in specs:
                mine = [r for r in records if r["shaper"] == spec]
                seeds = sorted({r["seed"] for r in mine})
                curves = np.array(
                    [
                        [
                            r[key]
                            for r in sorted(
                                (r for r in mine if r["seed"] == s), key=lambda r: r["step"]
                            )
                        ]
                        for s in seeds
                    ]
                )
                x = [
                    r["samples"]
                    for r in sorted(
                        (r for r in mine if r["seed"] == seeds[0]), key=lambda r: r["step"]
                    )
                ]
                (line,) = ax.plot(x, curves.mean(axis=0), label=spec, lw=1.4)
                ax.fill_between(
                    x, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.15
                )
            ax.set_xlabel("samples (responses drawn)")
            ax.set_ylabel(f"mean pass@{kk} (exact)")
            ax.set_title(f"{split} problems: pass@{kk}")
            ax.grid(alpha=0.3)
        axes[0][-1].legend(fontsize=7, loc="best")
        fig.tight_layout()
        atomic_write(out / fname, partial(fig.savefig, format="png", dpi=110), mode="wb")
        plt.close(fig)


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))
