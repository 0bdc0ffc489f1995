"""Every ``Example:`` in a docstring of the package runs as a doctest and shows what it prints.

The modules are found, not listed: every module of ``src/advshape`` whose source holds a
doctest line (``>>> ``), so a module's examples run as soon as it has some. Each module's
examples run in a fresh temporary folder (examples that write a run folder or a figure write
there). A module whose optional dependency is not installed (SkyRL, which has its own
environment and runs its examples there, in tests/test_integrations_skyrl.py) is skipped,
naming it; one that fails to import for any other reason fails.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from tests._optional import missing_dependency

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(
    _module_name(path)
    for path in (SRC / "advshape").rglob("*.py")
    if ">>> " in path.read_text(encoding="utf-8")
)


def test_the_documented_modules_are_found():
    """Guards against a vacuous pass: the core, the testbeds and the LM trainer are here."""
    for name in ("advshape._src.shaper", "advshape.bandit.dynamics", "advshape.lm.loss"):
        assert name in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        missing = missing_dependency(err)
        if missing is None:
            raise
        pytest.skip(f"{name} needs {missing}, which is not installed")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has doctest lines that are no examples of its docstrings"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
