"""Warm start: short supervised training on correct answers drawn by the task.

RL with 0/1 rewards learns only from groups that contain both a correct and a wrong
response, so a randomly initialised model (Pass@K ≈ 0) would never move. The warm
start minimises the token cross-entropy −(1/Σ|y|) Σ_i Σ_t log π(y_it | x_i, y_i,<t)
of answers y_i drawn by ``task.reference`` (uniform among a problem's correct answers, for
the tasks that list them; reasoning-gym's reference for the gym tasks) on train problems,
for a short, fixed budget that leaves room for RL to improve.

The result is cached under ``cache_dir/warmstart-<hash>/`` (a ``save_pretrained``
folder plus ``warmstart.json``), keyed by everything that determines it, so every
RL run of a comparison starts from the very same weights.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from advshape._files import make_temp_dir
from advshape.lm.model import save_pretrained_atomic
from advshape.lm.rollout import encode_prompts, encode_responses, token_logprobs

__all__ = ["WARMSTART_VERSION", "WarmStartConfig", "supervised_finetune", "warm_start_cached"]

WARMSTART_VERSION = 2
"""The version of the warm start's procedure, part of its cache key: bumped when the
procedure changes, so that stale caches are not reused."""


@dataclasses.dataclass(frozen=True)
class WarmStartConfig:
    """The warm start's budget and optimiser (AdamW, linear warm-up over 5 % then decay).

    Attributes:
        steps: supervised steps (0: no warm start, the model as given).
        batch_size: problems per step.
        lr: the peak learning rate.
        weight_decay: AdamW's weight decay.
        seed: the seed of the problems and reference answers drawn.

    Example:
        >>> from advshape.lm.warmstart import WarmStartConfig
        >>> WarmStartConfig(steps=300)
        WarmStartConfig(steps=300, batch_size=128, lr=0.003, weight_decay=0.0, seed=0)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RL with 0/1 rewards learns only from groups with both correct and wrong responses:
        Sec. 2); Guo et al. 2025 (supervised warm start before RL, DeepSeek-R1),
        https://arxiv.org/abs/2501.12948.
    """

    steps: int = 500
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.0
    seed: int = 0


def cache_key(description: dict[str, Any]) -> str:
    """The first 16 hex digits of the SHA-256 of a description, as sorted JSON."""
    blob = json.dumps(description, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def supervised_finetune(
    model: Any, tokenizer: Any, task: Any, config: WarmStartConfig, *, progress: bool = True
) -> list[float]:
    """Supervised training on correct answers of the train problems: the warm start.

        L(θ) = −(1/Σ|y|) Σ_i Σ_t log π_θ(y_it | x_i, y_i,<t)

    Each pair's answer is drawn anew by ``task.reference`` (uniform among the problem's
    correct answers, for tasks that list them); gradients are clipped to norm 1.

    Args:
        model: the model, trained in place.
        tokenizer: its tokenizer.
        task: the task (its ``train`` problems and ``reference``).
        config: the budget and optimiser.
        progress: show a progress bar.

    Returns:
        The loss of each step (empty for ``config.steps == 0``).

    Example:
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.tasks import Task
        >>> task = Task("palindrome", seed=0, n_train=4, n_eval=2)
        >>> tokenizer = build_tokenizer(task.alphabet)
        >>> small = TinyModelConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        ...                         num_attention_heads=2)
        >>> from advshape.lm.warmstart import WarmStartConfig, supervised_finetune
        >>> model = build_model(tokenizer, small, seed=0)
        >>> losses = supervised_finetune(model, tokenizer, task, WarmStartConfig(steps=3, batch_size=2),
        ...                              progress=False)
        >>> len(losses), all(2.0 < loss < 4.0 for loss in losses)  # ≈ log 30 tokens at the start
        (3, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RL with 0/1 rewards learns only from groups with both correct and wrong responses:
        Sec. 2); Guo et al. 2025 (supervised warm start before RL, DeepSeek-R1),
        https://arxiv.org/abs/2501.12948.
    """
    if config.steps == 0:
        return []  # --warmstart-steps 0: RL starts from the model as given
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    # Linear warm-up over 5% of the steps, then linear decay to 0.
    warmup = max(1, config.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / warmup, max(0.0, (config.steps - s) / (config.steps - warmup + 1))),
    )
    problems = task.train
    rng = np.random.default_rng(config.seed)
    model.train()
    losses = []
    bar = tqdm(range(config.steps), desc="warm start (SFT)", disable=not progress)
    for _ in bar:
        idx = rng.choice(len(problems), size=min(config.batch_size, len(problems)), replace=False)
        batch = [problems[i] for i in idx]
        prompt_ids, prompt_mask = encode_prompts(tokenizer, [p.prompt for p in batch], device)
        response_ids, response_mask = encode_responses(
            tokenizer, [task.reference(p, rng) for p in batch], device
        )
        logp = token_logprobs(model, prompt_ids, prompt_mask, response_ids, response_mask)
        loss = -logp.sum() / response_mask.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    return losses


def warm_start_cached(
    *,
    task: Any,
    tokenizer: Any,
    make_model: Any,
    model_description: dict[str, Any],
    config: WarmStartConfig,
    cache_dir: str,
    progress: bool = True,
) -> tuple[str, dict[str, Any]]:
    """The warm-started checkpoint, trained now or found in the cache, and its stats.

    The cache folder ``cache_dir/warmstart-<hash>`` is keyed by everything that decides the
    result (task, model, budget, procedure version) and written atomically; of two processes
    that train the same warm start, the first one's is kept.

    Args:
        task: the task.
        tokenizer: the model's tokenizer.
        make_model: ``make_model()`` returns the initial model (random or loaded); called only
            when the cache misses.
        model_description: what identifies the initial model (part of the cache key).
        config: the budget and optimiser.
        cache_dir: the cache folder.
        progress: show a progress bar.

    Returns:
        ``(path, stats)``: the checkpoint folder and ``{"description", "final_loss",
        "seconds"}``.

    Example:
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.tasks import Task
        >>> task = Task("palindrome", seed=0, n_train=4, n_eval=2)
        >>> tokenizer = build_tokenizer(task.alphabet)
        >>> small = TinyModelConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        ...                         num_attention_heads=2)
        >>> from advshape.lm.warmstart import WarmStartConfig, warm_start_cached
        >>> settings = dict(task=task, tokenizer=tokenizer, model_description={"tiny": "small"},
        ...                 config=WarmStartConfig(steps=2, batch_size=2), cache_dir="cache",
        ...                 progress=False)
        >>> path, stats = warm_start_cached(make_model=lambda: build_model(tokenizer, small, seed=0),
        ...                                 **settings)
        >>> calls = []  # a second call finds the cache: make_model is not called
        >>> warm_start_cached(make_model=lambda: calls.append(1), **settings) == (path, stats), calls
        (True, [])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RL with 0/1 rewards learns only from groups with both correct and wrong responses:
        Sec. 2); Guo et al. 2025 (supervised warm start before RL, DeepSeek-R1),
        https://arxiv.org/abs/2501.12948.
    """
    description = {
        "version": WARMSTART_VERSION,
        "task": task.name,
        "task_seed": task.seed,
        "n_train": len(task.train),
        "task_config": task.spec.config,
        "model": model_description,
        "warmstart": dataclasses.asdict(config),
    }
    path = os.path.join(cache_dir, f"warmstart-{cache_key(description)}")
    stats_path = os.path.join(path, "warmstart.json")
    if os.path.exists(stats_path):
        with open(stats_path) as f:
            return path, json.load(f)

    model = make_model()
    start = time.perf_counter()
    losses = supervised_finetune(model, tokenizer, task, config, progress=progress)
    seconds = time.perf_counter() - start
    stats = {
        "description": description,
        "final_loss": losses[-1] if losses else None,
        "seconds": seconds,
    }
    # Written into a folder of our own, then renamed into place: a crash leaves no half
    # cache behind, and of two processes that trained the same warm start the first wins.
    os.makedirs(cache_dir, exist_ok=True)
    tmp = make_temp_dir(cache_dir, ".warmstart-")
    save_pretrained_atomic(model, tokenizer, os.path.join(tmp, "model"))
    with open(os.path.join(tmp, "model", "warmstart.json"), "w") as f:
        json.dump(stats, f, indent=2)
    if os.path.exists(stats_path):  # another process finished it meanwhile: use theirs
        shutil.rmtree(tmp, ignore_errors=True)
        with open(stats_path) as f:
            return path, json.load(f)
    if os.path.exists(path):  # an incomplete folder (no warmstart.json): replace it
        shutil.rmtree(path, ignore_errors=True)
    os.replace(os.path.join(tmp, "model"), path)
    shutil.rmtree(tmp, ignore_errors=True)
    return path, stats
