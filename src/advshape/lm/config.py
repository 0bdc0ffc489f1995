"""The options of ``advshape train``, ``compare`` and ``probe``, and every check of them.

:class:`Args` is one RL run: each field is one ``--field-name`` option, its type and default
are the field's, its help is the string literal under it and its valid values are declared
beside it (:func:`advshape._options.option`). :class:`CompareArgs` and :class:`ProbeArgs` are
the same options with the comparison's and the probe's own. :func:`validate` checks every
option, then the relations between options, before any work starts; :func:`check_run_folder`
asks the run folder (:mod:`advshape._run_folder`) whether ``--out`` can take the run.

Nothing here imports torch or transformers: the command line builds its parsers from this
module, and ``advshape --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

import advshape
from advshape._files import check_output_dir, read_jsonl
from advshape._options import OneOf, check_options, count, field_checks, option, real
from advshape._run_folder import RunFolder
from advshape._shaper_option import canonical_spec, shaper_option
from advshape.lm.tasks import get_task_spec

__all__ = ["Args", "CompareArgs", "ProbeArgs", "validate", "validate_compare", "validate_probe"]

LOSS_AGGREGATIONS = ("sum", "token-mean", "seq-mean")
PRECISIONS = ("fp32", "bf16")
REWARD_MODES = ("auto", "binary", "score")
LR_SCHEDULES = ("constant", "cosine")
#: Positions of the tiny model (prompt + response tokens): its ``max_position_embeddings``.
TINY_MODEL_POSITIONS = 64
#: Fields that may differ between a run and its resumption (not part of its saved settings).
RESUME_FREE_FIELDS = ("resume", "stop_after", "progress", "threads", "out", "report")

_SEED = count(0, 2**32 - 1, why="a seed of NumPy's and torch's generators")
_HUGE = 10**7  # steps and sizes far beyond what this trainer can run, refused up front


def _check_task(option_name: str, name: str) -> None:
    try:
        get_task_spec(name)
    except ValueError as err:
        raise ValueError(f"{option_name}: {err}") from None


def _check_shaper(option_name: str, spec: str) -> None:
    shaper_option(spec, option_name)


def check_causal_lm_path(path: str) -> None:
    """Raise ValueError unless ``path`` is a local Hugging Face causal-LM checkpoint.

    Cheap (reads only the config), so commands call it before any work starts.
    """
    if not os.path.isdir(path):
        raise ValueError(f"--model {path!r} is not a directory; give a local checkpoint folder")
    # transformers only when --model names a checkpoint: the options check without it
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as err:
        raise ValueError(
            f"--model {path!r} has no readable Hugging Face config.json ({err}); give a folder "
            "written by save_pretrained"
        ) from None
    if config.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise ValueError(
            f"--model {path!r} is a {config.model_type!r} model, which is not a causal "
            "language model; give a decoder-only checkpoint (Llama, Qwen2, GPT-2, ...)"
        )


def _check_model(option_name: str, path: str) -> None:
    if path:
        check_causal_lm_path(path)


def _check_device(option_name: str, device: str) -> None:
    match = re.fullmatch(r"cpu|cuda(?::(\d+))?", device)
    if match is None:
        raise ValueError(f"{option_name} must be cpu, cuda or cuda:INDEX, got {device!r}")
    if device.startswith("cuda"):
        import torch  # only when a CUDA device is asked for: the CPU path checks without torch

        if not torch.cuda.is_available():
            raise ValueError(
                f"{option_name} cuda requested but torch sees no CUDA device; use {option_name} cpu"
            )
        index = int(match.group(1) or 0)
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"{option_name} {device}: torch sees {torch.cuda.device_count()} CUDA device(s); "
                "use an index below that"
            )


@dataclasses.dataclass
class Args:
    """One RL run of ``advshape train``: each field is an option ``--field-name``.

    The field's type and default are the option's, the string under it is its help and its
    valid values are declared beside it; :func:`validate` checks them all, and their
    relations, before any work starts. The loss of each step is the paper's Eq. (27): the
    shaper's advantages times the sequence log-probabilities of N responses per problem.

    Example:
        >>> from advshape.lm.config import Args, validate
        >>> args = Args(task="palindrome", shaper="grpo_k:k=4", samples_per_prompt=8)
        >>> args.steps, args.loss_aggregation, validate(args).spec
        (60, 'sum', 'grpo_k:k=4')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Eq. 27; Sec. 7); Shao et al. 2024 (GRPO), https://arxiv.org/abs/2402.03300; Yu et al.
        2025 (DAPO, token-mean), https://arxiv.org/abs/2503.14476; Schulman et al. 2017 (PPO
        clipping), https://arxiv.org/abs/1707.06347.
    """

    # --- what to learn, and with which shaper
    task: str = option("divisor", _check_task)
    """task (`advshape.lm.tasks`; listed under --help): divisor (default), subset_sum, palindrome, prime_suffix, countdown, chain_sum"""
    shaper: str = option("grpo", _check_shaper)
    """shaper spec: grpo, grpo_k:k=8, skew_r, pkpo:k=8, ... (`advshape list`), with K schedules (grpo_k:k=linear(16,1)), or surrogate:F[;lam=λ]"""
    reward: str = option("auto", OneOf(REWARD_MODES))
    """reward given to the shaper: binary 1[score>=1], the verifier's raw score, or auto (raw for pkpo and maxpo)"""
    seed: int = option(0, _SEED)
    """seed of the RL run (sampling and problem order); the warm start has its own"""
    # --- RL
    steps: int = option(60, count(1, _HUGE))
    """number of RL steps"""
    prompts_per_step: int = option(32, count(1, 100_000))
    """B: problems per step"""
    samples_per_prompt: int = option(16, count(1, 100_000, why="N, the group size"))
    """N: responses sampled per problem (the group size)"""
    lr: float = option(3e-4, real(0.0, 10.0, low_open=True, why="AdamW's step size"))
    """AdamW learning rate (the peak, with --lr-schedule cosine)"""
    lr_schedule: str = option("constant", OneOf(LR_SCHEDULES))
    """constant, or cosine: lr·(1 + cos(π(t−1)/T))/2 at step t of T (decays to ~0 by the end)"""
    weight_decay: float = option(0.0, real(0.0, 10.0, why="0 = none"))
    """AdamW weight decay"""
    max_grad_norm: float = option(
        1.0,
        real(
            0.0,
            1e6,
            low_open=True,
            why="the bound of the gradient's global norm (a negative bound flips the gradient, "
            "0 zeroes it); 1e6 effectively disables clipping",
        ),
    )
    """gradient clipping by global norm"""
    loss_aggregation: str = option("sum", OneOf(LOSS_AGGREGATIONS))
    """sum (paper Eq. 27, no 1/|y|), token-mean (DAPO) or seq-mean (original GRPO 1/|y|)"""
    ppo_epochs: int = option(1, count(1, 1000))
    """updates per batch of samples; 1 = fully online (the paper's setting)"""
    clip: float = option(
        0.2, real(0.0, 1.0, low_open=True, high_open=True, why="the PPO clip range epsilon")
    )
    """PPO clip range epsilon (active only with --ppo-epochs > 1)"""
    temperature: float = option(
        1.0, real(0.0, 100.0, low_open=True, why="the sampling temperature")
    )
    """sampling temperature of the RL rollouts and of evaluation"""
    max_new_tokens: int = option(0, count(0, 100_000, why="0 = the task's default"))
    """longest response in tokens; 0 = the task's longest answer + 1 (for <eos>)"""
    precision: str = option("fp32", OneOf(PRECISIONS))
    """fp32, or bf16 (CPU/CUDA autocast of sampling and the loss pass)"""
    # --- problems and evaluation
    task_seed: int = option(0, _SEED)
    """seed of the train/held-out problem split (shared by all runs that compare)"""
    n_train: int = option(0, count(0, 1_000_000, why="0 = the task's default"))
    """number of distinct train problems (0 = the task's default); RL draws them without repeats"""
    eval_problems: int = option(512, count(1, 100_000))
    """number of held-out problems"""
    eval_samples: int = option(32, count(1, 100_000))
    """n: samples per held-out problem for the Pass@K estimator"""
    eval_ks: tuple[int, ...] = option(
        (1, 2, 4, 8, 16), count(1, 100_000, why="the K values of Pass@K")
    )
    """the K values of Pass@K (each <= --eval-samples)"""
    eval_every: int = option(30, count(1, _HUGE))
    """evaluate (and checkpoint) every this many steps"""
    # --- model and warm start
    model: str = option("", _check_model)
    """local Hugging Face causal-LM checkpoint; empty = a tiny Llama built from the sizes below"""
    hidden_size: int = option(64, count(1, 65_536))
    """tiny model: hidden size"""
    num_layers: int = option(2, count(1, 1024))
    """tiny model: decoder layers"""
    num_heads: int = option(4, count(1, 1024))
    """tiny model: attention heads"""
    warmstart_steps: int = option(300, count(0, _HUGE, why="0 = no warm start"))
    """supervised steps on reference answers before RL (0 = none); cached"""
    warmstart_lr: float = option(3e-3, real(0.0, 10.0, low_open=True))
    """warm start learning rate"""
    warmstart_batch_size: int = option(128, count(1, 100_000))
    """warm start batch size"""
    cache_dir: str = option(".cache/advshape/lm", check_output_dir)
    """where warm-started checkpoints are cached (shared by runs)"""
    # --- run
    out: str = option("runs/train", check_output_dir)
    """run folder (config, metrics.jsonl, checkpoint, model, report)"""
    resume: bool = option(False, OneOf((False, True)))
    """continue the run in --out from its last checkpoint"""
    device: str = option("cpu", _check_device)
    """cpu or cuda"""
    threads: int = option(1, count(0, 1024, why="0 = torch's default"))
    """torch CPU threads (0 = torch default); 1 is fastest for tiny models and robust on shared cores"""
    progress: bool = option(True, OneOf((False, True)))
    """show progress bars"""
    stop_after: int = option(0, count(0, _HUGE, why="0 = never"))
    """stop this invocation after this many steps (simulates an interruption; 0 = never)"""
    report: bool = option(True, OneOf((False, True)))
    """write report.html (plots of the run) when the run finishes"""

    #: Fields that a command built on these options does not offer (see CompareArgs).
    hidden_options: ClassVar[tuple[str, ...]] = ()


# ----------------------------------------------------------------------------- one run


def check_ks(ks: Sequence[int], n: int) -> tuple[int, ...]:
    """The K values, validated against the n samples per problem (before any work)."""
    ks = tuple(int(k) for k in ks)
    if not ks:
        raise ValueError("--eval-ks: give at least one K for Pass@K evaluation")
    if n < 1:
        raise ValueError(f"--eval-samples must be >= 1, got {n}")
    bad = [k for k in ks if k < 1 or k > n]
    if bad:
        raise ValueError(
            f"--eval-ks: Pass@K needs 1 <= K <= n, but K={bad} with n={n} samples per problem; "
            f"raise --eval-samples to at least {max(ks)} or drop those K"
        )
    return ks


def resolve_reward_mode(args: Args, shaper) -> str:
    """The reward the shaper gets: --reward, with auto = the raw score for pkpo, else 0/1."""
    if args.reward == "auto":
        # the max@K shapers take the verifier's raw score; every other shaper its 0/1 pass
        return "score" if shaper.name in ("pkpo", "maxpo") else "binary"
    return args.reward


def validate(args: Args, shaper_option_name: str = "--shaper") -> advshape.ScheduledShaper:
    """Check every option of a run before any work starts, and return its shaper.

    Each field's own range comes from its declaration in :class:`Args`; the relations between
    fields follow (K ≤ N for the shaper at every value its schedule reaches, a group size at
    which the shaper moves at all, K ≤ n for Pass@K, the tiny model's shape). Every message
    names the option (``shaper_option_name`` for the shaper, so ``compare`` can say
    ``--shapers``).

    Args:
        args: the run's options.
        shaper_option_name: the option errors about the shaper name.

    Returns:
        The shaper (an ``advshape.ScheduledShaper``; constant unless a parameter is scheduled).

    Raises:
        ValueError: one line naming the option and the fix.

    Example:
        >>> from advshape.lm.config import Args, validate
        >>> validate(Args(shaper="grpo_k:k=32", samples_per_prompt=16))
        Traceback (most recent call last):
        ...
        ValueError: --shaper 'grpo_k:k=32' with --samples-per-prompt 16: shaper 'grpo_k:k=32': k=32 > group size n=16; its unbiased Pass@K estimator needs n >= k: sample at least 32 responses per prompt, lower k, or use 'biased_k:k=32', which is defined for any k

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (K ≤ N, Eq. 11).
    """
    check_options(args, {**field_checks(Args), "shaper": lambda option, value: None})
    shaper = shaper_option(args.shaper, shaper_option_name)
    if resolve_reward_mode(args, shaper) == "score" and shaper.info.binary_only:
        raise ValueError(
            f"{shaper_option_name} {shaper.spec!r} takes only 0/1 rewards; use --reward binary "
            "(or auto)"
        )
    # The shaper's own checks (group size vs K, ...) on a dummy group of the real size, at
    # every value a K schedule reaches (advshape.scheduled: a fixed shaper is one value).
    schedule = advshape.scheduled(shaper)
    n = args.samples_per_prompt
    try:
        schedule.check_group_size(n)
    except ValueError as err:
        raise ValueError(
            f"{shaper_option_name} {args.shaper!r} with --samples-per-prompt {n}: {err}"
        ) from None
    # A group size at which the shaper gives every response advantage 0 (a mean-centred
    # shaper with N = 1) trains nothing: every step would be wasted.
    groups = np.array(
        [[1.0] * m + [0.0] * (n - m) for m in sorted({0, 1, n // 2, n - 1, n})], dtype=np.float64
    )
    if not np.any(np.asarray(schedule.at(1, args.steps).advantages(groups)) != 0):
        raise ValueError(
            f"--samples-per-prompt {n}: every advantage of {shaper.spec!r} is 0 with groups of "
            f"{n} (it compares each response with the rest of its group); use at least 2"
        )
    check_ks(args.eval_ks, args.eval_samples)
    n_train = args.n_train or get_task_spec(args.task).default_n_train
    if args.prompts_per_step > n_train:
        raise ValueError(
            f"--prompts-per-step {args.prompts_per_step} exceeds --n-train {n_train}; "
            "lower it or add train problems"
        )
    if not args.model:
        if args.hidden_size % args.num_heads:
            raise ValueError(
                f"--num-heads {args.num_heads} must divide --hidden-size {args.hidden_size}; "
                f"e.g. --num-heads {_divisor_near(args.hidden_size, args.num_heads)}"
            )
        if (args.hidden_size // args.num_heads) % 2:
            raise ValueError(
                f"--hidden-size / --num-heads = {args.hidden_size // args.num_heads} must be "
                "even (rotary position embeddings rotate pairs of dimensions); change either"
            )
        if args.max_new_tokens >= TINY_MODEL_POSITIONS:
            raise ValueError(
                f"--max-new-tokens {args.max_new_tokens} does not fit the tiny model's "
                f"{TINY_MODEL_POSITIONS} positions with a prompt; use at most "
                f"{TINY_MODEL_POSITIONS - 1} (0 = the task's default)"
            )
    return shaper


def _divisor_near(total: int, wanted: int) -> int:
    return min((d for d in range(1, total + 1) if total % d == 0), key=lambda d: abs(d - wanted))


def response_cap(args: Args, task) -> int:
    """The longest response in tokens: --max-new-tokens, or the task's longest answer + 1
    (for ``<eos>``)."""
    return args.max_new_tokens or task.spec.max_answer_chars + 1


def check_task_fits(args: Args, task) -> None:
    """Longest prompt + response cap within the tiny model's positions (needs the problems)."""
    if args.model:
        return
    longest = max(len(p.prompt) for p in (*task.train, *task.heldout))  # one token per char
    cap = response_cap(args, task)
    if longest + cap > TINY_MODEL_POSITIONS:
        raise ValueError(
            f"--max-new-tokens {cap}: with prompts of up to {longest} tokens, responses of "
            f"{cap} tokens exceed the tiny model's {TINY_MODEL_POSITIONS} positions; use at "
            f"most {TINY_MODEL_POSITIONS - longest}"
        )


# ----------------------------------------------------------------------------- run folder


def run_settings(args: Args) -> dict[str, Any]:
    """What config.json's ``args`` holds: every option but those free to change on resume."""
    settings = dataclasses.asdict(args)
    for name in RESUME_FREE_FIELDS:
        settings.pop(name)
    settings["eval_ks"] = list(settings["eval_ks"])
    return settings


def run_folder(args: Args) -> RunFolder:
    return RunFolder(Path(args.out))


def _has_train_step(out: str) -> bool:
    records = read_jsonl(
        os.path.join(out, "metrics.jsonl"), fix="delete the run folder or choose another --out"
    )
    return any(r.get("kind") == "train" for r in records)


def check_run_folder(args: Args) -> bool:
    """Can ``args.out`` take this run? True: resume it; False: start afresh. Reads only.

    A run folder whose run failed, or completed no RL step, holds nothing worth resuming: a
    rerun replaces it. Another run is continued only with ``--resume`` and the same options
    (shapers compared by canonical spec).
    """
    return run_folder(args).check(
        run_settings(args),
        saved_settings=lambda config: config["args"],
        has_work=lambda: _has_train_step(args.out),
        resume=args.resume,
        normalise={"shaper": canonical_spec},
    )


# ----------------------------------------------------------------------------- compare, probe

#: The default comparison (the README's main job), sized to finish in under eight minutes
#: on two CPU cores, warm start included: Args' own steps (60) and eval_every (30).
DEFAULT_SHAPERS = ("grpo", "grpo_k:k=8", "rloo_k:k=8", "skew_r", "grpo_k:k=linear(8,1)")
DEFAULT_SEEDS = 3


def _plain_args(options: Args, **changes: Any) -> Args:
    """``options`` (a CompareArgs, a ProbeArgs) as a plain :class:`Args` with ``changes``: what a
    run gets, and what pickles into a worker process."""
    values = {f.name: getattr(options, f.name) for f in dataclasses.fields(Args)}
    return Args(**{**values, **changes})


def _check_shapers(option_name: str, specs: Sequence[str]) -> None:
    if not specs:
        raise ValueError(f"{option_name}: give at least one shaper, e.g. {option_name} grpo skew_r")
    for spec in specs:
        shaper_option(spec, option_name)


@dataclasses.dataclass
class CompareArgs(Args):
    """``advshape compare``: the options of every run, and the comparison's own.

    Every field of :class:`Args` but those in ``hidden_options`` (each run has its own shaper,
    seed and folder), plus the shapers, the paired seeds and the parallel jobs; the string
    under each field is its help.

    Example:
        >>> from advshape.lm.config import CompareArgs
        >>> compare = CompareArgs(shapers=("grpo", "grpo_k:k=8"), seeds=2, out="cmp")
        >>> compare.run_dir("grpo_k:k=8", 1), list(compare.seed_list)
        ('cmp/grpo_k__k=8/seed1', [0, 1])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers of Table 1, compared on held-out Pass@K).
    """

    out: str = option("runs/compare", check_output_dir)
    """comparison folder (a run folder per shaper and seed, the report and summary.json)"""
    shapers: tuple[str, ...] = option(DEFAULT_SHAPERS, _check_shapers)
    """shaper specs to compare; grpo, if present, is the reference of the paired differences"""
    seeds: int = option(DEFAULT_SEEDS, count(1, 10_000, why="paired RL seeds per shaper"))
    """paired RL seeds per shaper"""
    first_seed: int = option(0, count(0, 10**9, why="the first RL seed"))
    """the seeds are FIRST_SEED .. FIRST_SEED + SEEDS - 1"""
    jobs: int = option(1, count(1, 256, why="runs trained at once, one process each"))
    """runs trained at once, one process each; with --threads 1, --jobs 2 uses both cores of a 2-core machine"""

    # Each run has its own shaper, seed and folder; compare always resumes unfinished runs.
    hidden_options: ClassVar[tuple[str, ...]] = ("shaper", "seed", "resume", "stop_after")

    @property
    def seed_list(self) -> range:
        """The RL seeds: first_seed .. first_seed + seeds − 1."""
        return range(self.first_seed, self.first_seed + self.seeds)

    def run_dir(self, shaper: str, seed: int) -> str:
        """The folder of one run: ``OUT/<shaper spec as a folder name>/seed<seed>``."""
        slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", shaper.replace(":", "__"))
        return os.path.join(self.out, slug, f"seed{seed}")

    def run_args(self, shaper: str, seed: int) -> Args:
        """The options of one run of the comparison (a plain :class:`Args`, resumable)."""
        out = self.run_dir(shaper, seed)
        return _plain_args(self, shaper=shaper, seed=seed, out=out, resume=True)


def validate_compare(args: CompareArgs) -> list[str]:
    """Check every option of every run and every run folder of a comparison before any work.

    Args:
        args: the comparison's options.

    Returns:
        The shapers in their canonical spelling (``grpo_k: k=8`` is ``grpo_k:k=8``), so a
        shaper written twice is refused, and each run has one folder whatever its spelling.

    Raises:
        ValueError: a bad option of some run, a shaper listed twice, or a run folder holding
            another comparison's run.

    Example:
        >>> from advshape.lm.config import CompareArgs, validate_compare
        >>> validate_compare(CompareArgs(shapers=("grpo_k: k=8", "grpo"), out="cmp"))
        ['grpo_k:k=8', 'grpo']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1).
    """
    check_options(args, field_checks(CompareArgs, beyond=Args))
    for spec in args.shapers:
        validate(args.run_args(spec, args.first_seed), shaper_option_name="--shapers")
    canonical = [canonical_spec(spec) for spec in args.shapers]
    twice = sorted({c for c in canonical if canonical.count(c) > 1})
    if twice:
        raise ValueError(
            f"--shapers lists the same shaper twice: {', '.join(twice)} (as "
            f"{list(args.shapers)}); drop the repeat"
        )
    for spec in canonical:  # a folder holding another comparison's run: refused now, not later
        for seed in args.seed_list:
            check_run_folder(args.run_args(spec, seed))
    return canonical



PROBE_TEMPERATURES = (1.0, 0.7, 0.5)
#: The options of :class:`Args` that decide the probe's numbers (the task, the warm start,
#: the evaluation) or how it runs; the RL options do not apply to it.
PROBE_OPTIONS = (
    "task", "task_seed", "n_train", "eval_problems", "eval_samples", "eval_ks",
    "max_new_tokens", "model", "hidden_size", "num_layers", "num_heads", "warmstart_steps",
    "warmstart_lr", "warmstart_batch_size", "cache_dir", "device", "threads", "progress",
)  # fmt: skip


def _check_temperatures(option_name: str, values: Sequence[float]) -> None:
    bad = [t for t in values if not real(0.0, 100.0, low_open=True).ok(t)]
    if bad or len(values) < 2:
        raise ValueError(
            f"{option_name} needs at least two values in (0, 100], got {list(values)}"
        )


@dataclasses.dataclass
class ProbeArgs(Args):
    """``advshape probe``: the warm start's options, the temperatures and the output format.

    The options of :class:`Args` that decide the warm start and its evaluation, plus the
    sampling temperatures to evaluate it at; the RL options are hidden.

    Example:
        >>> from advshape.lm.config import ProbeArgs
        >>> ProbeArgs().temperatures
        (1.0, 0.7, 0.5)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2).
    """

    temperatures: tuple[float, ...] = option(PROBE_TEMPERATURES, _check_temperatures)
    """sampling temperatures to evaluate"""
    format: str = option("table", OneOf(("table", "json")))
    """output format"""

    hidden_options: ClassVar[tuple[str, ...]] = tuple(
        f.name for f in dataclasses.fields(Args) if f.name not in PROBE_OPTIONS
    )

    def run_args(self) -> Args:
        """The probe's options as :class:`Args`; the RL options at their defaults, and the
        smallest valid problems per step (they do not apply to the probe)."""
        return _plain_args(self, prompts_per_step=1)


def validate_probe(args: ProbeArgs) -> Args:
    """Check the probe's options before any work; return them as the :class:`Args` of its warm start.

    Args:
        args: the probe's options.

    Returns:
        :meth:`ProbeArgs.run_args`: the options as a plain :class:`Args`, with the RL options
        at their defaults.

    Raises:
        ValueError: one line naming the bad option.

    Example:
        >>> from advshape.lm.config import ProbeArgs, validate_probe
        >>> run = validate_probe(ProbeArgs(temperatures=(1.0, 0.5)))
        >>> type(run).__name__, run.prompts_per_step
        ('Args', 1)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K, Sec. 1.1.2).
    """
    check_options(args, field_checks(ProbeArgs, beyond=Args))
    run = args.run_args()
    validate(run)
    return run
