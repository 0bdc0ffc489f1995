"""Batched sampling and per-token log-probabilities for prompt → response pairs.

Shared by the warm start, the RL trainer and the evaluation. Layout: prompts are
left-padded (so every response starts at the same column), responses right-padded
after their ``<eos>``; a response's tokens are those up to and including its first
``<eos>`` (or all ``max_new_tokens`` if it never ends).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import torch
from transformers import DynamicCache


def encode_prompts(tokenizer, prompts: Sequence[str], device) -> tuple[Any, Any]:
    """Left-padded ``(input_ids, attention_mask)`` of the prompts, no special tokens."""
    enc = tokenizer(list(prompts), padding=True, add_special_tokens=False, return_tensors="pt")
    return enc["input_ids"].to(device), enc["attention_mask"].to(device)


def encode_responses(tokenizer, responses: Sequence[str], device) -> tuple[Any, Any]:
    """Right-padded ``(response_ids, response_mask)``: each text followed by ``<eos>``."""
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
def seeded(seed: int, device):
    """Run a block under its own torch RNG seed, leaving the caller's RNG untouched.

    Every random draw of a step is seeded from (run seed, step), so a resumed run
    draws exactly what an uninterrupted one would.
    """
    devices = [device] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def response_mask_from_ids(response_ids, eos_token_id: int):
    """1 on every token up to and including the first ``<eos>`` of each row, else 0."""
    is_eos = (response_ids == eos_token_id).long()
    # eos_before[t] = number of <eos> strictly before t; a token counts while that is 0.
    eos_before = torch.cumsum(is_eos, dim=1) - is_eos
    return (eos_before == 0).long()


def sample(
    model,
    tokenizer,
    prompts: Sequence[str],
    *,
    n: int,
    max_new_tokens: int,
    seed: int,
    temperature: float = 1.0,
) -> tuple[Any, Any, Any, Any, list[str]]:
    """Draw ``n`` responses per prompt with the KV cache, pure sampling at ``temperature``.

    Returns ``(prompt_ids, prompt_mask, response_ids, response_mask, texts)`` with rows
    ordered prompt-major (row ``b * n + j`` is sample j of prompt b). No top-k/top-p:
    the policy being optimised is exactly the model's distribution.
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


def token_logprobs(model, prompt_ids, prompt_mask, response_ids, response_mask, *, entropy=False):
    """log π(y_t | x, y_<t) for every response token, ``[rows, T]`` (0 where masked).

    With ``entropy=True`` also returns the per-token entropy of π(· | x, y_<t) (detached).
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


def prompt_states(model, prompt_ids, prompt_mask):
    """One forward pass over the *distinct* prompts, with gradients.

    Each prompt is shared by its group's N responses, so the loss pass runs the prompt
    once and reuses its keys and values for every response (:func:`response_logprobs`);
    gradients flow through the shared states, summed over the group, exactly as if each
    row had run the prompt itself. Returns ``(keys_values, last_logits)``: the per-layer
    (keys, values) of the prompts and the logits at each prompt's last position, which
    give the first response token's probabilities.
    """
    position_ids = (torch.cumsum(prompt_mask, dim=1) - 1).clamp(min=0)
    out = model(
        input_ids=prompt_ids, attention_mask=prompt_mask, position_ids=position_ids, use_cache=True
    )
    keys_values = [(layer.keys, layer.values) for layer in out.past_key_values.layers]
    return keys_values, out.logits[:, -1]


def response_logprobs(
    model, states, prompt_mask, prompt_index, response_ids, response_mask, *, entropy=False
):
    """log π(y_t | x, y_<t) for responses whose prompts ran in :func:`prompt_states`.

    ``prompt_index[i]`` is row i's prompt (a row of ``prompt_mask``). Equal to
    :func:`token_logprobs` on the concatenated rows (tested), at about half the cost when
    prompts and responses are of similar length and each prompt has many responses.
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
