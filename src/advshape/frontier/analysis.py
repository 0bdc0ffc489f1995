"""From finished runs to ``frontier.json``: points, intervals, the frontier, verdicts.

For each start, every spec's runs (one per seed) are reduced to held-out pass@1 and pass@K
per problem at every evaluation step. One :class:`~advshape.frontier.stats.Resampler` draws
seeds and problems once for the whole frontier, so every interval below is paired:

- **points**: each spec's final pass@1 and pass@K (mean over seeds and problems) with the
  hierarchical 95% interval, and per seed with an interval over problems;
- **curves**: the same means at every evaluation;
- **settled**: the change of pass@1 and pass@K over the last quarter of the run (the final
  evaluation minus the one nearest 75% of the steps, paired), and whether its size is below the
  half-width of the final value's interval;
- **the fixed-K frontier** (:mod:`advshape.frontier.pareto`) through the points of grpo_k and
  rloo_k at fixed K's, and each other spec's **gap** to it, pass@K(X) − F(pass@1(X)), with an
  interval from recomputing the frontier and X's point on every resample;
- **differences** from the reference (grpo, or grpo_k:k=1 which equals it);
- **verdicts** on the four published claims, in words, generated from these numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from advshape.frontier import pareto
from advshape.frontier.families import Family, fixed_k
from advshape.frontier.stats import CONFIDENCE, Estimate, Resampler, percentile_interval
from advshape.frontier.testbeds import per_problem_pass_at_k

__all__ = ["analyse", "reference_spec"]

#: The specs whose settling the frontier reports first (the issue's check).
SETTLE_SPECS = ("grpo", "grpo_k:k=1", "grpo_k:k=8")
#: Shapers of the claims: MaxRL's family, the asymmetric prompt weightings, focal weighting.
MAXRL = ("maxrl", "maclaurin")
ASYMMETRIC = ("linear_r", "sqrt_r", "plateau_r", "uniform_r")
FOCAL = ("focal", "biased_k")


def reference_spec(specs: Sequence[str]) -> str | None:
    """The reference of the verdicts: grpo if present, else grpo_k:k=1 (GRPO exactly).

    Args:
        specs: the frontier's specs.

    Returns:
        The reference spec, or None when neither is present.

    Example:
        >>> from advshape.frontier.analysis import reference_spec
        >>> reference_spec(["maxrl", "grpo_k:k=1", "grpo_k:k=8"])
        'grpo_k:k=1'
        >>> reference_spec(["maxrl"]) is None
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO_K, Eqs. 16–17, with K = 1 is GRPO, Eq. 8, since f̂±_0 = 1).
    """
    for candidate in ("grpo", "grpo_k:k=1"):
        if candidate in specs:
            return candidate
    return None


def _est(e: Estimate) -> dict[str, float]:
    return {"mean": e.mean, "low": e.low, "high": e.high}


def _estimate(point: float, replicates: np.ndarray) -> Estimate:
    return Estimate(point, *percentile_interval(replicates, CONFIDENCE))


def _text(d: Mapping[str, float]) -> str:
    return Estimate(d["mean"], d["low"], d["high"]).text()


class _Start:
    """The per-problem values of one start's runs, with their resamples."""

    def __init__(self, runs: Mapping[str, Sequence[Mapping[str, Any]]], k: int, resampler):
        self.runs, self.k, self.resampler = runs, k, resampler
        first = next(iter(runs.values()))[0]
        self.steps = [e["step"] for e in first["evals"]]
        self.samples = [e["samples"] for e in first["evals"]]
        for spec, members in runs.items():
            for run in members:
                if [e["step"] for e in run["evals"]] != self.steps:
                    raise ValueError(
                        f"run {spec!r} seed {run['seed']} was evaluated at other steps than "
                        f"{next(iter(runs))!r}; delete its folder and rerun the frontier"
                    )
        # Paired comparisons need the same held-out problems: in every seed (crossed) or
        # within each seed (nested), as the runs' fingerprints of their problems say.
        sets: dict[Any, set] = {}
        for members in runs.values():
            for run in members:
                key = None if resampler.design == "crossed" else run["seed"]
                sets.setdefault(key, set()).add(run.get("problem_set"))
        if any(len(found) > 1 for found in sets.values()):
            raise ValueError(
                "the runs were evaluated on different held-out problems (their problem_set "
                "fingerprints differ), so they cannot be paired; rerun them into a new --out"
            )
        self._cache: dict[tuple[str, int, int], np.ndarray] = {}

    def values(self, spec: str, k: int, index: int = -1) -> np.ndarray:
        """[seeds, problems]: Pass@k of every problem at evaluation ``index``."""
        key = (spec, k, index)
        if key not in self._cache:
            self._cache[key] = np.stack(
                [
                    per_problem_pass_at_k(run["evals"][index]["problems"], k)
                    for run in self.runs[spec]
                ]
            )
        return self._cache[key]

    def point(self, spec: str, k: int, index: int = -1) -> float:
        return self.resampler.point(self.values(spec, k, index))

    def replicates(self, spec: str, k: int, index: int = -1) -> np.ndarray:
        return self.resampler.replicates(self.values(spec, k, index))

    def estimate(self, spec: str, k: int, index: int = -1) -> dict[str, Any]:
        x = self.values(spec, k, index)
        est = self.resampler.estimate(x)
        return {**_est(est), "per_seed": [_est(e) for e in self.resampler.per_seed(x)]}

    def mean_over_evals(self, spec: str, k: int) -> tuple[float, np.ndarray]:
        """The mean of Pass@k over the evaluations after step 0 (how fast it rose, and where
        it ended): point and replicates."""
        indices = range(1, len(self.steps))
        point = float(np.mean([self.point(spec, k, i) for i in indices]))
        reps = np.mean([self.replicates(spec, k, i) for i in indices], axis=0)
        return point, reps

    def difference(self, a: str, b: str, k: int, index: int = -1) -> Estimate:
        return _estimate(
            self.point(a, k, index) - self.point(b, k, index),
            self.replicates(a, k, index) - self.replicates(b, k, index),
        )


def _settle(start: _Start, spec: str, k: int) -> dict[str, Any]:
    """The change over the last quarter of the run; settled when it is below the half-width of
    the final value's 95% interval."""
    final_step = start.steps[-1]
    candidates = [i for i, s in enumerate(start.steps[:-1]) if s > 0]
    if not candidates:
        return {"settled": None}
    i75 = min(candidates, key=lambda i: (abs(start.steps[i] - 0.75 * final_step), -i))
    change = _estimate(
        start.point(spec, k, -1) - start.point(spec, k, i75),
        start.replicates(spec, k, -1) - start.replicates(spec, k, i75),
    )
    final = _estimate(start.point(spec, k), start.replicates(spec, k))
    half = (final.high - final.low) / 2
    return {
        "from_step": start.steps[i75],
        "change": _est(change),
        "half_width": half,
        "settled": bool(abs(change.mean) < half),
        # with exact evaluation even a drift of 0.001 is resolved: reported, not a criterion
        "drift_resolved": bool(change.excludes_zero),
    }


def _gap_replicates(
    start: _Start, frontier_specs: Sequence[str], spec: str, k: int
) -> tuple[pareto.FrontierValue, np.ndarray]:
    xs = {s: start.replicates(s, 1) for s in frontier_specs}
    ys = {s: start.replicates(s, k) for s in frontier_specs}
    x, y = start.replicates(spec, 1), start.replicates(spec, k)
    reps = np.empty(len(x))
    for b in range(len(x)):
        vertices = pareto.envelope([(xs[s][b], ys[s][b]) for s in frontier_specs])
        reps[b] = pareto.gap(vertices, x[b], y[b]).value
    vertices = pareto.envelope([(start.point(s, 1), start.point(s, k)) for s in frontier_specs])
    return pareto.gap(vertices, start.point(spec, 1), start.point(spec, k)), reps


def _dominance(d1: Estimate, dk: Estimate, other: str) -> str:
    """Words for two paired differences (pass@1, pass@K) of X against ``other``."""
    up1, upk = d1.low > 0, dk.low > 0
    down1, downk = d1.high < 0, dk.high < 0
    if up1 and upk:
        return f"dominates {other}"
    if down1 and downk:
        return f"is dominated by {other}"
    if (up1 and downk) or (down1 and upk):
        return f"trades one for the other against {other}"
    if up1 or upk:
        return f"is better than {other} on one, with no difference resolved on the other"
    if down1 or downk:
        return f"is worse than {other} on one, with no difference resolved on the other"
    return f"differs from {other} on neither (no difference resolved)"


def _claims_for_start(
    start_name: str, start: _Start, specs: Sequence[str], entries: Mapping[str, Any], k: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ref = reference_spec(specs)
    pk = f"pass@{k}"

    def add(claim: str, subject: str, verdict: str, evidence: str, numbers: dict) -> None:
        out.append(
            {
                "start": start_name,
                "claim": claim,
                "subject": subject,
                "verdict": verdict,
                "evidence": evidence,
                "numbers": numbers,
            }
        )

    # The settling check of the issue: grpo and grpo_k:k=8.
    for spec in specs:
        if spec not in SETTLE_SPECS:
            continue
        s1, sk = entries[spec]["settled"]["pass@1"], entries[spec]["settled"][pk]
        if s1.get("settled") is None:
            continue
        ok = s1["settled"] and sk["settled"]
        add(
            "settled",
            spec,
            "holds" if ok else "does not hold",
            f"{spec} changed by {_text(s1['change'])} (pass@1) and {_text(sk['change'])} ({pk}) "
            f"from step {s1['from_step']} to the end; the final values' interval half-widths are "
            f"{s1['half_width']:.3f} and {sk['half_width']:.3f} (settled: each change below its "
            "half-width)",
            {"pass@1": s1, pk: sk},
        )

    has_frontier = any(entries[s]["fixed_k"] is not None for s in specs)
    # Claim 1: K annealing (PKPO) against the fixed-K frontier.
    for spec in specs:
        if not (re.search(r"\bk=(linear|steps)\(", spec) and has_frontier):
            continue
        gap = entries[spec]["gap"]
        verdict = "holds" if gap["low"] > 0 else "does not hold"
        where = {
            "on": "",
            "left": " (left of the frontier's pass@1 range)",
            "beyond": " (beyond the frontier's largest pass@1: compared with its K = 1 end, "
            "extended flat)",
        }[gap["where"]]
        position = (
            "above the fixed-K frontier"
            if gap["low"] > 0
            else "below the fixed-K frontier"
            if gap["high"] < 0
            else "on the fixed-K frontier (the interval of its gap contains 0)"
        )
        nearest = min(
            (s for s in specs if entries[s]["fixed_k"] is not None),
            key=lambda s: abs(
                entries[s]["final"]["pass@1"]["mean"] - entries[spec]["final"]["pass@1"]["mean"]
            ),
        )
        d1, dk = start.difference(spec, nearest, 1), start.difference(spec, nearest, k)
        add(
            "K annealing is Pareto-better than the fixed-K frontier (PKPO, Walder & Karkhanis "
            "2025: annealing k boosts both pass@1 and pass@k)",
            spec,
            verdict,
            f"{spec} lies {position}{where}: gap {_text(gap)} in {pk} at its pass@1. Against "
            f"the fixed-K run nearest in pass@1, {nearest}: pass@1 {d1.text()}, {pk} "
            f"{dk.text()} ({spec} {_dominance(d1, dk, nearest)}).",
            {"gap": gap, "nearest": nearest, "vs_nearest": {"pass@1": _est(d1), pk: _est(dk)}},
        )

    # Claim 2: MaxRL Pareto-dominates GRPO.
    for spec in specs:
        if spec.partition(":")[0] not in MAXRL or ref is None:
            continue
        d1, dk = start.difference(spec, ref, 1), start.difference(spec, ref, k)
        gap = entries[spec]["gap"]
        add(
            "MaxRL Pareto-dominates GRPO: better pass@1 and pass@K at once (Tajwar et al. 2026)",
            spec,
            "holds" if d1.low > 0 and dk.low > 0 else "does not hold",
            f"{spec} − {ref}: pass@1 {d1.text()}, {pk} {dk.text()}: {spec} "
            f"{_dominance(d1, dk, ref)}"
            + (f"; gap to the fixed-K frontier {_text(gap)}" if gap else ""),
            {"pass@1": _est(d1), pk: _est(dk), "gap": gap},
        )

    # Claim 4: focal weighting raises pass@K at no cost in pass@1.
    for spec in specs:
        if spec.partition(":")[0] not in FOCAL or ref is None:
            continue
        d1, dk = start.difference(spec, ref, 1), start.difference(spec, ref, k)
        no_cost = d1.high >= 0
        add(
            "focal weighting (1 − ρ̂)^γ raises pass@K at no cost in pass@1 (F-GRPO, arXiv "
            "2602.06717)",
            spec,
            "holds" if dk.low > 0 and no_cost else "does not hold",
            f"{spec} − {ref}: {pk} {dk.text()}, pass@1 {d1.text()}"
            + (
                " (pass@1 higher too)"
                if d1.low > 0
                else f" (no cost resolved; a cost, if any, is at most {-d1.low:.3f})"
                if no_cost
                else " (a cost in pass@1: its interval lies below 0)"
            ),
            {"pass@1": _est(d1), pk: _est(dk)},
        )
    return out


def _regime_claims(
    starts: Mapping[str, _Start], specs: Sequence[str], k: int
) -> list[dict[str, Any]]:
    """Claim 3: asymmetric prompt weighting helps from a weak start, barely after SFT."""
    if not {"weak", "strong"} <= set(starts):
        return []
    ref = reference_spec(specs)
    out = []
    for spec in specs:
        if spec.partition(":")[0] not in ASYMMETRIC or ref is None:
            continue
        effects = {}
        for name in ("weak", "strong"):
            start = starts[name]
            pa, ra = start.mean_over_evals(spec, 1)
            pb, rb = start.mean_over_evals(ref, 1)
            effects[name] = (pa - pb, ra - rb, start.difference(spec, ref, 1))
        weak, strong = effects["weak"], effects["strong"]
        speed_weak = _estimate(weak[0], weak[1])
        speed_strong = _estimate(strong[0], strong[1])
        contrast = _estimate(weak[0] - strong[0], weak[1] - strong[1])
        holds = speed_weak.low > 0 and contrast.low > 0
        out.append(
            {
                "start": "weak vs strong",
                "claim": "asymmetric prompt weighting helps when RL starts weak, and barely after "
                "SFT (Heckel, Soltanolkotabi & Thrampoulidis 2026)",
                "subject": spec,
                "verdict": "holds" if holds else "does not hold",
                "evidence": f"{spec} − {ref}, held-out pass@1 averaged over the evaluations: "
                f"weak start {speed_weak.text()}, strong start {speed_strong.text()}, weak − "
                f"strong {contrast.text()}; at the end: weak {weak[2].text()}, strong "
                f"{strong[2].text()}",
                "numbers": {
                    "mean_pass@1_weak": _est(speed_weak),
                    "mean_pass@1_strong": _est(speed_strong),
                    "weak_minus_strong": _est(contrast),
                    "final_pass@1_weak": _est(weak[2]),
                    "final_pass@1_strong": _est(strong[2]),
                },
            }
        )
    return out


def analyse(
    runs: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    families: Sequence[Family],
    *,
    k: int,
    design: str,
    resamples: int,
) -> dict[str, Any]:
    """Reduce finished runs to the frontier's numbers and verdicts.

    Every number is a grand mean m = (1/S) Σ_s (1/P) Σ_i x_si of per-problem Pass@k with a
    hierarchical bootstrap interval, paired across specs (module doc); a spec X off the
    fixed-K frontier F gets its gap pass@K(X) − F(pass@1(X)).

    Args:
        runs: ``runs[start][spec]``: that spec's results, one per seed, in seed order (each
            with ``seed`` and ``evals``, see :mod:`advshape.frontier.testbeds`).
        families: the families the specs came from (for labels and curves).
        k: the K of the pass@K axis.
        design: the bootstrap design of the testbed's problems (``crossed`` or ``nested``).
        resamples: bootstrap resamples.

    Returns:
        ``{"starts": {start: {...}}, "claims": [...]}`` (see docs/frontier.md for the schema).

    Raises:
        ValueError: runs evaluated at other steps, or on other held-out problems, than the
            rest (they cannot be paired).

    Example:
        >>> from advshape.frontier.analysis import analyse
        >>> from advshape.frontier.families import parse_family
        >>> def run(seed, fail):
        ...     return {"seed": seed, "evals": [
        ...         {"step": 0, "samples": 0, "problems": {"fail": [0.5, 0.5]}},
        ...         {"step": 4, "samples": 8, "problems": {"fail": fail}}]}
        >>> runs = {"weak": {"grpo": [run(0, [0.25, 0.5]), run(1, [0.5, 0.25])]}}
        >>> out = analyse(runs, [parse_family("grpo")], k=2, design="crossed", resamples=50)
        >>> out["starts"]["weak"]["specs"]["grpo"]["final"]["pass@1"]["mean"]  # mean of 1 − q
        0.625
        >>> out["starts"]["weak"]["specs"]["grpo"]["final"]["pass@2"]["mean"]  # mean of 1 − q²
        0.84375

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO_K, Eq. 16; Pass@K, Eq. 11); the claims judged: Walder & Karkhanis 2025 (PKPO),
        https://arxiv.org/abs/2505.15201; Tajwar et al. 2026 (MaxRL),
        https://arxiv.org/abs/2602.02710; Heckel, Soltanolkotabi & Thrampoulidis 2026,
        https://arxiv.org/abs/2602.11128; Plyusov et al. 2026 (F-GRPO),
        https://arxiv.org/abs/2602.06717.
    """
    pk = f"pass@{k}"
    family_of: dict[str, tuple[str, str | None]] = {}
    for family in families:
        for i, spec in enumerate(family.specs):
            family_of.setdefault(spec, (family.text, family.values[i] if family.knob else None))
    first = next(iter(runs.values()))
    seeds = len(next(iter(first.values())))
    problems = per_problem_pass_at_k(next(iter(first.values()))[0]["evals"][-1]["problems"], 1).size
    resampler = Resampler(seeds, problems, design=design, resamples=resamples)
    starts = {name: _Start(spec_runs, k, resampler) for name, spec_runs in runs.items()}
    out: dict[str, Any] = {"starts": {}, "claims": []}
    for name, start in starts.items():
        specs = list(start.runs)
        ref = reference_spec(specs)
        frontier_specs = [s for s in specs if fixed_k(s) is not None]
        entries: dict[str, Any] = {}
        for spec in specs:
            family_text, value = family_of.get(spec, (spec, None))
            entry: dict[str, Any] = {
                "family": family_text,
                "knob_value": value,
                "fixed_k": fixed_k(spec),
                "seeds": [run["seed"] for run in start.runs[spec]],
                "final": {"pass@1": start.estimate(spec, 1), pk: start.estimate(spec, k)},
                "curve": [
                    {
                        "step": step,
                        "samples": start.samples[i],
                        "pass@1": start.point(spec, 1, i),
                        pk: start.point(spec, k, i),
                    }
                    for i, step in enumerate(start.steps)
                ],
                "settled": {"pass@1": _settle(start, spec, 1), pk: _settle(start, spec, k)},
                # how fast it rose and where it ended: the mean over the evaluations after 0
                "mean_over_training": {
                    f"pass@{j}": _est(_estimate(*start.mean_over_evals(spec, j))) for j in (1, k)
                },
                "seconds": float(np.mean([run.get("seconds", 0.0) for run in start.runs[spec]])),
            }
            if ref is not None and spec != ref:
                entry["vs_reference"] = {
                    "reference": ref,
                    "pass@1": _est(start.difference(spec, ref, 1)),
                    pk: _est(start.difference(spec, ref, k)),
                }
            entry["gap"] = None
            if frontier_specs and spec not in frontier_specs:
                value_at, reps = _gap_replicates(start, frontier_specs, spec, k)
                entry["gap"] = {**_est(_estimate(value_at.value, reps)), "where": value_at.where}
            entries[spec] = entry
        vertices = (
            pareto.envelope([(start.point(s, 1), start.point(s, k)) for s in frontier_specs])
            if frontier_specs
            else []
        )
        first_run = next(iter(start.runs.values()))[0]
        start_problems = first_run["evals"][0]["problems"]
        out["starts"][name] = {
            "steps": start.steps,
            "samples": start.samples,
            "design": design,
            "seeds": seeds,
            "problems": problems,
            "reference": ref,
            "start_point": {
                "pass@1": float(per_problem_pass_at_k(start_problems, 1).mean()),
                pk: float(per_problem_pass_at_k(start_problems, k).mean()),
            },
            "frontier": {
                "specs": frontier_specs,
                "vertices": [[float(x), float(y)] for x, y in vertices],
            },
            "specs": entries,
            "claims": _claims_for_start(name, start, specs, entries, k),
        }
    common = [
        s for s in next(iter(starts.values())).runs if all(s in st.runs for st in starts.values())
    ]
    out["claims"] = _regime_claims(starts, common, k)
    return out
