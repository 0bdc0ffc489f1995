"""Options from a dataclass (``advshape.cli.dataclass_options``): values of every type, hidden
fields, an informative --help, and a bad command line as one line with exit code 2 — also when
tyro's parse-error hook is not there (its box read back onto one line)."""

from __future__ import annotations

import dataclasses
import doctest
from typing import ClassVar

import pytest

from advshape._options import OneOf, count, option, real
from advshape.cli import dataclass_options
from advshape.cli.dataclass_options import offered_fields, parse


@dataclasses.dataclass
class Options:
    """A command's options."""

    steps: int = option(60, count(1, 1000))
    """number of steps"""
    lr: float = option(0.5, real(0.0, 1.0, low_open=True))
    """learning rate"""
    ks: tuple[int, ...] = option((1, 2), count(1, 99))
    """the K values"""
    mode: str = option("auto", OneOf(("auto", "binary")))
    """how rewards are given"""
    progress: bool = option(True, OneOf((False, True)))
    """show progress bars"""
    name: str = "x"
    """a free text"""
    secret: int = option(7, count(0, 9))
    """not offered"""

    hidden_options: ClassVar[tuple[str, ...]] = ("secret",)


def test_every_type_is_parsed_and_the_plain_class_is_returned():
    got = parse(
        Options,
        ["--steps", "3", "--lr=0.25", "--ks", "4", "8", "--mode", "binary", "--no-progress"],
        prog="demo",
    )
    assert type(got) is Options
    assert got == Options(steps=3, lr=0.25, ks=(4, 8), mode="binary", progress=False)
    assert parse(Options, [], prog="demo") == Options()
    assert parse(Options, ["--lr", "-1"], prog="demo").lr == -1.0  # ranges are checked later


def test_hidden_fields_are_not_options():
    assert [f.name for f in offered_fields(Options)][-1] == "name"
    with pytest.raises(SystemExit) as exit_:
        parse(Options, ["--secret", "3"], prog="demo")
    assert exit_.value.code == 2


def test_help_shows_each_option_its_doc_default_and_valid_values(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(Options, ["--help"], prog="demo", description="What demo does.")
    assert exit_.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())  # tyro wraps lines to the terminal
    assert "What demo does." in shown
    assert "--steps INT number of steps (default: 60; an integer in [1, 1000])" in shown
    assert "learning rate (default: 0.5; a number in (0, 1])" in shown
    assert "--mode {auto,binary}" in shown and "--progress, --no-progress" in shown
    assert "(default: 1 2; an integer in [1, 99])" in shown
    assert "--secret" not in shown


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--steps", "abc"], "argument --steps: invalid literal for int() with base 10: 'abc'"),
        (["--mode", "ternary"], "argument --mode: invalid choice 'ternary' (choose from auto, binary)"),
        (["--steps"], "argument --steps: expected a value"),
        (["--nope", "1"], "unrecognized arguments: --nope 1"),
        (["--progress=yes"], "unrecognized arguments: yes"),
        (["--ks", "1", "x"], "argument --ks: "),
    ],
)
def test_a_bad_command_line_is_one_line_with_exit_code_2(capsys, argv, line):
    with pytest.raises(SystemExit) as exit_:
        parse(Options, argv, prog="demo")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"demo: error: {line}") and err.rstrip().endswith("(see `demo --help`)")


def test_without_tyros_hook_its_box_is_put_on_one_line(capsys, monkeypatch):
    monkeypatch.setattr(dataclass_options, "tyro_errors", None)
    for argv, named in ((["--steps", "abc"], "--steps"), (["--mode", "x"], "--mode")):
        with pytest.raises(SystemExit) as exit_:
            parse(Options, argv, prog="demo")
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and err.startswith("demo: error: "), err
        assert named in err and "│" not in err and "╭" not in err


def test_the_module_example_runs():
    result = doctest.testmod(dataclass_options, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2 and result.failed == 0
