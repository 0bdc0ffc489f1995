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

#: Bump when the warm start's procedure changes, so stale caches are not reused.
WARMSTART_VERSION = 2


@dataclasses.dataclass(frozen=True)
class WarmStartConfig:
    steps: int = 500
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.0
    seed: int = 0


def cache_key(description: dict[str, Any]) -> str:
    blob = json.dumps(description, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def supervised_finetune(
    model, tokenizer, task, config: WarmStartConfig, *, progress: bool = True
) -> list[float]:
    """Cross-entropy training on (prompt, reference) pairs of ``task.train``; returns the loss
    per step. Each pair's reference is drawn anew by ``task.reference`` (uniform among the
    problem's correct answers, for tasks that list them)."""
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
    task,
    tokenizer,
    make_model,
    model_description: dict[str, Any],
    config: WarmStartConfig,
    cache_dir: str,
    progress: bool = True,
) -> tuple[str, dict[str, Any]]:
    """Path of the warm-started checkpoint (trained now, or found in the cache) and its stats.

    ``make_model()`` returns the initial model (random or loaded); it is called only
    when the cache misses. Its held-out evaluation is the RL runs' step 0, cached beside it
    (``advshape.lm.evaluate.evaluate_cached``).
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
