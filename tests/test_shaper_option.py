"""The one function through which lm/ and bandit/ read a shaper spec, and its canonical form."""

from __future__ import annotations

import pytest

from advshape._shaper_option import canonical_spec, shaper_option


def test_every_spec_form_builds_a_shaper():
    assert shaper_option("grpo_k:k=8").spec == "grpo_k:k=8"
    assert shaper_option("grpo_k", default_k=4).spec == "grpo_k:k=4"  # the bandit's --k
    assert shaper_option("grpo_k:k=2", default_k=4).spec == "grpo_k:k=2"
    assert shaper_option("grpo_k:k=linear(8,1)").spec == "grpo_k:k=linear(8,1)"
    pytest.importorskip("sympy")
    assert shaper_option("surrogate:rho").spec == shaper_option("F=rho").spec


def test_a_bad_spec_names_the_option():
    with pytest.raises(ValueError, match=r"^--shapers: unknown shaper 'nope'"):
        shaper_option("nope", "--shapers")
    with pytest.raises(ValueError, match=r"^--shaper: a shaper spec must be a non-empty string"):
        shaper_option(" ")


def test_canonical_spec_equates_spellings():
    assert canonical_spec("grpo") == canonical_spec("grpo:std=population") == "grpo"
    assert canonical_spec(" grpo_k: k=8") == "grpo_k:k=8"
    assert canonical_spec("rloo_k", default_k=2) == "rloo_k:k=2"
