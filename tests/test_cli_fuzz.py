"""Every option of every subcommand, given bad values: one line, exit code 2, nothing written.

The cases are derived from the parsers themselves: the argparse parsers of
``advshape.cli.build_parser`` and, for the commands whose options are a dataclass
(``advshape.cli.options_class``), the dataclass's fields as ``advshape.cli.dataclass_options``
offers them. Each option's bad values come from its type (int, float, str, flag), its
choices, whether it takes several values and whether it names a folder, so options and
subcommands added later are walked automatically; an option of a type this walk does not
know fails the guard below. Only the exceptions are listed by hand: options for which 0 or
a negative number is meaningful, bad values of free-text options, and the cheapest valid
command line of each subcommand (the "corrected command", run once per subcommand in the
same ``--out``).

Options are checked before any work, so each bad case returns in milliseconds; a handful
of cases run as real subprocesses to show that no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import subprocess
import sys
import typing
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from advshape._options import OneOf, field_checks
from advshape.cli import COMMANDS, build_parser, main, options_class
from advshape.cli.dataclass_options import offered_fields

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("reasoning_gym")
pytest.importorskip("matplotlib")
pytest.importorskip("sympy")

# The cheapest valid command line of each subcommand (positionals first). "{out}" and
# "{cache}" are filled with folders of the test's temporary directory. A new subcommand
# needs one line here; the test says so.
TINY_LM = [
    "--steps", "1", "--prompts-per-step", "2", "--samples-per-prompt", "2", "--n-train", "4",
    "--eval-problems", "2", "--eval-samples", "2", "--eval-ks", "1", "2", "--eval-every", "1",
    "--hidden-size", "8", "--num-layers", "1", "--num-heads", "2", "--warmstart-steps", "0",
    "--warmstart-batch-size", "2", "--threads", "1", "--no-progress", "--cache-dir", "{cache}",
]  # fmt: skip
PROBE_LM = [
    "--n-train", "4", "--eval-problems", "2", "--eval-samples", "2", "--eval-ks", "1", "2",
    "--hidden-size", "8", "--num-layers", "1", "--num-heads", "2", "--warmstart-steps", "0",
    "--warmstart-batch-size", "2", "--threads", "1", "--no-progress",
]  # fmt: skip
BASE: dict[str, list[str]] = {
    "list": [],
    "show": ["grpo", "--n", "4"],
    "verify": ["--quiet"],
    "table": ["--paper-only", "--k", "2", "--n", "4"],
    "plot": ["weights", "grpo", "--n", "4", "--out", "{out}"],
    "simulate": [
        "--shapers", "grpo", "--seeds", "1", "--problems", "16", "--answers", "4",
        "--max-correct", "1", "--features", "2", "--n", "4", "--k", "2", "--steps", "2",
        "--batch", "4", "--log-every", "1", "--workers", "1", "--no-plots", "--no-progress",
        "--out", "{out}",
    ],
    "train": ["--shaper", "grpo", *TINY_LM, "--out", "{out}"],
    "compare": ["--shapers", "grpo", "--seeds", "1", "--jobs", "1", *TINY_LM, "--out", "{out}"],
    "probe": [*PROBE_LM, "--cache-dir", "{out}", "--format", "json"],
    "explain": ["grpo", "--n", "4", "--population", "off"],
    "frontier": [
        "--testbed", "digits", "--family", "grpo", "--starts", "weak", "--seeds", "2",
        "--steps", "2", "--eval-points", "1", "--resamples", "100", "--no-progress",
        "--jobs", "1", "--out", "{out}",
    ],
}  # fmt: skip
# Subcommands whose valid run is too slow to repeat here (covered by their own tests).
SLOW = {"verify"}

# Numeric options for which 0, or a negative number, is a valid value (by option string).
ZERO_OK = {
    "--seed", "--task-seed", "--max-new-tokens", "--warmstart-steps", "--threads",
    "--stop-after", "--weight-decay", "--test-fraction", "--prior-noise", "--feature-signal",
    "--first-seed", "--n-train", "--workers",
}  # fmt: skip
# Options whose 0 is valid in one command only (frontier --jobs 0 = one process per core).
ZERO_OK_IN = {("frontier", "--jobs")}
NEGATIVE_OK: set[str] = set()

# Bad values of free-text options (argparse type str, no choices). An unlisted text
# option is tried with the empty string only.
TEXT_BAD = {
    "--shaper": ["nope", "grpo_k:k=0", "F=rho;lam=big", ""],
    "--shapers": ["nope", "grpo_k:k=99"],
    "spec": ["nope", "surrogate:", ""],
    "specs": ["nope"],
    "target": ["nope", "verl:nope", "os:nope", ""],
    "--task": ["chess", ""],
    "--device": ["tpu", "cuda:x"],
    "--difficulty": ["loguniform:0,1", "hard", "fixed:nan"],
    "--name": ["a/b", ""],
    "--model": ["/nonexistent/model", "{file}"],
    "--family": ["nope", "grpo_k:k={{1,2", "grpo_k:k={{1,99}}"],  # format() escapes
    "--set": ["lr", "colour=red", "lr=abc"],
    "--starts": ["medium", ""],
}
# Text options for which the empty string is valid (a default meaning "none").
EMPTY_OK = {"--model"}

INT_BAD = ["-1", "0", "nan", "inf", "1" + "0" * 30, "1.5", "abc"]
FLOAT_BAD = ["-1", "0", "nan", "inf", "-inf", "1e308", "abc"]


@dataclasses.dataclass(frozen=True)
class Option:
    """One option of one subcommand, as its parser knows it."""

    name: str  # the flag shown in messages (--steps), or a positional's name
    flags: tuple[str, ...]  # every option string; () for a positional
    type: type | None  # int, float, str (or another converter), or None: a flag
    choices: tuple | None
    path: bool  # names a folder
    dest: str


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _is_path(dest: str) -> bool:
    return dest == "out" or dest.endswith(("_dir", "_out"))


def _from_action(action: argparse.Action) -> Option:
    flags = tuple(action.option_strings)
    name = flags[-1] if flags else action.dest
    kind = None if action.nargs == 0 else (action.type or str)  # argparse's default type: str
    choices = tuple(action.choices) if action.choices is not None else None
    return Option(name, flags, kind, choices, _is_path(action.dest), action.dest)


def _from_field(field: dataclasses.Field, hint, check=None) -> Option:
    """An option of a dataclass command: --field-name, typed by the field's annotation; a
    string field checked by a OneOf is a choice."""
    flag = "--" + field.name.replace("_", "-")
    choices = tuple(check.choices) if isinstance(check, OneOf) and hint is str else None
    if typing.get_origin(hint) is tuple:  # several values of one type
        hint = typing.get_args(hint)[0]
    if type(None) in typing.get_args(hint):  # X | None: None is the default, X is given
        (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
    if hint is bool:
        return Option(flag, (flag, "--no-" + flag[2:]), None, None, False, field.name)
    if hint not in (int, float, str):
        raise TypeError(f"{flag}: no bad values for options of type {hint!r}; add them here")
    return Option(flag, (flag,), hint, choices, _is_path(field.name), field.name)


def _options(command: str) -> list[Option]:
    """Every option of ``command``, from its argparse parser or its dataclass."""
    cls = options_class(command)
    if cls is None:
        sub = _subparsers()[command]
        return [_from_action(a) for a in sub._actions if not isinstance(a, argparse._HelpAction)]
    hints, checks = typing.get_type_hints(cls), field_checks(cls)
    return [_from_field(f, hints[f.name], checks.get(f.name)) for f in offered_fields(cls)]


def _bad_values(option: Option, paths: dict[str, str], command: str) -> list[str]:
    """Bad values for one option, from what its parser knows about it."""
    name = option.name
    if option.type is None and option.flags:  # a flag: a value attached to it is a usage error
        return ["=yes"]
    if option.choices is not None:
        return ["not-a-choice"] + ([""] if "" not in option.choices else [])
    if option.path:
        bad = [paths["file"], os.path.join(paths["file"], "sub")]
        return bad + ([paths["unwritable"]] if paths["unwritable"] else [])
    if option.type is int:
        bad = INT_BAD
    elif option.type is float:
        bad = FLOAT_BAD
    else:
        bad = [v.format(**paths) for v in TEXT_BAD.get(name, [""])]
        return [v for v in bad if not (v == "" and name in EMPTY_OK)]
    skip = set()
    if name in ZERO_OK or (command, name) in ZERO_OK_IN:
        skip.add("0")
    if name in NEGATIVE_OK:
        skip |= {"-1"}
    return [v for v in bad if v not in skip]


def _argv(command: str, option: Option, value: str, base: list[str]) -> list[str]:
    if option.flags:
        flag = option.flags[0]
        if value.startswith("="):  # flags: --flag=yes
            return [command, *base, flag + value]
        return [command, *base, f"{flag}={value}" if value.startswith("-") else flag, *(
            [] if value.startswith("-") else [value]
        )]  # fmt: skip
    # A positional: replace the base's value(s) at its position.
    sub = _subparsers()[command]
    actions = [a for a in sub._actions if not a.option_strings]
    index = [a.dest for a in actions].index(option.dest)
    rest = list(base)
    if actions[index].nargs in ("*", "+"):
        rest[index : index + 1] = [value]
    else:
        rest[index] = value
    return [command, *rest]


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def _unwritable(tmp: Path) -> str | None:
    """A folder path this user cannot create (root can write almost anywhere)."""
    if os.geteuid() != 0:
        locked = tmp / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        return str(locked / "out")
    proc = Path("/proc/1")
    if proc.is_dir() and not os.access(proc, os.W_OK):
        return str(proc / "advshape-out")
    return None


def _cases() -> list[tuple[str, Option]]:
    return [(command, option) for command in COMMANDS for option in _options(command)]


def test_every_subcommand_has_a_cheapest_valid_command_line():
    missing = sorted(set(COMMANDS) - set(BASE))
    assert not missing, f"add the cheapest valid command line of {missing} to BASE"


def test_every_option_of_every_subcommand_is_walked():
    # argparse's subcommands and the dataclass ones are all found, with their options
    assert {c for c, _ in _cases()} == set(COMMANDS)
    assert {o.name for c, o in _cases() if c == "train"} >= {"--steps", "--eval-ks", "--out"}
    assert {o.name for c, o in _cases() if c == "simulate"} >= {"--n", "--shapers", "--workers"}
    hidden = {o.name for c, o in _cases() if c == "compare"}
    assert "--shapers" in hidden and "--shaper" not in hidden and "--stop-after" not in hidden


def test_every_dataclass_option_declares_its_valid_values():
    for command in COMMANDS:
        cls = options_class(command)
        if cls is None:
            continue
        checks = field_checks(cls)
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in checks]
        assert not missing, f"{command}: declare the valid values of {missing} with option()"


def test_an_option_of_an_unknown_type_fails_the_walk():
    @dataclasses.dataclass
    class Odd:
        ratio: complex = 1j

    with pytest.raises(TypeError, match="no bad values for options of type"):
        _from_field(dataclasses.fields(Odd)[0], complex)


@pytest.mark.parametrize("command", sorted(BASE))
def test_bad_values_of_every_option_are_refused_in_one_line(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default output folders would land here: none may appear
    (tmp_path / "a-file").write_text("not a folder\n")
    paths = {
        "file": str(tmp_path / "a-file"),
        "unwritable": _unwritable(tmp_path),
        "out": str(tmp_path / "out"),
        "cache": str(tmp_path / "cache"),
    }
    base = [a.format(**paths) for a in BASE[command]]
    before = _tree(tmp_path)
    tried = 0
    for cmd, option in _cases():
        if cmd != command:
            continue
        for value in _bad_values(option, paths, command):
            argv = _argv(command, option, value, base)
            code, err = _run(argv)
            shown = " ".join(argv)
            assert code == 2, f"{shown!r} exited {code}: {err}"
            lines = err.strip().splitlines()
            assert len(lines) == 1, f"{shown!r} printed {len(lines)} lines: {err}"
            assert "Traceback" not in err
            # An option is named by its flag; a positional by its name or the value given;
            # a flag given a value by the flag or the stray value.
            named = list(option.flags) or [option.dest, value]
            if option.type is None:
                named.append(value.lstrip("="))
            assert any(n and n in lines[0] for n in named), f"{shown!r}: {lines[0]}"
            assert _tree(tmp_path) == before, f"{shown!r} wrote {_tree(tmp_path) - before}"
            tried += 1
    assert tried or command in ("list", "verify") or not base
    # The corrected command then runs, in the same --out.
    if command not in SLOW:
        code, err = _run([command, *base])
        assert code == 0, err


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--hidden-size", "0"],
        ["train", "--num-heads", "3"],
        ["simulate", "--prior-noise", "1e308"],
        ["show", "grpo", "--digits", "-1"],
        ["plot", "weights", "grpo", "--out", "{file}"],
        ["compare", "--shapers", "grpo", "grpo:std=population"],
    ],
)
def test_no_traceback_reaches_the_terminal(argv, tmp_path):
    (tmp_path / "a-file").write_text("x")
    argv = [a.format(file=tmp_path / "a-file") for a in argv]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from advshape.cli import main; sys.exit(main())",
            *argv,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"advshape {argv[0]}: error: ")
    assert _tree(tmp_path) == {"a-file"}
