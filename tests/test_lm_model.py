"""The tiny model and the character tokenizer: local, saved and reloaded by transformers."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from advshape.lm.model import (  # noqa: E402
    TinyModelConfig,
    build_model,
    build_tokenizer,
    load_pretrained,
    n_parameters,
    save_pretrained_atomic,
)

ALPHABET = "0123456789+-*/()=>: "


def test_tokenizer_is_one_token_per_character_and_round_trips():
    tok = build_tokenizer(ALPHABET)
    assert len(tok) == 3 + len(ALPHABET)
    ids = tok("12+3=", add_special_tokens=False)["input_ids"]
    assert len(ids) == 5 and tok.decode(ids) == "12+3="
    assert tok.padding_side == "left"
    with pytest.raises(ValueError, match="repeats a character"):
        build_tokenizer("112")


def test_default_model_size_and_save_load_round_trip(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = build_tokenizer(ALPHABET)
    model = build_model(tok, TinyModelConfig(), seed=0)
    assert 0.5e6 < n_parameters(model) < 5e6
    save_pretrained_atomic(model, tok, str(tmp_path / "m"))
    save_pretrained_atomic(model, tok, str(tmp_path / "m"))  # replacing works too
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    tok2 = AutoTokenizer.from_pretrained(tmp_path / "m")
    assert (
        tok2("7*8", add_special_tokens=False)["input_ids"]
        == tok("7*8", add_special_tokens=False)["input_ids"]
    )
    x = torch.tensor([tok("1 2 3>6:", add_special_tokens=False)["input_ids"]])
    assert torch.equal(model(x).logits, reloaded(x).logits)
    _model2, tok3 = load_pretrained(str(tmp_path / "m"))
    assert tok3.eos_token_id == tok.eos_token_id


def test_same_seed_same_weights():
    tok = build_tokenizer(ALPHABET)
    small = TinyModelConfig(
        hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
    )
    a, b = build_model(tok, small, seed=3), build_model(tok, small, seed=3)
    c = build_model(tok, small, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
