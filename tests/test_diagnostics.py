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
