"""Every ``Example:`` in a docstring of the package runs as a doctest and shows what it prints."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import advshape


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(advshape.__path__, "advshape."):
        spec = importlib.util.find_spec(info.name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        with open(spec.origin, encoding="utf-8") as f:
            if ">>> " in f.read():
                names.append(info.name)
    return sorted(names)


MODULES = _modules_with_examples()


def test_the_frontier_and_digits_modules_are_covered():
    assert "advshape.frontier.stats" in MODULES and "advshape.digits.train" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write (caches, run folders) write here
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
