"""advshape.group_diagnostics against a direct computation in exact rationals, group by group."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import advshape
from advshape._src.diagnostics import pass_at_k_ladder


def exact_diagnostics(groups_of):
    """The documented definitions, one group at a time, in Fractions (groups_of: id -> rows)."""
    sizes, correct, ess, sums, zero, total = [], [], [], [], 0, 0
    for rows in groups_of.values():
        r = [Fraction(x) for x, _ in rows]
        a = [Fraction(y) for _, y in rows]
        sizes.append(len(rows))
        correct.append(sum(x >= 1 for x in r))
        zero += sum(y == 0 for y in a)
        total += len(a)
        sq = sum(y * y for y in a)
        if sq:
            ess.append(sum(abs(y) for y in a) ** 2 / (len(a) * sq))
        sums.append(abs(sum(a)))
    G = len(sizes)
    out = {
        "groups": G,
        "frac_all_correct": Fraction(sum(c == n for c, n in zip(correct, sizes)), G),
        "frac_all_wrong": Fraction(sum(c == 0 for c in correct), G),
        "frac_mixed": Fraction(sum(0 < c < n for c, n in zip(correct, sizes)), G),
        "frac_zero_advantage": Fraction(zero, total),
        "ess_fraction": sum(ess) / len(ess) if ess else Fraction(0),
        "max_abs_group_sum": max(sums),
    }
    for k in pass_at_k_ladder(min(sizes)):
        out[f"pass@{k}"] = (
            sum(1 - Fraction(math.comb(n - c, k), math.comb(n, k)) for n, c in zip(sizes, correct))
            / G
        )
    return out


def test_pass_at_k_ladder():
    assert pass_at_k_ladder(1) == (1,)
    assert pass_at_k_ladder(8) == (1, 2, 4, 8)
    assert pass_at_k_ladder(12) == (1, 2, 4, 8, 12)
    with pytest.raises(ValueError, match="group size"):
        pass_at_k_ladder(0)


def test_shuffled_ragged_groups_match_exact_computation():
    rng = np.random.default_rng(3)
    sizes = {"p0": 8, "p1": 8, "p2": 6, "p3": 8, "p4": 7}
    ids = np.array([g for g, n in sizes.items() for _ in range(n)], dtype=object)
    rewards = rng.integers(0, 2, size=len(ids)).astype(np.float64)
    rewards[ids == "p1"] = 1.0  # an all-correct group
    rewards[ids == "p3"] = 0.0  # an all-wrong group
    rewards[np.flatnonzero(ids == "p4")[:3]] = [0.5, 1.0, 0.25]  # partial credit
    shaper = advshape.shaper("rloo")
    advantages = shaper.advantages(rewards, groups=ids)
    advantages[np.flatnonzero(ids == "p0")[0]] += 0.375  # break the zero sum of one group
    order = rng.permutation(len(ids))
    got = advshape.group_diagnostics(rewards[order], advantages[order], ids[order])
    want = exact_diagnostics(
        {g: [(rewards[i], advantages[i]) for i in np.flatnonzero(ids == g)] for g in sizes}
    )
    assert set(got) == set(want)
    assert got["groups"] == 5 and got["frac_all_correct"] == 0.2 and got["frac_all_wrong"] == 0.2
    assert list(k for k in got if k.startswith("pass@")) == ["pass@1", "pass@2", "pass@4", "pass@6"]
    assert got["max_abs_group_sum"] == pytest.approx(0.375, abs=1e-12)
    for key, value in want.items():
        assert got[key] == pytest.approx(float(value), rel=1e-14, abs=1e-14), key


def test_dense_rows_equal_grouped_form():
    rewards = np.array([[1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=float)
    adv = advshape.shaper("grpo_k:k=2").advantages(rewards)
    dense = advshape.group_diagnostics(rewards, adv)
    grouped = advshape.group_diagnostics(rewards.ravel(), adv.ravel(), np.repeat([7, 3, 5, 1], 4))
    assert dense == grouped
    want = exact_diagnostics({g: list(zip(rewards[g], adv[g])) for g in range(4)})
    assert dense["frac_mixed"] == 0.5 and dense["frac_zero_advantage"] == 0.5
    for key, value in want.items():
        assert dense[key] == pytest.approx(float(value), rel=1e-14, abs=1e-14), key


def test_all_zero_advantages_have_zero_ess():
    got = advshape.group_diagnostics(np.zeros((2, 4)), np.zeros((2, 4)))
    assert got["ess_fraction"] == 0.0 and got["frac_zero_advantage"] == 1.0
    assert got["pass@4"] == 0.0 and got["frac_all_wrong"] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros(4), np.zeros(3)), "differ in shape"),
        ((np.zeros(0), np.zeros(0)), "empty"),
        ((np.array([0.0, np.nan]), np.zeros(2)), "rewards must be finite"),
        ((np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(4)), "must be 1-D"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        advshape.group_diagnostics(*args)


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), "1", None, 1j])
def test_threshold_must_be_a_finite_number(threshold):
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        advshape.group_diagnostics(np.ones(2), np.zeros(2), threshold=threshold)


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1.0, 1e150, 1e200, 1e300])
def test_ess_is_exact_at_any_magnitude(scale):
    """ESS from A/max|A|: the same fraction whatever the advantages' scale (Σ A² over- or
    underflowed before: NaN and 0)."""
    rng = np.random.default_rng(8)
    base = np.round(rng.normal(size=(3, 6)), 3)
    base[2] = [4, -1, 0, 0, -1, -2]
    advantages = base * scale
    rewards = (base > 0).astype(float)
    groups = {g: list(zip(rewards[g], advantages[g])) for g in range(3)}
    want = exact_diagnostics(groups)
    got = advshape.group_diagnostics(rewards, advantages)
    assert got["ess_fraction"] == pytest.approx(float(want["ess_fraction"]), rel=1e-14)
    assert got["max_abs_group_sum"] == pytest.approx(float(want["max_abs_group_sum"]), rel=1e-12)
    got = advshape.group_diagnostics(
        rewards.ravel(), advantages.ravel(), np.repeat(["a", "b", "c"], 6)
    )
    assert got["ess_fraction"] == pytest.approx(float(want["ess_fraction"]), rel=1e-14)


def test_group_sum_beyond_float64_is_inf_not_nan():
    got = advshape.group_diagnostics(np.array([[1.0, 1.0]]), np.array([[1.7e308, 1.7e308]]))
    assert got["max_abs_group_sum"] == np.inf and got["ess_fraction"] == 1.0


def test_ids_are_read_as_the_shapers_read_them():
    rewards = np.array([1.0, 0.0, 1.0, 0.0, 0.5, 0.25])
    for groups in (
        [(1, 2), (1, 2), (1, 3), (1, 3), (1, 2), (1, 3)],
        [1, 1, "1", "1", 1.0, "1"],
        ["a", "a", "a\x00", "a\x00", "a", "a\x00"],
    ):
        advantages = advshape.shaper("rloo").advantages(rewards, groups=groups)
        got = advshape.group_diagnostics(rewards, advantages, groups)
        assert got["groups"] == 2 and got["max_abs_group_sum"] < 1e-15
    for groups, match in (([1, None, 1, 2, 2, 1], "None"), ([0.0, np.nan] * 3, "NaN")):
        with pytest.raises(ValueError, match=match):
            advshape.group_diagnostics(rewards, rewards, groups)


def test_complex_inputs_are_refused():
    with pytest.raises(ValueError, match="advantages must be real.*real part"):
        advshape.group_diagnostics(np.zeros(2), np.array([1j, 0]))
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="rewards must be real"):
        advshape.group_diagnostics(torch.tensor([1j, 0]), np.zeros(2))


def test_docstring_example_runs():
    import doctest

    from advshape._src import diagnostics

    assert doctest.testmod(diagnostics).failed == 0
