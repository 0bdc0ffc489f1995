"""RLVR of a small language model with any advantage shaper — one file, top to bottom.

Each step t:

1. pick B train problems (a seeded walk through the train set: no repeats in a run);
2. sample N responses per problem (``--temperature``, default 1) with the KV cache;
3. score them with the task's verifier: r ∈ [0, 1]; the binary shapers get
   r₀/₁ = 1[r ≥ 1], pkpo and maxpo the raw score (``--reward auto``);
4. advantages A = shaper.advantages(r.reshape(B, N)) — any ``advshape.shaper`` spec;
5. policy-gradient step on the paper's objective (App. A, Eq. 27, no KL, no 1/|y|):

       J(θ) = (1/(B·N)) Σ_i Σ_t min(γ_it A_i, clip(γ_it, 1−ε, 1+ε) A_i),
       γ_it = π_θ(y_it | x, y_i,<t) / π_θold(y_it | x, y_i,<t).

   Fully online (``--ppo-epochs 1``, the default and the setting the paper analyses)
   γ ≡ 1 and ∇J = (1/(B·N)) Σ_i A_i ∇ log π_θ(y_i | x), Eq. (29). ``--ppo-epochs E``
   reuses the same samples for E updates with the clip active. ``--loss-aggregation``
   picks how token terms are summed: ``sum`` (default; Eq. 27: Σ_t, divided by B·N),
   ``token-mean`` (divided by the batch's total response tokens, as DAPO) or
   ``seq-mean`` (each response's Σ_t divided by |y_i|: original GRPO's 1/|y|).
   The loss pass runs each distinct prompt once, its N responses reusing its states
   (gradients included), then the responses in buckets of similar length
   (:mod:`advshape.lm.loss`).

Every E steps (``--eval-every``) Pass@K on held-out problems is estimated from n
samples each (``--eval-samples``); every step logs train reward, the fraction of
zero-variance groups (no learning signal for a mean-centred shaper), entropy,
response length, samples/tokens per second and the step's time split (sampling, scoring,
loss forward, backward).

A run folder holds ``config.json``, ``metrics.jsonl``, ``checkpoint.pt`` (model,
optimizer, step; written atomically at each evaluation) and, at the end,
``model/`` (``save_pretrained``) and ``report.html``. ``--resume`` continues from the
checkpoint; since every random draw of step t is seeded from (seed, t), the resumed
run's metrics equal an uninterrupted run's (wall-clock fields aside) with no RNG state
to save: problems, samples and evaluation draws of step t never depend on earlier steps.

The options and their checks are in :mod:`advshape.lm.config`, the run's starting point
(task, warm start, threads, seeds) in :mod:`advshape.lm.setup`.

Use from Python: ``train(Args(...)) -> dict`` (final metrics and history).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

import advshape
from advshape._files import read_jsonl, write_jsonl_atomic
from advshape.lm.config import (
    Args,
    check_run_folder,
    check_task_fits,
    resolve_reward_mode,
    response_cap,
    run_folder,
    run_settings,
    validate,
)
from advshape.lm.evaluate import heldout_eval
from advshape.lm.loss import loss_pass, shared_prompt_batch
from advshape.lm.model import load_pretrained, n_parameters, save_pretrained_atomic
from advshape.lm.report import write_run_report
from advshape.lm.rollout import sample
from advshape.lm.setup import (
    autocast,
    make_task,
    package_versions,
    set_threads,
    starting_checkpoint,
    step_seed,
)

__all__ = ["TrainingDiverged", "step_problems", "train", "train_runs"]


class TrainingDiverged(FloatingPointError, RuntimeError):
    """The loss or gradient became NaN/inf; the last good checkpoint is kept.

    A ``FloatingPointError``, so the command line reports it in one line; the run folder is
    marked failed (``failed.json``) and a rerun with corrected options replaces it.

    Example:
        >>> from advshape.lm.train import TrainingDiverged
        >>> issubclass(TrainingDiverged, FloatingPointError)
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the policy-gradient step, App. A).
    """


def step_problems(n_problems: int, batch: int, seed: int, step: int) -> list[int]:
    """Indices of step t's B train problems: consecutive slices of seeded permutations.

    A run walks through a permutation of the train problems, so no problem repeats until
    all have been used; the draw depends only on (seed, t), so resumed runs and every
    shaper run with the same seed see the same problems.

    Args:
        n_problems: the train problems.
        batch: B, the problems per step.
        seed: the run's seed.
        step: t, from 1.

    Returns:
        B problem indices.

    Example:
        >>> from advshape.lm.train import step_problems
        >>> [step_problems(10, 4, seed=0, step=t) for t in (1, 2, 3)]  # step 3 starts a new sweep
        [[9, 8, 7, 2], [6, 3, 4, 1], [0, 5, 8, 3]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (examples drawn from a training set, Sec. 2).
    """
    out: list[int] = []
    position = (step - 1) * batch
    while len(out) < batch:
        sweep, offset = divmod(position + len(out), n_problems)
        perm = np.random.default_rng(step_seed(seed, sweep, 3)).permutation(n_problems)
        out.extend(int(i) for i in perm[offset : offset + batch - len(out)])
    return out


def train(args: Args) -> dict[str, Any]:
    """Run (or resume) one RL run of a small language model with any shaper (module docstring).

    Every option is checked before anything is written; each step samples N responses per
    problem, shapes their rewards into advantages and ascends the paper's Eq. (27); the run
    folder ``args.out`` holds the metrics, checkpoints, the final model and a report.

    Args:
        args: the run's options.

    Returns:
        ``{"finished": bool, "final": the last evaluation record, "history": every record}``.

    Raises:
        ValueError: a bad option (naming it), or ``--out`` holding another run.
        TrainingDiverged: the loss or gradient became NaN/inf.

    Example:
        >>> import os
        >>> from advshape.lm.config import Args
        >>> from advshape.lm.train import train
        >>> train(Args(shaper="grpo_k:k=32", samples_per_prompt=16, out="runs/k32"))
        Traceback (most recent call last):
        ...
        ValueError: --shaper 'grpo_k:k=32' with --samples-per-prompt 16: shaper 'grpo_k:k=32': k=32 > group size n=16; its unbiased Pass@K estimator needs n >= k: sample at least 32 responses per prompt, lower k, or use 'biased_k:k=32', which is defined for any k
        >>> os.path.exists("runs/k32")  # refused before anything was written
        False

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eqs. 27–29); Shao et al. 2024 (GRPO), https://arxiv.org/abs/2402.03300.
    """
    shaper = validate(args)
    resuming = check_run_folder(args)  # reads only: nothing is written before the run starts
    folder = run_folder(args)
    # K schedules (grpo_k:k=linear(16,1)): step t's shaper depends only on (t, steps), so a
    # resumed run shapes every step as the uninterrupted one. Fixed shapers: a constant.
    schedule = advshape.scheduled(shaper)
    set_threads(args.threads, progress=args.progress)
    metrics_path = os.path.join(args.out, "metrics.jsonl")
    checkpoint_path = os.path.join(args.out, "checkpoint.pt")

    reward_mode = resolve_reward_mode(args, shaper)
    task = make_task(args)
    check_task_fits(args, task)
    max_new_tokens = response_cap(args, task)
    start_path, warm_stats = starting_checkpoint(args, task, progress=args.progress)
    model, tokenizer = load_pretrained(start_path, args.device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

    start_step = 0
    records: list[dict[str, Any]] = []
    if not resuming:  # a fresh run, or a replaceable one (failed, or no step done): start over
        folder.start_afresh("metrics.jsonl", "checkpoint.pt")
    if resuming and os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path, map_location=args.device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_step = state["step"]
        # Records past the checkpoint were written by the interrupted tail: redo them.
        saved = read_jsonl(metrics_path, fix="delete the run folder or choose another --out")
        records = [r for r in saved if r["step"] <= start_step]
    folder.write_config(
        {
            "args": run_settings(args),
            "shaper": {"spec": shaper.spec, "info": shaper.info._asdict()},
            "reward_mode": reward_mode,
            "warm_start": {"path": start_path, **warm_stats},
            "n_parameters": n_parameters(model),
            "max_new_tokens": max_new_tokens,
            "heldout_classes": [p.difficulty for p in task.heldout],
            "classes": list(task.classes),
            "versions": package_versions(),
        }
    )

    last_checkpoint = start_step

    def save_checkpoint(step: int) -> None:
        nonlocal last_checkpoint
        last_checkpoint = step
        tmp = checkpoint_path + ".tmp"
        torch.save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step},
            tmp,
        )
        os.replace(tmp, checkpoint_path)

    def run_eval(step: int) -> dict[str, Any]:
        # Step 0 evaluates the warm start, identical for every run: cached beside it.
        result = heldout_eval(
            args,
            model,
            tokenizer,
            task,
            step=step,
            temperature=args.temperature,
            cache_dir=start_path if step == 0 else None,
        )
        return {
            "kind": "eval",
            "step": step,
            "samples": step * args.prompts_per_step * args.samples_per_prompt,
            **result,
        }

    if start_step == 0 and not records:
        records.append(run_eval(0))
        write_jsonl_atomic(metrics_path, records)
        save_checkpoint(0)

    B, N = args.prompts_per_step, args.samples_per_prompt
    end_step = args.steps
    if args.stop_after:
        end_step = min(end_step, start_step + args.stop_after)
    bar = tqdm(
        range(start_step + 1, end_step + 1),
        desc=f"RL {shaper.spec} seed {args.seed}",
        disable=not args.progress,
        initial=start_step,
        total=args.steps,
    )
    for step in bar:
        # The learning rate of step t depends only on (t, T): a resumed run follows it exactly.
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args, step)
        # 1. problems of this step: no repeats within a run, the same for every shaper
        problems = [task.train[i] for i in step_problems(len(task.train), B, args.seed, step)]

        # 2. sample N responses per problem
        t0 = time.perf_counter()
        model.eval()
        with autocast(args):
            prompt_ids, prompt_mask, response_ids, response_mask, texts = sample(
                model,
                tokenizer,
                [p.prompt for p in problems],
                n=N,
                max_new_tokens=max_new_tokens,
                seed=step_seed(args.seed, step, 1),
                temperature=args.temperature,
            )
        model.train()
        t1 = time.perf_counter()

        # 3. score; 4. advantages from the shaper, one group of N per problem
        scores = np.asarray(task.scores([p for p in problems for _ in range(N)], texts))
        correct = (scores >= 1.0).astype(np.float64)
        rewards = correct if reward_mode == "binary" else scores
        step_shaper = schedule.at(step, args.steps)
        advantages = step_shaper.advantages(torch.from_numpy(rewards.reshape(B, N)))
        advantages = advantages.reshape(B * N).to(torch.float32).to(args.device)
        t2 = time.perf_counter()

        # 5. policy-gradient step(s) on −J(θ), the first epoch's log-probs as π_θold
        batch = shared_prompt_batch(
            prompt_ids, prompt_mask, response_ids, response_mask, advantages, group_size=N
        )
        old_logps = None
        forward_s = backward_s = 0.0
        for epoch in range(args.ppo_epochs):
            optimizer.zero_grad(set_to_none=True)
            f0 = time.perf_counter()
            loss, logps, entropy_sum = loss_pass(
                model,
                batch,
                old_logps,
                clip=args.clip,
                aggregation=args.loss_aggregation,
                autocast=functools.partial(autocast, args),
            )
            f1 = time.perf_counter()
            loss.backward()
            loss = loss.detach()
            forward_s += f1 - f0
            backward_s += time.perf_counter() - f1
            if epoch == 0:
                old_logps = logps  # π_θold = the sampling policy (γ = 1 in this epoch)
                mean_entropy = entropy_sum / max(batch.tokens, 1)
            f1 = time.perf_counter()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            if not (torch.isfinite(loss) and torch.isfinite(grad_norm)):
                message = (
                    f"step {step}: loss={loss.item()} grad_norm={grad_norm.item()} is not finite; "
                    f"stopped without updating. The last good checkpoint (step {last_checkpoint}) "
                    f"is kept in {checkpoint_path!r}; lower --lr and rerun (the run in "
                    f"{args.out!r} is marked failed, so the rerun replaces it)"
                )
                folder.mark_failed(message)
                raise TrainingDiverged(message)
            optimizer.step()
            backward_s += time.perf_counter() - f1
        seconds = time.perf_counter() - t0

        n_tokens = batch.tokens
        groups = correct.reshape(B, N)
        records.append(
            {
                "kind": "train",
                "step": step,
                "samples": step * B * N,
                "loss": float(loss),
                "grad_norm": float(grad_norm),
                "train_reward": float(correct.mean()),
                "train_score": float(scores.mean()),
                "zero_variance_groups": float(np.mean(groups.min(1) == groups.max(1))),
                "mean_abs_advantage": float(advantages.abs().mean()),
                "entropy": mean_entropy,
                "response_length": n_tokens / (B * N),
                "samples_per_s": B * N / seconds,
                "tokens_per_s": n_tokens / seconds,
                "sample_seconds": t1 - t0,
                "score_seconds": t2 - t1,
                "forward_seconds": forward_s,
                "backward_seconds": backward_s,
                "step_seconds": seconds,
                # the values of scheduled shaper parameters at this step, e.g. shaper_k
                **{f"shaper_{k}": v for k, v in schedule.values_at(step, args.steps).items()},
            }
        )
        bar.set_postfix(reward=f"{correct.mean():.3f}")
        if step % args.eval_every == 0 or step == args.steps:
            records.append(run_eval(step))
            save_checkpoint(step)
        write_jsonl_atomic(metrics_path, records)

    finished = records[-1]["step"] == args.steps and records[-1]["kind"] == "eval"
    if finished:
        save_pretrained_atomic(model, tokenizer, os.path.join(args.out, "model"))
        if args.report:
            write_run_report(args.out)
        folder.clear_failed()
    evals = [r for r in records if r["kind"] == "eval"]
    return {"finished": finished, "final": evals[-1], "history": records}


def learning_rate(args: Args, step: int) -> float:
    """The learning rate of step t (1-based) of T: constant, or cosine-decayed from --lr."""
    if args.lr_schedule == "constant":
        return args.lr
    return args.lr * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / args.steps))


def train_runs(runs: Sequence[Args], *, jobs: int = 1, progress: bool = True) -> None:
    """Train several runs, one after the other or ``jobs`` at a time, each in its own process.

    Runs are independent (each seeds its own draws), so the results are the same either way.
    Each run checks its options as it starts: check them all first (``advshape compare``
    does, with ``validate_compare``) to refuse a bad one before any run trains.

    Args:
        runs: the runs' options.
        jobs: runs trained at once (1: in this process, one after the other).
        progress: show a progress bar over the runs.

    Raises:
        ValueError: a run's bad option; the runs before it have finished.
        TrainingDiverged: a run diverged.

    Example:
        >>> from advshape.lm.config import Args
        >>> from advshape.lm.train import train_runs
        >>> train_runs([Args(task="palindrome", eval_ks=(1, 64))])  # n = 32 samples: K ≤ 32
        Traceback (most recent call last):
        ...
        ValueError: --eval-ks: Pass@K needs 1 <= K <= n, but K=[64] with n=32 samples per problem; raise --eval-samples to at least 64 or drop those K

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K needs K ≤ n, Eq. 11).
    """
    if jobs == 1:
        for run in runs:
            train(run)
        return
    quiet = [dataclasses.replace(run, progress=False) for run in runs]
    context = multiprocessing.get_context("spawn")  # no forked torch thread pools
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(train, run) for run in quiet]
        for future in tqdm(
            as_completed(futures), total=len(futures), desc="runs", disable=not progress
        ):
            future.result()  # re-raises a run's error here
