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

**K schedules.** A parameter may follow a schedule (see ``advshape.shaper``); Hydra reads
parentheses as its own functions, so quote the value inside the override::

    algorithm.adv_estimator=advshape_grpo_k "+algorithm.advshape_k='linear(16,1)'" \
        +algorithm.advshape_total_steps=500

verl passes an estimator only the batch's tensors, ``index`` and the ``algorithm`` config, not
the step (the legacy trainer's ``meta_info["global_steps"]`` and the v1 trainer's TransferQueue
tags carry it, but ``compute_advantage`` does not pass them on). Both of verl's trainers (the legacy ``RayPPOTrainer.fit`` and the v1 trainer) record
the current ``global_steps`` (1 for the first step, restored from the checkpoint on resume) in
the driver process, where advantages are computed, with
``verl.utils.skip.SkipManager.set_step`` before each step; the estimator reads it there.
The run's length is not in the ``algorithm`` config: a schedule placed by percentage needs
``+algorithm.advshape_total_steps=T`` (verl prints ``Total training steps: T`` at start; with
``trainer.total_training_steps`` set, ``+algorithm.advshape_total_steps=${trainer.total_training_steps}``);
one placed by step number (``steps(8@1,4@101)``) needs nothing. So step t is shaped with the
same K in a resumed run as in an uninterrupted one.

**Diagnostics.** Every call logs the per-group statistics of :func:`advshape.group_diagnostics`
(fractions of all-correct / all-wrong / mixed groups, of zero advantages, ESS of |A|, the
largest |Σ_group A|, unbiased pass@k for k = 1, 2, 4, …, N; a response is correct when its
reward is ≥ 1) and the scheduled parameters' values, as ``advshape/<name>``. verl offers an
estimator no channel to its metrics, so advshape makes one: the estimator leaves them in this
module (:func:`collect_metrics` takes them out), and verl's ``compute_data_metrics``, which both
trainers call once per step on the driver to fill the step's metrics dict, is wrapped to add
them. The wrapper is installed when verl imports ``verl.trainer.ppo.metric_utils`` (an import
hook, so processes that never train import nothing more) and changes nothing else.

**verl's v1 trainer** (``trainer.use_v1=True``) computes advantages with
``verl.trainer.ppo.v1.utils.compute_advantage_for_multi_trajectories``. An agent loop can emit
several outputs (turns) per session, with batch keys ``{uid}_{session}_{index}``; verl gives
only its own GRPO the session view and hands every other estimator each turn as a response,
so a group of N sessions would look like a group of N·turns. advshape wraps that function
(again on import) so that for ``advshape_*`` estimators a session is one response: its reward
is that of its final output (the highest index, as verl's GRPO path takes it), the shaper
shapes the sessions of each prompt (``uid``), and the session's advantage is broadcast over
the tokens of all its outputs. Other estimators go to verl's function unchanged.

Supported verl versions: 0.6 and later (``register_adv_est``/``get_adv_estimator_fn`` and
``VERL_USE_EXTERNAL_MODULES``; the ``verl.plugins`` entry point from 0.9); tested with 0.9.1.
"""

from __future__ import annotations

import functools
import importlib.abc
import sys
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np
import torch

import advshape
from advshape import ScheduledShaper, Shaper
from advshape.integrations._checks import require_version

MIN_VERL = "0.6"


VERL_VERSION = require_version("verl", MIN_VERL, None, __name__, "verl")

from verl.trainer.ppo import core_algos  # noqa: E402  (after the version check)

__all__ = [
    "ESTIMATORS",
    "MIN_VERL",
    "PREFIX",
    "collect_metrics",
    "current_step",
    "estimator_name",
    "multi_trajectory_advantages",
    "register_shaper",
    "shaper_from_config",
]

PREFIX = "advshape_"  # of the estimator names and of their parameters in the algorithm config
# algorithm-config keys under PREFIX that are settings of the integration, not shaper parameters
TOTAL_STEPS_KEY = "total_steps"


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
        if str(key).startswith(PREFIX) and str(key) != PREFIX + TOTAL_STEPS_KEY
    }


@lru_cache(maxsize=64)
def _build(shaper_name: str, params: tuple[tuple[str, Any], ...]) -> ScheduledShaper:
    estimator = estimator_name(shaper_name)
    try:
        return advshape.scheduled(shaper_name, **dict(params))
    except ValueError as err:
        given = " ".join(f"+algorithm.{PREFIX}{k}={v}" for k, v in params) or "none"
        raise ValueError(
            f"algorithm.adv_estimator={estimator}: {err}. Give shaper parameters in the "
            f"algorithm config as +algorithm.{PREFIX}<param>=<value> "
            f"(e.g. +algorithm.{PREFIX}k=8); given: {given}"
        ) from err


def shaper_from_config(shaper_name: str, config: Any) -> ScheduledShaper:
    """The shaper ``shaper_name`` with the ``advshape_*`` parameters of verl's algorithm config.

    Args:
        shaper_name: a registry name (the estimator is ``advshape_<name>``).
        config: verl's algorithm config (DictConfig, dict or None); ``advshape_k: 8`` gives
            ``k=8``, ``advshape_k: "linear(8,1)"`` a schedule.

    Returns:
        A :class:`advshape.ScheduledShaper`, constant unless a parameter is a schedule (built
        once per distinct configuration).

    Raises:
        ValueError: bad parameters, naming the ``+algorithm.advshape_<param>=<value>`` override.

    Example:
        >>> shaper_from_config("grpo_k", {"advshape_k": 4}).spec
        'grpo_k:k=4'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    params = _config_params(config)
    return _build(shaper_name, tuple(sorted(params.items())))


def current_step() -> int:
    """verl's current ``global_steps`` (1-based), as its trainers record it each step."""
    try:
        from verl.utils.skip.skip_manager import SkipManager
    except ImportError as err:  # verl < 0.9: no step reaches this process
        raise ValueError(
            f"a shaper schedule needs the training step, which verl {VERL_VERSION} does not "
            "record where advantages are computed; use verl >= 0.9 or a fixed shaper"
        ) from err
    step = int(SkipManager.step)
    if step < 1:
        raise ValueError(
            "a shaper schedule needs the training step, but no verl trainer has started a step "
            "in this process (verl.utils.skip.SkipManager.step is unset); advantages with a "
            "schedule are computed inside verl's RayPPOTrainer.fit or its v1 trainer"
        )
    return step


def _total_steps(config: Any) -> int | None:
    if config is None:
        return None
    value = config.get(PREFIX + TOTAL_STEPS_KEY, None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"+algorithm.{PREFIX}{TOTAL_STEPS_KEY} must be the run's number of training steps "
            f"(an integer >= 1), got {value!r}"
        )
    return value


def _step_shaper(shaper_name: str, config: Any) -> tuple[Shaper, dict[str, float]]:
    """The shaper of the current step and the scheduled parameters' values."""
    estimator = estimator_name(shaper_name)
    built = shaper_from_config(shaper_name, config)
    if built.is_constant:  # needs no step (verl < 0.9 records none where this runs)
        return built.at(1), {}
    try:
        step, total = current_step(), _total_steps(config)
        return built.at(step, total), built.values_at(step, total)
    except ValueError as err:
        hint = ""
        if built.needs_total and (config is None or config.get(PREFIX + TOTAL_STEPS_KEY) is None):
            hint = (
                f"; give the run's length as +algorithm.{PREFIX}{TOTAL_STEPS_KEY}=T (verl "
                "prints 'Total training steps: T'), or place the schedule's points by step "
                "number (VALUE@STEP)"
            )
        raise ValueError(f"algorithm.adv_estimator={estimator}: {err}{hint}") from err


def _row_advantages(
    shaper_name: str, scores: torch.Tensor, index: Any, config: Any
) -> torch.Tensor:
    """float64 advantage of each row (one response), shaped within its ``index`` group;
    records the step's diagnostics for :func:`collect_metrics`."""
    estimator = estimator_name(shaper_name)
    if index is None:
        raise ValueError(
            f"algorithm.adv_estimator={estimator} groups responses by prompt and needs "
            "verl's 'uid' in non_tensor_batch (verl adds it when rollout.n > 1)"
        )
    shaper, scheduled_values = _step_shaper(shaper_name, config)
    groups = np.asarray(index)
    rewards = scores.detach().to(torch.float64)
    with torch.no_grad():
        try:
            advantages = shaper.advantages(rewards, groups=groups)
        except ValueError as err:
            hint = ""
            if config is not None and config.get("use_kl_in_reward", False):
                hint = (
                    " (algorithm.use_kl_in_reward=True adds a KL penalty to the rewards; "
                    "set it to False and use actor_rollout_ref.actor.use_kl_loss instead)"
                )
            raise ValueError(f"algorithm.adv_estimator={estimator}: {err}{hint}") from err
    diagnostics = advshape.group_diagnostics(
        rewards.cpu().numpy(), advantages.cpu().numpy(), groups
    )
    _record_metrics({**diagnostics, **scheduled_values})
    return advantages


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
        advantages = _row_advantages(shaper_name, token_level_rewards.sum(dim=-1), index, config)
        advantages = advantages.to(token_level_rewards.dtype).unsqueeze(-1) * response_mask
        return advantages, advantages

    advshape_outcome_advantage.__name__ = f"compute_{estimator}_outcome_advantage"
    advshape_outcome_advantage.__qualname__ = advshape_outcome_advantage.__name__
    vars(advshape_outcome_advantage)["advshape_shaper"] = shaper_name  # marks it as ours
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


# ----------------------------------------------------------------------------- metrics channel

_PENDING: list[dict[str, float]] = []  # diagnostics of the calls since the last collection
_MAX_PENDING = 64  # a process that never collects (no verl trainer) keeps only the latest


def _record_metrics(values: Mapping[str, float]) -> None:
    _PENDING.append(dict(values))
    del _PENDING[:-_MAX_PENDING]


def collect_metrics() -> dict[str, float]:
    """The ``advshape/*`` metrics of the advantage calls since the last collection, and forget
    them. One call (the usual case: one advantage step per training step) is returned as is;
    several are combined: ``groups`` summed, ``max_abs_group_sum`` maximised, the rest
    averaged with each call weighted by its number of groups."""
    pending = list(_PENDING)
    _PENDING.clear()
    if not pending:
        return {}
    weights = np.array([p.get("groups", 1.0) for p in pending])
    out: dict[str, float] = {}
    for key in dict.fromkeys(k for p in pending for k in p):
        have = [(p[key], w) for p, w in zip(pending, weights) if key in p]
        values = np.array([v for v, _ in have])
        if key == "groups":
            value = float(values.sum())
        elif key == "max_abs_group_sum":
            value = float(values.max())
        else:
            value = float(np.average(values, weights=[w for _, w in have]))
        out[f"advshape/{key}"] = value
    return out


def _wrapped_data_metrics(original: Callable[..., dict]) -> Callable[..., dict]:
    @functools.wraps(original)
    def compute_data_metrics(*args: Any, **kwargs: Any) -> dict:
        metrics = original(*args, **kwargs)
        metrics.update(collect_metrics())
        return metrics

    vars(compute_data_metrics)["__advshape_wrapped__"] = original
    return compute_data_metrics


# ----------------------------------------------------------------------------- v1 trainer


def _split_batch_key(key: Any) -> tuple[str, int]:
    """``"{uid}_{session}_{index}"`` -> (``"{uid}_{session}"``, index)."""
    session, sep, index = str(key).rpartition("_")
    if not sep or "_" not in session or not index.isdigit():
        raise ValueError(
            f"verl v1 batch key {key!r} is not of the form '{{uid}}_{{session}}_{{index}}'"
        )
    return session, int(index)


def multi_trajectory_advantages(data: Any, batch_keys: Any, adv_estimator: str, config: Any) -> Any:
    """Advantages of an ``advshape_*`` estimator on a v1 multi-output batch (module doc).

    Each session (the rows sharing ``{uid}_{session}`` in ``batch_keys``) is one response,
    rewarded by its final output (highest index); the sessions of each ``uid`` form a group;
    every output of a session gets the session's advantage on its response tokens. Writes
    ``advantages`` and ``returns`` into ``data.batch`` and returns ``data``.
    """
    fn = core_algos.get_adv_estimator_fn(adv_estimator)
    shaper_name = fn.advshape_shaper
    keys = list(batch_keys)
    if len(keys) != len(data):
        raise ValueError(f"verl v1: {len(keys)} batch keys for a batch of {len(data)} rows")
    final: dict[str, tuple[int, int]] = {}  # session -> (index, row) of its final output
    row_session = []
    for row, key in enumerate(keys):
        session, index = _split_batch_key(key)
        row_session.append(session)
        if session not in final or final[session][0] < index:
            final[session] = (index, row)
    sessions = list(final)
    final_rows = torch.tensor([final[s][1] for s in sessions])
    rewards = data.batch["token_level_rewards"]
    mask = data.batch["response_mask"]
    uids = data.non_tensor_batch.get("uid") if hasattr(data, "non_tensor_batch") else None
    session_advantages = _row_advantages(
        shaper_name,
        rewards[final_rows].sum(dim=-1),
        None if uids is None else np.asarray(uids)[final_rows.numpy()],
        config,
    )
    position = {s: i for i, s in enumerate(sessions)}
    per_row = session_advantages[torch.tensor([position[s] for s in row_session])]
    advantages = per_row.to(device=mask.device, dtype=rewards.dtype).unsqueeze(-1) * mask
    data.batch["advantages"] = advantages
    data.batch["returns"] = advantages
    return data


def _wrapped_multi_trajectories(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def compute_advantage_for_multi_trajectories(
        data: Any, batch_keys: Any, adv_estimator: Any, *args: Any, **kwargs: Any
    ):
        if isinstance(adv_estimator, str) and adv_estimator.startswith(PREFIX):
            fn = core_algos.get_adv_estimator_fn(adv_estimator)
            if getattr(fn, "advshape_shaper", None) is not None:
                config = kwargs.get("config", args[4] if len(args) > 4 else None)
                return multi_trajectory_advantages(data, batch_keys, adv_estimator, config)
        return original(data, batch_keys, adv_estimator, *args, **kwargs)

    vars(compute_advantage_for_multi_trajectories)["__advshape_wrapped__"] = original
    return compute_advantage_for_multi_trajectories


# ----------------------------------------------------------------------------- install

_WRAPPERS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "compute_data_metrics": _wrapped_data_metrics,
    "compute_advantage_for_multi_trajectories": _wrapped_multi_trajectories,
}
# Modules that define or import (by name) the functions advshape wraps.
_PATCHED_MODULES = (
    "verl.trainer.ppo.metric_utils",
    "verl.trainer.ppo.ray_trainer",
    "verl.trainer.ppo.v1.utils",
    "verl.trainer.ppo.v1.trainer_base",
)


def _patch(module: ModuleType) -> None:
    for attribute, wrap in _WRAPPERS.items():
        original = getattr(module, attribute, None)
        if callable(original) and not hasattr(original, "__advshape_wrapped__"):
            setattr(module, attribute, wrap(original))


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Wraps the functions in a module as soon as it is first executed, before any other
    module can import them by name; installing eagerly would import verl's trainers (seconds,
    Ray) into every process that merely imports verl."""

    def find_spec(self, fullname: str, path: Any, target: Any = None):
        if fullname not in _PATCHED_MODULES:
            return None
        spec = None
        for finder in sys.meta_path:  # the finders after this one, as the import would use
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        execute = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            _patch(module)

        loader: Any = spec.loader  # patched in place: its type declares exec_module a method
        loader.exec_module = exec_module
        return spec


def _install() -> None:
    for name in _PATCHED_MODULES:
        if name in sys.modules:
            _patch(sys.modules[name])
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


_install()
