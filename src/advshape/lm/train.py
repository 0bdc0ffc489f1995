"""RLVR of a small language model with any advantage shaper — one file, top to bottom.

Each step t:

1. pick B train problems (seeded by (seed, t));
2. sample N responses per problem at temperature 1 with the KV cache;
3. score them with reasoning-gym's verifier: r ∈ [0, 1]; the binary shapers get
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

Every E steps (``--eval-every``) Pass@K on held-out problems is estimated from n
samples each (``--eval-samples``); every step logs train reward, the fraction of
zero-variance groups (no learning signal for a mean-centred shaper), entropy,
response length and samples/tokens per second.

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
import itertools
import json
import math
import os
import time
from typing import Any

from advshape._files import write_json_atomic, write_jsonl_atomic

LOSS_AGGREGATIONS = ("sum", "token-mean", "seq-mean")
REWARD_MODES = ("auto", "binary", "score")
# Fields that may differ between a run and its resumption.
_RESUME_FREE_FIELDS = ("resume", "stop_after", "progress", "threads", "out")


@dataclasses.dataclass
class Args:
    """Command-line arguments of ``advshape train`` (each field becomes ``--field-name``)."""

    # --- what to learn, and with which shaper
    task: str = "countdown"
    """reasoning-gym task: countdown (many correct answers) or chain_sum (one)"""
    shaper: str = "grpo"
    """shaper spec: grpo, grpo_k:k=8, skew_r, pkpo:k=8, ... (`advshape list`), with K schedules (grpo_k:k=linear(16,1)), or surrogate:F[;lam=λ]"""
    reward: str = "auto"
    """reward given to the shaper: binary 1[score>=1], the verifier's raw score, or auto (raw for pkpo)"""
    seed: int = 0
    """seed of the RL run (sampling and problem order); the warm start has its own"""
    # --- RL
    steps: int = 40
    """number of RL steps"""
    prompts_per_step: int = 16
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
    """longest response in tokens; 0 = the task's default"""
    # --- problems and evaluation
    task_seed: int = 0
    """seed of the train/held-out problem split (shared by all runs that compare)"""
    n_train: int = 1000
    """number of distinct train problems"""
    eval_problems: int = 64
    """number of held-out problems"""
    eval_samples: int = 32
    """n: samples per held-out problem for the Pass@K estimator"""
    eval_ks: tuple[int, ...] = (1, 2, 4, 8, 16)
    """the K values of Pass@K (each <= --eval-samples)"""
    eval_every: int = 10
    """evaluate (and checkpoint) every this many steps"""
    # --- model and warm start
    model: str = ""
    """local Hugging Face causal-LM checkpoint; empty = a tiny Llama built from the sizes below"""
    hidden_size: int = 128
    """tiny model: hidden size"""
    num_layers: int = 4
    """tiny model: decoder layers"""
    num_heads: int = 4
    """tiny model: attention heads"""
    warmstart_steps: int = 100
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


class TrainingDiverged(RuntimeError):
    """The loss or gradient became NaN/inf; the last good checkpoint is kept."""


# ----------------------------------------------------------------------------- arguments


def add_arguments(parser: argparse.ArgumentParser, cls=Args, skip: tuple[str, ...] = ()) -> None:
    """One ``--field-name`` option per dataclass field, help text from its docstring."""
    docs = _field_docs(cls)
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        help_text = f"{docs.get(field.name, '')} (default: {default!r})"
        if isinstance(default, bool):
            parser.add_argument(
                flag, default=default, action=argparse.BooleanOptionalAction, help=help_text
            )
        elif isinstance(default, tuple):
            parser.add_argument(flag, type=int, nargs="+", default=default, help=help_text)
        else:
            parser.add_argument(flag, type=type(default), default=default, help=help_text)


def _field_docs(cls) -> dict[str, str]:
    """The string literal under each field of a dataclass (its help text)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body
    docs = {}
    for node, nxt in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
        ):
            docs[node.target.id] = nxt.value.value
    return docs


def args_from_namespace(ns: argparse.Namespace, cls=Args, **overrides):
    values = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if hasattr(ns, f.name)}
    values.update(overrides)
    if "eval_ks" in values:
        values["eval_ks"] = tuple(values["eval_ks"])
    return cls(**values)


def make_shaper(spec: str):
    """A registry spec (``grpo_k:k=8``) or a forward-engineered one (``surrogate:F[;lam=λ]``).

    Surrogate specs (``surrogate:F;...`` or ``F=...``) go through
    :func:`advshape.surrogates.shaper_from_text`, the one parser every command shares.
    """
    import advshape

    text = spec.strip()
    if text.startswith(("surrogate:", "F=")):
        from advshape.surrogates.forward import shaper_from_text

        try:
            return shaper_from_text(text)
        except ImportError as err:  # e.g. sympy missing: a usage error, no traceback
            raise ValueError(f"shaper {spec!r}: {err}") from err
    return advshape.shaper(spec)


def resolve_reward_mode(args: Args, shaper) -> str:
    if args.reward == "auto":
        return "score" if shaper.name == "pkpo" else "binary"
    return args.reward


def validate(args: Args):
    """Check every option before any work starts; returns the shaper."""

    from advshape.lm.evaluate import check_ks
    from advshape.lm.tasks import get_task_spec

    get_task_spec(args.task)
    shaper = make_shaper(args.shaper)
    if args.reward not in REWARD_MODES:
        raise ValueError(f"--reward must be one of {REWARD_MODES}, got {args.reward!r}")
    if resolve_reward_mode(args, shaper) == "score" and shaper.info.binary_only:
        raise ValueError(
            f"shaper {shaper.spec!r} takes only 0/1 rewards; use --reward binary (or auto)"
        )
    # The shaper's own checks (group size vs K, ...) on a dummy group of the real size, at
    # every value a K schedule reaches (advshape.scheduled: a fixed shaper is one value).
    import advshape

    advshape.scheduled(shaper).check_group_size(args.samples_per_prompt)
    check_ks(args.eval_ks, args.eval_samples)
    if args.loss_aggregation not in LOSS_AGGREGATIONS:
        raise ValueError(
            f"--loss-aggregation must be one of {LOSS_AGGREGATIONS}, got {args.loss_aggregation!r}"
        )
    positive = dict(
        steps=args.steps,
        prompts_per_step=args.prompts_per_step,
        samples_per_prompt=args.samples_per_prompt,
        ppo_epochs=args.ppo_epochs,
        eval_every=args.eval_every,
        eval_problems=args.eval_problems,
        n_train=args.n_train,
    )
    for name, value in positive.items():
        if value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.prompts_per_step > args.n_train:
        raise ValueError("--prompts-per-step exceeds --n-train; lower it or add train problems")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        raise ValueError(f"--lr must be a positive number, got {args.lr}")
    if not 0 < args.clip < 1:
        raise ValueError(f"--clip must lie in (0, 1), got {args.clip}")
    if args.temperature <= 0:
        raise ValueError(f"--temperature must be > 0, got {args.temperature}")
    if args.device not in ("cpu", "cuda") and not args.device.startswith("cuda:"):
        raise ValueError(f"--device must be cpu or cuda[:i], got {args.device!r}")
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError("--device cuda requested but torch sees no CUDA device")
    if args.model:
        from advshape.lm.model import check_causal_lm_path

        check_causal_lm_path(args.model)
    return shaper


# ----------------------------------------------------------------------------- run folder


def read_jsonl(path: str) -> list[dict[str, Any]]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _comparable_config(args: Args) -> dict[str, Any]:
    cfg = dataclasses.asdict(args)
    for name in _RESUME_FREE_FIELDS:
        cfg.pop(name)
    cfg["eval_ks"] = list(cfg["eval_ks"])
    return cfg


def set_threads(threads: int) -> None:
    """Pin torch's CPU threads (0 leaves torch's default)."""
    import torch

    if threads:
        torch.set_num_threads(threads)


def step_seed(seed: int, step: int, stream: int) -> int:
    """A seed for one random stream of one step, independent of everything before it."""
    import numpy as np

    return int(np.random.SeedSequence([seed, step, stream]).generate_state(1)[0])


# ----------------------------------------------------------------------------- setup


def prepare_model(args: Args, task, *, progress: bool):
    """(warm-started checkpoint path, warm-start stats): built or read from the cache."""
    from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer, load_pretrained
    from advshape.lm.warmstart import WarmStartConfig, warm_start_cached

    max_new_tokens = args.max_new_tokens or task.spec.max_answer_chars + 1
    if args.model:
        base_model, tokenizer = load_pretrained(args.model, args.device)
        description = {"path": os.path.abspath(args.model)}

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
        eval_problems=task.heldout,
        eval_samples=args.eval_samples,
        eval_ks=args.eval_ks,
        max_new_tokens=max_new_tokens,
        device=args.device,
        progress=progress,
    )


# ----------------------------------------------------------------------------- the loop


def policy_loss(logp, old_logp, response_mask, advantages, *, clip: float, aggregation: str):
    """−J(θ) of Eq. (27) for one batch: clipped ratio objective, token terms aggregated.

    ``logp``/``old_logp``: [rows, T] per-token log-probs (0 on padding); ``advantages``:
    [rows]. With logp == old_logp (first epoch) the ratio is 1 and the gradient is
    −(1/rows) Σ_i A_i Σ_t ∇ log π(y_it) for ``sum`` aggregation.
    """
    import torch

    ratio = torch.exp(logp - old_logp)
    adv = advantages.unsqueeze(1)
    objective = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv)
    objective = objective * response_mask
    rows = response_mask.shape[0]
    if aggregation == "sum":
        total = objective.sum() / rows
    elif aggregation == "token-mean":
        total = objective.sum() / response_mask.sum().clamp(min=1)
    else:  # seq-mean
        per_row = objective.sum(1) / response_mask.sum(1).clamp(min=1)
        total = per_row.sum() / rows
    return -total


def train(args: Args) -> dict[str, Any]:
    """Run (or resume) one RL run; returns {"final": last eval record, "history": [...]}."""
    import numpy as np
    import torch
    from tqdm.auto import tqdm

    from advshape.lm.evaluate import evaluate
    from advshape.lm.model import load_pretrained, n_parameters, save_pretrained_atomic
    from advshape.lm.rollout import sample, token_logprobs
    from advshape.lm.tasks import Task

    shaper = validate(args)
    # K schedules (grpo_k:k=linear(16,1)): step t's shaper depends only on (t, steps), so a
    # resumed run shapes every step as the uninterrupted one. Fixed shapers: a constant.
    import advshape

    schedule = advshape.scheduled(shaper)
    set_threads(args.threads)
    if not args.progress:
        import transformers

        transformers.utils.logging.disable_progress_bar()
    os.makedirs(args.out, exist_ok=True)
    config_path = os.path.join(args.out, "config.json")
    metrics_path = os.path.join(args.out, "metrics.jsonl")
    checkpoint_path = os.path.join(args.out, "checkpoint.pt")
    if os.path.exists(config_path) and not args.resume:
        raise ValueError(
            f"run folder {args.out!r} already holds a run; pass --resume to continue it or "
            "choose another --out"
        )
    if args.resume and os.path.exists(config_path):
        with open(config_path) as f:
            saved = json.load(f)["args"]
        mine = _comparable_config(args)
        diff = sorted(k for k in mine if saved.get(k) != mine[k])
        if diff:
            raise ValueError(
                f"--resume: options {diff} differ from the run in {args.out!r}; resume with "
                "the same options or choose another --out"
            )

    reward_mode = resolve_reward_mode(args, shaper)
    task = Task(args.task, seed=args.task_seed, n_train=args.n_train, n_eval=args.eval_problems)
    max_new_tokens = args.max_new_tokens or task.spec.max_answer_chars + 1
    start_path, warm_stats = prepare_model(args, task, progress=args.progress)
    model, tokenizer = load_pretrained(start_path, args.device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

    start_step = 0
    records: list[dict[str, Any]] = []
    if args.resume and os.path.exists(checkpoint_path):
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
            "torch": torch.__version__,
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
        # The same eval seed for every run and seed: shapers are compared on paired draws.
        result = evaluate(
            model,
            tokenizer,
            task,
            task.heldout,
            n=args.eval_samples,
            ks=args.eval_ks,
            max_new_tokens=max_new_tokens,
            seed=step_seed(args.task_seed, step, 2),
            progress=args.progress,
        )
        result.pop("counts")
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
        # 1. problems of this step
        rng = np.random.default_rng(step_seed(args.seed, step, 0))
        problems = [task.train[i] for i in rng.choice(len(task.train), size=B, replace=False)]

        # 2. sample N responses per problem
        t0 = time.perf_counter()
        model.eval()
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
        t_sample = time.perf_counter() - t0

        # 3. score; 4. advantages from the shaper, one group of N per problem
        scores = np.asarray(task.scores([p for p in problems for _ in range(N)], texts))
        correct = (scores >= 1.0).astype(np.float64)
        rewards = correct if reward_mode == "binary" else scores
        step_shaper = schedule.at(step, args.steps)
        advantages = step_shaper.advantages(torch.from_numpy(rewards.reshape(B, N)))
        advantages = advantages.reshape(B * N).to(torch.float32).to(args.device)

        # 5. policy-gradient step(s)
        old_logp = None
        for _epoch in range(args.ppo_epochs):
            logp, entropy = token_logprobs(
                model, prompt_ids, prompt_mask, response_ids, response_mask, entropy=True
            )
            if old_logp is None:
                old_logp = logp.detach()  # π_θold = the sampling policy (γ = 1 on epoch 1)
                mean_entropy = float(entropy.sum() / response_mask.sum())
            loss = policy_loss(
                logp,
                old_logp,
                response_mask,
                advantages,
                clip=args.clip,
                aggregation=args.loss_aggregation,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            if not (torch.isfinite(loss) and torch.isfinite(grad_norm)):
                raise TrainingDiverged(
                    f"step {step}: loss={loss.item()} grad_norm={grad_norm.item()} is not finite; "
                    f"stopped without updating. The last good checkpoint (step {last_checkpoint}) "
                    f"is kept in {checkpoint_path!r}; lower --lr and rerun with --resume"
                )
            optimizer.step()
        seconds = time.perf_counter() - t0

        groups = correct.reshape(B, N)
        n_tokens = int(response_mask.sum())
        records.append(
            {
                "kind": "train",
                "step": step,
                "samples": step * B * N,
                "loss": float(loss.detach()),
                "grad_norm": float(grad_norm),
                "train_reward": float(correct.mean()),
                "train_score": float(scores.mean()),
                "zero_variance_groups": float(np.mean(groups.min(1) == groups.max(1))),
                "mean_abs_advantage": float(advantages.abs().mean()),
                "entropy": mean_entropy,
                "response_length": n_tokens / (B * N),
                "samples_per_s": B * N / seconds,
                "tokens_per_s": n_tokens / seconds,
                "sample_seconds": t_sample,
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


def main(argv=None) -> int:  # pragma: no cover - the CLI is `advshape train`
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    train(args_from_namespace(parser.parse_args(argv)))
    return 0
