"""Batched sampling and per-token log-probabilities for prompt → response pairs.

Shared by the warm start, the RL trainer and the evaluation. Layout: prompts are
left-padded (so every response starts at the same column), responses right-padded
after their ``<eos>``; a response's tokens are those up to and including its first
``<eos>`` (or all ``max_new_tokens`` if it never ends).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from transformers import DynamicCache

__all__ = [
    "encode_prompts",
    "encode_responses",
    "prompt_states",
    "response_logprobs",
    "response_mask_from_ids",
    "sample",
    "seeded",
    "token_logprobs",
]


def encode_prompts(tokenizer: Any, prompts: Sequence[str], device: Any) -> tuple[Any, Any]:
    """The prompts as token ids, left-padded so that every response starts at the same column.

    Args:
        tokenizer: a tokenizer that pads on the left.
        prompts: the prompt texts.
        device: where the tensors go.

    Returns:
        ``(input_ids, attention_mask)``, both ``[B, P]`` long tensors; no special tokens.

    Example:
        >>> from advshape.lm.model import build_tokenizer
        >>> from advshape.lm.rollout import encode_prompts
        >>> ids, mask = encode_prompts(build_tokenizer("ab:"), ["ab:", "b:"], "cpu")
        >>> ids.tolist(), mask.tolist()  # <pad> is 0
        ([[3, 4, 5], [0, 4, 5]], [[1, 1, 1], [0, 1, 1]])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per prompt, Sec. 1.1.1).
    """
    enc = tokenizer(list(prompts), padding=True, add_special_tokens=False, return_tensors="pt")
    return enc["input_ids"].to(device), enc["attention_mask"].to(device)


def encode_responses(tokenizer: Any, responses: Sequence[str], device: Any) -> tuple[Any, Any]:
    """Response texts as token ids, each followed by ``<eos>`` and right-padded.

    Args:
        tokenizer: the tokenizer.
        responses: the response texts.
        device: where the tensors go.

    Returns:
        ``(response_ids, response_mask)``, both ``[B, T]`` long tensors (mask 1 up to and
        including ``<eos>``).

    Example:
        >>> from advshape.lm.model import build_tokenizer
        >>> from advshape.lm.rollout import encode_responses
        >>> ids, mask = encode_responses(build_tokenizer("ab:"), ["ba", "a"], "cpu")
        >>> ids.tolist(), mask.tolist()  # <eos> is 1
        ([[4, 3, 1], [3, 1, 0]], [[1, 1, 1], [1, 1, 0]])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per prompt, Sec. 1.1.1).
    """
    rows = [
        tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        for text in responses
    ]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids.to(device), mask.to(device)


@contextlib.contextmanager
def seeded(seed: int, device: Any) -> Iterator[None]:
    """Run a block under its own torch RNG seed, leaving the caller's RNG untouched.

    Every random draw of a step is seeded from (run seed, step), so a resumed run
    draws exactly what an uninterrupted one would.

    Args:
        seed: the block's seed.
        device: the device whose generator is forked too (CUDA; the CPU's always is).

    Yields:
        Nothing: the block runs seeded.

    Example:
        >>> import torch
        >>> from advshape.lm.rollout import seeded
        >>> with seeded(0, "cpu"):
        ...     first = torch.rand(2)
        >>> with seeded(0, "cpu"):
        ...     again = torch.rand(2)
        >>> torch.equal(first, again)
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per prompt, Sec. 1.1.1).
    """
    devices = [device] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def response_mask_from_ids(response_ids: torch.Tensor, eos_token_id: int) -> torch.Tensor:
    """The mask of each response: 1 on every token up to and including its first ``<eos>``.

    Args:
        response_ids: ``[B, T]`` generated token ids.
        eos_token_id: the id of ``<eos>``.

    Returns:
        ``[B, T]`` long tensor of 0/1.

    Example:
        >>> import torch
        >>> from advshape.lm.rollout import response_mask_from_ids
        >>> response_mask_from_ids(torch.tensor([[3, 1, 4, 4], [3, 4, 4, 1]]), 1).tolist()
        [[1, 1, 0, 0], [1, 1, 1, 1]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per prompt, Sec. 1.1.1).
    """
    is_eos = (response_ids == eos_token_id).long()
    # eos_before[t] = number of <eos> strictly before t; a token counts while that is 0.
    eos_before = torch.cumsum(is_eos, dim=1) - is_eos
    return (eos_before == 0).long()


def sample(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    n: int,
    max_new_tokens: int,
    seed: int,
    temperature: float = 1.0,
) -> tuple[Any, Any, Any, Any, list[str]]:
    """Draw N responses per prompt, y_i ~ π_θ(·|x), by pure sampling with the KV cache.

    No top-k/top-p: the policy being optimised is exactly the model's distribution (at
    ``temperature``). A response ends at its first ``<eos>`` or after ``max_new_tokens``.

    Args:
        model: a causal language model.
        tokenizer: its tokenizer (left padding).
        prompts: the B prompts.
        n: N, the responses per prompt.
        max_new_tokens: the longest response, in tokens.
        seed: the seed of the draws (:func:`seeded`).
        temperature: the sampling temperature.

    Returns:
        ``(prompt_ids, prompt_mask, response_ids, response_mask, texts)`` with B·N rows
        ordered prompt-major (row ``b * n + j`` is sample j of prompt b); ``texts`` are the
        decoded responses without special tokens.

    Example:
        >>> import torch
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> from advshape.lm.rollout import sample
        >>> _, _, ids, mask, texts = sample(model, tokenizer, ["ab:", "b:"], n=2,
        ...                                 max_new_tokens=3, seed=0)
        >>> ids.shape, len(texts), all(len(t) <= 3 for t in texts)
        (torch.Size([4, 3]), 4, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per prompt, Sec. 1.1.1).
    """
    device = next(model.parameters()).device
    prompt_ids, prompt_mask = encode_prompts(tokenizer, prompts, device)
    prompt_ids = prompt_ids.repeat_interleave(n, dim=0)
    prompt_mask = prompt_mask.repeat_interleave(n, dim=0)
    with torch.no_grad(), seeded(seed, device):
        out = model.generate(
            input_ids=prompt_ids,
            attention_mask=prompt_mask,
            do_sample=True,
            temperature=temperature,
            top_k=None,
            top_p=None,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            use_cache=True,
        )
    response_ids = out[:, prompt_ids.shape[1] :]
    response_mask = response_mask_from_ids(response_ids, tokenizer.eos_token_id)
    response_ids = torch.where(
        response_mask.bool(), response_ids, torch.full_like(response_ids, tokenizer.pad_token_id)
    )
    texts = tokenizer.batch_decode(response_ids, skip_special_tokens=True)
    return prompt_ids, prompt_mask, response_ids, response_mask, texts


def token_logprobs(
    model: Any,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    response_ids: torch.Tensor,
    response_mask: torch.Tensor,
    *,
    entropy: bool = False,
) -> Any:
    """The log-probability of every response token, log π(y_t | x, y_<t), with gradients.

    One forward pass over the prompts and responses side by side; positions count only real
    tokens (left padding), as in generation.

    Args:
        model: the causal language model.
        prompt_ids: ``[R, P]`` left-padded prompt ids (one row per response).
        prompt_mask: ``[R, P]`` their attention mask.
        response_ids: ``[R, T]`` right-padded response ids.
        response_mask: ``[R, T]`` their mask.
        entropy: also return the per-token entropy of π(· | x, y_<t) (detached).

    Returns:
        ``[R, T]`` float log-probabilities, 0 where masked; with ``entropy``, the pair
        (log-probabilities, entropies).

    Example:
        >>> import torch
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> from advshape.lm.rollout import encode_prompts, encode_responses, token_logprobs
        >>> prompt_ids, prompt_mask = encode_prompts(tokenizer, ["ab:", "b:"], "cpu")
        >>> response_ids, response_mask = encode_responses(tokenizer, ["ba", "a"], "cpu")
        >>> logp = token_logprobs(model, prompt_ids, prompt_mask, response_ids, response_mask)
        >>> real = response_mask.bool()  # log-probabilities < 0 on tokens, 0 on the padding
        >>> logp.shape, bool((logp[real] < 0).all()), bool((logp[~real] == 0).all())
        (torch.Size([2, 3]), True, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per prompt, Sec. 1.1.1).
    """
    input_ids = torch.cat([prompt_ids, response_ids], dim=1)
    attention_mask = torch.cat([prompt_mask, response_mask], dim=1)
    # Left padding: positions count only real tokens, as in generation.
    position_ids = (torch.cumsum(attention_mask, dim=1) - 1).clamp(min=0)
    logits = model(
        input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids
    ).logits
    start = prompt_ids.shape[1] - 1
    logits = logits[:, start : start + response_ids.shape[1]]
    return _response_logprobs_from_logits(logits, response_ids, response_mask, entropy=entropy)


def _response_logprobs_from_logits(logits, response_ids, response_mask, *, entropy: bool):
    """log π of each response token from the logits that predict it, ``[rows, T]`` (0 where
    masked), and with ``entropy`` the per-token entropy of π (detached)."""
    logp_all = torch.log_softmax(logits.float(), dim=-1)
    logp = torch.gather(logp_all, 2, response_ids.unsqueeze(-1)).squeeze(-1) * response_mask
    if not entropy:
        return logp
    with torch.no_grad():
        ent = -(logp_all.exp() * logp_all).sum(-1) * response_mask
    return logp, ent


def prompt_states(model: Any, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor) -> Any:
    """One forward pass over the *distinct* prompts, with gradients, for their responses to share.

    Each prompt is shared by its group's N responses, so the loss pass runs the prompt
    once and reuses its keys and values for every response (:func:`response_logprobs`);
    gradients flow through the shared states, summed over the group, exactly as if each
    row had run the prompt itself.

    Args:
        model: the causal language model.
        prompt_ids: ``[B, P]`` left-padded ids of the distinct prompts.
        prompt_mask: ``[B, P]`` their attention mask.

    Returns:
        ``(keys_values, last_logits)``: the per-layer (keys, values) of the prompts and the
        logits at each prompt's last position, which give the first response token's
        probabilities.

    Example:
        >>> import torch
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> from advshape.lm.rollout import encode_prompts, prompt_states
        >>> keys_values, last_logits = prompt_states(model, *encode_prompts(tokenizer, ["ab:"], "cpu"))
        >>> len(keys_values), last_logits.shape  # one layer; 6 tokens in the vocabulary
        (1, torch.Size([1, 6]))

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per prompt, Sec. 1.1.1).
    """
    position_ids = (torch.cumsum(prompt_mask, dim=1) - 1).clamp(min=0)
    out = model(
        input_ids=prompt_ids, attention_mask=prompt_mask, position_ids=position_ids, use_cache=True
    )
    keys_values = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
    return keys_values, out.logits[:, -1]


def response_logprobs(
    model: Any,
    states: Any,
    prompt_mask: torch.Tensor,
    prompt_index: torch.Tensor,
    response_ids: torch.Tensor,
    response_mask: torch.Tensor,
    *,
    entropy: bool = False,
) -> Any:
    """log π(y_t | x, y_<t) of responses whose prompts ran once in :func:`prompt_states`.

    Equal to :func:`token_logprobs` on the concatenated rows (tested), at about half the
    cost when prompts and responses are of similar length and each prompt has many
    responses.

    Args:
        model: the causal language model.
        states: :func:`prompt_states` of the distinct prompts.
        prompt_mask: ``[B, P]`` the distinct prompts' attention mask.
        prompt_index: ``[R]`` row i's prompt (a row of ``prompt_mask``).
        response_ids: ``[R, T]`` right-padded response ids.
        response_mask: ``[R, T]`` their mask.
        entropy: also return the per-token entropy (detached).

    Returns:
        As :func:`token_logprobs`: ``[R, T]`` log-probabilities, 0 where masked.

    Example:
        >>> import torch
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(hidden_size=16, intermediate_size=32,
        ...                     num_hidden_layers=1, num_attention_heads=2), seed=0)
        >>> from advshape.lm.rollout import (encode_prompts, encode_responses, prompt_states,
        ...                                  response_logprobs, token_logprobs)
        >>> prompt_ids, prompt_mask = encode_prompts(tokenizer, ["ab:"], "cpu")
        >>> response_ids, response_mask = encode_responses(tokenizer, ["ba", "a"], "cpu")
        >>> shared = response_logprobs(model, prompt_states(model, prompt_ids, prompt_mask),
        ...                            prompt_mask, torch.tensor([0, 0]), response_ids, response_mask)
        >>> rows = token_logprobs(model, prompt_ids.repeat(2, 1), prompt_mask.repeat(2, 1),
        ...                       response_ids, response_mask)
        >>> torch.allclose(shared, rows, atol=1e-6)
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per prompt, Sec. 1.1.1).
    """
    keys_values, last_logits = states
    rows_prompt_mask = prompt_mask[prompt_index]
    logits = last_logits[prompt_index].unsqueeze(1)
    width = response_ids.shape[1]
    if width > 1:
        cache = DynamicCache(
            ddp_cache_data=[(k[prompt_index], v[prompt_index]) for k, v in keys_values]
        )
        start = rows_prompt_mask.sum(1, keepdim=True)
        rest = model(
            input_ids=response_ids[:, :-1],
            attention_mask=torch.cat([rows_prompt_mask, response_mask[:, :-1]], dim=1),
            position_ids=start + torch.arange(width - 1, device=start.device),
            past_key_values=cache,
            use_cache=True,
        ).logits
        logits = torch.cat([logits, rest], dim=1)
    return _response_logprobs_from_logits(logits, response_ids, response_mask, entropy=entropy)
