"""``advshape verify``, ``advshape table`` and ``advshape plot``: surrogate rewards on the command line.

Nothing heavy is imported here at module level: SymPy, SciPy and matplotlib load in ``run_*``.
"""

from __future__ import annotations

import argparse
import os
import sys

from advshape.cli import UsageError

PLOT_TARGETS = ("fig1", "fig2", "fig3", "fig4", "fig5", "weights", "surrogate")
# Largest group size of `table` and `plot` (exact finite-N sums over N+ = 0..N per point).
MAX_N = 10_000


def configure_verify(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Checks Claims 1-3, Corollary 1, Eq. (26), App. C.1-C.4 and exact finite-N "
        "unbiasedness; exits 1 if any check fails."
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only failures and the summary line"
    )


def run_verify(args: argparse.Namespace) -> int:
    from advshape.surrogates.verify import run_checks

    print(f"{'':4}  {'claim':<12} {'worst err':>9}  {'tol':>7}  compared")

    def report(check) -> None:
        if args.quiet and check.passed:
            return
        status = "PASS" if check.passed else "FAIL"
        tol = "trend" if check.tolerance is None else f"{check.tolerance:.0e}"
        print(f"{status:4}  {check.claim:<12} {check.error:9.1e}  {tol:>7}  {check.compared}")
        if check.note:
            print(f"{'':4}  {'':<12} {'':9}  {'':7}  ({check.note})")
        sys.stdout.flush()

    checks, seconds = run_checks(report)
    failed = [c for c in checks if not c.passed]
    print(
        f"{len(checks)} checks: {len(checks) - len(failed)} passed, {len(failed)} failed ({seconds:.1f} s)"
    )
    return 1 if failed else 0


def configure_table(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--k", type=int, default=4, help="K of the Pass@K rows (default 4)")
    parser.add_argument(
        "--n", type=int, default=16, help="group size N where the weights column is checked"
    )
    parser.add_argument(
        "--paper-only", action="store_true", help="only the six rows of the paper's Table 1"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--verl",
        action="store_true",
        help="add the installed verl's outcome estimators, explained at --n (advshape explain)",
    )
    parser.add_argument(
        "--trainers",
        action="store_true",
        help="add other trainers' own GRPO and outcome estimators (NeMo-RL, prime-rl, OpenRLHF, "
        "slime, ms-swift, AReaL, SkyRL), each beside its nearest registry shaper, with flags",
    )


def _verl_section(n: int, markdown: bool) -> str:
    try:
        import verl
    except ImportError as err:
        raise UsageError(f"--verl needs verl installed ({err}): pip install verl") from err
    from advshape.integrations.probes import verl_rows

    rows = verl_rows(n)
    title = (
        f"verl {getattr(verl, '__version__', '?')}'s estimators, explained at N = {n} (each group "
        "alone in its batch; `advshape explain verl:NAME` for the details). distance = min over "
        "c > 0 of max |A − c·A_reg| / max |A|."
    )
    head = [
        "verl estimator",
        "checks",
        "nearest registry shaper",
        "distance",
        "scale c",
        "surrogate F(ρ)",
        "group of one",
    ]
    body = [
        [
            f"verl:{r.name}",
            r.checks,
            r.nearest,
            f"{r.distance:.0e}",
            f"{r.scale:.4g}",
            r.surrogate,
            r.group_of_one,
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return title + "\n\n" + "\n".join(lines)
    lines = [title, ""]
    for cells in body:
        lines.append(f"{cells[0]}  [{cells[1]}]")
        lines.append(f"  nearest {cells[2]} (distance {cells[3]}, c = {cells[4]}); F: {cells[5]}")
        lines.append(f"  group of one: {cells[6]}")
    return "\n".join(lines)


def run_table(args: argparse.Namespace) -> int:
    from advshape._options import count
    from advshape.surrogates.table import compute_table, render_markdown, render_text

    count(1, MAX_N, why="the K of the Pass@K rows").check("--k", args.k)
    lowest = max(2, args.k)
    count(lowest, MAX_N, why=f"N >= max(2, K) = {lowest} responses per group").check("--n", args.n)
    rows = compute_table(k=args.k, n=args.n, paper_only=args.paper_only)
    render = render_markdown if args.markdown else render_text
    print(render(rows, args.k, args.n))
    if args.verl:
        print()
        print(_verl_section(args.n, args.markdown))
    if args.trainers:
        from advshape.cli.explain_cmds import trainers_section

        print()
        print(trainers_section(args.n, args.markdown))
    bad = [r for r in rows if r.surrogate_error > 1e-6 or r.weights_error > 1e-12]
    return 1 if bad else 0


def configure_plot(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        choices=PLOT_TARGETS,
        help="a paper figure (fig1..fig5), or weights/surrogate for the shapers given as SPEC",
    )
    parser.add_argument(
        "specs",
        nargs="*",
        metavar="SPEC",
        help="shapers for weights/surrogate: registry specs ('grpo_k:k=4') or surrogates "
        "'F=EXPR' / 'F=EXPR;Omega=EXPR;lam=X' (forward-engineered)",
    )
    parser.add_argument("--out", default="figures", help="output folder (default ./figures)")
    parser.add_argument("--n", type=int, default=16, help="group size N (weights, F_N; default 16)")
    parser.add_argument("--name", default=None, help="file stem for weights/surrogate plots")


def run_plot(args: argparse.Namespace) -> int:
    import advshape
    from advshape._files import check_output_dir
    from advshape._options import count

    check_output_dir("--out", args.out)
    count(2, MAX_N, why="the group size N of the weights and F_N").check("--n", args.n)
    if args.name is not None and (
        not args.name.strip()
        or os.sep in args.name
        or args.name in (".", "..")
        or (os.altsep and os.altsep in args.name)
    ):
        raise UsageError(
            f"--name must be a plain file stem without folders, got {args.name!r}; "
            "put the folder in --out"
        )
    if args.what.startswith("fig"):
        if args.specs:
            raise UsageError(f"{args.what} takes no SPEC arguments (got {' '.join(args.specs)})")
        from advshape.plots import figures

        written = figures.FIGURES[args.what](args.out)
    else:
        if not args.specs:
            raise UsageError(
                f"plot {args.what} needs at least one SPEC, e.g. "
                f"advshape plot {args.what} grpo skew_r 'F=2*asin(sqrt(rho))'"
            )
        try:
            built = [advshape.scheduled(spec) for spec in args.specs]
        except ImportError as err:  # e.g. sympy missing for a surrogate: a usage error
            raise ValueError(f"{err}; install advshape[surrogates]") from err
        shapers = []
        for s in built:
            if not s.is_constant:  # its weights and surrogate change during a run
                raise ValueError(
                    f"shaper {s.spec!r} has a schedule ({', '.join(s.schedules)}), so it has no "
                    f"single {args.what} curve: plot the spec of one step, e.g. "
                    f"{s.at(1, 1).spec!r}"
                )
            shapers.append(s.at(1))
        from advshape.plots import figures

        draw = figures.plot_weights if args.what == "weights" else figures.plot_surrogates
        written = draw(shapers, args.n, args.out, stem=args.name or args.what)
    for path in written:
        print(path)
    return 0
