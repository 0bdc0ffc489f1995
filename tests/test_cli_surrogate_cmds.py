"""``advshape verify``, ``advshape table``, ``advshape plot``."""

from __future__ import annotations

import argparse

import pytest

from advshape.cli import COMMANDS, UsageError, main, surrogate_cmds
from advshape.surrogates import verify


def _run(command: str, *argv: str) -> int:
    """Parse with this module's own configure_* (the dispatcher is tested elsewhere)."""
    parser = argparse.ArgumentParser()
    getattr(surrogate_cmds, f"configure_{command}")(parser)
    args = parser.parse_args(list(argv))
    return getattr(surrogate_cmds, f"run_{command}")(args)


def test_commands_are_registered():
    for name in ("verify", "table", "plot"):
        assert COMMANDS[name][0] == "surrogate_cmds"


def test_verify_passes_and_prints_every_claim(capsys):
    assert main(["verify"]) == 0  # through the real dispatcher
    out = capsys.readouterr().out
    for claim in (
        "Table 1",
        "Claim 1",
        "Claim 2",
        "Corollary 1",
        "Claim 3",
        "Eq. (26)",
        "App. C.1",
        "App. C.2",
        "App. C.3",
        "App. C.4",
        "finite N",
        "MaxRL",
        "Zhu et al.",
        "grpo_passk",
        "Heckel et al.",
        "F-GRPO",
        "MaxPO",
    ):
        assert f"PASS  {claim}" in out, claim
    assert "FAIL" not in out
    assert "rate N^-0.45" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("43 checks: 43 passed, 0 failed")


def test_verify_exits_non_zero_on_a_failure(monkeypatch, capsys):
    def failing(curve):
        yield verify.Check("Claim X", "deliberately wrong", 1.0, 1e-6)

    monkeypatch.setattr(verify, "SECTIONS", (failing,))
    assert _run("verify", "--quiet") == 1
    out = capsys.readouterr().out
    assert "FAIL  Claim X" in out and "1 failed" in out


def test_table(capsys):
    assert _run("table", "--paper-only", "--k", "3") == 0
    out = capsys.readouterr().out
    assert "Table 1 (K = 3" in out and "B(1 − (1−ρ_K)^{1/K}; ½, K−½)" in out
    assert _run("table", "--paper-only", "--markdown") == 0
    assert capsys.readouterr().out.startswith("| algorithm")
    with pytest.raises(ValueError, match=r"--n must be an integer in \[8, "):
        _run("table", "--k", "8", "--n", "4")
    assert main(["table", "--k", "0"]) == 2  # the dispatcher turns the error into exit code 2
    assert "--k must be an integer in [1, " in capsys.readouterr().err


def test_plot(tmp_path, capsys):
    assert _run("plot", "fig4", "--out", str(tmp_path)) == 0
    assert (tmp_path / "fig4.png").exists() and (tmp_path / "fig4.svg").exists()
    spec = "F=2*asin(sqrt(rho));Omega=-rho*log(rho)-(1-rho)*log(1-rho);lam=1"
    assert _run("plot", "weights", "grpo", spec, "--out", str(tmp_path), "--name", "mine") == 0
    assert (tmp_path / "mine.png").exists()
    assert str(tmp_path / "mine.svg") in capsys.readouterr().out


def test_plot_bad_input(tmp_path):
    with pytest.raises(UsageError, match="needs at least one SPEC"):
        _run("plot", "surrogate", "--out", str(tmp_path))
    with pytest.raises(UsageError, match="takes no SPEC"):
        _run("plot", "fig1", "grpo", "--out", str(tmp_path))
    with pytest.raises(ValueError, match="decreases"):
        _run("plot", "surrogate", "F=1-rho", "--out", str(tmp_path))
    with pytest.raises(SystemExit):
        _run("plot", "fig9")


@pytest.mark.parametrize("what", ["weights", "surrogate"])
def test_plot_refuses_a_scheduled_spec_in_one_line(tmp_path, capsys, what):
    # a schedule has no single curve; `plot surrogate` used to end in an AttributeError
    assert main(["plot", what, "grpo_k:k=linear(4,1)", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "has a schedule (k)" in err and "'grpo_k:k=4'" in err
    assert not list(tmp_path.iterdir())
