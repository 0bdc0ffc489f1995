"""The public API is documented like optax's, and every public name is in the API reference.

For each module of ``MODULES`` (its ``__all__`` is its public API):

- ``__all__`` is accurate: every name exists, none is private, none is listed twice;
- every public function and class has a Google-style docstring: a one-line summary, ``Args:``
  naming each parameter of its signature (``Attributes:`` for a record's fields, or a string
  under each field, as the options' dataclasses have for tyro), ``Returns:``
  (``Yields:`` for a generator) unless it returns None, an ``Example:`` with doctest lines
  (tests/test_docstring_examples.py runs them) and ``References:`` whose first arXiv link is
  the seed paper's, https://arxiv.org/abs/2510.23049;
- every public constant has a docstring (mkdocstrings shows no undocumented attribute);
- every public name is rendered by a ``::: path`` directive of ``docs/reference/``: the whole
  module (mkdocs.yml's ``filters: public`` shows its ``__all__``), an explicit ``members:``
  list, or the name itself, here or in the module that defines it.

A class that extends another package's dataclass (SkyRL's configs) documents the fields it adds
or redefines; the inherited ones are that package's to document.

A module whose optional dependency is not installed here (``advshape.integrations.skyrl``: SkyRL
has its own environment, ``.venv-skyrl``) is skipped by the checks that import it, naming the
dependency; its place in the reference is checked all the same, from the source.

A module joins by adding its name to ``MODULES``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests._optional import missing_dependency

ROOT = Path(__file__).resolve().parents[1]
SEED_PAPER = "https://arxiv.org/abs/2510.23049"

MODULES = [
    "advshape",
    "advshape.surrogates",
    "advshape.surrogates.explain",
    "advshape.surrogates.finite",
    "advshape.surrogates.forward",
    "advshape.surrogates.reverse",
    "advshape.surrogates.table",
    "advshape.surrogates.verify",
    "advshape.bandit",
    "advshape.bandit.model",
    "advshape.bandit.dynamics",
    "advshape.bandit.run",
    "advshape.lm.config",
    "advshape.lm.setup",
    "advshape.lm.train",
    "advshape.lm.loss",
    "advshape.lm.compare",
    "advshape.lm.probe",
    "advshape.lm.evaluate",
    "advshape.lm.stats",
    "advshape.lm.tasks",
    "advshape.lm.tasks.problems",
    "advshape.lm.tasks.gym",
    "advshape.lm.tasks.number_theory",
    "advshape.lm.tasks.palindrome",
    "advshape.lm.tasks.subset_sum",
    "advshape.lm.model",
    "advshape.lm.warmstart",
    "advshape.lm.rollout",
    "advshape.lm.report",
    "advshape.plots.figures",
    "advshape.cli",
    "advshape.cli.dataclass_options",
    "advshape.frontier.families",
    "advshape.frontier.stats",
    "advshape.frontier.pareto",
    "advshape.frontier.testbeds",
    "advshape.frontier.executors",
    "advshape.frontier.analysis",
    "advshape.frontier.run",
    "advshape.frontier.report",
    "advshape.digits.data",
    "advshape.digits.train",
    "advshape.integrations.trl",
    "advshape.integrations.verl",
    "advshape.integrations.probes",
    "advshape.integrations.trainers",
    "advshape.integrations.skyrl",
]

_SECTION = re.compile(r"^(\w[\w ]*):\s*$")
_ENTRY = re.compile(r"^    (\*{0,2}\w+)\b[^:]*:")


def _sections(doc: str) -> dict[str, str]:
    """A Google-style docstring's sections (after ``inspect.cleandoc``), by title."""
    found: dict[str, list[str]] = {"": []}
    title = ""
    for line in doc.splitlines():
        match = _SECTION.match(line)
        if match and not line.startswith(" "):
            title = match.group(1)
            found[title] = []
        else:
            found[title].append(line)
    return {k: "\n".join(v) for k, v in found.items()}


def _documented_names(section: str) -> set[str]:
    return {m.group(1).lstrip("*") for line in section.splitlines() if (m := _ENTRY.match(line))}


def _inherited_fields(obj: Any) -> set[str]:
    """The fields a class inherits, unchanged, from another package's dataclass."""
    if not inspect.isclass(obj):
        return set()
    own = set(vars(obj).get("__annotations__", {}))
    inherited = set()
    for base in obj.__mro__[1:]:
        if dataclasses.is_dataclass(base) and not base.__module__.startswith("advshape"):
            inherited |= {f.name for f in dataclasses.fields(base)}
    return inherited - own


def _parameters(obj: Any) -> list[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):  # some builtins and C types have none
        return []
    inherited = _inherited_fields(obj)
    # a record's private fields (``_cache``) are set by its constructor functions, not by users
    return [p for p in signature.parameters if not p.startswith("_") and p not in inherited]


def _field_docstrings(obj: Any) -> set[str]:
    """The fields of a class documented by a string under the field (as a dataclass of options
    documents them for tyro; mkdocstrings shows them as the class's attributes)."""
    if not inspect.isclass(obj):
        return set()
    try:
        static = _static(f"{obj.__module__}.{obj.__qualname__}")
    except KeyError:
        return set()
    return {n for n, m in static.all_members.items() if m.is_attribute and m.has_docstring}


def _returns_none(obj: Any) -> bool:
    annotation = inspect.signature(obj).return_annotation
    return annotation in (None, "None")


def docstring_problems(obj: Any) -> list[str]:
    """What the docstring of a public function or class lacks, as short phrases."""
    doc = obj.__doc__
    if not doc or not doc.strip():
        return ["no docstring"]
    doc = inspect.cleandoc(doc)
    problems = []
    lines = doc.splitlines()
    if len(lines) > 1 and lines[1].strip():
        problems.append("a summary of more than one line")
    sections = _sections(doc)
    params = _parameters(obj)
    if params:
        documented = (
            _documented_names(sections.get("Args", ""))
            | _documented_names(sections.get("Attributes", ""))
            | _field_docstrings(obj)
        )
        missing = [p for p in params if p not in documented]
        if missing:
            problems.append(f"Args without {', '.join(missing)}")
        extra = sorted(documented - set(params)) if "Args" in sections else []
        if extra and not inspect.isclass(obj):
            problems.append(f"Args naming no parameter: {', '.join(extra)}")
    if inspect.isfunction(obj) and not _returns_none(obj):
        wanted = "Yields" if inspect.isgeneratorfunction(inspect.unwrap(obj)) else "Returns"
        if wanted not in sections:
            problems.append(f"no {wanted}:")
    example = sections.get("Example", sections.get("Examples"))
    if example is None or ">>> " not in example:
        problems.append("no Example: with doctest lines")
    links = re.findall(r"https://arxiv\.org/abs/\d{4}\.\d{4,5}", sections.get("References", ""))
    if not links:
        problems.append("no References: with arXiv links")
    elif links[0] != SEED_PAPER:
        problems.append(f"References: start with {links[0]}, not the seed paper")
    return problems


@functools.cache
def _griffe_package() -> Any:
    griffe = pytest.importorskip("griffe")
    return griffe.load("advshape", search_paths=[str(ROOT / "src")], resolve_aliases=True)


def _static(path: str) -> Any:
    """The griffe object of ``advshape.x.y`` (read from the source, as mkdocstrings reads it)."""
    obj = _griffe_package()
    for part in path.split(".")[1:]:
        obj = obj[part]
    return obj


def _is_constant(obj: Any) -> bool:
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))


def _import(module_name: str) -> Any:
    """The module, or a skip naming the optional dependency it needs and this environment lacks."""
    try:
        return importlib.import_module(module_name)
    except ImportError as err:
        missing = missing_dependency(err)
        if missing is None:
            raise
        pytest.skip(f"{module_name} needs {missing}, which is not installed")


def _public(module_name: str) -> list[tuple[str, Any]]:
    module = _import(module_name)
    return [(name, getattr(module, name)) for name in module.__all__]


@pytest.mark.parametrize("module_name", MODULES)
def test_all_is_accurate(module_name):
    module = _import(module_name)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{module_name} has no __all__"
    assert len(set(names)) == len(names), f"{module_name}.__all__ lists a name twice"
    for name in names:
        assert hasattr(module, name), f"{module_name}.__all__ lists {name}, which it lacks"
        private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
        assert not private, f"{module_name}.__all__ lists the private name {name}"


@pytest.mark.parametrize("module_name", MODULES)
def test_public_docstrings_are_complete(module_name):
    problems = []
    for name, obj in _public(module_name):
        if _is_constant(obj):
            if not _static(f"{module_name}.{name}").has_docstring:
                problems.append(f"{name}: a constant without a docstring")
            continue
        problems += [f"{name}: {p}" for p in docstring_problems(obj)]
    assert not problems, f"{module_name}:\n  " + "\n  ".join(problems)


def _directives() -> list[tuple[str, list[str] | None]]:
    """Every ``::: path`` of docs/reference/ and its explicit ``members:`` list, if any."""
    found = []
    for page in sorted((ROOT / "docs" / "reference").glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("::: "):
                continue
            block = []
            for following in lines[i + 1 :]:
                if following.strip() and not following.startswith(" "):
                    break
                block.append(following)
            options = (yaml.safe_load("\n".join(block)) or {}).get("options", {}) or {}
            found.append((line[4:].strip(), options.get("members")))
    return found


def _home(path: str, obj: Any) -> str:
    """Where an object is defined: ``module.qualname``, or for a constant the path griffe
    resolves its import to (``advshape.REQUIRED`` -> ``advshape._src.registry.REQUIRED``)."""
    if not _is_constant(obj) and hasattr(obj, "__qualname__"):
        return f"{obj.__module__}.{obj.__qualname__}"
    return str(_static(path).canonical_path)


@functools.cache
def _rendered() -> frozenset[str]:
    """Where the objects the reference renders are defined, read statically (no module is
    imported for it). A module's directive without ``members:`` renders its public names (its
    ``__all__``) that have a docstring, as mkdocstrings does with mkdocs.yml's options."""
    homes = set()
    for target, members in _directives():
        found = _static(target)
        if not found.is_module:
            homes.add(str(found.canonical_path))
            continue
        if members is None:
            members = [n for n, m in found.members.items() if m.is_public and m.has_docstring]
        homes.update(str(_static(f"{target}.{n}").canonical_path) for n in members)
    return frozenset(homes)


def _public_homes(module_name: str) -> list[tuple[str, str]]:
    """(name, where it is defined) of each public name; read from the source (griffe) when the
    module cannot be imported here for want of an optional dependency."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        if missing_dependency(err) is None:
            raise
        static = _static(module_name)
        return [
            (str(name), str(_static(f"{module_name}.{name}").canonical_path))
            for name in static.exports or ()
        ]
    return [
        (name, _home(f"{module_name}.{name}", getattr(module, name))) for name in module.__all__
    ]


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_is_in_the_reference(module_name):
    missing = [name for name, home in _public_homes(module_name) if home not in _rendered()]
    assert not missing, (
        f"{module_name}: {', '.join(missing)} not in docs/reference/ (add a '::: {module_name}' "
        "directive or the names to its members: list)"
    )


def test_the_checks_can_fail():
    """The docstring rules on a docstring that breaks each of them."""

    def bad(x: int, y: int) -> int:
        """Adds.
        Two lines of summary.

        Args:
            x: one.

        Example:
            x + y

        References:
            https://arxiv.org/abs/2107.03374 first, then https://arxiv.org/abs/2510.23049.
        """
        return x + y

    assert docstring_problems(bad) == [
        "a summary of more than one line",
        "Args without y",
        "no Returns:",
        "no Example: with doctest lines",
        "References: start with https://arxiv.org/abs/2107.03374, not the seed paper",
    ]
    assert docstring_problems(docstring_problems) != []  # this module's helpers are not public

    @dataclasses.dataclass
    class Theirs:  # another package's dataclass (defined outside advshape)
        x: int = 0

    @dataclasses.dataclass
    class Ours(Theirs):
        """Theirs plus y.

        Example:
            >>> Ours().y

        References:
            https://arxiv.org/abs/2510.23049.
        """

        y: int = 0

    assert docstring_problems(Ours) == ["Args without y"]  # x is Theirs' to document
