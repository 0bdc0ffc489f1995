"""Per-group diagnostics of one batch of shaped advantages (what the trainer integrations log).

Every statistic is computed group by group (a group: the N responses to one prompt) and then
summarised over the groups; none mixes responses of different groups, so a batch of easy and
hard prompts is not mistaken for a batch of mixed groups.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from advshape._src.combinatorics import pass_at_k

__all__ = ["group_diagnostics", "pass_at_k_ladder"]


def pass_at_k_ladder(n: int) -> tuple[int, ...]:
    """The k of the logged pass@k: 1, 2, 4, …, up to n, and n itself."""
    if n < 1:
        raise ValueError(f"group size must be >= 1, got {n}")
    ks = [1 << i for i in range(n.bit_length()) if 1 << i <= n]
    return tuple(ks if ks[-1] == n else [*ks, n])


def _as_float_vector(name: str, values: Any) -> np.ndarray:
    if hasattr(values, "detach"):  # torch, without importing it
        values = values.detach().to("cpu").double().numpy()
    out = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"group_diagnostics: {name} must be finite (got NaN or inf)")
    return out


def group_diagnostics(
    rewards: ArrayLike,
    advantages: ArrayLike,
    groups: ArrayLike | None = None,
    *,
    threshold: float = 1.0,
) -> dict[str, float]:
    """Per-group statistics of one batch: rewards ``[..., N]`` (one group per row) or 1-D with
    ``groups`` (a group id per response, any order and sizes), and their advantages.

    A response counts as correct when its reward is ≥ ``threshold`` (1: a 0/1 verifier's
    pass). With G groups, group g of size N_g holding c_g correct responses:

    - ``groups``: G;
    - ``frac_all_correct`` / ``frac_all_wrong`` / ``frac_mixed``: the fractions of groups
      with c_g = N_g, c_g = 0 and 0 < c_g < N_g (they sum to 1);
    - ``frac_zero_advantage``: the fraction of responses whose advantage is exactly 0;
    - ``ess_fraction``: the effective sample size of |A| within a group relative to its size,
      ESS_g/N_g = (Σ_i |A_i|)² / (N_g · Σ_i A_i²) ∈ [1/N_g, 1] (Kish), averaged over the
      groups with a non-zero advantage; 0 when every advantage is 0;
    - ``max_abs_group_sum``: max_g |Σ_{i∈g} A_i|, 0 (to rounding) for a mean-centred shaper;
    - ``pass@k`` for k in 1, 2, 4, …, n and n (n the smallest group size): the unbiased
      estimate 1 − C(N_g − c_g, k)/C(N_g, k) (paper Eq. 11) averaged over the groups.

    Returns plain floats (NumPy float64 arithmetic). Raises ``ValueError`` for mismatched
    shapes, an empty batch or non-finite values.
    """
    r = _as_float_vector("rewards", rewards)
    a = _as_float_vector("advantages", advantages)
    if r.shape != a.shape:
        raise ValueError(
            f"group_diagnostics: rewards {r.shape} and advantages {a.shape} differ in shape"
        )
    if r.size == 0:
        raise ValueError("group_diagnostics: the batch is empty")
    if groups is None:
        if r.ndim == 0:
            raise ValueError("group_diagnostics: rewards must be [..., N] or 1-D with groups")
        n = r.shape[-1]
        ids = np.repeat(np.arange(r.size // n), n)
    else:
        ids_raw = np.asarray(groups)
        if r.ndim != 1 or ids_raw.shape != r.shape:
            raise ValueError(
                f"group_diagnostics: with groups, rewards must be 1-D and groups of the same "
                f"length (got rewards {r.shape}, groups {ids_raw.shape})"
            )
        _, ids = np.unique(ids_raw, return_inverse=True)
    r, a, ids = r.ravel(), a.ravel(), ids.ravel()
    g = int(ids.max()) + 1
    size = np.bincount(ids, minlength=g)
    correct = np.bincount(ids, weights=(r >= threshold).astype(np.float64), minlength=g)
    correct = correct.astype(np.int64)
    abs_sum = np.bincount(ids, weights=np.abs(a), minlength=g)
    sq_sum = np.bincount(ids, weights=a * a, minlength=g)
    group_sum = np.bincount(ids, weights=a, minlength=g)
    live = sq_sum > 0
    ess = abs_sum[live] ** 2 / (size[live] * sq_sum[live])
    out = {
        "groups": float(g),
        "frac_all_correct": float(np.mean(correct == size)),
        "frac_all_wrong": float(np.mean(correct == 0)),
        "frac_mixed": float(np.mean((correct > 0) & (correct < size))),
        "frac_zero_advantage": float(np.mean(a == 0.0)),
        "ess_fraction": float(np.mean(ess)) if ess.size else 0.0,
        "max_abs_group_sum": float(np.max(np.abs(group_sum))),
    }
    for k in pass_at_k_ladder(int(size.min())):
        out[f"pass@{k}"] = float(np.mean(pass_at_k(size, correct, k)))
    return out
