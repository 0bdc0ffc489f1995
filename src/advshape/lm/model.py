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

__all__ = [
    "TinyModelConfig",
    "build_model",
    "build_tokenizer",
    "load_pretrained",
    "n_parameters",
    "save_pretrained_atomic",
]

PAD, EOS, UNK = "<pad>", "<eos>", "<unk>"


@dataclasses.dataclass(frozen=True)
class TinyModelConfig:
    """The shape of the tiny model: a Llama decoder, about 0.9M parameters by default.

    Attributes:
        hidden_size: the width of the residual stream.
        intermediate_size: the width of each MLP.
        num_hidden_layers: the decoder layers.
        num_attention_heads: the attention heads (each of hidden_size / heads dimensions,
            an even number for the rotary embeddings).
        max_position_embeddings: the longest prompt + response, in tokens.

    Example:
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer, n_parameters
        >>> tokenizer = build_tokenizer("0123456789:")
        >>> n_parameters(build_model(tokenizer, TinyModelConfig(), seed=0))
        854912

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the language model π_θ(response | prompt), Sec. 1.1).
    """

    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    max_position_embeddings: int = TINY_MODEL_POSITIONS


def build_tokenizer(alphabet: str) -> PreTrainedTokenizerFast:
    """A character-level tokenizer of an alphabet: one token per character, built locally.

    The vocabulary is ``<pad>``, ``<eos>``, ``<unk>`` and the alphabet, in that order. Left
    padding (what batched generation needs); no BOS; ``<eos>`` ends a response.

    Args:
        alphabet: every character of the task's prompts and answers, each once.

    Returns:
        A ``PreTrainedTokenizerFast`` (``save_pretrained`` writes it like any other).

    Raises:
        ValueError: a character is repeated.

    Example:
        >>> from advshape.lm.model import build_tokenizer
        >>> tokenizer = build_tokenizer("ab:")
        >>> len(tokenizer), tokenizer("ab:").input_ids, tokenizer.decode([3, 4, 1])
        (6, [3, 4, 5], 'ab<eos>')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the language model π_θ(response | prompt), Sec. 1.1).
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


def build_model(
    tokenizer: PreTrainedTokenizerFast, config: TinyModelConfig, seed: int
) -> LlamaForCausalLM:
    """A randomly initialised ``LlamaForCausalLM`` of the tokenizer's vocabulary, seeded.

    Tied input and output embeddings, no dropout; torch's global random state is left as it
    was.

    Args:
        tokenizer: its vocabulary and special tokens (:func:`build_tokenizer`).
        config: the model's shape.
        seed: the seed of the initial weights.

    Returns:
        The model, on the CPU, in training mode.

    Example:
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer, n_parameters
        >>> small = TinyModelConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        ...                         num_attention_heads=2)
        >>> model = build_model(build_tokenizer("ab:"), small, seed=0)
        >>> type(model).__name__, n_parameters(model)
        ('LlamaForCausalLM', 2704)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the language model π_θ(response | prompt), Sec. 1.1).
    """
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
    """A model and its tokenizer from a local checkpoint folder; the tokenizer pads on the left.

    Nothing is downloaded (``local_files_only``). A tokenizer without a pad token pads with
    EOS (padded positions are masked out).

    Args:
        path: a folder written by ``save_pretrained`` holding a causal language model.
        device: where the model goes.

    Returns:
        ``(model, tokenizer)``.

    Raises:
        ValueError: no such folder, not a causal language model, or a tokenizer without EOS.

    Example:
        >>> from advshape.lm.model import (TinyModelConfig, build_model, build_tokenizer,
        ...                                load_pretrained, save_pretrained_atomic)
        >>> tokenizer = build_tokenizer("ab:")
        >>> save_pretrained_atomic(build_model(tokenizer, TinyModelConfig(), seed=0), tokenizer,
        ...                        "checkpoint")
        >>> model, tokenizer = load_pretrained("checkpoint")
        >>> type(model).__name__, tokenizer.padding_side
        ('LlamaForCausalLM', 'left')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the language model π_θ(response | prompt), Sec. 1.1).
    """
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


def save_pretrained_atomic(model: Any, tokenizer: Any, path: str) -> None:
    """Save a model and its tokenizer with ``save_pretrained`` into a folder, replacing it atomically.

    Both are written into a temporary folder beside ``path``, which then replaces ``path``:
    a reader sees the old checkpoint or the new one, never half of one. Files follow the
    umask.

    Args:
        model: a Hugging Face model.
        tokenizer: its tokenizer.
        path: the checkpoint folder (replaced if it exists).

    Example:
        >>> import os
        >>> from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer
        >>> from advshape.lm.model import save_pretrained_atomic
        >>> tokenizer = build_tokenizer("ab:")
        >>> model = build_model(tokenizer, TinyModelConfig(), seed=0)
        >>> save_pretrained_atomic(model, tokenizer, "checkpoint")
        >>> sorted(os.listdir("checkpoint"))[:3]
        ['config.json', 'generation_config.json', 'model.safetensors']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the language model π_θ(response | prompt), Sec. 1.1).
    """
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


def n_parameters(model: torch.nn.Module) -> int:
    """The number of parameters of a model.

    Args:
        model: a torch module.

    Returns:
        Σ numel over its parameters (tied weights counted once).

    Example:
        >>> import torch
        >>> from advshape.lm.model import n_parameters
        >>> n_parameters(torch.nn.Linear(3, 2))  # 3·2 weights + 2 biases
        8

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the language model π_θ(response | prompt), Sec. 1.1).
    """
    return sum(p.numel() for p in model.parameters())
