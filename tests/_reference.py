"""Independent reference implementations, written from the paper's definitions.

Nothing here imports advshape. Rational parts are exact ``Fraction``s built from
``math.comb``; the only irrational operation, a square root, is applied once at the end
(``exact_sqrt_times``), so every reference value is correctly rounded to ~1 ulp.
Definitions are applied to a concrete reward vector (leave-one-out means over the *other*
responses, the estimator of Eq. 11 on the others, subset enumeration for PKPO), not to
closed forms in (N⁺, N), so they check the algebra of the library as well as its arithmetic.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import mpmath

mpmath.mp.dps = 50


def rewards_vector(n_pos: int, n: int) -> list[int]:
    return [1] * n_pos + [0] * (n - n_pos)


def pass_estimate(n_pos: int, n: int, k: int) -> Fraction:
    """Eq. (11): ρ̂_K = 1 − C(N − N⁺, K)/C(N, K) (math.comb is 0 when N − N⁺ < K)."""
    return 1 - Fraction(math.comb(n - n_pos, k), math.comb(n, k))


def pass_at_k_enumerated(rewards: list[int], k: int) -> Fraction:
    """Fraction of k-subsets with at least one correct response (the estimator's definition)."""
    subsets = list(itertools.combinations(rewards, k))
    return Fraction(sum(1 for s in subsets if any(s)), len(subsets))


def loo_fail(rewards: list[int], i: int, k: int) -> Fraction:
    """1 − ρ̂^{loo,i}_{K−1}: the Pass@(K−1) estimator (Eq. 11) on the responses other than i."""
    others = rewards[:i] + rewards[i + 1 :]
    if k - 1 == 0:
        return Fraction(1)
    return 1 - pass_estimate(sum(others), len(others), k - 1)


def mean(xs) -> Fraction:
    return Fraction(sum(xs), len(xs))


def exact(value) -> mpmath.mpf:
    """A Fraction, or a (rational, radicand) pair meaning rational·√radicand, to 50 digits."""
    if isinstance(value, tuple):
        rational, radicand = value
        return (
            mpmath.mpf(rational.numerator)
            / rational.denominator
            * mpmath.sqrt(mpmath.mpf(radicand.numerator) / radicand.denominator)
        )
    return mpmath.mpf(value.numerator) / value.denominator


# Each shaper: advantage of response i in the reward vector, as Fraction or (Fraction, radicand).


def rloo(r, i, **_):
    n = len(r)
    return Fraction(r[i]) - Fraction(sum(r) - r[i], n - 1)


def grpo_parts(r, i, std="population"):
    """(r_i − r̄) and σ̂² so that A = (r_i − r̄)/σ̂; σ̂² = 0 -> A = 0."""
    rho = mean(r)
    var = mean([(x - rho) ** 2 for x in r])
    if std == "sample":
        var = var * Fraction(len(r), len(r) - 1)
    return r[i] - rho, var


def grpo(r, i, std="population", **_):
    centred, var = grpo_parts(r, i, std)
    if var == 0:
        return Fraction(0)
    return (centred, 1 / var)


def scaled_grpo(r, i, scale: Fraction):
    a = grpo(r, i)
    if isinstance(a, Fraction):
        return a
    return (scale * a[0], a[1])


def reference_advantage(name: str, r: list[int], i: int, k: int = 1, lam: float = 0.0, **params):
    """Exact advantage of response i under shaper ``name`` (mpmath, 50 digits)."""
    n, n_pos = len(r), sum(r)
    rho = Fraction(n_pos, n)
    if name == "reinforce":
        return exact(Fraction(r[i]))
    if name == "rloo":
        return exact(rloo(r, i))
    if name == "grpo":
        return exact(grpo(r, i, **params))
    if name == "dr_grpo":
        return exact(r[i] - rho)
    if name == "skew_r":
        return exact(scaled_grpo(r, i, 1 - rho))
    if name == "reinforce_k":  # Eq. (12) without the K prefactor
        return exact(loo_fail(r, i, k) * r[i])
    if name == "rloo_k":  # Eq. (12) with RLOO advantages in place of r_i
        return exact(loo_fail(r, i, k) * rloo(r, i))
    if name == "grpo_k":  # Eq. (16)/(17)
        a = grpo(r, i)
        return exact(a) if isinstance(a, Fraction) else exact((loo_fail(r, i, k) * a[0], a[1]))
    if name in ("grpo_k_chen", "mix_chen"):
        # Eq. (18) literally: A⁺ = √((1−ρ̂_K)/ρ̂_K), A⁻ = (1 − ρ̂_K − f̂⁻)/√(ρ̂_K(1−ρ̂_K)),
        # with 0 when the group is constant or ρ̂_K ∈ {0, 1}.
        rho_k = pass_estimate(n_pos, n, k)
        if n_pos in (0, n) or rho_k in (0, 1):
            chen = Fraction(0) if name == "grpo_k_chen" else None
            if name == "grpo_k_chen":
                return exact(chen)
            # mix: ρ̂·0 + (1 − ρ̂)·A_GRPO
            return exact(scaled_grpo(r, i, 1 - rho))
        f_neg = loo_fail(r, r.index(0), k) if 0 in r else Fraction(0)
        if r[i] == 1:
            chen_a = exact(((Fraction(1)), (1 - rho_k) / rho_k))
        else:
            chen_a = exact(1 - rho_k - f_neg) / mpmath.sqrt(exact(rho_k * (1 - rho_k)))
        if name == "grpo_k_chen":
            return chen_a
        return exact(rho) * chen_a + exact(1 - rho) * exact(grpo(r, i))  # Eq. (23), first form
    if name == "mix_direct":  # Eq. (24), first form: ρ̂·A_Pass@K + (1 − ρ̂)·A
        a = grpo(r, i)
        if isinstance(a, Fraction):
            return exact(a)
        return exact(rho) * exact((loo_fail(r, i, k) * a[0], a[1])) + exact(1 - rho) * exact(a)
    if name == "biased_k":
        return exact(scaled_grpo(r, i, (1 - rho) ** (k - 1)))
    if name == "entropy":  # Eq. (26): [1 − λ√(ρ̂(1−ρ̂))·log(ρ̂/(1−ρ̂))]·A_GRPO
        if n_pos in (0, n):
            return mpmath.mpf(0)
        p = exact(rho)
        scale = 1 - mpmath.mpf(lam) * mpmath.sqrt(p * (1 - p)) * mpmath.log(p / (1 - p))
        return scale * exact(grpo(r, i))
    if name == "pkpo":
        return exact(
            pkpo_enumerated([Fraction(x) for x in r], i, k, params.get("baseline", "loo_minus_one"))
        )
    if name == "maxrl":
        return exact(maxrl(r, i))
    if name in ("w_reinforce", "nsr", "psr"):
        return exact(psr_nsr(r, i, name, lam))
    if name == "grpo_passk":
        return grpo_passk(r, i, **params)
    raise KeyError(name)


def maxrl(r, i) -> Fraction:
    """MaxRL: (1/K)·Σ_{successes} ∇log π minus the group mean of ∇log π, written per response as
    the coefficient of (1/N)·∇log π(y_i): N·r_i/K − 1; no update when K = 0."""
    n, successes = len(r), sum(r)
    if successes == 0:
        return Fraction(0)
    return Fraction(n * r[i], successes) - 1


def psr_nsr(r, i, name: str, lam: float = 0.1) -> Fraction:
    """Zhu et al.: reward ±1 split into the PSR part (r = +1 terms) and the NSR part (r = −1 terms);
    W-REINFORCE weighs PSR by λ. ``lam`` arrives as a float: its exact binary value is used."""
    plus_minus = 1 if r[i] == 1 else -1
    weight = {"psr": (1, 0), "nsr": (0, 1), "w_reinforce": (Fraction(lam), 1)}[name]
    return weight[0] * plus_minus if plus_minus > 0 else weight[1] * plus_minus


def grpo_passk(r, i, std="sample", eps=1e-6):
    """verl's grpo_passk by its definition: the first best response gets (r_max − r_second),
    divided by the sample std of the group plus ε; every other response 0 (50-digit mpmath)."""
    ranked = sorted(r, reverse=True)
    best = r.index(ranked[0])
    if i != best:
        return mpmath.mpf(0)
    gap = exact(Fraction(ranked[0] - ranked[1]))
    if std == "none" or gap == 0:  # a tie at the top: no best response (0, also when ε = 0)
        return gap
    x = [Fraction(v) for v in r]
    var = Fraction(sum((v - mean(x)) ** 2 for v in x), len(x) - 1)
    return gap / (mpmath.sqrt(exact(var)) + mpmath.mpf(eps))


def subset_max_mean(values, size: int) -> Fraction:
    """Mean over all size-subsets of ``values`` of their maximum (max ∅ := 0)."""
    if size == 0:
        return Fraction(0)
    subsets = list(itertools.combinations(values, size))
    return Fraction(sum(max(s) for s in subsets)) / len(subsets)


def pkpo_enumerated(x, i: int, k: int, baseline: str) -> Fraction:
    """PKPO by brute force: mean max over k-subsets containing i, minus the baseline."""
    others = x[:i] + x[i + 1 :]
    with_i = [max((x[i], *rest)) for rest in itertools.combinations(others, k - 1)]
    s = Fraction(sum(with_i)) / len(with_i)
    if baseline == "none":
        return s
    if baseline == "loo":
        return pkpo_eq29_loo(x, i, k) * Fraction(len(x), k)  # k/n dropped, as advshape does
    if baseline == "loo_unscaled":
        return s - subset_max_mean(others, k)
    if baseline == "loo_minus_one":
        return s - subset_max_mean(others, k - 1)
    raise KeyError(baseline)


def pkpo_eq29_loo(x, i: int, k: int) -> Fraction:
    """PKPO's s^(loo)_i, written from Walder & Karkhanis Eq. (29) by subset enumeration:

        s^(loo)_i = s_i − (1/(n−1)) Σ_{j≠i} S(j, k, [n]∖i),

    s_i = (1/C(n, k)) Σ_{k-subsets I ∋ i} max_{m∈I} x_m, and S(j, k, J) the same sum over the
    k-subsets of J containing j, divided by C(|J|, k).
    """
    n = len(x)
    everyone = range(n)

    def subset_sum(j: int, pool) -> Fraction:
        subsets = [c for c in itertools.combinations(pool, k) if j in c]
        return Fraction(sum(max(x[m] for m in c) for c in subsets))

    s_i = subset_sum(i, everyone) / math.comb(n, k)
    rest = [m for m in everyone if m != i]
    b_i = sum(subset_sum(j, rest) for j in rest) / math.comb(n - 1, k)
    return s_i - b_i / (n - 1)
