"""The RL trainer: update direction, the loss against hand computation, resume, errors."""

from __future__ import annotations

import dataclasses
import json
import math
import os

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("reasoning_gym")

from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer  # noqa: E402
from advshape.lm.rollout import encode_prompts, encode_responses, token_logprobs  # noqa: E402
from advshape.lm.train import Args, TrainingDiverged, policy_loss, train, validate  # noqa: E402

ALPHABET = "0123456789+-*/()=>: "
TINY = TinyModelConfig(
    hidden_size=16,
    intermediate_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    max_position_embeddings=48,
)


def tiny_args(tmp_path, **overrides) -> Args:
    base = dict(
        task="countdown",
        shaper="grpo",
        steps=4,
        prompts_per_step=4,
        samples_per_prompt=4,
        n_train=40,
        eval_problems=4,
        eval_samples=4,
        eval_ks=(1, 2, 4),
        eval_every=2,
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        warmstart_steps=3,
        warmstart_batch_size=8,
        cache_dir=str(tmp_path / "cache"),
        out=str(tmp_path / "run"),
        progress=False,
        threads=1,
        lr=1e-2,
    )
    base.update(overrides)
    return Args(**base)


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


TIMING_FIELDS = {
    "samples_per_s",
    "tokens_per_s",
    "sample_seconds",
    "score_seconds",
    "forward_seconds",
    "backward_seconds",
    "step_seconds",
}


def _strip_timing(records):
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in records]


def test_resume_equals_uninterrupted_run(tmp_path):
    whole = train(tiny_args(tmp_path, out=str(tmp_path / "whole")))
    assert whole["finished"]
    # Interrupted after step 3 (checkpoint at step 2): step 3 is redone on resume.
    part = train(tiny_args(tmp_path, out=str(tmp_path / "part"), stop_after=3))
    assert not part["finished"]
    resumed = train(tiny_args(tmp_path, out=str(tmp_path / "part"), resume=True))
    assert resumed["finished"]
    assert _strip_timing(resumed["history"]) == _strip_timing(whole["history"])
    steps = [r["step"] for r in resumed["history"] if r["kind"] == "train"]
    assert steps == [1, 2, 3, 4]
    for name in ("config.json", "metrics.jsonl", "checkpoint.pt", "report.html", "model"):
        assert os.path.exists(tmp_path / "part" / name)
    with open(tmp_path / "part" / "metrics.jsonl") as f:
        on_disk = [json.loads(line) for line in f]
    assert _strip_timing(on_disk) == _strip_timing(whole["history"])


def test_k_schedule_resume_equals_uninterrupted_run(tmp_path):
    # k = linear(4,1) over 4 steps: 4, 3, 2, 1 (x = (t − 1)/3, rounded half up)
    spec = "grpo_k:k=linear(4,1)"
    whole = train(tiny_args(tmp_path, out=str(tmp_path / "whole"), shaper=spec))
    assert [r["shaper_k"] for r in whole["history"] if r["kind"] == "train"] == [4, 3, 2, 1]
    train(tiny_args(tmp_path, out=str(tmp_path / "part"), shaper=spec, stop_after=3))
    resumed = train(tiny_args(tmp_path, out=str(tmp_path / "part"), shaper=spec, resume=True))
    assert _strip_timing(resumed["history"]) == _strip_timing(whole["history"])
    with open(tmp_path / "part" / "config.json") as f:
        assert json.load(f)["shaper"]["spec"] == spec


def test_a_second_run_reuses_the_cached_warm_start(tmp_path):
    a = train(tiny_args(tmp_path, out=str(tmp_path / "a"), steps=1, eval_every=1))
    entries = os.listdir(tmp_path / "cache")
    b = train(tiny_args(tmp_path, out=str(tmp_path / "b"), steps=1, eval_every=1, seed=5))
    assert os.listdir(tmp_path / "cache") == entries
    assert a["history"][0] == b["history"][0]  # same start, same paired evaluation draws


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    import advshape.lm.train as train_module

    real = train_module.policy_loss
    monkeypatch.setattr(train_module, "policy_loss", lambda *a, **k: real(*a, **k) * float("nan"))
    args = tiny_args(tmp_path)
    with pytest.raises(TrainingDiverged, match=r"step 1: loss=nan .* checkpoint \(step 0\)"):
        train(args)
    state = torch.load(os.path.join(args.out, "checkpoint.pt"), weights_only=False)
    assert state["step"] == 0
    assert all(torch.isfinite(v).all() for v in state["model"].values())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(task="sudoku9"), "unknown task 'sudoku9'"),
        (dict(shaper="grpoo"), "unknown shaper 'grpoo'"),
        (dict(shaper="grpo_k:k=8"), "k=8 > group size n=4"),
        (dict(shaper="grpo_k:k=linear(6,1)"), "k=6 > group size n=4"),
        (dict(shaper="grpo_k:k=linear(4,1"), r"unbalanced '\('"),
        (dict(eval_ks=(1, 8)), r"K=\[8\] with n=4"),
        (dict(loss_aggregation="mean"), "--loss-aggregation must be one of"),
        (dict(shaper="grpo_k:k=2", reward="score"), "takes only 0/1 rewards"),
        (dict(model="/nonexistent/model"), "is not a directory"),
        (dict(prompts_per_step=0), r"--prompts-per-step must be an integer in \[1, "),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        validate(tiny_args(tmp_path, **overrides))


def test_forward_engineered_surrogate_specs_are_accepted(tmp_path):
    pytest.importorskip("sympy")
    shaper = validate(tiny_args(tmp_path, shaper="surrogate:2*asin(sqrt(rho))"))
    adv = shaper.at(1).advantages(torch.tensor([[1.0, 0.0, 0.0, 1.0]]))
    assert adv[0, 0] > 0 > adv[0, 1]


def test_model_path_that_is_not_a_causal_lm(tmp_path):
    from transformers import ViTConfig

    ViTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2).save_pretrained(
        tmp_path / "vit"
    )
    with pytest.raises(ValueError, match="'vit' model, which is not a causal language model"):
        validate(tiny_args(tmp_path, model=str(tmp_path / "vit")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no readable Hugging Face config.json"):
        validate(tiny_args(tmp_path, model=str(tmp_path / "empty")))


def test_run_folder_is_not_overwritten_without_resume(tmp_path):
    train(tiny_args(tmp_path, steps=1, eval_every=1))
    with pytest.raises(ValueError, match="already holds a run; pass --resume"):
        train(tiny_args(tmp_path, steps=1, eval_every=1))
    with pytest.raises(ValueError, match=r"options \['lr'\] differ"):
        train(dataclasses.replace(tiny_args(tmp_path, steps=1, eval_every=1), lr=1.0, resume=True))


@pytest.mark.parametrize(
    ("overrides", "reward_mode"),
    [
        (dict(shaper="pkpo:k=2", loss_aggregation="token-mean"), "score"),
        (dict(shaper="grpo_k:k=2", ppo_epochs=2, clip=0.1, loss_aggregation="seq-mean"), "binary"),
    ],
)
def test_other_paths_run_to_the_end(tmp_path, overrides, reward_mode):
    args = tiny_args(tmp_path, steps=2, eval_every=1, **overrides)
    result = train(args)
    assert result["finished"]
    with open(os.path.join(args.out, "config.json")) as f:
        assert json.load(f)["reward_mode"] == reward_mode
    train_records = [r for r in result["history"] if r["kind"] == "train"]
    assert all(math.isfinite(r["loss"]) and math.isfinite(r["grad_norm"]) for r in train_records)


def test_a_given_local_checkpoint_trains_without_warm_start(tmp_path):
    first = tiny_args(tmp_path, out=str(tmp_path / "first"), steps=1, eval_every=1)
    train(first)
    args = tiny_args(
        tmp_path, out=str(tmp_path / "second"), steps=1, eval_every=1, warmstart_steps=0,
        model=str(tmp_path / "first" / "model"),
    )  # fmt: skip
    result = train(args)
    # No warm start: RL starts exactly where the given checkpoint ended.
    assert result["history"][0]["pass@4"] == pytest.approx(
        train(dataclasses.replace(args, out=str(tmp_path / "third")))["history"][0]["pass@4"]
    )
    with open(tmp_path / "second" / "config.json") as f:
        assert json.load(f)["warm_start"]["final_loss"] is None


def test_length_buckets_minimise_padded_width_plus_overhead_exactly():
    import itertools
    import random

    from advshape.lm.train import length_buckets

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
    from advshape.lm.rollout import prompt_states, response_logprobs, sample

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
