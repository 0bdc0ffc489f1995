"""Start-up checks shared by the trainer integrations (TRL, verl, SkyRL).

Both integrations take a shaper from user configuration and must fail before training, or at
the latest on the first batch, with a message that names the setting to change. The shaper's
own rules (minimum group size, K ≤ N for the unbiased Pass@K estimators) live in the core;
these helpers only run them early and prefix the message with the trainer's setting.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import numpy as np
from packaging.version import Version

import advshape
from advshape import ScheduledShaper, Shaper


def resolve_shaper(shaper: Any, setting: str) -> ScheduledShaper:
    """``advshape.scheduled(shaper)`` (constant for a fixed spec or shaper), with the trainer
    setting named in any error."""
    if not isinstance(shaper, str | Shaper | ScheduledShaper):
        raise TypeError(
            f"{setting} must be a shaper spec string such as 'grpo_k:k=8' or an advshape.Shaper, "
            f"got {type(shaper).__name__}"
        )
    try:
        return advshape.scheduled(shaper)
    except ValueError as err:
        raise ValueError(f"{setting}={shaper!r} is not a usable shaper: {err}") from err


def check_group_size(shaper: Shaper | ScheduledShaper, group_size: int, setting: str) -> None:
    """Fail now if ``shaper`` cannot shape groups of ``group_size`` responses.

    Runs the shaper once on an all-wrong group of that size: the core rejects a group smaller
    than the shaper's minimum or a K above N for the shapers whose Pass@K estimator needs
    K ≤ N, and this turns that into a start-up error naming ``setting``. A scheduled shaper
    is checked at every value its schedule reaches, so no step of the run can fail later.
    """
    try:
        advshape.scheduled(shaper).check_group_size(group_size)
    except ValueError as err:
        raise ValueError(
            f"{setting}={group_size} does not suit shaper {shaper.spec!r}: {err}"
        ) from err


def require_version(dist: str, low: str, high: str | None, module: str, extra: str) -> str:
    """Raise ImportError unless ``low <= version(dist) < high``; return the found version."""
    try:
        found = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError as err:
        raise ImportError(f"{module} needs {dist}: pip install 'advshape[{extra}]'") from err
    wanted = f">={low}" + (f",<{high}" if high else "")
    if Version(found) < Version(low) or (high is not None and Version(found) >= Version(high)):
        raise ImportError(
            f"{module} supports {dist}{wanted}; found {dist}=={found}. "
            f"Install a supported version: pip install '{dist}{wanted}'"
        )
    return found


def shape_rows(shaper: Shaper, rewards: Any, groups: np.ndarray, real: np.ndarray) -> Any:
    """float64 advantages of 1-D torch ``rewards`` grouped by ``groups``; rows where ``real``
    is False (a trainer's padding) get 0 and join no group."""
    import torch

    rewards = rewards.detach().to(torch.float64)
    if real.all():
        return shaper.advantages(rewards, groups=groups)
    advantages = torch.zeros_like(rewards)
    if real.any():
        keep = torch.as_tensor(real, device=rewards.device)
        advantages[keep] = shaper.advantages(rewards[keep], groups=groups[real])
    return advantages


def scheduled_from_params(
    shaper_name: str, params: tuple[tuple[str, Any], ...], setting: str, how: str
) -> ScheduledShaper:
    """``advshape.scheduled(shaper_name, **params)``; an error names the trainer's
    ``setting`` (which selected the shaper), ``how`` its parameters are given, and what was."""
    try:
        return advshape.scheduled(shaper_name, **dict(params))
    except ValueError as err:
        pattern = how.split()[0]  # "+algorithm.advshape_<param>=<value>"
        given = " ".join(pattern.replace("<param>", k).replace("<value>", str(v)) for k, v in params)
        raise ValueError(
            f"{setting}: {err}. Give shaper parameters as {how}; given: {given or 'none'}"
        ) from err
