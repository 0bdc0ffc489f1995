"""verl integration: every advshape shaper as a verl advantage estimator ``advshape_<name>``.

Importing this module registers, through verl's own ``register_adv_est``, one estimator per
registry shaper (``advshape_grpo_k``, ``advshape_skew_r``, ``advshape_pkpo``, ...; verl refuses
to override its built-in names such as ``grpo``). Select one and give its parameters in the
``algorithm`` config, each as ``advshape_<param>``::

    algorithm.adv_estimator=advshape_grpo_k +algorithm.advshape_k=8

verl must import this module in every process that computes advantages (under Ray, the
trainer's TaskRunner is itself a Ray actor). advshape declares it as a ``verl.plugins`` entry
point, which verl ≥ 0.9 loads whenever ``verl`` is imported; for older verl, set
``VERL_USE_EXTERNAL_MODULES=advshape.integrations.verl`` (verl imports the listed modules at
``import verl``, in the driver and in every Ray worker that inherits the environment).

Each estimator follows verl's outcome-reward convention: the response's reward is the sum
of its ``token_level_rewards``; responses are grouped by verl's ``index`` (the ``uid`` array),
in any order and of any sizes; the shaper's per-response advantage is broadcast over the
response tokens (times ``response_mask``) and returned as ``(advantages, returns)``. verl's
``norm_adv_by_std_in_grpo`` plays no part: the shaper defines the advantage scale.

Supported verl versions: 0.6 and later (``register_adv_est``/``get_adv_estimator_fn`` and
``VERL_USE_EXTERNAL_MODULES``; the ``verl.plugins`` entry point from 0.9); tested with 0.9.1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import torch

import advshape
from advshape import Shaper
from advshape.integrations._checks import require_version

MIN_VERL = "0.6"


VERL_VERSION = require_version("verl", MIN_VERL, None, __name__, "verl")

from verl.trainer.ppo import core_algos  # noqa: E402  (after the version check)

__all__ = [
    "ESTIMATORS",
    "MIN_VERL",
    "PREFIX",
    "estimator_name",
    "register_shaper",
    "shaper_from_config",
]

PREFIX = "advshape_"  # of the estimator names and of their parameters in the algorithm config


def estimator_name(shaper_name: str) -> str:
    """The verl estimator name of a registry shaper: ``advshape_<name>``."""
    return PREFIX + shaper_name


def _config_params(config: Any) -> dict[str, Any]:
    """``{"k": 8}`` from an algorithm config holding ``advshape_k: 8`` (DictConfig, dict, None)."""
    if config is None:
        return {}
    if not isinstance(config, Mapping) and not hasattr(config, "items"):
        raise TypeError(f"verl passed an algorithm config of type {type(config).__name__}")
    return {
        str(key)[len(PREFIX) :]: value
        for key, value in config.items()
        if str(key).startswith(PREFIX)
    }


@lru_cache(maxsize=64)
def _build(shaper_name: str, params: tuple[tuple[str, Any], ...]) -> Shaper:
    estimator = estimator_name(shaper_name)
    try:
        return advshape.shaper(shaper_name, **dict(params))
    except ValueError as err:
        given = " ".join(f"+algorithm.{PREFIX}{k}={v}" for k, v in params) or "none"
        raise ValueError(
            f"algorithm.adv_estimator={estimator}: {err}. Give shaper parameters in the "
            f"algorithm config as +algorithm.{PREFIX}<param>=<value> "
            f"(e.g. +algorithm.{PREFIX}k=8); given: {given}"
        ) from err


def shaper_from_config(shaper_name: str, config: Any) -> Shaper:
    """The shaper ``shaper_name`` with the ``advshape_*`` parameters of verl's algorithm config."""
    params = _config_params(config)
    return _build(shaper_name, tuple(sorted(params.items())))


def _make_estimator(shaper_name: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    estimator = estimator_name(shaper_name)

    def advshape_outcome_advantage(
        token_level_rewards: torch.Tensor,
        response_mask: torch.Tensor,
        index: np.ndarray | None = None,
        config: Any = None,
        **unused: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Outcome advantages A_i = shaper(r of i's group)_i, broadcast over i's tokens.

        r_i = Σ_t token_level_rewards[i, t]; groups are the responses sharing ``index[i]``.
        Returns (advantages, returns), both ``[bs, response_length]`` (``A_i · mask[i, t]``).
        """
        if index is None:
            raise ValueError(
                f"algorithm.adv_estimator={estimator} groups responses by prompt and needs "
                "verl's 'uid' in non_tensor_batch (verl adds it when rollout.n > 1)"
            )
        shaper = shaper_from_config(shaper_name, config)
        scores = token_level_rewards.sum(dim=-1)
        with torch.no_grad():
            try:
                advantages = shaper.advantages(scores.to(torch.float64), groups=np.asarray(index))
            except ValueError as err:
                hint = ""
                if config is not None and config.get("use_kl_in_reward", False):
                    hint = (
                        " (algorithm.use_kl_in_reward=True adds a KL penalty to the rewards; "
                        "set it to False and use actor_rollout_ref.actor.use_kl_loss instead)"
                    )
                raise ValueError(f"algorithm.adv_estimator={estimator}: {err}{hint}") from err
            advantages = advantages.to(token_level_rewards.dtype).unsqueeze(-1) * response_mask
        return advantages, advantages

    advshape_outcome_advantage.__name__ = f"compute_{estimator}_outcome_advantage"
    advshape_outcome_advantage.__qualname__ = advshape_outcome_advantage.__name__
    advshape_outcome_advantage.advshape_shaper = shaper_name  # marks it as ours
    return advshape_outcome_advantage


def register_shaper(shaper_name: str) -> str:
    """Register shaper ``shaper_name`` with verl as ``advshape_<name>``; returns that name.

    Idempotent: a second call (e.g. the entry point and ``VERL_USE_EXTERNAL_MODULES`` both
    loading this module) keeps the registered estimator. Use this for shapers added to
    advshape's registry after import.
    """
    name = estimator_name(shaper_name)
    if shaper_name not in advshape.names():
        raise ValueError(f"no shaper {shaper_name!r} in advshape's registry ({advshape.names()})")
    try:
        existing = core_algos.get_adv_estimator_fn(name)
    except ValueError:
        existing = None
    if getattr(existing, "advshape_shaper", None) != shaper_name:
        core_algos.register_adv_est(name)(_make_estimator(shaper_name))
    return name


ESTIMATORS: tuple[str, ...] = tuple(register_shaper(name) for name in advshape.names())
