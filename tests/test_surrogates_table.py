"""Table 1 from the registry: both checked columns are tight, and the checks can fail."""

from __future__ import annotations

import numpy as np

from advshape.surrogates import table


def test_paper_rows_are_checked():
    rows = table.compute_table(k=4, n=16, paper_only=True)
    assert [r.label for r in rows] == [
        "RLOO",
        "GRPO",
        "Skew-R",
        "RLOO_K",
        "GRPO~_K (Chen et al.)",
        "GRPO_K",
    ]
    for r in rows:
        assert r.weights_error < 1e-13, r
        assert r.surrogate_error < 1e-7, r
    grpo = rows[1]
    assert grpo.scores == "A⁺ = √((1−ρ̂)/ρ̂), A⁻ = −√(ρ̂/(1−ρ̂))"  # ρ̂ in the denominators
    assert grpo.surrogate.startswith("2·arcsin√ρ")


def test_proportionality_check_can_fail():
    m = np.arange(9)
    rho = m / 8
    ok = table._proportionality_error((rho, rho), (2 * rho, 2 * rho))
    bad = table._proportionality_error((rho, rho**2), (rho, rho))
    assert ok < 1e-15 and bad > 0.1


def test_render_text_and_markdown():
    rows = table.compute_table(k=2, n=8, paper_only=True)
    text = table.render_text(rows, 2, 8)
    assert "Table 1 (K = 2" in text and "GRPO_K  (grpo_k:k=2)" in text
    md = table.render_markdown(rows, 2, 8)
    assert md.count("\n") == len(rows) + 1 and md.startswith("| algorithm")
