"""The ``advshape/*`` metrics every trainer integration logs: one definition per key.

A trainer logs one record per shaped batch (:func:`batch_record`) and, when it reports (TRL
every ``logging_steps`` optimisation steps, verl and SkyRL every step), combines the records
of the batches since its last report with :func:`combine`. Each key has one aggregation,
chosen so that the combined value is the one :func:`advshape.group_diagnostics` would give on
all those batches pooled, group by group — never an average of maxima or of counts:

- counts (``groups``, ``responses``, ``skipped_groups``, ``padding_rows``) are summed;
- maxima (``max_abs_group_sum``, ``advantage_abs_max``) are maximised;
- per-group fractions and pass@k are averaged with each batch weighted by its groups,
  ``frac_zero_advantage`` and ``advantage_mean``/``advantage_std`` over responses, and
  ``ess_fraction`` over the groups with a non-zero advantage (its own definition);
- scheduled parameter values (``k``) are averaged over batches (constant within a report
  unless the schedule moved inside it).

:data:`KEYS` holds the meaning and the aggregation of every key; docs/trl.md prints it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

import advshape

__all__ = ["KEYS", "PREFIX", "batch_record", "combine"]

PREFIX = "advshape/"

# key -> (aggregation over the batches of one report, meaning). "pass@k" stands for every k.
KEYS: dict[str, tuple[str, str]] = {
    "groups": ("sum", "number of groups shaped"),
    "responses": ("sum", "number of responses shaped"),
    "frac_all_correct": ("mean over groups", "fraction of groups with N⁺ = N"),
    "frac_all_wrong": ("mean over groups", "fraction of groups with N⁺ = 0"),
    "frac_mixed": ("mean over groups", "fraction of groups with 0 < N⁺ < N"),
    "frac_zero_advantage": ("mean over responses", "fraction of responses with A = 0 exactly"),
    "ess_fraction": (
        "mean over groups with a non-zero A",
        "effective sample size of |A| within a group, (Σ|A|)²/(N·ΣA²), averaged over the groups "
        "with a non-zero advantage (0 if none)",
    ),
    "max_abs_group_sum": (
        "max",
        "max over groups of |Σ_group A| (0 up to rounding when mean-centred)",
    ),
    "pass@k": (
        "mean over groups",
        "unbiased pass@k of the training rollouts (Eq. 11) for k = 1, 2, 4, …, N, mean over groups "
        "(over the batches whose every group has ≥ k responses, when group sizes vary)",
    ),
    "advantage_mean": ("mean over responses", "mean advantage"),
    "advantage_std": ("std over responses", "standard deviation of the advantages (population)"),
    "advantage_abs_max": ("max", "largest |A|"),
    "skipped_groups": (
        "sum",
        "groups given advantage 0 because too few of their responses were scored (TRL: a reward "
        "function returned None) for the shaper",
    ),
    "padding_rows": ("sum", "trainer padding rows (verl v1, SkyRL) left out: advantage 0"),
    "k": (
        "mean over batches",
        "the scheduled parameter's value (any scheduled parameter, by name)",
    ),
}

# hidden per-batch sums that make the combination exact; never logged
_LIVE = "_live_groups"
_SUM = "_advantage_sum"
_M2 = "_advantage_m2"  # Σ (A − batch mean)²


def batch_record(
    rewards: Any,
    advantages: Any,
    groups: Any,
    *,
    scheduled: Mapping[str, float] | None = None,
    skipped_groups: int | None = None,
    padding_rows: int | None = None,
) -> dict[str, float]:
    """The record of one shaped batch: rewards, advantages and group ids of the shaped
    responses (1-D, NumPy or torch), plus what the integration left out (each count only
    where the trainer can produce it: skipped groups in TRL, padding rows in verl and SkyRL)."""
    r = np.asarray(_numpy(rewards), dtype=np.float64).ravel()
    a = np.asarray(_numpy(advantages), dtype=np.float64).ravel()
    record: dict[str, float] = {}
    if skipped_groups is not None:
        record["skipped_groups"] = float(skipped_groups)
    if padding_rows is not None:
        record["padding_rows"] = float(padding_rows)
    if a.size:
        record.update(advshape.group_diagnostics(r, a, np.asarray(groups)))
        _, ids = np.unique(np.asarray(groups), return_inverse=True)
        record[_LIVE] = float(np.count_nonzero(np.bincount(ids.ravel(), weights=a * a) > 0))
        record["responses"] = float(a.size)
        record[_SUM] = float(a.sum())
        record[_M2] = float(((a - a.mean()) ** 2).sum())
        record["advantage_abs_max"] = float(np.abs(a).max())
    for name, value in (scheduled or {}).items():
        record[name] = float(value)
    return record


def _numpy(values: Any) -> Any:
    if hasattr(values, "detach"):  # torch, without importing it
        return values.detach().to("cpu").double().numpy()
    return values


def _weight(key: str) -> str | None:
    """The record entry a key's batch values are weighted by (None: not a weighted mean)."""
    if key.startswith("pass@") or key in ("frac_all_correct", "frac_all_wrong", "frac_mixed"):
        return "groups"
    if key == "frac_zero_advantage":
        return "responses"
    if key == "ess_fraction":
        return _LIVE
    return None


def combine(records: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The ``advshape/<key>`` metrics of several batch records (see the module doc)."""
    records = [r for r in records if r]
    out: dict[str, float] = {}
    if not records:
        return out
    keys = dict.fromkeys(k for r in records for k in r if not k.startswith("_"))
    for key in keys:
        have = [r for r in records if key in r]
        values = np.array([r[key] for r in have])
        weight = _weight(key)
        if key in ("groups", "responses", "skipped_groups", "padding_rows"):
            value = float(values.sum())
        elif key in ("max_abs_group_sum", "advantage_abs_max"):
            value = float(values.max())
        elif key in ("advantage_mean", "advantage_std"):
            continue  # from the sums below
        elif weight is not None:
            w = np.array([r.get(weight, 0.0) for r in have])
            value = float(np.average(values, weights=w)) if w.sum() > 0 else 0.0
        else:  # scheduled parameter values
            value = float(values.mean())
        out[PREFIX + key] = value
    shaped = [r for r in records if r.get("responses", 0) > 0]
    if shaped:
        # pooled mean and variance from per-batch (count, sum, M2): Chan et al.'s combination
        count = sum(r["responses"] for r in shaped)
        mean = sum(r[_SUM] for r in shaped) / count
        m2 = sum(r[_M2] + r["responses"] * (r[_SUM] / r["responses"] - mean) ** 2 for r in shaped)
        out[PREFIX + "advantage_mean"] = float(mean)
        out[PREFIX + "advantage_std"] = float(np.sqrt(m2 / count))
    return out
