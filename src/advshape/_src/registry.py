"""The registry: one table row per shaper, read by the API, the CLI, the README and the tests.

Adding a shaper is adding one :class:`ShaperEntry` to ``_ENTRIES``: its score function, its
parameters and its metadata. ``advshape.shaper("grpo_k:k=4")`` parses a spec string,
validates the parameters against the entry and builds the :class:`Shaper`.

A numeric parameter may instead carry a schedule over the training run, ``"grpo_k:k=
linear(16,1)"`` or ``"rloo_k:k=steps(8@1,4@51,1@101)"`` (grammar and resolution rule in
``advshape._src.schedule``); ``shaper`` then returns a :class:`ScheduledShaper` whose
``.at(step, total_steps)`` is the :class:`Shaper` of one step, and :func:`scheduled` turns any
spec or shaper into one (constant when nothing is scheduled), which is how trainers use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple, cast

import numpy as np

from advshape._src import closed_forms, continuous, maclaurin, maxpo, recent, scores, weighting
from advshape._src.pkpo import BASELINES
from advshape._src.schedule import Schedule, ScheduledShaper, is_schedule_text
from advshape._src.shaper import Shaper, ShaperInfo, count_shaper, set_rebuild

__all__ = [
    "REQUIRED",
    "Param",
    "ShaperEntry",
    "fixed_shaper",
    "names",
    "parse_spec",
    "registry",
    "scheduled",
    "shaper",
]

THIS_PAPER = "Advantage Shaping as Surrogate Reward Maximization (2025)"


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class Param(NamedTuple):
    """A shaper parameter: name, Python type, default (or REQUIRED), doc, constraints."""

    name: str
    kind: type
    default: Any
    doc: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None


class ShaperEntry(NamedTuple):
    """One row of the registry."""

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


K = Param("k", int, REQUIRED, "the K of the Pass@K target", minimum=1)
# MaxRL's truncation order; the paper's letter (the spec reads maclaurin:T=8)
ORDER = Param("T", int, REQUIRED, "the Maclaurin truncation order T (1: REINFORCE)", minimum=1)
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
                choices=("population", "sample"),
            ),
            Param("eps", float, 0.0, "added to the std before dividing", minimum=0.0),
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
        params=(Param("lam", float, REQUIRED, "regularisation strength λ ≥ 0", minimum=0.0),),
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
                "baseline", str, "loo_minus_one", "variance-reduction baseline", choices=BASELINES
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
        params=(Param("lam", float, 0.1, "weight λ ≥ 0 of the positive samples", minimum=0.0),),
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
                choices=("sample", "none"),
            ),
            Param("eps", float, 1e-6, "added to the std before dividing", minimum=0.0),
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
        params=(Param("eps", float, 1e-6, "ε added to ρ̂ (0: maxrl)", minimum=0.0),),
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
        params=(Param("floor", float, 0.125, "the clip c of ρ̂ (0: maxrl)", minimum=0.0),),
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
        params=(Param("eps", float, 1e-6, "ε added to √ρ̂", minimum=0.0),),
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
        params=(Param("gamma", float, REQUIRED, "the focal exponent γ ≥ 0", minimum=0.0),),
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


def registry() -> Mapping[str, ShaperEntry]:
    """The registry table, name -> :class:`ShaperEntry` (read-only view)."""
    return dict(_REGISTRY)


def names() -> tuple[str, ...]:
    """Names of every registered shaper, in table order."""
    return tuple(_REGISTRY)


def register(entry: ShaperEntry) -> None:
    """Add a shaper to the registry (used for shapers defined outside this table)."""
    if entry.name in _REGISTRY:
        raise ValueError(f"a shaper named {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry


def _lookup(name: str) -> ShaperEntry:
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown shaper {name!r}{hint} (known: {', '.join(_REGISTRY)})")


def _parse_value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text.strip()


def _split_top_level(text: str, spec: str) -> list[str]:
    """Split at the commas outside parentheses: a schedule ``linear(16,1)`` is one value."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in shaper spec {spec!r}")
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced '(' in shaper spec {spec!r}: close the schedule with ')'")
    items.append(text[start:])
    return items


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"grpo_k:k=4,eps=0.1"`` -> ``("grpo_k", {"k": 4, "eps": 0.1})`` (values typed by look).

    A value may be a schedule, ``"grpo_k:k=linear(16,1)"`` -> ``("grpo_k", {"k":
    "linear(16,1)"})`` (kept as text; :func:`shaper` parses it, see ``advshape._src.schedule``).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(
            f"a shaper spec must be a non-empty string like 'grpo_k:k=4', got {spec!r}"
        )
    name, _, rest = spec.strip().partition(":")
    params: dict[str, Any] = {}
    if rest.strip():
        for item in _split_top_level(rest, spec):
            key, eq, value = item.partition("=")
            if not eq or not key.strip() or not value.strip():
                raise ValueError(
                    f"cannot parse {item!r} in shaper spec {spec!r}: write parameters as key=value, "
                    "comma-separated, e.g. 'grpo_k:k=4' or 'grpo:std=sample,eps=1e-6'"
                )
            if key.strip() in params:
                raise ValueError(f"parameter {key.strip()!r} given twice in shaper spec {spec!r}")
            params[key.strip()] = _parse_value(value)
    return name.strip(), params


def _coerce(entry: ShaperEntry, p: Param, value: Any) -> Any:
    where = f"shaper {entry.name!r} parameter {p.name!r}"
    if p.kind is int:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{where} must be an integer, got {value!r} ({type(value).__name__})")
        value = int(value)
    elif p.kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ValueError(f"{where} must be a number, got {value!r} ({type(value).__name__})")
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{where} must be finite, got {value!r}")
    elif p.kind is str and not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {value!r}")
    if p.choices and value not in p.choices:
        raise ValueError(f"{where} must be one of {', '.join(map(repr, p.choices))}, got {value!r}")
    if p.minimum is not None and value < p.minimum:
        raise ValueError(f"{where} must be >= {p.minimum:g}, got {value!r}")
    return value


def resolve_params(entry: ShaperEntry, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check names and types of ``given`` against the entry; fill defaults."""
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
            resolved[p.name] = _coerce(entry, p, given[p.name])
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
    items = [f"{p.name}={params[p.name]}" for p in entry.params if params[p.name] != p.default]
    return entry.name + (":" + ",".join(items) if items else "")


def _scheduled_shaper(entry: ShaperEntry, given: Mapping[str, Any]) -> ScheduledShaper:
    """A :class:`ScheduledShaper`: the schedules parsed, every value they reach checked."""
    known = {p.name: p for p in entry.params}
    schedules: dict[str, Schedule] = {}
    integer: dict[str, bool] = {}
    for key, value in given.items():
        if not (isinstance(value, Schedule) or is_schedule_text(value)) or key not in known:
            continue  # unknown names are reported by resolve_params below
        p = known[key]
        if p.kind not in (int, float):
            raise ValueError(
                f"shaper {entry.name!r} parameter {key!r} is a {p.kind.__name__} and cannot "
                f"follow a schedule; schedules are for numeric parameters such as k"
            )
        try:
            schedule = Schedule.parse(value)
        except ValueError as err:
            raise ValueError(f"shaper {entry.name!r} parameter {key!r}: {err}") from err
        integer[key] = p.kind is int
        for point in schedule.points:
            if integer[key] and point.value.denominator != 1:
                raise ValueError(
                    f"shaper {entry.name!r} parameter {key!r} is an integer, but schedule "
                    f"{str(schedule)!r} has the value {float(point.value):g}"
                )
            try:
                _coerce(entry, p, int(point.value) if integer[key] else float(point.value))
            except ValueError as err:
                raise ValueError(f"{err}, in schedule {str(schedule)!r}") from err
        schedules[key] = schedule
    # The other parameters, checked with the schedules at their first point's values.
    first = {
        k: int(s.points[0].value) if integer[k] else float(s.points[0].value)
        for k, s in schedules.items()
    }
    resolved = resolve_params(entry, {**given, **first})
    params = {**resolved, **schedules}
    return ScheduledShaper(
        name=entry.name,
        spec=canonical_spec(entry, params),
        params=params,
        schedules=schedules,
        integer=integer,
        # every value reaching build is a number, never a schedule: it builds a plain Shaper
        build=cast(Callable[..., Shaper], partial(shaper, entry.name)),
    )


def fixed_shaper(spec: str | Shaper, **params: Any) -> Shaper:
    """:func:`shaper` where one fixed :class:`Shaper` is needed (tables, figures, checks of a
    registry spec): a spec with a schedule raises ``ValueError`` (resolve a step first)."""
    built = shaper(spec, **params)
    if isinstance(built, ScheduledShaper):
        raise ValueError(
            f"shaper {built.spec!r} follows a schedule, so it has no single set of parameters: "
            f"resolve one step first, e.g. advshape.shaper({built.spec!r}).at(1, 100)"
        )
    return built


def scheduled(spec: str | Shaper | ScheduledShaper, **params: Any) -> ScheduledShaper:
    """Any shaper or spec as a :class:`ScheduledShaper`: what a trainer resolves per step.

    A spec with a schedule (``"grpo_k:k=linear(16,1)"``) gives its scheduled shaper; a fixed
    spec or :class:`Shaper` gives a constant one, whose ``.at(step, total)`` is that shaper.
    """
    if isinstance(spec, ScheduledShaper):
        if params:
            raise ValueError("parameters cannot be given with an already-built ScheduledShaper")
        return spec
    built = shaper(spec, **params)
    if isinstance(built, ScheduledShaper):
        return built
    return ScheduledShaper(
        name=built.name,
        spec=built.spec,
        params=built.params,
        schedules={},
        integer={},
        build=None,
        fixed=built,
    )


def shaper(spec: str | Shaper | ScheduledShaper, **params: Any) -> Shaper | ScheduledShaper:
    """Build a registered shaper from its name and parameters.

    ``advshape.shaper("grpo_k", k=4)`` and ``advshape.shaper("grpo_k:k=4")`` are the same.
    A :class:`Shaper` passes through unchanged. Unknown names suggest the closest ones;
    unknown, missing or ill-typed parameters raise ``ValueError``.

    A numeric parameter may follow a schedule over the training run, ``"grpo_k:k=linear(16,1)"``
    or ``advshape.shaper("rloo_k", k="steps(8@1,4@51,1@101)")``; the result is then a
    :class:`ScheduledShaper`, whose ``.at(step, total_steps)`` is the shaper of one step (see
    ``advshape._src.schedule`` for the grammar and the exact resolution rule).
    """
    if isinstance(spec, Shaper | ScheduledShaper):
        if params:
            raise ValueError("parameters cannot be given with an already-built Shaper")
        return spec
    name, from_spec = parse_spec(spec)
    both = set(from_spec) & set(params)
    if both:
        raise ValueError(f"parameter {sorted(both)[0]!r} given both in the spec and as a keyword")
    entry = _lookup(name)
    given = {**from_spec, **params}
    if any(isinstance(v, Schedule) or is_schedule_text(v) for v in given.values()):
        return _scheduled_shaper(entry, given)
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
    built = count_shaper(
        entry.name,
        partial(entry.scores, **resolved),
        params=resolved,
        spec=canonical_spec(entry, resolved),
        info=info,
        generic=partial(entry.generic, **resolved) if entry.generic is not None else None,
        surrogate=partial(entry.surrogate, **resolved) if entry.surrogate is not None else None,
    )
    return set_rebuild(built, shaper, built.spec)  # pickles as its spec string
