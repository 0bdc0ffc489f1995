"""Family expansion, the default set read from the registry, and fixed-K membership."""

from __future__ import annotations

import re

import numpy as np
import pytest

import advshape
from advshape.frontier.families import (
    FIXED_K_SHAPERS,
    default_families,
    fixed_k,
    parse_family,
)


def test_expansion_substitutes_each_value():
    f = parse_family("grpo_k:k={1,2,3,4,6,8,12,16}")
    assert f.knob == "k" and f.name == "grpo_k"
    assert f.specs == tuple(f"grpo_k:k={k}" for k in (1, 2, 3, 4, 6, 8, 12, 16))
    # values with commas inside parentheses (K schedules) are one value each
    f = parse_family("grpo_k:k={linear(8,1), steps(8,1),linear(16,1)}")
    assert f.specs == ("grpo_k:k=linear(8,1)", "grpo_k:k=steps(8,1)", "grpo_k:k=linear(16,1)")
    # the knob may sit among other parameters
    assert parse_family("pkpo:k={2,4},baseline=loo").specs == (
        "pkpo:k=2,baseline=loo",
        "pkpo:k=4,baseline=loo",
    )
    assert parse_family("  maxrl ").specs == ("maxrl",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("grpo_k:k={1,2", "PARAM={v1,v2,...}"),
        ("grpo_k:{1,2}", "PARAM={v1,v2,...}"),
        ("grpo_k:k={{1},2}", "PARAM={v1,v2,...}"),
        ("grpo_k:k={1,,2}", "an empty value"),
        ("grpo_k:k={1,2,1}", "lists 1 twice"),
        ("pkpo:k={2,4},baseline={loo,none}", "a family has one knob"),
        ("grpo_k:k={linear(8,1}", "unbalanced parentheses"),
        ("", "--family must be a shaper spec"),
    ],
)
def test_bad_families_name_the_problem(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_family(text)


def test_default_families_are_valid_specs_and_include_what_the_issue_lists():
    known = set(advshape.names())
    for quick in (False, True):
        families = default_families(quick=quick)
        for text in families:
            for spec in parse_family(text).specs:
                advshape.scheduled(spec)  # every default spec builds in this registry
        names = {parse_family(t).name for t in families}
        assert {"grpo_k", "rloo_k", "pkpo", "entropy", "maxrl", "skew_r"} <= names
        # focal weighting (1 − ρ̂)^γ: F-GRPO's focal once registered, else biased_k (γ = K − 1)
        assert ("focal" in names) == ("focal" in known) and ("biased_k" in names) != (
            "focal" in known
        )
        schedules = [
            s for t in families for s in parse_family(t).specs if "linear(" in s or "steps(" in s
        ]
        assert {"grpo_k:k=linear(8,1)", "grpo_k:k=steps(8,1)", "grpo_k:k=linear(16,1)"} <= set(
            schedules
        )
        # the newer shapers join once the registry has them
        for name in ("maclaurin", "linear_r", "sqrt_r", "plateau_r", "uniform_r"):
            assert (name in names) == (name in known)
    full = [s for t in default_families() for s in parse_family(t).specs]
    assert [s for s in full if s.startswith("grpo_k:k=") and s[9:].isdigit()] == [
        f"grpo_k:k={k}" for k in (1, 2, 3, 4, 6, 8, 12, 16)
    ]


def test_quick_is_the_same_families_at_fewer_values():
    full = default_families()
    quick = default_families(quick=True)
    assert [parse_family(t).name for t in full] == [parse_family(t).name for t in quick]
    for a, b in zip(full, quick, strict=True):
        assert set(parse_family(b).specs) <= set(parse_family(a).specs)


def test_fixed_k_membership():
    assert fixed_k("grpo_k:k=8") == 8 and fixed_k("rloo_k:k=2") == 2
    assert fixed_k("grpo") == 1 and fixed_k("rloo") == 1
    assert fixed_k("grpo_k:k=linear(8,1)") is None
    assert fixed_k("pkpo:k=8") is None and fixed_k("biased_k:k=3") is None


@pytest.mark.parametrize(("family", "member"), sorted(FIXED_K_SHAPERS.items()))
def test_k_equal_1_is_the_named_shaper_exactly(family, member):
    # why grpo and rloo sit on the frontier as K = 1: identical advantage scores at every N+
    n = 16
    counts = np.arange(n + 1)
    a = advshape.shaper(f"{family}:k=1").scores(counts, np.full(n + 1, n))
    b = advshape.shaper(member).scores(counts, np.full(n + 1, n))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
