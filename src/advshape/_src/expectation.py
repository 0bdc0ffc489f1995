"""Exact expected update of a count-based shaper at finite group size N.

Given the rewards, responses are independent and E[∇log π | r = 1] = ∇ρ/ρ,
E[∇log π | r = 0] = −∇ρ/(1 − ρ) (paper Lemma 2). Averaging the update (1/N)Σ A_i ∇log π(y_i)
over N⁺ ~ Binomial(N, ρ) therefore gives exactly c_N(ρ)·∇ρ with

    c_N(ρ) = (1/N) Σ_{m=0}^{N} Bin(m; N, ρ)·[A⁺(m, N)·m/ρ − A⁻(m, N)·(N − m)/(1 − ρ)]
           = Σ_{j=0}^{N−1} Bin(j; N−1, ρ)·[A⁺(j+1, N) − A⁻(j, N)]

(the second form, from m·Bin(m; N, ρ) = Nρ·Bin(m−1; N−1, ρ), is finite at ρ ∈ {0, 1}).
j is the number of correct responses among the N − 1 *others*. The paper only has the
N → ∞ limit; this is the exact finite-N version.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src.closed_forms import as_rho

__all__ = ["CountBased", "binomial_pmf", "expected_update_coefficient", "finite_n_surrogate"]


class CountBased(Protocol):
    """What the functions below need of a shaper: its score function ``scores(n_pos, n) ->
    (A⁺, A⁻)`` (None when the shaper is not count-based, which they refuse). A
    :class:`~advshape.Shaper` is one."""

    @property
    def scores(
        self,
    ) -> (
        Callable[[ArrayLike, ArrayLike], tuple[NDArray[np.float64], NDArray[np.float64]]] | None
    ): ...


def binomial_pmf(n: int, rho: ArrayLike) -> NDArray[np.float64]:
    """Bin(j; n, ρ) for j = 0..n, shape ``rho.shape + (n + 1,)``; exact 0/1 at ρ ∈ {0, 1}."""
    rho = as_rho(rho)  # real, finite, in [0, 1]; not complex, not masked
    j = np.arange(n + 1, dtype=np.float64)
    log_binom = np.array(
        [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range(n + 1)]
    )
    r = rho[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = (
            log_binom
            + np.where(j > 0, j * np.log(r), 0.0)
            + np.where(j < n, (n - j) * np.log1p(-r), 0.0)
        )
    return cast(NDArray[np.float64], np.exp(log_p))  # a ufunc's result is typed Any


def _group_size(n: object, what: str) -> int:
    """N as a Python int: a positive whole number (8.7 is refused, not truncated to 8)."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{what}: n must be a positive integer group size, got {n!r}")
    return int(n)


def _score_differences(shaper: CountBased, n: int, what: str) -> NDArray[np.float64]:
    """d_j = A⁺(j+1, N) − A⁻(j, N) for j = 0..N−1, from the shaper's score function."""
    scores = getattr(shaper, "scores", None)
    if scores is None:
        raise ValueError(
            f"shaper {getattr(shaper, 'spec', shaper)!r} is not count-based (no scores(n_pos, n)); "
            f"{what} needs advantages that depend on the rewards only through N+ and N"
        )
    a_pos, a_neg = scores(np.arange(n + 1), np.full(n + 1, n))
    diff: NDArray[np.float64] = a_pos[1:] - a_neg[:-1]
    return diff


def expected_update_coefficient(shaper: CountBased, n: int, rho: ArrayLike) -> NDArray[np.float64]:
    """c_N(ρ): the expected update of ``shaper`` with groups of ``n`` is exactly c_N(ρ)·∇ρ.

    ``shaper`` is a count-based :class:`Shaper` (or anything with ``scores(n_pos, n)``).
    Vectorised over ``rho`` in [0, 1]. Unbiased Pass@K shapers give c_N ∝ (1 − ρ)^{K−1}.
    """
    n = _group_size(n, "expected_update_coefficient")
    return binomial_pmf(n - 1, rho) @ _score_differences(shaper, n, "c_N")


def finite_n_surrogate(shaper: CountBased, n: int, rho: ArrayLike) -> NDArray[np.float64]:
    """F_N(ρ) = ∫₀^ρ c_N(t) dt, the surrogate a shaper ascends in expectation at group size N.

    Exact, no quadrature: ∫₀^ρ Bin(j; N−1, t) dt = (1/N)·P[Bin(N, ρ) > j], so with
    d_j = A⁺(j+1, N) − A⁻(j, N),

        F_N(ρ) = (1/N) Σ_{j=0}^{N−1} d_j · P[Bin(N, ρ) ≥ j + 1],   F_N(0) = 0.
    """
    n = _group_size(n, "finite_n_surrogate")
    diff = _score_differences(shaper, n, "F_N")
    pmf = binomial_pmf(n, rho)  # Bin(i; N, ρ), i = 0..N
    tail = np.cumsum(pmf[..., ::-1], axis=-1)[..., ::-1]  # tail[i] = P[Bin ≥ i]
    return tail[..., 1:] @ diff / n
