"""``advshape list`` and ``advshape show``: the registry and one shaper's scores, as tables."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

FORMATS = ("table", "markdown", "csv", "json")


def _render(headers: list[str], rows: list[list[str]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([dict(zip(headers, r)) for r in rows], indent=2, ensure_ascii=False)
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return buf.getvalue().rstrip("\n")
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    fmt_row = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt_row.format(*headers), fmt_row.format(*("-" * w for w in widths))]
    out += [fmt_row.format(*r) for r in rows]
    return "\n".join(line.rstrip() for line in out)


# What a shaper ascends when it is neither ρ (Pass@1) nor ρ_K: verify rows "MaxRL", "grpo_passk".
_TARGETS = {"maxrl": "log ρ (max. likelihood)", "grpo_passk": "Pass@N (whole group)"}


def registry_table() -> tuple[list[str], list[list[str]]]:
    """The registry as (headers, rows): the README's shaper table is this, as Markdown."""
    import advshape

    headers = [
        "name",
        "shaping",
        "source",
        "equation",
        "target",
        "unbiased",
        "rewards",
        "parameters",
        "advantage scores",
    ]
    rows = []
    for name, entry in advshape.registry().items():
        params = ", ".join(
            p.name + ("" if p.default is advshape.REQUIRED else f"={p.default}")
            for p in entry.params
        )
        has_k = any(p.name == "k" for p in entry.params)
        target = _TARGETS.get(name, "Pass@K" if has_k else "Pass@1")
        rows.append(
            [
                name,
                entry.summary,
                entry.paper,
                entry.equation,
                target,
                "yes" if entry.unbiased else "no",
                "binary" if entry.binary_only else "any real",
                params or "-",
                entry.formula,
            ]
        )
    return headers, rows


def configure_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )


def run_list(args: argparse.Namespace) -> int:
    headers, rows = registry_table()
    if args.format == "table":  # the terminal table leaves out the long columns
        keep = [0, 3, 4, 5, 6, 7, 8]
        headers = [headers[i] for i in keep]
        rows = [[r[i] for i in keep] for r in rows]
    print(_render(headers, rows, args.format))
    return 0


def configure_show(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="shaper spec, e.g. grpo_k:k=4 (see `advshape list`)")
    parser.add_argument("--n", type=int, default=16, help="group size N (default: 16)")
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    parser.add_argument("--digits", type=int, default=6, help="significant digits (default: 6)")


def run_show(args: argparse.Namespace) -> int:
    import advshape

    if args.n < 1:
        raise ValueError(f"--n must be a positive group size, got {args.n}")
    shaper = advshape.shaper(args.spec)
    n_pos = np.arange(args.n + 1)
    a_pos, a_neg = shaper.scores(n_pos, args.n)
    w_pos, w_neg = shaper.weights(n_pos, args.n)
    g = f"{{:.{args.digits}g}}"
    headers = ["N+", "rho_hat", "A+", "A-", "w+", "w-"]
    rows = [
        [
            str(m),
            g.format(m / args.n),
            g.format(a_pos[m]),
            g.format(a_neg[m]),
            g.format(w_pos[m]),
            g.format(w_neg[m]),
        ]
        for m in range(args.n + 1)
    ]
    if args.format == "table":
        info = shaper.info
        print(f"{shaper.spec}: {info.summary}")
        print(f"  {info.formula}   [{info.paper}, {info.equation}]")
        print(
            f"  target Pass@{info.target_k}, {'unbiased' if info.unbiased else 'biased'}, N = {args.n};"
            " update = w+ * grad_+ - w- * grad_-  (A+ at N+ = 0 and A- at N+ = N are never used)"
        )
    print(_render(headers, rows, args.format))
    sys.stdout.flush()
    return 0
