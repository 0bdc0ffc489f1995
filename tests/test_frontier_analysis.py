"""Verdicts from hand-made runs: points placed exactly, so every verdict is known in advance."""

from __future__ import annotations

import pytest

from advshape.frontier.analysis import analyse, reference_spec
from advshape.frontier.families import parse_family

P = 1000  # problems; n = 2 samples each, K = 2


def counts_for(x: float, y: float) -> list[int]:
    """Counts (of n = 2) whose mean pass@1 is x and pass@2 is y: n1 problems with one correct
    (pass@1 1/2, pass@2 1) and n2 with two (1, 1); the rest none."""
    n1, n2 = round(2 * (y - x) * P), round((2 * x - y) * P)
    assert n1 >= 0 and n2 >= 0 and n1 + n2 <= P
    return [1] * n1 + [2] * n2 + [0] * (P - n1 - n2)


def run(seed: int, points: list[tuple[float, float]]) -> dict:
    """A run evaluated at steps 0, 5, 10 with these (pass@1, pass@2) points."""
    return {
        "seed": seed,
        "evals": [
            {"step": 5 * i, "samples": 80 * i, "problems": {"counts": counts_for(*p), "n": 2}}
            for i, p in enumerate(points)
        ],
    }


START = (0.2, 0.4)


def spec_runs(final: tuple[float, float], middle=None) -> list[dict]:
    middle = middle or final
    return [run(s, [START, middle, final]) for s in range(3)]


FAMILIES = [
    parse_family("grpo_k:k={1,4}"),
    parse_family("grpo_k:k={linear(4,1),steps(4,1)}"),
    parse_family("maxrl"),
    parse_family("focal:gamma=1"),
]


def analysed(**extra):
    runs = {
        "strong": {
            "grpo_k:k=1": spec_runs((0.5, 0.6)),
            "grpo_k:k=4": spec_runs((0.4, 0.7)),
            "grpo_k:k=linear(4,1)": spec_runs((0.45, 0.7)),  # frontier there: 0.65
            "grpo_k:k=steps(4,1)": spec_runs((0.45, 0.65)),  # exactly on it
            "maxrl": spec_runs((0.55, 0.65)),  # beats grpo on both
            "focal:gamma=1": spec_runs((0.5, 0.65)),  # +0.05 pass@2, same pass@1
            **extra,
        }
    }
    return analyse(runs, FAMILIES, k=2, design="crossed", resamples=300)


def claims(out, start="strong"):
    return {(c["claim"].split(" ")[0], c["subject"]): c for c in out["starts"][start]["claims"]}


def test_points_frontier_and_gaps_are_exact():
    out = analysed()["starts"]["strong"]
    assert out["frontier"]["specs"] == ["grpo_k:k=1", "grpo_k:k=4"]
    assert [v for p in out["frontier"]["vertices"] for v in p] == pytest.approx(
        [0.4, 0.7, 0.5, 0.6]
    )
    specs = out["specs"]
    assert specs["maxrl"]["final"]["pass@1"]["mean"] == pytest.approx(0.55)
    assert specs["maxrl"]["final"]["pass@2"]["mean"] == pytest.approx(0.65)
    gap = specs["grpo_k:k=linear(4,1)"]["gap"]
    # seeds identical: the interval comes from resampling problems alone
    assert gap["mean"] == pytest.approx(0.05, abs=1e-12) and 0 < gap["low"] < 0.05 < gap["high"]
    assert specs["maxrl"]["gap"]["where"] == "beyond"  # pass@1 above every fixed-K run's
    assert specs["grpo_k:k=1"]["gap"] is None  # frontier members have no gap
    assert out["start_point"] == pytest.approx({"pass@1": 0.2, "pass@2": 0.4})
    assert [c["step"] for c in specs["maxrl"]["curve"]] == [0, 5, 10]


def test_verdicts_follow_the_numbers():
    c = claims(analysed())
    assert c[("K", "grpo_k:k=linear(4,1)")]["verdict"] == "holds"
    assert "above the fixed-K frontier" in c[("K", "grpo_k:k=linear(4,1)")]["evidence"]
    on = c[("K", "grpo_k:k=steps(4,1)")]
    assert on["verdict"] == "does not hold" and "on the fixed-K frontier" in on["evidence"]
    assert c[("MaxRL", "maxrl")]["verdict"] == "holds"
    assert "maxrl dominates grpo_k:k=1" in c[("MaxRL", "maxrl")]["evidence"]
    assert c[("focal", "focal:gamma=1")]["verdict"] == "holds"
    # the settling check: grpo (as grpo_k:k=1) did not move over the last quarter
    assert c[("settled", "grpo_k:k=1")]["verdict"] == "holds"


def test_a_point_that_still_moves_is_not_settled():
    moving = {"grpo_k:k=1": [run(s, [START, (0.3, 0.5), (0.5, 0.6)]) for s in range(3)]}
    out = analysed(**moving)
    settled = out["starts"]["strong"]["specs"]["grpo_k:k=1"]["settled"]["pass@1"]
    assert settled["from_step"] == 5 and settled["change"]["mean"] == pytest.approx(0.2)
    assert settled["settled"] is False
    assert claims(out)[("settled", "grpo_k:k=1")]["verdict"] == "does not hold"


def test_maxrl_that_trades_is_not_dominance():
    out = analysed(maxrl=spec_runs((0.45, 0.7)))
    verdict = claims(out)[("MaxRL", "maxrl")]
    assert verdict["verdict"] == "does not hold"
    assert "trades one for the other" in verdict["evidence"]


def test_focal_with_a_cost_in_pass_at_1_does_not_hold():
    out = analysed(**{"focal:gamma=1": spec_runs((0.45, 0.7))})
    verdict = claims(out)[("focal", "focal:gamma=1")]
    assert verdict["verdict"] == "does not hold" and "a cost in pass@1" in verdict["evidence"]


def test_seed_spread_widens_the_gap_interval():
    # the scheduled spec lands above the frontier in one seed, below it in another
    spread = [
        run(0, [START, (0.45, 0.75), (0.45, 0.75)]),
        run(1, [START, (0.45, 0.6), (0.45, 0.6)]),
        run(2, [START, (0.45, 0.7), (0.45, 0.7)]),
    ]
    out = analysed(**{"grpo_k:k=linear(4,1)": spread})
    gap = out["starts"]["strong"]["specs"]["grpo_k:k=linear(4,1)"]["gap"]
    assert gap["mean"] == pytest.approx(0.1 / 3)  # (0.75 + 0.6 + 0.7)/3 − 0.65
    assert gap["low"] < 0 < gap["high"]
    assert claims(out)[("K", "grpo_k:k=linear(4,1)")]["verdict"] == "does not hold"


def test_regime_claim_compares_weak_and_strong_starts():
    grpo_curve = [START, (0.3, 0.5), (0.4, 0.6)]
    faster = [START, (0.4, 0.6), (0.45, 0.65)]
    runs = {
        "weak": {
            "grpo": [run(s, grpo_curve) for s in range(3)],
            "linear_r": [run(s, faster) for s in range(3)],
        },
        "strong": {
            "grpo": [run(s, grpo_curve) for s in range(3)],
            "linear_r": [run(s, grpo_curve) for s in range(3)],
        },
    }
    out = analyse(
        runs, [parse_family("grpo"), parse_family("linear_r")], k=2, design="crossed", resamples=200
    )
    (claim,) = out["claims"]
    assert claim["subject"] == "linear_r" and claim["verdict"] == "holds"
    assert claim["numbers"]["mean_pass@1_weak"]["mean"] == pytest.approx(0.075)
    assert claim["numbers"]["mean_pass@1_strong"]["mean"] == pytest.approx(0.0)


def test_reference_is_grpo_or_its_k_equal_1_twin():
    assert reference_spec(["grpo_k:k=1", "grpo"]) == "grpo"
    assert reference_spec(["grpo_k:k=1", "maxrl"]) == "grpo_k:k=1"
    assert reference_spec(["maxrl"]) is None


def test_runs_on_different_problems_cannot_be_paired():
    runs = {"strong": {"grpo": spec_runs((0.5, 0.6)), "maxrl": spec_runs((0.55, 0.65))}}
    for i, r in enumerate(runs["strong"]["maxrl"]):
        r["problem_set"] = f"seed-{i}"  # as the bandit's: each seed its own problems
    with pytest.raises(ValueError, match="different held-out problems"):
        analyse(runs, [parse_family("grpo")], k=2, design="crossed", resamples=50)
    for r in runs["strong"]["grpo"]:
        r["problem_set"] = f"seed-{r['seed']}"
    nested = analyse(runs, [parse_family("grpo")], k=2, design="nested", resamples=50)
    assert nested["starts"]["strong"]["design"] == "nested"
