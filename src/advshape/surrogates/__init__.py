"""Surrogate rewards: the bidirectional map advantage scores <-> weights <-> surrogate F(ρ).

- :func:`reverse_engineer` — the surrogate F a count-based shaper ascends: the population one
  (N → ∞, paper Sec. 5.1) or the exact one at a finite group size N.
- :func:`from_surrogate` — a new shaper from a surrogate F (and regulariser Ω): A± =
  [F'(ρ̂) + λΩ'(ρ̂)]·A±_RLOO (paper contribution C-2).
- the spec texts ``surrogate:EXPR[;regularizer=EXPR;lam=X]`` and ``F=EXPR[;Omega=EXPR;lam=X]``
  are read by ``advshape.shaper`` itself (the core parses them and calls ``from_surrogate``).
- the closed forms of every registry shaper live on ``advshape.shaper(...).surrogate``.

Only NumPy is imported here; SymPy (forward-engineering from text) and SciPy (incomplete beta)
are imported when used.
"""

from advshape.surrogates.finite import exact_update_coefficient, finite_n_convergence
from advshape.surrogates.forward import from_surrogate, numeric_derivative
from advshape.surrogates.reverse import SurrogateCurve, limit_weights, reverse_engineer

__all__ = [
    "SurrogateCurve",
    "exact_update_coefficient",
    "finite_n_convergence",
    "from_surrogate",
    "limit_weights",
    "numeric_derivative",
    "reverse_engineer",
]
