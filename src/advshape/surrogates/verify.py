"""``advshape verify``: the paper's claims about surrogate rewards, checked numerically.

Each check compares two independently computed things — a reverse-engineered surrogate (from
nothing but the shaper's score function) against a formula typed in here from the paper, a
forward-engineered shaper against a registry shaper, a float computation against exact
rational arithmetic — and records the worst error over its grid and a tolerance.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np

from advshape._src.closed_forms import incomplete_beta, normalise
from advshape._src.combinatorics import binom_ratio_table
from advshape._src.expectation import expected_update_coefficient
from advshape._src.registry import shaper
from advshape.surrogates.finite import (
    brute_force_advantages,
    exact_update_coefficient,
    finite_n_convergence,
)
from advshape.surrogates.forward import from_surrogate
from advshape.surrogates.reverse import SurrogateCurve, reverse_engineer

__all__ = ["RHO_GRID", "Check", "run_checks", "sup_normalised_error"]

# ρ grid of every surrogate comparison: uniform, plus points hugging the singular ends.
_ENDS = np.array([1e-12, 1e-9, 1e-6, 1e-4, 1e-3])
RHO_GRID = np.unique(np.concatenate([[0.0, 1.0], np.linspace(0.0, 1.0, 201), _ENDS, 1.0 - _ENDS]))
"""The ρ grid of every surrogate comparison: 201 even points plus points hugging both ends
(1e-12 … 1e-3 from 0 and from 1), 211 in all, from 0 to 1."""
SURROGATE_TOL = 1e-6
EXACT_TOL = 1e-12


@dataclass(frozen=True)
class Check:
    """One verified claim: what was compared, the worst error found and the tolerance.

    Attributes:
        claim: the paper's claim, equation or section (``"Claim 1"``, ``"Table 1"``).
        compared: the two independently computed things, one line.
        error: the worst error over the check's grid.
        tolerance: the bound ``error`` must stay within, or None for a check judged by ``ok``
            (a trend, not a bound).
        note: a remark, such as where the worst error was.
        ok: the verdict of a trend check, else None.

    Example:
        >>> from advshape.surrogates.verify import Check
        >>> Check("Claim 1", "reverse-engineered vs closed form", 2e-9, 1e-6).passed
        True
        >>> Check("Claim 1", "reverse-engineered vs closed form", float("nan"), 1e-6).passed
        False

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the claims, corollaries and appendices ``advshape verify`` checks).
    """

    claim: str
    compared: str
    error: float
    tolerance: float | None
    note: str = ""
    ok: bool | None = None

    @property
    def passed(self) -> bool:
        """Whether the check passed: ``ok`` if given, else a finite error within the tolerance."""
        if self.ok is not None:
            return self.ok
        assert self.tolerance is not None  # a check without ``ok`` is judged by its bound
        return bool(np.isfinite(self.error) and self.error <= self.tolerance)


def _normalised(values: np.ndarray) -> np.ndarray:
    return normalise(values, values[0], values[-1])


def sup_normalised_error(f: Callable, g: Callable, rho: np.ndarray = RHO_GRID) -> float:
    """The largest difference of two surrogates on a ρ grid after normalising both.

        sup_ρ |F̄(ρ) − Ḡ(ρ)|,   F̄ = (F − F(0))/(F(1) − F(0))

    Surrogates are defined up to a positive affine map (a constant and the step size), so
    they are compared normalised, F̄(0) = 0, F̄(1) = 1.

    Args:
        f: F, vectorised over ρ.
        g: G, vectorised over ρ.
        rho: the grid, increasing from 0 to 1 (both included).

    Returns:
        The largest absolute difference on the grid.

    Example:
        >>> import numpy as np
        >>> from advshape.surrogates.verify import sup_normalised_error
        >>> f = lambda rho: np.arcsin(np.sqrt(rho))
        >>> sup_normalised_error(f, lambda rho: 3 * f(rho) - 2) < 1e-15  # equal up to affine
        True
        >>> round(sup_normalised_error(f, lambda rho: rho), 4)  # GRPO's F vs RLOO's
        0.1053

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 5.1: surrogates up to scale; Corollary 1: F = 2·arcsin√ρ for GRPO).
    """
    return float(np.max(np.abs(_normalised(np.asarray(f(rho))) - _normalised(np.asarray(g(rho))))))


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def _scores(s, n: int):
    n_pos = np.arange(n + 1)
    return s.scores(n_pos, np.full(n + 1, n))


def _score_gap(ours, theirs, ns, factor: Callable[[int], float]) -> float:
    """Worst relative gap between the scores of ``ours`` and factor(N) × those of ``theirs``."""
    worst = 0.0
    for n in ns:
        for a, b in zip(_scores(ours, n), _scores(theirs, n)):
            worst = max(worst, _relative(a, factor(n) * b))
    return worst


def _rloo_factor(n: int) -> float:
    return n / (n - 1)  # forward-engineered shapers inherit RLOO's N/(N − 1)


def _pass_k(rho: np.ndarray, k: int) -> np.ndarray:
    return 1.0 - (1.0 - rho) ** k


def _asin_sqrt(x: np.ndarray, one_minus_x: np.ndarray | None = None) -> np.ndarray:
    """arcsin√x evaluated as atan2(√x, √(1 − x)), accurate up to x = 1."""
    return np.arctan2(np.sqrt(x), np.sqrt(1.0 - x if one_minus_x is None else one_minus_x))


class _Curves:
    """Reverse-engineered curves, built once per spec (several checks share them)."""

    def __init__(self) -> None:
        self._cache: dict[str, SurrogateCurve] = {}

    def __call__(self, spec: str) -> SurrogateCurve:
        if spec not in self._cache:
            self._cache[spec] = reverse_engineer(spec)
        return self._cache[spec]


def _claim_1(curve: _Curves) -> Iterator[Check]:
    ks = (1, 2, 4, 8, 16)
    err = max(
        sup_normalised_error(
            curve(f"grpo_k_chen:k={k}"),
            lambda r, k=k: 2 / k * _asin_sqrt(_pass_k(r, k), (1 - r) ** k),
        )
        for k in ks
    )
    yield Check(
        "Claim 1",
        "reverse-engineered GRPO~_K (Chen et al.) vs (2/K)·arcsin√ρ_K, K = 1, 2, 4, 8, 16",
        err,
        SURROGATE_TOL,
    )


def _claim_2(curve: _Curves) -> Iterator[Check]:
    worst = 0.0
    for k in (2, 4, 8):
        for n in (k, 16, 64):
            chen_pos, chen_neg = _scores(shaper(f"grpo_k_chen:k={k}"), n)
            rloo_pos, rloo_neg = _scores(shaper("rloo"), n)
            n_pos = np.arange(n + 1)
            rho = n_pos / n
            fail_k = binom_ratio_table(n, k)[n - n_pos]  # 1 − ρ̂_K = C(N⁻, K)/C(N, K), Eq. (11)
            rho_k = 1 - fail_k
            ok = (n_pos > 0) & (n_pos < n) & (fail_k > 0)
            if not np.any(ok):  # N = K: every non-constant group has ρ̂_K = 1
                continue
            # Eq. (22) with ρ, ρ_K replaced by ρ̂, ρ̂_K; RLOO's N/(N−1) undone (Eq. 7)
            factor = fail_k[ok] / np.sqrt(rho_k[ok] * fail_k[ok]) / (1 - rho[ok])
            factor = factor * (n - 1) / n
            worst = max(
                worst,
                _relative(factor * rloo_pos[ok], chen_pos[ok]),
                _relative(factor * rloo_neg[ok], chen_neg[ok]),
            )
    yield Check(
        "Claim 2",
        "GRPO~_K scores = Eq. (22) plug-in (ρ̂, ρ̂_K) × RLOO scores, N = K, 16, 64, K = 2, 4, 8",
        worst,
        EXACT_TOL,
    )
    err = 0.0
    for k in (2, 4, 8):
        forward = from_surrogate(f"2/{k}*asin(sqrt(1-(1-rho)**{k}))")
        err = max(err, sup_normalised_error(reverse_engineer(forward), curve(f"grpo_k_chen:k={k}")))
    yield Check(
        "Claim 2",
        "reverse(from_surrogate((2/K)·arcsin√ρ_K)) vs reverse(GRPO~_K), K = 2, 4, 8",
        err,
        SURROGATE_TOL,
    )


def _corollary_1(curve: _Curves) -> Iterator[Check]:
    forward = from_surrogate("2*asin(sqrt(rho))")
    yield Check(
        "Corollary 1",
        "from_surrogate(2·arcsin√ρ) scores = N/(N−1) × GRPO scores, N = 2..64",
        _score_gap(forward, shaper("grpo"), range(2, 65), _rloo_factor),
        EXACT_TOL,
    )
    yield Check(
        "Corollary 1",
        "reverse-engineered GRPO vs 2·arcsin√ρ",
        sup_normalised_error(curve("grpo"), lambda r: 2 * _asin_sqrt(r)),
        SURROGATE_TOL,
    )


def _claim_3(curve: _Curves) -> Iterator[Check]:
    yield Check(
        "Claim 3",
        "reverse-engineered skew-R vs arcsin√ρ + √(ρ(1−ρ)) (Eq. 25)",
        sup_normalised_error(curve("skew_r"), lambda r: _asin_sqrt(r) + np.sqrt(r * (1 - r))),
        SURROGATE_TOL,
    )
    forward = from_surrogate("asin(sqrt(rho))", regularizer="sqrt(rho*(1-rho))", lam=1.0)
    yield Check(
        "Claim 3",
        "from_surrogate(arcsin√ρ, Ω = √(ρ(1−ρ)), λ = 1) = N/(N−1) × skew-R scores, N = 2..64",
        _score_gap(forward, shaper("skew_r"), range(2, 65), _rloo_factor),
        EXACT_TOL,
    )


def _eq_26(curve: _Curves) -> Iterator[Check]:
    worst = 0.0
    for lam in (0.25, 1.0, 2.0):
        forward = from_surrogate(
            "2*asin(sqrt(rho))", regularizer="-rho*log(rho)-(1-rho)*log(1-rho)", lam=lam
        )
        entropy = shaper(f"entropy:lam={lam}")
        worst = max(worst, _score_gap(forward, entropy, (2, 4, 16, 64), _rloo_factor))
    yield Check(
        "Eq. (26)",
        "from_surrogate(2·arcsin√ρ + λH) = N/(N−1) × entropy scores, λ = 0.25, 1, 2",
        worst,
        EXACT_TOL,
    )

    def entropy_surrogate(r, lam):
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.nan_to_num(r * np.log(r)) - np.nan_to_num((1 - r) * np.log(1 - r))
        return 2 * _asin_sqrt(r) + lam * h

    err = max(
        sup_normalised_error(
            curve(f"entropy:lam={lam}"), lambda r, lam=lam: entropy_surrogate(r, lam)
        )
        for lam in (0.25, 1.0, 2.0)
    )
    yield Check(
        "Eq. (26)",
        "reverse-engineered entropy shaper vs 2·arcsin√ρ + λH(ρ), λ = 0.25, 1, 2",
        err,
        SURROGATE_TOL,
    )


def _app_c1(curve: _Curves) -> Iterator[Check]:
    def eq_35(r, k):  # written in terms of ρ_K, as in the paper
        return incomplete_beta(1 - (1 - _pass_k(r, k)) ** (1 / k), 0.5, k - 0.5)

    err = max(
        sup_normalised_error(curve(f"grpo_k:k={k}"), lambda r, k=k: eq_35(r, k))
        for k in range(1, 9)
    )
    yield Check(
        "App. C.1",
        "reverse-engineered GRPO_K vs B(1 − (1−ρ_K)^{1/K}; ½, K−½) (Eq. 35), K = 1..8",
        err,
        SURROGATE_TOL,
    )
    yield Check(
        "App. C.1",
        "B(ρ; ½, ½) = 2·arcsin√ρ (K = 1: GRPO_1 = GRPO)",
        float(np.max(np.abs(incomplete_beta(RHO_GRID, 0.5, 0.5) - 2 * _asin_sqrt(RHO_GRID)))),
        EXACT_TOL,
    )


def _app_c2(curve: _Curves) -> Iterator[Check]:
    identity = incomplete_beta(RHO_GRID, 0.5, 1.5) - (
        _asin_sqrt(RHO_GRID) + np.sqrt(RHO_GRID * (1 - RHO_GRID))
    )
    yield Check(
        "App. C.2",
        "B(ρ; ½, 3/2) = arcsin√ρ + √(ρ(1−ρ)) (GRPO_2 surrogate = skew-R surrogate)",
        float(np.max(np.abs(identity))),
        EXACT_TOL,
    )
    yield Check(
        "App. C.2",
        "reverse-engineered GRPO_{K=2} vs reverse-engineered skew-R",
        sup_normalised_error(curve("grpo_k:k=2"), curve("skew_r")),
        SURROGATE_TOL,
    )


def _app_c3(curve: _Curves) -> Iterator[Check]:
    err = max(
        sup_normalised_error(curve(f"biased_k:k={k}"), curve(f"grpo_k:k={k}")) for k in range(2, 9)
    )
    yield Check(
        "App. C.3",
        "reverse-engineered biased (1−ρ̂)^{K−1}·GRPO vs reverse-engineered GRPO_K, K = 2..8",
        err,
        SURROGATE_TOL,
    )
    yield Check(
        "App. C.3",
        "biased scaling at K = 2 = skew-R scores, N = 2..64",
        _score_gap(shaper("biased_k:k=2"), shaper("skew_r"), range(2, 65), lambda n: 1.0),
        EXACT_TOL,
    )


def _app_c4(curve: _Curves) -> Iterator[Check]:
    err = max(
        sup_normalised_error(curve(f"pkpo:k={k},baseline=none"), lambda r, k=k: _pass_k(r, k))
        for k in (2, 4, 8)
    )
    a_neg = _scores(shaper("pkpo:k=4,baseline=none"), 16)[1]
    yield Check(
        "App. C.4",
        "reverse-engineered Walder & Karkhanis Eq. (37) (asymmetric: A⁻ > 0) vs ρ_K, K = 2, 4, 8",
        err,
        SURROGATE_TOL,
        note=f"max A⁻ at N = 16, K = 4: {a_neg.max():.3f} > 0",
    )


def _finite_n_unbiased() -> Iterator[Check]:
    """c_N(ρ) = C·(1 − ρ)^{K−1} exactly: c_N is a polynomial of degree N − 1, so equality at the
    N rationals i/(N + 1) proves it. Also compares the library's float c_N to the exact one."""
    cases: list[tuple[str, dict[str, Any]]] = [
        ("rloo_k", {}),
        ("reinforce_k", {}),
        ("pkpo", {"baseline": "none"}),
        ("pkpo", {"baseline": "loo"}),
        ("pkpo", {"baseline": "loo_minus_one"}),
    ]
    not_proportional = []
    float_err = 0.0
    count = 0
    for name, extra in cases:
        for k in (1, 2, 3, 4):
            low = k + 1 if extra.get("baseline") == "loo" else max(k, 2)
            for n in range(low, 9):
                points = [Fraction(i, n + 1) for i in range(1, n + 1)]
                exact = [
                    exact_update_coefficient(
                        partial(brute_force_advantages, name, k=k, **extra), n, p
                    )
                    for p in points
                ]
                if len({c / (1 - p) ** (k - 1) for c, p in zip(exact, points)}) != 1:
                    not_proportional.append(f"{name}:k={k},n={n}")
                approx = expected_update_coefficient(
                    shaper(name, k=k, **extra), n, np.array([float(p) for p in points])
                )
                float_err = max(float_err, max(abs(float(c) - a) for c, a in zip(exact, approx)))
                count += 1
    yield Check(
        "finite N",
        f"c_N ∝ (1−ρ)^(K−1) exactly (Fractions, subset enumeration): RLOO_K, REINFORCE_K, PKPO×3 "
        f"baselines, K = 1..4, N = K..8 ({count} cases)",
        float("inf") if not_proportional else 0.0,
        0.0,
        note="not proportional: " + ", ".join(not_proportional) if not_proportional else "",
    )
    yield Check(
        "finite N",
        "library float c_N (expected_update_coefficient) vs exact rational c_N, same cases",
        float_err,
        EXACT_TOL,
    )


def _finite_n_rate(curve: _Curves) -> Iterator[Check]:
    ns = (8, 16, 32, 64, 128, 256, 512, 1024)
    for spec in ("grpo", "skew_r", "grpo_k:k=4", "grpo_k_chen:k=4", "rloo_k:k=4"):
        s = shaper(spec)
        assert s.surrogate is not None  # these registry shapers have closed forms
        rows, rate = finite_n_convergence(s, ns, s.surrogate)
        errors = [e for _, e in rows]
        table = ", ".join(f"{n}: {e:.1e}" for n, e in rows)
        exact = max(errors) < 1e-10
        shrinking = all(b <= a * 1.001 for a, b in itertools.pairwise(errors[2:]))
        yield Check(
            "finite N",
            f"sup|F_N − F| (normalised) for {spec}, N = 8..1024 (err: at N = 1024)"
            + (": exact at every N" if exact else f": rate N^-{rate:.2f}"),
            errors[-1],
            None,
            note=table,
            ok=exact or (shrinking and rate > 0.3),
        )


def _table_1(curve: _Curves) -> Iterator[Check]:
    specs = [
        "reinforce",
        "rloo",
        "grpo",
        "grpo:std=sample",
        "grpo:eps=0.1",
        "dr_grpo",
        "skew_r",
        "reinforce_k:k=4",
        "rloo_k:k=4",
        "grpo_k:k=4",
        "grpo_k_chen:k=4",
        "mix_chen:k=4",
        "mix_direct:k=4",
        "biased_k:k=4",
        "entropy:lam=1",
        "pkpo:k=4",
        "pkpo:k=4,baseline=loo",
        "pkpo:k=4,baseline=none",
        "w_reinforce",
        "nsr",
        "psr",
        "maclaurin:T=8",
        "maclaurin_loo:T=8",
        "maclaurin_cross_fitted:T=8",
        "p_normalization:eps=0.1",
        "clipped_pnorm",
        "one_sided_grpo:eps=0",
        "focal:gamma=0.5",
        "maxpo:k=4",
    ]
    worst, where = 0.0, ""
    for spec in specs:
        closed_form = shaper(spec).surrogate
        assert closed_form is not None  # these registry shapers have closed forms
        e = sup_normalised_error(curve(spec), closed_form)
        if e >= worst:
            worst, where = e, spec
    yield Check(
        "Table 1",
        f"registry closed-form surrogates vs reverse-engineering, {len(specs)} shapers",
        worst,
        SURROGATE_TOL,
        note=f"worst: {where}",
    )


def _maxrl_advantage(rewards) -> list[Fraction]:
    """MaxRL from its definition: (1/N⁺)·Σ_{successes} ∇log π − (1/N)·Σ ∇log π, as
    coefficients of (1/N)·∇log π(y_i): N·r_i/N⁺ − 1; nothing when N⁺ = 0."""
    n_pos = sum(rewards)
    return [Fraction(len(rewards) * r, n_pos) - 1 if n_pos else Fraction(0) for r in rewards]


def _two_level_advantage(a: Fraction, b: Fraction):
    return lambda rewards: [a if r else -b for r in rewards]


_EXACT_RHOS = [Fraction(1, 9), Fraction(1, 3), Fraction(1, 2), Fraction(5, 7)]


def bernoulli_update_moments(shaper_scores, n: int, rho: Fraction) -> tuple[Fraction, Fraction]:
    """Exact mean and variance of the update g = (1/N)·Σ A_i·∂_ρ log π(y_i) when the policy is a
    single Bernoulli(ρ) parameterised by ρ itself (∂_ρ log π = r/ρ − (1 − r)/(1 − ρ)).

    ``shaper_scores(n_pos, n) -> (A⁺, A⁻)`` as Fractions. E[g] = c_N(ρ) (Lemma 2); Var[g] is where
    shapers with the same c_N still differ at finite N.
    """
    from math import comb

    mean = Fraction(0)
    second = Fraction(0)
    for n_pos in range(n + 1):
        a_pos, a_neg = shaper_scores(n_pos, n)
        g = (n_pos * a_pos / rho - (n - n_pos) * a_neg / (1 - rho)) / n
        p = comb(n, n_pos) * rho**n_pos * (1 - rho) ** (n - n_pos)
        mean += p * g
        second += p * g * g
    return mean, second - mean * mean


# (name, A⁺, A⁻) of Zhu et al.'s decomposition and the baselines they are compared with.
ZHU_SHAPERS: tuple[tuple[str, Fraction, Fraction], ...] = (
    ("psr = reinforce", Fraction(1), Fraction(0)),
    ("nsr", Fraction(0), Fraction(-1)),
    ("w_reinforce (λ = 0.1)", Fraction(1, 10), Fraction(-1)),
    ("REINFORCE ±1 (λ = 1)", Fraction(1), Fraction(-1)),
)


def zhu_relative_std(n: int, rhos=(Fraction(1, 10), Fraction(1, 2), Fraction(9, 10))):
    """Rows (name, [std(g)/E(g) at each ρ]) for :data:`ZHU_SHAPERS` at group size ``n``."""
    rows = []
    for name, a_pos, a_neg in ZHU_SHAPERS:
        stds = []
        for rho in rhos:
            mean, var = bernoulli_update_moments(lambda n_pos, n, a=a_pos, b=a_neg: (a, b), n, rho)
            stds.append(float(var) ** 0.5 / float(mean))
        rows.append((name, stds))
    return rows


def _recent(curve: _Curves) -> Iterator[Check]:
    """Shapers published after the paper: MaxRL, Zhu et al.'s PSR/NSR/W-REINFORCE, grpo_passk."""
    interior = RHO_GRID[RHO_GRID > 0]
    maxrl = curve("maxrl")
    yield Check(
        "MaxRL",
        "reverse-engineered maxrl vs log ρ (diverges at 0: anchored F(1) = 0, ρ ∈ (0, 1])",
        float(np.max(np.abs(maxrl(interior) - np.log(interior)))),
        SURROGATE_TOL,
        note=maxrl.describe(),
    )
    wrong: list[tuple[object, ...]] = [
        (n, rho)
        for n in range(2, 13)
        for rho in _EXACT_RHOS
        if exact_update_coefficient(_maxrl_advantage, n, rho)
        != sum((1 - rho) ** (k - 1) for k in range(1, n))
    ]
    yield Check(
        "MaxRL",
        "c_N = Σ_{k<N} (1/k)·dPass@k/dρ = (1 − (1−ρ)^{N−1})/ρ exactly (Fractions), N = 2..12",
        float("inf") if wrong else 0.0,
        0.0,
        note=f"differs at {wrong}" if wrong else "truncated max. likelihood with N − 1 terms",
    )
    cases = [(Fraction(1), Fraction(0)), (Fraction(0), Fraction(1)), (Fraction(1, 10), Fraction(1))]
    cases.append((Fraction(1, 2), Fraction(1)))
    wrong = [
        (a, b, n)
        for a, b in cases
        for n in range(1, 11)
        for rho in _EXACT_RHOS
        if exact_update_coefficient(_two_level_advantage(a, b), n, rho) != a + b
    ]
    yield Check(
        "Zhu et al.",
        "PSR, NSR, W-REINFORCE (λ = 0.1, 0.5): c_N(ρ) = A⁺ − A⁻ = a + b exactly, N = 1..10 "
        "(Fractions): REINFORCE's expected update, scaled",
        float("inf") if wrong else 0.0,
        0.0,
        note=f"differs at {wrong}" if wrong else "",
    )
    err = max(
        sup_normalised_error(curve(spec), lambda r: r) for spec in ("psr", "nsr", "w_reinforce")
    )
    rows = zhu_relative_std(8)
    yield Check(
        "Zhu et al.",
        "reverse-engineered PSR, NSR, W-REINFORCE vs ρ (REINFORCE's surrogate), normalised",
        err,
        SURROGATE_TOL,
        note="at finite N they differ in variance only; std/mean of the update of a "
        "one-parameter Bernoulli(ρ) policy at N = 8, ρ = 0.1/0.5/0.9: "
        + "; ".join(f"{name} {'/'.join(f'{v:.2f}' for v in stds)}" for name, stds in rows),
    )
    wrong = []
    for n in range(2, 11):
        adv = _passk_advantage
        for rho in _EXACT_RHOS:
            if exact_update_coefficient(adv, n, rho) != (1 - rho) ** (n - 1):
                wrong.append((n, rho))
    yield Check(
        "grpo_passk",
        "Tang et al. / verl grpo_passk (no std): c_N = (1 − ρ)^{N−1} = dPass@N/dρ / N exactly, "
        "N = 2..10 (Fractions)",
        float("inf") if wrong else 0.0,
        0.0,
        note=f"differs at {wrong}" if wrong else "unbiased for Pass@N; no N → ∞ surrogate",
    )


def _passk_advantage(rewards) -> list[Fraction]:
    """Only the first best response gets r_max − r_second (verl's grpo_passk, no std division)."""
    ranked = sorted(rewards, reverse=True)
    best = rewards.index(ranked[0])
    return [
        Fraction(ranked[0] - ranked[1]) if i == best else Fraction(0) for i in range(len(rewards))
    ]


# --- the 2026 families (issue 17) ----------------------------------------------------------


def _memoised(
    advantages: Callable[[Sequence[int]], list[Fraction]],
) -> Callable[[Sequence[int]], list[Fraction]]:
    """``advantages`` computed once per reward pattern (the ρ values of a check share them)."""
    memo: dict[tuple[int, ...], list[Fraction]] = {}

    def cached(rewards: Sequence[int]) -> list[Fraction]:
        key = tuple(rewards)
        if key not in memo:
            memo[key] = advantages(rewards)
        return memo[key]

    return cached


def _truncated_likelihood(rho: np.ndarray, order: int) -> np.ndarray:
    """Σ_{k≤T} Pass@k/k = Σ_{k≤T} (1 − (1 − ρ)^k)/k, typed here from MaxRL's Maclaurin objective."""
    return np.sum([(1 - (1 - rho) ** k) / k for k in range(1, order + 1)], axis=0)


def _maclaurin_exact(curve: _Curves) -> Iterator[Check]:
    """MaxRL's order-T estimators: exact expected updates from the U-statistics (Fractions), the
    LOO baseline's finite-N bias, reverse-engineered surrogates, N = 4096 against mpmath."""
    wrong, count, float_err = [], 0, 0.0
    bias = {}
    for n in range(1, 8):
        for order in range(1, n + 2):
            target = [
                sum((1 - r) ** (k - 1) for k in range(1, min(order, n) + 1)) for r in _EXACT_RHOS
            ]
            for baseline in ("none", "cross_fitted", "loo"):
                adv = _memoised(
                    partial(brute_force_advantages, "maclaurin", T=order, baseline=baseline)
                )
                exact = [exact_update_coefficient(adv, n, rho) for rho in _EXACT_RHOS]
                if baseline == "loo":
                    bias[(n, order)] = max(abs(float(e - t)) for e, t in zip(exact, target))
                    continue
                count += 1
                if exact != target:
                    wrong.append(f"{baseline}:n={n},T={order}")
                spec = "maclaurin" if baseline == "none" else "maclaurin_cross_fitted"
                approx = expected_update_coefficient(
                    shaper(f"{spec}:T={order}"), n, np.array([float(r) for r in _EXACT_RHOS])
                )
                float_err = max(float_err, max(abs(float(e) - a) for e, a in zip(exact, approx)))
    yield Check(
        "MaxRL",
        "maclaurin and maclaurin_cross_fitted: c_N = Σ_{k≤min(T,N)} (1−ρ)^{k−1} = ∇Σ_{k≤T} "
        f"Pass@k/k exactly (Fractions, subset U-statistics), N = 1..7, T = 1..N+1 ({count} cases)",
        float("inf") if wrong else 0.0,
        0.0,
        note="differs: " + ", ".join(wrong) if wrong else "",
    )
    yield Check(
        "MaxRL",
        "library float c_N of maclaurin / maclaurin_cross_fitted vs exact rational c_N, same cases",
        float_err,
        EXACT_TOL,
    )
    biased = {key: b for key, b in bias.items() if key[0] >= 3 and key[1] >= 2}
    yield Check(
        "MaxRL",
        "maclaurin_loo (the code's subset-LOO baseline) is biased at finite N: c_N ≠ "
        "Σ_{k≤T} (1−ρ)^{k−1} for every N = 3..7, T ≥ 2 (max |c_N − target| over ρ; err: least)",
        min(biased.values()),
        None,
        note=f"N = 3, T = 2: {bias[(3, 2)]:.3f}; N = 7, T = 7: {bias[(7, 7)]:.3f}",
        ok=all(b > 1e-6 for b in biased.values()),
    )
    err = max(
        sup_normalised_error(
            curve(f"{name}:T={order}"), lambda r, t=order: _truncated_likelihood(r, t)
        )
        for name, order in (
            ("maclaurin", 1),
            ("maclaurin", 2),
            ("maclaurin", 8),
            ("maclaurin", 64),
            ("maclaurin_loo", 8),
            ("maclaurin_cross_fitted", 8),
        )
    )
    yield Check(
        "MaxRL",
        "reverse-engineered maclaurin (T = 1, 2, 8, 64), _loo and _cross_fitted (T = 8) vs "
        "Σ_{k≤T} Pass@k/k",
        err,
        SURROGATE_TOL,
    )
    yield Check(
        "MaxRL",
        "maclaurin at N = 4096 vs 30-digit term-by-term sums: T = 8 every N⁺, T = 4096 every 256th "
        "(relative; issue 17 asks 1e-9)",
        _maclaurin_large_n(),
        1e-12,
    )


def _maclaurin_large_n() -> float:
    import mpmath

    n, worst = 4096, 0.0
    with mpmath.workdps(30):
        for order, stride in ((8, 1), (n, 256)):
            scores = shaper(f"maclaurin:T={order}").scores
            assert scores is not None  # a registry shaper is count-based
            a_neg = scores(np.arange(n + 1), n)[1]
            for m in range(0, n + 1, stride):
                total, term = mpmath.mpf(0), mpmath.mpf(1)
                for k in range(2, min(order, n - m) + 1):
                    term *= mpmath.mpf(n - m - k + 1) / (n - k + 1)
                    total += term
                if total:
                    worst = max(worst, float(abs((a_neg[m] + total) / total)))
    return worst


def _pass_rate_normalisations(curve: _Curves) -> Iterator[Check]:
    interior = RHO_GRID[RHO_GRID > 0]
    p_norm = curve("p_normalization:eps=0")
    forms = [
        ("p_normalization:eps=0.1", lambda r: np.log(1 + r / 0.1)),
        (
            "clipped_pnorm",
            lambda r: np.where(r <= 0.125, r / 0.125, 1 + np.log(np.maximum(r, 0.125) / 0.125)),
        ),
        ("one_sided_grpo:eps=0", lambda r: 2 * np.sqrt(r)),
    ]
    err = max(sup_normalised_error(curve(spec), form) for spec, form in forms)
    yield Check(
        "MaxRL",
        "reverse-engineered p_normalization (ε = 0.1), clipped_pnorm (c = 1/8), one_sided_grpo (ε = 0) "
        "vs log(1 + ρ/ε), ρ/c | 1 + log(ρ/c), 2√ρ",
        err,
        SURROGATE_TOL,
    )
    yield Check(
        "MaxRL",
        "reverse-engineered p_normalization:eps=0 (= maxrl) vs log ρ (diverges at 0, F(1) = 0)",
        float(np.max(np.abs(p_norm(interior) - np.log(interior)))),
        SURROGATE_TOL,
        note=p_norm.describe(),
    )


def _prompt_weightings(curve: _Curves) -> Iterator[Check]:
    """Heckel et al.'s Linear-R and Sqrt-R (signal on all-wrong groups), F-GRPO's focal weight."""
    wrong = [
        (n, rho)
        for n in range(1, 11)
        for rho in _EXACT_RHOS
        if (
            exact_update_coefficient(partial(brute_force_advantages, "linear_r"), n, rho)
            != sum((1 - rho) ** (k - 1) for k in range(1, n + 1))
            or exact_update_coefficient(partial(brute_force_advantages, "linear_r"), n, rho)
            - exact_update_coefficient(_maxrl_advantage, n, rho)
            != (1 - rho) ** (n - 1)
        )
    ]
    yield Check(
        "Heckel et al.",
        "Linear-R: c_N = Σ_{k≤N} (1−ρ)^{k−1} exactly (MaxRL's order-N objective); its all-wrong "
        "groups add (1−ρ)^{N−1} to maxrl's c_N, i.e. Pass@N/N to F_N; N = 1..10 (Fractions)",
        float("inf") if wrong else 0.0,
        0.0,
        note=f"differs at {wrong}" if wrong else "",
    )
    interior = RHO_GRID[RHO_GRID > 0]
    with np.errstate(divide="ignore"):  # ρ = 1: log1p(−1) = −inf, 1 − s = 1 exactly
        one_minus_s = -np.expm1(0.5 * np.log1p(-interior))  # 1 − √(1 − ρ), no cancellation
    err = max(
        float(np.max(np.abs(curve("linear_r")(interior) - np.log(interior)))),
        float(np.max(np.abs(curve("sqrt_r")(interior) - np.log(one_minus_s / (2 - one_minus_s))))),
    )
    yield Check(
        "Heckel et al.",
        "reverse-engineered Linear-R vs log ρ and Sqrt-R vs log((1 − √(1−ρ))/(1 + √(1−ρ))) "
        "(both diverge at 0, F(1) = 0)",
        err,
        SURROGATE_TOL,
        note=curve("sqrt_r").describe(),
    )
    yield Check(
        "F-GRPO",
        "focal:gamma=K−1 scores = biased_k:k=K scores, K = 1..6, N = 1..64",
        max(
            _score_gap(
                shaper(f"focal:gamma={k - 1}"),
                shaper(f"biased_k:k={k}"),
                range(1, 65),
                lambda n: 1.0,
            )
            for k in range(1, 7)
        ),
        EXACT_TOL,
    )
    err = max(
        sup_normalised_error(
            curve(f"focal:gamma={g}"), lambda r, g=g: incomplete_beta(r, 0.5, g + 0.5)
        )
        for g in (0.5, 1.0, 1.5, 3.25)
    )
    yield Check(
        "F-GRPO",
        "reverse-engineered focal (γ = 0.5, 1, 1.5, 3.25) vs B(ρ; ½, γ + ½) (0 < γ < ½: dF/dθ has "
        "a (π/2 − θ)^{2γ} cusp at ρ = 1 that the end fit does not model: ~2e-6 at γ = ¼)",
        err,
        SURROGATE_TOL,
    )


def _max_at_k_leave_two_out() -> Iterator[Check]:
    """MaxPO's leave-two-out baseline, as reconstructed: = the others' max@K, centred, unbiased."""
    rng = np.random.default_rng(0)
    gap = 0.0
    for n in range(2, 7):
        for k in range(1, n):
            for _ in range(2):
                rewards = [int(v) for v in rng.integers(0, 4, size=n)]
                l2o = brute_force_advantages("maxpo", rewards, k=k)
                loo = brute_force_advantages("pkpo", rewards, k=k, baseline="loo_unscaled")
                gap = max(gap, max(abs(float(a - b)) for a, b in zip(l2o, loo)))
                ours = shaper(f"maxpo:k={k}").advantages(np.array([rewards], dtype=np.float64))[0]
                gap = max(gap, float(np.max(np.abs(ours - [float(a) for a in l2o]))))
    yield Check(
        "MaxPO",
        "leave-two-out baseline (mean over j ≠ i of j's signal without i) = the others' max@K, "
        "by subset enumeration, and the library on those groups (integer rewards, N ≤ 6)",
        gap,
        EXACT_TOL,
    )
    sums = shaper("maxpo:k=3").advantages(rng.normal(size=(2000, 9))).sum(axis=-1)
    yield Check(
        "MaxPO",
        "max@K advantages sum to 0 in every group, real rewards (2000 groups, N = 9, K = 3)",
        float(np.max(np.abs(sums))),
        EXACT_TOL,
    )
    wrong = [
        (n, k)
        for n in range(2, 8)
        for k in range(1, n)
        if len(
            {
                exact_update_coefficient(partial(brute_force_advantages, "maxpo", k=k), n, rho)
                / (1 - rho) ** (k - 1)
                for rho in _EXACT_RHOS
            }
        )
        != 1
    ]
    yield Check(
        "MaxPO",
        "binary rewards: c_N ∝ (1−ρ)^{K−1} = ∇Pass@K/K exactly, N = 2..7, K < N (Fractions)",
        float("inf") if wrong else 0.0,
        0.0,
        note=f"not proportional: {wrong}" if wrong else "",
    )


SECTIONS: tuple[Callable[..., Iterator[Check]], ...] = (
    _table_1,
    _claim_1,
    _claim_2,
    _corollary_1,
    _claim_3,
    _eq_26,
    _app_c1,
    _app_c2,
    _app_c3,
    _app_c4,
    lambda curve: _finite_n_unbiased(),
    _finite_n_rate,
    _recent,
    _maclaurin_exact,
    _pass_rate_normalisations,
    _prompt_weightings,
    lambda curve: _max_at_k_leave_two_out(),
)


def run_checks(report: Callable[[Check], None] | None = None) -> tuple[list[Check], float]:
    """Run every check of ``advshape verify``: the paper's surrogate claims, checked numerically.

    Each check compares two independently computed things (a reverse-engineered surrogate
    with the paper's formula, a forward-engineered shaper with a registry shaper, floats with
    exact fractions) and records the worst error and its tolerance. The whole run takes
    seconds.

    Args:
        report: called with each :class:`Check` as soon as it is done (None: silent).

    Returns:
        ``(checks, seconds)``: every :class:`Check`, in order, and the wall time.

    Example:
        >>> from advshape.surrogates.verify import run_checks
        >>> class Enough(Exception):
        ...     pass
        >>> def stop_after_the_first(check):  # report sees each check as it completes
        ...     raise Enough(check)
        >>> try:
        ...     run_checks(report=stop_after_the_first)
        ... except Enough as stopped:
        ...     first = stopped.args[0]
        >>> first.claim, first.passed, first.error < first.tolerance
        ('Table 1', True, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Claims 1–3, Corollary 1, Eq. 26, Table 1, App. C).
    """
    start = time.perf_counter()
    curve = _Curves()
    checks = []
    for section in SECTIONS:
        for check in section(curve):
            checks.append(check)
            if report is not None:
                report(check)
    return checks, time.perf_counter() - start
