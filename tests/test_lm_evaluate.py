"""Evaluation: Pass@K from counts equals 1 − C(n−c, K)/C(n, K); evaluate() counts right."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from advshape.lm.evaluate import evaluate, pass_at_k_from_counts  # noqa: E402
from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer  # noqa: E402
from advshape.lm.rollout import sample  # noqa: E402


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@pytest.mark.parametrize("n", [1, 4, 32])
def test_pass_at_k_from_counts_matches_exact_binomial_ratio(n):
    counts = [*list(range(n + 1)), 0, n, n // 2]
    ks = [k for k in (1, 2, 4, 8, 16, 32) if k <= n]
    got = pass_at_k_from_counts(counts, n, ks)
    for k in ks:
        expected = sum(exact_pass_at_k(n, c, k) for c in counts) / len(counts)
        assert got[k] == pytest.approx(float(expected), abs=1e-12)


def test_known_counts_give_known_values():
    # n = 4, c = 1: Pass@1 = 1/4, Pass@2 = 1 − C(3,2)/C(4,2) = 1/2, Pass@4 = 1.
    assert pass_at_k_from_counts([1], 4, (1, 2, 4)) == {1: 0.25, 2: 0.5, 4: 1.0}
    assert pass_at_k_from_counts([0, 4], 4, (1, 4)) == {1: 0.5, 4: 0.5}


class DigitTask:
    """A stand-in verifier: a response is correct iff it starts with a digit below 5."""

    def scores(self, problems, texts):
        return [1.0 if t[:1].isdigit() and int(t[0]) < 5 else 0.0 for t in texts]

    @staticmethod
    def correct(score):
        return score >= 1.0


class P:
    def __init__(self, prompt):
        self.prompt = prompt


def test_evaluate_counts_and_pass_at_k_agree_with_independent_sampling():
    tokenizer = build_tokenizer("0123456789+-*/()=>: ")
    config = TinyModelConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
    )
    model = build_model(tokenizer, config, seed=1)
    problems = [P("1 2 3>6:"), P("4 5>9:"), P("7 7 7>49:")]
    n, seed = 8, 11
    result = evaluate(
        model,
        tokenizer,
        DigitTask(),
        problems,
        n=n,
        ks=(1, 2, 8),
        max_new_tokens=4,
        seed=seed,
        prompts_per_batch=2,
    )
    # Redraw the same samples (same per-batch seeds) and count correct ones by hand.
    counts = []
    for start in (0, 2):
        batch = problems[start : start + 2]
        texts = sample(
            model,
            tokenizer,
            [p.prompt for p in batch],
            n=n,
            max_new_tokens=4,
            seed=seed * 1_000_003 + start,
        )[4]
        for b in range(len(batch)):
            counts.append(
                sum(t[:1].isdigit() and int(t[0]) < 5 for t in texts[b * n : (b + 1) * n])
            )
    assert result["counts"] == counts
    assert 0 < sum(counts) < n * len(problems)  # the check is not vacuous
    for k in (1, 2, 8):
        expected = sum(exact_pass_at_k(n, c, k) for c in counts) / len(counts)
        assert result[f"pass@{k}"] == pytest.approx(float(expected), abs=1e-12)


def test_per_class_pass_at_k_equals_a_fraction_computation_per_class():
    from advshape.lm.evaluate import pass_at_k_by_class

    n = 16
    counts = [0, 3, 16, 1, 8, 0, 15, 2, 9]
    classes = ["hard", "easy", "easy", "hard", "easy", "hard", "mid", "hard", "easy"]
    got = pass_at_k_by_class(counts, classes, n, (1, 2, 8, 16), order=("easy", "mid", "hard"))
    assert list(got) == ["easy", "mid", "hard"]
    for cls in ("easy", "mid", "hard"):
        members = [c for c, label in zip(counts, classes) if label == cls]
        for k in (1, 2, 8, 16):
            exact = sum(exact_pass_at_k(n, c, k) for c in members) / len(members)
            assert got[cls][f"pass@{k}"] == pytest.approx(float(exact), abs=1e-12)
