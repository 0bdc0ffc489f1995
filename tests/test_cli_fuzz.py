"""Every option of every subcommand, given bad values: one line, exit code 2, nothing written.

The cases are derived from the argparse parsers themselves (``advshape.cli.build_parser``):
each option's bad values come from its ``type`` (int, float, str), ``choices``, ``nargs``
and whether it names a folder, so options and subcommands added later are walked
automatically. Only the exceptions are listed by hand: options for which 0 or a negative
number is meaningful, bad values of free-text options, and the cheapest valid command line
of each subcommand (the "corrected command", run once per subcommand in the same ``--out``).

Options are checked before any work, so each bad case returns in milliseconds; a handful
of cases run as real subprocesses to show that no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from advshape.cli import build_parser, main

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
}  # fmt: skip
# Subcommands whose valid run is too slow to repeat here (covered by their own tests).
SLOW = {"verify"}

# Numeric options for which 0, or a negative number, is a valid value (by option string).
ZERO_OK = {
    "--seed", "--task-seed", "--max-new-tokens", "--warmstart-steps", "--threads",
    "--stop-after", "--weight-decay", "--test-fraction", "--prior-noise", "--feature-signal",
    "--first-seed", "--n-train",
}  # fmt: skip
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
}
# Text options for which the empty string is valid (a default meaning "none").
EMPTY_OK = {"--model"}

INT_BAD = ["-1", "0", "nan", "inf", "1" + "0" * 30, "1.5", "abc"]
FLOAT_BAD = ["-1", "0", "nan", "inf", "-inf", "1e308", "abc"]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _is_path(action: argparse.Action) -> bool:
    return action.dest == "out" or action.dest.endswith(("_dir", "_out"))


def _name(action: argparse.Action) -> str:
    return action.option_strings[-1] if action.option_strings else action.dest


def _bad_values(action: argparse.Action, paths: dict[str, str]) -> list[str]:
    """Bad values for one option, from what argparse knows about it."""
    name = _name(action)
    if action.nargs == 0:  # a flag: a value attached to it is a usage error
        return ["=yes"]
    if action.choices is not None:
        return ["not-a-choice"] + ([""] if "" not in action.choices else [])
    if _is_path(action):
        bad = [paths["file"], os.path.join(paths["file"], "sub")]
        return bad + ([paths["unwritable"]] if paths["unwritable"] else [])
    if action.type is int:
        bad = INT_BAD
    elif action.type is float:
        bad = FLOAT_BAD
    else:
        bad = [v.format(**paths) for v in TEXT_BAD.get(name, [""])]
        return [v for v in bad if not (v == "" and name in EMPTY_OK)]
    skip = set()
    if name in ZERO_OK:
        skip.add("0")
    if name in NEGATIVE_OK:
        skip |= {"-1"}
    return [v for v in bad if v not in skip]


def _argv(command: str, action: argparse.Action, value: str, base: list[str]) -> list[str]:
    if action.option_strings:
        flag = action.option_strings[-1]
        if value.startswith("="):  # flags: --flag=yes
            return [command, *base, flag + value]
        return [command, *base, f"{flag}={value}" if value.startswith("-") else flag, *(
            [] if value.startswith("-") else [value]
        )]  # fmt: skip
    # A positional: replace the base's value(s) at its position.
    sub = _subparsers()[command]
    positionals = [a.dest for a in sub._actions if not a.option_strings]
    index = positionals.index(action.dest)
    rest = list(base)
    if action.nargs in ("*", "+"):
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


def _cases() -> list[tuple[str, argparse.Action]]:
    cases = []
    for command, sub in _subparsers().items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            cases.append((command, action))
    return cases


def test_every_subcommand_has_a_cheapest_valid_command_line():
    missing = sorted(set(_subparsers()) - set(BASE))
    assert not missing, f"add the cheapest valid command line of {missing} to BASE"


def test_every_train_field_declares_its_valid_values():
    import dataclasses

    from advshape.lm.train import FIELD_CHECKS, Args

    missing = [f.name for f in dataclasses.fields(Args) if f.name not in FIELD_CHECKS]
    assert not missing, f"add a check for {missing} to advshape.lm.train.FIELD_CHECKS"


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
    for cmd, action in _cases():
        if cmd != command:
            continue
        for value in _bad_values(action, paths):
            argv = _argv(command, action, value, base)
            code, err = _run(argv)
            shown = " ".join(argv)
            assert code == 2, f"{shown!r} exited {code}: {err}"
            lines = err.strip().splitlines()
            assert len(lines) == 1, f"{shown!r} printed {len(lines)} lines: {err}"
            assert "Traceback" not in err
            # An option is named by its flag; a positional by its name or the value given.
            named = action.option_strings or [action.dest, value]
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
