"""Packaging habits: one source for the version, `advshape --version`, an SPDX licence, and a
constraints file that pins every package the project asks for (the wheel's contents are checked
by scripts/check_dist.py, which scripts/test.sh runs)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import advshape
from advshape._version import __version__
from advshape.cli import main

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_has_one_source():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "advshape._version.__version__"}
    assert advshape.__version__ is __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", __version__)


def test_cli_prints_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"advshape {__version__}\n"


def test_licence_is_an_spdx_expression():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    requires = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    setuptools = next(r for r in requires if r.name == "setuptools")
    assert not setuptools.specifier.contains("76.9")  # SPDX `license` needs setuptools >= 77


def _pins(path: Path | None = None) -> dict[str, str]:
    pins = {}
    for line in (path or ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_constraints_pin_every_requirement():
    """Every package pyproject names (dependencies and every extra) has an exact pin, and the pins
    satisfy pyproject's own ranges; after adding a requirement, run scripts/update_constraints.py."""
    pins = _pins()
    project = PYPROJECT["project"]
    wanted = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        if name != "skyrl":  # its own environment and pins: test_skyrl_constraints
            wanted += extra
    missing, outside = [], []
    for line in wanted:
        req = Requirement(line)
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            missing.append(req.name)
        elif not req.specifier.contains(pin, prereleases=True):
            outside.append(f"{req} (pinned {pin})")
    assert not missing, f"not pinned in constraints.txt: {missing}"
    assert not outside, f"pins outside pyproject's ranges: {outside}"
    assert pins["torch"] == "2.13.0"  # scripts/setup.sh installs this CPU build first
    setup = (ROOT / "scripts/setup.sh").read_text()
    assert setup.count("-c constraints.txt") == 2


def test_skyrl_constraints_pin_the_skyrl_extra():
    """The skyrl extra (its own environment, scripts/integration_envs.sh) is pinned by
    constraints-skyrl.txt within pyproject's ranges, with the main environment's torch."""
    pins = _pins(ROOT / "constraints-skyrl.txt")
    project = PYPROJECT["project"]
    for line in [*project["dependencies"], *project["optional-dependencies"]["skyrl"]]:
        req = Requirement(line)
        pin = pins.get(canonicalize_name(req.name))
        assert pin is not None and req.specifier.contains(pin, prereleases=True), line
    assert pins["torch"] == "2.13.0"
    assert "-c constraints-skyrl.txt" in (ROOT / "scripts/integration_envs.sh").read_text()
