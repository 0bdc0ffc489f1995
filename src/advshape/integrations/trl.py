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
of its group, as in TRL; the rest of its group is shaped as a smaller group.

**K schedules.** A spec with a schedule (``shaper="grpo_k:k=linear(8,1)"``, see
``advshape.shaper``) is resolved for each generation batch at step s = ``state.global_step``
+ 1 (the optimisation step the batch is generated for, as TRL logs it) of a run of
``state.max_steps`` steps. Both come from TRL's ``TrainerState``, which a resumed run restores
from its checkpoint, so a resumed run uses the same K at every step as an uninterrupted one.
With ``steps_per_generation`` > 1 one batch serves several steps; it is shaped with the K of
the first. The resolved values are logged as ``advshape/<param>`` (``advshape/k``).

**Diagnostics.** Every batch logs, group by group (:func:`advshape.group_diagnostics` on the
gathered batch; a completion counts as correct when its reward is ≥ 1):
``advshape/frac_all_correct``, ``advshape/frac_all_wrong``, ``advshape/frac_mixed``,
``advshape/frac_zero_advantage``, ``advshape/ess_fraction``, ``advshape/max_abs_group_sum``,
``advshape/groups`` and the unbiased ``advshape/pass@k`` of the rollouts for k = 1, 2, 4, …,
``num_generations``.

Supported TRL versions: 1.0 ≤ TRL < 2. The test suite passes with TRL 1.0.0 and 1.16.0 (the
two methods and the ``_logs``/``_metrics``/``reward_weights`` attributes keep their contract
across 1.x); an unsupported version fails at import with the versions to install.
"""

from __future__ import annotations

import warnings
from collections import deque
from typing import Any, cast

import numpy as np
import torch

import advshape
from advshape import ScheduledShaper, Shaper
from advshape.integrations._checks import check_group_size, require_version, resolve_shaper

__all__ = ["SUPPORTED_TRL", "GRPOTrainer", "check_settings", "shaped_advantages"]

SUPPORTED_TRL = ("1.0", "2")  # TRL >= 1.0, < 2


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


def shaped_advantages(
    shaper: Shaper,
    rewards_per_func: torch.Tensor,
    reward_weights: torch.Tensor,
    num_generations: int,
    reward_func_names: list[str] | None = None,
) -> torch.Tensor:
    """Advantages of a gathered TRL batch: one group per run of ``num_generations`` rows.

    ``rewards_per_func`` is ``[B·N, F]`` (NaN where a reward function returned None). The
    reward of completion i is r_i = Σ_f w_f·r_{f,i} over the functions that scored it; a row
    no function scored gets advantage 0 and is left out of its group. Returns float64 ``[B·N]``.
    """
    total = int(rewards_per_func.shape[0])
    if total % num_generations:
        raise ValueError(
            f"got {total} rewards, not a multiple of num_generations={num_generations}; "
            "TRL must deliver whole groups"
        )
    rewards, scored = _weighted_rewards(rewards_per_func, reward_weights)
    weights = reward_weights
    try:
        if bool(scored.all()):
            return shaper.advantages(rewards.view(-1, num_generations)).reshape(-1)
        advantages = torch.zeros_like(rewards)
        # Group ids of the scored rows, as a host NumPy array (B·N small integers).
        group_ids = np.arange(total) // num_generations
        kept = scored.cpu().numpy()
        advantages[scored] = shaper.advantages(rewards[scored], groups=group_ids[kept])
        return advantages
    except ValueError as err:
        names = ", ".join(reward_func_names or []) or "the reward functions"
        raise ValueError(
            f"advshape GRPOTrainer(shaper={shaper.spec!r}) cannot shape the rewards of "
            f"{names} (weights {weights.tolist()}): {err}"
        ) from err


def check_settings(shaper: Shaper | ScheduledShaper, config: trl.GRPOConfig) -> None:
    """Raise ValueError for GRPOConfig settings ``shaper`` cannot work with (see the class)."""
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
        all_advantages = shaped_advantages(
            shaper,
            rewards_per_func,
            self.reward_weights,
            num_generations,
            list(self.reward_func_names),
        )
        local = output["advantages"]
        start = self.accelerator.process_index * local.shape[0]  # TRL's own process slice
        output["advantages"] = all_advantages[start : start + local.shape[0]].to(
            dtype=local.dtype, device=local.device
        )
        self._log_shaped(mode, all_advantages)
        self._log_diagnostics(mode, rewards_per_func, all_advantages, num_generations, step, total)
        return output

    def _log_diagnostics(
        self,
        mode: str,
        rewards_per_func: torch.Tensor,
        all_advantages: torch.Tensor,
        num_generations: int,
        step: int,
        total: int | None,
    ) -> None:
        """``advshape/*`` per-group diagnostics of the gathered batch (see the module doc)."""
        rewards, scored = _weighted_rewards(rewards_per_func, self.reward_weights)
        kept = scored.cpu().numpy()
        group_ids = np.arange(kept.size) // num_generations
        metrics = self._metrics[mode]
        if kept.any():
            diagnostics = advshape.group_diagnostics(
                rewards.cpu().numpy()[kept],
                all_advantages.detach().cpu().numpy()[kept],
                group_ids[kept],
            )
            for key, value in diagnostics.items():
                metrics[f"advshape/{key}"].append(value)
        for key, value in self.shaper.values_at(step, total).items():
            metrics[f"advshape/{key}"].append(float(value))

    def _log_shaped(self, mode: str, all_advantages: torch.Tensor) -> None:
        # TRL appended its own advantages of this batch to the completions table; swap them.
        logged = cast("deque[float]", self._logs["advantages"])  # TRL's dict mixes value types
        for _ in range(min(len(logged), all_advantages.numel())):
            logged.pop()
        logged.extend(all_advantages.to(torch.float32).tolist())
        values = all_advantages.detach().cpu().numpy()
        metrics = self._metrics[mode]
        metrics["advshape/advantage_mean"].append(float(np.mean(values)))
        metrics["advshape/advantage_std"].append(float(np.std(values)))
        metrics["advshape/advantage_abs_max"].append(float(np.max(np.abs(values))))
        metrics["advshape/frac_zero_advantage"].append(float(np.mean(values == 0.0)))
