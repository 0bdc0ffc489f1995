"""A tiny decoder-only language model and a character tokenizer, built locally.

Nothing here downloads anything: the tokenizer's vocabulary is the task alphabet
plus three special tokens, and the model is a ``transformers`` Llama built from a
config with random weights. Both are saved with ``save_pretrained`` so that any
Hugging Face tool (TRL, vLLM, ``AutoModelForCausalLM.from_pretrained``) loads them.
``load_pretrained(path)`` takes any local causal-LM checkpoint instead.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from typing import Any

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

from advshape._files import file_mode, make_temp_dir
from advshape.lm.config import TINY_MODEL_POSITIONS, check_causal_lm_path

PAD, EOS, UNK = "<pad>", "<eos>", "<unk>"


@dataclasses.dataclass(frozen=True)
class TinyModelConfig:
    """Shape of the default model (a Llama decoder; about 0.9M parameters by default)."""

    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    max_position_embeddings: int = TINY_MODEL_POSITIONS


def build_tokenizer(alphabet: str):
    """A character-level ``PreTrainedTokenizerFast``: one token per character.

    Left padding (what batched generation needs); no BOS; ``<eos>`` ends a response.
    """
    if len(set(alphabet)) != len(alphabet):
        raise ValueError(f"alphabet {alphabet!r} repeats a character")
    vocab = {tok: i for i, tok in enumerate([PAD, EOS, UNK, *alphabet])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    backend.decoder = decoders.Fuse()  # characters join without separators
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        padding_side="left",
    )


def build_model(tokenizer, config: TinyModelConfig, seed: int):
    """A randomly initialised ``LlamaForCausalLM`` sized by ``config`` (seeded)."""
    hf_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        num_key_value_heads=config.num_attention_heads,
        max_position_embeddings=config.max_position_embeddings,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        attention_dropout=0.0,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(hf_config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def load_pretrained(path: str, device: str = "cpu") -> tuple[Any, Any]:
    """(model, tokenizer) from a local checkpoint folder; the tokenizer pads on the left."""
    check_causal_lm_path(path)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    tokenizer.padding_side = "left"
    if tokenizer.eos_token_id is None:
        raise ValueError(f"the tokenizer in {path!r} has no EOS token; responses could not end")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token  # safe: padded positions are masked out
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    # transformers types PreTrainedModel.to through a decorator that loses the bound self
    model = model.to(device)  # type: ignore[arg-type]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


def save_pretrained_atomic(model, tokenizer, path: str) -> None:
    """``save_pretrained`` model and tokenizer into ``path``, replacing it atomically."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = make_temp_dir(parent, ".tmp-")  # mkdtemp alone would make model/ 0700
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    for name in os.listdir(tmp):  # some writers (safetensors) make 0600 files: follow the umask
        if os.path.isfile(os.path.join(tmp, name)):
            os.chmod(os.path.join(tmp, name), file_mode())
    old = None
    if os.path.exists(path):
        old = make_temp_dir(parent, ".old-")
        os.replace(path, os.path.join(old, "x"))
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def n_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
