"""The trainer's policy loss (the paper's App. A, Eq. 27) and the pass that computes it.

One step's loss pass runs each distinct prompt through the model once, its N responses
reusing the prompt's states (gradients included: :func:`advshape.lm.rollout.prompt_states`),
then the responses in buckets of similar length, each padded only to its own longest
response (:func:`length_buckets`). The buckets' losses add up to the batch's loss: each is
divided by the whole batch's row and token counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from advshape.lm.rollout import prompt_states, response_logprobs

#: The fixed cost of one more forward/backward call of the loss pass, in padded response
#: tokens (measured on the tiny model: ~0.9 ms a call against ~7 µs a token).
BUCKET_OVERHEAD_TOKENS = 128


def policy_loss(
    logp,
    old_logp,
    response_mask,
    advantages,
    *,
    clip: float,
    aggregation: str,
    rows: int | None = None,
    tokens=None,
):
    """−J(θ) of Eq. (27) for one batch or one bucket of it: clipped ratio objective.

        J(θ) = (1/rows) Σ_i Σ_t min(γ_it A_i, clip(γ_it, 1−ε, 1+ε) A_i),
        γ_it = π_θ(y_it | x, y_i,<t) / π_θold(y_it | x, y_i,<t).

    ``logp``/``old_logp``: [rows, T] per-token log-probs (0 on padding); ``advantages``:
    [rows]. With logp == old_logp (first epoch) the ratio is 1 and the gradient is
    −(1/rows) Σ_i A_i Σ_t ∇ log π(y_it) for ``sum`` aggregation; ``token-mean`` divides by
    the response tokens instead (DAPO), ``seq-mean`` each response's sum by its length
    (original GRPO's 1/|y|). ``rows`` and ``tokens`` are the whole batch's row and
    response-token counts when this is one bucket of it (the buckets' losses then add up
    to the batch's loss); by default, this batch's own.
    """
    ratio = torch.exp(logp - old_logp)
    adv = advantages.unsqueeze(1)
    objective = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)
    objective = objective * response_mask
    rows = response_mask.shape[0] if rows is None else rows
    if aggregation == "sum":
        total = objective.sum() / rows
    elif aggregation == "token-mean":
        tokens = response_mask.sum() if tokens is None else tokens
        total = objective.sum() / max(int(tokens), 1)
    else:  # seq-mean
        per_row = objective.sum(1) / response_mask.sum(1).clamp(min=1)
        total = per_row.sum() / rows
    return -total


def length_buckets(
    lengths: Sequence[int], *, overhead: int = BUCKET_OVERHEAD_TOKENS
) -> list[list[int]]:
    """Rows grouped by response length for the loss pass, each group padded only to its own
    longest response: rows sorted by length, cut where the total padded width plus
    ``overhead`` per group is least (exact, by dynamic programming over the distinct lengths).
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    values = sorted(set(lengths))
    counts = [sum(1 for x in lengths if x == v) for v in values]
    # best[j]: least cost of the rows of the j shortest distinct lengths; cut[j]: where the
    # last group of that solution starts (an index into values)
    best = [0.0] + [float("inf")] * len(values)
    cut = [0] * (len(values) + 1)
    for j in range(1, len(values) + 1):
        rows = 0
        for i in range(j, 0, -1):  # the last group holds distinct lengths i-1 .. j-1
            rows += counts[i - 1]
            cost = best[i - 1] + rows * values[j - 1] + overhead
            if cost < best[j]:
                best[j], cut[j] = cost, i - 1
    sizes, j = [], len(values)
    while j > 0:
        sizes.append(sum(counts[cut[j] : j]))
        j = cut[j]
    buckets, start = [], 0
    for size in reversed(sizes):
        buckets.append(order[start : start + size])
        start += size
    return buckets


@dataclass(frozen=True)
class Bucket:
    """Rows of similar response length: which prompt each uses, responses cut to their width."""

    prompt_rows: Any  # [r] index of each row's prompt among the distinct prompts
    response_ids: Any  # [r, width]
    response_mask: Any  # [r, width]
    advantages: Any  # [r]


@dataclass(frozen=True)
class SharedPromptBatch:
    """One step's samples arranged for the loss pass (B prompts × N responses, prompt-major)."""

    prompt_ids: Any  # [B, P] each distinct prompt once
    prompt_mask: Any  # [B, P]
    buckets: list[Bucket]
    rows: int  # B·N responses
    tokens: int  # response tokens in the batch


def shared_prompt_batch(
    prompt_ids, prompt_mask, response_ids, response_mask, advantages, *, group_size: int
) -> SharedPromptBatch:
    """The batch of :func:`loss_pass` from sampled rows: prompt ``i // group_size`` for row i."""
    lengths = response_mask.sum(1).tolist()
    prompt_rows = torch.arange(len(lengths), device=prompt_ids.device) // group_size
    buckets = []
    for rows in length_buckets(lengths):
        index = torch.as_tensor(rows, device=prompt_ids.device)
        width = max(lengths[i] for i in rows)
        buckets.append(
            Bucket(
                prompt_rows[index],
                response_ids[index, :width],
                response_mask[index, :width],
                advantages[index.to(advantages.device)],
            )
        )
    return SharedPromptBatch(
        prompt_ids[::group_size],
        prompt_mask[::group_size],
        buckets,
        rows=len(lengths),
        tokens=sum(lengths),
    )


def loss_pass(
    model,
    batch: SharedPromptBatch,
    old_logps: Sequence[Any] | None,
    *,
    clip: float,
    aggregation: str,
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
) -> tuple[Any, list[Any], float]:
    """−J(θ) of one step's batch, its graph kept for ``backward``; also each bucket's log-probs
    (detached: π_θold of later epochs) and the summed entropy of the response tokens.

    ``old_logps``: the sampling policy's log-probs per bucket (from the first epoch's pass);
    ``None`` in the first epoch, where π_θold = π_θ (γ = 1). ``autocast()`` wraps the model's
    calls (``--precision``); the loss itself is computed in float32.
    """
    loss = torch.zeros((), device=batch.buckets[0].advantages.device if batch.buckets else None)
    logps: list[Any] = []
    entropy_sum = 0.0
    with autocast():
        states = prompt_states(model, batch.prompt_ids, batch.prompt_mask)
    for b, bucket in enumerate(batch.buckets):
        with autocast():
            logp, entropy = response_logprobs(
                model,
                states,
                batch.prompt_mask,
                bucket.prompt_rows,
                bucket.response_ids,
                bucket.response_mask,
                entropy=True,
            )
        logps.append(logp.detach())
        entropy_sum += float(entropy.sum())
        old = logps[b] if old_logps is None else old_logps[b]
        loss = loss + policy_loss(
            logp,
            old,
            bucket.response_mask,
            bucket.advantages,
            clip=clip,
            aggregation=aggregation,
            rows=batch.rows,
            tokens=batch.tokens,
        )
    return loss, logps, entropy_sum
