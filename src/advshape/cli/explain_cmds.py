"""``advshape explain``: what a trainer's (or any) advantage estimator optimises.

Nothing heavy is imported at module level: verl, TRL's torch and SciPy load in ``run_explain``.
"""

from __future__ import annotations

import argparse
import sys

from advshape.cli import UsageError

TARGET_HELP = (
    "verl:NAME (the installed verl's registered estimator, e.g. verl:grpo, verl:rloo_vectorized; "
    "advshape's own with their parameters, verl:advshape_grpo_k:k=4), trl (TRL GRPOTrainer's "
    "formula, see --scale-rewards), another trainer's estimator TRAINER:NAME[:key=value,...] "
    "(nemo-rl:grpo, prime-rl:grpo, prime-rl:max_rl, openrlhf:group_norm, openrlhf:rloo, "
    "openrlhf:dr_grpo, slime:grpo, ms-swift:grpo, ms-swift:rloo, areal:group_norm, skyrl:grpo, "
    "skyrl:rloo, skyrl:maxrl; `advshape table --trainers` lists them), a registry spec "
    "(grpo_k:k=4), or a Python function module:function mapping rewards [G, N] to advantages [G, N]"
)
RHO_POINTS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
MATCH_TOL = 1e-6  # distance below which fn "is" a registry shaper up to scale


def configure_explain(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Checks permutation-equivariance, count-basedness and group-locality (with a "
        "counterexample for each failure), then prints A+/A- per N+, the exact weights w+/w-, "
        "the nearest registry shaper and the surrogate F. Exit 2 on bad input."
    )
    parser.add_argument("target", help=TARGET_HELP)
    parser.add_argument("--n", type=int, default=16, help="group size N (default 16)")
    parser.add_argument(
        "--scale-rewards",
        default=None,
        metavar="{group,batch,none}",
        help="TRL's GRPOConfig.scale_rewards (target trl only; default group)",
    )
    parser.add_argument(
        "--no-std",
        action="store_true",
        help="verl: algorithm.norm_adv_by_std_in_grpo=False",
    )
    parser.add_argument(
        "--population",
        default="auto",
        metavar="{auto,probe,off}",
        help="population surrogate F: auto (from the registry shaper fn equals up to scale at N "
        "and 2N, else by probing), probe (always reverse-engineer by probing fn at N up to "
        "2048: slow for Python-loop estimators), off",
    )


def _resolve_target(args):
    """(fn, label, notes, rtol, atol) for the target."""
    target = args.target.strip()
    if args.scale_rewards is not None and target != "trl":
        raise UsageError("--scale-rewards applies to the target trl only")
    if args.no_std and not target.startswith("verl:"):
        raise UsageError("--no-std applies to verl:NAME targets only")
    trainer = target.partition(":")[0].strip()
    from advshape.integrations import trainers

    if trainer in trainers.TRAINERS:
        fn, label, notes = trainers.trainer_estimator(target)
        return fn, label, notes, 1e-9, 1e-12
    if target.startswith("verl:"):
        from advshape.integrations import probes

        name = target.partition(":")[2].strip()
        if not name:
            raise UsageError("verl:NAME needs an estimator name, e.g. verl:grpo")
        try:
            import verl  # noqa: F401
        except ImportError as err:
            raise UsageError(f"verl is not installed ({err}): pip install verl") from err
        fn = probes.verl_estimator(name, norm_adv_by_std_in_grpo=not args.no_std)
        import verl as verl_pkg

        notes = [
            f"verl {getattr(verl_pkg, '__version__', '?')}: core_algos.get_adv_estimator_fn"
            f"({name!r}) on token_level_rewards [G·N, {probes.RESPONSE_LENGTH}] (reward on the "
            "last token, float64), response_mask of ones, index = one uid per group, "
            "AlgoConfig defaults" + (", norm_adv_by_std_in_grpo=False" if args.no_std else "")
        ]
        if name in probes.VERL_NOTES:
            notes.append(probes.VERL_NOTES[name])
        # some verl estimators compute group statistics in float32
        return fn, target, notes, 1e-5, 1e-6
    if target == "trl":
        from advshape.integrations import probes

        scale = args.scale_rewards or "group"
        if scale not in probes.TRL_SCALE_REWARDS:
            raise UsageError(
                f"--scale-rewards must be one of {', '.join(probes.TRL_SCALE_REWARDS)}, got {scale!r}"
            )

        def fn(rewards):
            return probes.trl_grpo_advantages(rewards, scale)

        notes = [
            "TRL GRPOTrainer's advantage formula (sum_then_normalize), TRANSCRIBED from the "
            "installed TRL source (TRL exposes no function for it; the transcription is tested "
            f"against a real GRPOTrainer run): scale_rewards={scale}, ε = 1e-4, sample std"
        ]
        return fn, f"trl (scale_rewards={scale})", notes, 1e-9, 1e-12
    import advshape

    name = target.partition(":")[0].strip()
    if name in advshape.names():
        s = advshape.shaper(target)
        return s.advantages, s.spec, [f"registry shaper {s.spec}: Shaper.advantages"], 1e-9, 1e-12
    module_name, colon, attr = target.partition(":")
    if not colon or not module_name or not attr:
        raise UsageError(
            f"unknown target {target!r}: expected verl:NAME, trl, a registry shaper "
            f"({', '.join(advshape.names())}) or module:function"
        )
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise UsageError(
            f"cannot import module {module_name!r} for target {target!r}: {err}"
        ) from err
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise UsageError(f"{module_name!r} has no function {attr!r}")
    return fn, target, [f"Python function {target}"], 1e-9, 1e-12


def _is_trainer(target: str) -> bool:
    """TRAINER:NAME, another trainer's estimator (flagged for its users; verl's show what a
    group of one gets in ``advshape table --verl``)."""
    from advshape.integrations.trainers import TRAINERS

    return target.strip().partition(":")[0].strip() in TRAINERS


def _g(x: float) -> str:
    return "-" if x != x else f"{x:.6g}"


def run_explain(args: argparse.Namespace) -> int:
    import numpy as np

    if args.n < 2:
        raise UsageError(f"--n must be >= 2 (a group needs two responses), got {args.n}")
    if args.n > 256:
        raise UsageError(f"--n must be <= 256 (the probes grow like N²), got {args.n}")
    if args.population not in ("auto", "probe", "off"):
        raise UsageError(f"--population must be auto, probe or off, got {args.population!r}")
    try:
        fn, label, notes, rtol, atol = _resolve_target(args)
    except (UsageError, ValueError) as err:
        raise UsageError(f"target {args.target!r}: {err}") from None

    from advshape.surrogates.explain import explain, nearest_registry_shaper

    result = explain(fn, args.n, name=label, rtol=rtol, atol=atol)
    out = sys.stdout
    print(f"{label} at N = {args.n}", file=out)
    for note in (*notes, *result.notes):
        print(f"  {note}", file=out)
    print(f"checks (rtol {rtol:g}, atol {atol:g}):", file=out)
    for check, ok in result.checks.items():
        print(f"  {check:<24} {'yes' if ok else 'NO'}", file=out)
    for c in result.counterexamples:
        print(f"  counterexample ({c.check}): {c.detail}", file=out)
    print(f"scores read at: {result.composition}", file=out)
    if _is_trainer(args.target):
        from advshape.integrations.trainers import flags

        found = flags(fn, result.a_pos, result.a_neg, args.n)
        print("flags:" + ("" if found else " none (zero-sum, monotone in N+, 0 for a group of one)"), file=out)
        for flag in found:
            print(f"  {flag}", file=out)
    w_pos, w_neg = result.weights()
    print("N+  rho_hat   A+           A-           w+           w-", file=out)
    for m in range(args.n + 1):
        row = (
            f"{m:<3} {m / args.n:<9.4g} {_g(result.a_pos[m]):<12} {_g(result.a_neg[m]):<12} "
            f"{_g(w_pos[m]):<12} {_g(w_neg[m])}"
        )
        print(row, file=out)
    if result.shaper is None:
        print(
            "no count-based shaper: the checks above failed, so the surrogate lens (Lemma 2) "
            "does not apply",
            file=out,
        )
        return 0

    ranked = nearest_registry_shaper(result.a_pos, result.a_neg, args.n)
    print(
        "nearest registry shapers (distance = min over c > 0 of max |A − c·A_reg| / max |A|, "
        "over A+ at N+ = 1..N and A- at N+ = 0..N−1):",
        file=out,
    )
    for r in ranked[:3]:
        print(f"  {r.spec:<28} distance {r.distance:.2e}  at c = {r.scale:.6g}", file=out)
    _surrogates(args, result, ranked[0], out, np)
    return 0


def _surrogates(args, result, best, out, np) -> None:
    import advshape
    from advshape.surrogates.explain import nearest_registry_shaper
    from advshape.surrogates.reverse import reverse_engineer

    rho = np.array(RHO_POINTS)
    finite = reverse_engineer(result.shaper, n=args.n)
    c_n = advshape.expected_update_coefficient(result.shaper, args.n, rho)
    points = ", ".join(f"{r:g}" for r in RHO_POINTS)
    print(f"exact finite N = {args.n}: c_N(ρ) and F_N(ρ) = ∫₀^ρ c_N at ρ = {points}:", file=out)
    print("  c_N  " + "  ".join(f"{v:.6g}" for v in c_n), file=out)
    print("  F_N  " + "  ".join(f"{v:.6g}" for v in finite(rho)), file=out)
    if args.population == "off":
        return
    source = None
    if args.population == "auto" and best.distance <= MATCH_TOL:
        # equal up to scale at N: confirm at 2N (fn probed again) before borrowing its scores
        n2 = 2 * args.n
        a_pos, a_neg = result.shaper.scores(np.arange(n2 + 1), n2)
        again = nearest_registry_shaper(a_pos, a_neg, n2, specs=[best.spec])
        if again and again[0].distance <= MATCH_TOL:
            source = (best.spec, again[0].distance)
    try:
        if source is not None:
            curve = reverse_engineer(source[0])
            how = (
                f"reverse-engineered from {source[0]}, whose scores equal fn's up to a positive "
                f"scale at N = {args.n} and {2 * args.n} (distance ≤ {max(best.distance, source[1]):.1e})"
            )
        else:
            curve = reverse_engineer(result.shaper, resolution=512)
            how = "reverse-engineered from fn itself, probed at N = 512, 1024, 2048"
    except ValueError as err:
        print(f"population surrogate F: none: {err}", file=out)
        return
    print(f"population surrogate F ({how}):", file=out)
    print(f"  {curve.describe()}", file=out)
    print("  F    " + "  ".join(f"{v:.6g}" for v in curve(rho)), file=out)
    if not curve.divergent:
        normalised = curve.normalised(rho)
        print(
            "  F normalised to F(0) = 0, F(1) = 1:  " + "  ".join(f"{v:.4f}" for v in normalised),
            file=out,
        )


def trainers_section(n: int, markdown: bool) -> str:
    """``advshape table --trainers``: every transcribed (or installed) trainer estimator beside
    its nearest registry shaper, with what its users should know."""
    from advshape.integrations.trainers import trainer_rows

    rows = trainer_rows(n)
    title = (
        f"Other trainers' estimators, explained at N = {n} (`advshape explain TRAINER:NAME` for "
        "the details; source = repository@commit and file the formula was read from). "
        "distance = min over c > 0 of max |A − c·A_reg| / max |A|."
    )
    head = ["estimator", "source", "how", "checks", "nearest registry shaper", "distance", "flags"]
    body = [
        [
            r.target,
            r.source,
            r.how,
            r.checks,
            r.nearest,
            _g(r.distance) if r.distance != r.distance else f"{r.distance:.0e}",
            "; ".join(r.flags) or "-",
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in body]
        return title + "\n\n" + "\n".join(lines)
    lines = [title, ""]
    for cells in body:
        lines.append(f"{cells[0]}  [{cells[2]}; {cells[3]}]  {cells[1]}")
        lines.append(f"  nearest {cells[4]} (distance {cells[5]})")
        for flag in cells[6].split("; ") if cells[6] != "-" else []:
            lines.append(f"  ! {flag}")
    return "\n".join(lines)
