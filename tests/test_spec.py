"""The spec language (``advshape._src.spec``): one grammar for the API, the command line,
configs and unpickling; every form parses in the core and means the same everywhere."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import advshape
from advshape._src import spec


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("grpo", ("grpo", {})),
        (" grpo_k : k = 4 ", ("grpo_k", {"k": 4})),
        ("grpo:std=sample,eps=1e-6", ("grpo", {"std": "sample", "eps": 1e-6})),
        ("grpo_k:k=linear(16,1)", ("grpo_k", {"k": "linear(16,1)"})),
        (
            "pkpo:k=steps(4@1,2@3),baseline=loo",
            ("pkpo", {"k": "steps(4@1,2@3)", "baseline": "loo"}),
        ),
        ("x:flag=TRUE,other=false", ("x", {"flag": True, "other": False})),
        ("entropy:lam=nan", ("entropy", {"lam": float("nan")})),
        ("surrogate:2*asin(sqrt(rho))", ("surrogate", {"F": "2*asin(sqrt(rho))"})),
        (
            "surrogate:rho;regularizer=rho*(1-rho);lam=0.5;name=mine",
            ("surrogate", {"F": "rho", "regularizer": "rho*(1-rho)", "lam": 0.5, "name": "mine"}),
        ),
        ("F=rho", ("surrogate", {"F": "rho"})),
        (
            "F=rho;Omega=rho*(1-rho);lam=0.5",
            ("surrogate", {"F": "rho", "regularizer": "rho*(1-rho)", "lam": 0.5}),
        ),
        ("surrogate", ("surrogate", {})),  # F may come as a keyword
    ],
)
def test_every_form_parses(text, parsed):
    name, params = advshape.parse_spec(text)
    assert name == parsed[0]
    assert params.keys() == parsed[1].keys()
    for key, value in parsed[1].items():
        got = params[key]
        assert got == value or (got != got and value != value), (key, got, value)
        assert type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "non-empty string"),
        ("grpo_k:k", "write parameters as key=value"),
        ("grpo_k:k=4,k=5", "given twice"),
        ("grpo_k:k=linear(16,1", r"unbalanced '\('"),
        ("surrogate:", "no surrogate F after 'surrogate:'"),
        ("surrogate:rho;lamda=0.5", "regularizer=, lam= or name="),
        ("surrogate:rho;lam=0.5;lam=0.1", "lam given twice"),
        ("surrogate:rho;regularizer=rho;lam=big", "lam must be a number"),
        ("F=rho;Omeg=rho", "cannot read 'Omeg=rho'"),
        ("F=rho;Omega=rho;lam=big", "lam must be a number"),
    ],
)
def test_bad_text_names_the_problem(text, message):
    with pytest.raises(ValueError, match=message):
        advshape.parse_spec(text)


@pytest.mark.parametrize("value", ["4_0", "４", "٤", "1_000.5", "１e-6"])
def test_numbers_are_ascii_in_plain_values_and_in_schedules_alike(value):
    """Python's int()/float() read these; the spec language refuses them everywhere, with the
    ASCII spelling (docs/reliability.md says why)."""
    with pytest.raises(ValueError, match=r"not written with ASCII digits 0-9.*write "):
        advshape.parse_spec(f"grpo_k:k={value}")
    with pytest.raises(ValueError, match=r"not written with ASCII digits 0-9.*write "):
        advshape.scheduled(f"grpo_k:k=linear({value},1)")
    with pytest.raises(ValueError, match=r"not written with ASCII digits 0-9.*write "):
        advshape.parse_spec(f"F=rho;Omega=rho;lam={value}")


def test_parse_value_types_by_look():
    assert spec.parse_value(" 7 ") == 7 and type(spec.parse_value("7")) is int
    assert spec.parse_value("-0.5") == -0.5 and spec.parse_value(".5") == 0.5
    assert spec.parse_value("1E3") == 1000.0 and type(spec.parse_value("1E3")) is float
    assert spec.parse_value("inf") == float("inf")
    assert spec.parse_value("population") == "population"
    assert spec.parse_value("linear(4_0,1)") == "linear(4_0,1)"  # a schedule stays text


def test_format_spec_inverts_parse_spec():
    for text in ("grpo_k:k=4", "grpo:std=sample,eps=1e-06", "grpo_k:k=linear(16,1)", "rloo"):
        name, params = spec.parse_spec(text)
        assert spec.format_spec(name, params.items()) == text


def test_surrogate_spec_round_trips_or_says_it_cannot():
    text = spec.surrogate_spec(" rho ", "rho*(1-rho)", 0.1 + 0.2, "mine")
    assert text == "surrogate:rho;regularizer=rho*(1-rho);lam=0.30000000000000004;name=mine"
    assert spec.parse_spec(text) == (
        "surrogate",
        {"F": "rho", "regularizer": "rho*(1-rho)", "lam": 0.30000000000000004, "name": "mine"},
    )
    assert spec.surrogate_spec("rho; 1") is None
    assert spec.surrogate_spec("rho", name=" padded ") is None


def test_every_command_line_form_builds_in_the_api_and_means_the_same():
    pytest.importorskip("sympy")
    short = advshape.shaper("F=2*asin(sqrt(rho));Omega=rho*(1-rho);lam=0.5")
    long = advshape.shaper("surrogate:2*asin(sqrt(rho));regularizer=rho*(1-rho);lam=0.5")
    direct = advshape.from_surrogate("2*asin(sqrt(rho))", regularizer="rho*(1-rho)", lam=0.5)
    keywords = advshape.shaper(
        "surrogate", F="2*asin(sqrt(rho))", regularizer="rho*(1-rho)", lam=0.5
    )
    n_pos = np.arange(9)
    for other in (long, direct, keywords):
        assert other.spec == short.spec
        for a, b in zip(other.scores(n_pos, 8), short.scores(n_pos, 8)):
            np.testing.assert_array_equal(a, b)
    assert advshape.scheduled("surrogate:rho").spec == "F=rho"
    with pytest.raises(ValueError, match="has no parameter 'k'"):
        advshape.shaper("surrogate:rho", k=4)
    with pytest.raises(ValueError, match="needs its surrogate F"):
        advshape.shaper("surrogate")


def test_surrogate_shapers_pickle_as_their_surrogate_spec_and_keep_their_name():
    pytest.importorskip("sympy")
    s = advshape.shaper("surrogate:2*asin(sqrt(rho));regularizer=rho*(1-rho);lam=0.25;name=mine")
    build, (text,) = s.__reduce__()
    assert build is advshape.shaper
    assert text == "surrogate:2*asin(sqrt(rho));regularizer=rho*(1-rho);lam=0.25;name=mine"
    again = pickle.loads(pickle.dumps(s))
    assert again.name == "mine" and again.spec == s.spec
    np.testing.assert_array_equal(again.scores(np.arange(9), 8)[0], s.scores(np.arange(9), 8)[0])
    registry_shaper = advshape.shaper("grpo_k:k=4")
    assert registry_shaper.__reduce__() == (advshape.shaper, ("grpo_k:k=4",))
