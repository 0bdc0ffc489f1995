"""GRPO in TRL with an advshape shaper, on a reasoning-gym task, from a local checkpoint.

    pip install 'advshape[trl]' reasoning-gym
    python examples/trl_grpo_reasoning_gym.py --model-path /ckpt/Qwen2.5-0.5B-Instruct \\
        --task chain_sum --shaper grpo_k:k=4 --num-generations 8

Several GPUs: ``accelerate launch --num_processes 4 examples/trl_grpo_reasoning_gym.py ...``
(advshape shapes each prompt's group on the rewards gathered from every process).

The model and tokenizer are read from ``--model-path`` only (nothing is downloaded). Problems
and their verification come from reasoning-gym: the model is asked to put its final answer
in ``<answer>...</answer>``; the gym's ``score_answer`` grades it. Binary-only shapers get the
0/1 reward 1[score ≥ 1]; shapers that accept continuous rewards (pkpo, grpo, rloo, ...) get
the gym's score itself. A checkpoint without a chat template gets the question as plain text.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from pathlib import Path

from advshape.cli.dataclass_options import parse

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the checkpoint is local: never reach the Hub


@dataclasses.dataclass
class Args:
    """The options of this script (each field is ``--field-name``; ``--help`` lists them)."""

    model_path: str = ""
    """local directory of a causal LM checkpoint (required)"""
    task: str = "chain_sum"
    """reasoning-gym dataset"""
    shaper: str = "grpo_k:k=4"
    """advshape shaper spec (see `advshape list`)"""
    num_generations: int = 8
    """N: responses per prompt"""
    prompts_per_step: int = 8
    """prompts per optimisation step (over all processes)"""
    steps: int = 200
    """optimisation steps"""
    max_completion_length: int = 256
    """longest completion, in tokens"""
    learning_rate: float = 1e-6
    """AdamW step size"""
    temperature: float = 1.0
    """sampling temperature"""
    n_problems: int = 4096
    """training problems"""
    seed: int = 0
    """problem and training seed"""
    bf16: bool = True
    """bfloat16 on a GPU"""
    use_vllm: bool = False
    """generate with vLLM"""
    output_dir: str = "runs/trl_grpo"
    """outputs"""
    report_to: str = "none"
    """none, wandb, ..."""


def parse_args(argv=None) -> Args:
    return parse(Args, argv, prog=Path(__file__).name, description=__doc__.split("\n\n")[0])


ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
INSTRUCTION = "Solve the problem. Give only the final answer inside <answer></answer>."


def completion_text(completion) -> str:
    # Conversational datasets give a list of messages; plain-text ones give a string.
    return completion[-1]["content"] if isinstance(completion, list) else completion


def main(argv=None) -> int:
    args = parse_args(argv)
    checkpoint = Path(args.model_path)
    if not args.model_path or not (checkpoint / "config.json").is_file():
        sys.exit(
            f"--model-path must be a local checkpoint directory with config.json, got "
            f"{args.model_path!r}"
        )

    import reasoning_gym
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    import advshape
    from advshape.integrations.trl import GRPOTrainer

    shaper = advshape.shaper(args.shaper)  # fails here, before loading, on a bad spec
    gym = reasoning_gym.create_dataset(args.task, size=args.n_problems, seed=args.seed)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    chat = tokenizer.chat_template is not None

    def prompt(question: str):
        if chat:
            return [
                {"role": "system", "content": INSTRUCTION},
                {"role": "user", "content": question},
            ]
        return f"{INSTRUCTION}\n{question}\n"

    train = Dataset.from_dict(
        {
            "prompt": [prompt(gym[i]["question"]) for i in range(len(gym))],
            "problem": list(range(len(gym))),
        }
    )

    def gym_reward(completions, problem, **kwargs) -> list[float]:
        """reasoning-gym's score of the <answer> (0 if none); 1[score ≥ 1] for binary shapers."""
        rewards = []
        for completion, index in zip(completions, problem):
            found = ANSWER.search(completion_text(completion))
            score = float(gym.score_answer(found.group(1).strip(), gym[index])) if found else 0.0
            rewards.append(float(score >= 1.0) if shaper.info.binary_only else score)
        return rewards

    on_gpu = torch.cuda.is_available()
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    per_device = args.prompts_per_step * args.num_generations // processes
    config = GRPOConfig(
        output_dir=args.output_dir,
        num_generations=args.num_generations,
        per_device_train_batch_size=per_device,
        max_completion_length=args.max_completion_length,
        max_steps=args.steps,
        learning_rate=args.learning_rate,
        temperature=args.temperature,
        bf16=args.bf16 and on_gpu,
        use_cpu=not on_gpu,
        use_vllm=args.use_vllm,
        seed=args.seed,
        logging_steps=1,
        save_strategy="no",
        report_to=args.report_to,
    )
    model = AutoModelForCausalLM.from_pretrained(
        checkpoint, dtype=torch.bfloat16 if config.bf16 else torch.float32
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=gym_reward,
        args=config,
        train_dataset=train,
        processing_class=tokenizer,
        shaper=shaper,
    )
    trainer.train()
    trainer.save_model(args.output_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
