"""Build every registry shaper with example values for its required parameters, and check a
shaper's scores against the exact reference (tests/_reference.py) at one group size."""

import numpy as np
import pytest

import advshape
from tests import _reference as ref


def example_shaper(name: str, k: int = 3, lam: float = 0.5) -> advshape.Shaper:
    """``advshape.shaper(name)`` with its required parameters filled in: integer ones (``k``, the
    Maclaurin order ``T``) get ``k``, real ones (``lam``, ``gamma``) get ``lam``."""
    entry = advshape.registry()[name]
    params = {
        p.name: (k if p.kind is int else lam)
        for p in entry.params
        if p.default is advshape.REQUIRED
    }
    return advshape.shaper(name, **params)


def reference_scores(name, n, n_pos, **params):
    """(A⁺, A⁻) at N⁺ = ``n_pos`` from the reference definitions (None where never used)."""
    r = ref.rewards_vector(n_pos, n)
    a_pos = float(ref.reference_advantage(name, r, 0, **params)) if n_pos >= 1 else None
    a_neg = float(ref.reference_advantage(name, r, n - 1, **params)) if n_pos < n else None
    return a_pos, a_neg


def check_scores(shaper, name, n, **params):
    """``shaper.scores`` at group size ``n`` against the reference for every N⁺ (rel 1e-12), or the
    size error below the shaper's ``min_n``."""
    if n < shaper.info.min_n:
        with pytest.raises(ValueError, match=f"at least {shaper.info.min_n} responses"):
            shaper.scores(0, n)
        return
    a_pos, a_neg = shaper.scores(np.arange(n + 1), n)
    for n_pos in range(n + 1):
        want_pos, want_neg = reference_scores(name, n, n_pos, **params)
        if want_pos is not None:
            assert a_pos[n_pos] == pytest.approx(want_pos, rel=1e-12, abs=1e-14), (
                shaper.spec,
                n,
                n_pos,
                "A+",
            )
        if want_neg is not None:
            assert a_neg[n_pos] == pytest.approx(want_neg, rel=1e-12, abs=1e-14), (
                shaper.spec,
                n,
                n_pos,
                "A-",
            )
