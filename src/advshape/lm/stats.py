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

import advshape

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


class Difference(NamedTuple):
    """A paired difference a − b with its bootstrap interval."""

    mean: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def text(self, digits: int = 3) -> str:
        return f"{self.mean:+.{digits}f} [{self.low:+.{digits}f}, {self.high:+.{digits}f}]"


def per_problem_pass_at_k(counts, n: int, k: int):
    """p̂_i(K) for every problem, as a float64 array."""
    return np.asarray(advshape.pass_at_k(n, np.asarray(counts, dtype=np.int64), k), dtype=float)


def pass_at_ks(counts, n: int, ks: Sequence[int]) -> dict[str, float]:
    """{"pass@K": mean over problems of p̂_i(K)} for each K."""
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
    """Δ(K) of runs a and b averaged over seeds, with its bootstrap interval.

    ``counts_a[s][i]``: correct samples of problem i in seed s (the same problems in
    every seed and in both runs). One seed: pass ``[counts]``.
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
