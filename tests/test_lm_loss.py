"""The policy loss (Eq. 27) against hand computation, the length buckets against brute force,
and the shared-prompt loss pass against the full forward pass."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from advshape.lm.loss import (  # noqa: E402
    length_buckets,
    loss_pass,
    policy_loss,
    shared_prompt_batch,
)
from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer  # noqa: E402
from advshape.lm.rollout import (  # noqa: E402
    encode_prompts,
    encode_responses,
    prompt_states,
    response_logprobs,
    sample,
    token_logprobs,
)

ALPHABET = "0123456789+-*/()=>: "
TINY = TinyModelConfig(
    hidden_size=16,
    intermediate_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    max_position_embeddings=48,
)


def _batch(tokenizer, prompt, responses):
    prompt_ids, prompt_mask = encode_prompts(tokenizer, [prompt] * len(responses), "cpu")
    response_ids, response_mask = encode_responses(tokenizer, responses, "cpu")
    return prompt_ids, prompt_mask, response_ids, response_mask


def test_a_step_makes_positive_advantage_responses_more_likely():
    tokenizer = build_tokenizer(ALPHABET)
    model = build_model(tokenizer, TINY, seed=0)
    batch = _batch(tokenizer, "1 2 3>6:", ["1+2+3", "1*2-3"])
    advantages = torch.tensor([1.0, -1.0])
    before = token_logprobs(model, *batch).sum(1).detach()
    logp = token_logprobs(model, *batch)
    loss = policy_loss(logp, logp.detach(), batch[3], advantages, clip=0.2, aggregation="sum")
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 1e-2 * p.grad
    after = token_logprobs(model, *batch).sum(1).detach()
    assert after[0] > before[0]  # A > 0: log π(y⁺|x) goes up
    assert after[1] < before[1]  # A < 0: log π(y⁻|x) goes down


def _logp_and_mask():
    logp = torch.tensor([[-1.0, -2.0, -0.5], [-0.25, 0.0, 0.0]], requires_grad=True)
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    return logp, mask


# Row 0: A = 2 over 3 tokens; row 1: A = −1 over 1 token (2 padding positions).
# At γ = 1, −J = −Σ_i A_i·(token weight)·|y_i| and ∂(−J)/∂log π_it = −A_i·(token weight):
# sum → 1/rows; token-mean → 1/Σ|y|; seq-mean → 1/(rows·|y_i|).
@pytest.mark.parametrize(
    ("aggregation", "weights"),
    [("sum", (1 / 2, 1 / 2)), ("token-mean", (1 / 4, 1 / 4)), ("seq-mean", (1 / 6, 1 / 2))],
)
def test_loss_aggregations_match_hand_computation(aggregation, weights):
    logp, mask = _logp_and_mask()
    adv = torch.tensor([2.0, -1.0])
    loss = policy_loss(logp, logp.detach(), mask, adv, clip=0.2, aggregation=aggregation)
    loss.backward()
    assert logp.grad[0].tolist() == pytest.approx([-2 * weights[0]] * 3)
    assert logp.grad[1, 0].item() == pytest.approx(1 * weights[1])
    assert logp.grad[1, 1:].tolist() == [0.0, 0.0]  # padding gets no gradient
    assert loss.item() == pytest.approx(-(2 * 3 * weights[0] - 1 * 1 * weights[1]))


def test_clip_stops_the_gradient_outside_the_trust_region():
    logp = torch.tensor([[0.5, -0.5]], requires_grad=True)  # ratios e^0.5, e^-0.5 vs old 0
    old = torch.zeros(1, 2)
    mask = torch.ones(1, 2)
    # A > 0: the ratio above 1 + ε is clipped (no gradient), the one below is not.
    loss = policy_loss(logp, old, mask, torch.tensor([1.0]), clip=0.2, aggregation="sum")
    loss.backward()
    assert logp.grad[0, 0].item() == 0.0
    assert logp.grad[0, 1].item() == pytest.approx(-math.exp(-0.5))
    expected = -(1.2 * 1.0 + math.exp(-0.5) * 1.0)
    assert loss.item() == pytest.approx(expected)


def test_length_buckets_minimise_padded_width_plus_overhead_exactly():
    import itertools
    import random

    rng = random.Random(0)
    for _ in range(60):
        lengths = [rng.choice([1, 2, 3, 5, 9, 17]) for _ in range(rng.randint(1, 40))]
        overhead = rng.choice([0, 4, 16, 1000])
        buckets = length_buckets(lengths, overhead=overhead)
        assert sorted(i for b in buckets for i in b) == list(range(len(lengths)))
        cost = sum(len(b) * max(lengths[i] for i in b) + overhead for b in buckets)
        # Brute force: every way to cut the sorted distinct lengths into contiguous groups.
        values = sorted(set(lengths))
        best = min(
            sum(
                sum(lengths.count(v) for v in values[lo:hi]) * values[hi - 1] + overhead
                for lo, hi in itertools.pairwise((0, *cuts, len(values)))
            )
            for r in range(len(values))
            for cuts in itertools.combinations(range(1, len(values)), r)
        )
        assert cost == best
    assert length_buckets([]) == []


def test_shared_prompt_pass_equals_the_full_forward_in_values_and_gradients(tmp_path):
    tokenizer = build_tokenizer("0123456789+-*/()=>: ")
    config = TinyModelConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2
    )
    model = build_model(tokenizer, config, seed=3)
    prompts = ["1 2 3>6:", "45>9:", "7 7 7 7>49:"]  # different lengths: left padding matters
    p_ids, p_mask, r_ids, r_mask, _ = sample(
        model, tokenizer, prompts, n=4, max_new_tokens=6, seed=1
    )
    weights = torch.randn(r_ids.shape, generator=torch.Generator().manual_seed(0))
    full, full_entropy = token_logprobs(model, p_ids, p_mask, r_ids, r_mask, entropy=True)
    full_grads = torch.autograd.grad((full * weights).sum(), list(model.parameters()))
    rows = torch.tensor([5, 0, 11, 7, 2])  # a bucket: any rows, any order
    states = prompt_states(model, p_ids[::4], p_mask[::4])
    shared, shared_entropy = response_logprobs(
        model, states, p_mask[::4], rows // 4, r_ids[rows], r_mask[rows], entropy=True
    )
    assert torch.allclose(shared, full[rows], atol=1e-6)
    assert torch.allclose(shared_entropy, full_entropy[rows], atol=1e-6)
    # All rows through the shared pass: the same gradient as the full forward.
    states = prompt_states(model, p_ids[::4], p_mask[::4])
    every = torch.arange(12)
    shared = response_logprobs(model, states, p_mask[::4], every // 4, r_ids, r_mask)
    grads = torch.autograd.grad((shared * weights).sum(), list(model.parameters()))
    for g, h in zip(grads, full_grads, strict=True):
        assert torch.allclose(g, h, atol=1e-6, rtol=1e-5)
    assert any(h.abs().max() > 1e-3 for h in full_grads)  # the check is not vacuous


@pytest.mark.parametrize("aggregation", ["sum", "token-mean", "seq-mean"])
def test_the_loss_pass_equals_the_loss_of_the_whole_batch(aggregation):
    tokenizer = build_tokenizer(ALPHABET)
    config = TinyModelConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2
    )
    model = build_model(tokenizer, config, seed=5)
    prompts = ["1 2 3>6:", "45>9:", "7 7 7 7>49:"]
    p_ids, p_mask, r_ids, r_mask, _ = sample(
        model, tokenizer, prompts, n=4, max_new_tokens=6, seed=2
    )
    advantages = torch.randn(12, generator=torch.Generator().manual_seed(1))
    batch = shared_prompt_batch(p_ids, p_mask, r_ids, r_mask, advantages, group_size=4)
    assert (batch.rows, batch.tokens) == (12, int(r_mask.sum()))
    assert len(batch.prompt_ids) == 3  # each distinct prompt once
    loss, logps, entropy_sum = loss_pass(model, batch, None, clip=0.2, aggregation=aggregation)
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params)
    # The whole batch at once, every row running its own prompt: the loss of Eq. (27).
    full, full_entropy = token_logprobs(model, p_ids, p_mask, r_ids, r_mask, entropy=True)
    want = policy_loss(full, full.detach(), r_mask, advantages, clip=0.2, aggregation=aggregation)
    want_grads = torch.autograd.grad(want, params)
    assert loss.item() == pytest.approx(want.item(), rel=1e-5, abs=1e-7)
    for g, h in zip(grads, want_grads, strict=True):
        assert torch.allclose(g, h, atol=1e-6, rtol=1e-4)
    assert entropy_sum == pytest.approx(float(full_entropy.sum()), rel=1e-5)
    # A later epoch with the first epoch's log-probs as π_θold, the weights unchanged: γ = 1,
    # the same loss.
    again, _, _ = loss_pass(model, batch, logps, clip=0.2, aggregation=aggregation)
    assert again.item() == pytest.approx(loss.item(), rel=1e-6)
