"""The ``Example:`` of every docstring in the modules listed here runs as a doctest.

The modules whose public functions have complete Google-style docstrings (issue 16); a
module joins the list when its docstrings are complete.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "advshape._src.combinatorics",
    "advshape._src.constraints",
    "advshape._src.registry",
    "advshape._src.schedule",
    "advshape._src.scheduled",
    "advshape._src.shaper",
    "advshape._src.spec",
    "advshape.bandit.run",
    "advshape.digits.data",
    "advshape.digits.train",
    "advshape.frontier.analysis",
    "advshape.frontier.executors",
    "advshape.frontier.families",
    "advshape.frontier.pareto",
    "advshape.frontier.report",
    "advshape.frontier.run",
    "advshape.frontier.stats",
    "advshape.frontier.testbeds",
    "advshape.surrogates.finite",
    "advshape.surrogates.forward",
]


@pytest.mark.parametrize("name", [*MODULES, "advshape.integrations.verl"])
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes (a cache, a run folder) writes here
    if name.startswith(("advshape.digits", "advshape.frontier")):
        pytest.importorskip("torch")
        pytest.importorskip("sklearn")
    if name == "advshape.integrations.verl":
        pytest.importorskip("verl")
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module) if t.examples]
    assert tests, f"{name} has no examples"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) failed in {name}"
