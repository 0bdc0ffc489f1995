"""RLVR of a small language model with any advantage shaper — one file, top to bottom.

Each step t:

1. pick B train problems (a seeded walk through the train set: no repeats in a run);
2. sample N responses per problem (``--temperature``, default 1) with the KV cache;
3. score them with the task's verifier: r ∈ [0, 1]; the binary shapers get
   r₀/₁ = 1[r ≥ 1], pkpo the raw score (``--reward auto``);
4. advantages A = shaper.advantages(r.reshape(B, N)) — any ``advshape.shaper`` spec;
5. policy-gradient step on the paper's objective (App. A, Eq. 27, no KL, no 1/|y|):

       J(θ) = (1/(B·N)) Σ_i Σ_t min(γ_it A_i, clip(γ_it, 1−ε, 1+ε) A_i),
       γ_it = π_θ(y_it | x, y_i,<t) / π_θold(y_it | x, y_i,<t).

   Fully online (``--ppo-epochs 1``, the default and the setting the paper analyses)
   γ ≡ 1 and ∇J = (1/(B·N)) Σ_i A_i ∇ log π_θ(y_i | x), Eq. (29). ``--ppo-epochs E``
   reuses the same samples for E updates with the clip active. ``--loss-aggregation``
   picks how token terms are summed: ``sum`` (default; Eq. 27: Σ_t, divided by B·N),
   ``token-mean`` (divided by the batch's total response tokens, as DAPO) or
   ``seq-mean`` (each response's Σ_t divided by |y_i|: original GRPO's 1/|y|).
   The loss pass runs each distinct prompt once, its N responses reusing its states
   (gradients included), then the responses in buckets of similar length.

Every E steps (``--eval-every``) Pass@K on held-out problems is estimated from n
samples each (``--eval-samples``); every step logs train reward, the fraction of
zero-variance groups (no learning signal for a mean-centred shaper), entropy,
response length, samples/tokens per second and the step's time split (sampling, scoring,
loss forward, backward).

A run folder holds ``config.json``, ``metrics.jsonl``, ``checkpoint.pt`` (model,
optimizer, step; written atomically at each evaluation) and, at the end,
``model/`` (``save_pretrained``) and ``report.html``. ``--resume`` continues from the
checkpoint; since every random draw of step t is seeded from (seed, t), the resumed
run's metrics equal an uninterrupted run's (wall-clock fields aside) with no RNG state
to save: problems, samples and evaluation draws of step t never depend on earlier steps.

Use from Python: ``train(Args(...)) -> dict`` (final metrics and history).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import json
import os
import time
from typing import Any

from advshape._files import check_output_dir, read_json, write_json_atomic, write_jsonl_atomic
from advshape._options import Bound, OneOf, check_options, count, real

LOSS_AGGREGATIONS = ("sum", "token-mean", "seq-mean")
PRECISIONS = ("fp32", "bf16")
REWARD_MODES = ("auto", "binary", "score")
# Fields that may differ between a run and its resumption.
_RESUME_FREE_FIELDS = ("resume", "stop_after", "progress", "threads", "out")


@dataclasses.dataclass
class Args:
    """Command-line arguments of ``advshape train`` (each field becomes ``--field-name``)."""

    # --- what to learn, and with which shaper
    task: str = "divisor"
    """task (`advshape.lm.tasks`; listed under --help): divisor (default), subset_sum, palindrome, prime_suffix, countdown, chain_sum"""
    shaper: str = "grpo"
    """shaper spec: grpo, grpo_k:k=8, skew_r, pkpo:k=8, ... (`advshape list`), with K schedules (grpo_k:k=linear(16,1)), or surrogate:F[;lam=λ]"""
    reward: str = "auto"
    """reward given to the shaper: binary 1[score>=1], the verifier's raw score, or auto (raw for pkpo)"""
    seed: int = 0
    """seed of the RL run (sampling and problem order); the warm start has its own"""
    # --- RL
    steps: int = 60
    """number of RL steps"""
    prompts_per_step: int = 32
    """B: problems per step"""
    samples_per_prompt: int = 16
    """N: responses sampled per problem (the group size)"""
    lr: float = 3e-4
    """AdamW learning rate (constant)"""
    weight_decay: float = 0.0
    """AdamW weight decay"""
    max_grad_norm: float = 1.0
    """gradient clipping by global norm"""
    loss_aggregation: str = "sum"
    """sum (paper Eq. 27, no 1/|y|), token-mean (DAPO) or seq-mean (original GRPO 1/|y|)"""
    ppo_epochs: int = 1
    """updates per batch of samples; 1 = fully online (the paper's setting)"""
    clip: float = 0.2
    """PPO clip range epsilon (active only with --ppo-epochs > 1)"""
    temperature: float = 1.0
    """sampling temperature of the RL rollouts and of evaluation"""
    max_new_tokens: int = 0
    """longest response in tokens; 0 = the task's longest answer + 1 (for <eos>)"""
    precision: str = "fp32"
    """fp32, or bf16 (CPU/CUDA autocast of sampling and the loss pass)"""
    # --- problems and evaluation
    task_seed: int = 0
    """seed of the train/held-out problem split (shared by all runs that compare)"""
    n_train: int = 0
    """number of distinct train problems (0 = the task's default); RL draws them without repeats"""
    eval_problems: int = 512
    """number of held-out problems"""
    eval_samples: int = 32
    """n: samples per held-out problem for the Pass@K estimator"""
    eval_ks: tuple[int, ...] = (1, 2, 4, 8, 16)
    """the K values of Pass@K (each <= --eval-samples)"""
    eval_every: int = 30
    """evaluate (and checkpoint) every this many steps"""
    # --- model and warm start
    model: str = ""
    """local Hugging Face causal-LM checkpoint; empty = a tiny Llama built from the sizes below"""
    hidden_size: int = 64
    """tiny model: hidden size"""
    num_layers: int = 2
    """tiny model: decoder layers"""
    num_heads: int = 4
    """tiny model: attention heads"""
    warmstart_steps: int = 300
    """supervised steps on reference answers before RL (0 = none); cached"""
    warmstart_lr: float = 3e-3
    """warm start learning rate"""
    warmstart_batch_size: int = 128
    """warm start batch size"""
    cache_dir: str = ".cache/advshape/lm"
    """where warm-started checkpoints are cached (shared by runs)"""
    # --- run
    out: str = "runs/train"
    """run folder (config, metrics.jsonl, checkpoint, model, report)"""
    resume: bool = False
    """continue the run in --out from its last checkpoint"""
    device: str = "cpu"
    """cpu or cuda"""
    threads: int = 1
    """torch CPU threads (0 = torch default); 1 is fastest for tiny models and robust on shared cores"""
    progress: bool = True
    """show progress bars"""
    stop_after: int = 0
    """stop this invocation after this many steps (simulates an interruption; 0 = never)"""


class TrainingDiverged(FloatingPointError, RuntimeError):
    """The loss or gradient became NaN/inf; the last good checkpoint is kept.

    A ``FloatingPointError``, so the command line reports it in one line; the run folder is
    marked failed (``failed.json``) and a rerun with corrected options replaces it.
    """


# ----------------------------------------------------------------------------- option checks

# The valid values of every field of Args, checked by validate() before any work (the table
# is read in this order; relations between options come after it, in validate()). A field
# without an entry fails tests/test_cli_fuzz.py: add one here when adding a field.
_SEED = count(0, 2**32 - 1, why="a seed of NumPy's and torch's generators")
_HUGE = 10**7  # steps and sizes far beyond what this trainer can run, refused up front
FIELD_CHECKS: dict[str, Any] = {
    "task": lambda option, value: _check_task(value),
    "shaper": lambda option, value: make_shaper(value, option),
    "reward": OneOf(REWARD_MODES),
    "seed": _SEED,
    "steps": count(1, _HUGE),
    "prompts_per_step": count(1, 100_000),
    "samples_per_prompt": count(1, 100_000, why="N, the group size"),
    "lr": real(0.0, 10.0, low_open=True, why="AdamW's step size"),
    "weight_decay": real(0.0, 10.0, why="0 = none"),
    "max_grad_norm": real(
        0.0,
        1e6,
        low_open=True,
        why="the bound of the gradient's global norm (a negative bound flips the gradient, "
        "0 zeroes it); 1e6 effectively disables clipping",
    ),
    "loss_aggregation": OneOf(LOSS_AGGREGATIONS),
    "ppo_epochs": count(1, 1000),
    "clip": real(0.0, 1.0, low_open=True, high_open=True, why="the PPO clip range epsilon"),
    "temperature": real(0.0, 100.0, low_open=True, why="the sampling temperature"),
    "max_new_tokens": count(0, 100_000, why="0 = the task's default"),
    "precision": OneOf(PRECISIONS),
    "task_seed": _SEED,
    "n_train": count(0, 1_000_000, why="0 = the task's default"),
    "eval_problems": count(1, 100_000),
    "eval_samples": count(1, 100_000),
    "eval_ks": count(1, 100_000, why="the K values of Pass@K"),
    "eval_every": count(1, _HUGE),
    "model": lambda option, value: _check_model(value),
    "hidden_size": count(1, 65_536),
    "num_layers": count(1, 1024),
    "num_heads": count(1, 1024),
    "warmstart_steps": count(0, _HUGE, why="0 = no warm start"),
    "warmstart_lr": real(0.0, 10.0, low_open=True),
    "warmstart_batch_size": count(1, 100_000),
    "cache_dir": check_output_dir,
    "out": check_output_dir,
    "resume": OneOf((False, True)),
    "device": lambda option, value: _check_device(value),
    "threads": count(0, 1024, why="0 = torch's default"),
    "progress": OneOf((False, True)),
    "stop_after": count(0, _HUGE, why="0 = never"),
}


# ----------------------------------------------------------------------------- arguments


def add_arguments(parser: argparse.ArgumentParser, cls=Args, skip: tuple[str, ...] = ()) -> None:
    """One ``--field-name`` option per dataclass field, help text from its docstring."""
    docs = _field_docs(cls)
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        check = FIELD_CHECKS.get(field.name) if cls is Args else None
        valid = f"; {check.describe()}" if isinstance(check, Bound) else ""
        help_text = f"{docs.get(field.name, '')} (default: {default!r}{valid})"
        if isinstance(default, bool):
            parser.add_argument(
                flag, default=default, action=argparse.BooleanOptionalAction, help=help_text
            )
        elif isinstance(default, tuple):
            parser.add_argument(flag, type=int, nargs="+", default=default, help=help_text)
        else:
            choices = check.choices if isinstance(check, OneOf) else None
            parser.add_argument(
                flag, type=type(default), default=default, choices=choices, help=help_text
            )


@functools.cache  # every `advshape` invocation builds the train and compare parsers
def _field_docs(cls: type) -> dict[str, str]:
    """The string literal under each field of a dataclass (its help text)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(cls))
    class_def = tree.body[0]
    assert isinstance(class_def, ast.ClassDef)
    docs = {}
    for node, nxt in itertools.pairwise(class_def.body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = nxt.value.value
    return docs


def args_from_namespace(ns: argparse.Namespace, cls=Args, **overrides):
    values = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if hasattr(ns, f.name)}
    values.update(overrides)
    if "eval_ks" in values:
        values["eval_ks"] = tuple(values["eval_ks"])
    return cls(**values)


def make_shaper(spec: str, option: str = "--shaper"):
    """A shaper from any spec form (:func:`advshape.scheduled`, the one parser every command
    shares): ``grpo_k:k=8``, ``grpo_k:k=linear(16,1)``, ``F=EXPR`` or ``surrogate:EXPR``.
    A bad spec raises ``ValueError`` naming ``option``."""
    import advshape

    try:
        return advshape.scheduled(spec)
    except ImportError as err:  # e.g. sympy missing: a usage error, no traceback
        raise ValueError(f"{option} {spec!r}: {err}") from err
    except ValueError as err:
        raise ValueError(f"{option}: {err}") from None


def resolve_reward_mode(args: Args, shaper) -> str:
    if args.reward == "auto":
        return "score" if shaper.name == "pkpo" else "binary"
    return args.reward


def _check_task(name: str) -> None:
    from advshape.lm.tasks import get_task_spec

    try:
        get_task_spec(name)
    except ValueError as err:
        raise ValueError(f"--task: {err}") from None


def _check_model(path: str) -> None:
    if path:
        from advshape.lm.model import check_causal_lm_path

        check_causal_lm_path(path)


def _check_device(device: str) -> None:
    import re

    match = re.fullmatch(r"cpu|cuda(?::(\d+))?", device)
    if match is None:
        raise ValueError(f"--device must be cpu, cuda or cuda:INDEX, got {device!r}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(
                "--device cuda requested but torch sees no CUDA device; use --device cpu"
            )
        index = int(match.group(1) or 0)
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {device}: torch sees {torch.cuda.device_count()} CUDA device(s); "
                "use an index below that"
            )


def validate(args: Args, shaper_option: str = "--shaper"):
    """Check every option before any work starts; returns the shaper.

    Each field's own range comes from :data:`FIELD_CHECKS`; the relations between
    fields follow. Every message names the option (``shaper_option`` for the shaper, so
    ``compare`` can say ``--shapers``).
    """
    import numpy as np

    from advshape.lm.evaluate import check_ks
    from advshape.lm.tasks import get_task_spec

    checks = {**FIELD_CHECKS, "shaper": lambda option, value: None}
    check_options(args, checks)
    shaper = make_shaper(args.shaper, shaper_option)
    if resolve_reward_mode(args, shaper) == "score" and shaper.info.binary_only:
        raise ValueError(
            f"{shaper_option} {shaper.spec!r} takes only 0/1 rewards; use --reward binary (or auto)"
        )
    # The shaper's own checks (group size vs K, ...) on a dummy group of the real size, at
    # every value a K schedule reaches (advshape.scheduled: a fixed shaper is one value).
    import advshape

    schedule = advshape.scheduled(shaper)
    n = args.samples_per_prompt
    try:
        schedule.check_group_size(n)
    except ValueError as err:
        raise ValueError(
            f"{shaper_option} {args.shaper!r} with --samples-per-prompt {n}: {err}"
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
        context = _tiny_context()
        if args.max_new_tokens >= context:
            raise ValueError(
                f"--max-new-tokens {args.max_new_tokens} does not fit the tiny model's "
                f"{context} positions with a prompt; use at most {context - 1} (0 = the task's "
                "default)"
            )
    return shaper


def _divisor_near(total: int, wanted: int) -> int:
    return min((d for d in range(1, total + 1) if total % d == 0), key=lambda d: abs(d - wanted))


def _tiny_context() -> int:
    from advshape.lm.model import TinyModelConfig

    return TinyModelConfig.max_position_embeddings


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
    context = _tiny_context()
    if longest + cap > context:
        raise ValueError(
            f"--max-new-tokens {cap}: with prompts of up to {longest} tokens, responses of "
            f"{cap} tokens exceed the tiny model's {context} positions; use at most "
            f"{context - longest}"
        )


# ----------------------------------------------------------------------------- run folder


def read_jsonl(path: str) -> list[dict[str, Any]]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = [(i, line) for i, line in enumerate(f, 1) if line.strip()]
    records = []
    for i, line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(
                f"{path!r} line {i} is not valid JSON ({err}); delete the run folder or "
                "choose another --out"
            ) from None
    return records


FAILED_FILE = "failed.json"


def _replaceable(out: str) -> bool:
    """A run folder whose run failed, or completed no RL step, holds nothing worth resuming:
    a rerun (with --resume or not, corrected options or not) starts it afresh."""
    if os.path.exists(os.path.join(out, FAILED_FILE)):
        return True
    records = read_jsonl(os.path.join(out, "metrics.jsonl"))
    return not any(r.get("kind") == "train" for r in records)


def check_run_folder(args: Args) -> bool:
    """Can ``args.out`` take this run? Returns True to resume it, False to start afresh.

    Read-only (nothing is written until the run starts): a folder holding another run is
    refused unless ``--resume`` with the same options, or unless that run is replaceable.
    """
    config_path = os.path.join(args.out, "config.json")
    if not os.path.exists(config_path) or _replaceable(args.out):
        return False
    if not args.resume:
        raise ValueError(
            f"run folder {args.out!r} already holds a run; pass --resume to continue it or "
            "choose another --out"
        )
    saved = read_json(config_path, fix="delete the run folder or choose another --out")
    saved_args = saved.get("args", {}) if isinstance(saved, dict) else {}
    mine = _comparable_config(args)
    diff = sorted(k for k in mine if not _same_option(k, saved_args.get(k), mine[k]))
    if diff:
        raise ValueError(
            f"--resume: options {diff} differ from the run in {args.out!r}; resume with "
            "the same options or choose another --out"
        )
    return True


def _same_option(name: str, saved: Any, mine: Any) -> bool:
    if name == "shaper" and isinstance(saved, str):
        import advshape

        try:
            return advshape.scheduled(saved).spec == advshape.scheduled(mine).spec
        except (ValueError, ImportError):
            return False
    return saved == mine


def mark_failed(out: str, message: str) -> None:
    """Record why the run in ``out`` stopped, so a corrected rerun may replace it."""
    write_json_atomic(os.path.join(out, FAILED_FILE), {"error": message})


def _comparable_config(args: Args) -> dict[str, Any]:
    cfg = dataclasses.asdict(args)
    for name in _RESUME_FREE_FIELDS:
        cfg.pop(name)
    cfg["eval_ks"] = list(cfg["eval_ks"])
    return cfg


def set_threads(threads: int, *, progress: bool = True) -> None:
    """Pin torch's CPU threads (0 leaves torch's default); silence transformers' progress
    bars unless ``progress``."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    if not progress:
        import transformers

        transformers.utils.logging.disable_progress_bar()


def step_seed(seed: int, step: int, stream: int) -> int:
    """A seed for one random stream of one step, independent of everything before it."""
    import numpy as np

    return int(np.random.SeedSequence([seed, step, stream]).generate_state(1)[0])


# ----------------------------------------------------------------------------- setup


def prepare_model(args: Args, task, *, progress: bool):
    """(warm-started checkpoint path, warm-start stats): built or read from the cache."""
    from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer, load_pretrained
    from advshape.lm.warmstart import WarmStartConfig, warm_start_cached

    if args.model:
        base_model, tokenizer = load_pretrained(args.model, args.device)
        description: dict[str, Any] = {"path": os.path.abspath(args.model)}

        def make_model():
            return base_model

    else:
        tokenizer = build_tokenizer(task.alphabet)
        tiny = TinyModelConfig(
            hidden_size=args.hidden_size,
            intermediate_size=3 * args.hidden_size,
            num_hidden_layers=args.num_layers,
            num_attention_heads=args.num_heads,
        )
        description = {"tiny": dataclasses.asdict(tiny), "alphabet": task.alphabet}

        def make_model():
            return build_model(tokenizer, tiny, seed=args.task_seed).to(args.device)

    config = WarmStartConfig(
        steps=args.warmstart_steps,
        batch_size=args.warmstart_batch_size,
        lr=args.warmstart_lr,
        seed=args.task_seed,
    )
    return warm_start_cached(
        task=task,
        tokenizer=tokenizer,
        make_model=make_model,
        model_description=description,
        config=config,
        cache_dir=args.cache_dir,
        progress=progress,
    )


# ----------------------------------------------------------------------------- the loop


def policy_loss(
    logp,
    old_logp,
    response_mask,
    advantages,
    *,
    clip: float,
    aggregation: str,
    rows: int | None = None,
    tokens=None,
):
    """−J(θ) of Eq. (27) for one batch or one bucket of it: clipped ratio objective.

    ``logp``/``old_logp``: [rows, T] per-token log-probs (0 on padding); ``advantages``:
    [rows]. With logp == old_logp (first epoch) the ratio is 1 and the gradient is
    −(1/rows) Σ_i A_i Σ_t ∇ log π(y_it) for ``sum`` aggregation. ``rows`` and ``tokens``
    are the whole batch's row and response-token counts when this is one bucket of it
    (the buckets' losses then add up to the batch's loss); by default, this batch's own.
    """
    import torch

    ratio = torch.exp(logp - old_logp)
    adv = advantages.unsqueeze(1)
    objective = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)
    objective = objective * response_mask
    rows = response_mask.shape[0] if rows is None else rows
    if aggregation == "sum":
        total = objective.sum() / rows
    elif aggregation == "token-mean":
        tokens = response_mask.sum() if tokens is None else tokens
        total = objective.sum() / max(int(tokens), 1)
    else:  # seq-mean
        per_row = objective.sum(1) / response_mask.sum(1).clamp(min=1)
        total = per_row.sum() / rows
    return -total


#: The fixed cost of one more forward/backward call of the loss pass, in padded response
#: tokens (measured on the tiny model: ~0.9 ms a call against ~7 µs a token).
BUCKET_OVERHEAD_TOKENS = 128


def length_buckets(lengths, *, overhead: int = BUCKET_OVERHEAD_TOKENS) -> list[list[int]]:
    """Rows grouped by response length for the loss pass, each group padded only to its own
    longest response: rows sorted by length, cut where the total padded width plus
    ``overhead`` per group is least (exact, by dynamic programming over the distinct lengths).
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    values = sorted(set(lengths))
    counts = [sum(1 for x in lengths if x == v) for v in values]
    # best[j]: least cost of the rows of the j shortest distinct lengths; cut[j]: where the
    # last group of that solution starts (an index into values)
    best = [0.0] + [float("inf")] * len(values)
    cut = [0] * (len(values) + 1)
    for j in range(1, len(values) + 1):
        rows = 0
        for i in range(j, 0, -1):  # the last group holds distinct lengths i-1 .. j-1
            rows += counts[i - 1]
            cost = best[i - 1] + rows * values[j - 1] + overhead
            if cost < best[j]:
                best[j], cut[j] = cost, i - 1
    sizes, j = [], len(values)
    while j > 0:
        sizes.append(sum(counts[cut[j] : j]))
        j = cut[j]
    buckets, start = [], 0
    for size in reversed(sizes):
        buckets.append(order[start : start + size])
        start += size
    return buckets


def step_problems(n_problems: int, batch: int, seed: int, step: int) -> list[int]:
    """Indices of step t's B train problems: consecutive slices of seeded permutations.

    A run walks through a permutation of the train problems, so no problem repeats until
    all have been used; the draw depends only on (seed, t), so resumed runs and every
    shaper run with the same seed see the same problems.
    """
    import numpy as np

    out: list[int] = []
    position = (step - 1) * batch
    while len(out) < batch:
        sweep, offset = divmod(position + len(out), n_problems)
        perm = np.random.default_rng(step_seed(seed, sweep, 3)).permutation(n_problems)
        out.extend(int(i) for i in perm[offset : offset + batch - len(out)])
    return out


def heldout_eval(
    args: Args, model, tokenizer, task, *, step: int, temperature: float, cache_dir: str | None
) -> dict[str, Any]:
    """Pass@K on the held-out problems at step t (counts and per-class values included).

    The evaluation seed depends on (task seed, t) only: every shaper and seed is evaluated
    on the same draws, so runs compare in pairs. With ``cache_dir`` (the warm start's
    folder), the result is cached there for every run, and the probe, to share.
    """
    from advshape.lm.evaluate import evaluate_cached

    with autocast(args):
        return evaluate_cached(
            model,
            tokenizer,
            task,
            task.heldout,
            n=args.eval_samples,
            ks=args.eval_ks,
            max_new_tokens=response_cap(args, task),
            seed=step_seed(args.task_seed, step, 2),
            temperature=temperature,
            progress=args.progress,
            cache_dir=cache_dir,
            context={"precision": args.precision} if args.precision != "fp32" else None,
        )


def autocast(args: Args):
    """bf16 autocast for --precision bf16, nothing otherwise."""
    import contextlib

    import torch

    if args.precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=args.device.split(":")[0], dtype=torch.bfloat16)


def train(args: Args) -> dict[str, Any]:
    """Run (or resume) one RL run; returns {"final": last eval record, "history": [...]}."""
    import numpy as np
    import torch
    from tqdm.auto import tqdm

    from advshape.lm.model import load_pretrained, n_parameters, save_pretrained_atomic
    from advshape.lm.rollout import prompt_states, response_logprobs, sample
    from advshape.lm.tasks import Task

    shaper = validate(args)
    resuming = check_run_folder(args)  # reads only: nothing is written before the run starts
    # K schedules (grpo_k:k=linear(16,1)): step t's shaper depends only on (t, steps), so a
    # resumed run shapes every step as the uninterrupted one. Fixed shapers: a constant.
    import advshape

    schedule = advshape.scheduled(shaper)
    set_threads(args.threads, progress=args.progress)
    config_path = os.path.join(args.out, "config.json")
    metrics_path = os.path.join(args.out, "metrics.jsonl")
    checkpoint_path = os.path.join(args.out, "checkpoint.pt")

    reward_mode = resolve_reward_mode(args, shaper)
    task = Task(args.task, seed=args.task_seed, n_train=args.n_train, n_eval=args.eval_problems)
    check_task_fits(args, task)
    max_new_tokens = response_cap(args, task)
    start_path, warm_stats = prepare_model(args, task, progress=args.progress)
    model, tokenizer = load_pretrained(start_path, args.device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

    start_step = 0
    records: list[dict[str, Any]] = []
    if not resuming:  # a fresh run, or a replaceable one (failed, or no step done): start over
        for name in (FAILED_FILE, "metrics.jsonl", "checkpoint.pt"):
            if os.path.exists(os.path.join(args.out, name)):
                os.remove(os.path.join(args.out, name))
    if resuming and os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path, map_location=args.device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_step = state["step"]
        # Records past the checkpoint were written by the interrupted tail: redo them.
        records = [r for r in read_jsonl(metrics_path) if r["step"] <= start_step]
    write_json_atomic(
        config_path,
        {
            "args": _comparable_config(args),
            "shaper": {"spec": shaper.spec, "info": shaper.info._asdict()},
            "reward_mode": reward_mode,
            "warm_start": {"path": start_path, **warm_stats},
            "n_parameters": n_parameters(model),
            "max_new_tokens": max_new_tokens,
            "heldout_classes": [p.difficulty for p in task.heldout],
            "classes": list(task.classes),
            "versions": package_versions(),
        },
    )

    last_checkpoint = start_step

    def save_checkpoint(step: int) -> None:
        nonlocal last_checkpoint
        last_checkpoint = step
        tmp = checkpoint_path + ".tmp"
        torch.save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step},
            tmp,
        )
        os.replace(tmp, checkpoint_path)

    def run_eval(step: int) -> dict[str, Any]:
        # Step 0 evaluates the warm start, identical for every run: cached beside it.
        result = heldout_eval(
            args,
            model,
            tokenizer,
            task,
            step=step,
            temperature=args.temperature,
            cache_dir=start_path if step == 0 else None,
        )
        return {
            "kind": "eval",
            "step": step,
            "samples": step * args.prompts_per_step * args.samples_per_prompt,
            **result,
        }

    if start_step == 0 and not records:
        records.append(run_eval(0))
        write_jsonl_atomic(metrics_path, records)
        save_checkpoint(0)

    B, N = args.prompts_per_step, args.samples_per_prompt
    end_step = args.steps
    if args.stop_after:
        end_step = min(end_step, start_step + args.stop_after)
    bar = tqdm(
        range(start_step + 1, end_step + 1),
        desc=f"RL {shaper.spec} seed {args.seed}",
        disable=not args.progress,
        initial=start_step,
        total=args.steps,
    )
    for step in bar:
        # 1. problems of this step: no repeats within a run, the same for every shaper
        problems = [task.train[i] for i in step_problems(len(task.train), B, args.seed, step)]

        # 2. sample N responses per problem
        t0 = time.perf_counter()
        model.eval()
        with autocast(args):
            prompt_ids, prompt_mask, response_ids, response_mask, texts = sample(
                model,
                tokenizer,
                [p.prompt for p in problems],
                n=N,
                max_new_tokens=max_new_tokens,
                seed=step_seed(args.seed, step, 1),
                temperature=args.temperature,
            )
        model.train()
        t1 = time.perf_counter()

        # 3. score; 4. advantages from the shaper, one group of N per problem
        scores = np.asarray(task.scores([p for p in problems for _ in range(N)], texts))
        correct = (scores >= 1.0).astype(np.float64)
        rewards = correct if reward_mode == "binary" else scores
        step_shaper = schedule.at(step, args.steps)
        advantages = step_shaper.advantages(torch.from_numpy(rewards.reshape(B, N)))
        advantages = advantages.reshape(B * N).to(torch.float32).to(args.device)
        t2 = time.perf_counter()

        # 5. policy-gradient step(s). The loss pass runs each distinct prompt once (its N
        # responses share its states, gradients included), then the responses in buckets
        # of similar length, each padded only to its own longest response.
        lengths = response_mask.sum(1).tolist()
        prompt_rows = torch.arange(B * N, device=prompt_ids.device) // N  # prompt-major rows
        unique_ids, unique_mask = prompt_ids[::N], prompt_mask[::N]
        buckets = []
        for rows in length_buckets(lengths):
            index = torch.as_tensor(rows, device=prompt_ids.device)
            width = max(lengths[i] for i in rows)
            buckets.append(
                (
                    index,
                    response_ids[index, :width],
                    response_mask[index, :width],
                    advantages[index.to(advantages.device)],
                )
            )
        n_tokens = sum(lengths)
        old_logps: list[Any] = []
        forward_s = backward_s = 0.0
        for epoch in range(args.ppo_epochs):
            optimizer.zero_grad(set_to_none=True)
            f0 = time.perf_counter()
            loss = torch.zeros((), device=args.device)
            entropy_sum = 0.0
            with autocast(args):
                states = prompt_states(model, unique_ids, unique_mask)
            for b, (index, r_ids, r_mask, bucket_advantages) in enumerate(buckets):
                with autocast(args):
                    logp, entropy = response_logprobs(
                        model, states, unique_mask, prompt_rows[index], r_ids, r_mask, entropy=True
                    )
                if epoch == 0:
                    old_logps.append(logp.detach())  # π_θold = the sampling policy (γ = 1)
                    entropy_sum += float(entropy.sum())
                loss = loss + policy_loss(
                    logp,
                    old_logps[b],
                    r_mask,
                    bucket_advantages,
                    clip=args.clip,
                    aggregation=args.loss_aggregation,
                    rows=B * N,
                    tokens=n_tokens,
                )
            f1 = time.perf_counter()
            loss.backward()
            loss = loss.detach()
            forward_s += f1 - f0
            backward_s += time.perf_counter() - f1
            if epoch == 0:
                mean_entropy = entropy_sum / max(n_tokens, 1)
            f1 = time.perf_counter()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            if not (torch.isfinite(loss) and torch.isfinite(grad_norm)):
                message = (
                    f"step {step}: loss={loss.item()} grad_norm={grad_norm.item()} is not finite; "
                    f"stopped without updating. The last good checkpoint (step {last_checkpoint}) "
                    f"is kept in {checkpoint_path!r}; lower --lr and rerun (the run in "
                    f"{args.out!r} is marked failed, so the rerun replaces it)"
                )
                mark_failed(args.out, message)
                raise TrainingDiverged(message)
            optimizer.step()
            backward_s += time.perf_counter() - f1
        seconds = time.perf_counter() - t0

        groups = correct.reshape(B, N)
        records.append(
            {
                "kind": "train",
                "step": step,
                "samples": step * B * N,
                "loss": float(loss),
                "grad_norm": float(grad_norm),
                "train_reward": float(correct.mean()),
                "train_score": float(scores.mean()),
                "zero_variance_groups": float(np.mean(groups.min(1) == groups.max(1))),
                "mean_abs_advantage": float(advantages.abs().mean()),
                "entropy": mean_entropy,
                "response_length": n_tokens / (B * N),
                "samples_per_s": B * N / seconds,
                "tokens_per_s": n_tokens / seconds,
                "sample_seconds": t1 - t0,
                "score_seconds": t2 - t1,
                "forward_seconds": forward_s,
                "backward_seconds": backward_s,
                "step_seconds": seconds,
                # the values of scheduled shaper parameters at this step, e.g. shaper_k
                **{f"shaper_{k}": v for k, v in schedule.values_at(step, args.steps).items()},
            }
        )
        bar.set_postfix(reward=f"{correct.mean():.3f}")
        if step % args.eval_every == 0 or step == args.steps:
            records.append(run_eval(step))
            save_checkpoint(step)
        write_jsonl_atomic(metrics_path, records)

    finished = records[-1]["step"] == args.steps and records[-1]["kind"] == "eval"
    if finished:
        save_pretrained_atomic(model, tokenizer, os.path.join(args.out, "model"))
        from advshape.lm.report import write_run_report

        write_run_report(args.out)
    evals = [r for r in records if r["kind"] == "eval"]
    return {"finished": finished, "final": evals[-1], "history": records}


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a run's sampling trajectory."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("advshape", "torch", "transformers", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


def main(argv=None) -> int:  # pragma: no cover - the CLI is `advshape train`
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    train(args_from_namespace(parser.parse_args(argv)))
    return 0
