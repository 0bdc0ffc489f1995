"""Every public function and method of advshape has complete type annotations.

Public: the names in ``advshape.__all__`` and in each module's ``__all__``, followed to the
module that defines them. Read from the source (``ast``), so nothing heavy is imported; mypy
(scripts/test.sh) checks that the annotations are right, this test that none is missing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "advshape"


def _module_path(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _exported(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return []


def _missing(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[str]:
    args = fn.args
    params = [*args.posonlyargs, *args.args]
    if (
        method
        and params
        and not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
    ):
        params = params[1:]  # self / cls
    params += args.kwonlyargs
    params += [a for a in (args.vararg, args.kwarg) if a is not None]
    missing = [a.arg for a in params if a.annotation is None]
    if fn.returns is None and fn.name != "__init__":
        missing.append("return")
    return missing


def _public_definitions() -> list[tuple[str, ast.AST]]:
    """(qualified name, definition) of every exported function and class."""
    found: dict[str, ast.AST] = {}
    queue = [
        (_module_name(p), name)
        for p in sorted(PACKAGE.rglob("*.py"))
        for name in _exported(ast.parse(p.read_text()))
    ]
    seen = set()
    while queue:
        module, name = queue.pop()
        if (module, name) in seen:
            continue
        seen.add((module, name))
        path = _module_path(module)
        assert path is not None, module
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if node.name == name:
                    found[f"{module}.{name}"] = node
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if (alias.asname or alias.name) == name and node.module.startswith("advshape"):
                        queue.append((node.module, alias.name))
    return sorted(found.items())


def test_the_walk_finds_the_public_api():
    names = {q.rsplit(".", 1)[1] for q, _ in _public_definitions()}
    assert {"shaper", "Shaper", "pass_at_k", "reverse_engineer", "GRPOTrainer"} <= names


@pytest.mark.parametrize("qualname,node", _public_definitions(), ids=lambda v: str(v))
def test_public_definition_is_fully_annotated(qualname: str, node: ast.AST) -> None:
    problems = []
    if isinstance(node, ast.ClassDef):
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                not item.name.startswith("_") or item.name in ("__init__", "__call__")
            ):
                missing = _missing(item, method=True)
                if missing:
                    problems.append(f"{item.name}: {', '.join(missing)}")
    else:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        missing = _missing(node, method=False)
        if missing:
            problems.append(", ".join(missing))
    assert not problems, f"{qualname} lacks annotations: {'; '.join(problems)}"
