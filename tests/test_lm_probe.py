"""The headroom probe's verdicts and words, from known evaluation rows."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")  # advshape.lm.probe evaluates a model: the `lm` extra
pytest.importorskip("transformers")

from advshape.lm.probe import describe, format_probe


def row(t, p1, p16, hard16):
    return {
        "temperature": t,
        "pooled": {"pass@1": p1, "pass@16": p16},
        "by_class": {
            "easy": {"pass@1": p1 + 0.1, "pass@16": 0.95},
            "hard": {"pass@1": p1 / 2, "pass@16": hard16},
        },
    }


def test_sharpening_and_tradeoff_are_read_from_the_numbers():
    result = describe([row(0.5, 0.30, 0.70, 0.40), row(1.0, 0.18, 0.72, 0.48)], "divisor", 32, 16)
    assert result["temperatures"] == [1.0, 0.5]  # hottest first, whatever the input order
    assert result["sharpening"] and result["tradeoff_classes"] == ["hard"]
    assert result["words"][0] == (
        "pass@1 rises as the temperature drops (1 → 0.5: 0.180 → 0.300): room for RL to sharpen."
    )
    assert "pass@16 on the hard class falls" in result["words"][2]
    assert "pass@16 on the easy class does not fall" in result["words"][1]
    text = format_probe(result)
    assert "hard pass@16" in text and "0.480" in text


def test_flat_pass_at_1_means_little_room():
    result = describe([row(1.0, 0.134, 0.86, 0.78), row(0.5, 0.135, 0.86, 0.78)], "x", 32, 16)
    assert not result["sharpening"] and result["tradeoff_classes"] == []
    assert "does not rise" in result["words"][0]
