"""Other trainers' own "GRPO" (and their other group-local outcome estimators), as functions.

Each trainer's estimator is a function ``rewards[G, N] -> advantages[G, N]`` (one group per
row), the input of :func:`advshape.surrogates.explain.explain`. Where the trainer's package
installs on a CPU and exposes the computation as a function (SkyRL's registry estimators,
ms-swift's ``swift.rl_core.advantage.compute_advantages``), :func:`trainer_estimator` calls
the installed package; otherwise, and for trainers that compute advantages inline, the
formula is *transcribed* here from the trainer's source at the recorded repository, file and
commit (:data:`ESTIMATORS`), in float64 (the trainers compute in float32 or float64), with the
trainer's own epsilons, degrees-of-freedom corrections and special cases for groups of one.
``tests/test_integrations_trainers.py`` checks every transcription on fixed groups against
values computed by hand from the source formula, and against the installed package where the
test environment has it.

A target is ``TRAINER:ESTIMATOR`` with optional settings in the registry's spec grammar,
e.g. ``nemo-rl:grpo:use_leave_one_out_baseline=false``. verl's and TRL's own estimators are
``verl:NAME`` and ``trl`` (:mod:`advshape.integrations.probes`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "ESTIMATORS",
    "TRAINERS",
    "TrainerEstimator",
    "TrainerRow",
    "flags",
    "trainer_estimator",
    "trainer_rows",
]

AdvantageFn = Callable[[np.ndarray], np.ndarray]


class TrainerEstimator(NamedTuple):
    """One trainer's estimator: where it was read from and how to run it.

    Attributes:
        target: ``TRAINER:ESTIMATOR``, ``"nemo-rl:grpo"``.
        repository: the trainer's GitHub repository, ``owner/name``.
        path: the file(s) the formula was read from.
        commit: the repository's commit those files were read at.
        formula: the formula, in the notation of docs/shapers.md.
        options: the settings, with the trainer's defaults.
        transcription: ``options -> fn``, the formula transcribed here.
        installed: ``options -> fn`` calling the installed package's own function, or None
            where advshape knows no such function.

    Example:
        >>> from advshape.integrations.trainers import ESTIMATORS
        >>> entry = ESTIMATORS["prime-rl:max_rl"]
        >>> entry.repository, entry.formula
        ('PrimeIntellect-ai/prime-rl', 'A_i = (r_i − mean(r))/mean(r), 0 when mean(r) ≤ 0 (a group of one gets 0)')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO, Eq. 8; Table 1); Tajwar et al. 2026 (MaxRL), https://arxiv.org/abs/2602.02710.
    """

    target: str
    repository: str
    path: str
    commit: str
    formula: str
    options: Mapping[str, Any]
    transcription: Callable[..., AdvantageFn]
    installed: Callable[..., AdvantageFn] | None = None


def _rows(rewards: np.ndarray) -> np.ndarray:
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 2:
        raise ValueError(f"rewards must be [G, N] (one group per row), got shape {r.shape}")
    return r


def _bessel_std(r: np.ndarray) -> np.ndarray:
    """torch.std(dim=-1) (Bessel-corrected): NaN for a group of one, as torch gives."""
    n = r.shape[1]
    if n < 2:
        return np.full((r.shape[0], 1), np.nan)
    return np.sqrt(((r - r.mean(axis=1, keepdims=True)) ** 2).sum(axis=1, keepdims=True) / (n - 1))


# ------------------------------------------------------------------------- NeMo-RL


def _nemo_grpo(use_leave_one_out_baseline: bool = True, normalize_rewards: bool = True) -> AdvantageFn:
    """GRPOAdvantageEstimator.compute_advantage with calculate_baseline_and_std_per_prompt."""

    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        n = r.shape[1]
        if n <= 1:  # "no valid responses": baseline = reward, so A = 0
            return np.zeros_like(r)
        loo = int(use_leave_one_out_baseline)
        m = n - loo  # num_valid
        total, total_sq = r.sum(axis=1, keepdims=True), (r * r).sum(axis=1, keepdims=True)
        baseline = ((total - r) if loo else total) / m
        sq_baseline = ((total_sq - r * r) if loo else total_sq) / m
        with np.errstate(divide="ignore", invalid="ignore"):
            var = (sq_baseline - baseline**2) * (m / (m - 1)) if m > 1 else np.zeros_like(r)
            std = np.nan_to_num(np.sqrt(np.maximum(var, 0.0)), nan=0.0)
        std = np.broadcast_to(std, r.shape)  # per response (leave-one-out) or per group
        advantages = r - baseline
        if normalize_rewards:  # "don't sharpen the ones with no variation"
            live = std > 0
            advantages[live] = advantages[live] / (std[live] + 1e-6)
        return advantages

    return fn


# ------------------------------------------------------------------------- prime-rl


def _prime_grpo() -> AdvantageFn:
    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        return r - r.mean(axis=1, keepdims=True)

    return fn


def _prime_max_rl() -> AdvantageFn:
    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        mean = r.mean(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(mean <= 0, 0.0, (r - mean) / mean)

    return fn


# ------------------------------------------------------------------------- OpenRLHF


def _openrlhf_group_norm() -> AdvantageFn:
    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        return (r - r.mean(axis=1, keepdims=True)) / (_bessel_std(r) + 1e-9)

    return fn


def _openrlhf_rloo() -> AdvantageFn:
    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        n = r.shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return r - (r.sum(axis=1, keepdims=True) - r) / np.float64(n - 1)

    return fn


def _openrlhf_dr_grpo() -> AdvantageFn:
    return _prime_grpo()


# ------------------------------------------------------------------------- slime


def _slime_grpo(grpo_std_normalization: bool = True) -> AdvantageFn:
    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        centred = r - r.mean(axis=1, keepdims=True)
        if not grpo_std_normalization:
            return centred
        return centred / (_bessel_std(centred) + 1e-6)

    return fn


# ------------------------------------------------------------------------- ms-swift


def _swift(estimator: str) -> Callable[..., AdvantageFn]:
    def build(scale_rewards: str = "group") -> AdvantageFn:
        if scale_rewards not in ("group", "none"):
            raise ValueError(
                f"scale_rewards must be group or none (batch and gdpo are not group-local), "
                f"got {scale_rewards!r}"
            )

        def fn(rewards: np.ndarray) -> np.ndarray:
            r = _rows(rewards)
            k = r.shape[1]
            mean = r.mean(axis=1, keepdims=True)
            if estimator == "rloo" and k > 1:
                advantages = r * k / (k - 1) - mean * k / (k - 1)
            else:
                advantages = r - mean
            if scale_rewards == "group":
                std = _bessel_std(r) if k > 1 else np.zeros_like(r)
                advantages = advantages / (std + 1e-4)
            return advantages

        return fn

    return build


def _swift_installed(estimator: str) -> Callable[..., AdvantageFn]:
    def build(scale_rewards: str = "group") -> AdvantageFn:
        import torch
        from swift.rl_core.advantage import compute_advantages

        def fn(rewards: np.ndarray) -> np.ndarray:
            r = _rows(rewards)
            advantages, _ = compute_advantages(
                rewards_per_func=torch.as_tensor(r.reshape(-1, 1)),
                reward_weights=torch.ones(1, dtype=torch.float64),
                num_generations=r.shape[1],
                advantage_estimator=estimator,
                scale_rewards=scale_rewards,
            )
            return advantages.double().numpy().reshape(r.shape)

        return fn

    return build


# ------------------------------------------------------------------------- AReaL


def _areal_group_norm(
    mean_leave1out: bool = False, std_unbiased: bool = True, eps: float = 1e-5
) -> AdvantageFn:
    """areal.utils.data.Normalization with mean_level = std_level = "group", no loss mask."""

    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        n = r.shape[1]
        total = r.sum(axis=1, keepdims=True)
        if mean_leave1out:
            mean = np.zeros_like(r) if n <= 1 else (total - r) / (n - 1)
        else:
            mean = np.broadcast_to(total / n, r.shape)
        centred = r - mean
        if n == 1 and std_unbiased:
            std = np.ones_like(r)
        else:  # the sum of squares is taken about each element's own (possibly LOO) mean
            sum_sq = (centred**2).sum(axis=1, keepdims=True)
            if std_unbiased:
                std = np.ones_like(sum_sq) if n <= 1 else np.sqrt(sum_sq / (n - 1))
            else:
                std = np.sqrt(sum_sq / n)
        return centred / (std + eps)

    return fn


# ------------------------------------------------------------------------- SkyRL


def _skyrl_grpo(epsilon: float = 1e-6, grpo_norm_by_std: bool = True) -> AdvantageFn:
    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        if r.shape[1] == 1:  # mean 0, std 1
            mean, std = np.zeros_like(r), np.ones_like(r)
        else:
            mean, std = r.mean(axis=1, keepdims=True), _bessel_std(r)
        return (r - mean) / (std + epsilon) if grpo_norm_by_std else r - mean

    return fn


def _skyrl_rloo() -> AdvantageFn:
    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        n = r.shape[1]
        if n == 1:  # "only one response ... setting advantage to 0"
            return np.zeros_like(r)
        return (r - r.mean(axis=1, keepdims=True)) * (n / (n - 1))

    return fn


def _skyrl_maxrl(epsilon: float = 1e-6) -> AdvantageFn:
    def fn(rewards: np.ndarray) -> np.ndarray:
        r = _rows(rewards)
        if r.shape[1] == 1:  # mean 0 and no division: the raw reward
            return r.copy()
        mean = r.mean(axis=1, keepdims=True)
        return (r - mean) / (mean + epsilon)

    return fn


def _skyrl_installed(name: str) -> Callable[..., AdvantageFn]:
    def build(**options: Any) -> AdvantageFn:
        import torch
        from skyrl.backends.skyrl_train.utils import ppo_utils

        estimator = ppo_utils.AdvantageEstimatorRegistry.get(name)

        def fn(rewards: np.ndarray) -> np.ndarray:
            r = _rows(rewards)
            g, n = r.shape
            advantages, _ = estimator(
                token_level_rewards=torch.as_tensor(r.reshape(-1, 1)),
                response_mask=torch.ones(g * n, 1, dtype=torch.float64),
                index=np.repeat([f"g{i}" for i in range(g)], n),
                **options,
            )
            return advantages[:, 0].double().numpy().reshape(g, n)

        return fn

    return build


# ------------------------------------------------------------------------- the table

_NEMO = ("NVIDIA-NeMo/RL", "7ea279abfbeb698b092856d0dab61e7cf39bc909")
_PRIME = ("PrimeIntellect-ai/prime-rl", "559b44772e471d1538537b8805cc77f3824a5e64")
_OPENRLHF = ("OpenRLHF/OpenRLHF", "3c3be6234e0cb353e76bb8019947db9dfe99fca7")
_SLIME = ("THUDM/slime", "624b824a898ab0ec1fcb4d373004c7f3852bf515")
_SWIFT = ("modelscope/ms-swift", "3602360a562313afbf2ef6065fdf61f271a2c5b9")
_AREAL = ("inclusionAI/AReaL", "4aef98d8d818af55b43621aaadba047ae10f4e77")
_SKYRL = ("NovaSky-AI/SkyRL", "a9564572eb8e91076be43c1bd5e4615e3de17265")
_SKYRL_FILE = "skyrl/backends/skyrl_train/utils/ppo_utils.py"

ESTIMATORS: dict[str, TrainerEstimator] = {
    e.target: e
    for e in (
        TrainerEstimator(
            "nemo-rl:grpo",
            *_NEMO[:1],
            "nemo_rl/algorithms/advantage_estimator.py (GRPOAdvantageEstimator), "
            "nemo_rl/algorithms/utils.py (calculate_baseline_and_std_per_prompt)",
            _NEMO[1],
            "A_i = (r_i − b_i)/(s_i + 1e-6) where s_i > 0, else r_i − b_i; b_i = mean of the other "
            "N − 1 rewards, s_i = their Bessel std (leave-one-out; with "
            "use_leave_one_out_baseline=false both over all N); a group of one gets 0",
            {"use_leave_one_out_baseline": True, "normalize_rewards": True},
            _nemo_grpo,
        ),
        TrainerEstimator(
            "prime-rl:grpo",
            *_PRIME[:1],
            "src/prime_rl/orchestrator/algo/grpo.py (GRPOAlgorithm.score_group, no length_penalty)",
            _PRIME[1],
            "A_i = r_i − mean(r)",
            {},
            _prime_grpo,
        ),
        TrainerEstimator(
            "prime-rl:max_rl",
            *_PRIME[:1],
            "src/prime_rl/orchestrator/algo/max_rl.py (MaxRLAlgorithm.score_group)",
            _PRIME[1],
            "A_i = (r_i − mean(r))/mean(r), 0 when mean(r) ≤ 0 (a group of one gets 0)",
            {},
            _prime_max_rl,
        ),
        TrainerEstimator(
            "openrlhf:group_norm",
            *_OPENRLHF[:1],
            "openrlhf/trainer/ppo_utils/experience_maker.py (compute_advantages_and_returns)",
            _OPENRLHF[1],
            "A_i = (r_i − mean(r))/(std(r) + 1e-9), std Bessel-corrected (torch.std); NaN for "
            "a group of one",
            {},
            _openrlhf_group_norm,
        ),
        TrainerEstimator(
            "openrlhf:rloo",
            *_OPENRLHF[:1],
            "openrlhf/trainer/ppo_utils/experience_maker.py (compute_advantages_and_returns)",
            _OPENRLHF[1],
            "A_i = r_i − (Σ_j r_j − r_i)/(N − 1); divides by zero for a group of one",
            {},
            _openrlhf_rloo,
        ),
        TrainerEstimator(
            "openrlhf:dr_grpo",
            *_OPENRLHF[:1],
            "openrlhf/trainer/ppo_utils/experience_maker.py (compute_advantages_and_returns)",
            _OPENRLHF[1],
            "A_i = r_i − mean(r) (reinforce_baseline subtracts the same, then whitens over the "
            "batch: not group-local, not listed)",
            {},
            _openrlhf_dr_grpo,
        ),
        TrainerEstimator(
            "slime:grpo",
            *_SLIME[:1],
            "slime/ray/rollout.py (RolloutManager._post_process_rewards; also gspo, cispo)",
            _SLIME[1],
            "A_i = c_i/(std(c) + 1e-6), c = r − mean(r), std Bessel-corrected (torch.std); "
            "c_i alone with grpo_std_normalization=false; NaN for a group of one",
            {"grpo_std_normalization": True},
            _slime_grpo,
        ),
        TrainerEstimator(
            "ms-swift:grpo",
            *_SWIFT[:1],
            "swift/rl_core/advantage.py (compute_advantages)",
            _SWIFT[1],
            "A_i = (r_i − mean(r))/(std(r) + 1e-4), std Bessel-corrected (0 for a group of "
            "one); no division with scale_rewards=none",
            {"scale_rewards": "group"},
            _swift("grpo"),
            _swift_installed("grpo"),
        ),
        TrainerEstimator(
            "ms-swift:rloo",
            *_SWIFT[:1],
            "swift/rl_core/advantage.py (compute_advantages)",
            _SWIFT[1],
            "A_i = N/(N − 1)·(r_i − mean(r))/(std(r) + 1e-4) (no division with "
            "scale_rewards=none); r_i − mean(r) = 0 for a group of one",
            {"scale_rewards": "group"},
            _swift("rloo"),
            _swift_installed("rloo"),
        ),
        TrainerEstimator(
            "areal:group_norm",
            *_AREAL[:1],
            "areal/utils/data.py (Normalization, mean_level=std_level='group'), "
            "areal/api/cli_args.py (NormConfig)",
            _AREAL[1],
            "A_i = (r_i − m_i)/(s + eps), m_i = mean(r) (or the mean of the others with "
            "mean_leave1out=true), s = sqrt(Σ_j (r_j − m_j)²/(N − 1)) (÷N with "
            "std_unbiased=false), eps = 1e-5; s = 1 for a group of one",
            {"mean_leave1out": False, "std_unbiased": True, "eps": 1e-5},
            _areal_group_norm,
        ),
        TrainerEstimator(
            "skyrl:grpo",
            *_SKYRL[:1],
            f"{_SKYRL_FILE} (compute_grpo_outcome_advantage)",
            _SKYRL[1],
            "A_i = (r_i − mean(r))/(std(r) + 1e-6), std Bessel-corrected; a group of one uses "
            "mean 0, std 1: A = r/(1 + 1e-6)",
            {"epsilon": 1e-6, "grpo_norm_by_std": True},
            _skyrl_grpo,
            _skyrl_installed("grpo"),
        ),
        TrainerEstimator(
            "skyrl:rloo",
            *_SKYRL[:1],
            f"{_SKYRL_FILE} (compute_rloo_outcome_advantage)",
            _SKYRL[1],
            "A_i = N/(N − 1)·(r_i − mean(r)); 0 for a group of one",
            {},
            _skyrl_rloo,
            _skyrl_installed("rloo"),
        ),
        TrainerEstimator(
            "skyrl:maxrl",
            *_SKYRL[:1],
            f"{_SKYRL_FILE} (compute_maxrl_advantage)",
            _SKYRL[1],
            "A_i = (r_i − mean(r))/(mean(r) + 1e-6); a group of one gets its raw reward r_i",
            {"epsilon": 1e-6},
            _skyrl_maxrl,
            _skyrl_installed("maxrl"),
        ),
    )
}
"""Every transcribed estimator by its target ``TRAINER:ESTIMATOR``, with the repository, file
and commit its formula was read at."""

TRAINERS = tuple(dict.fromkeys(t.split(":")[0] for t in ESTIMATORS))
"""The trainers of :data:`ESTIMATORS`, in order: ``nemo-rl``, ``prime-rl``, …"""


def _parse_options(entry: TrainerEstimator, text: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in entry.options:
            known = ", ".join(f"{k}={v}" for k, v in entry.options.items()) or "none"
            raise ValueError(
                f"{entry.target} has no setting {item!r}; its settings (defaults): {known}"
            )
        default = entry.options[key]
        value = value.strip()
        if isinstance(default, bool):
            if value.lower() not in ("true", "false"):
                raise ValueError(f"{entry.target}: {key} must be true or false, got {value!r}")
            options[key] = value.lower() == "true"
        elif isinstance(default, float):
            try:
                options[key] = float(value)
            except ValueError:
                raise ValueError(f"{entry.target}: {key} must be a number, got {value!r}") from None
        else:
            options[key] = value
    return options


def trainer_estimator(
    target: str, *, prefer_installed: bool = True
) -> tuple[AdvantageFn, str, list[str]]:
    """Another trainer's estimator as a function ``rewards[G, N] -> advantages[G, N]``.

    The trainers' formulas differ from the paper's GRPO, A = (r − mean)/std (Eq. 8), in
    their baselines (leave-one-out or not), std (Bessel-corrected or not), ε and groups of one;
    :data:`ESTIMATORS` holds each formula and where it was read.

    Args:
        target: ``TRAINER:ESTIMATOR`` with optional settings, ``nemo-rl:grpo`` or
            ``nemo-rl:grpo:use_leave_one_out_baseline=false``.
        prefer_installed: call the trainer's installed package where advshape knows its
            function (SkyRL, ms-swift) and it imports; else, or with False, the transcription.

    Returns:
        ``(fn, label, notes)``: the function (float64 NumPy in and out), a label with the
        settings, and notes naming the repository, file and commit the formula was read from
        and whether the package itself or the transcription runs.

    Raises:
        ValueError: an unknown trainer, estimator or setting, naming the known ones.

    Example:
        >>> import numpy as np
        >>> from advshape.integrations.trainers import trainer_estimator
        >>> fn, label, notes = trainer_estimator("prime-rl:max_rl", prefer_installed=False)
        >>> fn(np.array([[1.0, 0.0, 0.0, 0.0]]))   # (r − mean)/mean
        array([[ 3., -1., -1., -1.]])
        >>> notes[0].split(",")[0]
        'prime-rl:max_rl: TRANSCRIBED from PrimeIntellect-ai/prime-rl'

    References:
        Seed paper, arXiv 2510.23049 (https://arxiv.org/abs/2510.23049), Eq. (8) and Table 1.
    """
    trainer, _, rest = target.strip().partition(":")
    name, _, settings = rest.partition(":")
    key = f"{trainer.strip()}:{name.strip()}"
    if key not in ESTIMATORS:
        same = [t for t in ESTIMATORS if t.startswith(trainer.strip() + ":")]
        raise ValueError(
            f"no transcribed estimator {key!r}; "
            + (f"{trainer} has: {', '.join(same)}" if same else f"known: {', '.join(ESTIMATORS)}")
        )
    entry = ESTIMATORS[key]
    options = _parse_options(entry, settings)
    label = key + (f" ({', '.join(f'{k}={v}' for k, v in options.items())})" if options else "")
    source = f"{entry.repository}, {entry.path}, commit {entry.commit}"
    why_not = ""
    if prefer_installed and entry.installed is not None:
        try:
            fn = entry.installed(**options)
        except ImportError:
            pass  # not installed: the transcription
        except Exception as err:  # installed but unusable here (e.g. SkyRL on Python 3.11)
            why_not = f" (the installed package fails to import: {type(err).__name__})"
        else:
            notes = [
                f"{key}: the installed package's own function (formula as read at {source})",
                entry.formula,
            ]
            return fn, label, notes
    fn = entry.transcription(**options)
    notes = [f"{key}: TRANSCRIBED from {source}{why_not}", entry.formula]
    return fn, label, notes


# ------------------------------------------------------------------------- what to flag


def flags(
    fn: AdvantageFn, a_pos: np.ndarray, a_neg: np.ndarray, n: int, tol: float = 1e-6
) -> list[str]:
    """What a user of an estimator should know, from its scores A±(N⁺) at group size N.

    - not zero-sum: some group's N⁺·A⁺ + (N − N⁺)·A⁻ ≠ 0, so the update moves every response
      of that group together (the paper's shapers are centred: Σ_group A = 0);
    - non-monotone in N⁺: A⁺ or A⁻ over the mixed groups (N⁺ = 1..N−1) rises and falls;
    - group of one: fn([[1]]) and fn([[0]]), when not both 0 (NaN, the raw reward, …).

    Args:
        fn: ``rewards[G, N] -> advantages[G, N]``.
        a_pos: A⁺ at N⁺ = 0..N (NaN at N⁺ = 0), as :func:`advshape.explain` reads it.
        a_neg: A⁻ at N⁺ = 0..N (NaN at N⁺ = N).
        n: the group size N.
        tol: tolerance of the zero-sum and monotonicity tests, relative to max |A|.

    Returns:
        One sentence per flag (empty when none applies).

    Example:
        >>> import numpy as np
        >>> from advshape.integrations.trainers import flags, trainer_estimator
        >>> fn, *_ = trainer_estimator("skyrl:maxrl", prefer_installed=False)
        >>> m = np.arange(5) / 4
        >>> with np.errstate(divide="ignore", invalid="ignore"):
        ...     a_pos, a_neg = (1 - m) / m, np.full(5, -1.0)
        >>> a_pos[0], a_neg[0], a_neg[4] = np.nan, 0.0, np.nan   # all wrong: A = 0
        >>> flags(fn, a_pos, a_neg, 4)
        ["group of one: A(r=1) = 1, A(r=0) = 0 (advshape's shapers give 0 or refuse)"]

    References:
        Seed paper, arXiv 2510.23049 (https://arxiv.org/abs/2510.23049), Lemma 2 (scores).
    """
    out = []
    m = np.arange(n + 1)
    sums = np.nan_to_num(m * a_pos) + np.nan_to_num((n - m) * a_neg)
    worst = int(np.argmax(np.abs(sums)))
    if abs(sums[worst]) > tol * max(1.0, float(np.nanmax(np.abs(np.r_[a_pos, a_neg])))):
        out.append(
            f"not zero-sum: a group with N+ = {worst} sums to {sums[worst]:.4g} "
            "(it pushes all of that group's responses up or down together)"
        )
    mixed = slice(1, n)
    for label, values in (("A+", a_pos[mixed]), ("A-", a_neg[mixed])):
        steps = np.diff(values)
        steps = steps[np.abs(steps) > tol]
        if steps.size and np.any(steps > 0) and np.any(steps < 0):
            turn = 1 + int(np.flatnonzero(np.sign(steps[1:]) != np.sign(steps[:-1]))[0]) + 1
            out.append(
                f"non-monotone in N+: {label} turns near N+ = {turn} "
                f"({', '.join(f'{v:.3g}' for v in values[: min(6, values.size)])}, … for "
                f"N+ = 1, 2, …)"
            )
    one = []
    for r in (1.0, 0.0):
        try:
            value = float(np.asarray(fn(np.array([[r]])), dtype=np.float64).ravel()[0])
        except Exception as err:  # a trainer may refuse a group of one outright
            one.append(f"refused ({type(err).__name__})")
            continue
        one.append("0" if value == 0 else f"{value:.6g}")
    text = f"A(r=1) = {one[0]}, A(r=0) = {one[1]}"
    if one != ["0", "0"]:
        out.append(f"group of one: {text} (advshape's shapers give 0 or refuse)")
    return out


class TrainerRow(NamedTuple):
    """One trainer estimator beside its nearest registry shaper (``advshape table --trainers``).

    Attributes:
        target: ``TRAINER:ESTIMATOR``.
        source: ``owner/name@commit file`` the formula was read from.
        how: ``"installed"`` (the package's own function ran) or ``"transcribed"``.
        checks: ``"all hold"`` (equivariant, count-based, group-local) or what failed.
        nearest: the nearest registry spec up to scale, or ``"-"``.
        distance: its distance from the estimator's scores A±(N⁺).
        flags: what a user should know (:func:`flags`).

    Example:
        >>> from advshape.integrations.trainers import trainer_rows
        >>> row = {r.target: r for r in trainer_rows(8)}["openrlhf:rloo"]
        >>> row.how, row.checks, row.nearest
        ('transcribed', 'all hold', 'rloo')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1; RLOO, Eq. 6).
    """

    target: str
    source: str
    how: str
    checks: str
    nearest: str
    distance: float
    flags: tuple[str, ...]


def trainer_rows(n: int = 16) -> list[TrainerRow]:
    """Every estimator of :data:`ESTIMATORS` explained at group size N, beside its nearest shaper.

    The table of ``advshape table --trainers``: each estimator is run (the installed package
    where it imports, else the transcription), read as scores A±(N⁺) by
    :func:`advshape.explain` and matched to the nearest registry shaper up to scale.

    Args:
        n: the group size N.

    Returns:
        One :class:`TrainerRow` per estimator: checks, nearest shaper and distance, flags.

    Example:
        >>> from advshape.integrations.trainers import trainer_rows
        >>> row = {r.target: r for r in trainer_rows(8)}["prime-rl:max_rl"]
        >>> row.nearest, row.distance
        ('maxrl', 0.0)

    References:
        Seed paper, arXiv 2510.23049 (https://arxiv.org/abs/2510.23049), Lemma 2.
    """
    from advshape.surrogates.explain import explain, nearest_registry_shaper

    rows = []
    for target, entry in ESTIMATORS.items():
        fn, label, notes = trainer_estimator(target)
        how = "transcribed" if "TRANSCRIBED" in notes[0] else "installed"
        result = explain(fn, n, name=label, rtol=1e-9, atol=1e-12)
        failed = [c for c, ok in result.checks.items() if not ok]
        checks = "all hold" if not failed else "not " + ", not ".join(failed)
        nearest, distance = "-", float("nan")
        if result.shaper is not None:
            best = nearest_registry_shaper(result.a_pos, result.a_neg, n)[0]
            nearest, distance = best.spec, best.distance
        rows.append(
            TrainerRow(
                target,
                f"{entry.repository}@{entry.commit[:10]} {entry.path.split(' ')[0]}",
                how,
                checks,
                nearest,
                distance,
                tuple(flags(fn, result.a_pos, result.a_neg, n)),
            )
        )
    return rows
