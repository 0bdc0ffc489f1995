"""HTML + PNG reports of RL runs: one run, or a comparison of shapers over seeds.

Curves are Pass@K on held-out problems against the number of training samples
(B·N per step); a comparison draws each shaper's mean over seeds with a band from
the lowest to the highest seed. The HTML embeds the PNGs (one self-contained file)
and ends with a table of the final values, mean ± standard deviation over seeds.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure  # the object API: no pyplot, no process-wide backend

from advshape._files import read_json, read_jsonl, write_text_atomic
from advshape.lm import stats

__all__ = ["load_run", "plot_metrics", "summary_rows", "write_report", "write_run_report"]


def load_run(run_dir: str) -> dict[str, Any]:
    """A run folder's configuration and metric records, split into evaluations and train steps.

    Args:
        run_dir: the run folder (``config.json`` and ``metrics.jsonl``).

    Returns:
        ``{"dir", "config", "evals", "train"}``: the folder, its configuration, and its
        ``kind == "eval"`` and ``kind == "train"`` records in order.

    Raises:
        ValueError: a missing or unreadable file (the message says to rerun the run).

    Example:
        >>> import json, os
        >>> os.makedirs("run")
        >>> with open("run/config.json", "w") as f:
        ...     json.dump({"args": {"eval_ks": [1, 2]}, "shaper": {"spec": "grpo"}}, f)
        >>> records = [{"kind": "eval", "step": 0, "samples": 0, "pass@1": 0.2, "pass@2": 0.3},
        ...            {"kind": "train", "step": 10, "samples": 640, "train_reward": 0.3,
        ...             "entropy": 1.2, "samples_per_s": 100.0, "tokens_per_s": 400.0},
        ...            {"kind": "eval", "step": 10, "samples": 640, "pass@1": 0.4, "pass@2": 0.5}]
        >>> with open("run/metrics.jsonl", "w") as f:
        ...     f.writelines(json.dumps(r) + "\\n" for r in records)
        >>> from advshape.lm.report import load_run
        >>> run = load_run("run")
        >>> [r["step"] for r in run["evals"]], len(run["train"])
        ([0, 10], 1)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (held-out Pass@K, Sec. 1.1.2).
    """
    config = read_json(
        os.path.join(run_dir, "config.json"), fix="delete the run folder and rerun it"
    )
    records = read_jsonl(
        os.path.join(run_dir, "metrics.jsonl"), fix="delete the run folder and rerun it"
    )
    return {
        "dir": run_dir,
        "config": config,
        "evals": [r for r in records if r["kind"] == "eval"],
        "train": [r for r in records if r["kind"] == "train"],
    }


def _ks(run: dict[str, Any]) -> list[int]:
    return list(run["config"]["args"]["eval_ks"])


def _savefig_atomic(fig, path: str) -> None:
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, path)


def plot_metric(groups: dict[str, list[dict[str, Any]]], metric: str, path: str, title: str):
    """Mean over a group's runs of ``metric`` (eval records) vs samples, min-max band."""
    plot_metrics(groups, [(metric, title)], path)


def plot_metrics(
    groups: dict[str, list[dict[str, Any]]], panels: list[tuple[str, str]], path: str
) -> None:
    """Curves of metrics against training samples, one panel per metric, side by side.

    Each group's mean over its runs, with a band from the lowest to the highest run; train
    metrics (``train_reward``, ``entropy``, ``zero_variance_groups``) come from the train
    records, the others (``pass@K``, ``CLASS:pass@K``) from the evaluations.

    Args:
        groups: label -> runs (:func:`load_run`'s dicts), e.g. one label per shaper.
        panels: ``(metric, title)`` of each panel.
        path: the PNG to write (atomically).

    Example:
        >>> def run(final):  # what load_run returns, in short
        ...     return {"config": {"args": {"eval_ks": [1, 2]}, "shaper": {"spec": "grpo"}},
        ...             "evals": [{"step": 0, "samples": 0, "pass@1": 0.2, "pass@2": 0.3},
        ...                       {"step": 10, "samples": 640, "pass@1": final, "pass@2": 0.5}],
        ...             "train": [{"step": 10, "samples": 640, "train_reward": 0.3,
        ...                        "entropy": 1.2, "samples_per_s": 100.0, "tokens_per_s": 400.0}]}
        >>> groups = {"grpo": [run(0.4), run(0.5)]}  # one shaper, two seeds
        >>> import os
        >>> from advshape.lm.report import plot_metrics
        >>> plot_metrics(groups, [("pass@1", "held-out pass@1"), ("train_reward", "reward")],
        ...              "curves.png")
        >>> os.path.exists("curves.png")
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (held-out Pass@K, Sec. 1.1.2).
    """
    fig = Figure(figsize=(5.2 * len(panels), 3.6))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (metric, title) in zip(axes[0], panels, strict=True):
        source = (
            "train" if metric in ("train_reward", "entropy", "zero_variance_groups") else "evals"
        )
        for label, runs in groups.items():
            curves = [[(r["samples"], _value(r, metric)) for r in run[source]] for run in runs]
            length = min(len(c) for c in curves)
            if length == 0:
                continue
            x = np.array([p[0] for p in curves[0][:length]])
            y = np.array([[p[1] for p in c[:length]] for c in curves])
            (line,) = ax.plot(x, y.mean(0), label=f"{label} ({len(runs)} seeds)")
            if len(runs) > 1:
                ax.fill_between(x, y.min(0), y.max(0), color=line.get_color(), alpha=0.15)
        ax.set_xlabel("training samples (prompts × responses)")
        ax.set_ylabel(
            metric.split(":")[1] + f", {metric.split(':')[0]} class" if ":" in metric else metric
        )
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    _savefig_atomic(fig, path)


def _value(record: dict[str, Any], metric: str) -> float:
    """``record[metric]``, or a class's value for ``"CLASS:pass@K"``."""
    if ":" in metric:
        cls, name = metric.split(":", 1)
        return record["by_class"][cls][name]
    return record[metric]


def _mean_std(values: Sequence[float]) -> str:
    v = np.asarray(values, dtype=float)
    if len(v) == 1:
        return f"{v[0]:.3f}"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}"


def summary_rows(groups: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per group: start and final held-out Pass@K (mean and std over seeds) and throughput.

    Args:
        groups: label -> runs (:func:`load_run`'s dicts).

    Returns:
        One dict per group: ``{"shaper", "seeds", "pass@K": {"start", "final_mean",
        "final_std", "final"}, "steps", "train_reward_last10", "samples_per_s",
        "tokens_per_s"}``.

    Example:
        >>> def run(final):  # what load_run returns, in short
        ...     return {"config": {"args": {"eval_ks": [1, 2]}, "shaper": {"spec": "grpo"}},
        ...             "evals": [{"step": 0, "samples": 0, "pass@1": 0.2, "pass@2": 0.3},
        ...                       {"step": 10, "samples": 640, "pass@1": final, "pass@2": 0.5}],
        ...             "train": [{"step": 10, "samples": 640, "train_reward": 0.3,
        ...                        "entropy": 1.2, "samples_per_s": 100.0, "tokens_per_s": 400.0}]}
        >>> groups = {"grpo": [run(0.4), run(0.5)]}  # one shaper, two seeds
        >>> from advshape.lm.report import summary_rows
        >>> row = summary_rows(groups)[0]
        >>> row["pass@1"]["start"], row["pass@1"]["final"], round(row["pass@1"]["final_mean"], 12)
        (0.2, [0.4, 0.5], 0.45)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (held-out Pass@K, Sec. 1.1.2).
    """
    rows = []
    for label, runs in groups.items():
        ks = _ks(runs[0])
        row: dict[str, Any] = {"shaper": label, "seeds": len(runs)}
        for k in ks:
            start = [run["evals"][0][f"pass@{k}"] for run in runs]
            final = [run["evals"][-1][f"pass@{k}"] for run in runs]
            row[f"pass@{k}"] = {
                "start": float(np.mean(start)),
                "final_mean": float(np.mean(final)),
                "final_std": float(np.std(final, ddof=1)) if len(final) > 1 else 0.0,
                "final": [float(v) for v in final],
            }
        row["steps"] = runs[0]["evals"][-1]["step"]
        row["train_reward_last10"] = float(
            np.mean([np.mean([t["train_reward"] for t in run["train"][-10:]]) for run in runs])
        )
        row["samples_per_s"] = float(
            np.mean([np.mean([t["samples_per_s"] for t in run["train"]]) for run in runs])
        )
        row["tokens_per_s"] = float(
            np.mean([np.mean([t["tokens_per_s"] for t in run["train"]]) for run in runs])
        )
        rows.append(row)
    return rows


def _table_html(groups, rows) -> str:
    ks = _ks(next(iter(groups.values()))[0])
    head = "".join(f"<th>pass@{k} start → final</th>" for k in ks)
    body = []
    for row in rows:
        cells = []
        for k in ks:
            cell = row[f"pass@{k}"]
            final = _mean_std(cell["final"])
            cells.append(f"<td>{cell['start']:.3f} → {final}</td>")
        body.append(
            f"<tr><td>{html.escape(row['shaper'])}</td><td>{row['seeds']}</td>{''.join(cells)}"
            f"<td>{row['train_reward_last10']:.3f}</td><td>{row['samples_per_s']:.0f}</td></tr>"
        )
    return (
        "<table><tr><th>shaper</th><th>seeds</th>"
        f"{head}<th>train reward (last 10 steps)</th><th>samples/s</th></tr>"
        + "".join(body)
        + "</table>"
    )


def _img(path: str) -> str:
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(os.path.basename(path))}">'


def write_report(
    groups: dict[str, list[dict[str, Any]]], out_dir: str, title: str, notes: str = ""
) -> str:
    """Write a report of runs: one PNG per curve, ``summary.json`` and a self-contained ``report.html``.

    Args:
        groups: label -> runs (:func:`load_run`'s dicts).
        out_dir: an existing folder to write into.
        title: the page's title.
        notes: HTML put under the title.

    Returns:
        The path of ``report.html`` (which embeds the PNGs).

    Example:
        >>> def run(final):  # what load_run returns, in short
        ...     return {"config": {"args": {"eval_ks": [1, 2]}, "shaper": {"spec": "grpo"}},
        ...             "evals": [{"step": 0, "samples": 0, "pass@1": 0.2, "pass@2": 0.3},
        ...                       {"step": 10, "samples": 640, "pass@1": final, "pass@2": 0.5}],
        ...             "train": [{"step": 10, "samples": 640, "train_reward": 0.3,
        ...                        "entropy": 1.2, "samples_per_s": 100.0, "tokens_per_s": 400.0}]}
        >>> groups = {"grpo": [run(0.4), run(0.5)]}  # one shaper, two seeds
        >>> import os
        >>> from advshape.lm.report import write_report
        >>> os.makedirs("report")
        >>> write_report(groups, "report", "two seeds of grpo")
        'report/report.html'
        >>> sorted(os.listdir("report"))[:3]
        ['entropy.png', 'pass_at_1.png', 'pass_at_2.png']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (held-out Pass@K, Sec. 1.1.2).
    """
    ks = _ks(next(iter(groups.values()))[0])
    pngs = []
    for k in ks:
        path = os.path.join(out_dir, f"pass_at_{k}.png")
        plot_metric(groups, f"pass@{k}", path, f"held-out Pass@{k}")
        pngs.append(path)
    for metric in ("train_reward", "entropy"):
        path = os.path.join(out_dir, f"{metric}.png")
        plot_metric(groups, metric, path, metric.replace("_", " "))
        pngs.append(path)
    rows = summary_rows(groups)
    write_text_atomic(
        os.path.join(out_dir, "summary.json"), json.dumps(rows, indent=2, sort_keys=True)
    )
    page = (
        "<!doctype html><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1150px;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;"
        "font-size:13px}img{width:370px}</style>"
        f"<h1>{html.escape(title)}</h1>{notes}"
        "<h2>Final values (mean ± std over seeds)</h2>"
        + _table_html(groups, rows)
        + "<h2>Curves (mean over seeds; band: min to max)</h2>"
        + "".join(_img(p) for p in pngs)
    )
    path = os.path.join(out_dir, "report.html")
    write_text_atomic(path, page)
    return path


def write_run_report(run_dir: str) -> str:
    """The report of one run, written into its folder (``advshape train`` does at the end).

    Args:
        run_dir: the run folder.

    Returns:
        The path of its ``report.html``.

    Example:
        >>> import json, os
        >>> os.makedirs("finished")
        >>> with open("finished/config.json", "w") as f:
        ...     json.dump({"args": {"eval_ks": [1, 2]}, "shaper": {"spec": "grpo"}}, f)
        >>> records = [{"kind": "eval", "step": 0, "samples": 0, "pass@1": 0.2, "pass@2": 0.3},
        ...            {"kind": "train", "step": 10, "samples": 640, "train_reward": 0.3,
        ...             "entropy": 1.2, "samples_per_s": 100.0, "tokens_per_s": 400.0},
        ...            {"kind": "eval", "step": 10, "samples": 640, "pass@1": 0.4, "pass@2": 0.5}]
        >>> with open("finished/metrics.jsonl", "w") as f:
        ...     f.writelines(json.dumps(r) + "\\n" for r in records)
        >>> from advshape.lm.report import write_run_report
        >>> write_run_report("finished")
        'finished/report.html'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (held-out Pass@K, Sec. 1.1.2).
    """
    run = load_run(run_dir)
    label = run["config"]["shaper"]["spec"]
    return write_report({label: [run]}, run_dir, f"advshape train: {label}")


# ----------------------------------------------------------------------------- comparison

_STYLE = (
    "<style>body{font-family:sans-serif;max-width:1150px;margin:auto}"
    "table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 6px;"
    "font-size:13px}img{width:370px}.ok{color:#070}.no{color:#a00}</style>"
)


def _settings_html(summary: dict[str, Any]) -> str:
    a = summary["settings"]
    versions = ", ".join(f"{k} {v}" for k, v in summary["versions"].items())
    return (
        f"<p>task <b>{html.escape(summary['task'])}</b> (task seed {summary['task_seed']}), "
        f"a {summary['n_parameters']:,}-parameter Llama; warm start: {a['warmstart_steps']} SFT "
        f"steps × {a['warmstart_batch_size']}. RL: B = {a['prompts_per_step']} prompts × N = "
        f"{a['samples_per_prompt']} samples per step, {a['steps']} steps, lr {a['lr']}, loss "
        f"aggregation {a['loss_aggregation']}, ppo epochs {a['ppo_epochs']}. Held-out: "
        f"{a['eval_problems']} problems × n = {a['eval_samples']} samples, classes "
        f"{', '.join(summary['classes'])}. Versions: {html.escape(versions)}.</p>"
    )


def _probe_html(probe: dict[str, Any]) -> str:
    top = f"pass@{probe['k']}"
    classes = list(probe["rows"][0]["by_class"])
    head = "".join(f"<th>{c} pass@1</th><th>{c} {top}</th>" for c in classes)
    rows = []
    for r in probe["rows"]:
        cells = "".join(
            f"<td>{r['by_class'][c]['pass@1']:.3f}</td><td>{r['by_class'][c][top]:.3f}</td>"
            for c in classes
        )
        rows.append(
            f"<tr><td>{r['temperature']:g}</td><td>{r['pooled']['pass@1']:.3f}</td>"
            f"<td>{r['pooled'][top]:.3f}</td>{cells}</tr>"
        )
    words = "".join(f"<li>{html.escape(w)}</li>" for w in probe["words"])
    return (
        "<table><tr><th>temperature</th><th>pass@1</th>"
        f"<th>{top}</th>{head}</tr>{''.join(rows)}</table><ul>{words}</ul>"
    )


def _claims_html(claims: list[dict[str, Any]]) -> str:
    items = []
    for c in claims:
        mark = "<b class='ok'>holds</b>" if c["holds"] else "<b class='no'>does not hold</b>"
        items.append(
            f"<li>{html.escape(c['claim'])}: {mark}. <small>{html.escape(c['evidence'])}</small>"
            "</li>"
        )
    return f"<ul>{''.join(items)}</ul>"


def _interval_cell(d: dict[str, float]) -> str:
    cls = "ok" if d["low"] > 0 else "no" if d["high"] < 0 else ""
    return f"<td class='{cls}'>{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]</td>"


def _paired_html(paired: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>seed {s}</th>" for s in paired[0]["seeds"])
    rows = [
        f"<tr><td>{html.escape(r['shaper'])}</td><td>{html.escape(r['against'])}</td>"
        f"<td>{r['metric']}</td><td>{html.escape(r['class'])}</td>"
        + "".join(_interval_cell(d) for d in r["per_seed"])
        + _interval_cell(r["pooled"])
        + "</tr>"
        for r in paired
    ]
    return (
        "<table><tr><th>shaper</th><th>minus</th><th>metric</th><th>class</th>"
        f"{head}<th>pooled over seeds</th></tr>{''.join(rows)}</table>"
    )


def _mean_values(
    summary: dict[str, Any], metrics: list[str], stages: tuple[str, ...]
) -> list[tuple[str, str, list[float]]]:
    """(shaper, stage, values) per table row: each metric pooled, then pass@1 and pass@K per
    class, means over the shaper's seeds. The warm start ("start") is one row, the first."""
    top = f"pass@{summary['k']}"
    shapers = list(dict.fromkeys(r["shaper"] for r in summary["runs"]))
    rows = []
    for spec in shapers:
        runs = [r for r in summary["runs"] if r["shaper"] == spec]
        for stage in stages:
            if stage == "start" and spec != shapers[0]:
                continue  # every run starts from the same warm start
            values = [float(np.mean([r[stage][m] for r in runs])) for m in metrics]
            values += [
                float(np.mean([r["by_class"][c][stage][m] for r in runs]))
                for c in summary["classes"]
                for m in ("pass@1", top)
            ]
            rows.append((spec, stage, values))
    return rows


def _values_html(summary: dict[str, Any]) -> str:
    top = f"pass@{summary['k']}"
    final = summary["runs"][0]["final"]
    ks = [k for k in ("pass@1", "pass@2", "pass@4", "pass@8", "pass@16") if k in final]
    head = "".join(f"<th>{k}</th>" for k in ks) + "".join(
        f"<th>{c} pass@1</th><th>{c} {top}</th>" for c in summary["classes"]
    )
    rows = []
    for spec, stage, values in _mean_values(summary, ks, ("start", "middle", "final")):
        label = "warm start" if stage == "start" else f"{spec}, {stage}"
        cells = "".join(f"<td>{v:.3f}</td>" for v in values)
        rows.append(f"<tr><td>{html.escape(label)}</td>{cells}</tr>")
    return f"<table><tr><th>run (mean over seeds)</th>{head}</tr>{''.join(rows)}</table>"


def summary_markdown(summary: dict[str, Any]) -> str:
    """The comparison's headline numbers as Markdown (``summary.md``; the README quotes it)."""
    top = f"pass@{summary['k']}"
    classes = summary["classes"]
    probe = summary["probe"]
    lines = [
        f"Task `{summary['task']}` (task seed {summary['task_seed']}), seeds "
        f"{sorted({r['seed'] for r in summary['runs']})}; versions: "
        + ", ".join(f"{k} {v}" for k, v in summary["versions"].items()),
        "",
        "Headroom of the warm start (held-out):",
        "",
        "| temperature | pass@1 | "
        + top
        + " | "
        + " | ".join(f"{c} pass@1 | {c} {top}" for c in classes)
        + " |",
        "|---" * (3 + 2 * len(classes)) + "|",
    ]
    for r in probe["rows"]:
        cells = [f"{r['temperature']:g}", f"{r['pooled']['pass@1']:.3f}", f"{r['pooled'][top]:.3f}"]
        cells += [f"{r['by_class'][c][m]:.3f}" for c in classes for m in ("pass@1", top)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *(f"- {w}" for w in probe["words"]), ""]
    final = summary["runs"][0]["final"]
    shown = [m for m in dict.fromkeys(("pass@1", "pass@4", top)) if m in final]
    lines += [
        "Held-out Pass@K, mean over seeds (start: the shared warm start; final: the last step):",
        "",
        "| run | "
        + " | ".join(shown)
        + " | "
        + " | ".join(f"{c} pass@1 | {c} {top}" for c in classes)
        + " |",
        "|---" * (1 + len(shown) + 2 * len(classes)) + "|",
    ]
    for spec, stage, values in _mean_values(summary, shown, ("start", "final")):
        label = "warm start" if stage == "start" else f"`{spec}`"
        lines.append(f"| {label} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    lines += ["", "What holds (95% bootstrap intervals over problems; per seed, then pooled):", ""]
    for c in summary["claims"]:
        lines.append(
            f"- {c['claim']}: **{'holds' if c['holds'] else 'does not hold'}**. {c['evidence']}"
        )
    return "\n".join(lines) + "\n"


def write_comparison_report(groups, summary: dict[str, Any], out_dir: str) -> str:
    """``summary.json``, PNG curves and ``report.html`` of a comparison; returns the HTML path."""
    top = f"pass@{summary['k']}"
    metrics = ["pass@1", top]
    metrics += [
        f"{c}:{m}"
        for c in summary["classes"]
        if len(summary["classes"]) > 1
        for m in ("pass@1", top)
    ]
    pngs = []
    for metric in [*metrics, "train_reward", "entropy"]:
        path = os.path.join(out_dir, metric.replace(":", "_").replace("@", "_at_") + ".png")
        title = metric.replace(":", " class, held-out ").replace("_", " ")
        plot_metric(groups, metric, path, title if ":" in metric else f"held-out {title}")
        pngs.append(path)
    # The headline: pass@1, pass@K and the hardest class's pass@K, side by side.
    headline = [("pass@1", "held-out pass@1"), (top, f"held-out {top}")]
    if len(summary["classes"]) > 1:
        hardest = summary["classes"][-1]
        headline.append((f"{hardest}:{top}", f"{hardest} class, held-out {top}"))
    plot_metrics(groups, headline, os.path.join(out_dir, "headline.png"))
    write_text_atomic(
        os.path.join(out_dir, "summary.json"), json.dumps(summary, indent=2, sort_keys=True)
    )
    write_text_atomic(os.path.join(out_dir, "summary.md"), summary_markdown(summary))
    method = html.escape(stats.__doc__.split("\n\n", 1)[1])
    page = (
        "<!doctype html><meta charset='utf-8'><title>advshape compare</title>"
        + _STYLE
        + "<h1>advshape compare</h1>"
        + _settings_html(summary)
        + "<h2>1. Headroom of the warm start (before RL)</h2>"
        + _probe_html(summary["probe"])
        + "<h2>2. What holds</h2>"
        + _claims_html(summary["claims"])
        + "<h2>3. Held-out Pass@K</h2>"
        + _values_html(summary)
        + "<h2>4. Paired differences (95% intervals)</h2>"
        + f"<p><small>{method}</small></p>"
        + _paired_html(summary["paired"])
        + "<h2>5. Curves (mean over seeds; band: min to max)</h2>"
        + "".join(_img(p) for p in pngs)
    )
    path = os.path.join(out_dir, "report.html")
    write_text_atomic(path, page)
    return path
