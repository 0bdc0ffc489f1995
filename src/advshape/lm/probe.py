"""Headroom probe: is there room for RL to sharpen, and for the Pass@K trade-off?

Before any RL, evaluate the warm start on the held-out problems at lower sampling
temperatures. Lowering the temperature is the cheapest way to sharpen a policy, so it
previews what a sharpening shaper (GRPO) can do:

* if pass@1 rises as the temperature drops, the policy puts more mass on correct
  answers than a temperature-1 sample shows: room for RL to raise pass@1;
* if pass@K (the largest K) falls on some difficulty class as the temperature drops,
  sharpening costs diversity there: room for the Pass@K trade-off, where a Pass@K
  shaper should keep pass@K that GRPO gives up.

The evaluations are cached beside the warm start, so the compare report and
``advshape probe`` share them (and temperature 1 is the RL runs' step 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from advshape.lm.config import PROBE_TEMPERATURES, Args
from advshape.lm.evaluate import heldout_eval
from advshape.lm.model import load_pretrained
from advshape.lm.setup import make_task, starting_checkpoint
from advshape.lm.tasks import Task

# Changes smaller than this (in pass@K) are read as "no change" in the words.
NOISE_FLOOR = 0.005


def probe(
    args: Args, temperatures: Sequence[float] = PROBE_TEMPERATURES, task: Task | None = None
) -> dict[str, Any]:
    """Evaluate the (cached) warm start of ``args`` at each temperature, pooled and per class.

    Returns {"task", "n", "k", "temperatures", "rows": [{temperature, pooled, by_class}],
    "sharpening": bool, "tradeoff_classes": [...], "words": [...]}.
    """
    if task is None:
        task = make_task(args)
    path, _ = starting_checkpoint(args, task, progress=args.progress)
    model, tokenizer = load_pretrained(path, args.device)
    k_max = max(args.eval_ks)
    rows = []
    for temperature in temperatures:
        result = heldout_eval(
            args, model, tokenizer, task, step=0, temperature=float(temperature), cache_dir=path
        )
        rows.append(
            {
                "temperature": float(temperature),
                "pooled": {k: v for k, v in result.items() if k.startswith("pass@")},
                "by_class": result.get("by_class", {}),
            }
        )
    return describe(rows, task.name, args.eval_samples, k_max)


def describe(rows: list[dict[str, Any]], task: str, n: int, k_max: int) -> dict[str, Any]:
    """The probe's verdicts and its words, from the evaluated rows."""
    ordered = sorted(rows, key=lambda r: -r["temperature"])  # hottest first
    hot, cold = ordered[0], ordered[-1]
    top = f"pass@{k_max}"
    rise = cold["pooled"]["pass@1"] - hot["pooled"]["pass@1"]
    sharpening = rise > NOISE_FLOOR
    trend = " → ".join(f"{r['pooled']['pass@1']:.3f}" for r in ordered)
    temps = " → ".join(f"{r['temperature']:g}" for r in ordered)
    words = [
        f"pass@1 {'rises' if sharpening else 'does not rise'} as the temperature drops "
        f"({temps}: {trend}): "
        + ("room for RL to sharpen." if sharpening else "little room for RL to sharpen.")
    ]
    tradeoff = []
    for cls in hot["by_class"]:
        fall = hot["by_class"][cls][top] - cold["by_class"][cls][top]
        values = " → ".join(f"{r['by_class'][cls][top]:.3f}" for r in ordered)
        if fall > NOISE_FLOOR:
            tradeoff.append(cls)
        words.append(
            f"{top} on the {cls} class {'falls' if fall > NOISE_FLOOR else 'does not fall'} as "
            f"the temperature drops ({values})"
            + (": room for the Pass@K trade-off." if fall > NOISE_FLOOR else ".")
        )
    return {
        "task": task,
        "n": n,
        "k": k_max,
        "temperatures": [r["temperature"] for r in ordered],
        "rows": ordered,
        "sharpening": sharpening,
        "tradeoff_classes": tradeoff,
        "words": words,
    }


def format_probe(result: dict[str, Any]) -> str:
    """A plain-text table and the verdicts, for the terminal."""
    top = f"pass@{result['k']}"
    classes = list(result["rows"][0]["by_class"])
    head = ["temperature", "pass@1", top] + [f"{c} {m}" for c in classes for m in ("pass@1", top)]
    lines = ["  ".join(f"{h:>14}" for h in head)]
    for row in result["rows"]:
        cells = [f"{row['temperature']:g}", *(f"{row['pooled'][m]:.3f}" for m in ("pass@1", top))]
        cells += [f"{row['by_class'][c][m]:.3f}" for c in classes for m in ("pass@1", top)]
        lines.append("  ".join(f"{c:>14}" for c in cells))
    return "\n".join(
        [f"warm start of task {result['task']}, held-out, n = {result['n']} samples", *lines]
        + [f"- {w}" for w in result["words"]]
    )
