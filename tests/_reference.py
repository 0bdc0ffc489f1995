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
    if name in MACLAURIN:
        return exact(MACLAURIN[name](r, i, params["T"]))
    if name in ("p_normalization", "clipped_pnorm", "one_sided_grpo"):
        return pass_rate_normalised(name, r, i, **params)
    if name in ("linear_r", "sqrt_r"):
        return asymmetric_weighting(name, r, i)
    if name == "focal":  # F-GRPO: (1 − ρ̂)^γ·A_GRPO, γ real
        return exact(1 - rho) ** mpmath.mpf(params["gamma"]) * exact(grpo(r, i))
    if name == "maxpo":
        return exact(maxpo_leave_two_out([Fraction(x) for x in r], i, k))
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


# --- the 2026 families -------------------------------------------------------------------------
# MaxRL's estimators written from their U-statistic definitions over k-subsets of the group (the
# update is Σ_k (1/k)·∇̂Pass@k with ∇̂Pass@k = −∇̂Fail@k, advantages = N × the per-response
# coefficient); subset counts by math.comb, never the library's closed forms.


def _all_wrong_subsets_with(r, i: int, k: int) -> int:
    """Number of k-subsets of the group that contain i and are all wrong."""
    wrong = len(r) - sum(r)
    return math.comb(wrong - 1, k - 1) if r[i] == 0 else 0


def maclaurin(r, i, T) -> Fraction:
    """Order-T Maclaurin: r_i (k = 1) − Σ_{k=2}^{T} N/(k·C(N,k))·#{all-wrong k-subsets ∋ i}."""
    n = len(r)
    out = Fraction(r[i])
    for k in range(2, min(T, n) + 1):
        out -= Fraction(n * _all_wrong_subsets_with(r, i, k), k * math.comb(n, k))
    return out


def maclaurin_loo(r, i, T) -> Fraction:
    """The same with each subset S's baseline b_S = (all-wrong subsets other than S)/(C(N,k) − 1),
    for k ≤ N − 1; an all-wrong group keeps the order-N term when T ≥ N (the authors' code)."""
    n, wrong = len(r), len(r) - sum(r)
    out = Fraction(r[i])
    for k in range(2, min(T, n - 1) + 1):
        m = math.comb(n, k)
        all_wrong = math.comb(wrong, k)
        signal = _all_wrong_subsets_with(r, i, k)  # Σ_{S∋i} [S all wrong]
        baseline = Fraction(math.comb(n - 1, k - 1) * all_wrong - signal, m - 1)  # Σ_{S∋i} b_S
        out -= Fraction(n, k * m) * (signal - baseline)
    if T >= n >= 2 and wrong == n:
        out -= 1
    return out


def maclaurin_cross_fitted(r, i, T) -> Fraction:
    """The same with b_S = (all-wrong k-subsets disjoint from S)/C(N − k, k) for 2k ≤ N, summed over
    the subsets S ∋ i by their composition (t wrong and k − 1 − t right besides i), as the
    authors' Eqs. (84)–(85) do; orders with 2k > N keep no baseline."""
    n, right = len(r), sum(r)
    wrong = n - right
    out = Fraction(r[i])
    for k in range(2, min(T, n) + 1):
        signal = _all_wrong_subsets_with(r, i, k)
        baseline = Fraction(0)
        if 2 * k <= n:
            # others besides i: wrong_o wrong, right_o right
            wrong_o, right_o = wrong - (r[i] == 0), right - (r[i] == 1)
            for t in range(k):
                if t > wrong_o or k - 1 - t > right_o:
                    continue
                outside = wrong_o - t  # wrong responses outside S
                count = math.comb(wrong_o, t) * math.comb(right_o, k - 1 - t)
                baseline += Fraction(count * math.comb(outside, k), math.comb(n - k, k))
        out -= Fraction(n, k * math.comb(n, k)) * (signal - baseline)
    return out


MACLAURIN = {
    "maclaurin": maclaurin,
    "maclaurin_loo": maclaurin_loo,
    "maclaurin_cross_fitted": maclaurin_cross_fitted,
}


def maclaurin_enumerated(r, i, T, baseline: str = "none") -> Fraction:
    """The three Maclaurin estimators by listing every k-subset (and, cross-fitted, every disjoint
    partner subset): the slow definition behind the counting forms above, for small N."""
    n = len(r)
    out = Fraction(r[i])
    top = min(T, n - 1) if baseline == "loo" else min(T, n)
    for k in range(2, top + 1):
        subsets = list(itertools.combinations(range(n), k))
        wrong = {s: all(r[j] == 0 for j in s) for s in subsets}
        total = Fraction(0)
        for s in subsets:
            if i not in s:
                continue
            if baseline == "loo":
                b = Fraction(sum(wrong[u] for u in subsets if u != s), len(subsets) - 1)
            elif baseline == "cross_fitted" and 2 * k <= n:
                partners = [u for u in subsets if not set(u) & set(s)]
                b = Fraction(sum(wrong[u] for u in partners), len(partners))
            else:
                b = Fraction(0)
            total += wrong[s] - b
        out -= Fraction(n, k * len(subsets)) * total
    if baseline == "loo" and T >= n >= 2 and sum(r) == 0:
        out -= 1
    return out


def pass_rate_normalised(name: str, r, i, eps: float = 1e-6, floor: float = 0.125):
    """MaxRL's code: (r − ρ̂)/(ρ̂ + ε), (r − ρ̂)/max(ρ̂, c), (r − ρ̂)/(√ρ̂ + ε); 0/0 := 0 (50 digits;
    ε and c at their exact binary values)."""
    rho = mean(r)
    centred = exact(r[i] - rho)
    if name == "p_normalization":
        den = exact(rho) + exact(Fraction(eps))
    elif name == "clipped_pnorm":
        den = max(exact(rho), exact(Fraction(floor)))
    else:
        den = mpmath.sqrt(exact(rho)) + exact(Fraction(eps))
    return mpmath.mpf(0) if den == 0 else centred / den


def asymmetric_weighting(name: str, r, i):
    """Heckel et al.: A_i = ω(ρ̂)·(r_i − ρ̂), ω = 1/ρ̂ (Linear-R) or 1/(ρ̂·√(1 − ρ̂)) (Sqrt-R); at
    ρ̂ = 0 the wrong responses get the limit −ρ̂·ω(ρ̂) → −1, and at ρ̂ = 1 Sqrt-R's correct ones the
    limit √(1 − ρ̂)/ρ̂ → 0."""
    rho = mean(r)
    if rho == 0:
        return mpmath.mpf(-1)
    if rho == 1:
        return mpmath.mpf(0)
    linear = exact((r[i] - rho) / rho)
    return linear if name == "linear_r" else linear / mpmath.sqrt(exact(1 - rho))


def subset_signal(x, j: int, pool, k: int) -> Fraction:
    """Mean, over the k-subsets of ``pool`` that contain j, of their maximum."""
    rest = [m for m in pool if m != j]
    maxima = [max(x[m] for m in (j, *c)) for c in itertools.combinations(rest, k - 1)]
    return Fraction(sum(maxima)) / len(maxima)


def maxpo_leave_two_out(x, i: int, k: int) -> Fraction:
    """max@K with the leave-two-out baseline, literally: s̄_i minus the mean over j ≠ i of j's own
    signal computed in the group without i (from the responses other than i and j)."""
    everyone = range(len(x))
    without_i = [m for m in everyone if m != i]
    baseline = sum(subset_signal(x, j, without_i, k) for j in without_i) / len(without_i)
    return subset_signal(x, i, everyone, k) - baseline


def exact_c_n(advantage, n: int, rho: Fraction) -> Fraction:
    """c_N(ρ) = Σ_j Bin(j; N−1, ρ)·[A⁺(j + 1) − A⁻(j)] exactly, A± = ``advantage(rewards, i)`` of a
    correct (i = 0) and a wrong (i = N − 1) response (paper Lemma 2 with m·Bin(m; N, ρ) =
    Nρ·Bin(m − 1; N − 1, ρ); j counts the successes among the other N − 1 responses)."""
    total = Fraction(0)
    for j in range(n):
        a_pos = advantage(rewards_vector(j + 1, n), 0)
        a_neg = advantage(rewards_vector(j, n), n - 1)
        total += math.comb(n - 1, j) * rho**j * (1 - rho) ** (n - 1 - j) * (a_pos - a_neg)
    return total
