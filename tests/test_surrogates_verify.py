"""The verify module's building blocks (the full run is tested through the CLI)."""

from __future__ import annotations

import numpy as np

from advshape.surrogates import verify


def test_check_pass_fail_semantics():
    assert verify.Check("c", "x", 1e-9, 1e-6).passed
    assert not verify.Check("c", "x", 2e-6, 1e-6).passed
    assert not verify.Check("c", "x", float("nan"), 1e-6).passed
    assert verify.Check("c", "x", 0.0, 0.0).passed
    assert not verify.Check("c", "x", float("inf"), 0.0).passed
    assert verify.Check("c", "trend", 5.0, None, ok=True).passed  # judged by its trend
    assert not verify.Check("c", "trend", 0.0, None, ok=False).passed


def test_sup_normalised_error_is_affine_invariant_and_detects_differences():
    rho = verify.RHO_GRID
    f = lambda r: np.arcsin(np.sqrt(r))  # noqa: E731
    assert verify.sup_normalised_error(f, lambda r: 3 * f(r) - 2) < 1e-15
    # arcsin√ρ vs ρ, normalised: max |2/π·arcsin√ρ − ρ| ≈ 0.105 (a real difference is seen)
    assert 0.1 < verify.sup_normalised_error(f, lambda r: r, rho) < 0.11


def test_exact_finite_n_section_passes_and_counts_its_cases():
    checks = list(verify._finite_n_unbiased())
    assert [c.passed for c in checks] == [True, True]
    assert "122 cases" in checks[0].compared


def test_run_checks_reports_failures(monkeypatch):
    def failing(curve):
        yield verify.Check("Claim X", "a deliberately wrong comparison", 1.0, 1e-6)

    monkeypatch.setattr(verify, "SECTIONS", (failing,))
    seen = []
    checks, seconds = verify.run_checks(seen.append)
    assert seen == checks and not checks[0].passed and seconds >= 0
