"""advshape.integrations._checks and _metrics: shared by the TRL, verl and SkyRL integrations.

These need neither TRL nor verl, so they run in the core suite too.
"""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

import advshape
from advshape.integrations._checks import check_group_size, require_version, resolve_shaper


def test_resolve_shaper_names_the_setting():
    assert resolve_shaper("grpo_k:k=4", "S").spec == "grpo_k:k=4"
    built = advshape.shaper("skew_r")
    assert resolve_shaper(built, "S").at(1) is built  # always a ScheduledShaper: constant here
    schedule = advshape.scheduled("grpo_k:k=linear(4,2)")
    assert resolve_shaper(schedule, "S") is schedule
    assert resolve_shaper("surrogate:2*asin(sqrt(rho))", "S").spec == "F=2*asin(sqrt(rho))"
    assert resolve_shaper("grpo_k:k=linear(4,2)", "S").values_at(2, 3) == {"k": 3}
    with pytest.raises(
        ValueError, match=r"^shaper=\.\.\.='grpo_k:k' is not a usable shaper: cannot parse"
    ):
        resolve_shaper("grpo_k:k", "shaper=...")
    with pytest.raises(TypeError, match="S must be a shaper spec string"):
        resolve_shaper(4, "S")


@pytest.mark.parametrize(
    ("spec", "group_size", "ok"),
    [
        ("grpo_k:k=4", 4, True),
        ("grpo_k:k=4", 3, False),  # K > N for an unbiased Pass@K estimator
        ("biased_k:k=9", 3, True),  # defined for any K
        ("rloo", 2, True),
        ("rloo", 1, False),  # leave-one-out needs a second response
        ("pkpo:k=2,baseline=loo", 2, False),  # needs N >= K + 1
        ("pkpo:k=2,baseline=loo", 3, True),
    ],
)
def test_check_group_size(spec, group_size, ok):
    shaper = advshape.shaper(spec)
    if ok:
        check_group_size(shaper, group_size, "num_generations")
    else:
        with pytest.raises(ValueError, match=rf"^num_generations={group_size} does not suit"):
            check_group_size(shaper, group_size, "num_generations")


def test_require_version():
    found = importlib.metadata.version("pytest")
    major = int(found.split(".")[0])
    assert require_version("pytest", "1.0", None, "m", "x") == found
    assert require_version("pytest", "1.0", f"{major + 1}", "m", "x") == found
    with pytest.raises(
        ImportError, match=rf"m supports pytest>={major + 1}; found pytest=={found}"
    ):
        require_version("pytest", f"{major + 1}", None, "m", "x")
    with pytest.raises(ImportError, match=rf"pytest>=1.0,<{major}; found"):
        require_version("pytest", "1.0", f"{major}", "m", "x")
    with pytest.raises(ImportError, match=r"m needs no-such-dist: pip install 'advshape\[x\]'"):
        require_version("no-such-dist", "1.0", None, "m", "x")


# ---- _metrics: one definition per key, pooled exactly over batches ----


def test_metrics_combine_equals_pooled_diagnostics():
    """combine(records of several batches) == the statistics of all their groups pooled."""
    from advshape.integrations import _metrics

    rng = np.random.default_rng(3)
    batches = []
    for b, sizes in enumerate(((4, 4, 4), (3, 5), (6,))):
        ids = np.repeat([f"{b}-{g}" for g in range(len(sizes))], sizes)
        rewards = rng.integers(0, 2, size=ids.size).astype(float)
        advantages = advshape.shaper("rloo").advantages(rewards, groups=ids)
        batches.append((rewards, advantages, ids))
    combined = _metrics.combine(
        _metrics.batch_record(r, a, g, scheduled={"k": 2 + i}, skipped_groups=i)
        for i, (r, a, g) in enumerate(batches)
    )
    r, a, g = (np.concatenate(x) for x in zip(*batches))
    pooled = advshape.group_diagnostics(r, a, g)
    # pass@k up to the smallest group of the pool (3): pass@3 is reported by the batch
    # whose groups have 3 and 5 responses only, so it is that batch's value
    assert combined["advshape/pass@3"] == advshape.group_diagnostics(*batches[1])["pass@3"]
    del pooled["pass@3"]
    for key, value in pooled.items():
        assert combined[f"advshape/{key}"] == pytest.approx(value, rel=1e-12, abs=1e-15), key
    assert combined["advshape/responses"] == a.size
    assert combined["advshape/advantage_mean"] == pytest.approx(a.mean(), abs=1e-15)
    assert combined["advshape/advantage_std"] == pytest.approx(a.std(), rel=1e-12)
    assert combined["advshape/advantage_abs_max"] == np.abs(a).max()
    assert combined["advshape/skipped_groups"] == 0 + 1 + 2
    assert combined["advshape/k"] == 3  # mean of 2, 3, 4 over the batches
    assert "advshape/padding_rows" not in combined  # only where the trainer pads


def test_every_logged_key_is_documented():
    from advshape.integrations import _metrics

    record = _metrics.batch_record(
        [1.0, 0.0], [0.5, -0.5], ["a", "a"], scheduled={"k": 2}, skipped_groups=0, padding_rows=0
    )
    keys = {k.removeprefix("advshape/") for k in _metrics.combine([record])}
    documented = {"pass@1" if k == "pass@k" else k for k in _metrics.KEYS}
    assert keys - {"pass@2"} <= documented


def test_docs_table_lists_every_key_with_its_pooling():
    """docs/trl.md's table of advshape/* keys has a row for every key of _metrics.KEYS, with
    that key's way of combining batches."""
    from pathlib import Path

    from advshape.integrations import _metrics

    text = (Path(__file__).resolve().parents[1] / "docs" / "trl.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `advshape/")]
    for key, (pooling, _) in _metrics.KEYS.items():
        name = "advshape/pass@k" if key == "pass@k" else f"advshape/{key}"
        row = next((r for r in rows if f"`{name}`" in r), None)
        assert row is not None, f"docs/trl.md has no row for {name}"
        last = row.rstrip(" |").rsplit("|", 1)[-1].strip()
        assert last == pooling or (key.startswith("advantage_") and last in ("over responses", "max")), (key, last)
