"""The import structure of ``src/advshape``: no module imports itself back through others, and
the command line builds its parsers without torch or transformers.

Imports are read from the source (``ast``), function-local ones included: an import circle is
a tangle to read even when Python resolves it at run time. ``if TYPE_CHECKING:`` imports are
left out (they never run). ``from package import name`` is an arrow to the submodule when
``name`` is one, else to the package.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "advshape"

# Circles known and owned elsewhere, each with who removes it. A listed circle that no longer
# exists fails the test, so this list only ever shrinks.
KNOWN_CIRCLES: dict[frozenset[str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The advshape modules that module ``name`` imports, wherever in it."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def target(module: str) -> str | None:
        while module and module not in modules:
            module = module.rpartition(".")[0]
        return module or None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "advshape" and (t := target(alias.name)):
                    found.add(t)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            if base.split(".")[0] == "advshape":
                for alias in node.names:
                    t = target(f"{base}.{alias.name}") if f"{base}.{alias.name}" in modules else None
                    if t is None:
                        t = target(base)
                    if t is not None:
                        found.add(t)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_the_circle_finder_finds_circles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [frozenset({"a", "b", "c"})]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_is_read_from_the_source():
    graph = import_graph()
    assert "advshape.lm.config" in graph["advshape.lm.train"]
    assert "advshape._files" in graph["advshape._run_folder"]
    # a function-local import counts
    assert "advshape.cli.dataclass_options" in graph["advshape.cli"]


def test_no_import_circles_in_src():
    found = set(circles(import_graph()))
    new = [sorted(c) for c in found if c not in KNOWN_CIRCLES]
    assert not new, f"import circles: {new}"
    gone = [sorted(c) for c in KNOWN_CIRCLES if c not in found]
    assert not gone, f"{gone} no longer form a circle: remove them from KNOWN_CIRCLES"


def test_no_module_of_lm_imports_the_trainer():
    graph = import_graph()
    importers = sorted(m for m, targets in graph.items() if "advshape.lm.train" in targets)
    assert all(not m.startswith("advshape.lm.") for m in importers), importers


def test_the_command_line_builds_its_parsers_without_torch():
    code = (
        "import sys; from advshape.cli import build_parser, options_class, COMMANDS\n"
        "build_parser()\n"
        "[options_class(name) for name in COMMANDS]\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'matplotlib', 'tqdm') "
        "if m in sys.modules)\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
