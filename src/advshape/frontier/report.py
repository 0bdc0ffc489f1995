"""``report.html`` (and ``summary.md``) of a frontier: verdicts, the Pareto plot, curves, the
table of points.

Everything is drawn from ``frontier.json`` alone, so a report can be redrawn from that file.
The Pareto plot has one point per spec at its final held-out (pass@1, pass@K), with 95%
intervals on both axes; each family's points are joined in the order of its knob's values;
the fixed-K frontier is the thick grey line with the region it dominates shaded; the star is
the shared start.
"""

from __future__ import annotations

import base64
import html
import os
from typing import Any

from advshape._files import atomic_write, write_text_atomic

__all__ = ["pareto_figure", "summary_markdown", "write_report"]


def _savefig(fig, path: str) -> None:
    from functools import partial

    atomic_write(path, partial(fig.savefig, format="png", dpi=110, bbox_inches="tight"), mode="wb")


def _colors(families: list[dict[str, Any]]) -> dict[str, Any]:
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return {f["text"]: cmap(i % 20) for i, f in enumerate(families)}


def _short(spec: str, family: dict[str, Any]) -> str:
    if family["knob"] is None:
        return spec
    value = family["values"][family["specs"].index(spec)]
    return f"{family['knob']}={value}"


def pareto_figure(summary: dict[str, Any], start: str, path: str) -> None:
    """Draw the Pareto plot of one start of ``frontier.json`` into ``path`` (PNG).

    Args:
        summary: the content of ``frontier.json``.
        start: which start to draw.
        path: where to write the PNG.

    Example:
        >>> import json, os, tempfile
        >>> from advshape.frontier.report import pareto_figure
        >>> from advshape.frontier.run import FrontierConfig, run_frontier
        >>> out = tempfile.mkdtemp()
        >>> _ = run_frontier(FrontierConfig(testbed="digits", family=("grpo_k:k={1,4}",),
        ...     starts=("weak",), steps=4, eval_points=2, resamples=100, out=out, progress=False,
        ...     jobs=1))
        >>> summary = json.load(open(os.path.join(out, "frontier.json")))
        >>> pareto_figure(summary, "weak", os.path.join(out, "again.png"))
        >>> os.path.getsize(os.path.join(out, "again.png")) > 0
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the 0/1 and Pass@K rewards, Sec. 1.1; shaping for both, Sec. 6.1).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = summary["k"]
    pk = f"pass@{k}"
    data = summary["starts"][start]
    entries = data["specs"]
    colors = _colors(summary["families"])
    fig, ax = plt.subplots(figsize=(9.5, 6.8))
    vertices = data["frontier"]["vertices"]
    if vertices:
        xs = [v[0] for v in vertices]
        ys = [v[1] for v in vertices]
        ax.fill_between(
            [0.0, *xs],
            [ys[0], *ys],
            0,
            color="0.85",
            alpha=0.5,
            lw=0,
            zorder=0,
            label="dominated by mixtures of fixed-K runs",
        )
        ax.plot(xs, ys, color="0.35", lw=3.5, alpha=0.6, zorder=1, label="fixed-K frontier")
    for family in summary["families"]:
        members = [s for s in family["specs"] if s in entries]
        if not members:
            continue
        color = colors[family["text"]]
        x = [entries[s]["final"]["pass@1"]["mean"] for s in members]
        y = [entries[s]["final"][pk]["mean"] for s in members]
        if len(members) > 1:
            ax.plot(x, y, "-", color=color, lw=1.2, alpha=0.9, zorder=2)
        for s, xi, yi in zip(members, x, y, strict=True):
            f1, fk = entries[s]["final"]["pass@1"], entries[s]["final"][pk]
            ax.errorbar(
                xi,
                yi,
                xerr=[[xi - f1["low"]], [f1["high"] - xi]],
                yerr=[[yi - fk["low"]], [fk["high"] - yi]],
                fmt="none",
                ecolor=color,
                alpha=0.35,  # light: the points and curves stay readable through the bars
                elinewidth=0.8,
                capsize=1.5,
                zorder=2,
            )
            ax.plot(xi, yi, "o", ms=4.5, color=color, zorder=3)
            ax.annotate(
                _short(s, family),
                (xi, yi),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=6.5,
                color=color,
            )
        ax.plot([], [], "o-", color=color, label=family["text"])
    # Zoom on the trained points; the start, often far below, is pointed at from the corner.
    lows_x = [e["final"]["pass@1"]["low"] for e in entries.values()]
    highs_x = [e["final"]["pass@1"]["high"] for e in entries.values()]
    lows_y = [e["final"][pk]["low"] for e in entries.values()]
    highs_y = [e["final"][pk]["high"] for e in entries.values()]
    pad_x = 0.08 * (max(highs_x) - min(lows_x) or 0.1)
    pad_y = 0.08 * (max(highs_y) - min(lows_y) or 0.1)
    xlim = (min(lows_x) - pad_x, max(highs_x) + pad_x)
    ylim = (min(lows_y) - pad_y, max(highs_y) + pad_y)
    sp = data["start_point"]
    label = f"start (before RL): pass@1 {sp['pass@1']:.3f}, {pk} {sp[pk]:.3f}"
    if xlim[0] <= sp["pass@1"] <= xlim[1] and ylim[0] <= sp[pk] <= ylim[1]:
        ax.plot(sp["pass@1"], sp[pk], "*", ms=13, color="k", zorder=4, label=label)
    else:
        corner = (
            min(max(sp["pass@1"], xlim[0]), xlim[1]),
            min(max(sp[pk], ylim[0]), ylim[1]),
        )
        ax.annotate(
            "",
            xy=corner,
            xytext=(
                corner[0] + 0.06 * (xlim[1] - xlim[0]) * (1 if corner[0] == xlim[0] else -1),
                corner[1] + 0.06 * (ylim[1] - ylim[0]) * (1 if corner[1] == ylim[0] else -1),
            ),
            arrowprops={"arrowstyle": "->", "color": "k"},
        )
        ax.plot([], [], "*", ms=10, color="k", label=label + " (off the plot: arrow)")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("held-out pass@1 (final)")
    ax.set_ylabel(f"held-out {pk} (final)")
    ax.set_title(
        f"{summary['testbed']} ({start} start): pass@1 against {pk}, "
        f"{len(summary['seeds'])} seeds, 95% intervals over seeds and problems",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    _savefig(fig, path)
    plt.close(fig)


def _curves_figure(summary: dict[str, Any], start: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pk = f"pass@{summary['k']}"
    entries = summary["starts"][start]["specs"]
    colors = _colors(summary["families"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    styles = ["-", "--", ":", "-."]
    for family in summary["families"]:
        members = [s for s in family["specs"] if s in entries]
        for i, spec in enumerate(members):
            curve = entries[spec]["curve"]
            x = [c["samples"] for c in curve]
            for ax, metric in zip(axes, ("pass@1", pk), strict=True):
                ax.plot(
                    x,
                    [c[metric] for c in curve],
                    styles[i % 4],
                    color=colors[family["text"]],
                    lw=1.1,
                    label=spec if metric == "pass@1" else None,
                )
    for ax, metric in zip(axes, ("pass@1", pk), strict=True):
        ax.set_xlabel("training samples")
        ax.set_ylabel(f"held-out {metric} (mean over seeds)")
        ax.grid(alpha=0.3)
        ax.set_title(f"{metric} over training ({start} start)", fontsize=10)
    fig.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    _savefig(fig, path)
    plt.close(fig)


def _img(path: str) -> str:
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(os.path.basename(path))}">'


def _cell(d: dict[str, float] | None, signed: bool = False) -> str:
    if not d:
        return "—"
    f = "+.3f" if signed else ".3f"
    return f"{d['mean']:{f}} [{d['low']:{f}}, {d['high']:{f}}]"


def _claims_html(claims: list[dict[str, Any]]) -> str:
    if not claims:
        return "<p>No claim applies to these specs.</p>"
    items = []
    for c in claims:
        verdict = c["verdict"]
        color = {"holds": "#17703a", "does not hold": "#a11"}.get(verdict, "#555")
        items.append(
            f"<li><b>{html.escape(c['subject'])}</b> ({html.escape(c['start'])} start) — "
            f"{html.escape(c['claim'])}: <b style='color:{color}'>{verdict}</b>. "
            f"{html.escape(c['evidence'])}</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def _table_html(summary: dict[str, Any], start: str) -> str:
    pk = f"pass@{summary['k']}"
    data = summary["starts"][start]
    ref = data["reference"]
    rows = []
    for spec in _ordered(summary, start):
        e = data["specs"][spec]
        vs = e.get("vs_reference") or {}
        settled = all(e["settled"][m].get("settled") for m in ("pass@1", pk))
        gap = e["gap"]
        gap_text = (
            _cell(gap, signed=True) + (f" ({gap['where']})" if gap and gap["where"] != "on" else "")
            if gap
            else "frontier"
            if e["fixed_k"]
            else "—"
        )
        rows.append(
            f"<tr><td>{html.escape(spec + _alias_note(summary, spec).replace('`', ''))}</td>"
            f"<td>{_cell(e['final']['pass@1'])}</td>"
            f"<td>{_cell(e['final'][pk])}</td><td>{gap_text}</td>"
            f"<td>{_cell(vs.get('pass@1'), True)}</td><td>{_cell(vs.get(pk), True)}</td>"
            f"<td>{'yes' if settled else 'no'}</td><td>{e['seconds']:.1f}</td></tr>"
        )
    return (
        f"<table><tr><th>spec</th><th>pass@1</th><th>{pk}</th><th>gap to the fixed-K frontier "
        f"({pk})</th><th>Δ pass@1 vs {html.escape(str(ref))}</th><th>Δ {pk} vs "
        f"{html.escape(str(ref))}</th><th>settled</th><th>s per run</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _ordered(summary: dict[str, Any], start: str) -> list[str]:
    """The start's specs in the order of the families (frontier.json's keys are sorted)."""
    entries = summary["starts"][start]["specs"]
    order = [s for f in summary["families"] for s in f["specs"] if s in entries]
    return list(dict.fromkeys(order + sorted(entries)))


def _alias_note(summary: dict[str, Any], spec: str) -> str:
    first = summary.get("aliases", {}).get(spec)
    return f" (= `{first}`: the same shaper, one run)" if first else ""


def _md(d: dict[str, float] | None, signed: bool = False) -> str:
    return _cell(d, signed) if d else "—"


def summary_markdown(summary: dict[str, Any]) -> str:
    """``summary.md``: per start, the verdicts and a table of the final points.

    This is the text the docs quote.

    Args:
        summary: the content of ``frontier.json``.

    Returns:
        Markdown text.

    Example:
        >>> import json, os, tempfile
        >>> from advshape.frontier.report import summary_markdown
        >>> from advshape.frontier.run import FrontierConfig, run_frontier
        >>> out = tempfile.mkdtemp()
        >>> _ = run_frontier(FrontierConfig(testbed="digits", family=("grpo", "maxrl"),
        ...     starts=("weak",), steps=2, eval_points=1, resamples=100, out=out, progress=False,
        ...     jobs=1))
        >>> summary_markdown(json.load(open(os.path.join(out, "frontier.json")))).splitlines()[0]
        '# advshape frontier: digits testbed, pass@1 against pass@4'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the 0/1 and Pass@K rewards, Sec. 1.1; shaping for both, Sec. 6.1).
    """
    k = summary["k"]
    pk = f"pass@{k}"
    versions = ", ".join(f"{name} {v}" for name, v in summary.get("versions", {}).items())
    lines = [
        f"# advshape frontier: {summary['testbed']} testbed, pass@1 against {pk}",
        "",
        f"Seeds {summary['seeds']}; versions: {versions}. Intervals: 95%, hierarchical bootstrap "
        f"over seeds and problems ({summary['bootstrap']['design']}, "
        f"{summary['bootstrap']['resamples']} resamples).",
    ]
    if summary["claims"]:
        lines += ["", "## Across starts", ""]
        lines += [
            f"- **{c['subject']}**: {c['verdict']}. {c['evidence']}" for c in summary["claims"]
        ]
    for start, data in summary["starts"].items():
        ref = data["reference"]
        sp = data["start_point"]
        lines += [
            "",
            f"## {start} start",
            "",
            f"Start (before RL): pass@1 {sp['pass@1']:.3f}, {pk} {sp[pk]:.3f}; "
            f"{data['problems']} held-out problems; evaluations at steps {data['steps']}.",
            "",
        ]
        lines += [
            f"- **{c['subject']}** ({c['claim'].split(' (')[0]}): {c['verdict']}. {c['evidence']}"
            for c in data["claims"]
        ]
        lines += [
            "",
            f"| spec | pass@1 | {pk} | gap to the fixed-K frontier | Δ pass@1 vs {ref} | "
            f"Δ {pk} vs {ref} | pass@1, mean over training |",
            "|---|---|---|---|---|---|---|",
        ]
        for spec in _ordered(summary, start):
            e = data["specs"][spec]
            vs = e.get("vs_reference") or {}
            gap = e["gap"]
            gap_text = (
                _md(gap, True) + (f" ({gap['where']})" if gap["where"] != "on" else "")
                if gap
                else "frontier point"
            )
            lines.append(
                f"| `{spec}`{_alias_note(summary, spec)} | {_md(e['final']['pass@1'])} | {_md(e['final'][pk])} | {gap_text} | "
                f"{_md(vs.get('pass@1'), True)} | {_md(vs.get(pk), True)} | "
                f"{_md(e.get('mean_over_training', {}).get('pass@1'))} |"
            )
    return "\n".join(lines) + "\n"


def write_report(summary: dict[str, Any], out: str) -> str:
    """Write ``pareto-<start>.png``, ``curves-<start>.png`` and ``report.html`` into ``out``.

    Args:
        summary: the content of ``frontier.json``.
        out: the frontier's folder.

    Returns:
        The path of ``report.html``.

    Example:
        >>> import json, os, tempfile
        >>> from advshape.frontier.report import write_report
        >>> from advshape.frontier.run import FrontierConfig, run_frontier
        >>> out = tempfile.mkdtemp()
        >>> _ = run_frontier(FrontierConfig(testbed="digits", family=("grpo",), starts=("weak",),
        ...     steps=2, eval_points=1, resamples=100, out=out, progress=False, jobs=1))
        >>> summary = json.load(open(os.path.join(out, "frontier.json")))
        >>> os.path.basename(write_report(summary, out))
        'report.html'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the 0/1 and Pass@K rewards, Sec. 1.1; shaping for both, Sec. 6.1).
    """
    pk = f"pass@{summary['k']}"
    sections = []
    for start in summary["starts"]:
        pareto_png = os.path.join(out, f"pareto-{start}.png")
        curves_png = os.path.join(out, f"curves-{start}.png")
        pareto_figure(summary, start, pareto_png)
        _curves_figure(summary, start, curves_png)
        data = summary["starts"][start]
        sections.append(
            f"<h2>{html.escape(start)} start</h2>"
            f"<p>Start (before RL): pass@1 {data['start_point']['pass@1']:.3f}, {pk} "
            f"{data['start_point'][pk]:.3f}. {data['seeds']} seeds × {data['problems']} held-out "
            f"problems ({data['design']} bootstrap); evaluations at steps {data['steps']}.</p>"
            "<h3>Verdicts</h3>"
            + _claims_html(data["claims"])
            + "<h3>Pareto plot</h3>"
            + _img(pareto_png)
            + "<h3>Final points (95% intervals over seeds and problems)</h3>"
            + _table_html(summary, start)
            + "<h3>Curves over training</h3>"
            + _img(curves_png)
        )
    versions = ", ".join(f"{k} {v}" for k, v in summary.get("versions", {}).items())
    timing = summary["timing"]
    page = (
        "<!doctype html><meta charset='utf-8'>"
        f"<title>advshape frontier: {html.escape(summary['testbed'])}</title>"
        "<style>body{font-family:sans-serif;max-width:1250px;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;"
        "font-size:12px}img{max-width:100%}li{margin:4px 0}</style>"
        f"<h1>Frontier of pass@1 against {pk}: {html.escape(summary['testbed'])} testbed</h1>"
        f"<p>{len(summary['families'])} families, seeds {summary['seeds']}; versions: "
        f"{html.escape(versions)}. {timing['runs']} runs ({timing['runs_made']} made by this "
        f"invocation, {timing['seconds']:.0f} s). Intervals: hierarchical percentile bootstrap, "
        f"seeds drawn with replacement and problems within them ({summary['bootstrap']['resamples']} "
        "resamples). The gap of a spec is its pass@K minus the fixed-K frontier's at its pass@1 "
        "(the frontier: the upper boundary of all mixtures of fixed-K runs; docs/frontier.md).</p>"
        + ("<h2>Across starts</h2>" + _claims_html(summary["claims"]) if summary["claims"] else "")
        + "".join(sections)
    )
    path = os.path.join(out, "report.html")
    write_text_atomic(path, page)
    write_text_atomic(os.path.join(out, "summary.md"), summary_markdown(summary))
    return path
