"""advshape.integrations._checks: start-up checks shared by the TRL and verl integrations.

These need neither TRL nor verl, so they run in the core suite too.
"""

from __future__ import annotations

import importlib.metadata

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
