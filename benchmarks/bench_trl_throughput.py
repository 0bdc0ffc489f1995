"""Throughput on the CPU: advshape's small-LM trainer vs TRL's GRPOTrainer, in one run.

    python benchmarks/bench_trl_throughput.py                       # defaults below
    python benchmarks/bench_trl_throughput.py --steps 8 --samples-per-prompt 16

Both trainers start from the same local checkpoint (advshape's tiny Llama and character
tokenizer, built from a config with random weights, given advshape.lm's cached supervised warm
start of ``--warmstart-steps`` steps, the checkpoint advshape's trainer starts RL from), train on
the same reasoning-gym task (advshape.lm's compact prompts and its verifier), with the same
shaper, N responses per prompt, B prompts per step, response length cap, learning rate,
temperature and number of optimisation steps. TRL runs through advshape.integrations.trl
(the same advantages as advshape's trainer; the shaping itself is microseconds per step).

Timed: each optimisation step (sampling, scoring, advantages, forward/backward, optimiser
step), after ``--warmup-steps`` untimed steps; evaluation and set-up are not timed.
Each trainer runs ``--repeats`` times, alternating, so that drifting load on a shared machine
hits both. Printed: samples per second (B·N over the median step time, and over the mean) for
each trainer, the mean response length (the work per sample; both sample from the same policy),
the machine's load average, and the ratio advshape / TRL of the median-step rates.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("WANDB_DISABLED", "true")


@dataclasses.dataclass
class Args:
    task: str = "chain_sum"  # advshape.lm task (reasoning-gym generator + verifier)
    shaper: str = "grpo"  # the same shaper in both trainers
    prompts_per_step: int = 8  # B
    samples_per_prompt: int = 8  # N
    steps: int = 6  # optimisation steps per trainer run, warm-up included
    repeats: int = 2  # runs per trainer, alternating advshape, TRL, advshape, TRL, ...
    warmup_steps: int = 1  # untimed first steps (lazy initialisation, allocator warm-up)
    max_new_tokens: int = 0  # response cap; 0: the task's answer length + 1
    lr: float = 1e-4
    temperature: float = 1.0
    hidden_size: int = 128  # advshape.lm's default tiny Llama
    num_layers: int = 4
    num_heads: int = 4
    threads: int = 0  # torch threads for both; 0: torch's default
    warmstart_steps: int = 1  # advshape.lm's supervised warm start before RL (cached)
    seed: int = 0


def parse_args(argv=None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for field in dataclasses.fields(Args):
        kind = {"int": int, "float": float}.get(str(field.type), str)
        parser.add_argument("--" + field.name.replace("_", "-"), type=kind, default=field.default)
    args = Args(**vars(parser.parse_args(argv)))
    if not 0 <= args.warmup_steps < args.steps:
        parser.error(f"--warmup-steps must be in [0, --steps), got {args.warmup_steps}")
    return args


def build_checkpoint(args: Args, task, path: str) -> None:
    from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer

    tokenizer = build_tokenizer(task.alphabet)
    config = TinyModelConfig(
        hidden_size=args.hidden_size,
        intermediate_size=3 * args.hidden_size,
        num_hidden_layers=args.num_layers,
        num_attention_heads=args.num_heads,
    )
    model = build_model(tokenizer, config, seed=args.seed)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


def run_advshape(args: Args, checkpoint: str, max_new_tokens: int, workdir: str, run_id: int):
    from advshape.lm import train as lm_train

    run = lm_train.Args(
        task=args.task,
        shaper=args.shaper,
        seed=args.seed,
        steps=args.steps,
        prompts_per_step=args.prompts_per_step,
        samples_per_prompt=args.samples_per_prompt,
        lr=args.lr,
        temperature=args.temperature,
        max_new_tokens=max_new_tokens,
        model=checkpoint,
        warmstart_steps=args.warmstart_steps,
        eval_problems=2,  # evaluation is not timed: keep it small
        eval_samples=2,
        eval_ks=(1,),
        eval_every=args.steps,
        cache_dir=os.path.join(workdir, "cache"),
        out=os.path.join(workdir, f"advshape_run{run_id}"),
        threads=args.threads,
        progress=False,
    )
    records = [r for r in lm_train.train(run)["history"] if r["kind"] == "train"]
    with open(os.path.join(run.out, "config.json")) as f:
        start = json.load(f)["warm_start"]["path"]  # TRL starts from this same checkpoint
    timed = records[args.warmup_steps :]
    return start, [r["step_seconds"] for r in timed], [r["response_length"] for r in timed]


def run_trl(args: Args, task, checkpoint: str, max_new_tokens: int, workdir: str):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig

    import advshape
    from advshape.integrations.trl import GRPOTrainer

    shaper = advshape.shaper(args.shaper)
    problems = {p.prompt: p for p in task.train}

    def task_reward(prompts, completions, **kwargs) -> list[float]:
        scores = task.scores([problems[p] for p in prompts], completions)
        # advshape.lm's reward: the verifier's score for pkpo, else 1[score ≥ 1].
        return [float(s) if shaper.name == "pkpo" else float(s >= 1.0) for s in scores]

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.seconds: list[float] = []
            self.lengths: list[float] = []

        def on_step_begin(self, args_, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args_, state, control, **kwargs):
            self.seconds.append(time.perf_counter() - self.start)

        def on_log(self, args_, state, control, logs=None, **kwargs):
            if logs and "completions/mean_length" in logs:
                self.lengths.append(float(logs["completions/mean_length"]))

    timer = StepTimer()
    config = GRPOConfig(
        output_dir=os.path.join(workdir, "trl_run"),
        per_device_train_batch_size=args.prompts_per_step * args.samples_per_prompt,
        num_generations=args.samples_per_prompt,
        max_completion_length=max_new_tokens,
        max_steps=args.steps,
        learning_rate=args.lr,
        temperature=args.temperature,
        bf16=False,
        use_cpu=True,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        disable_tqdm=True,
        seed=args.seed,
        dataloader_num_workers=0,
    )
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32),
        reward_funcs=task_reward,
        args=config,
        train_dataset=Dataset.from_dict({"prompt": list(problems)}),
        processing_class=AutoTokenizer.from_pretrained(checkpoint),
        callbacks=[timer],
        shaper=shaper,
    )
    trainer.train()
    return timer.seconds[args.warmup_steps :], timer.lengths[args.warmup_steps :]


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from advshape.lm.tasks import Task
        from advshape.lm.train import Args as _  # noqa: F401  (the trainer must exist)
    except ImportError as err:
        sys.exit(f"this benchmark needs advshape's small-LM trainer (advshape.lm, issue 5): {err}")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    task = Task(args.task, seed=args.seed, n_train=max(256, 4 * args.prompts_per_step), n_eval=2)
    max_new_tokens = args.max_new_tokens or task.spec.max_answer_chars + 1
    seconds: dict[str, list[float]] = {"advshape": [], "TRL GRPOTrainer": []}
    lengths: dict[str, list[float]] = {"advshape": [], "TRL GRPOTrainer": []}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_trl_") as workdir:
        checkpoint = os.path.join(workdir, "checkpoint")
        build_checkpoint(args, task, checkpoint)
        for run_id in range(args.repeats):  # alternate, so drifting machine load hits both
            start, secs, lens = run_advshape(args, checkpoint, max_new_tokens, workdir, run_id)
            seconds["advshape"] += secs
            lengths["advshape"] += lens
            secs, lens = run_trl(args, task, start, max_new_tokens, workdir)
            seconds["TRL GRPOTrainer"] += secs
            lengths["TRL GRPOTrainer"] += lens
    samples_per_step = args.prompts_per_step * args.samples_per_prompt
    print(
        f"task={args.task} shaper={args.shaper} B={args.prompts_per_step} "
        f"N={args.samples_per_prompt} max_new_tokens={max_new_tokens} steps={args.steps} "
        f"(timed {args.steps - args.warmup_steps}) x {args.repeats} runs each, "
        f"torch_threads={torch.get_num_threads()}, "
        f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'trainer':<18}{'samples/s (median step)':>25}{'(mean)':>10}{'response tokens':>18}")
    rate = {}
    for name in seconds:
        rate[name] = samples_per_step / statistics.median(seconds[name])
        mean_rate = samples_per_step * len(seconds[name]) / sum(seconds[name])
        print(
            f"{name:<18}{rate[name]:>25.1f}{mean_rate:>10.1f}"
            f"{statistics.mean(lengths[name]):>18.2f}"
        )
    print(f"ratio advshape / TRL (median step): {rate['advshape'] / rate['TRL GRPOTrainer']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
