"""Paired comparisons of held-out Pass@K, with bootstrap intervals over problems.

Every run of a comparison is evaluated on the same held-out problems, so two runs (two
shapers with the same seed, or a run's end against the shared warm start) are compared
problem by problem. For problem i with c_i correct of n samples, the unbiased estimate
is p̂_i(K) = 1 − C(n − c_i, K)/C(n, K) (the paper's Sec. 1.1.2); the difference of two
runs is

    Δ(K) = (1/P) Σ_i [p̂ᵃ_i(K) − p̂ᵇ_i(K)].

Its 95% interval is a percentile bootstrap over problems: draw P problems with
replacement (multinomial weights), recompute Δ, 2,000 times. Over S seeds the pooled
difference is the mean of the per-seed Δ_s, bootstrapped by drawing the same problems
for every seed (problems are shared by the seeds, so they are resampled jointly). The
interval covers the noise of the held-out problems and of the evaluation samples; seed
to seed variation of training is shown by the per-seed values themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

import advshape

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "CONFIDENCE",
    "Difference",
    "paired_difference",
    "pass_at_ks",
    "per_problem_pass_at_k",
]

BOOTSTRAP_RESAMPLES = 2000
"""Bootstrap resamples of every interval of :func:`paired_difference`."""
CONFIDENCE = 0.95
"""The coverage of every interval of :func:`paired_difference` (percentile bootstrap)."""


class Difference(NamedTuple):
    """A paired difference a − b of held-out Pass@K with its bootstrap interval.

    Attributes:
        mean: Δ(K), the mean over problems (and seeds) of p̂ᵃ_i(K) − p̂ᵇ_i(K).
        low: the lower end of its 95 % percentile-bootstrap interval.
        high: the upper end.

    Example:
        >>> from advshape.lm.stats import Difference
        >>> d = Difference(0.05, 0.01, 0.09)
        >>> d.text(), d.excludes_zero
        ('+0.050 [+0.010, +0.090]', True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2); Chen et al. 2021 (the unbiased estimator),
        https://arxiv.org/abs/2107.03374.
    """

    mean: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies on one side of 0: a difference the data resolve."""
        return self.low > 0 or self.high < 0

    def text(self, digits: int = 3) -> str:
        """``"+0.050 [+0.010, +0.090]"``: the mean and the interval, signed."""
        return f"{self.mean:+.{digits}f} [{self.low:+.{digits}f}, {self.high:+.{digits}f}]"


def per_problem_pass_at_k(counts: ArrayLike, n: int, k: int) -> NDArray[np.float64]:
    """The unbiased Pass@K estimate of every problem: p̂_i(K) = 1 − C(n − c_i, K)/C(n, K).

    Args:
        counts: c_i, the correct samples of each problem.
        n: the samples drawn per problem.
        k: K ≤ n.

    Returns:
        p̂_i(K), float64, one per problem.

    Example:
        >>> from advshape.lm.stats import per_problem_pass_at_k
        >>> per_problem_pass_at_k([0, 1, 4], 4, 2).tolist()  # 1 − C(4 − c, 2)/C(4, 2)
        [0.0, 0.5, 1.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 11); Chen et al. 2021, https://arxiv.org/abs/2107.03374.
    """
    return np.asarray(advshape.pass_at_k(n, np.asarray(counts, dtype=np.int64), k), dtype=float)


def pass_at_ks(counts: ArrayLike, n: int, ks: Sequence[int]) -> dict[str, float]:
    """The mean over problems of p̂_i(K), for each K.

    Args:
        counts: c_i, the correct samples of each problem.
        n: the samples drawn per problem.
        ks: the K values, each ≤ n.

    Returns:
        ``{"pass@K": mean p̂_i(K)}`` for each K.

    Example:
        >>> from advshape.lm.stats import pass_at_ks
        >>> pass_at_ks([0, 1, 4], 4, [1, 2])
        {'pass@1': 0.4166666666666667, 'pass@2': 0.5}

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 11); Chen et al. 2021, https://arxiv.org/abs/2107.03374.
    """
    return {f"pass@{k}": float(per_problem_pass_at_k(counts, n, k).mean()) for k in ks}


def paired_difference(
    counts_a: Sequence[Sequence[int]],
    counts_b: Sequence[Sequence[int]],
    n: int,
    k: int,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Difference:
    """The paired difference Δ(K) of two runs' held-out Pass@K, with its bootstrap interval.

        Δ(K) = (1/S) Σ_s (1/P) Σ_i [p̂ᵃ_{s,i}(K) − p̂ᵇ_{s,i}(K)]

    The interval is a percentile bootstrap over problems (the same problems drawn for every
    seed), ``resamples`` times (see the module docstring).

    Args:
        counts_a: ``counts_a[s][i]``, the correct samples of problem i in seed s of run a
            (the same problems in every seed and in both runs); one seed: ``[counts]``.
        counts_b: the same for run b.
        n: the samples drawn per problem.
        k: K ≤ n.
        resamples: bootstrap resamples.
        seed: the seed of the resampling.

    Returns:
        The :class:`Difference` a − b.

    Raises:
        ValueError: the runs have different seeds or problems.

    Example:
        >>> from advshape.lm.stats import paired_difference
        >>> paired_difference([[3, 4, 2, 4]], [[1, 2, 2, 0]], n=4, k=1).text()
        '+0.500 [+0.125, +0.875]'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2); Chen et al. 2021, https://arxiv.org/abs/2107.03374.
    """
    a = np.stack([per_problem_pass_at_k(c, n, k) for c in counts_a])
    b = np.stack([per_problem_pass_at_k(c, n, k) for c in counts_b])
    if a.shape != b.shape:
        raise ValueError(f"paired runs need the same seeds and problems, got {a.shape}, {b.shape}")
    per_problem = (a - b).mean(0)  # mean over seeds, problem by problem
    problems = per_problem.shape[0]
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(problems, np.full(problems, 1.0 / problems), size=resamples)
    boot = weights @ per_problem / problems
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(boot, [tail, 1 - tail])
    return Difference(float(per_problem.mean()), float(low), float(high))
