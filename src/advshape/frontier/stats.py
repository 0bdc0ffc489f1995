"""Hierarchical bootstrap over seeds and problems, paired across every run of a frontier.

A frontier's value for one spec is a grand mean: over S seeds s and P held-out problems i,

    m = (1/S) Σ_s (1/P) Σ_i x_si,

where x_si is problem i's Pass@k in seed s (exact on the bandit and the digits, the unbiased
estimate 1 − C(n − c, k)/C(n, k) from c of n samples on the language model). Seed-to-seed
variation of training and problem-to-problem variation both move m, so its interval resamples
both (a two-stage, "hierarchical" bootstrap):

1. draw S seeds with replacement;
2. draw problems with replacement within them: P problems for every drawn seed;
3. recompute m from the drawn values; repeat B times; the 95% interval is the 2.5% and 97.5%
   percentiles of the B values (percentile bootstrap).

Step 2 has two forms, chosen by how the testbed's problems relate to its seeds:

- **crossed** (the language model, the digits: every seed is evaluated on the same held-out
  problems): one draw of problems per resample, shared by every drawn seed, so a problem that
  is hard for all seeds counts as one problem, not S independent ones;
- **nested** (the bandit: each seed makes its own problems): an independent draw of problems
  for each drawn seed.

:class:`Resampler` makes the draws once; every spec of a frontier is resampled with the same
draws, so differences between specs, and any function of several specs' means (such as the
gap to an interpolated frontier), are paired. A single seed's interval (the per-seed intervals
the reports keep) resamples problems only, with the same problem draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape.lm.stats import Difference

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "CONFIDENCE",
    "DESIGNS",
    "Estimate",
    "Resampler",
    "percentile_interval",
]

BOOTSTRAP_RESAMPLES = 2000
"""B, the default number of hierarchical resamples of :class:`Resampler`."""
CONFIDENCE = 0.95
"""The default coverage of every interval (percentile bootstrap)."""
DESIGNS = ("crossed", "nested")
"""How a testbed's problems relate to its seeds: shared by every seed, or drawn per seed."""

Estimate = Difference
"""A point estimate with its percentile-bootstrap interval: ``mean``, ``low``, ``high``,
``excludes_zero`` and ``text()`` (:class:`advshape.lm.stats.Difference`, which the paired
differences of ``advshape compare`` use too)."""


def percentile_interval(
    replicates: ArrayLike, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The (1 − c)/2 and (1 + c)/2 quantiles of bootstrap replicates (percentile interval).

        [low, high] = [q_{(1−c)/2}, q_{(1+c)/2}] of the replicates θ*_1..θ*_B.

    Args:
        replicates: the statistic recomputed on each resample.
        confidence: the interval's coverage, in (0, 1).

    Returns:
        ``(low, high)``; NaN replicates (a statistic undefined on some resample) are dropped.

    Example:
        >>> from advshape.frontier.stats import percentile_interval
        >>> percentile_interval(range(101), confidence=0.5)
        (25.0, 75.0)
        >>> percentile_interval([float("nan"), 1.0, 3.0], confidence=0.0)  # NaN dropped
        (2.0, 2.0)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (held-out Pass@K, Sec. 1.1.2). Efron & Tibshirani 1993, An Introduction to the
        Bootstrap, Ch. 13 (the percentile interval).
    """
    values = np.asarray(replicates, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


class Resampler:
    """B hierarchical resamples of (seeds, problems), drawn once and applied to any values.

    Each resample b recomputes the grand mean m = (1/S) Σ_s (1/P) Σ_i x_si on S drawn seeds
    and P drawn problems per seed (see the module doc): m*_b = (1/(S·P)) Σ_j Σ_i w_bji·x_{s_bj,i}
    with s_bj the seed in slot j and w_bji how often problem i is drawn for it (shared by the
    slots when ``crossed``).

    Args:
        seeds: S, the number of seeds.
        problems: P, the number of problems in every seed.
        design: ``"crossed"`` (all seeds share the problems: one problem draw per resample) or
            ``"nested"`` (each seed has its own problems: one draw per drawn seed).
        resamples: B.
        seed: seed of the draws (a frontier is reproducible from its files).

    Raises:
        ValueError: an unknown design, or fewer than one seed, problem or resample.

    Example:
        >>> from advshape.frontier.stats import Resampler
        >>> r = Resampler(seeds=3, problems=4, design="crossed", resamples=500)
        >>> values = [[1, 0, 1, 1], [1, 1, 1, 0], [0, 0, 1, 1]]
        >>> r.estimate(values).mean  # (3/4 + 3/4 + 1/2) / 3
        0.6666666666666666
        >>> r.replicates(values).shape
        (500,)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (held-out Pass@K, Sec. 1.1.2). Davison & Hinkley 1997, Bootstrap Methods and their
        Application, Sec. 3.8 (two-stage resampling of hierarchical data); Owen 2007, The
        pigeonhole bootstrap, Ann. Appl. Stat. 1(2) (crossed random effects).
    """

    def __init__(
        self,
        seeds: int,
        problems: int,
        *,
        design: str,
        resamples: int = BOOTSTRAP_RESAMPLES,
        seed: int = 0,
    ) -> None:
        if design not in DESIGNS:
            raise ValueError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
        if seeds < 1 or problems < 1 or resamples < 1:
            raise ValueError(
                f"need at least one seed, problem and resample, got seeds={seeds}, "
                f"problems={problems}, resamples={resamples}"
            )
        self.seeds, self.problems, self.design, self.resamples = seeds, problems, design, resamples
        rng = np.random.default_rng([seed, 18])
        # drawn[b, j]: the seed in slot j of resample b
        self.drawn = rng.integers(0, seeds, size=(resamples, seeds))
        uniform = np.full(problems, 1.0 / problems)
        if design == "crossed":
            # weights[b, i]: how often problem i is drawn in resample b (all drawn seeds)
            self.weights = rng.multinomial(problems, uniform, size=resamples).astype(np.float64)
        else:
            # weights[b, j, i]: how often problem i is drawn for the seed in slot j
            self.weights = rng.multinomial(problems, uniform, size=(resamples, seeds)).astype(
                np.float64
            )

    def _matrix(self, values: ArrayLike | Sequence[ArrayLike]) -> NDArray[np.float64]:
        x = np.asarray(values, dtype=np.float64)
        if x.shape != (self.seeds, self.problems):
            raise ValueError(
                f"values must be one row per seed and one column per problem, shape "
                f"({self.seeds}, {self.problems}); got {x.shape}"
            )
        return x

    def point(self, values: ArrayLike | Sequence[ArrayLike]) -> float:
        """The grand mean (1/S) Σ_s (1/P) Σ_i x_si."""
        return float(self._matrix(values).mean())

    def replicates(self, values: ArrayLike | Sequence[ArrayLike]) -> NDArray[np.float64]:
        """The grand mean recomputed on each of the B resamples: shape (B,)."""
        x = self._matrix(values)
        if self.design == "crossed":
            seed_means = x @ self.weights.T / self.problems  # (S, B): each seed, each draw
            picked = np.take_along_axis(seed_means.T, self.drawn, axis=1)  # (B, S)
            return picked.mean(axis=1)
        chosen = x[self.drawn]  # (B, S, P): the drawn seeds' problems
        return np.einsum("bsp,bsp->b", self.weights, chosen) / (self.seeds * self.problems)

    def per_seed_replicates(self, values: ArrayLike | Sequence[ArrayLike]) -> NDArray[np.float64]:
        """Each seed's mean over problems, recomputed with problems resampled: shape (S, B)."""
        x = self._matrix(values)
        if self.design == "crossed":
            return x @ self.weights.T / self.problems
        # slot j's problem draws, applied to seed j
        return np.einsum("bsp,sp->sb", self.weights, x) / self.problems

    def estimate(
        self, values: ArrayLike | Sequence[ArrayLike], confidence: float = CONFIDENCE
    ) -> Estimate:
        """The grand mean with its hierarchical percentile interval."""
        return Estimate(
            self.point(values), *percentile_interval(self.replicates(values), confidence)
        )

    def per_seed(
        self, values: ArrayLike | Sequence[ArrayLike], confidence: float = CONFIDENCE
    ) -> list[Estimate]:
        """Each seed's mean over problems with its interval over problems only."""
        x = self._matrix(values)
        return [
            Estimate(float(row.mean()), *percentile_interval(reps, confidence))
            for row, reps in zip(x, self.per_seed_replicates(x), strict=True)
        ]
