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

REFERENCE_SHAPER = "grpo"
PASS1_GAIN_TARGET = 0.10


def pending_runs(args: CompareArgs, shapers: Sequence[str]) -> list[Args]:
    """The runs of the comparison not finished yet in ``args.out`` (unfinished ones resume)."""
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
    """summary.json's content: runs, paired differences, claims (see the module doc)."""
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


def paired_differences(groups, reference: str, n: int, ks: Sequence[int], classes) -> list[dict]:
    """Every difference the report states: each run's final − start, and each shaper's
    final − the reference's final, per seed and pooled over seeds, pooled and per class."""
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


def claims(paired, reference: str, k_top: int, target_ks: dict[str, int]) -> list[dict[str, Any]]:
    """The expected effects, each stated in words with whether it holds.

    A shaper that targets Pass@K with K > 1 is expected to end above the reference on
    the largest evaluated K; other shapers get the same numbers without an expectation.
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
