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
    """The binomial probabilities Bin(j; n, ρ) = C(n, j)·ρʲ(1 − ρ)ⁿ⁻ʲ for j = 0..n.

    The law of N⁺ ~ Binomial(N, ρ), the number of correct responses in a group of N when
    each is correct with probability ρ (paper Sec. 2); computed in log space, exact 0 and 1
    at ρ ∈ {0, 1}.

    Args:
        n: the number of trials, n ≥ 0.
        rho: the success probabilities ρ ∈ [0, 1], any shape.

    Returns:
        float64 of shape ``rho.shape + (n + 1,)``: the last axis is j = 0..n.

    Raises:
        ValueError: ρ outside [0, 1], not finite or not real.

    Example:
        >>> import advshape
        >>> advshape.binomial_pmf(4, 0.5).round(12).tolist()  # C(4, j)/16
        [0.0625, 0.25, 0.375, 0.25, 0.0625]
        >>> advshape.binomial_pmf(2, [0.0, 1.0]).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N⁺ ~ Binomial(N, ρ), Sec. 2 and Lemma 2).
    """
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

        c_N(ρ) = Σ_{j=0}^{N−1} Bin(j; N−1, ρ)·[A⁺(j+1, N) − A⁻(j, N)]

    (the paper's Lemma 2 averaged over N⁺ ~ Binomial(N, ρ) exactly, at finite N; the paper
    has only the N → ∞ limit). Unbiased Pass@K shapers give c_N ∝ (1 − ρ)^{K−1}, the
    derivative of ρ_K = 1 − (1 − ρ)^K.

    Args:
        shaper: a count-based :class:`Shaper` (or anything with ``scores(n_pos, n)``).
        n: the group size N ≥ 1.
        rho: ρ ∈ [0, 1], the probability that one response is correct; any shape.

    Returns:
        c_N(ρ), float64, of the shape of ``rho``.

    Raises:
        ValueError: a shaper that is not count-based, N not a positive integer, ρ outside
            [0, 1], or a group size the shaper refuses (K > N).

    Example:
        >>> import advshape
        >>> s = advshape.shaper("reinforce_k:k=4")
        >>> advshape.expected_update_coefficient(s, 8, [0.0, 0.5, 1.0]).round(12).tolist()
        [1.0, 0.125, 0.0]
        >>> c = advshape.expected_update_coefficient(advshape.shaper("rloo"), 8, 0.3)
        >>> round(float(c), 12)  # RLOO: unbiased for ρ itself at every N
        1.0

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Lemma 2; Sec. 5.1).
    """
    n = _group_size(n, "expected_update_coefficient")
    return binomial_pmf(n - 1, rho) @ _score_differences(shaper, n, "c_N")


def finite_n_surrogate(shaper: CountBased, n: int, rho: ArrayLike) -> NDArray[np.float64]:
    """F_N(ρ) = ∫₀^ρ c_N(t) dt, the surrogate a shaper ascends in expectation at group size N.

    Exact, no quadrature: ∫₀^ρ Bin(j; N−1, t) dt = (1/N)·P[Bin(N, ρ) > j], so with
    d_j = A⁺(j+1, N) − A⁻(j, N),

        F_N(ρ) = (1/N) Σ_{j=0}^{N−1} d_j · P[Bin(N, ρ) ≥ j + 1],   F_N(0) = 0.

    ``advshape.reverse_engineer(shaper, n=N)`` wraps it as a curve; without ``n`` it gives
    the population surrogate of the paper's Sec. 5.1, the N → ∞ limit.

    Args:
        shaper: a count-based :class:`Shaper` (or anything with ``scores(n_pos, n)``).
        n: the group size N ≥ 1.
        rho: ρ ∈ [0, 1]; any shape.

    Returns:
        F_N(ρ), float64, of the shape of ``rho``.

    Raises:
        ValueError: as :func:`expected_update_coefficient`.

    Example:
        >>> import advshape
        >>> s = advshape.shaper("reinforce_k:k=4")  # F_N = ρ_K/K = (1 − (1 − ρ)⁴)/4
        >>> advshape.finite_n_surrogate(s, 8, [0.5, 1.0]).round(12).tolist()
        [0.234375, 0.25]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Lemma 2; Sec. 5.1, the population surrogate).
    """
    n = _group_size(n, "finite_n_surrogate")
    diff = _score_differences(shaper, n, "F_N")
    pmf = binomial_pmf(n, rho)  # Bin(i; N, ρ), i = 0..N
    tail = np.cumsum(pmf[..., ::-1], axis=-1)[..., ::-1]  # tail[i] = P[Bin ≥ i]
    return tail[..., 1:] @ diff / n
