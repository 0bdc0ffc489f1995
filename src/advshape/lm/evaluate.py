"""Pass@K of a model on held-out problems, by the unbiased estimator.

For each problem, draw n responses (temperature 1 unless asked otherwise), count the
correct ones c, and average the unbiased estimate (Chen et al., 2021; the paper's
Sec. 1.1.2)

    Pass@K ≈ 1 − C(n − c, K) / C(n, K)

over problems, via ``advshape.pass_at_k``; pooled over all problems and per difficulty
class. Requires K ≤ n. The counts c are kept, so any K ≤ n and paired intervals can be
computed afterwards (``advshape.lm.stats``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from advshape._files import write_json_atomic
from advshape.lm.config import Args, check_ks, response_cap
from advshape.lm.rollout import sample
from advshape.lm.setup import autocast, step_seed
from advshape.lm.stats import per_problem_pass_at_k

DEFAULT_KS = (1, 2, 4, 8, 16)


def pass_at_k_from_counts(counts, n: int, ks: Sequence[int]) -> dict[int, float]:
    """Mean over problems of the unbiased Pass@K estimate from correct counts c."""
    return {int(k): float(per_problem_pass_at_k(counts, n, int(k)).mean()) for k in ks}


def pass_at_k_by_class(
    counts, classes: Sequence[str], n: int, ks: Sequence[int], order: Sequence[str] = ()
) -> dict[str, dict[str, float]]:
    """{class: {"pass@K": mean over that class's problems}} for every class present, in
    ``order`` first, then in order of appearance."""
    counts = np.asarray(counts)
    labels = np.asarray(classes)
    classes = [c for c in order if c in set(classes)] + list(classes)
    return {
        str(c): {
            f"pass@{k}": v for k, v in pass_at_k_from_counts(counts[labels == c], n, ks).items()
        }
        for c in dict.fromkeys(classes)
    }


def evaluate(
    model,
    tokenizer,
    task,
    problems,
    *,
    n: int,
    ks: Sequence[int] = DEFAULT_KS,
    max_new_tokens: int,
    seed: int,
    temperature: float = 1.0,
    prompts_per_batch: int = 64,
    progress: bool = False,
) -> dict[str, Any]:
    """Pass@K for each K (pooled and per class), mean score and response length.

    Sampling is seeded per batch from ``seed``, so the same model gives the same
    numbers. ``counts`` (correct answers per problem, in order) are returned too, and
    ``by_class`` when the problems carry a ``difficulty``.
    """
    ks = check_ks(ks, n)
    was_training = model.training
    model.eval()
    counts: list[int] = []
    total_score = 0.0
    total_tokens = 0
    batches = range(0, len(problems), prompts_per_batch)
    for start in tqdm(batches, desc="evaluate", disable=not progress, leave=False):
        batch = problems[start : start + prompts_per_batch]
        _, _, _, response_mask, texts = sample(
            model,
            tokenizer,
            [p.prompt for p in batch],
            n=n,
            max_new_tokens=max_new_tokens,
            seed=seed * 1_000_003 + start,
            temperature=temperature,
        )
        total_tokens += int(response_mask.sum())
        scores = task.scores([p for p in batch for _ in range(n)], texts)
        total_score += sum(scores)
        for b in range(len(batch)):
            counts.append(sum(task.correct(s) for s in scores[b * n : (b + 1) * n]))
    model.train(was_training)
    result: dict[str, Any] = {
        f"pass@{k}": v for k, v in pass_at_k_from_counts(counts, n, ks).items()
    }
    rows = len(problems) * n
    result["eval_score"] = total_score / rows
    result["eval_response_length"] = total_tokens / rows
    classes = [getattr(p, "difficulty", None) for p in problems]
    known = [c for c in classes if c is not None]
    if len(known) == len(classes):
        result["by_class"] = pass_at_k_by_class(
            counts, known, n, ks, order=getattr(task, "classes", ())
        )
    result["counts"] = counts
    return result


def evaluate_cached(
    model, tokenizer, task, problems, *, cache_dir: str | None, context: Any = None, **kwargs
):
    """``evaluate``, read from / written to ``cache_dir`` when given (keyed by every input
    but the model, and by ``context`` — what else changes the numbers, e.g. the precision —
    so only use it for a fixed model such as the warm start)."""
    if cache_dir is None:
        return evaluate(model, tokenizer, task, problems, **kwargs)
    settings = {k: v for k, v in kwargs.items() if k != "progress"}
    key = json.dumps(
        {
            "task": task.name,
            "problems": [p.prompt for p in problems],
            "context": context,
            **settings,
        },
        sort_keys=True,
        default=str,
    )
    path = os.path.join(cache_dir, f"eval-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    result = evaluate(model, tokenizer, task, problems, **kwargs)
    write_json_atomic(path, result)
    return result


def heldout_eval(
    args: Args, model, tokenizer, task, *, step: int, temperature: float, cache_dir: str | None
) -> dict[str, Any]:
    """Pass@K on the held-out problems at step t (counts and per-class values included).

    The evaluation seed depends on (task seed, t) only: every shaper and seed is evaluated
    on the same draws, so runs compare in pairs. With ``cache_dir`` (the warm start's
    folder), the result is cached there for every run, and the probe, to share.
    """
    with autocast(args):
        return evaluate_cached(
            model,
            tokenizer,
            task,
            task.heldout,
            n=args.eval_samples,
            ks=args.eval_ks,
            max_new_tokens=response_cap(args, task),
            seed=step_seed(args.task_seed, step, 2),
            temperature=temperature,
            progress=args.progress,
            cache_dir=cache_dir,
            context={"precision": args.precision} if args.precision != "fp32" else None,
        )
