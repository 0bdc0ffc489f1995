"""The digits testbed: exact Pass@k against Monte Carlo, the loss, the starts, the runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from advshape.digits.data import load_split  # noqa: E402
from advshape.digits.train import (  # noqa: E402
    DigitsConfig,
    check_shaper,
    exact_pass_at_k,
    failure_probabilities,
    policy_loss,
    start_model,
    train,
)


def test_split_is_stratified_disjoint_and_seeded():
    a, b = load_split(0), load_split(0)
    assert np.array_equal(a.y_test, b.y_test) and np.array_equal(a.x_test, b.x_test)
    assert len(a.y_train) + len(a.y_test) == 1797
    counts = np.bincount(a.y_test, minlength=10)
    totals = counts + np.bincount(a.y_train, minlength=10)
    assert np.all(np.abs(counts - 0.3 * totals) <= 0.5)  # rounded share of every class
    other = load_split(1)
    assert not np.array_equal(other.x_test, a.x_test)
    assert a.x_train.min() >= 0 and a.x_train.max() == 1.0
    with pytest.raises(ValueError, match="test_fraction"):
        load_split(0, 1.0)


def test_exact_pass_at_k_matches_monte_carlo_within_its_standard_error():
    # A random MLP's softmax: sample k labels per image many times and count a hit.
    config = DigitsConfig()
    model = start_model(config)
    split = load_split(0)
    x, y = torch.from_numpy(split.x_test[:40]), split.y_test[:40]
    with torch.no_grad():
        logits = model(x)
    fail = failure_probabilities(logits, torch.from_numpy(y))
    probs = torch.softmax(logits.double(), -1).numpy()
    rng = np.random.default_rng(0)
    trials = 4000
    for k in (1, 2, 4, 16):
        exact = exact_pass_at_k(fail, k)
        hits = np.zeros(len(y))
        for i, p in enumerate(probs):
            draws = rng.choice(10, size=(trials, k), p=p / p.sum())
            hits[i] = np.mean((draws == y[i]).any(axis=1))
        # per image and pooled, within 4.5 standard errors of the Monte Carlo mean
        se = np.sqrt(exact * (1 - exact) / trials)
        assert np.all(np.abs(hits - exact) <= 4.5 * se + 1e-12)
        pooled_se = math.sqrt(float(np.sum(exact * (1 - exact))) / trials) / len(y)
        assert abs(hits.mean() - exact.mean()) <= 4.5 * pooled_se


def test_failure_probability_is_precise_near_certainty():
    q = failure_probabilities(torch.tensor([[40.0, 0.0, 0.0]]), torch.tensor([0]))
    assert q[0] == pytest.approx(2 * math.exp(-40), rel=1e-12)  # 1 − p would round to 0
    assert exact_pass_at_k([0.5], 3)[0] == 0.875


def test_policy_loss_equals_the_per_response_sum():
    rng = np.random.default_rng(1)
    logits = torch.randn(5, 10, dtype=torch.float64, requires_grad=True)
    labels = rng.integers(0, 10, size=(5, 7))
    advantages = rng.normal(size=(5, 7))
    policy_loss(logits, labels, advantages).backward()
    grouped = logits.grad.clone()
    logits.grad = None
    logp = torch.log_softmax(logits, -1)
    naive = -sum(advantages[b, i] * logp[b, labels[b, i]] for b in range(5) for i in range(7)) / 35
    naive.backward()
    torch.testing.assert_close(grouped, logits.grad, rtol=1e-12, atol=1e-14)


def test_runs_are_deterministic_and_rl_learns(tmp_path):
    config = DigitsConfig(steps=60, eval_every=30, lr_schedule="constant", cache_dir=str(tmp_path))
    a = train(config, "grpo", seed=0)
    b = train(config, "grpo", seed=0)
    assert a["evals"] == b["evals"]
    assert [e["step"] for e in a["evals"]] == [0, 30, 60]
    assert a["evals"][-1]["pass@1"] > a["evals"][0]["pass@1"] + 0.2  # from ~0.1 (scratch)
    c = train(config, "grpo", seed=1)
    assert c["evals"][0] == a["evals"][0]  # the same start for every seed
    assert c["evals"][-1]["fail"] != a["evals"][-1]["fail"]


def test_sft_start_is_strong_shared_and_cached(tmp_path):
    config = DigitsConfig(start="sft", steps=1, eval_every=1, cache_dir=str(tmp_path))
    first = train(config, "grpo", seed=0)["evals"][0]
    assert first["pass@1"] > 0.5  # far above the random start's ~0.1
    assert len(list(tmp_path.glob("sft-*.pt"))) == 1
    again = train(config, "maxrl", seed=3)["evals"][0]
    assert again == first


def test_a_k_schedule_is_resolved_per_step():
    config = DigitsConfig(steps=4, eval_every=4)
    # steps(8,1): K = 8 for steps 1-2, K = 1 (GRPO) for 3-4; it runs and differs from both
    sched = train(config, "grpo_k:k=steps(8,1)", seed=0)["evals"][-1]["fail"]
    assert sched != train(config, "grpo", seed=0)["evals"][-1]["fail"]
    assert sched != train(config, "grpo_k:k=8", seed=0)["evals"][-1]["fail"]


def test_bad_input_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="groups of 16"):
        check_shaper("grpo_k:k=32", 16)
    with pytest.raises(ValueError, match="every advantage is 0"):
        check_shaper("grpo", 1)
    with pytest.raises(ValueError, match="lr must be"):
        DigitsConfig(lr=-1.0).validate()
    with pytest.raises(ValueError, match="multiple of 10"):
        DigitsConfig(sft_images=15).validate()
    with pytest.raises(ValueError, match="start must be one of"):
        DigitsConfig(start="medium").validate()
