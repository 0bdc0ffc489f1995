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

__all__ = [
    "BUCKET_OVERHEAD_TOKENS",
    "Bucket",
    "SharedPromptBatch",
    "length_buckets",
    "loss_pass",
    "policy_loss",
    "shared_prompt_batch",
]

BUCKET_OVERHEAD_TOKENS = 128
"""The fixed cost of one more forward/backward call of the loss pass, in padded response
tokens (measured on the tiny model: ~0.9 ms a call against ~7 µs a token)."""


def policy_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    response_mask: torch.Tensor,
    advantages: torch.Tensor,
    *,
    clip: float,
    aggregation: str,
    rows: int | None = None,
    tokens: int | torch.Tensor | None = None,
) -> torch.Tensor:
    """−J(θ) of Eq. (27) for one batch or one bucket of it: the clipped ratio objective.

        J(θ) = (1/rows) Σ_i Σ_t min(γ_it A_i, clip(γ_it, 1−ε, 1+ε) A_i),
        γ_it = π_θ(y_it | x, y_i,<t) / π_θold(y_it | x, y_i,<t).

    With logp == old_logp (first epoch) the ratio is 1 and the gradient is
    −(1/rows) Σ_i A_i Σ_t ∇ log π(y_it) for ``sum`` aggregation (the paper's Eq. 28);
    ``token-mean`` divides by the response tokens instead (DAPO), ``seq-mean`` each
    response's sum by its length (original GRPO's 1/|y|).

    Args:
        logp: ``[rows, T]`` per-token log-probabilities under π_θ (0 on padding).
        old_logp: ``[rows, T]`` the same under the sampling policy π_θold.
        response_mask: ``[rows, T]`` 1 on response tokens.
        advantages: ``[rows]`` A_i.
        clip: ε of the clipped ratio.
        aggregation: ``"sum"``, ``"token-mean"`` or ``"seq-mean"``.
        rows: the whole batch's number of responses when this is one bucket of it (the
            buckets' losses then add up to the batch's); None: this one's.
        tokens: the whole batch's response tokens, likewise (``token-mean``).

    Returns:
        The scalar loss −J(θ).

    Example:
        >>> import torch
        >>> from advshape.lm.loss import policy_loss
        >>> logp = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, 0.0, 0.0]], requires_grad=True)
        >>> mask, advantages = torch.tensor([[1, 1, 0], [1, 0, 0]]), torch.tensor([1.0, 0.5])
        >>> [round(policy_loss(logp, logp.detach(), mask, advantages, clip=0.2,
        ...                    aggregation=a).item(), 6) for a in ("sum", "token-mean", "seq-mean")]
        [-1.25, -0.833333, -0.75]
        >>> policy_loss(logp, logp.detach(), mask, advantages, clip=0.2, aggregation="sum").backward()
        >>> logp.grad.tolist()  # −A_i/rows on each response token
        [[-0.5, -0.5, -0.0], [-0.25, -0.0, -0.0]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eqs. 27–28); Shao et al. 2024 (GRPO), https://arxiv.org/abs/2402.03300; Yu
        et al. 2025 (DAPO), https://arxiv.org/abs/2503.14476; Schulman et al. 2017 (PPO),
        https://arxiv.org/abs/1707.06347.
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
    """Rows grouped by response length for the loss pass, each group padded to its own longest.

    Rows are sorted by length and cut where the total cost, Σ_groups (rows·width + overhead),
    is least: exact, by dynamic programming over the distinct lengths.

    Args:
        lengths: each row's response length, in tokens.
        overhead: the cost of one more group, in padded tokens.

    Returns:
        The groups, as lists of row indices, shortest responses first.

    Example:
        >>> from advshape.lm.loss import length_buckets
        >>> length_buckets([3, 3, 4, 12, 12, 3], overhead=0)  # no cost per call: cut at each length
        [[0, 1, 5], [2], [3, 4]]
        >>> length_buckets([3, 3, 4, 12, 12, 3])  # at 128 tokens a call: one group
        [[0, 1, 5, 2, 3, 4]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eq. 27).
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
    """Rows of similar response length: which prompt each uses, responses cut to their width.

    Attributes:
        prompt_rows: ``[r]`` each row's prompt among the distinct prompts.
        response_ids: ``[r, width]`` the responses, cut to the bucket's longest.
        response_mask: ``[r, width]`` their mask.
        advantages: ``[r]`` their advantages A_i.

    Example:
        >>> import torch
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.rollout import encode_prompts, encode_responses
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> prompt_ids, prompt_mask = encode_prompts(tokenizer, ["ab:", "ab:", "b:", "b:"], "cpu")
        >>> response_ids, response_mask = encode_responses(tokenizer, ["a", "abab", "b", "ba"], "cpu")
        >>> advantages = torch.tensor([1.0, -1.0, 0.5, -0.5])
        >>> from advshape.lm.loss import shared_prompt_batch
        >>> batch = shared_prompt_batch(prompt_ids, prompt_mask, response_ids, response_mask,
        ...                             advantages, group_size=2)
        >>> bucket = batch.buckets[0]
        >>> bucket.prompt_rows.tolist(), bucket.response_ids.shape  # rows by length: 0, 2, 3, 1
        ([0, 1, 1, 0], torch.Size([4, 5]))

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eq. 27).
    """

    prompt_rows: Any
    response_ids: Any
    response_mask: Any
    advantages: Any


@dataclass(frozen=True)
class SharedPromptBatch:
    """One step's samples arranged for the loss pass (B prompts × N responses, prompt-major).

    Attributes:
        prompt_ids: ``[B, P]`` each distinct prompt once.
        prompt_mask: ``[B, P]`` their attention mask.
        buckets: the responses in :class:`Bucket` s of similar length.
        rows: B·N, the responses.
        tokens: the response tokens of the batch.

    Example:
        >>> import torch
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.rollout import encode_prompts, encode_responses
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> prompt_ids, prompt_mask = encode_prompts(tokenizer, ["ab:", "ab:", "b:", "b:"], "cpu")
        >>> response_ids, response_mask = encode_responses(tokenizer, ["a", "abab", "b", "ba"], "cpu")
        >>> advantages = torch.tensor([1.0, -1.0, 0.5, -0.5])
        >>> from advshape.lm.loss import shared_prompt_batch
        >>> batch = shared_prompt_batch(prompt_ids, prompt_mask, response_ids, response_mask,
        ...                             advantages, group_size=2)
        >>> batch.prompt_ids.shape, batch.rows, batch.tokens, len(batch.buckets)
        (torch.Size([2, 3]), 4, 12, 1)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eq. 27).
    """

    prompt_ids: Any
    prompt_mask: Any
    buckets: list[Bucket]
    rows: int
    tokens: int


def shared_prompt_batch(
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    response_ids: torch.Tensor,
    response_mask: torch.Tensor,
    advantages: torch.Tensor,
    *,
    group_size: int,
) -> SharedPromptBatch:
    """The batch of :func:`loss_pass` from sampled rows: row i answers prompt i // N.

    Args:
        prompt_ids: ``[B·N, P]`` the prompt of each row, prompt-major (as ``sample`` returns).
        prompt_mask: ``[B·N, P]`` their mask.
        response_ids: ``[B·N, T]`` the responses.
        response_mask: ``[B·N, T]`` their mask.
        advantages: ``[B·N]`` each response's advantage.
        group_size: N, the responses per prompt.

    Returns:
        The :class:`SharedPromptBatch`: each prompt once, the responses in length buckets
        (:func:`length_buckets`).

    Example:
        >>> import torch
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.rollout import encode_prompts, encode_responses
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> prompt_ids, prompt_mask = encode_prompts(tokenizer, ["ab:", "ab:", "b:", "b:"], "cpu")
        >>> response_ids, response_mask = encode_responses(tokenizer, ["a", "abab", "b", "ba"], "cpu")
        >>> advantages = torch.tensor([1.0, -1.0, 0.5, -0.5])
        >>> from advshape.lm.loss import shared_prompt_batch
        >>> batch = shared_prompt_batch(prompt_ids, prompt_mask, response_ids, response_mask,
        ...                             advantages, group_size=2)
        >>> batch.rows, batch.tokens  # responses of 2, 5, 2 and 3 tokens with <eos>
        (4, 12)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eq. 27).
    """
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
    model: Any,
    batch: SharedPromptBatch,
    old_logps: Sequence[Any] | None,
    *,
    clip: float,
    aggregation: str,
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
) -> tuple[Any, list[Any], float]:
    """−J(θ) of Eq. (27) for one step's batch, its graph kept for ``backward``.

    Each distinct prompt runs once and its N responses reuse its states; the buckets' losses
    add up to the batch's (:func:`policy_loss` with the whole batch's counts).

    Args:
        model: the policy π_θ.
        batch: the step's samples (:func:`shared_prompt_batch`).
        old_logps: the sampling policy's log-probabilities per bucket (from the first
            epoch's pass); None in the first epoch, where π_θold = π_θ (γ = 1).
        clip: ε of the clipped ratio.
        aggregation: ``"sum"``, ``"token-mean"`` or ``"seq-mean"``.
        autocast: wraps the model's calls (``--precision``); the loss is computed in float32.

    Returns:
        ``(loss, logps, entropy_sum)``: the scalar loss, each bucket's log-probabilities
        (detached: π_θold of later epochs) and the summed entropy of the response tokens.

    Example:
        >>> import torch
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.rollout import encode_prompts, encode_responses
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> prompt_ids, prompt_mask = encode_prompts(tokenizer, ["ab:", "ab:", "b:", "b:"], "cpu")
        >>> response_ids, response_mask = encode_responses(tokenizer, ["a", "abab", "b", "ba"], "cpu")
        >>> advantages = torch.tensor([1.0, -1.0, 0.5, -0.5])
        >>> from advshape.lm.loss import loss_pass, policy_loss, shared_prompt_batch
        >>> from advshape.lm.rollout import token_logprobs
        >>> batch = shared_prompt_batch(prompt_ids, prompt_mask, response_ids, response_mask,
        ...                             advantages, group_size=2)
        >>> loss, logps, entropy = loss_pass(model, batch, None, clip=0.2, aggregation="sum")
        >>> logp = token_logprobs(model, prompt_ids, prompt_mask, response_ids, response_mask)
        >>> direct = policy_loss(logp, logp.detach(), response_mask, advantages, clip=0.2,
        ...                      aggregation="sum")  # every row running its own prompt
        >>> torch.allclose(loss, direct, atol=1e-6), loss.requires_grad
        (True, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eq. 27).
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
