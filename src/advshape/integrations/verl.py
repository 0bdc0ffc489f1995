"""verl integration: every advshape shaper as a verl advantage estimator ``advshape_<name>``.

Importing this module registers, through verl's own ``register_adv_est``, one estimator per
registry shaper (``advshape_grpo_k``, ``advshape_skew_r``, ``advshape_pkpo``, ...; verl refuses
to override its built-in names such as ``grpo``). Select one and give its parameters in the
``algorithm`` config, each as ``advshape_<param>``::

    algorithm.adv_estimator=advshape_grpo_k +algorithm.advshape_k=8

verl must import this module in every process that computes advantages (under Ray, the
trainer's TaskRunner is itself a Ray actor). advshape declares a ``verl.plugins`` entry point
(``advshape.integrations._verl_plugin``), which verl loads whenever ``verl`` is imported, in
the driver and in every Ray worker; if this module fails to import there, the entry point says
why on stderr (verl itself would hide it) and every ``advshape_*`` estimator raises that cause.

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
The run's length is not in the ``algorithm`` config: a schedule placed by percentage takes it
from the trainer (its ``total_training_steps``, recorded in the driver when the trainer is
built, see :func:`check_trainer_config`) or from ``+algorithm.advshape_total_steps=T``, which
must then agree; one placed by step number (``steps(8@1,4@101)``) needs nothing. So step t is
shaped with the same K in a resumed run as in an uninterrupted one.

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

**Padding.** The v1 trainer's ``_balance_batch`` pads the batch to a multiple of the data-
parallel size before the advantage step (``padding_utils.upsample_batch_to_divisible_size``):
synthetic rows sharing one ``pad<hex>`` uid with an all-zero response mask. A row with both
markers (:func:`padding_rows`) gets advantage 0 and belongs to no group and no diagnostic
(logged as ``advshape/padding_rows``), for any pad size; verl's own ``grpo`` gives them 0 too.

**Checked up front.** When a verl trainer (legacy ``RayPPOTrainer`` or v1 ``PPOTrainer``) is
built, and again when its ``fit`` starts, :func:`check_trainer_config` builds the shaper from
the ``algorithm`` config and checks every K its schedule reaches against
``actor_rollout_ref.rollout.n``, and that a schedule placed by percentage knows the run's
length (the trainer's own ``total_training_steps`` is used when
``+algorithm.advshape_total_steps`` is not given): a bad setting fails before the first update.

Supported verl versions: >= 0.9, < 0.10 (:data:`MIN_VERL`, :data:`MAX_VERL`; tested with 0.9.0
and 0.9.1). verl 0.6-0.8 do not import in pip's own resolution of their requirements. advshape
wraps private verl functions (``compute_data_metrics``,
``compute_advantage_for_multi_trajectories``, the trainers' ``__init__`` and ``fit``); if a
verl lacks one, importing this module warns and the ``advshape_*`` estimators refuse to run.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np
import torch

import advshape
from advshape import ScheduledShaper, Shaper
from advshape.integrations import _metrics
from advshape.integrations._checks import (
    check_group_size,
    require_version,
    scheduled_from_params,
    shape_rows,
)
from advshape.integrations._patching import patch_on_import

# The tested range: the lowest verl whose own dependencies import and pass the integration
# tests, and below the next minor release, since advshape wraps verl's private trainer functions
# (a renamed one is reported at import and refused on use, see _patch).
MIN_VERL = "0.9"
"""The lowest supported verl version."""
MAX_VERL = "0.10"
"""The first verl version not supported (exclusive upper bound)."""


VERL_VERSION = require_version("verl", MIN_VERL, MAX_VERL, __name__, "verl")

from verl.trainer.ppo import core_algos  # noqa: E402  (after the version check)

__all__ = [
    "ESTIMATORS",
    "MAX_VERL",
    "MIN_VERL",
    "PREFIX",
    "check_trainer_config",
    "collect_metrics",
    "padding_rows",
    "register_shaper",
    "shaper_from_config",
]

PREFIX = "advshape_"
"""The prefix of the estimator names (``advshape_grpo_k``) and of their parameters in the
``algorithm`` config (``+algorithm.advshape_k=8``)."""
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
    return scheduled_from_params(
        shaper_name,
        params,
        f"algorithm.adv_estimator={estimator_name(shaper_name)}",
        f"+algorithm.{PREFIX}<param>=<value> (e.g. +algorithm.{PREFIX}k=8)",
    )


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
        >>> from advshape.integrations.verl import shaper_from_config
        >>> shaper_from_config("grpo_k", {"advshape_k": 4}).spec
        'grpo_k:k=4'
        >>> shaper_from_config("grpo_k", {"advshape_k": "linear(8,2)"}).values_at(1, 10)
        {'k': 8}

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers and their parameters, Table 1).
    """
    params = _config_params(config)
    return _build(shaper_name, tuple(sorted(params.items())))


def current_step() -> int:
    """verl's current ``global_steps`` (1-based), as its trainers record it each step."""
    try:
        from verl.utils.skip.skip_manager import SkipManager
    except ImportError as err:  # a verl outside the tested range
        raise ValueError(
            f"a shaper schedule needs the training step, which verl {VERL_VERSION} does not "
            f"record where advantages are computed; use verl>={MIN_VERL},<{MAX_VERL}"
        ) from err
    step = int(SkipManager.step)
    if step < 1:
        raise ValueError(
            "a shaper schedule needs the training step, but no verl trainer has started a step "
            "in this process (verl.utils.skip.SkipManager.step is unset); advantages with a "
            "schedule are computed inside verl's RayPPOTrainer.fit or its v1 trainer"
        )
    return step


# The run's length as the verl trainer in this process computed it (its total_training_steps),
# recorded when the trainer is built (see _checked_init): a schedule placed by percentage needs
# no +algorithm.advshape_total_steps then.
_TRAINER_TOTAL_STEPS: list[int] = []


def _configured_total(config: Any) -> int | None:
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


def _total_steps(config: Any) -> int | None:
    value = _configured_total(config)
    if value is None and _TRAINER_TOTAL_STEPS:
        return _TRAINER_TOTAL_STEPS[-1]
    return value


def _configured_total_or_none(config: Any) -> int | None:
    try:
        return _total_steps(config)
    except ValueError:  # reported by the caller's own error
        return 0


def _step_shaper(shaper_name: str, config: Any) -> tuple[Shaper, dict[str, float]]:
    """The shaper of the current step and the scheduled parameters' values."""
    estimator = estimator_name(shaper_name)
    built = shaper_from_config(shaper_name, config)
    if built.is_constant:
        return built.at(1), {}
    try:
        step, total = current_step(), _total_steps(config)
        return built.at(step, total), built.values_at(step, total)
    except ValueError as err:
        hint = ""
        if built.needs_total and _configured_total_or_none(config) is None:
            hint = (
                f"; give the run's length as +algorithm.{PREFIX}{TOTAL_STEPS_KEY}=T (verl "
                "prints 'Total training steps: T'), or place the schedule's points by step "
                "number (VALUE@STEP)"
            )
        raise ValueError(f"algorithm.adv_estimator={estimator}: {err}{hint}") from err


# verl's synthetic padding rows (verl.trainer.ppo.padding_utils.upsample_batch_to_divisible_size,
# which the v1 trainer's _balance_batch calls before the advantage step): they share one uid,
# "pad" + uuid4().hex, and have an all-zero response mask (a 1-token response, masked).
PAD_UID = re.compile(r"pad[0-9a-f]{32}")


def padding_rows(index: Any, response_mask: torch.Tensor) -> np.ndarray:
    """Which rows of a verl batch are verl's own padding (v1 ``_balance_batch``).

    A row is padding when it carries both of verl's markers: the uid ``pad<32 hex>`` that
    ``upsample_batch_to_divisible_size`` gives every padding row, and an all-zero response
    mask (a real response is never both). Such rows get A = 0 and join no group.

    Args:
        index: the batch's uids (verl's ``index``), one per row.
        response_mask: ``[rows, response_length]``.

    Returns:
        bool ``[rows]``, True on padding rows.

    Example:
        >>> import numpy as np, torch
        >>> from advshape.integrations.verl import padding_rows
        >>> uids = np.array(["a", "a", "pad" + "0" * 32], dtype=object)
        >>> padding_rows(uids, torch.tensor([[1, 1], [1, 0], [0, 0]])).tolist()
        [False, False, True]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049:
        groups are the N responses to one prompt (Sec. 1.1); a padding row is none of them.
    """
    uids = np.asarray(index)
    by_uid = np.fromiter(
        (PAD_UID.fullmatch(str(u)) is not None for u in uids), dtype=bool, count=uids.size
    )
    if not by_uid.any():
        return by_uid
    empty = (response_mask.detach().reshape(len(uids), -1) == 0).all(dim=-1).cpu().numpy()
    return by_uid & empty


def _row_advantages(
    shaper_name: str,
    scores: torch.Tensor,
    index: Any,
    config: Any,
    padding: np.ndarray | None = None,
) -> torch.Tensor:
    """float64 advantage of each row (one response), shaped within its ``index`` group;
    ``padding`` rows (verl's synthetic ones) get 0 and are left out of every group and of the
    diagnostics. Records the step's diagnostics for :func:`collect_metrics`."""
    estimator = estimator_name(shaper_name)
    if _MISSING_PATCHES:
        raise ValueError(
            f"algorithm.adv_estimator={estimator}: verl {VERL_VERSION} no longer has "
            f"{', '.join(sorted(_MISSING_PATCHES))}, which advshape wraps; its advshape_* "
            f"estimators would be silently wrong. Use a tested verl: "
            f"pip install 'verl>={MIN_VERL},<{MAX_VERL}'"
        )
    if index is None:
        raise ValueError(
            f"algorithm.adv_estimator={estimator} groups responses by prompt and needs "
            "verl's 'uid' in non_tensor_batch (verl adds it when rollout.n > 1)"
        )
    shaper, scheduled_values = _step_shaper(shaper_name, config)
    groups = np.asarray(index)
    rewards = scores.detach().to(torch.float64)
    real = np.ones(len(groups), dtype=bool) if padding is None else ~padding
    with torch.no_grad():
        try:
            advantages = shape_rows(shaper, rewards, groups, real)
        except ValueError as err:
            hint = ""
            if config is not None and config.get("use_kl_in_reward", False):
                hint = (
                    " (algorithm.use_kl_in_reward=True adds a KL penalty to the rewards; "
                    "set it to False and use actor_rollout_ref.actor.use_kl_loss instead)"
                )
            raise ValueError(f"algorithm.adv_estimator={estimator}: {err}{hint}") from err
    _record_metrics(
        _metrics.batch_record(
            rewards.cpu().numpy()[real],
            advantages.cpu().numpy()[real],
            groups[real],
            scheduled=scheduled_values,
            padding_rows=int((~real).sum()),
        )
    )
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
        padding = None if index is None else padding_rows(index, response_mask)
        advantages = _row_advantages(
            shaper_name, token_level_rewards.sum(dim=-1), index, config, padding
        )
        advantages = advantages.to(token_level_rewards.dtype).unsqueeze(-1) * response_mask
        return advantages, advantages

    advshape_outcome_advantage.__name__ = f"compute_{estimator}_outcome_advantage"
    advshape_outcome_advantage.__qualname__ = advshape_outcome_advantage.__name__
    vars(advshape_outcome_advantage)["advshape_shaper"] = shaper_name  # marks it as ours
    return advshape_outcome_advantage


def register_shaper(shaper_name: str) -> str:
    """Register shaper ``shaper_name`` with verl as the estimator ``advshape_<name>``.

    Every shaper of advshape's registry is registered at import (:data:`ESTIMATORS`); use this
    for shapers added to the registry after. Idempotent: a second call (e.g. the entry point
    and ``VERL_USE_EXTERNAL_MODULES`` both loading this module) keeps the registered estimator.
    The estimator gives A_i = shaper(r of i's group)_i · mask[i, t], r_i = Σ_t
    token_level_rewards[i, t], grouped by verl's ``index``.

    Args:
        shaper_name: a name in ``advshape.names()``.

    Returns:
        The estimator's name, ``advshape_<name>``.

    Raises:
        ValueError: ``shaper_name`` is not in advshape's registry.

    Example:
        >>> from verl.trainer.ppo import core_algos
        >>> from advshape.integrations.verl import register_shaper
        >>> register_shaper("grpo_k")
        'advshape_grpo_k'
        >>> core_algos.get_adv_estimator_fn("advshape_grpo_k").advshape_shaper
        'grpo_k'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers, Table 1).
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
"""The verl estimator of every registry shaper, ``advshape_<name>``, registered at import."""


# ----------------------------------------------------------------------------- metrics channel

_PENDING: list[dict[str, float]] = []  # diagnostics of the calls since the last collection
_MAX_PENDING = 64  # a process that never collects (no verl trainer) keeps only the latest


def _record_metrics(values: Mapping[str, float]) -> None:
    _PENDING.append(dict(values))
    del _PENDING[:-_MAX_PENDING]


def collect_metrics() -> dict[str, float]:
    """The ``advshape/*`` metrics of the advantage calls since the last collection; forgets them.

    Several calls in one step (the v1 trainer's ``parameter_sync_step`` > 1) are combined as
    one pooled batch: counts summed, maxima maximised, fractions weighted by their groups or
    responses. The wrapped ``compute_data_metrics`` adds them to verl's metrics every step.

    Returns:
        ``{"advshape/groups": …, "advshape/pass@1": …, …}``; empty if nothing was shaped.

    Example:
        >>> import numpy as np, torch
        >>> from verl.trainer.ppo import core_algos
        >>> from advshape.integrations.verl import collect_metrics
        >>> rloo = core_algos.get_adv_estimator_fn("advshape_rloo")
        >>> advantages, _ = rloo(token_level_rewards=torch.tensor([[0.0, 1.0], [0.0, 0.0]]),
        ...                      response_mask=torch.ones(2, 2),
        ...                      index=np.array(["a", "a"], dtype=object), config={})
        >>> advantages.tolist()   # RLOO, N = 2: A⁺ = N(1 − ρ̂)/(N − 1) = 1, A⁻ = −1
        [[1.0, 1.0], [-1.0, -1.0]]
        >>> metrics = collect_metrics()
        >>> metrics["advshape/groups"], metrics["advshape/pass@1"], metrics["advshape/pass@2"]
        (1.0, 0.5, 1.0)
        >>> collect_metrics()   # taken out
        {}

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLOO, Eq. 6; the unbiased pass@k, Eq. 11).
    """
    pending = list(_PENDING)
    _PENDING.clear()
    return _metrics.combine(pending)


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
    every output of a session gets the session's advantage on its response tokens; the
    padding sessions ``_balance_batch`` appends (:func:`padding_rows`) get 0. Writes
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
    session_uids = None if uids is None else np.asarray(uids)[final_rows.numpy()]
    session_advantages = _row_advantages(
        shaper_name,
        rewards[final_rows].sum(dim=-1),
        session_uids,
        config,
        None if session_uids is None else padding_rows(session_uids, mask[final_rows]),
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


# ----------------------------------------------------------------------------- up-front checks


def check_trainer_config(
    config: Any, total_training_steps: int | None = None, *, require_total: bool = True
) -> None:
    """Fail now, not at step 4, if a verl run's advantage step would fail later.

    Checks an ``advshape_*`` estimator's shaper and parameters, every K its schedule reaches
    against the group size ``actor_rollout_ref.rollout.n`` (the unbiased Pass@K estimators
    need K ≤ N, paper Eq. 11), and that a schedule placed by percentage knows the run's
    length. Both verl trainers run it when they are built and again when ``fit`` starts,
    before the first update; a run with another estimator is left alone.

    Args:
        config: verl's whole trainer config (``algorithm``, ``actor_rollout_ref``, …).
        total_training_steps: the run's length as the trainer computed it; it stands in for
            ``+algorithm.advshape_total_steps`` (and must agree with it when both are given).
        require_total: refuse a percentage schedule whose run length is unknown (False when
            the trainer is built: verl's v1 trainer computes its length later, in ``init``).

    Raises:
        ValueError: naming the setting to change, e.g. ``actor_rollout_ref.rollout.n=4 does
            not suit shaper 'grpo_k:k=linear(2,8)': ... k=8 > group size n=4``.

    Example:
        >>> from omegaconf import OmegaConf
        >>> from advshape.integrations.verl import check_trainer_config
        >>> config = OmegaConf.create({
        ...     "algorithm": {"adv_estimator": "advshape_grpo_k", "advshape_k": "linear(2,8)"},
        ...     "actor_rollout_ref": {"rollout": {"n": 4}}})
        >>> check_trainer_config(config, total_training_steps=100)
        Traceback (most recent call last):
        ...
        ValueError: algorithm.adv_estimator=advshape_grpo_k: actor_rollout_ref.rollout.n=4 does not suit shaper 'grpo_k:k=linear(2,8)': ...

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (K ≤ N for the unbiased Pass@K estimators, Eq. 11).
    """
    algorithm = config.algorithm
    name = str(algorithm.get("adv_estimator", ""))
    if not name.startswith(PREFIX):
        return
    try:
        fn = core_algos.get_adv_estimator_fn(name)
    except ValueError:
        return  # verl itself reports an unknown estimator
    shaper_name = getattr(fn, "advshape_shaper", None)
    if shaper_name is None:
        return
    shaper = shaper_from_config(shaper_name, algorithm)
    group_size = int(config.actor_rollout_ref.rollout.n)
    try:
        check_group_size(shaper, group_size, "actor_rollout_ref.rollout.n")
    except ValueError as err:
        raise ValueError(f"algorithm.adv_estimator={name}: {err}") from err
    configured = _configured_total(algorithm)
    if configured is not None and total_training_steps and configured != total_training_steps:
        raise ValueError(
            f"algorithm.adv_estimator={name}: +algorithm.{PREFIX}{TOTAL_STEPS_KEY}={configured} "
            f"but verl's trainer runs {total_training_steps} steps; drop the setting (advshape "
            "reads the trainer's length) or make them equal"
        )
    if total_training_steps:
        _TRAINER_TOTAL_STEPS[:] = [int(total_training_steps)]
    if (
        require_total
        and not shaper.is_constant
        and shaper.needs_total
        and _total_steps(algorithm) is None
    ):
        raise ValueError(
            f"algorithm.adv_estimator={name}: shaper {shaper.spec!r} places its schedule by "
            f"percentage and needs the run's length: set trainer.total_training_steps or "
            f"+algorithm.{PREFIX}{TOTAL_STEPS_KEY}=T, or place the points by step number "
            "(VALUE@STEP)"
        )


def _check_trainer(trainer: Any, require_total: bool) -> None:
    config = getattr(trainer, "config", None)
    if config is not None and hasattr(config, "algorithm"):
        total = getattr(trainer, "total_training_steps", None)
        check_trainer_config(config, total, require_total=require_total)


def _checked_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _check_trainer(self, require_total=False)  # v1 knows its length only after init()

    vars(__init__)["__advshape_wrapped__"] = original
    return __init__


def _checked_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        _check_trainer(self, require_total=True)  # before the first step: length known
        return original(self, *args, **kwargs)

    vars(fit)["__advshape_wrapped__"] = original
    return fit


# ----------------------------------------------------------------------------- install

_WRAPPERS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "compute_data_metrics": _wrapped_data_metrics,
    "compute_advantage_for_multi_trajectories": _wrapped_multi_trajectories,
}
_METHOD_WRAPPERS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "__init__": _checked_init,
    "fit": _checked_fit,
}
# Module -> (functions it defines or imports by name, trainer class) that advshape wraps.
_PATCHES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "verl.trainer.ppo.metric_utils": (("compute_data_metrics",), None),
    "verl.trainer.ppo.ray_trainer": (("compute_data_metrics",), "RayPPOTrainer"),
    "verl.trainer.ppo.v1.utils": (("compute_advantage_for_multi_trajectories",), None),
    "verl.trainer.ppo.v1.trainer_base": (
        ("compute_data_metrics", "compute_advantage_for_multi_trajectories"),
        "PPOTrainer",
    ),
}
_MISSING_PATCHES: set[str] = set()  # "module.attribute" that this verl lacks


def _patch(module: ModuleType) -> None:
    functions, trainer_class = _PATCHES.get(module.__name__, ((), None))
    missing = []
    for attribute in functions:
        original = getattr(module, attribute, None)
        if not callable(original):
            missing.append(f"{module.__name__}.{attribute}")
        elif not hasattr(original, "__advshape_wrapped__"):
            setattr(module, attribute, _WRAPPERS[attribute](original))
    if trainer_class is not None:
        cls = getattr(module, trainer_class, None)
        for method, wrap in _METHOD_WRAPPERS.items():
            original = getattr(cls, method, None)
            if not callable(original):
                missing.append(f"{module.__name__}.{trainer_class}.{method}")
            elif not hasattr(original, "__advshape_wrapped__"):
                setattr(cls, method, wrap(original))
    if missing:
        # Loud, but verl itself keeps working: only advshape's estimators refuse to run.
        _MISSING_PATCHES.update(missing)
        warnings.warn(
            f"advshape: verl {VERL_VERSION} has no {', '.join(missing)}; advshape_* advantage "
            f"estimators will refuse to run. Tested verl: >={MIN_VERL},<{MAX_VERL}",
            RuntimeWarning,
            stacklevel=2,
        )


patch_on_import(dict.fromkeys(_PATCHES, _patch))
