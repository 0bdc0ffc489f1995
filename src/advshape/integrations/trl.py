"""TRL integration: a ``GRPOTrainer`` whose advantages come from an advshape shaper.

    from advshape.integrations.trl import GRPOTrainer
    trainer = GRPOTrainer(model=..., reward_funcs=..., args=GRPOConfig(...),
                          train_dataset=..., shaper="grpo_k:k=8")

TRL computes GRPO advantages inline in ``GRPOTrainer._generate_and_score_completions`` and has
no hook for replacing them. The narrowest override in TRL 1.x is two methods:

1. ``_calculate_rewards`` returns the reward of every reward function for every completion,
   already gathered across processes, in an order where each prompt's ``num_generations``
   completions are contiguous (TRL's ``RepeatSampler`` guarantees this). We keep a reference.
2. ``_generate_and_score_completions`` returns the local batch (not yet shuffled or split
   into gradient-accumulation steps) with ``"advantages"``. We recompute them from the kept
   rewards: the reward of completion i is Σ_f w_f·r_f,i (TRL's ``reward_weights``, missing
   rewards counted as 0, as TRL does), groups are consecutive runs of ``num_generations``,
   the shaper gives the advantages of the whole gathered batch, and this process keeps its
   own slice, exactly where TRL slices. The completions table (``_logs["advantages"]``) gets
   the shaped values too, and ``advshape/advantage_*`` metrics are logged.

Because the shaping happens on the gathered batch before TRL shuffles and splits it, the
result is the same on one process or many. TRL's ``scale_rewards`` and the std/mean
normalisation it configures play no part: the shaper defines the advantage completely
(``shaper="grpo:std=sample,eps=0.0001"`` is TRL's default formula, (r − mean)/(std + 1e-4)
with the sample std; TRL evaluates it in float32, advshape in float64).

A completion for which every reward function returned None gets advantage 0 and is left out
of its group, as in TRL; the rest of its group is shaped as a smaller group, unless it is
smaller than the shaper needs (two for RLOO, K for the unbiased Pass@K shapers): then the whole
group gets 0, as plain TRL gives 0 below two, training goes on, a warning names the reward
functions that returned None, and ``advshape/skipped_groups`` counts such groups.

**K schedules.** A spec with a schedule (``shaper="grpo_k:k=linear(8,1)"``, see
``advshape.shaper``) is resolved for each generation batch at step s = ``state.global_step``
+ 1 (the optimisation step the batch is generated for, as TRL logs it) of a run of
``state.max_steps`` steps. Both come from TRL's ``TrainerState``, which a resumed run restores
from its checkpoint, so a resumed run uses the same K at every step as an uninterrupted one.
With ``steps_per_generation`` > 1 one batch serves several steps; it is shaped with the K of
the first. The resolved values are logged as ``advshape/<param>`` (``advshape/k``).

**Diagnostics.** Every batch's per-group statistics (:func:`advshape.group_diagnostics` on
the shaped rows of the gathered batch; a completion counts as correct when its reward is ≥ 1)
are kept as a record, and :meth:`GRPOTrainer.log` combines the records of its logging window
exactly (``advshape.integrations._metrics``: counts summed, maxima maximised, fractions over
all the window's groups), so ``logging_steps`` > 1 reports the pooled values, not averages of
per-batch ones. The keys and their definitions: docs/trl.md.

Supported TRL versions: 1.0 ≤ TRL < 2. CI runs the integration tests with TRL 1.0.0 and
1.16.0 (the overridden methods ``_calculate_rewards``, ``_generate_and_score_completions`` and
``log`` and the ``_logs``/``_metrics``/``reward_weights`` attributes keep their contract across
1.x); an unsupported version fails at import with the versions to install.
"""

from __future__ import annotations

import warnings
from collections import defaultdict, deque
from typing import Any, NamedTuple, cast

import numpy as np
import torch

import advshape
from advshape import ScheduledShaper, Shaper
from advshape.integrations import _metrics
from advshape.integrations._checks import check_group_size, require_version, resolve_shaper

__all__ = [
    "SUPPORTED_TRL",
    "GRPOTrainer",
    "ShapedBatch",
    "check_settings",
    "shape_batch",
    "shaped_advantages",
]

SUPPORTED_TRL = ("1.0", "2")
"""The supported TRL versions, ``(lowest, first unsupported)``: TRL >= 1.0, < 2."""


TRL_VERSION = require_version("trl", *SUPPORTED_TRL, __name__, "trl")

import trl  # noqa: E402  (after the version check, so an old TRL fails with our message)

for _method in ("_calculate_rewards", "_generate_and_score_completions"):
    if not hasattr(trl.GRPOTrainer, _method):
        raise ImportError(
            f"trl.GRPOTrainer has no {_method}; this TRL build is not one advshape supports "
            f"(TRL >= {SUPPORTED_TRL[0]}, < {SUPPORTED_TRL[1]})"
        )


def _weighted_rewards(
    rewards_per_func: torch.Tensor, reward_weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(r_i = Σ_f w_f·r_{f,i} over the functions that scored i, float64; scored mask)."""
    weights = reward_weights.to(device=rewards_per_func.device, dtype=torch.float64)
    rewards = (rewards_per_func.to(torch.float64) * weights.unsqueeze(0)).nansum(dim=1)
    return rewards, ~torch.isnan(rewards_per_func).all(dim=1)


class ShapedBatch(NamedTuple):
    """What :func:`shape_batch` did with one gathered TRL batch.

    Attributes:
        advantages: float64 ``[B·N]``; 0 on every row of a skipped group and on unscored rows.
        shaped: bool ``[B·N]``, the rows that were shaped.
        group_ids: int ``[B·N]``: row i belongs to group i // num_generations.
        rewards: float64 ``[B·N]``, r_i = Σ_f w_f·r_{f,i} (0 where unscored).
        skipped_sizes: the scored sizes of the skipped groups (0: none scored).
        unscoring: the reward functions that returned None in a skipped group.

    Example:
        >>> import torch, advshape
        >>> from advshape.integrations.trl import shape_batch
        >>> batch = shape_batch(advshape.shaper("grpo"), torch.tensor([[1.0], [0.0]]),
        ...                     torch.ones(1), 2)
        >>> batch.advantages.tolist(), batch.shaped.tolist(), batch.group_ids.tolist()
        ([1.0, -1.0], [True, True], [0, 0])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO's advantages, Eq. 8).
    """

    advantages: torch.Tensor
    shaped: np.ndarray
    group_ids: np.ndarray
    rewards: torch.Tensor
    skipped_sizes: tuple[int, ...]
    unscoring: tuple[str, ...]


_ACCEPTS: dict[tuple[str, int], bool] = {}


def _accepts(shaper: Shaper, size: int) -> bool:
    """Whether ``shaper`` is defined for a group of ``size`` (the core's own rule)."""
    key = (shaper.spec, size)
    if key not in _ACCEPTS:
        try:
            advshape.scheduled(shaper).check_group_size(size) if size > 0 else None
            _ACCEPTS[key] = size > 0
        except ValueError:
            _ACCEPTS[key] = False
    return _ACCEPTS[key]


def shape_batch(
    shaper: Shaper,
    rewards_per_func: torch.Tensor,
    reward_weights: torch.Tensor,
    num_generations: int,
    reward_func_names: list[str] | None = None,
) -> ShapedBatch:
    """Shape a gathered TRL batch: one group per run of ``num_generations`` rows.

    The reward of completion i is r_i = Σ_f w_f·r_{f,i} over the reward functions that scored
    it; a row no function scored (all returned None) is *unscored*. A group is shaped over its
    scored rows when the shaper is defined for that many (its minimum group size; K ≤ N for
    the unbiased Pass@K estimators, paper Eq. 11); otherwise the whole group gets A = 0, as
    plain TRL gives 0 to a group with fewer than two scored completions.

    Args:
        shaper: the step's shaper.
        rewards_per_func: ``[B·N, F]``, NaN where a reward function returned None; each
            prompt's completions contiguous (TRL's sampler).
        reward_weights: ``[F]``, TRL's ``reward_weights``.
        num_generations: the group size N.
        reward_func_names: for messages.

    Returns:
        A :class:`ShapedBatch`: float64 advantages, the shaped rows, group ids, rewards, the
        scored sizes of the skipped groups and the functions that returned None in them.

    Raises:
        ValueError: rewards the shaper refuses (non-binary for a binary-only one), naming the
            reward functions and their weights.

    Example:
        >>> import torch, advshape
        >>> from advshape.integrations.trl import shape_batch
        >>> nan = float("nan")
        >>> rewards = torch.tensor([[1.], [0.], [nan], [1.], [nan], [nan], [nan], [1.]])
        >>> batch = shape_batch(advshape.shaper("rloo"), rewards, torch.ones(1), 4)
        >>> batch.advantages.tolist()   # group 2 has one scored completion: 0
        [0.5, -1.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0]
        >>> batch.skipped_sizes
        (1,)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (K ≤ N for the unbiased Pass@K estimators, Eq. 11).
    """
    total = int(rewards_per_func.shape[0])
    if total % num_generations:
        raise ValueError(
            f"got {total} rewards, not a multiple of num_generations={num_generations}; "
            "TRL must deliver whole groups"
        )
    rewards, scored = _weighted_rewards(rewards_per_func, reward_weights)
    group_ids = np.arange(total) // num_generations
    kept = scored.cpu().numpy()
    sizes = np.bincount(group_ids[kept], minlength=total // num_generations)
    usable = np.array([_accepts(shaper, int(m)) for m in sizes], dtype=bool)
    rows = kept & usable[group_ids]
    skipped = np.flatnonzero(~usable)
    unscoring: tuple[str, ...] = ()
    if skipped.size:
        in_skipped = np.isin(group_ids, skipped)
        missing = torch.isnan(rewards_per_func[torch.as_tensor(in_skipped)]).any(dim=0)
        names = reward_func_names or [f"reward function {f}" for f in range(missing.numel())]
        unscoring = tuple(n for n, m in zip(names, missing.tolist()) if m)
    try:
        if rows.all():
            advantages = shaper.advantages(rewards.view(-1, num_generations)).reshape(-1)
        else:
            advantages = torch.zeros_like(rewards)
            if rows.any():
                keep = torch.as_tensor(rows, device=rewards.device)
                advantages[keep] = shaper.advantages(rewards[keep], groups=group_ids[rows])
    except ValueError as err:
        names_text = ", ".join(reward_func_names or []) or "the reward functions"
        raise ValueError(
            f"advshape GRPOTrainer(shaper={shaper.spec!r}) cannot shape the rewards of "
            f"{names_text} (weights {reward_weights.tolist()}): {err}"
        ) from err
    return ShapedBatch(
        advantages,
        rows,
        group_ids,
        torch.where(scored, rewards, torch.zeros_like(rewards)),
        tuple(int(sizes[g]) for g in skipped),
        unscoring,
    )


def shaped_advantages(
    shaper: Shaper,
    rewards_per_func: torch.Tensor,
    reward_weights: torch.Tensor,
    num_generations: int,
    reward_func_names: list[str] | None = None,
) -> torch.Tensor:
    """Advantages of a gathered TRL batch (float64 ``[B·N]``), as :func:`shape_batch`.

    Args:
        shaper: the step's shaper.
        rewards_per_func: ``[B·N, F]`` rewards of each reward function, NaN where it returned
            None; each prompt's ``num_generations`` completions contiguous.
        reward_weights: ``[F]``, TRL's ``reward_weights``.
        num_generations: the group size N.
        reward_func_names: names for error messages.

    Returns:
        A_i = shaper(r of i's group's scored rows)_i with r_i = Σ_f w_f·r_{f,i}; 0 on unscored
        rows and on every row of a group with fewer scored rows than the shaper needs.

    Raises:
        ValueError: rewards the shaper refuses, naming the reward functions and their weights.

    Example:
        >>> import torch, advshape
        >>> from advshape.integrations.trl import shaped_advantages
        >>> rewards = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
        >>> shaped_advantages(advshape.shaper("rloo"), rewards, torch.ones(1), 4).tolist()
        [1.0, -0.3333333333333333, -0.3333333333333333, -0.3333333333333333]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLOO's A⁺ = N(1 − ρ̂)/(N − 1), A⁻ = −Nρ̂/(N − 1), Eq. 6).
    """
    return shape_batch(
        shaper, rewards_per_func, reward_weights, num_generations, reward_func_names
    ).advantages


def check_settings(shaper: Shaper | ScheduledShaper, config: trl.GRPOConfig) -> None:
    """Check a ``trl.GRPOConfig`` against a shaper before any model is loaded.

    The shaper must suit the group size ``num_generations`` (and ``num_generations_eval`` when
    evaluating): K ≤ N for the unbiased Pass@K shapers, at every K a schedule reaches. The
    rewards must reach it summed, ``multi_objective_aggregation="sum_then_normalize"``; a
    ``scale_rewards`` other than the default is ignored, with a warning.

    Args:
        shaper: the (scheduled) shaper.
        config: TRL's ``GRPOConfig``.

    Raises:
        ValueError: a setting the shaper cannot work with, naming it and the fix.

    Example:
        >>> import advshape, trl
        >>> from advshape.integrations.trl import check_settings
        >>> config = trl.GRPOConfig(output_dir="unused", num_generations=4, use_cpu=True,
        ...                         per_device_train_batch_size=4, bf16=False, report_to="none")
        >>> check_settings(advshape.scheduled("grpo_k:k=4"), config)  # K = N: fine
        >>> check_settings(advshape.scheduled("grpo_k:k=8"), config)
        Traceback (most recent call last):
        ...
        ValueError: GRPOConfig.num_generations=4 does not suit shaper 'grpo_k:k=8': ...

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (K ≤ N for the unbiased Pass@K estimators, Eq. 11).
    """
    if config.multi_objective_aggregation != "sum_then_normalize":
        raise ValueError(
            f"GRPOConfig.multi_objective_aggregation={config.multi_objective_aggregation!r} "
            "normalises each reward before the shaper sees it; advshape shapes the weighted "
            "sum of raw rewards: set multi_objective_aggregation='sum_then_normalize'"
        )
    # TRL types num_generations(_eval) as int | None; its trainer requires an int all the same
    check_group_size(shaper, config.num_generations, "GRPOConfig.num_generations")  # type: ignore[arg-type]
    if str(config.eval_strategy) not in ("no", "IntervalStrategy.NO"):
        # TRL evaluates with num_generations_eval, defaulting to num_generations.
        eval_size = config.num_generations_eval or config.num_generations
        check_group_size(shaper, eval_size, "GRPOConfig.num_generations_eval")  # type: ignore[arg-type]
    if config.scale_rewards not in ("group", True):
        warnings.warn(
            f"GRPOConfig.scale_rewards={config.scale_rewards!r} is ignored: shaper "
            f"{shaper.spec!r} defines the advantage scale",
            stacklevel=3,
        )


class GRPOTrainer(trl.GRPOTrainer):
    """TRL's ``GRPOTrainer`` with the advantages of an advshape shaper.

    Takes every argument of ``trl.GRPOTrainer`` plus ``shaper``: a registry spec such as
    ``"grpo_k:k=8"`` or ``"grpo_k:k=linear(8,1)"`` (see ``advshape list``), an
    ``advshape.Shaper`` or ``advshape.ScheduledShaper``. The shaper, the group size
    (``GRPOConfig.num_generations``, and ``num_generations_eval`` when evaluating) and every K
    a schedule reaches are checked before training starts; a binary-only shaper given rewards
    outside {0, 1} fails on the first batch, naming the reward functions. ``self.shaper`` is
    the (possibly constant) :class:`advshape.ScheduledShaper`; ``self.shaper.at(step,
    total)`` is the shaper of a step.

    Args:
        *args: ``trl.GRPOTrainer``'s positional arguments (``model``, ``reward_funcs``,
            ``args``, …).
        shaper: a registry spec, an ``advshape.Shaper`` or an ``advshape.ScheduledShaper``.
        **kwargs: ``trl.GRPOTrainer``'s keyword arguments.

    Raises:
        ValueError: a shaper, group size or K that does not fit, before the model is loaded.

    Example:
        >>> import trl
        >>> from advshape.integrations.trl import GRPOTrainer
        >>> config = trl.GRPOConfig(output_dir="unused", num_generations=4, use_cpu=True,
        ...                         per_device_train_batch_size=4, bf16=False, report_to="none")
        >>> GRPOTrainer(model="not/loaded", reward_funcs=[], args=config, shaper="grpo_k:k=8")
        Traceback (most recent call last):
        ...
        ValueError: GRPOConfig.num_generations=4 does not suit shaper 'grpo_k:k=8': ...

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers, Table 1); Shao et al. 2024 (GRPO), https://arxiv.org/abs/2402.03300.
    """

    def __init__(self, *args: Any, shaper: str | Shaper | ScheduledShaper, **kwargs: Any) -> None:
        # Check before super().__init__ loads the model: a bad setting should cost seconds.
        resolved = resolve_shaper(shaper, "GRPOTrainer(shaper=...)")
        config = kwargs["args"] if "args" in kwargs else (args[2] if len(args) > 2 else None)
        if config is not None:
            check_settings(resolved, config)
        super().__init__(*args, **kwargs)
        if config is None:  # TRL made its default GRPOConfig
            check_settings(resolved, cast(trl.GRPOConfig, self.args))  # TRL made a GRPOConfig
        self.shaper = resolved
        self._advshape_rewards_per_func: torch.Tensor | None = None
        # per-batch metric records since the last log, combined exactly at log time
        self._advshape_records: dict[str, list[dict[str, float]]] = defaultdict(list)
        self._advshape_warned: set[tuple[int, ...]] = set()

    def _advshape_step(self) -> tuple[int, int | None]:
        """(s, T): the step the current batch is generated for (1-based) and the run's length."""
        total = self.state.max_steps if self.state.max_steps and self.state.max_steps > 0 else None
        if total is None and self.args.max_steps and self.args.max_steps > 0:
            total = self.args.max_steps
        return self.state.global_step + 1, total

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        # TRL returns the rewards gathered from all processes: keep them for the shaper.
        rewards_per_func = super()._calculate_rewards(
            inputs, prompts, completions, completion_ids_list
        )
        self._advshape_rewards_per_func = rewards_per_func
        return rewards_per_func

    def _generate_and_score_completions(self, inputs):
        self._advshape_rewards_per_func = None
        output = super()._generate_and_score_completions(inputs)
        rewards_per_func = self._advshape_rewards_per_func
        if rewards_per_func is None:
            raise RuntimeError(
                "trl.GRPOTrainer._generate_and_score_completions did not call _calculate_rewards; "
                f"this TRL version is not supported (TRL >= {SUPPORTED_TRL[0]}, < {SUPPORTED_TRL[1]})"
            )
        self._advshape_rewards_per_func = None
        mode = "train" if self.model.training else "eval"
        num_generations = self.num_generations if mode == "train" else self.num_generations_eval
        step, total = self._advshape_step()
        try:
            shaper = self.shaper.at(step, total)
        except ValueError as err:
            raise ValueError(
                f"GRPOTrainer(shaper={self.shaper.spec!r}) at step {step} of {total}: {err} "
                "(TRL knows the run's length once train() starts; set GRPOConfig.max_steps)"
            ) from err
        batch = shape_batch(
            shaper,
            rewards_per_func,
            self.reward_weights,
            num_generations,
            list(self.reward_func_names),
        )
        if batch.skipped_sizes:
            self._warn_skipped(shaper, batch, num_generations)
        local = output["advantages"]
        start = self.accelerator.process_index * local.shape[0]  # TRL's own process slice
        output["advantages"] = batch.advantages[start : start + local.shape[0]].to(
            dtype=local.dtype, device=local.device
        )
        self._log_shaped(batch.advantages)
        self._advshape_records[mode].append(
            _metrics.batch_record(
                batch.rewards.cpu().numpy()[batch.shaped],
                batch.advantages.detach().cpu().numpy()[batch.shaped],
                batch.group_ids[batch.shaped],
                scheduled=self.shaper.values_at(step, total),
                skipped_groups=len(batch.skipped_sizes),
            )
        )
        return output

    def _warn_skipped(self, shaper: Shaper, batch: ShapedBatch, num_generations: int) -> None:
        """Say once per set of scored sizes why groups got advantage 0 (training goes on)."""
        sizes = tuple(sorted(set(batch.skipped_sizes)))
        if sizes in self._advshape_warned:
            return
        self._advshape_warned.add(sizes)
        info = shaper.info
        needed = max(info.min_n, info.target_k if info.k_le_n else 1)
        reason = f"it needs {needed} scored completions per group" + (
            f" (K = {info.target_k}: its unbiased Pass@K estimator needs K <= N)"
            if info.k_le_n and info.target_k >= info.min_n
            else ""
        )
        who = ", ".join(batch.unscoring) or "the reward functions"
        warnings.warn(
            f"advshape GRPOTrainer: {len(batch.skipped_sizes)} of "
            f"{batch.group_ids.size // num_generations} groups have too few scored completions "
            f"for shaper {shaper.spec!r}: {who} returned None for some of their "
            f"{num_generations} completions (scored: {', '.join(map(str, sizes))}), and "
            f"{reason}. Those groups get advantage 0, as plain TRL gives 0 to a group with "
            "fewer than two scored completions; each batch's count is logged as "
            "advshape/skipped_groups.",
            UserWarning,
            stacklevel=3,
        )

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        # TRL averages each metric's list over the logging window; advshape's keys have their
        # own aggregation (sums, maxima, group-weighted means): combine the batch records here.
        mode = "train" if self.model is not None and self.model.training else "eval"
        records = self._advshape_records[mode]
        if records:
            metrics = self._metrics[mode]
            for key, value in _metrics.combine(records).items():
                metrics[key] = [value]
            records.clear()
        super().log(logs, start_time)

    def _log_shaped(self, all_advantages: torch.Tensor) -> None:
        # TRL appended its own advantages of this batch to the completions table; swap them.
        logged = cast("deque[float]", self._logs["advantages"])  # TRL's dict mixes value types
        for _ in range(min(len(logged), all_advantages.numel())):
            logged.pop()
        logged.extend(all_advantages.to(torch.float32).tolist())
