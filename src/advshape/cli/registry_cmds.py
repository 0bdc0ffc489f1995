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


# What a shaper ascends when it is neither ρ (Pass@1) nor ρ_K (the verify rows check each).
_TARGETS = {
    "maxrl": "log ρ (max. likelihood)",
    "grpo_passk": "Pass@N (whole group)",
    "maclaurin": "Σ_{k≤T} Pass@k/k",
    "maclaurin_loo": "Σ_{k≤T} Pass@k/k",
    "maclaurin_cross_fitted": "Σ_{k≤T} Pass@k/k",
    "p_normalization": "log(1 + ρ/ε)",
    "clipped_pnorm": "log ρ, linear below c",
    "one_sided_grpo": "√ρ",
    "linear_r": "Σ_{k≤N} Pass@k/k → log ρ",
    "sqrt_r": "log-type, −∞ at ρ = 0",
    "focal": "Pass@K-like (K ≈ γ + 1)",
    "maxpo": "Pass@K / max@K",
}


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


# Largest group size `show` prints (one row per N+); the registry's formulas hold for any N.
MAX_SHOW_N = 100_000


def configure_show(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "spec",
        help="shaper spec: a registry spec, e.g. grpo_k:k=4 (see `advshape list`), or a "
        "surrogate 'F=EXPR[;Omega=EXPR;lam=X]' / 'surrogate:EXPR[;regularizer=EXPR;lam=X]'",
    )
    parser.add_argument("--n", type=int, default=16, help="group size N (default: 16)")
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    parser.add_argument(
        "--digits",
        type=int,
        default=6,
        help="significant digits of the table, markdown and csv formats (default: 6); "
        "json always prints full precision",
    )


def _json_number(x: float) -> float | None:
    """A float for JSON at full precision (repr round-trips); NaN/inf, which JSON lacks, as null."""
    x = float(x)
    return x if np.isfinite(x) else None


def run_show(args: argparse.Namespace) -> int:
    import advshape
    from advshape._options import count

    count(1, MAX_SHOW_N, why="the group size N of the table").check("--n", args.n)
    count(1, 17, why="a float64 holds 17 significant digits").check("--digits", args.digits)
    try:
        shaper = advshape.shaper(args.spec)
    except (ImportError, ValueError) as err:  # ImportError: e.g. sympy missing for a surrogate
        text = str(err)
        raise ValueError(
            text if repr(args.spec) in text else f"shaper {args.spec!r}: {text}"
        ) from None
    if shaper.scores is None or shaper.weights is None:
        raise ValueError(f"shaper {args.spec!r} is not count-based: it has no table of scores")
    n_pos = np.arange(args.n + 1)
    a_pos, a_neg = shaper.scores(n_pos, args.n)
    w_pos, w_neg = shaper.weights(n_pos, args.n)
    headers = ["N+", "rho_hat", "A+", "A-", "w+", "w-"]
    columns = [n_pos / args.n, a_pos, a_neg, w_pos, w_neg]
    if args.format == "json":
        json_rows = [
            {"N+": m, **{h: _json_number(c[m]) for h, c in zip(headers[1:], columns)}}
            for m in range(args.n + 1)
        ]
        print(json.dumps(json_rows, indent=2))
        sys.stdout.flush()
        return 0
    g = f"{{:.{args.digits}g}}"
    rows = [[str(m), *(g.format(c[m]) for c in columns)] for m in range(args.n + 1)]
    if args.format == "table":
        info = shaper.info
        target = _TARGETS.get(shaper.name)  # neither ρ nor ρ_K: the shaper's own, with its knobs
        if target is None:
            target = f"Pass@{info.target_k}"
        elif shaper.params:
            target += " (" + ", ".join(f"{k} = {v}" for k, v in shaper.params.items()) + ")"
        print(f"{shaper.spec}: {info.summary}")
        print(f"  {info.formula}   [{info.paper}, {info.equation}]")
        print(
            f"  target {target}, {'unbiased' if info.unbiased else 'biased'}, N = {args.n};"
            " update = w+ * grad_+ - w- * grad_-  (A+ at N+ = 0 and A- at N+ = N are never used)"
        )
    print(_render(headers, rows, args.format))
    sys.stdout.flush()
    return 0
