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
from numpy.typing import ArrayLike
from tqdm.auto import tqdm

from advshape._files import write_json_atomic
from advshape.lm.config import Args, check_ks, response_cap
from advshape.lm.rollout import sample
from advshape.lm.setup import autocast, step_seed
from advshape.lm.stats import per_problem_pass_at_k

__all__ = [
    "DEFAULT_KS",
    "evaluate",
    "evaluate_cached",
    "heldout_eval",
    "pass_at_k_by_class",
    "pass_at_k_from_counts",
]

DEFAULT_KS = (1, 2, 4, 8, 16)
"""The K values :func:`evaluate` reports unless told others."""


def pass_at_k_from_counts(counts: ArrayLike, n: int, ks: Sequence[int]) -> dict[int, float]:
    """The mean over problems of the unbiased Pass@K estimate, from the correct counts c_i.

        Pass@K ≈ (1/P) Σ_i [1 − C(n − c_i, K)/C(n, K)]

    Args:
        counts: c_i, the correct samples of each problem.
        n: the samples per problem.
        ks: the K values, each ≤ n.

    Returns:
        ``{K: Pass@K}``.

    Example:
        >>> from advshape.lm.evaluate import pass_at_k_from_counts
        >>> pass_at_k_from_counts([0, 2, 4], 4, [1, 2])  # (0 + 1/2 + 1)/3, (0 + 5/6 + 1)/3
        {1: 0.5, 2: 0.611111111111111}

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2; Eq. 11); Chen et al. 2021 (the unbiased estimator),
        https://arxiv.org/abs/2107.03374.
    """
    return {int(k): float(per_problem_pass_at_k(counts, n, int(k)).mean()) for k in ks}


def pass_at_k_by_class(
    counts: ArrayLike,
    classes: Sequence[str],
    n: int,
    ks: Sequence[int],
    order: Sequence[str] = (),
) -> dict[str, dict[str, float]]:
    """Pass@K of each difficulty class: the mean over that class's problems.

    Args:
        counts: c_i, the correct samples of each problem.
        classes: each problem's class.
        n: the samples per problem.
        ks: the K values, each ≤ n.
        order: the classes to list first (the task's report order); the others follow in
            order of appearance.

    Returns:
        ``{class: {"pass@K": value}}`` for every class present.

    Example:
        >>> from advshape.lm.evaluate import pass_at_k_by_class
        >>> by_class = pass_at_k_by_class([0, 2, 4], ["easy", "hard", "easy"], 4, [1],
        ...                               order=("hard", "easy"))
        >>> {c: round(v["pass@1"], 12) for c, v in by_class.items()}
        {'hard': 0.5, 'easy': 0.5}

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2; Eq. 11); Chen et al. 2021 (the unbiased estimator),
        https://arxiv.org/abs/2107.03374.
    """
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
    model: Any,
    tokenizer: Any,
    task: Any,
    problems: Sequence[Any],
    *,
    n: int,
    ks: Sequence[int] = DEFAULT_KS,
    max_new_tokens: int,
    seed: int,
    temperature: float = 1.0,
    prompts_per_batch: int = 64,
    progress: bool = False,
) -> dict[str, Any]:
    """Pass@K of a model on problems, by the unbiased estimator from n samples each.

    Sampling is seeded per batch from ``seed``, so the same model gives the same numbers;
    the model is evaluated in eval mode and left in the mode it was in.

    Args:
        model: the causal language model.
        tokenizer: its tokenizer.
        task: the task whose verifier scores the answers (``task.scores``, ``task.correct``).
        problems: the problems.
        n: samples per problem.
        ks: the K values, each ≤ n.
        max_new_tokens: the longest response.
        seed: the seed of the samples.
        temperature: the sampling temperature.
        prompts_per_batch: problems sampled at once.
        progress: show a progress bar.

    Returns:
        ``{"pass@K": ..., "eval_score": mean score, "eval_response_length": mean tokens,
        "counts": correct samples per problem, in order}``, and ``by_class`` when the problems
        carry a ``difficulty``.

    Raises:
        ValueError: a K outside 1..n.

    Example:
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.tasks import Task
        >>> task = Task("palindrome", seed=0, n_train=4, n_eval=2)
        >>> tokenizer = build_tokenizer(task.alphabet)
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> from advshape.lm.evaluate import evaluate
        >>> result = evaluate(model, tokenizer, task, task.heldout, n=4, ks=(1, 2),
        ...                   max_new_tokens=11, seed=0)
        >>> sorted(result), result["counts"]  # an untrained model: no palindrome
        (['by_class', 'counts', 'eval_response_length', 'eval_score', 'pass@1', 'pass@2'], [0, 0])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2; Eq. 11); Chen et al. 2021 (the unbiased estimator),
        https://arxiv.org/abs/2107.03374.
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
    model: Any,
    tokenizer: Any,
    task: Any,
    problems: Sequence[Any],
    *,
    cache_dir: str | None,
    context: Any = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`evaluate`, read from or written to a cache folder when one is given.

    The cache is keyed by every input but the model, and by ``context`` (what else changes
    the numbers, e.g. the precision): use it only for a fixed model, such as the warm start
    every run of a comparison starts from.

    Args:
        model: the causal language model.
        tokenizer: its tokenizer.
        task: the task.
        problems: the problems.
        cache_dir: the cache folder, or None (no cache).
        context: anything else that decides the numbers, part of the key.
        **kwargs: :func:`evaluate`'s keyword arguments.

    Returns:
        :func:`evaluate`'s result (read back from JSON when cached).

    Example:
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.tasks import Task
        >>> task = Task("palindrome", seed=0, n_train=4, n_eval=2)
        >>> tokenizer = build_tokenizer(task.alphabet)
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> import os
        >>> from advshape.lm.evaluate import evaluate_cached
        >>> settings = dict(n=4, ks=(1, 2), max_new_tokens=11, seed=0, cache_dir="evals")
        >>> first = evaluate_cached(model, tokenizer, task, task.heldout, **settings)
        >>> again = evaluate_cached(model, tokenizer, task, task.heldout, **settings)  # read
        >>> first == again, len(os.listdir("evals"))
        (True, 1)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2; Eq. 11); Chen et al. 2021 (the unbiased estimator),
        https://arxiv.org/abs/2107.03374.
    """
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
    args: Args,
    model: Any,
    tokenizer: Any,
    task: Any,
    *,
    step: int,
    temperature: float,
    cache_dir: str | None,
) -> dict[str, Any]:
    """Pass@K on a run's held-out problems at step t (counts and per-class values included).

    The evaluation seed depends on (task seed, t) only: every shaper and seed is evaluated
    on the same draws, so runs compare in pairs. With ``cache_dir`` (the warm start's
    folder), the result is cached there for every run, and the probe, to share.

    Args:
        args: the run's options (``eval_samples``, ``eval_ks``, ``precision``, ...).
        model: the policy.
        tokenizer: its tokenizer.
        task: the run's task.
        step: t (0: the start).
        temperature: the sampling temperature.
        cache_dir: where to cache the result, or None.

    Returns:
        :func:`evaluate`'s result.

    Example:
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.tasks import Task
        >>> task = Task("palindrome", seed=0, n_train=4, n_eval=2)
        >>> tokenizer = build_tokenizer(task.alphabet)
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> from advshape.lm.config import Args
        >>> from advshape.lm.evaluate import heldout_eval
        >>> args = Args(task="palindrome", n_train=4, eval_problems=2, eval_samples=4,
        ...             eval_ks=(1, 2), progress=False)
        >>> result = heldout_eval(args, model, tokenizer, task, step=0, temperature=1.0,
        ...                       cache_dir=None)
        >>> result["pass@2"], len(result["counts"])
        (0.0, 2)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2; Eq. 11); Chen et al. 2021 (the unbiased estimator),
        https://arxiv.org/abs/2107.03374.
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
