"""Throughput on the CPU: advshape's small-LM trainer vs TRL's GRPOTrainer, in one run.

    python benchmarks/bench_trl_throughput.py                       # defaults below
    python benchmarks/bench_trl_throughput.py --steps 8 --samples-per-prompt 16

Both trainers start from the same local checkpoint (advshape's tiny Llama and character
tokenizer, built from a config with random weights, given advshape.lm's cached supervised warm
start of ``--warmstart-steps`` steps, the checkpoint advshape's trainer starts RL from), train on
the same task (advshape.lm's prompts and verifier; the main job's divisor by default), with the same
shaper, N responses per prompt, B prompts per step, response length cap, learning rate,
temperature and number of optimisation steps. TRL runs through advshape.integrations.trl,
so both trainers compute the same advantages.

Timed: each optimisation step (sampling, scoring, advantages, forward/backward, optimiser
step), after ``--warmup-steps`` untimed steps; evaluation and set-up are not timed.
Each trainer first runs once untimed (first-use costs in the process), then ``--repeats``
timed runs, alternating advshape, TRL, advshape, TRL, so that drifting load on a shared machine
hits both. Printed: the step times of every run; samples per second (B·N per step) from the
best step, which other jobs on the machine can only make slower, and from the median step;
the mean response length (the work per sample; both sample from the same checkpoint); the
load average; and the ratios advshape / TRL.
"""

from __future__ import annotations

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
    task: str = "divisor"  # advshape.lm task (the main job's default)
    shaper: str = "grpo"  # the same shaper in both trainers
    prompts_per_step: int = 32  # B (the main job's)
    samples_per_prompt: int = 16  # N (the main job's)
    steps: int = 8  # optimisation steps per trainer run, warm-up included
    repeats: int = 2  # timed runs per trainer (after one warm-up run), alternating
    warmup_steps: int = 1  # untimed first steps (lazy initialisation, allocator warm-up)
    max_new_tokens: int = 0  # response cap; 0: the task's answer length + 1
    lr: float = 3e-4
    temperature: float = 1.0
    hidden_size: int = 64  # advshape.lm's default tiny Llama
    num_layers: int = 2
    num_heads: int = 4
    # torch threads for both; 1 by default: on a shared machine, 2 threads contending with
    # other jobs made single steps 10-50x slower and the comparison meaningless. 0: torch's choice.
    threads: int = 1
    warmstart_steps: int = 1  # advshape.lm's supervised warm start before RL (cached)
    seed: int = 0


def parse_args(argv=None) -> Args:
    from advshape.cli.dataclass_options import parse

    prog = os.path.basename(__file__)
    args = parse(Args, argv, prog=prog, description=__doc__.split("\n\n")[0])
    if not 0 <= args.warmup_steps < args.steps:
        print(
            f"{prog}: error: --warmup-steps must be in [0, --steps), got {args.warmup_steps}",
            file=sys.stderr,
        )
        raise SystemExit(2)
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
    from advshape.lm.config import Args as RunArgs
    from advshape.lm.train import train

    run = RunArgs(
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
    records = [r for r in train(run)["history"] if r["kind"] == "train"]
    with open(os.path.join(run.out, "config.json")) as f:
        start = json.load(f)["warm_start"]["path"]  # TRL starts from this same checkpoint
    timed = records[args.warmup_steps :]
    return start, [r["step_seconds"] for r in timed], [r["response_length"] for r in timed]


def run_trl(args: Args, task, checkpoint: str, max_new_tokens: int, workdir: str):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from transformers.trainer_callback import PrinterCallback
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
    trainer.remove_callback(PrinterCallback)  # keep stdout to the benchmark's own report
    trainer.train()
    return timer.seconds[args.warmup_steps :], timer.lengths[args.warmup_steps :]


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        from advshape.lm.config import response_cap
        from advshape.lm.tasks import Task
    except ImportError as err:
        sys.exit(f"this benchmark needs advshape's small-LM trainer (advshape.lm, issue 5): {err}")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    task = Task(args.task, seed=args.seed, n_train=0, n_eval=2)
    max_new_tokens = response_cap(args, task)  # the same cap as advshape.lm's trainer
    seconds: dict[str, list[float]] = {"advshape": [], "TRL GRPOTrainer": []}
    lengths: dict[str, list[float]] = {"advshape": [], "TRL GRPOTrainer": []}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_trl_") as workdir:
        checkpoint = os.path.join(workdir, "checkpoint")
        build_checkpoint(args, task, checkpoint)
        # Run 0 of each trainer is an untimed warm-up (first-use costs in this process); then
        # the trainers alternate, so drifting load from other jobs hits both.
        for run_id in range(args.repeats + 1):
            start, a_secs, a_lens = run_advshape(args, checkpoint, max_new_tokens, workdir, run_id)
            t_secs, t_lens = run_trl(args, task, start, max_new_tokens, workdir)
            print(f"run {run_id} advshape step seconds: {[round(x, 3) for x in a_secs]}")
            print(f"run {run_id} TRL      step seconds: {[round(x, 3) for x in t_secs]}")
            if run_id == 0:
                continue
            seconds["advshape"] += a_secs
            lengths["advshape"] += a_lens
            seconds["TRL GRPOTrainer"] += t_secs
            lengths["TRL GRPOTrainer"] += t_lens
    samples_per_step = args.prompts_per_step * args.samples_per_prompt
    print(
        f"task={args.task} shaper={args.shaper} B={args.prompts_per_step} "
        f"N={args.samples_per_prompt} max_new_tokens={max_new_tokens} steps={args.steps} "
        f"(timed {args.steps - args.warmup_steps}) x {args.repeats} runs each, "
        f"torch_threads={torch.get_num_threads()}, "
        f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'trainer':<18}{'samples/s: best step':>22}{'median step':>13}{'response tokens':>17}")
    best, median = {}, {}
    for name in seconds:
        best[name] = samples_per_step / min(seconds[name])
        median[name] = samples_per_step / statistics.median(seconds[name])
        print(
            f"{name:<18}{best[name]:>22.1f}{median[name]:>13.1f}"
            f"{statistics.mean(lengths[name]):>17.2f}"
        )
    trl = "TRL GRPOTrainer"
    print(
        f"ratio advshape / TRL: {best['advshape'] / best[trl]:.2f}x (best step), "
        f"{median['advshape'] / median[trl]:.2f}x (median step)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
