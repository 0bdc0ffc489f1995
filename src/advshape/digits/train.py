"""Classification as RL: an MLP policy over the ten digit labels, trained by any shaper.

The MaxRL authors' harness (``sampling_based_rl_objective_experiments.py`` in
tajwarfahim/maxrl) treats CIFAR-10 as RL; this rebuilds it on scikit-learn's 8×8 digits,
small enough for a CPU. For an image x with label y the policy π_θ(·|x) is the softmax of a
small MLP's ten logits. Each step:

1. take B train images (a seeded walk through the train set: no repeats until all are used);
2. sample N labels a_1..a_N ~ π_θ(·|x) per image (the group of responses);
3. reward r_i = 1{a_i = y};
4. advantages A = shaper.advantages(r) of each group of N (any advshape spec, K schedules
   resolved at the step);
5. ascend J(θ) = (1/(B·N)) Σ_b Σ_i A_bi log π_θ(a_bi|x_b) with Adam: the policy gradient of
   the seed paper's objective (App. A, Eq. 27, fully online, where γ ≡ 1: Eq. 29). Responses
   that share an image and a label share their log-probability, so the loss sums
   W_b(a) = Σ_i A_bi·1{a_bi = a} over the ten labels: the same gradient, one term per label.

**Exact evaluation.** A held-out image's success probability is p_y = π_θ(y|x), so its
Pass@k is exactly 1 − (1 − p_y)^k: there is no sampling noise, and the only uncertainty
left is over seeds and images. Each evaluation stores every held-out image's failure
probability q = 1 − p_y, the softmax mass of the other labels, in float64 (precise when p_y
is near 1).

**Starts.** ``start="scratch"`` is RL from a randomly initialised MLP (π ≈ uniform, pass@1
≈ 0.1: a weak start); ``start="sft"`` first fits the cross-entropy on a small labelled subset
(a strong start). Both depend only on ``data_seed`` and are shared by every RL seed and every
shaper; the SFT start is cached under ``cache_dir``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._options import OneOf, check_options, count, real
from advshape._src.scheduled import ScheduledShaper
from advshape.digits.data import DigitsSplit

__all__ = [
    "STARTS",
    "DigitsConfig",
    "check_shaper",
    "exact_pass_at_k",
    "failure_probabilities",
    "policy_loss",
    "start_model",
    "train",
]

STARTS = ("scratch", "sft")
"""Ways to initialise the policy before RL: from scratch (weak) or after SFT (strong)."""
#: Bump when the SFT start's procedure changes, so stale caches are not reused.
_START_VERSION = 1


@dataclasses.dataclass(frozen=True)
class DigitsConfig:
    """One digits RL run, minus the shaper and the RL seed.

    Each field is documented below; :meth:`validate` checks them all before any work.

    Example:
        >>> from advshape.digits.train import DigitsConfig
        >>> config = DigitsConfig(steps=100, start="sft")
        >>> config.samples_per_image, config.images_per_step  # N, B
        (16, 32)
        >>> DigitsConfig(lr=0).validate()
        Traceback (most recent call last):
        ...
        ValueError: lr must be a number in (0, 10], got 0; Adam's step size

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eqs. 27 and 29); the harness: Tajwar et al. 2026 (MaxRL),
        https://arxiv.org/abs/2602.02710.
    """

    steps: int = 300
    """RL steps"""
    images_per_step: int = 32
    """B: images per step"""
    samples_per_image: int = 16
    """N: labels sampled per image (the group size)"""
    lr: float = 3e-3
    """Adam's learning rate (the peak, with lr_schedule cosine)"""
    lr_schedule: str = "cosine"
    """cosine: lr·(1 + cos(π(t−1)/T))/2 at step t of T (the end of the run settles), or constant"""
    hidden: int = 32
    """width of the MLP's hidden layer (64 pixels -> hidden -> 10 logits)"""
    start: str = "scratch"
    """scratch (random MLP: a weak start) or sft (cross-entropy on a labelled subset first)"""
    sft_images: int = 50
    """images the SFT start is fitted on (the same number of each class)"""
    sft_steps: int = 100
    """full-batch Adam steps of the SFT start"""
    sft_lr: float = 1e-2
    """Adam's learning rate in the SFT start"""
    eval_every: int = 30
    """evaluate the exact held-out Pass@k every this many steps (and at the last step)"""
    test_fraction: float = 0.3
    """fraction of every class held out"""
    data_seed: int = 0
    """seed of the train/held-out split and of the start's initialisation (shared by runs)"""
    cache_dir: str = ".cache/advshape/digits"
    """where SFT starts are cached"""

    def validate(self) -> None:
        """Check every field's range before any work.

        Raises:
            ValueError: a field out of range, naming it and the valid range.
        """
        check_options(self, _CHECKS, spell=lambda name: name)
        if self.sft_images < 10 or self.sft_images % 10:
            raise ValueError(
                f"sft_images must be a positive multiple of 10 (the same number of each "
                f"class), got {self.sft_images}"
            )


_CHECKS: dict[str, Any] = {
    "steps": count(1, 10**7),
    "images_per_step": count(1, 1258, why="at most the train images of the default split"),
    "samples_per_image": count(1, 100_000, why="N, the group size"),
    "lr": real(0.0, 10.0, low_open=True, why="Adam's step size"),
    "lr_schedule": OneOf(("cosine", "constant")),
    "hidden": count(1, 100_000),
    "start": OneOf(STARTS),
    "sft_images": count(10, 1250, why="a multiple of 10"),
    "sft_steps": count(1, 10**6),
    "sft_lr": real(0.0, 10.0, low_open=True),
    "eval_every": count(1, 10**7),
    "test_fraction": real(0.0, 0.9, low_open=True, why="the held-out fraction of each class"),
    "data_seed": count(0, 2**32 - 1),
    "cache_dir": lambda option, value: _check_dir(option, value),
}


def _check_dir(option: str, value: str) -> None:
    from advshape._files import check_output_dir

    check_output_dir(option, value)


def failure_probabilities(logits: Any, labels: Any) -> NDArray[np.float64]:
    """q = 1 − π(y|x) for each row, in float64, without cancellation.

    q is the probability of the other labels, exp(logsumexp_{a≠y} z_a − logsumexp_a z_a):
    it keeps its relative precision when p_y is within an ulp of 1, where 1 − p_y would be 0.

    Args:
        logits: [rows, classes] logits (a torch tensor).
        labels: [rows] the correct class of each row.

    Returns:
        A float64 NumPy array of the rows' failure probabilities.

    Example:
        >>> import numpy as np, torch
        >>> from advshape.digits.train import failure_probabilities
        >>> q = failure_probabilities(torch.tensor([[0.0, 0.0], [50.0, 0.0]]), torch.tensor([0, 0]))
        >>> float(q[0]), bool(q[1] == np.exp(-50.0))
        (0.5, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2). Exact Pass@k of a classifier from its softmax: Tajwar et al.
        2026 (MaxRL), https://arxiv.org/abs/2602.02710, their CIFAR-10 harness.
    """
    import torch

    z = logits.detach().to(torch.float64)
    own = torch.nn.functional.one_hot(labels.reshape(-1).to(torch.long), z.shape[-1]).bool()
    others = torch.logsumexp(z.masked_fill(own, float("-inf")), dim=-1)
    return torch.exp(others - torch.logsumexp(z, dim=-1)).numpy()


def exact_pass_at_k(fail: ArrayLike, k: int) -> NDArray[np.float64]:
    """Exact Pass@k of each image from its failure probability: 1 − q^k.

    k independent samples all miss with probability q^k = (1 − p_y)^k.

    Args:
        fail: failure probabilities q = 1 − p_y (array-like).
        k: the number of samples, k ≥ 1.

    Returns:
        A float64 array, 1 − q^k per image.

    Raises:
        ValueError: k < 1.

    Example:
        >>> from advshape.digits.train import exact_pass_at_k
        >>> exact_pass_at_k([0.5, 0.9, 0.0], 2).tolist()
        [0.75, 0.18999999999999995, 1.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K ρ_K = 1 − (1 − ρ)^K, Sec. 1.1.2).
    """
    if k < 1:
        raise ValueError(f"Pass@k needs k >= 1, got {k}")
    return 1.0 - np.asarray(fail, dtype=np.float64) ** k


def policy_loss(logits: Any, labels: ArrayLike, advantages: ArrayLike) -> Any:
    """−J(θ) = −(1/(B·N)) Σ_b Σ_i A_bi log π_θ(a_bi|x_b), summed per label.

    Responses with the same image and label share log π(a|x), so the sum is taken as
    Σ_b Σ_a W_b(a) log π(a|x_b) with W_b(a) = Σ_i A_bi·1{a_bi = a}: the same value and
    gradient with one term per label instead of one per response.

    Args:
        logits: [B, classes] logits of the step's images (a torch tensor with gradients).
        labels: [B, N] sampled labels (NumPy integers).
        advantages: [B, N] their advantages.

    Returns:
        The scalar loss (a torch tensor).

    Example:
        >>> import numpy as np, torch
        >>> from advshape.digits.train import policy_loss
        >>> logits = torch.zeros(1, 10, requires_grad=True)
        >>> loss = policy_loss(logits, np.array([[3, 1]]), np.array([[1.0, 0.0]]))
        >>> bool(round(loss.item(), 6) == round(np.log(10) / 2, 6))  # −(1/2)·log(1/10)
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eqs. 27 and 29: γ ≡ 1, fully online).
    """
    import torch

    from advshape.digits.data import CLASSES

    labels = np.asarray(labels)
    b, n = labels.shape
    weights = np.zeros((b, CLASSES))
    np.add.at(
        weights,
        (np.repeat(np.arange(b), n), labels.reshape(-1)),
        np.asarray(advantages).reshape(-1),
    )
    logp = torch.log_softmax(logits, -1)
    return -(torch.from_numpy(weights).to(logp.dtype) * logp).sum() / (b * n)


def _step_images(n_images: int, batch: int, seed: int, step: int) -> list[int]:
    """Step t's B train images: consecutive slices of seeded permutations (no repeats until
    every image is used; depends only on (seed, t), so every shaper sees the same images)."""
    out: list[int] = []
    position = (step - 1) * batch
    while len(out) < batch:
        sweep, offset = divmod(position + len(out), n_images)
        perm = np.random.default_rng([seed, sweep, 3]).permutation(n_images)
        out.extend(int(i) for i in perm[offset : offset + batch - len(out)])
    return out


def _make_mlp(hidden: int, seed: int):
    import torch

    from advshape.digits.data import CLASSES

    with torch.random.fork_rng():  # the start's weights depend on data_seed only
        torch.manual_seed(seed)
        return torch.nn.Sequential(
            torch.nn.Linear(64, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, CLASSES)
        )


def _start_description(config: DigitsConfig) -> dict[str, Any]:
    keys = ["hidden", "start", "test_fraction", "data_seed"]
    if config.start == "sft":
        keys += ["sft_images", "sft_steps", "sft_lr"]
    return {"version": _START_VERSION, **{k: getattr(config, k) for k in keys}}


def start_model(config: DigitsConfig, split: DigitsSplit | None = None) -> Any:
    """The policy before RL: the seeded random MLP, or that MLP after SFT (cached on disk).

    The SFT start minimises the cross-entropy of ``sft_images`` labelled train images (the
    same number of each class, drawn with ``data_seed``) by full-batch Adam.

    Args:
        config: the settings; ``start`` picks the start.
        split: the data split, if already loaded.

    Returns:
        The torch MLP.

    Example:
        >>> from advshape.digits.train import DigitsConfig, start_model
        >>> model = start_model(DigitsConfig(start="scratch", hidden=8))
        >>> sum(p.numel() for p in model.parameters())  # 64·8 + 8 + 8·10 + 10
        610

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        Weak and strong starts: Heckel, Soltanolkotabi & Thrampoulidis 2026,
        https://arxiv.org/abs/2602.11128 (RL from scratch against RL after SFT).
    """
    import torch

    from advshape._files import atomic_write
    from advshape.digits.data import CLASSES, load_split

    model = _make_mlp(config.hidden, config.data_seed)
    if config.start == "scratch":
        return model
    description = _start_description(config)
    key = hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:16]
    path = os.path.join(config.cache_dir, f"sft-{key}.pt")
    if os.path.exists(path):
        model.load_state_dict(torch.load(path, weights_only=True))
        return model
    split = split if split is not None else load_split(config.data_seed, config.test_fraction)
    per_class = config.sft_images // CLASSES
    rng = np.random.default_rng([config.data_seed, 7])
    rows = np.concatenate(
        [rng.permutation(np.flatnonzero(split.y_train == c))[:per_class] for c in range(CLASSES)]
    )
    x = torch.from_numpy(split.x_train[rows])
    y = torch.from_numpy(split.y_train[rows])
    optimizer = torch.optim.Adam(model.parameters(), lr=config.sft_lr)
    for _ in range(config.sft_steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    atomic_write(path, lambda fh: torch.save(model.state_dict(), fh), mode="wb")
    return model


def check_shaper(spec: Any, n: int, option: str = "--shaper") -> ScheduledShaper:
    """The scheduled shaper of ``spec``, checked for groups of N.

    Every K a schedule reaches must fit N (K ≤ N for the unbiased Pass@K estimators), and some
    group must get a non-zero advantage (else training would do nothing).

    Args:
        spec: a shaper spec or shaper.
        n: N, the group size.
        option: the option named in errors.

    Returns:
        ``advshape.scheduled(spec)``.

    Raises:
        ValueError: a spec that cannot train groups of N, naming ``option`` and the fix.

    Example:
        >>> from advshape.digits.train import check_shaper
        >>> check_shaper("grpo_k:k=linear(8,1)", 16).values_at(1, 10)
        {'k': 8}
        >>> check_shaper("grpo_k:k=8", 4)
        Traceback (most recent call last):
        ...
        ValueError: --shaper 'grpo_k:k=8' with groups of 4: shaper 'grpo_k:k=8': k=8 > group size n=4; ...

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (K ≤ N for the unbiased Pass@K estimator, Eq. 11).
    """
    import advshape

    try:
        schedule = advshape.scheduled(spec)
        schedule.check_group_size(n)
    except (ValueError, ImportError) as err:
        raise ValueError(f"{option} {spec!r} with groups of {n}: {err}") from None
    groups = np.array(
        [[1.0] * m + [0.0] * (n - m) for m in sorted({0, 1, n // 2, n - 1, n})], dtype=np.float64
    )
    if not any(np.any(np.asarray(v.advantages(groups)) != 0) for v in schedule.variants()):
        raise ValueError(
            f"{option} {spec!r}: every advantage is 0 with groups of {n}; use larger groups"
        )
    return schedule


def train(
    config: DigitsConfig,
    shaper: Any,
    seed: int,
    *,
    on_eval: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One RL run on the digits: returns its evaluations and per-step training records.

    Args:
        config: the run's settings (:class:`DigitsConfig`).
        shaper: any advshape shaper or spec (a K schedule is resolved at every step).
        seed: the RL seed: which images each step sees and which labels are sampled.
        on_eval: called with each evaluation record as it is made.

    Returns:
        ``{"evals": [...], "train": [...], "seconds": float}``. Each evaluation has ``step``,
        ``samples`` (labels drawn so far), ``fail`` (every held-out image's exact 1 − p_y) and
        ``pass@k`` for k = 1, 2, 4, 8, 16 (exact means over the held-out images); each train
        record has the step's mean reward and fraction of zero-variance groups.

    Raises:
        ValueError: a bad setting or shaper, before any work.
        FloatingPointError: a loss that is not finite (lower the learning rate).

    Example:
        >>> from advshape.digits.train import DigitsConfig, train
        >>> result = train(DigitsConfig(steps=2, eval_every=1), "grpo", seed=0)
        >>> [e["step"] for e in result["evals"]], len(result["evals"][0]["fail"])
        ([0, 1, 2], 539)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (App. A, Eqs. 27 and 29). The harness: Tajwar et al. 2026 (MaxRL),
        https://arxiv.org/abs/2602.02710 (classification as RL with exact Pass@k).
    """
    import torch

    from advshape.digits.data import CLASSES, load_split

    config.validate()
    schedule = check_shaper(shaper, config.samples_per_image)
    split = load_split(config.data_seed, config.test_fraction)
    if config.images_per_step > len(split.y_train):
        raise ValueError(
            f"images_per_step {config.images_per_step} exceeds the {len(split.y_train)} train "
            "images; lower it"
        )
    torch.set_num_threads(1)  # a tiny MLP: one thread is fastest and leaves cores to other runs
    model = start_model(config, split)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    x_test = torch.from_numpy(split.x_test)
    y_test = torch.from_numpy(split.y_test)
    x_train = torch.from_numpy(split.x_train)
    y_train = split.y_train
    B, N, T = config.images_per_step, config.samples_per_image, config.steps

    def evaluate(step: int) -> dict[str, Any]:
        with torch.no_grad():
            fail = failure_probabilities(model(x_test), y_test)
        record = {"step": step, "samples": step * B * N, "fail": fail.tolist()}
        record.update(
            {f"pass@{k}": float(exact_pass_at_k(fail, k).mean()) for k in (1, 2, 4, 8, 16)}
        )
        if on_eval is not None:
            on_eval(record)
        return record

    began = time.perf_counter()
    evals = [evaluate(0)]
    records = []
    for step in range(1, T + 1):
        if config.lr_schedule == "cosine":
            for group in optimizer.param_groups:
                group["lr"] = config.lr * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / T))
        images = _step_images(len(y_train), B, seed, step)
        logits = model(x_train[images])
        with torch.no_grad():
            cdf = torch.softmax(logits.to(torch.float64), -1).cumsum(-1).numpy()
        u = np.random.default_rng([seed, step, 1]).random((B, N))
        # inverse-CDF sampling: the first label whose cumulative probability exceeds u
        labels = np.minimum((u[:, :, None] >= cdf[:, None, :]).sum(-1), CLASSES - 1)
        rewards = (labels == y_train[images][:, None]).astype(np.float64)
        advantages = np.asarray(schedule.at(step, T).advantages(rewards), dtype=np.float64)
        loss = policy_loss(logits, labels, advantages)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"digits, shaper {schedule.spec!r}, seed {seed}: the loss is not finite at step "
                f"{step}; lower the learning rate"
            )
        optimizer.step()
        records.append(
            {
                "step": step,
                "train_reward": float(rewards.mean()),
                "zero_variance_groups": float(np.mean(rewards.min(1) == rewards.max(1))),
            }
        )
        if step % config.eval_every == 0 or step == T:
            evals.append(evaluate(step))
    return {"evals": evals, "train": records, "seconds": time.perf_counter() - began}
