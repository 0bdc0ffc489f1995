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

__all__ = ["NOISE_FLOOR", "describe", "format_probe", "probe"]

NOISE_FLOOR = 0.005
"""Changes of pass@K smaller than this are read as "no change" in the probe's words."""


def probe(
    args: Args, temperatures: Sequence[float] = PROBE_TEMPERATURES, task: Task | None = None
) -> dict[str, Any]:
    """Evaluate the (cached) warm start of a run at each temperature, pooled and per class.

    Lowering the temperature is the cheapest way to sharpen a policy, so it previews what a
    sharpening shaper can do (module docstring); the evaluations are cached beside the warm
    start, and temperature 1 is the RL runs' step 0.

    Args:
        args: the options of the warm start and its evaluation.
        temperatures: the sampling temperatures, at least two.
        task: the task, if already built (else from ``args``).

    Returns:
        :func:`describe` of the evaluated rows.

    Example:
        >>> from advshape.lm.config import Args
        >>> from advshape.lm.probe import probe
        >>> args = Args(task="palindrome", n_train=4, eval_problems=2, eval_samples=2,
        ...             eval_ks=(1, 2), warmstart_steps=0, hidden_size=16, num_layers=1,
        ...             num_heads=2, cache_dir="cache", progress=False)
        >>> result = probe(args, temperatures=(1.0, 0.5))  # an untrained model
        >>> result["temperatures"], result["sharpening"], result["tradeoff_classes"]
        ([1.0, 0.5], False, [])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@1 and Pass@K, Sec. 1.1; the trade-off the Pass@K shapers address, Sec. 4).
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
    """The probe's verdicts and its words, from the evaluated rows.

    Sharpening: pass@1 rises by more than :data:`NOISE_FLOOR` from the hottest to the
    coldest temperature. Trade-off: pass@K (the largest K) falls by more than that on a class.

    Args:
        rows: one per temperature: ``{"temperature", "pooled": {"pass@K": ...}, "by_class":
            {class: {"pass@K": ...}}}``.
        task: the task's name.
        n: the samples per problem.
        k_max: the largest K.

    Returns:
        ``{"task", "n", "k", "temperatures", "rows" (hottest first), "sharpening": bool,
        "tradeoff_classes": [...], "words": [...]}``.

    Example:
        >>> from advshape.lm.probe import describe
        >>> rows = [
        ...     {"temperature": 1.0, "pooled": {"pass@1": 0.20, "pass@8": 0.60},
        ...      "by_class": {"easy": {"pass@1": 0.30, "pass@8": 0.8},
        ...                   "hard": {"pass@1": 0.10, "pass@8": 0.4}}},
        ...     {"temperature": 0.5, "pooled": {"pass@1": 0.30, "pass@8": 0.55},
        ...      "by_class": {"easy": {"pass@1": 0.45, "pass@8": 0.8},
        ...                   "hard": {"pass@1": 0.15, "pass@8": 0.3}}}]
        >>> result = describe(rows, "divisor", n=32, k_max=8)
        >>> result["sharpening"], result["tradeoff_classes"]
        (True, ['hard'])
        >>> result["words"][2]
        'pass@8 on the hard class falls as the temperature drops (0.400 → 0.300): room for the Pass@K trade-off.'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@1 and Pass@K, Sec. 1.1; the trade-off the Pass@K shapers address, Sec. 4).
    """
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
    """The probe as a plain-text table and its verdicts, for the terminal (``advshape probe``).

    Args:
        result: :func:`describe`'s result.

    Returns:
        The text: a heading, one row per temperature, one line per verdict.

    Example:
        >>> from advshape.lm.probe import describe, format_probe
        >>> rows = [
        ...     {"temperature": 1.0, "pooled": {"pass@1": 0.20, "pass@8": 0.60},
        ...      "by_class": {"easy": {"pass@1": 0.30, "pass@8": 0.8},
        ...                   "hard": {"pass@1": 0.10, "pass@8": 0.4}}},
        ...     {"temperature": 0.5, "pooled": {"pass@1": 0.30, "pass@8": 0.55},
        ...      "by_class": {"easy": {"pass@1": 0.45, "pass@8": 0.8},
        ...                   "hard": {"pass@1": 0.15, "pass@8": 0.3}}}]
        >>> print(format_probe(describe(rows, "divisor", n=32, k_max=8)).splitlines()[2])
                     1           0.200           0.600           0.300           0.800           0.100           0.400

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@1 and Pass@K, Sec. 1.1; the trade-off the Pass@K shapers address, Sec. 4).
    """
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
