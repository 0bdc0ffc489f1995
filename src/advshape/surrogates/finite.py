"""Exact finite-N surrogates: independent rational checks and the rate F_N -> F.

The paper's surrogates are N → ∞ limits (its Sec. 5.2 names the small-N regime as open). At a
finite group size N the expected update of a count-based shaper is exactly c_N(ρ)·∇ρ, and the
shaper ascends F_N = ∫c_N (:func:`advshape.expected_update_coefficient`,
:func:`advshape.finite_n_surrogate`). This module provides

- :func:`brute_force_advantages`: advantages of one group by enumerating subsets of responses
  in exact rational arithmetic, straight from the estimators' definitions (Eqs. 11–15, 37, and
  the 2026 families' U-statistics: MaxRL's Maclaurin orders, Linear-R, max@K's leave-two-out);
- :func:`exact_update_coefficient`: c_N(ρ) as a Fraction, by averaging over the reward
  patterns with Lemma 2 (E[∇log π | r = 1] = ∇ρ/ρ, E[∇log π | r = 0] = −∇ρ/(1 − ρ)) —
  independent of the library's binomial-ratio formulas;
- :func:`finite_n_convergence`: sup |F_N − F| (both normalised) over a ρ grid for growing N,
  with the fitted rate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from advshape._src.closed_forms import normalise
from advshape._src.shaper import Shaper

__all__ = [
    "BRUTE_FORCE",
    "brute_force_advantages",
    "exact_update_coefficient",
    "finite_n_convergence",
]


def _mean(values: Sequence[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def _fail_loo(others: Sequence[int], k: int) -> Fraction:
    """Unbiased Fail@(K−1) from the other responses: the share of (K−1)-subsets with no success."""
    if k == 1:
        return Fraction(1)
    subsets = list(itertools.combinations(others, k - 1))
    return Fraction(sum(1 for s in subsets if not any(s)), len(subsets))


def _max_over_subsets(values: Sequence[int], size: int) -> Fraction:
    """Mean over all size-subsets of the subset's max reward (PKPO's s_i building block)."""
    if size == 0:
        return Fraction(0)
    subsets = list(itertools.combinations(values, size))
    return Fraction(sum(max(s) for s in subsets), len(subsets))


def _reinforce_k(rewards: Sequence[int], k: int, **_: object) -> list[Fraction]:
    """Eq. (12): A_i = (1 − ρ̂^{loo,i}_{K−1})·r_i."""
    return [_fail_loo([*rewards[:i], *rewards[i + 1 :]], k) * r for i, r in enumerate(rewards)]


def _rloo_k(rewards: Sequence[int], k: int, **_: object) -> list[Fraction]:
    """Eq. (15): A_i = (1 − ρ̂^{loo,i}_{K−1})·(r_i − mean of the others)."""
    out = []
    for i, r in enumerate(rewards):
        others = [*rewards[:i], *rewards[i + 1 :]]
        out.append(_fail_loo(others, k) * (r - _mean([Fraction(o) for o in others])))
    return out


def _pkpo(rewards: Sequence[int], k: int, baseline: str = "loo_minus_one") -> list[Fraction]:
    """PKPO (Walder & Karkhanis): s_i = mean over k-subsets ∋ i of max r, minus a baseline
    from the other N − 1 responses: none, N/(N−1) times the mean max over their k-subsets
    (``loo``: PKPO's s^(loo), Eq. 29, with the overall k/N dropped), the same without N/(N−1)
    (``loo_unscaled``) or the mean max over their (k − 1)-subsets (``loo_minus_one``)."""
    n = len(rewards)
    out = []
    for i in range(n):
        others = [*rewards[:i], *rewards[i + 1 :]]
        with_i = [c for c in itertools.combinations(range(n), k) if i in c]
        s_i = Fraction(sum(max(rewards[j] for j in c) for c in with_i), len(with_i))
        if baseline == "none":
            b = Fraction(0)
        elif baseline == "loo":
            b = Fraction(n, n - 1) * _max_over_subsets(others, k)
        elif baseline == "loo_unscaled":
            b = _max_over_subsets(others, k)
        else:
            b = _max_over_subsets(others, k - 1)
        out.append(s_i - b)
    return out


def _maclaurin(rewards: Sequence[int], T: int, baseline: str = "none") -> list[Fraction]:
    """MaxRL's order-T estimator as a U-statistic: A_i = r_i (k = 1) minus, for k = 2..T,
    N/(k·C(N, k))·Σ_{k-subsets S ∋ i} ([S all wrong] − b_S), with b_S = 0 (``none``), the
    all-wrong share of the other k-subsets (``loo``, k ≤ N − 1; an all-wrong group keeps the
    order-N term when T ≥ N) or of the k-subsets disjoint from S (``cross_fitted``, 2k ≤ N)."""
    n = len(rewards)
    out = [Fraction(r) for r in rewards]
    for k in range(2, min(T, n - 1 if baseline == "loo" else n) + 1):
        subsets = list(itertools.combinations(range(n), k))
        wrong = {s: int(not any(rewards[j] for j in s)) for s in subsets}
        all_wrong = sum(wrong.values())
        for s in subsets:
            if baseline == "loo":
                b = Fraction(all_wrong - wrong[s], len(subsets) - 1)
            elif baseline == "cross_fitted" and 2 * k <= n:
                partners = [u for u in subsets if not set(u) & set(s)]
                b = Fraction(sum(wrong[u] for u in partners), len(partners))
            else:
                b = Fraction(0)
            for i in s:
                out[i] -= Fraction(n, k * len(subsets)) * (wrong[s] - b)
    if baseline == "loo" and T >= n >= 2 and not any(rewards):
        out = [a - 1 for a in out]
    return out


def _weighted(rewards: Sequence[int], **_: object) -> list[Fraction]:
    """Linear-R (Heckel et al.): A_i = (r_i − ρ̂)/ρ̂, and −1 for every response of an all-wrong
    group (the limit −ρ̂·ω(ρ̂))."""
    rho = _mean([Fraction(r) for r in rewards])
    return [Fraction(-1) if rho == 0 else (r - rho) / rho for r in rewards]


def _leave_two_out(rewards: Sequence[int], k: int, **_: object) -> list[Fraction]:
    """max@K with the leave-two-out baseline: s_i minus the mean over j ≠ i of j's own subset
    signal computed without i (from the responses other than i and j)."""
    n = len(rewards)

    def signal(j: int, pool: Sequence[int]) -> Fraction:
        rest = [m for m in pool if m != j]
        maxima = [max(rewards[m] for m in (j, *c)) for c in itertools.combinations(rest, k - 1)]
        return Fraction(sum(maxima), len(maxima))

    out = []
    for i in range(n):
        without_i = [m for m in range(n) if m != i]
        baseline = _mean([signal(j, without_i) for j in without_i])
        out.append(signal(i, range(n)) - baseline)
    return out


BRUTE_FORCE: dict[str, Callable[..., list[Fraction]]] = {
    "reinforce_k": _reinforce_k,
    "rloo_k": _rloo_k,
    "pkpo": _pkpo,
    "maclaurin": _maclaurin,
    "linear_r": _weighted,
    "maxpo": _leave_two_out,
}
"""Registry name -> ``fn(rewards, **params)``: the exact advantages (Fractions) of one group
of 0/1 rewards, enumerated over subsets straight from the estimator's definition."""


def brute_force_advantages(name: str, rewards: Sequence[int], **params: Any) -> list[Fraction]:
    """Exact advantages of one group of 0/1 rewards, by enumerating subsets of responses.

    Straight from the estimators' definitions in rational arithmetic, independent of the
    library's binomial-ratio tables: e.g. REINFORCE_K (paper Eq. 12),

        A_i = r_i·(1 − ρ̂^{loo,i}_{K−1}),

    1 − ρ̂^{loo,i}_{K−1} the share of the (K−1)-subsets of the other responses with no correct
    one. The test suite compares every vectorised shaper of :data:`BRUTE_FORCE` with it.

    Args:
        name: a key of :data:`BRUTE_FORCE` (``reinforce_k``, ``rloo_k``, ``pkpo``,
            ``maclaurin``, ``linear_r``, ``maxpo``).
        rewards: the 0/1 rewards of one group (small N: the work grows like C(N, K)).
        **params: the estimator's parameters (``k=4``, ``T=3``, ``baseline="loo"``).

    Returns:
        The advantage of each response, as Fractions.

    Raises:
        ValueError: ``name`` has no brute-force definition.

    Example:
        >>> from advshape.surrogates.finite import brute_force_advantages
        >>> brute_force_advantages("reinforce_k", [1, 0, 0, 1], k=2)  # A_i = r_i·(Fail@1 of others)
        [Fraction(2, 3), Fraction(0, 1), Fraction(0, 1), Fraction(2, 3)]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eqs. 11–15, 37); Walder & Karkhanis 2025 (PKPO), https://arxiv.org/abs/2505.15201;
        Tajwar, Zeng et al. 2026 (MaxRL), https://arxiv.org/abs/2602.02710; Heckel,
        Soltanolkotabi & Thrampoulidis 2026 (Linear-R), https://arxiv.org/abs/2602.11128;
        Takashiro et al. 2026 (MaxPO), https://arxiv.org/abs/2606.06080.
    """
    if name not in BRUTE_FORCE:
        raise ValueError(f"no brute-force definition for {name!r}; have {', '.join(BRUTE_FORCE)}")
    return BRUTE_FORCE[name](list(rewards), **params)


def exact_update_coefficient(
    advantages: Callable[[Sequence[int]], Sequence[Fraction]], n: int, rho: Fraction
) -> Fraction:
    """c_N(ρ) exactly: E[(1/N)Σ A_i ∇log π(y_i)] = c_N(ρ)·∇ρ, by Lemma 2.

        c_N(ρ) = Σ_{N⁺=0}^{N} C(N, N⁺) ρ^{N⁺} (1 − ρ)^{N−N⁺} · (1/N) Σ_i A_i·(r_i/ρ − (1 − r_i)/(1 − ρ))

    Responses are exchangeable, so the pattern with N⁺ successes first stands for its
    C(N, N⁺) permutations.

    Args:
        advantages: ``advantages(rewards)``, the exact advantages (Fractions) of one group.
        n: the group size N.
        rho: ρ strictly inside (0, 1), exact.

    Returns:
        c_N(ρ) as a Fraction.

    Example:
        >>> from fractions import Fraction
        >>> reinforce = lambda rewards: [Fraction(r) for r in rewards]  # A_i = r_i: c_N = 1
        >>> exact_update_coefficient(reinforce, 4, Fraction(1, 3))
        Fraction(1, 1)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Lemma 2).
    """
    rho = Fraction(rho)
    if not 0 < rho < 1:
        raise ValueError(f"rho must lie strictly inside (0, 1) here, got {rho}")
    total = Fraction(0)
    for n_pos in range(n + 1):
        rewards = [1] * n_pos + [0] * (n - n_pos)
        adv = advantages(rewards)
        drift = sum(
            (a / rho if r else -a / (1 - rho) for a, r in zip(adv, rewards, strict=True)),
            Fraction(0),
        )
        total += math.comb(n, n_pos) * rho**n_pos * (1 - rho) ** (n - n_pos) * drift / n
    return total


def finite_n_convergence(
    shaper: Shaper,
    ns: Sequence[int],
    reference: Callable[[np.ndarray], np.ndarray],
    grid: int = 201,
) -> tuple[list[tuple[int, float]], float]:
    """How fast the exact finite-N surrogate F_N approaches the population F as N grows.

        e_N = sup_ρ |F̄_N(ρ) − F̄(ρ)|,   F̄ = (F − F(0))/(F(1) − F(0)),   e_N ∝ N^{−p}

    over an even ρ grid; the paper's surrogates are N → ∞ limits, and its Sec. 5.2 leaves
    the small-N regime open.

    Args:
        shaper: a count-based shaper.
        ns: the group sizes N, increasing.
        reference: the population surrogate F, vectorised (a closed form such as
            ``shaper.surrogate`` or a reverse-engineered curve).
        grid: the number of ρ points in [0, 1].

    Returns:
        ``([(N, e_N), ...], p)``, the rate p fitted on the last three N (log-log).

    Example:
        >>> import advshape
        >>> from advshape.surrogates import finite_n_convergence
        >>> grpo = advshape.shaper("grpo")
        >>> rows, rate = finite_n_convergence(grpo, [16, 32, 64, 128], grpo.surrogate)
        >>> [(n, round(e, 4)) for n, e in rows], round(rate, 2)
        ([(16, 0.0705), (32, 0.0551), (64, 0.042), (128, 0.0315)], 0.4)
        >>> unbiased = advshape.shaper("rloo_k:k=4")  # F_N = F at every N
        >>> max(e for _, e in finite_n_convergence(unbiased, [8, 16], unbiased.surrogate)[0]) < 1e-12
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 5.1: the population surrogates; Sec. 5.2: finite N).
    """
    from advshape._src.expectation import finite_n_surrogate

    rho = np.linspace(0.0, 1.0, grid)
    ref = np.asarray(reference(rho), dtype=np.float64)
    ref = normalise(ref, ref[0], ref[-1])
    rows = []
    for n in ns:
        f_n = finite_n_surrogate(shaper, int(n), rho)
        rows.append((int(n), float(np.max(np.abs(normalise(f_n, f_n[0], f_n[-1]) - ref)))))
    tail = rows[-3:]
    xs = np.log([n for n, _ in tail])
    ys = np.log([max(e, 1e-300) for _, e in tail])
    rate = float(-np.polyfit(xs, ys, 1)[0])
    return rows, rate
