"""Per-group diagnostics of one batch of shaped advantages (what the trainer integrations log).

Every statistic is computed group by group (a group: the N responses to one prompt) and then
summarised over the groups; none mixes responses of different groups, so a batch of easy and
hard prompts is not mistaken for a batch of mixed groups.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from advshape._src import arrays
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
        values = values.detach().to("cpu")
        if values.is_complex():
            raise ValueError(f"group_diagnostics: {name} must be real, got dtype {values.dtype}")
        values = values.double().numpy()
    raw = np.asarray(values)
    if raw.dtype.kind not in "biuf":
        raise ValueError(
            f"group_diagnostics: {name} must be real numbers, got dtype {raw.dtype}"
            + (
                "; pass the real part explicitly if it is what you mean"
                if raw.dtype.kind == "c"
                else ""
            )
        )
    out = raw.astype(np.float64)
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
    """Per-group statistics of one batch of rewards and their shaped advantages.

    A response counts as correct when its reward is ≥ ``threshold``. With G groups, group g
    of size N_g holding c_g correct responses and advantages A_i:

    - ``groups``: G;
    - ``frac_all_correct`` / ``frac_all_wrong`` / ``frac_mixed``: the fractions of groups
      with c_g = N_g, c_g = 0 and 0 < c_g < N_g (they sum to 1);
    - ``frac_zero_advantage``: the fraction of responses whose advantage is exactly 0;
    - ``ess_fraction``: the effective sample size of |A| within a group relative to its size,
      ESS_g/N_g = (Σ_i |A_i|)² / (N_g · Σ_i A_i²) ∈ [1/N_g, 1] (Kish), averaged over the
      groups with a non-zero advantage; 0 when every advantage is 0. It is computed from
      A_i/max_i |A_i|, so it is exact for advantages of any finite magnitude;
    - ``max_abs_group_sum``: max_g |Σ_{i∈g} A_i|, 0 (to rounding) for a mean-centred shaper
      (inf only if the true sum exceeds the float64 range);
    - ``pass@k`` for k in 1, 2, 4, …, n and n (n the smallest group size): the unbiased
      estimate ρ̂_k = 1 − C(N_g − c_g, k)/C(N_g, k) (paper Eq. 11) averaged over the groups.

    Group ids are read exactly as the shapers read them (``Shaper.advantages(..., groups=)``):
    two ids are one group iff they are equal as Python values; NaN and None ids are refused.

    Args:
        rewards: ``[..., N]`` (one group per row) or 1-D with ``groups``; real numbers.
        advantages: the same shape as ``rewards``; real numbers.
        groups: a group id per response (ints, strings, tuples, ...: any order and sizes),
            or None for one group per row.
        threshold: the reward from which a response counts as correct (1: a 0/1 verifier).

    Returns:
        The statistics above as plain floats (NumPy float64 arithmetic).

    Raises:
        ValueError: mismatched shapes, an empty batch, non-finite or complex values, bad ids,
            a threshold that is not a finite number.

    Example:
        >>> import numpy as np, advshape
        >>> r = np.array([[1.0, 0, 0, 0], [1, 1, 1, 1]])
        >>> d = advshape.group_diagnostics(r, advshape.shaper("grpo").advantages(r))
        >>> d["frac_mixed"], d["pass@1"], round(d["ess_fraction"], 12)
        (0.5, 0.625, 0.75)

    References:
        Advantage Shaping as Surrogate Reward Maximization, arXiv 2510.23049 (Eq. 11:
        https://arxiv.org/abs/2510.23049); Chen et al. 2021, arXiv 2107.03374 (pass@k).
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float | np.number)
        or not (np.isfinite(threshold) and np.isreal(threshold))
    ):
        raise ValueError(f"group_diagnostics: threshold must be a finite number, got {threshold!r}")
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
        ids, slots = np.repeat(np.arange(r.size // n), n), r.size // n
    else:
        if r.ndim != 1:
            raise ValueError(
                f"group_diagnostics: with groups, rewards must be 1-D (one entry per response), "
                f"got shape {r.shape}"
            )
        ids, slots = arrays.codes_numpy(arrays.host_ids(groups, r.shape[0]))
    r, a = r.ravel(), a.ravel()
    size = np.bincount(ids, minlength=slots)
    used = size > 0  # codes need not be dense: skip the empty slots
    size = size[used]
    correct = np.bincount(ids, weights=r >= threshold, minlength=slots)[used].astype(np.int64)
    # scale each group by its largest |A|: sums of |A|/top and (A/top)² neither over- nor
    # underflow (the largest term is 1), whatever the advantages' magnitude
    magnitude = np.abs(a)
    top = np.zeros(slots)
    np.maximum.at(top, ids, magnitude)
    top_each = top.take(ids)
    unit = a / np.where(top_each > 0, top_each, 1.0)
    abs_sum = np.bincount(ids, weights=np.abs(unit), minlength=slots)[used]
    sq_sum = np.bincount(ids, weights=unit * unit, minlength=slots)[used]
    group_sum = np.bincount(ids, weights=unit, minlength=slots)[used]
    live = top[used] > 0
    ess = abs_sum[live] ** 2 / (size[live] * sq_sum[live])
    with np.errstate(over="ignore"):  # a sum beyond the float64 range is inf, honestly
        largest_sum = float(np.max(np.abs(group_sum) * top[used]))
    out = {
        "groups": float(size.size),
        "frac_all_correct": float(np.mean(correct == size)),
        "frac_all_wrong": float(np.mean(correct == 0)),
        "frac_mixed": float(np.mean((correct > 0) & (correct < size))),
        "frac_zero_advantage": float(np.mean(a == 0.0)),
        "ess_fraction": float(np.mean(ess)) if ess.size else 0.0,
        "max_abs_group_sum": largest_sum,
    }
    for k in pass_at_k_ladder(int(size.min())):
        out[f"pass@{k}"] = float(np.mean(pass_at_k(size, correct, k)))
    return out
