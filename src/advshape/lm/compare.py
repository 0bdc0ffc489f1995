"""``advshape compare``: several shapers × paired seeds from one warm start, one report.

Every run starts from the same cached warm start; runs with the same seed draw the same
train problems and the same sampling seeds, and all runs are evaluated on the same
held-out problems with the same evaluation seeds, so shapers are compared in pairs
(:mod:`advshape.lm.stats`). The report (``report.html``, PNG curves, ``summary.json``)
opens with the headroom probe (:mod:`advshape.lm.probe`), then states in words, from the
numbers, whether each expected effect holds:

* the reference shaper (grpo) raises held-out pass@1 over the warm start by at least
  ``PASS1_GAIN_TARGET``, with an interval that excludes 0, in every seed;
* each other shaper ends above the reference on pass@K (the largest K) in every seed,
  with paired intervals that exclude 0, and what it gives up on pass@1.

``summary.json`` has a top-level ``runs`` list; each entry has ``shaper`` (the spec),
``seed``, and ``start``, ``middle`` and ``final`` dicts mapping ``"pass@1"`` …
``"pass@16"`` to held-out values, all classes pooled, and ``by_class`` with the same
three dicts per difficulty class. ``paired`` holds every difference with its interval,
``claims`` the statements and whether they hold, ``probe`` the probe.

The command (:func:`advshape.cli.lm_cmds.run_compare`) checks every option and run folder
(:func:`advshape.lm.config.validate_compare`), probes the shared warm start, trains
:func:`pending_runs` with :func:`advshape.lm.train.train_runs`, then calls
:func:`write_comparison`; this module never trains (no module of ``lm/`` imports the trainer).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from advshape._files import read_jsonl
from advshape.lm.config import Args, CompareArgs
from advshape.lm.evaluate import pass_at_k_by_class
from advshape.lm.report import load_run, write_comparison_report
from advshape.lm.stats import paired_difference, pass_at_ks

__all__ = [
    "PASS1_GAIN_TARGET",
    "REFERENCE_SHAPER",
    "claims",
    "paired_differences",
    "pending_runs",
    "summarize",
]

REFERENCE_SHAPER = "grpo"
"""The shaper every other is compared with, when the comparison has it (else the first)."""
PASS1_GAIN_TARGET = 0.10
"""The gain of held-out pass@1 over the warm start the reference shaper is expected to reach."""


def pending_runs(args: CompareArgs, shapers: Sequence[str]) -> list[Args]:
    """The runs of a comparison not finished yet in its folder (unfinished ones resume).

    Args:
        args: the comparison's options.
        shapers: the shapers, in canonical spelling (``validate_compare``'s result).

    Returns:
        The options of each run still to train, shaper by shaper, seed by seed.

    Example:
        >>> from advshape.lm.compare import pending_runs
        >>> from advshape.lm.config import CompareArgs
        >>> compare = CompareArgs(shapers=("grpo", "skew_r"), seeds=2, out="cmp")
        >>> [run.out for run in pending_runs(compare, ["grpo", "skew_r"])]  # nothing trained yet
        ['cmp/grpo/seed0', 'cmp/grpo/seed1', 'cmp/skew_r/seed0', 'cmp/skew_r/seed1']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@1 against Pass@K, Secs. 1.1 and 4).
    """
    todo = []
    for spec in shapers:
        for seed in args.seed_list:
            run = args.run_args(spec, seed)
            records = read_jsonl(
                os.path.join(run.out, "metrics.jsonl"),
                fix="delete the run folder or choose another --out",
            )
            done = records and records[-1]["kind"] == "eval" and records[-1]["step"] == run.steps
            if not done:
                todo.append(run)
    return todo


def write_comparison(args: CompareArgs, shapers: Sequence[str], headroom: dict[str, Any]) -> str:
    """Read every finished run, write ``summary.json``, ``summary.md``, the PNG curves and
    ``report.html`` into ``args.out``; returns the report's path."""
    groups = {spec: [load_run(args.run_dir(spec, s)) for s in args.seed_list] for spec in shapers}
    return write_comparison_report(groups, summarize(groups, headroom), args.out)


# ----------------------------------------------------------------------------- summary


def _eval_at(run: dict[str, Any], which: str) -> dict[str, Any]:
    evals = run["evals"]
    if which == "start":
        return evals[0]
    if which == "final":
        return evals[-1]
    middle = evals[-1]["step"] / 2  # the evaluation closest to the middle of the run
    return min(evals, key=lambda r: (abs(r["step"] - middle), r["step"]))


def summarize(groups: dict[str, list[dict[str, Any]]], headroom: dict[str, Any]) -> dict[str, Any]:
    """The comparison's summary (``summary.json``): runs, paired differences and claims.

    Each run's held-out Pass@K at the start, the middle and the end, pooled and per class;
    every paired difference (:func:`paired_differences`) and the claims (:func:`claims`),
    against :data:`REFERENCE_SHAPER` when it is compared (else the first shaper).

    Args:
        groups: shaper -> its runs over seeds (``load_run``'s dicts).
        headroom: the probe of the warm start (``advshape.lm.probe.probe``), kept as is.

    Returns:
        ``{"task", "task_seed", "settings", "versions", "n_parameters", "classes",
        "reference", "k", "probe", "runs", "paired", "claims"}``.

    Example:
        >>> def run(seed, start, final, target_k=1):  # what load_run returns, in short
        ...     args = {"seed": seed, "eval_samples": 4, "eval_ks": [1, 4], "task": "divisor",
        ...             "task_seed": 0}
        ...     config = {"args": args, "shaper": {"info": {"target_k": target_k}},
        ...               "classes": ["easy", "hard"], "n_parameters": 1000,
        ...               "heldout_classes": ["easy", "easy", "hard", "hard"]}
        ...     return {"config": config, "evals": [{"step": 0, "counts": start},
        ...                                          {"step": 60, "counts": final}]}
        >>> start = [1, 2, 0, 1]  # correct samples of 4 held-out problems, of n = 4 each
        >>> groups = {"grpo": [run(0, start, [4, 4, 1, 1])],
        ...           "grpo_k:k=4": [run(0, start, [3, 4, 2, 3], target_k=4)]}
        >>> from advshape.lm.compare import summarize
        >>> summary = summarize(groups, headroom={})
        >>> summary["reference"], summary["k"], summary["runs"][0]["final"]["pass@1"]
        ('grpo', 4, 0.625)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@1 against Pass@K, Secs. 1.1 and 4).
    """
    first = next(iter(groups.values()))[0]
    config = first["config"]
    n = config["args"]["eval_samples"]
    k_top = max(config["args"]["eval_ks"])
    ks = list(range(1, min(16, n) + 1))
    classes = config["heldout_classes"]
    class_names = [c for c in config["classes"] if c in set(classes)]

    def by_class(counts) -> dict[str, dict[str, float]]:
        return pass_at_k_by_class(counts, classes, n, ks, order=class_names)

    runs = []
    for spec, members in groups.items():
        for run in members:
            seed = run["config"]["args"]["seed"]
            entry: dict[str, Any] = {"shaper": spec, "seed": seed, "by_class": {}}
            for which in ("start", "middle", "final"):
                record = _eval_at(run, which)
                entry[which] = pass_at_ks(record["counts"], n, ks)
                entry[f"{which}_step"] = record["step"]
                for c, values in by_class(record["counts"]).items():
                    entry["by_class"].setdefault(c, {})[which] = values
            runs.append(entry)

    reference = REFERENCE_SHAPER if REFERENCE_SHAPER in groups else next(iter(groups))
    paired = paired_differences(groups, reference, n, sorted({1, k_top}), classes)
    return {
        "task": config["args"]["task"],
        "task_seed": config["args"]["task_seed"],
        "settings": config["args"],
        "versions": config.get("versions", {}),
        "n_parameters": config["n_parameters"],
        "classes": class_names,
        "reference": reference,
        "k": k_top,
        "probe": headroom,
        "runs": runs,
        "paired": paired,
        "claims": claims(
            paired,
            reference,
            k_top,
            {
                spec: runs[0]["config"]["shaper"]["info"]["target_k"]
                for spec, runs in groups.items()
            },
        ),
    }


def paired_differences(
    groups: dict[str, list[dict[str, Any]]],
    reference: str,
    n: int,
    ks: Sequence[int],
    classes: Sequence[str],
) -> list[dict[str, Any]]:
    """Every difference the report states, with its bootstrap interval.

    Each shaper's final − start (its warm start), and each other shaper's final − the
    reference's final, for each K, per seed and pooled over seeds, over all held-out
    problems and per class (``advshape.lm.stats.paired_difference``).

    Args:
        groups: shaper -> its runs over seeds (``load_run``'s dicts, with ``counts``).
        reference: the reference shaper.
        n: the evaluation samples per problem.
        ks: the K values.
        classes: each held-out problem's class.

    Returns:
        One dict per difference: ``{"shaper", "against" ("start" or the reference),
        "metric", "class" ("all" or a class), "seeds", "per_seed", "pooled"}``, each
        difference a ``{"mean", "low", "high"}``.

    Example:
        >>> def run(seed, start, final, target_k=1):  # what load_run returns, in short
        ...     args = {"seed": seed, "eval_samples": 4, "eval_ks": [1, 4], "task": "divisor",
        ...             "task_seed": 0}
        ...     config = {"args": args, "shaper": {"info": {"target_k": target_k}},
        ...               "classes": ["easy", "hard"], "n_parameters": 1000,
        ...               "heldout_classes": ["easy", "easy", "hard", "hard"]}
        ...     return {"config": config, "evals": [{"step": 0, "counts": start},
        ...                                          {"step": 60, "counts": final}]}
        >>> start = [1, 2, 0, 1]  # correct samples of 4 held-out problems, of n = 4 each
        >>> groups = {"grpo": [run(0, start, [4, 4, 1, 1])],
        ...           "grpo_k:k=4": [run(0, start, [3, 4, 2, 3], target_k=4)]}
        >>> from advshape.lm.compare import paired_differences
        >>> rows = paired_differences(groups, "grpo", n=4, ks=[1, 4],
        ...                           classes=["easy", "easy", "hard", "hard"])
        >>> first = rows[0]
        >>> first["shaper"], first["against"], first["metric"], first["class"], first["pooled"]
        ('grpo', 'start', 'pass@1', 'all', {'mean': 0.375, 'low': 0.125, 'high': 0.625})

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@1 against Pass@K, Secs. 1.1 and 4).
    """
    subsets: dict[str, list[int] | None] = {"all": None}
    for label in dict.fromkeys(classes):
        subsets[label] = [i for i, x in enumerate(classes) if x == label]

    def counts(run, which: int, subset):
        values = run["evals"][which]["counts"]  # which: 0 = start, -1 = final
        return values if subset is None else [values[i] for i in subset]

    rows = []
    for spec, members in groups.items():
        against = ["start"] if spec == reference else ["start", reference]
        for other in against:
            for k in ks:
                for subset_name, subset in subsets.items():
                    a = [counts(run, -1, subset) for run in members]
                    if other == "start":
                        b = [counts(run, 0, subset) for run in members]
                    else:
                        b = [counts(run, -1, subset) for run in groups[reference]]
                    rows.append(
                        {
                            "shaper": spec,
                            "against": other,
                            "metric": f"pass@{k}",
                            "class": subset_name,
                            "seeds": [run["config"]["args"]["seed"] for run in members],
                            "per_seed": [
                                paired_difference([x], [y], n, k, seed=s)._asdict()
                                for s, (x, y) in enumerate(zip(a, b, strict=True))
                            ],
                            "pooled": paired_difference(a, b, n, k)._asdict(),
                        }
                    )
    return rows


def _find(paired, shaper, against, metric, cls="all"):
    for row in paired:
        if (row["shaper"], row["against"], row["metric"], row["class"]) == (
            shaper,
            against,
            metric,
            cls,
        ):
            return row
    return None


def _interval(d: dict[str, float]) -> str:
    return f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def claims(
    paired: list[dict[str, Any]], reference: str, k_top: int, target_ks: dict[str, int]
) -> list[dict[str, Any]]:
    """The expected effects, each stated in words with whether it holds.

    The reference raises held-out pass@1 over the warm start by at least
    :data:`PASS1_GAIN_TARGET` in every seed, and sharpens (its pass@K falls on some class). A
    shaper that targets Pass@K with K > 1 is expected to end above the reference on the
    largest evaluated K in every seed; other shapers get the same numbers without an
    expectation.

    Args:
        paired: :func:`paired_differences`' rows.
        reference: the reference shaper.
        k_top: the largest evaluated K.
        target_ks: each shaper's target K (its ``info.target_k``).

    Returns:
        One dict per claim: ``{"claim", "holds", "expected", "evidence"}``.

    Example:
        >>> def run(seed, start, final, target_k=1):  # what load_run returns, in short
        ...     args = {"seed": seed, "eval_samples": 4, "eval_ks": [1, 4], "task": "divisor",
        ...             "task_seed": 0}
        ...     config = {"args": args, "shaper": {"info": {"target_k": target_k}},
        ...               "classes": ["easy", "hard"], "n_parameters": 1000,
        ...               "heldout_classes": ["easy", "easy", "hard", "hard"]}
        ...     return {"config": config, "evals": [{"step": 0, "counts": start},
        ...                                          {"step": 60, "counts": final}]}
        >>> start = [1, 2, 0, 1]  # correct samples of 4 held-out problems, of n = 4 each
        >>> groups = {"grpo": [run(0, start, [4, 4, 1, 1])],
        ...           "grpo_k:k=4": [run(0, start, [3, 4, 2, 3], target_k=4)]}
        >>> from advshape.lm.compare import claims, paired_differences
        >>> rows = paired_differences(groups, "grpo", n=4, ks=[1, 4],
        ...                           classes=["easy", "easy", "hard", "hard"])
        >>> [(c["holds"], c["expected"]) for c in claims(rows, "grpo", 4, {"grpo_k:k=4": 4})]
        [(True, True), (False, True), (False, True)]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@1 against Pass@K, Secs. 1.1 and 4).
    """
    out = []
    top = f"pass@{k_top}"
    gain = _find(paired, reference, "start", "pass@1")
    seeds = gain["per_seed"]
    holds = all(d["mean"] >= PASS1_GAIN_TARGET and d["low"] > 0 for d in seeds)
    out.append(
        {
            "claim": f"{reference} raises held-out pass@1 over the warm start by at least "
            f"{PASS1_GAIN_TARGET:.2f}, with a 95% interval that excludes 0, in every seed",
            "holds": holds,
            "expected": True,
            "evidence": "per seed: "
            + "; ".join(_interval(d) for d in seeds)
            + f"; pooled {_interval(gain['pooled'])}",
        }
    )
    lost = _find(paired, reference, "start", top)
    classes_lost = [
        row["class"]
        for row in paired
        if row["shaper"] == reference
        and row["against"] == "start"
        and row["metric"] == top
        and row["pooled"]["high"] < 0
    ]
    out.append(
        {
            "claim": f"{reference} sharpens: its {top} falls below the warm start's on some "
            "class, with a pooled interval below 0",
            "holds": bool(classes_lost),
            "expected": True,
            "evidence": f"pooled over classes {_interval(lost['pooled'])}; below 0 on: "
            + (", ".join(classes_lost) or "none"),
        }
    )
    for spec, target_k in target_ks.items():
        if spec == reference:
            continue
        row = _find(paired, spec, reference, top)
        seeds = row["per_seed"]
        above = sum(d["low"] > 0 for d in seeds)
        one = _find(paired, spec, reference, "pass@1")
        expected = target_k > 1
        out.append(
            {
                "claim": f"{spec} ends above {reference} on held-out {top} in every seed, with "
                "paired 95% intervals that exclude 0"
                + ("" if expected else f" (for comparison only: {spec} targets pass@1)"),
                "holds": above == len(seeds),
                "expected": expected,
                "evidence": f"{above} of {len(seeds)} seeds; per seed: "
                + "; ".join(_interval(d) for d in seeds)
                + f"; pooled {_interval(row['pooled'])}; its pass@1 against {reference}: "
                f"pooled {_interval(one['pooled'])}",
            }
        )
    return out
