"""SkyRL integration: every advshape shaper as a SkyRL advantage estimator ``advshape_<name>``.

Importing this module registers, in SkyRL's ``AdvantageEstimatorRegistry``, one estimator
per registry shaper under the names verl uses (``advshape_grpo_k``, ``advshape_skew_r``, …).
SkyRL's registry keeps a named Ray actor in sync: an estimator registered after ``ray.init``
is pushed to it at once, and SkyRL's own ``initialize_ray`` (``sync_registries``) pushes those
registered before; a Ray worker that asks the registry for one unpickles it, which imports
this module there too (the estimators are instances of a class of this module).

SkyRL's typed config accepts no new keys on the command line, so the parameters travel in a
subclass of its ``AlgorithmConfig`` with one field ``advshape_<param>`` per registry parameter
(the spec parameters of verl's ``+algorithm.advshape_<param>``)::

    from advshape.integrations.skyrl import AdvshapeConfig   # SkyRLTrainConfig + those fields
    cfg = AdvshapeConfig.from_cli_overrides(sys.argv[1:])
    # trainer.algorithm.advantage_estimator=advshape_grpo_k trainer.algorithm.advshape_k=4

**The step-wise multi-turn path** (``generator.step_wise_trajectories=true``): SkyRL's
trainer gives the estimator the last step of each trajectory, with its uid and an all-ones
mask, and broadcasts each trajectory's advantage over all its steps; an outcome shaper needs
nothing more, so the same estimators serve both paths.

SkyRL's trainer, ``skyrl.train.trainer.RayPPOTrainer``, is wrapped when it is imported:

- ``compute_advantages_and_returns`` records the trainer's ``global_step`` and
  ``total_training_steps`` for a K schedule (``advshape_k='linear(8,1)'``; a resumed run
  restores ``global_step``, so it resolves every step as an uninterrupted one), tells the
  estimator which rows are SkyRL's padding (the last ``metadata["pad_size"]`` rows, uids
  ``pad0``, ``pad1``, …: advantage 0, in no group), and adds the ``advshape/*`` diagnostics
  to the step's ``all_metrics``;
- ``__init__`` checks, before any worker starts, the shaper, its parameters and every K of its
  schedule against ``generator.n_samples_per_prompt`` (:func:`check_trainer_config`).

Supported: skyrl >= 0.3, < 0.5 (tested with 0.3.0, the newest that installs on Python 3.11:
0.4.0 requires Python >= 3.12). SkyRL's ``skyrl.tinker.types`` does not import on Python < 3.12
(pydantic refuses ``typing.TypedDict`` there), whatever skyrl 0.3.0 declares.
"""

# No `from __future__ import annotations` here: SkyRL builds its config from the dataclass
# fields' runtime types, which must be classes, not strings.
import contextlib
import dataclasses
import functools
import sys
from collections.abc import Callable, Iterator
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

SUPPORTED_SKYRL = ("0.3", "0.5")
"""The supported SkyRL versions, ``(lowest, first unsupported)``: skyrl >= 0.3, < 0.5."""

SKYRL_VERSION = require_version("skyrl", *SUPPORTED_SKYRL, __name__, "skyrl")

try:
    from skyrl.backends.skyrl_train.utils import ppo_utils
    from skyrl.train.config import AlgorithmConfig, SkyRLTrainConfig, TrainerConfig
except Exception as err:  # pydantic's error on Python < 3.12 is no ImportError
    if sys.version_info < (3, 12) and "TypedDict" in str(err):
        raise ImportError(
            f"SkyRL {SKYRL_VERSION} does not import on Python "
            f"{sys.version_info.major}.{sys.version_info.minor}: its skyrl.tinker.types use "
            "typing.TypedDict, which pydantic refuses before Python 3.12. Use Python >= 3.12 "
            "(skyrl 0.4 requires it)"
        ) from err
    raise

__all__ = [
    "ESTIMATORS",
    "PREFIX",
    "SUPPORTED_SKYRL",
    "AdvshapeAlgorithmConfig",
    "AdvshapeConfig",
    "AdvshapeTrainerConfig",
    "check_trainer_config",
    "collect_metrics",
    "register_shaper",
    "shaper_from_config",
]

PREFIX = "advshape_"
"""The prefix of the estimator names (``advshape_grpo_k``) and of their parameters in
``trainer.algorithm`` (``advshape_k``), as in verl."""
TOTAL_STEPS_KEY = "total_steps"
_PARAMS = sorted({p.name for entry in advshape.registry().values() for p in entry.params})


def _config_field(param: str) -> tuple[str, Any, Any]:
    return (PREFIX + param, Any, dataclasses.field(default=None))


def _param_docs() -> str:
    """One ``Attributes:`` entry per field of :class:`AdvshapeAlgorithmConfig`."""
    users: dict[str, list[Any]] = {}
    for name, entry in advshape.registry().items():
        for param in entry.params:
            users.setdefault(param.name, []).append((name, param.doc))
    lines = [
        f"    {PREFIX}{p}: ``{p}`` of {', '.join(n for n, _ in users[p])}, {users[p][0][1]}; "
        "None: not given."
        for p in _PARAMS
    ]
    lines.append(
        f"    {PREFIX}{TOTAL_STEPS_KEY}: the run's length T, for a K schedule placed by "
        "percentage (default: the trainer's total_training_steps)."
    )
    return "\n".join(lines)


# SkyRL's AlgorithmConfig with one optional field per registry parameter (None: not given).
AdvshapeAlgorithmConfig = dataclasses.make_dataclass(
    "AdvshapeAlgorithmConfig",
    [_config_field(p) for p in (*_PARAMS, TOTAL_STEPS_KEY)],
    bases=(AlgorithmConfig,),
)
"""SkyRL's ``AlgorithmConfig`` plus an optional field ``advshape_<param>`` per registry parameter.

SkyRL's typed config accepts no new keys, so every parameter of advshape's registry has a field
here (None: not given). Its runtime docstring lists them all.

Attributes:
    advshape_<param>: a parameter of the selected shaper (``advshape_k``, ``advshape_gamma``,
        ``advshape_lam``, …), as in a spec: ``advshape_k=4``, or a numeric value's schedule,
        ``advshape_k='linear(8,1)'``; None: not given.
    advshape_total_steps: the run's length T, for a K schedule placed by percentage (default:
        the trainer's ``total_training_steps``).

References:
    Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
    (the shapers and their parameters, Table 1).
"""
# pickled by reference, so a Ray worker that unpickles a config imports this module
AdvshapeAlgorithmConfig.__module__ = __name__
AdvshapeAlgorithmConfig.__doc__ = f"""SkyRL's ``AlgorithmConfig`` plus an optional field ``advshape_<param>`` per registry parameter.

SkyRL's typed config accepts no new keys on the command line, so every parameter of advshape's
registry has a field here, set as ``trainer.algorithm.advshape_<param>=<value>``.

Attributes:
{_param_docs()}

Example:
    >>> from advshape.integrations.skyrl import AdvshapeAlgorithmConfig, shaper_from_config
    >>> shaper_from_config("grpo_k", AdvshapeAlgorithmConfig(advshape_k=8)).spec
    'grpo_k:k=8'

References:
    Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
    (the shapers and their parameters, Table 1).
"""


@dataclasses.dataclass
class AdvshapeTrainerConfig(TrainerConfig):
    """SkyRL's ``TrainerConfig`` whose ``algorithm`` is :class:`AdvshapeAlgorithmConfig`.

    Attributes:
        algorithm: SkyRL's algorithm settings plus the ``advshape_<param>`` fields.

    Example:
        >>> from advshape.integrations.skyrl import AdvshapeTrainerConfig
        >>> algorithm = AdvshapeTrainerConfig().algorithm
        >>> type(algorithm).__name__, algorithm.advshape_k
        ('AdvshapeAlgorithmConfig', None)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers and their parameters, Table 1).
    """

    algorithm: Any = dataclasses.field(default_factory=AdvshapeAlgorithmConfig)


# SkyRL builds nested configs from each field's type: a class made by make_dataclass cannot be
# written as an annotation (for the type checker), so the field's type is set here.
AdvshapeTrainerConfig.__dataclass_fields__["algorithm"].type = AdvshapeAlgorithmConfig


@dataclasses.dataclass
class AdvshapeConfig(SkyRLTrainConfig):
    """SkyRL's ``SkyRLTrainConfig`` accepting ``trainer.algorithm.advshape_<param>=<value>``.

    Build it as SkyRL's own, ``AdvshapeConfig.from_cli_overrides(sys.argv[1:])``.

    Attributes:
        trainer: SkyRL's trainer settings, whose ``algorithm`` has the ``advshape_<param>``
            fields (:class:`AdvshapeTrainerConfig`).

    Example:
        >>> from advshape.integrations.skyrl import AdvshapeConfig, shaper_from_config
        >>> cfg = AdvshapeConfig.from_cli_overrides([
        ...     "trainer.algorithm.advantage_estimator=advshape_grpo_k",
        ...     "trainer.algorithm.advshape_k=4"])
        >>> cfg.trainer.algorithm.advshape_k, cfg.trainer.algorithm.advshape_gamma
        (4, None)
        >>> shaper_from_config("grpo_k", cfg.trainer.algorithm).spec
        'grpo_k:k=4'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers and their parameters, Table 1).
    """

    trainer: AdvshapeTrainerConfig = dataclasses.field(default_factory=AdvshapeTrainerConfig)


def _config_params(config: Any) -> dict[str, Any]:
    """``{"k": 8}`` from an algorithm config whose ``advshape_k`` is 8 (dataclass or mapping)."""
    if config is None:
        return {}
    items = config.items() if hasattr(config, "items") else vars(config).items()
    return {
        str(key)[len(PREFIX) :]: value
        for key, value in items
        if str(key).startswith(PREFIX) and value is not None and key != PREFIX + TOTAL_STEPS_KEY
    }


def _get(config: Any, key: str) -> Any:
    if config is None:
        return None
    return config.get(key) if hasattr(config, "get") else getattr(config, key, None)


@functools.lru_cache(maxsize=64)
def _build(shaper_name: str, params: tuple[tuple[str, Any], ...]) -> ScheduledShaper:
    return scheduled_from_params(
        shaper_name,
        params,
        f"trainer.algorithm.advantage_estimator={PREFIX}{shaper_name}",
        f"trainer.algorithm.{PREFIX}<param>=<value> with the config class "
        "advshape.integrations.skyrl.AdvshapeConfig",
    )


def shaper_from_config(shaper_name: str, config: Any) -> ScheduledShaper:
    """The registry shaper ``shaper_name`` with the ``advshape_*`` parameters of SkyRL's config.

    The parameters are the fields ``advshape_<param>`` of ``trainer.algorithm`` that are not
    None: ``advshape_k=4`` gives ``k=4``.

    Args:
        shaper_name: a registry name, ``"grpo_k"``.
        config: SkyRL's algorithm config (:class:`AdvshapeAlgorithmConfig` or a mapping);
            fields left None are not given.

    Returns:
        An :class:`advshape.ScheduledShaper` (constant unless a parameter is a schedule).

    Raises:
        ValueError: an unknown or missing parameter, naming ``trainer.algorithm.advshape_<param>``.

    Example:
        >>> from advshape.integrations.skyrl import shaper_from_config
        >>> shaper_from_config("grpo_k", {"advshape_k": "linear(8,2)"}).values_at(1, 10)
        {'k': 8}

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers and their parameters, Table 1).
    """
    return _build(shaper_name, tuple(sorted(_config_params(config).items())))


# --------------------------------------------------------------------- what the trainer tells


@dataclasses.dataclass
class _Step:
    step: int | None = None
    total: int | None = None
    padding: frozenset[str] = frozenset()


_CURRENT = _Step()
_PENDING: list[dict[str, float]] = []
_MAX_PENDING = 64


@contextlib.contextmanager
def _trainer_step(step: int | None, total: int | None, padding: frozenset[str]) -> Iterator[None]:
    saved = dataclasses.replace(_CURRENT)
    _CURRENT.step, _CURRENT.total, _CURRENT.padding = step, total, padding
    try:
        yield
    finally:
        _CURRENT.step, _CURRENT.total, _CURRENT.padding = saved.step, saved.total, saved.padding


def collect_metrics() -> dict[str, float]:
    """The ``advshape/*`` metrics of the estimator calls since the last collection; forgets them.

    The calls are pooled as one batch (counts summed, maxima maximised, fractions over all
    groups). The wrapped trainer adds them to its ``all_metrics`` every step.

    Returns:
        ``{"advshape/groups": …, "advshape/pass@1": …, …}``; empty if nothing was shaped.

    Example:
        >>> from advshape.integrations.skyrl import collect_metrics
        >>> collect_metrics()   # nothing shaped since the last call
        {}

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the unbiased pass@k, Eq. 11).
    """
    pending = list(_PENDING)
    _PENDING.clear()
    return _metrics.combine(pending)


def _step_shaper(shaper_name: str, config: Any) -> tuple[Shaper, dict[str, float]]:
    built = shaper_from_config(shaper_name, config)
    if built.is_constant:
        return built.at(1), {}
    total = _get(config, PREFIX + TOTAL_STEPS_KEY) or _CURRENT.total
    if _CURRENT.step is None:
        raise ValueError(
            f"trainer.algorithm.advantage_estimator={PREFIX}{shaper_name}: shaper "
            f"{built.spec!r} follows a schedule, but no SkyRL trainer step is running in this "
            "process (advshape reads it in RayPPOTrainer.compute_advantages_and_returns, "
            "wrapped when skyrl.train.trainer is imported after advshape.integrations.skyrl)"
        )
    try:
        return built.at(_CURRENT.step, total), built.values_at(_CURRENT.step, total)
    except ValueError as err:
        raise ValueError(f"trainer.algorithm.advantage_estimator={PREFIX}{shaper_name}: {err}") from err


class _Estimator:
    """``advshape_<name>`` for SkyRL: ``(token_level_rewards, response_mask, index, config,
    **kwargs) -> (advantages, returns)``, A_i = shaper(r of i's group)_i · mask[i, t] with
    r_i = Σ_t token_level_rewards[i, t] and groups the rows sharing ``index[i]``."""

    def __init__(self, shaper_name: str) -> None:
        self.advshape_shaper = shaper_name
        self.__name__ = f"compute_{PREFIX}{shaper_name}_advantage"

    def __call__(
        self,
        token_level_rewards: torch.Tensor,
        response_mask: torch.Tensor,
        index: Any = None,
        config: Any = None,
        **unused: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        name = PREFIX + self.advshape_shaper
        if index is None:
            raise ValueError(f"trainer.algorithm.advantage_estimator={name} needs SkyRL's uids")
        shaper, scheduled = _step_shaper(self.advshape_shaper, config)
        groups = np.asarray(index)
        real = ~np.isin(groups.astype(str), list(_CURRENT.padding))
        rewards = token_level_rewards.sum(dim=-1).detach().to(torch.float64)
        with torch.no_grad():
            try:
                advantages = shape_rows(shaper, rewards, groups, real)
            except ValueError as err:
                raise ValueError(f"trainer.algorithm.advantage_estimator={name}: {err}") from err
        _PENDING.append(
            _metrics.batch_record(
                rewards.cpu().numpy()[real],
                advantages.cpu().numpy()[real],
                groups[real],
                scheduled=scheduled,
                padding_rows=int((~real).sum()),
            )
        )
        del _PENDING[:-_MAX_PENDING]
        out = advantages.to(token_level_rewards.dtype).unsqueeze(-1) * response_mask
        return out, out


def register_shaper(shaper_name: str) -> str:
    """Register a registry shaper in SkyRL's ``AdvantageEstimatorRegistry`` as ``advshape_<name>``.

    SkyRL pushes it to its registry actor when Ray is up. Idempotent; every shaper of
    advshape's registry is registered at import (:data:`ESTIMATORS`), so this is for shapers
    added later. The estimator gives A_i = shaper(r of i's group)_i · mask[i, t], r_i = Σ_t
    token_level_rewards[i, t], grouped by SkyRL's uids.

    Args:
        shaper_name: a name in ``advshape.names()``.

    Returns:
        The estimator's name, ``advshape_<name>``.

    Raises:
        ValueError: ``shaper_name`` is not in advshape's registry.

    Example:
        >>> from advshape.integrations.skyrl import register_shaper
        >>> register_shaper("grpo_k")
        'advshape_grpo_k'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers, Table 1).
    """
    if shaper_name not in advshape.names():
        raise ValueError(f"no shaper {shaper_name!r} in advshape's registry ({advshape.names()})")
    name = PREFIX + shaper_name
    registry = ppo_utils.AdvantageEstimatorRegistry
    if name not in registry.list_available():
        registry.register(name, _Estimator(shaper_name))
    return name


ESTIMATORS: tuple[str, ...] = tuple(register_shaper(name) for name in advshape.names())
"""The SkyRL estimator of every registry shaper, ``advshape_<name>``, registered at import."""


# --------------------------------------------------------------------- the trainer's checks


def check_trainer_config(cfg: Any, total_training_steps: int | None = None) -> None:
    """Fail when the trainer is built, not at step 4, if a SkyRL run's advantage step would.

    Checks an ``advshape_*`` estimator's shaper and parameters, every K its schedule reaches
    against ``generator.n_samples_per_prompt`` (the unbiased Pass@K estimators need K ≤ N,
    paper Eq. 11) and that a schedule placed by percentage knows the run's length. The
    wrapped ``RayPPOTrainer.__init__`` runs it; a run with another estimator is left alone.

    Args:
        cfg: SkyRL's whole config (:class:`AdvshapeConfig`).
        total_training_steps: the trainer's run length, for percentage schedules.

    Raises:
        ValueError: naming the setting to change and the K that does not fit.

    Example:
        >>> from advshape.integrations.skyrl import AdvshapeConfig, check_trainer_config
        >>> cfg = AdvshapeConfig.from_cli_overrides([
        ...     "trainer.algorithm.advantage_estimator=advshape_grpo_k",
        ...     "trainer.algorithm.advshape_k=8", "generator.n_samples_per_prompt=4"])
        >>> check_trainer_config(cfg)
        Traceback (most recent call last):
        ...
        ValueError: trainer.algorithm.advantage_estimator=advshape_grpo_k: generator.n_samples_per_prompt=4 does not suit shaper 'grpo_k:k=8': ...

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (K ≤ N for the unbiased Pass@K estimators, Eq. 11).
    """
    algorithm = cfg.trainer.algorithm
    name = str(algorithm.advantage_estimator)
    if not name.startswith(PREFIX) or name[len(PREFIX) :] not in advshape.names():
        return
    shaper = shaper_from_config(name[len(PREFIX) :], algorithm)
    group_size = int(cfg.generator.n_samples_per_prompt)
    try:
        check_group_size(shaper, group_size, "generator.n_samples_per_prompt")
    except ValueError as err:
        raise ValueError(f"trainer.algorithm.advantage_estimator={name}: {err}") from err
    total = _get(algorithm, PREFIX + TOTAL_STEPS_KEY) or total_training_steps
    if not shaper.is_constant and shaper.needs_total and not total:
        raise ValueError(
            f"trainer.algorithm.advantage_estimator={name}: shaper {shaper.spec!r} places its "
            "schedule by percentage and needs the run's length; SkyRL's trainer did not report "
            f"one: set trainer.algorithm.{PREFIX}{TOTAL_STEPS_KEY}=T or place the points by "
            "step number (VALUE@STEP)"
        )


def _padding_uids(data: Any) -> frozenset[str]:
    """SkyRL's padding rows (training_batch.pad_training_input_batch): the last
    ``metadata['pad_size']`` rows, uids ``pad0``, ``pad1``, …, copies of row 0."""
    metadata = getattr(data, "metadata", None) or {}
    pad = int(metadata.get("pad_size", 0) or 0)
    if not pad:
        return frozenset()
    uids = [str(u) for u in metadata.get("uids", [])]
    marks = [f"pad{i}" for i in range(pad)]
    if uids[-pad:] != marks or set(marks) & set(uids[:-pad]):
        raise ValueError(
            f"SkyRL padded the batch by {pad} rows, but its uids do not mark them as "
            "pad_training_input_batch does (the last rows 'pad0', 'pad1', …, no real uid "
            "among them); this SkyRL is not one advshape supports"
        )
    return frozenset(marks)


def _wrapped_advantages(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def compute_advantages_and_returns(self: Any, data: Any) -> Any:
        total = getattr(self, "total_training_steps", None)
        with _trainer_step(getattr(self, "global_step", None), total, _padding_uids(data)):
            collect_metrics()
            out = original(self, data)
            metrics = getattr(self, "all_metrics", None)
            if isinstance(metrics, dict):
                metrics.update(collect_metrics())
        return out

    vars(compute_advantages_and_returns)["__advshape_wrapped__"] = original
    return compute_advantages_and_returns


def _checked_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        check_trainer_config(self.cfg, getattr(self, "total_training_steps", None))

    vars(__init__)["__advshape_wrapped__"] = original
    return __init__


_METHODS = {"compute_advantages_and_returns": _wrapped_advantages, "__init__": _checked_init}


def _patch(module: ModuleType) -> None:
    trainer = getattr(module, "RayPPOTrainer", None)
    for method, wrap in _METHODS.items():
        original = getattr(trainer, method, None)
        if not callable(original):
            raise ImportError(
                f"skyrl.train.trainer.RayPPOTrainer has no {method}, which advshape wraps; "
                f"skyrl {SKYRL_VERSION} is not supported (skyrl >= {SUPPORTED_SKYRL[0]}, "
                f"< {SUPPORTED_SKYRL[1]})"
            )
        if not hasattr(original, "__advshape_wrapped__"):
            setattr(trainer, method, wrap(original))


patch_on_import({"skyrl.train.trainer": _patch})
