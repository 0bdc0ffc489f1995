"""A tiny TRL GRPO setup for the integration tests: char tokenizer, Qwen2 model, recorders.

Everything is made here (no downloads): a character-level tokenizer, a Qwen2 causal LM of a
few thousand parameters built from a config, and reward functions on token ids. The reward
functions record what they scored and ``RecordingTrainer`` records what TRL's loss used.

Run as a module under torchrun, it is the worker of the two-process test::

    python -m torch.distributed.run --standalone --nproc_per_node 2 -m tests._tiny_trl OUT_DIR
"""

from __future__ import annotations

import os

# No network, no telemetry: set before transformers / huggingface_hub read them.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("WANDB_DISABLED", "true")

import json
import sys
import tempfile
from pathlib import Path

import torch
from datasets import Dataset
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
from trl import GRPOConfig

from advshape.integrations.trl import GRPOTrainer

ALPHABET = "abcdefgh0123456789+="


def char_tokenizer() -> PreTrainedTokenizerFast:
    """One token per character of ALPHABET, plus <pad> (0) and <eos> (1)."""
    vocab = {"<pad>": 0, "<eos>": 1, **{c: i + 2 for i, c in enumerate(ALPHABET)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")


def tiny_model(vocab_size: int) -> Qwen2ForCausalLM:
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
        tie_word_embeddings=True,
    )
    return Qwen2ForCausalLM(config)


def grpo_config(output_dir, **overrides) -> GRPOConfig:
    settings = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=6,
        max_steps=3,
        learning_rate=1e-2,
        bf16=False,
        fp16=False,
        use_cpu=True,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        disable_tqdm=True,
        seed=0,
        dataloader_num_workers=0,
    )
    settings.update(overrides)
    return GRPOConfig(**settings)


def prompts_dataset() -> Dataset:
    """24 distinct prompts, so a (prompt, completion) pair identifies its group within a run."""
    return Dataset.from_dict({"prompt": [f"{a}+{b}=" for a in range(6) for b in range(4)]})


class RewardRecorder:
    """A TRL reward function that records each call: prompts, completion ids and rewards."""

    def __init__(self, score, name):
        self.score = score
        self.__name__ = name
        self.calls: list[tuple[list[str], list[tuple[int, ...]], list[float]]] = []

    def __call__(self, prompts, completions, completion_ids, **kwargs):
        scores = [self.score(ids) for ids in completion_ids]
        rewards = [None if v is None else float(v) for v in scores]  # None: not scored
        self.calls.append((list(prompts), [tuple(ids) for ids in completion_ids], rewards))
        return rewards


def parity_reward(ids):  # binary: about half the completions of a random policy are correct
    return sum(ids) % 2 == 0


def graded_reward(ids):  # continuous, in {0, 1/4, ..., 1}
    return (sum(ids) % 5) / 4


class RecordingTrainer(GRPOTrainer):
    """Records the rows (prompt, completion, advantage) that TRL's loss actually used."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_rows: list[tuple[str, tuple[int, ...], float]] = []

    def _compute_loss(self, model, inputs):
        prompt_ids, prompt_mask = inputs["prompt_ids"], inputs["prompt_mask"].bool()
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"].bool()
        for i in range(prompt_ids.shape[0]):
            prompt = self.processing_class.decode(prompt_ids[i][prompt_mask[i]].tolist())
            completion = tuple(completion_ids[i][completion_mask[i]].tolist())
            self.loss_rows.append((prompt, completion, float(inputs["advantages"][i])))
        return super()._compute_loss(model, inputs)


def two_process_worker(out_dir: Path, spec: str) -> None:
    """One rank of a 2-process run whose groups of 4 are split 2 + 2 across the ranks."""
    tokenizer = char_tokenizer()
    reward = RewardRecorder(parity_reward, "parity_reward")
    trainer = RecordingTrainer(
        model=tiny_model(len(tokenizer)),
        reward_funcs=reward,
        args=grpo_config(out_dir / "trainer", per_device_train_batch_size=2, max_steps=2),
        train_dataset=prompts_dataset(),
        processing_class=tokenizer,
        shaper=spec,
    )
    trainer.train()
    rank = trainer.accelerator.process_index
    record = {
        "world_size": trainer.accelerator.num_processes,
        "calls": reward.calls,
        "loss_rows": trainer.loss_rows,
    }
    with tempfile.NamedTemporaryFile("w", dir=out_dir, delete=False, suffix=".tmp") as f:
        json.dump(record, f)
    os.replace(f.name, out_dir / f"rank{rank}.json")


if __name__ == "__main__":
    two_process_worker(Path(sys.argv[1]), sys.argv[2])
