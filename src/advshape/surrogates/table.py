"""Table 1 of the paper, computed from the registry and checked.

For each shaper: its advantage scores (the registry's formula), its weighted empirical gradient
w⁺∇̂₊ − w⁻∇̂₋ (the paper's middle column, ignoring constant factors), its population surrogate
(the registry's closed form). Two columns are checked, not just printed:

- *weights*: the middle column, evaluated at N = 16 for every N⁺, is proportional to the
  registry's ``shaper.weights`` (one constant per shaper, e.g. RLOO's N/(N − 1)); reported is
  the worst relative deviation from proportionality;
- *surrogate*: the closed form vs the reverse-engineered surrogate (from the score function
  alone), both normalised to F(0) = 0, F(1) = 1, on a ρ grid including the ends.

The paper's Table 1 GRPO row prints √((1−ρ̂)/ρ) and √(ρ̂/(1−ρ)); the denominators are ρ̂
(Eq. 8), which is what the registry implements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from advshape._src.closed_forms import FORMULAS
from advshape._src.combinatorics import loo_fail_weights, pass_estimate
from advshape._src.registry import shaper
from advshape.surrogates.reverse import reverse_engineer
from advshape.surrogates.verify import sup_normalised_error

__all__ = ["TableRow", "compute_table", "render_markdown", "render_text"]

Weights = Callable[[np.ndarray, int, int], tuple[np.ndarray, np.ndarray]]


def _sigma(rho):
    return np.sqrt(rho * (1 - rho))


def _loo(n_pos, n, k):
    return loo_fail_weights(n_pos, n, k)


@dataclass(frozen=True)
class _Row:
    label: str
    spec: str  # with {k} where the shaper takes a K
    in_paper: bool
    weighted_gradient: str
    weights: Weights  # (N⁺ array, N, K) -> (w⁺, w⁻) as the middle column writes them


def _w(fn_pos, fn_neg) -> Weights:
    def weights(n_pos, n, k):
        rho = n_pos / n
        return fn_pos(rho, n_pos, n, k), fn_neg(rho, n_pos, n, k)

    return weights


def _same(fn) -> Weights:
    return _w(fn, fn)


# The rows: Table 1 of the paper, then the other registry shapers with a closed-form F.
_ROWS: tuple[_Row, ...] = (
    _Row("RLOO", "rloo", True, "ρ̂(1−ρ̂)[∇̂₊ − ∇̂₋]", _same(lambda r, n_pos, n, k: r * (1 - r))),
    _Row("GRPO", "grpo", True, "√(ρ̂(1−ρ̂))[∇̂₊ − ∇̂₋]", _same(lambda r, n_pos, n, k: _sigma(r))),
    _Row(
        "Skew-R",
        "skew_r",
        True,
        "(1−ρ̂)√(ρ̂(1−ρ̂))[∇̂₊ − ∇̂₋]",
        _same(lambda r, n_pos, n, k: (1 - r) * _sigma(r)),
    ),
    _Row(
        "RLOO_K",
        "rloo_k:k={k}",
        True,
        "f̂⁺ρ̂(1−ρ̂)∇̂₊ − f̂⁻ρ̂(1−ρ̂)∇̂₋",
        _w(
            lambda r, n_pos, n, k: _loo(n_pos, n, k)[0] * r * (1 - r),
            lambda r, n_pos, n, k: _loo(n_pos, n, k)[1] * r * (1 - r),
        ),
    ),
    _Row(
        "GRPO~_K (Chen et al.)",
        "grpo_k_chen:k={k}",
        True,
        "√((1−ρ̂_K)/ρ̂_K)·ρ̂[∇̂₊ − ∇̂₋]",
        _same(
            lambda r, n_pos, n, k: (
                np.sqrt(
                    (1 - pass_estimate(n_pos, n, k))
                    / np.where(n_pos > 0, pass_estimate(n_pos, n, k), 1.0)
                )
                * r
            )
        ),
    ),
    _Row(
        "GRPO_K",
        "grpo_k:k={k}",
        True,
        "f̂⁺√(ρ̂(1−ρ̂))∇̂₊ − f̂⁻√(ρ̂(1−ρ̂))∇̂₋",
        _w(
            lambda r, n_pos, n, k: _loo(n_pos, n, k)[0] * _sigma(r),
            lambda r, n_pos, n, k: _loo(n_pos, n, k)[1] * _sigma(r),
        ),
    ),
    _Row(
        "REINFORCE",
        "reinforce",
        False,
        "ρ̂∇̂₊",
        _w(lambda r, n_pos, n, k: r, lambda r, n_pos, n, k: 0 * r),
    ),
    _Row(
        "Dr. GRPO", "dr_grpo", False, "ρ̂(1−ρ̂)[∇̂₊ − ∇̂₋]", _same(lambda r, n_pos, n, k: r * (1 - r))
    ),
    _Row(
        "REINFORCE_K",
        "reinforce_k:k={k}",
        False,
        "f̂⁺ρ̂∇̂₊",
        _w(lambda r, n_pos, n, k: _loo(n_pos, n, k)[0] * r, lambda r, n_pos, n, k: 0 * r),
    ),
    _Row(
        "mix (Chen et al., Eq. 23)",
        "mix_chen:k={k}",
        False,
        "(1−ρ̂+ρ̂ω̃_K)√(ρ̂(1−ρ̂))[∇̂₊ − ∇̂₋]",
        _same(
            lambda r, n_pos, n, k: (
                (
                    1
                    - r
                    + np.sqrt(
                        (1 - pass_estimate(n_pos, n, k))
                        / np.where(n_pos > 0, pass_estimate(n_pos, n, k), 1.0)
                    )
                    * r
                    / np.sqrt(np.where(r < 1, 1 - r, 1.0))
                    * np.sqrt(r)
                )
                * _sigma(r)
            )
        ),
    ),
    _Row(
        "mix (direct, Eq. 24)",
        "mix_direct:k={k}",
        False,
        "(1−ρ̂+ρ̂f̂⁺)σ̂∇̂₊ − (1−ρ̂+ρ̂f̂⁻)σ̂∇̂₋",
        _w(
            lambda r, n_pos, n, k: (1 - r + r * _loo(n_pos, n, k)[0]) * _sigma(r),
            lambda r, n_pos, n, k: (1 - r + r * _loo(n_pos, n, k)[1]) * _sigma(r),
        ),
    ),
    _Row(
        "biased (1−ρ̂)^{K−1} (Eq. 36)",
        "biased_k:k={k}",
        False,
        "(1−ρ̂)^{K−1}√(ρ̂(1−ρ̂))[∇̂₊ − ∇̂₋]",
        _same(lambda r, n_pos, n, k: (1 - r) ** (k - 1) * _sigma(r)),
    ),
    _Row(
        "entropy-regularised (Eq. 26)",
        "entropy:lam=1",
        False,
        "[1 + λσ̂·log((1−ρ̂)/ρ̂)]·σ̂[∇̂₊ − ∇̂₋], λ = 1",
        _same(
            lambda r, n_pos, n, k: (
                (
                    1
                    + _sigma(r)
                    * np.log(np.where((r > 0) & (r < 1), (1 - r) / np.where(r > 0, r, 1.0), 1.0))
                )
                * _sigma(r)
            )
        ),
    ),
    _Row(
        "PKPO (Walder & Karkhanis, Eq. 37)",
        "pkpo:k={k},baseline=none",
        False,
        "ρ̂∇̂₊ + (1−ρ̂)(1−f̂⁻)∇̂₋",
        _w(lambda r, n_pos, n, k: r, lambda r, n_pos, n, k: -(1 - r) * (1 - _loo(n_pos, n, k)[1])),
    ),
)


@dataclass(frozen=True)
class TableRow:
    """One row of Table 1: a shaper's scores, weighted gradient and surrogate, checked.

    Attributes:
        label: the algorithm, as the paper names it.
        spec: the registry spec of the row (``"grpo_k:k=4"``).
        in_paper: whether the row is in the paper's Table 1 (else a registry shaper beyond it).
        scores: A⁺ and A⁻, the registry's formula.
        weighted_gradient: the middle column, w⁺∇̂₊ − w⁻∇̂₋ (constant factors dropped).
        surrogate: F(ρ), the registry's closed form.
        weights_error: the worst relative deviation of the middle column, evaluated at every
            N⁺ of a group of N, from proportionality to the registry's ``shaper.weights``.
        surrogate_error: sup_ρ |F − F_reverse| of the closed form and the surrogate
            reverse-engineered from the scores alone, both normalised to F(0) = 0, F(1) = 1.

    Example:
        >>> from advshape.surrogates.table import TableRow, render_text
        >>> row = TableRow("RLOO", "rloo", True, "A⁺ = N(1−ρ̂)/(N−1), A⁻ = −Nρ̂/(N−1)",
        ...                "ρ̂(1−ρ̂)[∇̂₊ − ∇̂₋]", "ρ", 0.0, 6.9e-12)
        >>> print(render_text([row], k=4, n=16).splitlines()[5])
          surrogate F(ρ)      ρ   [vs reverse-engineered: max err 6.9e-12]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1).
    """

    label: str
    spec: str
    in_paper: bool
    scores: str
    weighted_gradient: str
    surrogate: str
    weights_error: float
    surrogate_error: float


def _proportionality_error(ours: tuple, registry: tuple) -> float:
    a = np.concatenate([np.asarray(x, dtype=np.float64) for x in ours])
    b = np.concatenate([np.asarray(x, dtype=np.float64) for x in registry])
    big = np.abs(b) > 1e-12 * np.max(np.abs(b))
    if not np.any(big):
        return float(np.max(np.abs(a)))
    scale = np.median(a[big] / b[big])
    return float(np.max(np.abs(a - scale * b)) / np.max(np.abs(scale * b)))


def compute_table(k: int = 4, n: int = 16, paper_only: bool = False) -> list[TableRow]:
    """The paper's Table 1 computed from the registry, each row's middle and last column checked.

    For each shaper: the weighted gradient w⁺∇̂₊ − w⁻∇̂₋ as the paper writes it, evaluated at
    N⁺ = 0..N, is compared with the registry's ``shaper.weights`` up to one constant factor;
    the closed-form surrogate F(ρ) with the one reverse-engineered from the score function
    alone (``advshape.reverse_engineer``, both normalised). ``advshape table`` prints it.

    Args:
        k: the K of the Pass@K rows.
        n: the group size N the weights are checked at.
        paper_only: only the rows of the paper's Table 1 (else also REINFORCE, Dr. GRPO,
            REINFORCE_K, the mixes, the biased and entropy-regularised shapers and PKPO).

    Returns:
        One :class:`TableRow` per shaper, in the paper's order.

    Example:
        >>> from advshape.surrogates.table import compute_table
        >>> rows = compute_table(k=4, n=16, paper_only=True)
        >>> [row.spec for row in rows]
        ['rloo', 'grpo', 'skew_r', 'rloo_k:k=4', 'grpo_k_chen:k=4', 'grpo_k:k=4']
        >>> max(r.weights_error for r in rows) < 1e-12, max(r.surrogate_error for r in rows) < 1e-8
        (True, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1; Sec. 5.1 for the reverse-engineered surrogates); Chen et al. 2025 (GRPO~_K),
        https://arxiv.org/abs/2508.10751; Walder & Karkhanis 2025 (PKPO),
        https://arxiv.org/abs/2505.15201.
    """
    out = []
    n_pos = np.arange(n + 1)
    for row in _ROWS:
        if paper_only and not row.in_paper:
            continue
        spec = row.spec.format(k=k)
        s = shaper(spec)
        assert s.surrogate is not None and s.weights is not None  # registry shapers have both
        with np.errstate(divide="ignore", invalid="ignore"):
            ours = row.weights(n_pos, n, k)
        weights_error = _proportionality_error(ours, s.weights(n_pos, np.full(n + 1, n)))
        surrogate_error = sup_normalised_error(reverse_engineer(s), s.surrogate)
        out.append(
            TableRow(
                label=row.label,
                spec=spec,
                in_paper=row.in_paper,
                scores=s.info.formula,
                weighted_gradient=row.weighted_gradient,
                surrogate=FORMULAS[s.name],
                weights_error=weights_error,
                surrogate_error=surrogate_error,
            )
        )
    return out


def render_text(rows: list[TableRow], k: int, n: int) -> str:
    """Table 1 as plain text, four lines per row (``advshape table``).

    Args:
        rows: the rows, from :func:`compute_table`.
        k: the K they were computed with (for the heading).
        n: the N the weights were checked at (for the heading).

    Returns:
        The text, with the note on the paper's GRPO row last.

    Example:
        >>> from advshape.surrogates.table import TableRow, render_text
        >>> row = TableRow("GRPO", "grpo", True, "A⁺ = √((1−ρ̂)/ρ̂), A⁻ = −√(ρ̂/(1−ρ̂))",
        ...                "√(ρ̂(1−ρ̂))[∇̂₊ − ∇̂₋]", "2·arcsin√ρ", 2.2e-16, 2.6e-13)
        >>> print(render_text([row], k=4, n=16))
        Table 1 (K = 4; weights checked at N = 16; surrogates checked by reverse-engineering)
        <BLANKLINE>
        GRPO  (grpo)
          advantage scores    A⁺ = √((1−ρ̂)/ρ̂), A⁻ = −√(ρ̂/(1−ρ̂))
          weighted gradient   √(ρ̂(1−ρ̂))[∇̂₊ − ∇̂₋]   [∝ registry weights: max dev 2.2e-16]
          surrogate F(ρ)      2·arcsin√ρ   [vs reverse-engineered: max err 2.6e-13]
        <BLANKLINE>
        Note: the paper's GRPO row has ρ for ρ̂ in the denominators; Eq. (8) has ρ̂ (used here).

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1; Eq. 8).
    """
    lines = [
        f"Table 1 (K = {k}; weights checked at N = {n}; surrogates checked by reverse-engineering)",
        "",
    ]
    for r in rows:
        mark = "" if r.in_paper else "  [beyond Table 1]"
        lines += [
            f"{r.label}  ({r.spec}){mark}",
            f"  advantage scores    {r.scores}",
            f"  weighted gradient   {r.weighted_gradient}"
            f"   [∝ registry weights: max dev {r.weights_error:.1e}]",
            f"  surrogate F(ρ)      {r.surrogate}"
            f"   [vs reverse-engineered: max err {r.surrogate_error:.1e}]",
            "",
        ]
    lines.append(
        "Note: the paper's GRPO row has ρ for ρ̂ in the denominators; Eq. (8) has ρ̂ (used here)."
    )
    return "\n".join(lines)


def render_markdown(rows: list[TableRow], k: int, n: int) -> str:
    """Table 1 as a Markdown table, one line per row (``advshape table --markdown``).

    Args:
        rows: the rows, from :func:`compute_table`.
        k: the K they were computed with (kept for symmetry with :func:`render_text`).
        n: the N the weights were checked at (in the header).

    Returns:
        The Markdown table: a header, a rule and one line per row.

    Example:
        >>> from advshape.surrogates.table import TableRow, render_markdown
        >>> row = TableRow("RLOO", "rloo", True, "A⁺ = N(1−ρ̂)/(N−1), A⁻ = −Nρ̂/(N−1)",
        ...                "ρ̂(1−ρ̂)[∇̂₊ − ∇̂₋]", "ρ", 0.0, 6.9e-12)
        >>> print(render_markdown([row], k=4, n=16).splitlines()[2])
        | RLOO (`rloo`) | A⁺ = N(1−ρ̂)/(N−1), A⁻ = −Nρ̂/(N−1) | ρ̂(1−ρ̂)[∇̂₊ − ∇̂₋] | ρ | 0e+00 | 7e-12 |

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1).
    """
    head = (
        "| algorithm | advantage scores (A⁺, A⁻) | weighted empirical gradient | surrogate F(ρ) "
        f"| weights ∝ registry (N = {n}) | F vs reverse-engineered |\n|---|---|---|---|---|---|"
    )
    body = [
        f"| {r.label} (`{r.spec}`) | {r.scores} | {r.weighted_gradient} | {r.surrogate} "
        f"| {r.weights_error:.0e} | {r.surrogate_error:.0e} |"
        for r in rows
    ]
    return "\n".join([head, *body])
