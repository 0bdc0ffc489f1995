"""The registry: one table row per shaper, read by the API, the CLI, the README and the tests.

Adding a shaper is adding one :class:`ShaperEntry` to ``_ENTRIES``: its score function, its
parameters (each with its range, a constraint of :mod:`advshape._src.constraints`) and its
metadata. :func:`shaper` reads a spec (any form of :mod:`advshape._src.spec`), checks the
parameters against the entry and builds the :class:`Shaper`; a spec with a schedule
(``"grpo_k:k=linear(16,1)"``) is refused there and built by ``advshape.scheduled``
(:mod:`advshape._src.scheduled`, the layer above this one).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from advshape._src import closed_forms, continuous, maclaurin, maxpo, recent, scores, weighting
from advshape._src.constraints import Bound, OneOf, count, real
from advshape._src.pkpo import BASELINES
from advshape._src.schedule import Schedule
from advshape._src.shaper import Shaper, ShaperInfo, count_shaper
from advshape._src.spec import SURROGATE, SURROGATE_KEYS, format_spec, is_schedule_text
from advshape._src.spec import parse_spec as _parse_text

__all__ = [
    "REQUIRED",
    "Param",
    "ShaperEntry",
    "names",
    "parse_spec",
    "register",
    "registry",
    "shaper",
]

# The seed paper, as every shaper it defines cites it (``advshape list --format markdown``, ``show``).
THIS_PAPER = "Advantage Shaping as Surrogate Reward Maximization (2025), arXiv 2510.23049"


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a :class:`Param` that every spec must give (``k`` of ``grpo_k``)."""


class Param(NamedTuple):
    """A shaper parameter: its name, type, default, meaning and valid range.

    A value of the wrong type or outside the range raises ``ValueError`` naming the shaper and
    the parameter, from the spec text and from keywords alike.

    Attributes:
        name: the name specs use (``k`` in ``"grpo_k:k=4"``).
        kind: ``int``, ``float`` or ``str``; a spec's text value is read as this type.
        default: the value when neither the spec nor a keyword gives one, or :data:`REQUIRED`.
        doc: what the parameter means, one line (``advshape list`` and messages show it).
        check: its range, a constraint of :mod:`advshape._src.constraints` (``count(1)``,
            ``real(0)``, ``OneOf((...))``), the same objects the command line checks its
            options with; None: any value of the type.

    Example:
        >>> import advshape
        >>> k = advshape.registry()["grpo_k"].params[0]
        >>> k.name, k.kind, k.default is advshape.REQUIRED, k.check.describe()
        ('k', <class 'int'>, True, 'an integer >= 1')
        >>> advshape.shaper("grpo_k:k=0")
        Traceback (most recent call last):
        ...
        ValueError: shaper 'grpo_k' parameter 'k' must be an integer >= 1, got 0

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the K of the Pass@K target, Eq. 11).
    """

    name: str
    kind: type
    default: Any
    doc: str
    check: Bound | OneOf | None = None


class ShaperEntry(NamedTuple):
    """One row of the registry: a shaper's score function, parameters and metadata.

    :func:`shaper` builds a :class:`Shaper` from it; :func:`register` adds a new one (the
    CLI, the docs' shaper table and the registry-wide tests read every row).

    Attributes:
        name: the name specs use.
        summary: one line: what the shaper is.
        paper: where it comes from (authors, year, arXiv id).
        equation: the paper's equation or section.
        formula: A⁺ and A⁻ in Unicode.
        unbiased: whether the expected update is ∝ ∇ρ_K exactly at every finite N ≥ min_n.
        binary_only: whether rewards outside {0, 1} are refused (no ``generic`` form).
        params: its parameters.
        scores: ``scores(n_pos, n, **params) -> (A⁺, A⁻)``, broadcasting over integer arrays.
        generic: ``generic(xp, rewards, dtype, **params)``, the advantages of real-valued
            rewards ``[..., N]``, or None.
        min_n: ``min_n(params)``, the smallest group size; monotone in each numeric
            parameter, since a schedule is checked at its extreme values only
            (``ScheduledShaper.check_group_size``).
        k_le_n: whether K ≤ N is needed (an unbiased Pass@K estimator exists only then).
        surrogate: ``surrogate(rho, **params) -> F(ρ)``, the population surrogate reward in
            closed form, or None.

    Example:
        >>> import advshape
        >>> entry = advshape.registry()["rloo"]
        >>> entry.equation, entry.unbiased, entry.min_n({})
        ('Eq. (6)', True, 2)
        >>> [float(a) for a in entry.scores(1, 4)]  # A⁺ = N(1−ρ̂)/(N−1), A⁻ = −Nρ̂/(N−1)
        [1.0, -0.3333333333333333]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1: the scores, weights and surrogates of its shapers).
    """

    name: str
    summary: str
    paper: str
    equation: str
    formula: str
    unbiased: bool
    binary_only: bool
    params: tuple[Param, ...]
    scores: Callable[..., Any]  # scores(n_pos, n, **params) -> (A⁺, A⁻)
    generic: Callable[..., Any] | None = None  # generic(xp, rewards, dtype, **params): real rewards
    min_n: Callable[[Mapping[str, Any]], int] = lambda p: 1
    k_le_n: bool = False  # needs K ≤ N (an unbiased Pass@K estimator)
    # surrogate(rho, **params) -> F(rho): the population surrogate reward, if known in closed form
    surrogate: Callable[..., Any] | None = None

    def target_k(self, params: Mapping[str, Any]) -> int:
        return int(params.get("k", 1))


K = Param("k", int, REQUIRED, "the K of the Pass@K target", count(1))
# MaxRL's truncation order; the paper's letter (the spec reads maclaurin:T=8)
ORDER = Param("T", int, REQUIRED, "the Maclaurin truncation order T (1: REINFORCE)", count(1))
MAXRL = "Tajwar, Zeng et al. 2026 (MaxRL), arXiv 2602.02710"
HECKEL = "Heckel, Soltanolkotabi & Thrampoulidis 2026, arXiv 2602.11128"

_ENTRIES: tuple[ShaperEntry, ...] = (
    ShaperEntry(
        name="reinforce",
        summary="REINFORCE: the reward itself",
        paper="Williams 1992",
        equation="Eq. (5)",
        formula="A⁺ = 1, A⁻ = 0",
        unbiased=True,
        binary_only=False,
        params=(),
        scores=scores.reinforce,
        surrogate=closed_forms.reinforce,
        generic=continuous.reinforce,
    ),
    ShaperEntry(
        name="rloo",
        summary="REINFORCE leave-one-out baseline",
        paper="Kool et al. 2019; Ahmadian et al. 2024",
        equation="Eq. (6)",
        formula="A⁺ = N(1−ρ̂)/(N−1), A⁻ = −Nρ̂/(N−1)",
        unbiased=True,
        binary_only=False,
        params=(),
        scores=scores.rloo,
        surrogate=closed_forms.rloo,
        generic=continuous.rloo,
        min_n=lambda p: 2,
    ),
    ShaperEntry(
        name="grpo",
        summary="GRPO: mean-centred, std-normalised",
        paper="Shao et al. 2024",
        equation="Eq. (8)",
        formula="A⁺ = √((1−ρ̂)/ρ̂), A⁻ = −√(ρ̂/(1−ρ̂))",
        unbiased=False,
        binary_only=False,
        params=(
            Param(
                "std",
                str,
                "population",
                "std estimator: population (the paper's) or sample",
                OneOf(("population", "sample")),
            ),
            Param("eps", float, 0.0, "added to the std before dividing", real(0)),
        ),
        scores=scores.grpo,
        surrogate=closed_forms.grpo,
        generic=continuous.grpo,
        min_n=lambda p: 2 if p.get("std") == "sample" else 1,
    ),
    ShaperEntry(
        name="dr_grpo",
        summary="Dr. GRPO: mean-centred, no std division",
        paper="Liu et al. 2025",
        equation="Sec. 7 (normalisation)",
        formula="A⁺ = 1−ρ̂, A⁻ = −ρ̂",
        unbiased=True,
        binary_only=False,
        params=(),
        scores=scores.dr_grpo,
        surrogate=closed_forms.dr_grpo,
        generic=continuous.dr_grpo,
    ),
    ShaperEntry(
        name="skew_r",
        summary="skew-R: GRPO scaled by (1 − ρ̂), regularised surrogate",
        paper=THIS_PAPER,
        equation="Claim 3, Eq. (25)",
        formula="A± = (1−ρ̂)·A±_GRPO",
        unbiased=False,
        binary_only=True,
        params=(),
        scores=scores.skew_r,
        surrogate=closed_forms.skew_r,
    ),
    ShaperEntry(
        name="reinforce_k",
        summary="REINFORCE_K: REINFORCE reweighted by leave-one-out Fail@(K−1)",
        paper=THIS_PAPER + "; Mahdavi et al. 2025",
        equation="Eqs. (12), (14)",
        formula="A⁺ = f̂⁺_{K−1}, A⁻ = 0",
        unbiased=True,
        binary_only=True,
        params=(K,),
        scores=scores.reinforce_k,
        surrogate=closed_forms.reinforce_k,
        k_le_n=True,
    ),
    ShaperEntry(
        name="rloo_k",
        summary="RLOO_K: RLOO reweighted by leave-one-out Fail@(K−1)",
        paper=THIS_PAPER,
        equation="Eq. (15), Table 1",
        formula="A⁺ = f̂⁺_{K−1}·N(1−ρ̂)/(N−1), A⁻ = −f̂⁻_{K−1}·Nρ̂/(N−1)",
        unbiased=True,
        binary_only=True,
        params=(K,),
        scores=scores.rloo_k,
        surrogate=closed_forms.rloo_k,
        min_n=lambda p: 2,
        k_le_n=True,
    ),
    ShaperEntry(
        name="grpo_k",
        summary="GRPO_K: GRPO reweighted by leave-one-out Fail@(K−1)",
        paper=THIS_PAPER,
        equation="Eqs. (16)–(17)",
        formula="A± = f̂±_{K−1}·A±_GRPO",
        unbiased=False,
        binary_only=True,
        params=(K,),
        scores=scores.grpo_k,
        surrogate=closed_forms.grpo_k,
        k_le_n=True,
    ),
    ShaperEntry(
        name="grpo_k_chen",
        summary="GRPO~_K: Chen et al.'s Pass@K advantage shaping",
        paper="Chen et al. 2025",
        equation="Eqs. (18)–(19)",
        formula="A± = ω̃_K·A±_GRPO, ω̃_K = √((1−ρ̂_K)/ρ̂_K)·√(ρ̂/(1−ρ̂))",
        unbiased=False,
        binary_only=True,
        params=(K,),
        scores=scores.grpo_k_chen,
        surrogate=closed_forms.grpo_k_chen,
        k_le_n=True,
    ),
    ShaperEntry(
        name="mix_chen",
        summary="Chen et al.'s mix of GRPO~_K and GRPO, weighted by ρ̂",
        paper="Chen et al. 2025",
        equation="Eq. (23)",
        formula="A± = (1−ρ̂+ρ̂·ω̃_K)·A±_GRPO",
        unbiased=False,
        binary_only=True,
        params=(K,),
        scores=scores.mix_chen,
        surrogate=closed_forms.mix_chen,
        k_le_n=True,
    ),
    ShaperEntry(
        name="mix_direct",
        summary="mix of GRPO_K and GRPO, weighted by ρ̂",
        paper=THIS_PAPER,
        equation="Eq. (24)",
        formula="A± = (1−ρ̂+ρ̂·f̂±_{K−1})·A±_GRPO",
        unbiased=False,
        binary_only=True,
        params=(K,),
        scores=scores.mix_direct,
        surrogate=closed_forms.mix_direct,
        k_le_n=True,
    ),
    ShaperEntry(
        name="biased_k",
        summary="biased Pass@K scaling (1 − ρ̂)^(K−1) of GRPO; any K, also K > N",
        paper="Mahdavi et al. 2025",
        equation="Eq. (36), App. C.3",
        formula="A± = (1−ρ̂)^{K−1}·A±_GRPO",
        unbiased=False,
        binary_only=True,
        params=(K,),
        scores=scores.biased_k,
        surrogate=closed_forms.biased_k,
    ),
    ShaperEntry(
        name="entropy",
        summary="entropy-regularised GRPO: surrogate 2·arcsin√ρ + λ·H(ρ)",
        paper=THIS_PAPER,
        equation="Eq. (26), App. B.5",
        formula="A± = [1 + λ·√(ρ̂(1−ρ̂))·log((1−ρ̂)/ρ̂)]·A±_GRPO",
        unbiased=False,
        binary_only=True,
        params=(Param("lam", float, REQUIRED, "regularisation strength λ ≥ 0", real(0)),),
        scores=scores.entropy,
        surrogate=closed_forms.entropy,
    ),
    ShaperEntry(
        name="pkpo",
        summary="PKPO: mean max-reward over k-subsets, leave-one-out baseline; continuous rewards too",
        paper="Walder & Karkhanis 2025",
        equation="Eq. (37), App. C.4; PKPO",
        formula=(
            "s̄_i = mean over k-subsets ∋ i of max r; A = s̄ − b with b = 0 (none), "
            "N/(N−1)·ρ̂₋ᵢ(k) (loo, PKPO's s^(loo), Eq. 29), ρ̂₋ᵢ(k) (loo_unscaled) or the mean max "
            "over (k−1)-subsets of the others (loo_minus_one); PKPO's s = (k/N)·A: the constant "
            "k/N is dropped"
        ),
        unbiased=True,
        binary_only=False,
        params=(
            K,
            Param(
                "baseline", str, "loo_minus_one", "variance-reduction baseline", OneOf(BASELINES)
            ),
        ),
        scores=scores.pkpo,
        surrogate=closed_forms.pkpo,
        generic=continuous.pkpo,
        min_n=lambda p: int(p["k"]) + 1 if p.get("baseline") in ("loo", "loo_unscaled") else 1,
        k_le_n=True,
    ),
    # --- published after the paper (issue 12) ---------------------------------------------
    ShaperEntry(
        name="maxrl",
        summary="MaxRL: successes' mean score-function, mean-centred; ascends log ρ (max. likelihood)",
        paper="Tajwar et al. 2026 (MaxRL), arXiv 2602.02710",
        equation="Maclaurin objective −Σ_k fail@k/k = log ρ (eq. no. unchecked)",
        formula="A⁺ = (1−ρ̂)/ρ̂, A⁻ = −1; 0 if N⁺ = 0",
        unbiased=False,
        binary_only=True,
        params=(),
        scores=recent.maxrl,
        surrogate=recent.maxrl_surrogate,
    ),
    ShaperEntry(
        name="w_reinforce",
        summary="Weighted-REINFORCE: λ·PSR + NSR (down-weighted positive samples)",
        paper="Zhu et al. 2025, arXiv 2506.01347",
        equation="Sec. 5 (W-REINFORCE objective)",
        formula="A⁺ = λ, A⁻ = −1",
        unbiased=True,
        binary_only=True,
        params=(Param("lam", float, 0.1, "weight λ ≥ 0 of the positive samples", real(0)),),
        scores=recent.w_reinforce,
        surrogate=lambda rho, lam=0.1: recent.two_level_surrogate(rho, lam, 1.0),
    ),
    ShaperEntry(
        name="nsr",
        summary="NSR: negative sample reinforcement only (penalise wrong responses)",
        paper="Zhu et al. 2025, arXiv 2506.01347",
        equation="Sec. 3 (L_NSR)",
        formula="A⁺ = 0, A⁻ = −1",
        unbiased=True,
        binary_only=True,
        params=(),
        scores=recent.nsr,
        surrogate=lambda rho: recent.two_level_surrogate(rho, 0.0, 1.0),
    ),
    ShaperEntry(
        name="psr",
        summary="PSR: positive sample reinforcement only (= REINFORCE on 0/1 rewards)",
        paper="Zhu et al. 2025, arXiv 2506.01347",
        equation="Sec. 3 (L_PSR)",
        formula="A⁺ = 1, A⁻ = 0",
        unbiased=True,
        binary_only=True,
        params=(),
        scores=recent.psr,
        surrogate=lambda rho: recent.two_level_surrogate(rho, 1.0, 0.0),
    ),
    ShaperEntry(
        name="grpo_passk",
        summary="verl's grpo_passk: only the best response, (r_max − r_second)/(σ + ε); ascends Pass@N",
        paper="Tang et al. 2025, arXiv 2503.19595; verl",
        equation="verl compute_grpo_passk_outcome_advantage",
        formula="A⁺ = [N⁺ = 1]/(σ̂_sample + ε), σ̂_sample = 1/√N; A⁻ = 0",
        unbiased=False,
        binary_only=False,
        params=(
            Param(
                "std",
                str,
                "sample",
                "divide by the sample std (verl's norm_adv_by_std_in_grpo) or not",
                OneOf(("sample", "none")),
            ),
            Param("eps", float, 1e-6, "added to the std before dividing", real(0)),
        ),
        scores=recent.grpo_passk,
        generic=continuous.grpo_passk,
        min_n=lambda p: 2,
    ),
    # --- the 2026 families (issue 17) -----------------------------------------------------
    ShaperEntry(
        name="maclaurin",
        summary="MaxRL's order-T Maclaurin estimator: ascends Σ_{k≤T} Pass@k/k exactly",
        paper=MAXRL,
        equation="Maclaurin objective log ρ = −Σ_k fail@k/k truncated at T; code maclaurin_weights",
        formula=(
            "A⁺ = 1, A⁻ = −Σ_{k=2}^{min(T,N⁻)} C(N⁻−1,k−1)/C(N−1,k−1) "
            "= −(N⁻−1)/(N⁺+1)·[1 − C(N⁻−2,T−1)/C(N−1,T−1)]; the code's weights × N"
        ),
        unbiased=True,
        binary_only=True,
        params=(ORDER,),
        scores=maclaurin.maclaurin,
        surrogate=maclaurin.maclaurin_surrogate,
    ),
    ShaperEntry(
        name="maclaurin_loo",
        summary="MaxRL's Maclaurin estimator, leave-one-out subset baseline (biased at finite N)",
        paper=MAXRL,
        equation="code maclaurin_weights_loo (verl estimator maclaurin_baseline)",
        formula=(
            "A⁺ = 1 + Q, A⁻ = Q·(1 − N/N⁻) − [T ≥ N][N⁻ = N], "
            "Q = Σ_{k=2}^{min(T,N−1)} C(N⁻,k)/(C(N,k) − 1)"
        ),
        unbiased=False,
        binary_only=True,
        params=(ORDER,),
        scores=maclaurin.maclaurin_loo,
        surrogate=maclaurin.maclaurin_surrogate,
    ),
    ShaperEntry(
        name="maclaurin_cross_fitted",
        summary="MaxRL's Maclaurin estimator, cross-fitted (disjoint-subset) baseline: unbiased",
        paper=MAXRL,
        equation="code maclaurin_weights_cross_fitted (paper Eqs. (81)–(86) per the code)",
        formula=(
            "maclaurin's A± + baseline Σ_{k=2}^{min(T,⌊N/2⌋)} of the others' Fail@k: "
            "A⁺ += Σ C(N⁻,k)/C(N−1,k), A⁻ += Σ C(N⁻−1,k)/C(N−1,k)"
        ),
        unbiased=True,
        binary_only=True,
        params=(ORDER,),
        scores=maclaurin.maclaurin_cross_fitted,
        surrogate=maclaurin.maclaurin_surrogate,
    ),
    ShaperEntry(
        name="p_normalization",
        summary="MaxRL's p-normalisation (r − ρ̂)/(ρ̂ + ε): maxrl with the code's ε",
        paper=MAXRL,
        equation="code compute_p_normalization_outcome_advantage",
        formula="A⁺ = (1−ρ̂)/(ρ̂+ε), A⁻ = −ρ̂/(ρ̂+ε); 0 if N⁺ = 0",
        unbiased=False,
        binary_only=True,
        params=(Param("eps", float, 1e-6, "ε added to ρ̂ (0: maxrl)", real(0)),),
        scores=maclaurin.p_normalization,
        surrogate=maclaurin.p_normalization_surrogate,
    ),
    ShaperEntry(
        name="clipped_pnorm",
        summary="MaxRL's clipped p-normalisation (r − ρ̂)/max(ρ̂, c)",
        paper=MAXRL,
        equation="code compute_clipped_pnorm_outcome_advantage (its extra 1/N dropped)",
        formula="A⁺ = (1−ρ̂)/max(ρ̂,c), A⁻ = −ρ̂/max(ρ̂,c); 0 if N⁺ = 0",
        unbiased=False,
        binary_only=True,
        params=(Param("floor", float, 0.125, "the clip c of ρ̂ (0: maxrl)", real(0)),),
        scores=maclaurin.clipped_pnorm,
        surrogate=maclaurin.clipped_pnorm_surrogate,
    ),
    ShaperEntry(
        name="one_sided_grpo",
        summary="MaxRL code's one-sided GRPO (r − ρ̂)/(√ρ̂ + ε): surrogate 2√ρ",
        paper=MAXRL,
        equation="code compute_one_sided_grpo_outcome_advantage",
        formula="A⁺ = (1−ρ̂)/(√ρ̂+ε), A⁻ = −ρ̂/(√ρ̂+ε); 0 if N⁺ = 0",
        unbiased=False,
        binary_only=True,
        params=(Param("eps", float, 1e-6, "ε added to √ρ̂", real(0)),),
        scores=maclaurin.one_sided_grpo,
        surrogate=maclaurin.one_sided_grpo_surrogate,
    ),
    ShaperEntry(
        name="linear_r",
        summary="Linear-R: ω = 1/ρ̂, signal on all-wrong groups; unbiased for Σ_{k≤N} Pass@k/k",
        paper=HECKEL,
        equation="Linear-R (eq. no. unchecked); = MaxRL code's vr_cond",
        formula="A = (r−ρ̂)/ρ̂: A⁺ = (1−ρ̂)/ρ̂, A⁻ = −1, also if N⁺ = 0",
        unbiased=True,
        binary_only=True,
        params=(),
        scores=weighting.linear_r,
        surrogate=weighting.linear_r_surrogate,
    ),
    ShaperEntry(
        name="sqrt_r",
        summary="Sqrt-R: ω = 1/(ρ̂√(1−ρ̂)), effective-time optimal weight; signal on all-wrong groups",
        paper=HECKEL,
        equation="Sqrt-R (eq. no. unchecked)",
        formula="A⁺ = √(1−ρ̂)/ρ̂, A⁻ = −1/√(1−ρ̂), also if N⁺ = 0 (A⁻ = −1)",
        unbiased=False,
        binary_only=True,
        params=(),
        scores=weighting.sqrt_r,
        surrogate=weighting.sqrt_r_surrogate,
    ),
    ShaperEntry(
        name="focal",
        summary="F-GRPO: GRPO times the focal factor (1 − ρ̂)^γ, any real γ ≥ 0",
        paper="Plyusov et al. 2026 (F-GRPO), arXiv 2602.06717",
        equation="Sec. 4 (focal weighting; eq. no. unchecked)",
        formula="A± = (1−ρ̂)^γ·A±_GRPO (γ = K − 1: biased_k)",
        unbiased=False,
        binary_only=True,
        params=(Param("gamma", float, REQUIRED, "the focal exponent γ ≥ 0", real(0)),),
        scores=weighting.focal,
        surrogate=weighting.focal_surrogate,
    ),
    ShaperEntry(
        name="maxpo",
        summary="max@K, leave-two-out baseline: unbiased, centred; continuous rewards too",
        paper="Takashiro et al. 2026 (MaxPO), arXiv 2606.06080",
        equation="L2O baseline (reconstructed from the abstract; = pkpo:baseline=loo_unscaled)",
        formula=(
            "A = s̄ − ρ̂₋ᵢ(k): s̄ the mean max over k-subsets ∋ i, ρ̂₋ᵢ(k) the others' max@k; "
            "Σ_i A_i = 0"
        ),
        unbiased=True,
        binary_only=False,
        params=(K,),
        scores=maxpo.maxpo,
        surrogate=maxpo.maxpo_surrogate,
        generic=maxpo.maxpo_continuous,
        min_n=lambda p: int(p["k"]) + 1,
        k_le_n=True,
    ),
)

_REGISTRY: dict[str, ShaperEntry] = {e.name: e for e in _ENTRIES}

# Shapers built above the core, by the function named here (module, attribute), imported on
# first use. The core parses their specs like any other, so every spec form works in
# advshape.shaper, in unpickling and on the command line alike, while the core's imports stay
# one-way (core -> surrogates, never back) and SymPy loads only when a surrogate is built.
# tests/test_bad_input.py checks that no core module imports a layer above it and that this
# table is the only place the core names one.
_BUILDERS: dict[str, tuple[str, str]] = {
    SURROGATE: ("advshape.surrogates.forward", "from_surrogate")
}


def registry() -> Mapping[str, ShaperEntry]:
    """The registry table, name -> :class:`ShaperEntry` (a copy: changing it changes nothing).

    Returns:
        Every registered shaper's entry, in table order.

    Example:
        >>> import advshape
        >>> advshape.registry()["grpo_k"].equation
        'Eqs. (16)–(17)'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1 lists the paper's shapers).
    """
    return dict(_REGISTRY)


def names() -> tuple[str, ...]:
    """Names of every registered shaper, in table order.

    Returns:
        The names, as :func:`shaper` accepts them.

    Example:
        >>> import advshape
        >>> advshape.names()[:3]
        ('reinforce', 'rloo', 'grpo')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    return tuple(_REGISTRY)


def register(entry: ShaperEntry) -> None:
    """Add a shaper to the registry (for shapers defined outside the table).

    Args:
        entry: the new row; its name must be new, and not ``"surrogate"``, which names
            forward-engineered shapers in specs.

    Raises:
        ValueError: the name is taken.

    Example:
        >>> import advshape
        >>> advshape.register(advshape.registry()["rloo"]._replace(name="rloo"))
        Traceback (most recent call last):
        ...
        ValueError: a shaper named 'rloo' is already registered

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    if entry.name in _REGISTRY or entry.name in _BUILDERS:
        raise ValueError(f"a shaper named {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry


def lookup(name: str) -> ShaperEntry:
    """The entry named ``name``; an unknown name raises ``ValueError`` suggesting close ones."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown shaper {name!r}{hint} (known: {', '.join(_REGISTRY)})")


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """A spec's name and parameters: ``"grpo_k:k=4,eps=0.1"`` -> ``("grpo_k", {"k": 4, "eps": 0.1})``.

    Reads every form :func:`shaper` accepts (grammar in :mod:`advshape._src.spec`): registry
    specs, with schedules kept as text (``"grpo_k:k=linear(16,1)"`` -> ``("grpo_k", {"k":
    "linear(16,1)"})``), and both surrogate forms, which give the name ``"surrogate"`` and the
    keyword arguments of ``advshape.from_surrogate``. Nothing is checked against the registry.

    Args:
        spec: the spec text.

    Returns:
        ``(name, params)``, values typed by look.

    Raises:
        ValueError: the text does not follow the grammar.

    Example:
        >>> import advshape
        >>> advshape.parse_spec("grpo_k:k=4,eps=0.1")
        ('grpo_k', {'k': 4, 'eps': 0.1})
        >>> advshape.parse_spec("surrogate:2*asin(sqrt(rho))")
        ('surrogate', {'F': '2*asin(sqrt(rho))'})

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 1.2, C-2: shapers from surrogates).
    """
    return _parse_text(spec)


def check_param(shaper_name: str, p: Param, value: Any) -> Any:
    """``value`` checked against the parameter's type and range, as that type (int, float, str).

    Raises ``ValueError`` naming the shaper and the parameter."""
    where = f"shaper {shaper_name!r} parameter {p.name!r}"
    if p.kind is int:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{where} must be an integer, got {value!r} ({type(value).__name__})")
        value = int(value)
    elif p.kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ValueError(f"{where} must be a number, got {value!r} ({type(value).__name__})")
        value = float(value)
        if p.check is None and (value != value or value in (float("inf"), float("-inf"))):
            raise ValueError(f"{where} must be finite, got {value!r}")
    elif p.kind is str and not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {value!r}")
    if p.check is not None:
        p.check.check(where, value)
    return value


def resolve_params(entry: ShaperEntry, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check names, types and ranges of ``given`` against the entry; fill defaults."""
    known = {p.name: p for p in entry.params}
    unknown = [k for k in given if k not in known]
    if unknown:
        valid = ", ".join(p.name for p in entry.params) or "none"
        raise ValueError(
            f"shaper {entry.name!r} has no parameter {unknown[0]!r} (its parameters: {valid})"
        )
    resolved: dict[str, Any] = {}
    for p in entry.params:
        if p.name in given:
            resolved[p.name] = check_param(entry.name, p, given[p.name])
        elif p.default is REQUIRED:
            raise ValueError(
                f"shaper {entry.name!r} needs parameter {p.name!r} ({p.doc}), e.g. "
                f"'{entry.name}:{p.name}={4 if p.kind is int else 0.5}'"
            )
        else:
            resolved[p.name] = p.default
    return resolved


def canonical_spec(entry: ShaperEntry, params: Mapping[str, Any]) -> str:
    """The spec string that rebuilds this shaper: name plus non-default parameters."""
    return format_spec(
        entry.name, [(p.name, params[p.name]) for p in entry.params if params[p.name] != p.default]
    )


def is_schedule(value: Any) -> bool:
    """Whether a parameter value is a schedule (a :class:`Schedule` or text ``KIND(...)``)."""
    return isinstance(value, Schedule) or is_schedule_text(value)


def given_params(
    spec: str, defaults: Mapping[str, Any] | None, params: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The name and the parameters a call gives: the spec's, the keywords (never both for
    one parameter), and ``defaults`` for the entry's parameters that neither gives."""
    name, from_spec = _parse_text(spec)
    both = set(from_spec) & set(params)
    if both:
        raise ValueError(f"parameter {sorted(both)[0]!r} given both in the spec and as a keyword")
    given = {**from_spec, **params}
    if defaults and name not in _BUILDERS:
        takes = {p.name for p in lookup(name).params}
        given.update({k: v for k, v in defaults.items() if k in takes and k not in given})
    return name, given


def build(name: str, given: Mapping[str, Any], text: str | None = None) -> Shaper:
    """The shaper ``name`` with the parameters ``given`` (no schedules: those are built by
    ``advshape.scheduled``); ``text`` is the spec as the caller wrote it, for messages."""
    if name in _BUILDERS:
        return _build_above(name, given)
    entry = lookup(name)
    scheduled_names = [k for k, v in given.items() if is_schedule(v)]
    if scheduled_names:
        text = text or format_spec(name, given.items())
        raise ValueError(
            f"shaper {text!r} follows a schedule ({', '.join(scheduled_names)}), so it is not one "
            f"shaper: build it with advshape.scheduled({text!r}), whose .at(step, total_steps) "
            "is the shaper of one step"
        )
    resolved = resolve_params(entry, given)
    info = ShaperInfo(
        summary=entry.summary,
        paper=entry.paper,
        equation=entry.equation,
        formula=entry.formula,
        target_k=entry.target_k(resolved),
        unbiased=entry.unbiased,
        binary_only=entry.binary_only,
        count_based=True,
        min_n=entry.min_n(resolved),
        k_le_n=entry.k_le_n,
    )
    spec = canonical_spec(entry, resolved)
    return count_shaper(
        entry.name,
        partial(entry.scores, **resolved),
        params=resolved,
        spec=spec,
        info=info,
        generic=partial(entry.generic, **resolved) if entry.generic is not None else None,
        surrogate=partial(entry.surrogate, **resolved) if entry.surrogate is not None else None,
        rebuild=(shaper, spec),  # pickles as its canonical spec
    )


def built_above(name: str) -> bool:
    """Whether specs named ``name`` are built above the core (``"surrogate"``)."""
    return name in _BUILDERS


def _build_above(name: str, given: Mapping[str, Any]) -> Shaper:
    """A shaper whose builder lives above the core (see ``_BUILDERS``)."""
    unknown = [k for k in given if k not in SURROGATE_KEYS]
    if is_schedule(given.get("lam")):  # F and Ω are expressions, which may look like f(...)
        raise ValueError(
            "a surrogate shaper's lam cannot follow a schedule; schedules are for registry "
            "shapers' numeric parameters such as k"
        )
    if unknown:
        raise ValueError(
            f"a surrogate shaper has no parameter {unknown[0]!r} (its parameters: "
            f"{', '.join(SURROGATE_KEYS)}), e.g. 'surrogate:2*asin(sqrt(rho));"
            "regularizer=rho*(1-rho);lam=0.5'"
        )
    if "F" not in given:
        raise ValueError(
            "a surrogate shaper needs its surrogate F, e.g. 'surrogate:2*asin(sqrt(rho))' or "
            "'F=2*asin(sqrt(rho))'"
        )
    module, attribute = _BUILDERS[name]
    rest = {k: v for k, v in given.items() if k != "F"}
    built: Shaper = getattr(importlib.import_module(module), attribute)(given["F"], **rest)
    return built


def shaper(
    spec: str | Shaper, /, *, defaults: Mapping[str, Any] | None = None, **params: Any
) -> Shaper:
    """The shaper a spec names: ``advshape.shaper("grpo_k:k=4")`` = ``advshape.shaper("grpo_k", k=4)``.

    Every spec form of the command line is read (grammar in :mod:`advshape._src.spec`):
    registry specs, ``surrogate:F[;regularizer=Ω][;lam=λ][;name=NAME]`` and
    ``F=F[;Omega=Ω][;lam=λ]``, the last two forward-engineered by ``advshape.from_surrogate``
    (A± = [F'(ρ̂) + λΩ'(ρ̂)]·A±_RLOO, paper Sec. 1.2 and Eq. 2; SymPy is loaded then). The
    result pickles as its canonical spec (``.spec``; for a surrogate, its ``surrogate:`` text).

    Args:
        spec: a spec string, or a :class:`Shaper` (returned unchanged).
        defaults: values for parameters the shaper takes but neither the spec nor the
            keywords give, e.g. ``defaults={"k": 8}`` (a testbed's K); ignored otherwise.
        **params: parameters, as in the spec (each given once, here or there).

    Returns:
        A :class:`Shaper`, always. A spec whose parameter follows a schedule
        (``"grpo_k:k=linear(16,1)"``) is not one shaper: ``advshape.scheduled(spec)`` builds it.

    Raises:
        ValueError: unknown names (the closest are suggested), unknown, missing, ill-typed or
            out-of-range parameters, a schedule, or a spec that does not parse.

    Example:
        >>> import advshape
        >>> s = advshape.shaper("grpo_k:k=4")
        >>> s.spec, s.info.target_k
        ('grpo_k:k=4', 4)
        >>> [round(float(a), 6) for a in s.scores(2, 8)]  # N⁺ = 2 of N = 8
        [0.989743, -0.164957]
        >>> advshape.shaper("rloo_k", defaults={"k": 8}).spec
        'rloo_k:k=8'
        >>> advshape.shaper("grpo_k:k=linear(16,1)")
        Traceback (most recent call last):
        ...
        ValueError: shaper 'grpo_k:k=linear(16,1)' follows a schedule (k), so it is not one shaper: build it with advshape.scheduled('grpo_k:k=linear(16,1)'), whose .at(step, total_steps) is the shaper of one step

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1; Sec. 1.2 for surrogates).
    """
    if isinstance(spec, Shaper):
        if params:
            raise ValueError("parameters cannot be given with an already-built Shaper")
        return spec
    if not isinstance(spec, str):
        raise ValueError(
            f"advshape.shaper takes a spec string such as 'grpo_k:k=4' or an advshape.Shaper, got "
            f"{type(spec).__name__}; a ScheduledShaper's shaper of one step is .at(step, total_steps)"
        )
    name, given = given_params(spec, defaults, params)
    return build(name, given, spec if not params else None)
