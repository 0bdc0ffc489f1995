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

from advshape._files import read_json, write_text_atomic
from advshape.lm.train import read_jsonl


def load_run(run_dir: str) -> dict[str, Any]:
    config = read_json(
        os.path.join(run_dir, "config.json"), fix="delete the run folder and rerun it"
    )
    records = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for label, runs in groups.items():
        source = (
            "train" if metric in ("train_reward", "entropy", "zero_variance_groups") else "evals"
        )
        curves = [[(r["samples"], r[metric]) for r in run[source]] for run in runs]
        length = min(len(c) for c in curves)
        if length == 0:
            continue
        x = np.array([p[0] for p in curves[0][:length]])
        y = np.array([[p[1] for p in c[:length]] for c in curves])
        (line,) = ax.plot(x, y.mean(0), label=f"{label} ({len(runs)} seeds)")
        if len(runs) > 1:
            ax.fill_between(x, y.min(0), y.max(0), color=line.get_color(), alpha=0.15)
    ax.set_xlabel("training samples (prompts × responses)")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    _savefig_atomic(fig, path)
    plt.close(fig)


def _mean_std(values: Sequence[float]) -> str:
    import numpy as np

    v = np.asarray(values, dtype=float)
    if len(v) == 1:
        return f"{v[0]:.3f}"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}"


def summary_rows(groups: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per group: start and final Pass@K (mean, std over seeds) and throughput."""
    import numpy as np

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
    """Write PNGs, ``summary.json`` and ``report.html`` into ``out_dir``; return the HTML path."""
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
    run = load_run(run_dir)
    label = run["config"]["shaper"]["spec"]
    return write_report({label: [run]}, run_dir, f"advshape train: {label}")
