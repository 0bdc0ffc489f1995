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
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from typing import Any

DEFAULT_SHAPERS = ("grpo", "grpo_k:k=8", "rloo_k:k=8", "skew_r", "grpo_k:k=linear(8,1)")
DEFAULT_SEEDS = 3
REFERENCE_SHAPER = "grpo"
PASS1_GAIN_TARGET = 0.10


def run_dir(out: str, spec: str, seed: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", spec.replace(":", "__"))
    return os.path.join(out, slug, f"seed{seed}")


def _train_in_parallel(todo, jobs: int, *, progress: bool) -> None:
    """Each run in its own process (runs are independent; each seeds its own draws)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    from advshape.lm.train import train

    quiet = [dataclasses.replace(a, progress=False) for a in todo]
    context = multiprocessing.get_context("spawn")  # no forked torch thread pools
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(train, a) for a in quiet]
        for future in tqdm(
            as_completed(futures), total=len(futures), desc="runs", disable=not progress
        ):
            future.result()  # re-raises a run's error here


def compare(
    base, shapers: Sequence[str], seeds: int, out: str, *, jobs: int = 1, first_seed: int = 0
) -> str:
    """Train every (shaper, seed) run not finished yet in ``out``; write the report.

    Seeds are ``first_seed, …, first_seed + seeds − 1``.

    ``base`` is an ``advshape.lm.train.Args`` whose shaper/seed/out are replaced per run.
    Returns the report's path.
    """
    from advshape.lm.probe import probe
    from advshape.lm.report import load_run, write_comparison_report
    from advshape.lm.tasks import Task
    from advshape.lm.train import check_task_fits, read_jsonl, set_threads, train

    set_threads(base.threads, progress=base.progress)
    task = Task(base.task, seed=base.task_seed, n_train=base.n_train, n_eval=base.eval_problems)
    check_task_fits(base, task)
    os.makedirs(out, exist_ok=True)
    headroom = probe(base, task=task)  # builds (or finds) the warm start every run shares

    todo = []
    seed_list = range(first_seed, first_seed + seeds)
    for spec in shapers:
        for seed in seed_list:
            folder = run_dir(out, spec, seed)
            records = read_jsonl(os.path.join(folder, "metrics.jsonl"))
            done = records and records[-1]["kind"] == "eval" and records[-1]["step"] == base.steps
            if not done:
                todo.append(dataclasses.replace(base, shaper=spec, seed=seed, out=folder))
    if jobs == 1:
        for run_args in todo:
            train(run_args)
    else:
        _train_in_parallel(todo, jobs, progress=base.progress)
    groups = {spec: [load_run(run_dir(out, spec, s)) for s in seed_list] for spec in shapers}
    summary = summarize(groups, headroom)
    return write_comparison_report(groups, summary, out)


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
    from advshape.lm.evaluate import pass_at_k_by_class
    from advshape.lm.stats import pass_at_ks

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
    from advshape.lm.stats import paired_difference

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
