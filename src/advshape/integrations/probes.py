"""Trainers' own advantage estimators as functions ``rewards[G, N] -> advantages[G, N]``.

These are the inputs of :func:`advshape.surrogates.explain.explain`:

- :func:`verl_estimator` calls the installed verl's registered estimator (advshape's own with
  their parameters: ``advshape_grpo_k:k=4``), looked up with
  ``verl.trainer.ppo.core_algos.get_adv_estimator_fn``, on synthetic ``token_level_rewards``
  (the outcome reward on the last token), ``response_mask`` (all ones: equal lengths),
  ``index`` (one uid per group) and verl's default ``AlgoConfig``, with the keyword arguments
  verl's own ``compute_advantage`` passes. Estimators that need inputs a reward vector cannot
  supply are refused with the reason (:data:`VERL_REFUSED`); those that need one extra input
  that can be stated (GDPO's reward components) get it, and :data:`VERL_NOTES` says how.
- :func:`trl_grpo_advantages` is TRL's GRPOTrainer advantage formula. TRL 1.16 exposes no
  function for it (it is inline in ``GRPOTrainer._generate_and_score_completions``), so it is
  *transcribed* here from the installed source; ``tests/test_explain.py`` checks the
  transcription against the advantages inside a real GRPOTrainer run, for every ``scale_rewards``.

verl and torch are imported when an estimator is built, never at module import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "TRL_SCALE_REWARDS",
    "VERL_NOTES",
    "VERL_OUTCOME",
    "VERL_REFUSED",
    "VerlRow",
    "trl_grpo_advantages",
    "verl_estimator",
    "verl_estimator_names",
    "verl_rows",
]

VERL_OUTCOME = (
    "grpo",
    "grpo_vectorized",
    "rloo",
    "rloo_vectorized",
    "grpo_passk",
    "gpg",
    "reinforce_plus_plus_baseline",
    "reinforce_plus_plus",
    "opo",
    "gdpo",
)
"""verl's outcome estimators (one reward per response) that :func:`verl_estimator` can drive,
besides advshape's own ``advshape_*``."""

VERL_REFUSED = {
    "gae": "needs a critic's per-token values (data.batch['values']); not a function of rewards",
    "remax": "needs reward_baselines, the reward of a greedy rollout per prompt; the advantage is "
    "r − b, so it is not a function of the group's rewards alone",
    "optimal_token_baseline": "needs the actor's per-token log-probabilities and Σπ² "
    "(sum_pi_squared); not a function of rewards",
    "tir_optimal_token_baseline": "needs the actor's per-token log-probabilities and Σπ² "
    "(sum_pi_squared); not a function of rewards",
}
"""verl estimator -> why a vector of rewards cannot drive it (:func:`verl_estimator` refuses
it with this reason)."""

VERL_NOTES = {
    "opo": "OPO weights its baseline by response length; probed with equal lengths",
    "gdpo": "GDPO normalises reward components; probed with one component (algorithm."
    "gdpo_reward_keys=[acc]) equal to the reward",
    "gpg": "GPG scales by batch size / number of non-zero rewards in the batch",
    "reinforce_plus_plus_baseline": "whitens over every token of the batch",
    "reinforce_plus_plus": "uses no groups (no index); whitens over every token of the batch",
}
"""verl estimator -> how its inputs were synthesised beyond (rewards, equal lengths, uids), or
what it does beyond the group (``advshape explain`` prints it)."""

RESPONSE_LENGTH = 3


def verl_estimator_names() -> tuple[str, ...]:
    """Every advantage estimator the installed verl registers, advshape's ``advshape_*`` too.

    Returns:
        The names in verl's ``ADV_ESTIMATOR_REGISTRY``, in its order.

    Example:
        >>> from advshape.integrations.probes import verl_estimator_names
        >>> names = verl_estimator_names()
        >>> "grpo" in names, "advshape_grpo_k" in names
        (True, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
        Shao et al. 2024 (GRPO), https://arxiv.org/abs/2402.03300.
    """
    from verl.trainer.ppo import core_algos

    return tuple(core_algos.ADV_ESTIMATOR_REGISTRY)


def verl_estimator(name: str, *, norm_adv_by_std_in_grpo: bool = True) -> Callable:
    """``rewards[G, N] -> advantages[G, N]`` through verl's own estimator ``name``.

    The function feeds verl the outcome reward r_i on the last token of a 3-token response,
    an all-ones mask, one uid per group and verl's default ``AlgoConfig`` (module doc), and
    reads A_i at the last token: verl's own numbers, for :func:`advshape.explain`.

    Args:
        name: a verl estimator (:data:`VERL_OUTCOME`), or advshape's own with its parameters
            after a colon, ``advshape_grpo_k:k=4``.
        norm_adv_by_std_in_grpo: verl's ``algorithm.norm_adv_by_std_in_grpo`` (GRPO divides
            by the group's std when True).

    Returns:
        The function, float64 NumPy ``[G, N]`` in and out, named ``verl:<name>``.

    Raises:
        ValueError: verl not installed, an unknown estimator, one whose inputs a reward vector
            cannot supply (:data:`VERL_REFUSED`), or settings for one of verl's own.

    Example:
        >>> import numpy as np
        >>> from advshape.integrations.probes import verl_estimator
        >>> verl_estimator("rloo")(np.array([[1.0, 0.0, 0.0, 0.0]])).tolist()  # r − mean of others
        [[1.0, -0.3333333333333333, -0.3333333333333333, -0.3333333333333333]]
        >>> fn = verl_estimator("grpo", norm_adv_by_std_in_grpo=False)
        >>> fn(np.array([[1.0, 0.0, 0.0, 0.0]])).tolist()  # r − mean
        [[0.75, -0.25, -0.25, -0.25]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLOO, Eq. 6; GRPO, Eq. 8); Shao et al. 2024 (GRPO), https://arxiv.org/abs/2402.03300.
    """
    try:
        import torch
        from verl.trainer.config import AlgoConfig
        from verl.trainer.ppo import core_algos
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ValueError(f"explaining verl estimators needs verl installed ({err})") from err

    name, _, settings = name.partition(":")
    known = tuple(core_algos.ADV_ESTIMATOR_REGISTRY)
    if settings and not name.startswith("advshape_"):
        raise ValueError(
            f"verl:{name} takes no settings ({settings!r}); only advshape's own estimators "
            "do, e.g. verl:advshape_grpo_k:k=4"
        )
    if name not in known:
        raise ValueError(
            f"verl has no advantage estimator {name!r}; the installed verl registers: "
            + ", ".join(known)
        )
    if name in VERL_REFUSED:
        raise ValueError(f"cannot explain verl:{name}: it {VERL_REFUSED[name]}")
    if name not in VERL_OUTCOME and not name.startswith("advshape_"):
        raise ValueError(
            f"cannot explain verl:{name}: advshape does not know how to synthesise its inputs "
            f"(it can explain: {', '.join(VERL_OUTCOME)} and advshape's own advshape_*)"
        )
    estimator = core_algos.get_adv_estimator_fn(name)
    config: Any = AlgoConfig(
        adv_estimator=name,
        norm_adv_by_std_in_grpo=norm_adv_by_std_in_grpo,
        gdpo_reward_keys=["acc"] if name == "gdpo" else None,
    )
    if name.startswith("advshape_"):
        config = _advshape_config(name, settings)

    def fn(rewards: np.ndarray) -> np.ndarray:
        rewards = np.asarray(rewards, dtype=np.float64)
        groups, n = rewards.shape
        flat = torch.as_tensor(rewards.reshape(-1))
        token_rewards = torch.zeros(flat.numel(), RESPONSE_LENGTH, dtype=torch.float64)
        token_rewards[:, -1] = flat
        mask = torch.ones(flat.numel(), RESPONSE_LENGTH, dtype=torch.float64)
        index = np.array([f"uid-{g}" for g in range(groups) for _ in range(n)], dtype=object)
        if name == "grpo":  # what verl's compute_advantage passes to GRPO
            kwargs = {"index": index, "norm_adv_by_std_in_grpo": norm_adv_by_std_in_grpo}
        else:
            kwargs = {"index": index, "config": config}
        if name == "gdpo":
            prompt = 2
            kwargs["non_tensor_batch"] = {"acc": rewards.reshape(-1), "uid": index}
            kwargs["batch"] = {
                "prompts": torch.zeros(flat.numel(), prompt, dtype=torch.long),
                "attention_mask": torch.ones(
                    flat.numel(), prompt + RESPONSE_LENGTH, dtype=torch.long
                ),
            }
        if name == "reinforce_plus_plus":
            del kwargs["index"]
        advantages, _ = estimator(token_level_rewards=token_rewards, response_mask=mask, **kwargs)
        # outcome estimators broadcast one value over the response: read it at the last token
        return advantages[:, -1].double().numpy().reshape(groups, n)

    fn.__name__ = f"verl:{name}"
    return fn


def _advshape_config(name: str, settings: str) -> dict[str, Any]:
    """The ``algorithm`` config of a verl run that selects advshape's estimator ``name`` with
    ``settings`` (``"k=4"``): ``{"advshape_k": 4}``, as ``+algorithm.advshape_k=4`` gives."""
    import advshape

    shaper_name = name.removeprefix("advshape_")
    try:
        built = advshape.shaper(f"{shaper_name}:{settings}" if settings else shaper_name)
    except ValueError as err:
        raise ValueError(
            f"{err}. On the command line the parameters follow the estimator, as in a spec: "
            f"verl:{name}:k=4 (a verl run takes them as +algorithm.advshape_k=4)"
        ) from err
    return {f"advshape_{key}": value for key, value in built.params.items()}


TRL_SCALE_REWARDS = ("group", "batch", "none")
"""The values of TRL's ``GRPOConfig.scale_rewards`` that :func:`trl_grpo_advantages` takes."""
TRL_EPSILON = 1e-4


def trl_grpo_advantages(rewards: ArrayLike, scale_rewards: str = "group") -> np.ndarray:
    """TRL GRPOTrainer's advantages, TRANSCRIBED from the installed TRL 1.16 source.

    TRL has no function for it (it is inline in ``_generate_and_score_completions``); with
    ``multi_objective_aggregation="sum_then_normalize"`` it computes

        A_i = (r_i − mean_group(r)) / (σ + 1e-4),

    σ the sample std (Bessel-corrected, NaN-aware) of the group (``scale_rewards="group"``) or
    of the whole generation batch (``"batch"``), or no division at all (``"none"``).

    Args:
        rewards: ``[G, N]``, one group per row, the whole generation batch (all processes);
            computed in their dtype (TRL's is float32; integers become float32).
        scale_rewards: ``"group"``, ``"batch"`` or ``"none"`` (:data:`TRL_SCALE_REWARDS`).

    Returns:
        A NumPy array ``[G, N]``; NaN (a group of one's std) becomes 0, as in TRL.

    Raises:
        ValueError: an unknown ``scale_rewards``, or rewards that are not ``[G, N]``.

    Example:
        >>> import numpy as np
        >>> from advshape.integrations.probes import trl_grpo_advantages
        >>> trl_grpo_advantages(np.array([[1.0, 0.0, 0.0, 0.0]]), "none").tolist()
        [[0.75, -0.25, -0.25, -0.25]]
        >>> a = trl_grpo_advantages(np.array([[1.0, 0.0, 0.0, 0.0]]))  # σ = 1/2 (sample std)
        >>> bool(a[0, 0] == 0.75 / (0.5 + 1e-4))
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO, Eq. 8); Shao et al. 2024 (GRPO), https://arxiv.org/abs/2402.03300.
    """
    import torch

    if scale_rewards not in TRL_SCALE_REWARDS:
        raise ValueError(
            f"scale_rewards must be one of {', '.join(TRL_SCALE_REWARDS)}, got {scale_rewards!r}"
        )
    r = torch.as_tensor(np.asarray(rewards))
    if not r.is_floating_point():
        r = r.to(torch.float32)
    if r.ndim != 2:
        raise ValueError(f"rewards must be [G, N] (one group per row), got shape {tuple(r.shape)}")

    def sample_std(x, dim=None):
        mean = torch.nanmean(x, dim=dim, keepdim=True)
        var = torch.nanmean((x - mean) ** 2, dim=dim, keepdim=True)
        count = torch.sum(~torch.isnan(x), dim=dim, keepdim=True)
        return torch.sqrt(var * count / (count - 1))

    centred = r - torch.nanmean(r, dim=1, keepdim=True)
    if scale_rewards == "group":
        centred = centred / (sample_std(r, dim=1) + TRL_EPSILON)
    elif scale_rewards == "batch":
        centred = centred / (sample_std(r) + TRL_EPSILON)
    return torch.nan_to_num(centred, nan=0.0).numpy()


class VerlRow(NamedTuple):
    """One verl estimator as a row next to Table 1 (``advshape table --verl``).

    Attributes:
        name: the verl estimator.
        checks: ``"all hold"`` (equivariant, count-based, group-local) or what failed.
        nearest: the nearest registry spec, or ``"-"``.
        distance: its distance from the estimator's scores A±(N⁺), after the best scale.
        scale: that scale.
        surrogate: the nearest shaper's surrogate F if it matches, else why not.
        group_of_one: A(r = 1), A(r = 0) for a group of a single response.

    Example:
        >>> from advshape.integrations.probes import verl_rows
        >>> row = {r.name: r for r in verl_rows(4)}["rloo"]
        >>> row.checks, row.nearest, row.surrogate
        ('all hold', 'rloo', 'ρ')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1; reverse-engineering a surrogate, Sec. 5.1).
    """

    name: str
    checks: str
    nearest: str
    distance: float
    scale: float
    surrogate: str
    group_of_one: str


def _group_of_one(fn) -> str:
    values = []
    for r in (1.0, 0.0):
        try:
            values.append(f"{float(fn(np.array([[r]]))[0, 0]):.6g}")
        except Exception as err:  # verl raises assorted errors here: report, don't crash
            text = str(err).splitlines()[0] if str(err) else ""
            text = text if len(text) <= 60 else text[:59] + "…"
            return f"refused ({type(err).__name__}: {text})"
    return f"A(1) = {values[0]}, A(0) = {values[1]}"


def verl_rows(n: int = 16, match_tol: float = 1e-6) -> list[VerlRow]:
    """Every outcome estimator of the installed verl, explained at group size ``n``.

    Each estimator of :data:`VERL_OUTCOME` is run by :func:`verl_estimator`, read as scores
    A±(N⁺) by :func:`advshape.explain` and matched to its nearest registry shaper.

    Args:
        n: the group size N.
        match_tol: the largest distance at which the nearest shaper's surrogate is reported.

    Returns:
        One :class:`VerlRow` per estimator, in the order of :data:`VERL_OUTCOME`.

    Example:
        >>> from advshape.integrations.probes import verl_rows
        >>> rows = {r.name: r for r in verl_rows(4)}
        >>> rows["opo"].nearest, rows["grpo"].checks
        ('dr_grpo', 'all hold')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1; reverse-engineering a surrogate, Sec. 5.1).
    """
    from advshape._src.closed_forms import FORMULAS
    from advshape._src.registry import shaper
    from advshape.surrogates.explain import explain, nearest_registry_shaper

    rows = []
    for name in VERL_OUTCOME:
        fn = verl_estimator(name)
        result = explain(fn, n, name=f"verl:{name}", rtol=1e-5, atol=1e-6)
        failed = [c for c, ok in result.checks.items() if not ok]
        checks = "all hold" if not failed else "not " + ", not ".join(failed)
        if result.shaper is None:
            rows.append(
                VerlRow(name, checks, "-", float("nan"), float("nan"), "-", _group_of_one(fn))
            )
            continue
        best = nearest_registry_shaper(result.a_pos, result.a_neg, n)[0]
        if best.distance <= match_tol:
            surrogate = FORMULAS[shaper(best.spec).name]
            if not result.group_local:
                surrogate += " (at G = 1)"
        else:
            surrogate = "no registry match: advshape explain verl:" + name
        rows.append(
            VerlRow(
                name, checks, best.spec, best.distance, best.scale, surrogate, _group_of_one(fn)
            )
        )
    return rows
