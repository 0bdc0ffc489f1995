"""Every code block of README.md and docs/ that claims to be Python runs, and shown output is
checked where it is shown; Sybil (https://sybil.readthedocs.io) finds and runs the blocks.

How a page's fenced blocks are treated (by the fence's info string):

- ``python``: executed, in page order, in one namespace per page (a later block may use an
  earlier block's names), in a temporary working directory; any exception fails the test.
- ``pycon``: a doctest (``>>>`` lines and their shown output), run in the same namespace,
  with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``.
- ``console`` directly after ``<!-- docs-test: output -->``: every ``$ advshape ...`` line is
  run through ``advshape.cli.main``; what it prints (stdout, then stderr) must equal the lines
  shown under it, and the exit code must be 2 if they show an ``advshape ...: error:`` line,
  else 0.
- A ``python`` block directly after ``<!-- docs-test: compile-only REASON -->`` is only
  compiled (it needs CUDA, a model checkpoint, GPUs or a long training run); the reason is
  required.

Other languages (``bash``, ``text``, ...) are not Python and are left alone. A marker of
another kind, or on a block it does not apply to, and an unclosed fence fail the page.
"""

from __future__ import annotations

import doctest
import io
import re
import shlex
from collections.abc import Iterable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.evaluators.doctest import DocTestEvaluator
from sybil.evaluators.python import PythonEvaluator
from sybil.example import SybilFailure
from sybil.parsers.abstract.doctest import DocTestStringParser
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
PAGE_IDS = [p.relative_to(ROOT).as_posix() for p in PAGES]

MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<kind>[\w-]+)\s*(?P<reason>.*?)\s*-->\s*$")
CLOSING_FENCE = re.compile(r"(`{3,}|~{3,})\s*$")
KINDS = ("compile-only", "output")


def _where(document: Document, position: int) -> str:
    line = document.text.count("\n", 0, position) + 1
    return f"{Path(document.path).name}:{line}"


def _marker_above(document: Document, start: int) -> re.Match[str] | None:
    """The docs-test marker on the last non-blank line above ``start``, if any."""
    lines = [line for line in document.text[:start].splitlines() if line.strip()]
    return MARKER.match(lines[-1]) if lines else None


def _compile_only(example: Example) -> None:
    compile(example.parsed, _where(example.document, example.region.start), "exec")


def _run_console(example: Example) -> None:
    """Run each ``$ advshape ...`` line; its output must be the lines shown under it."""
    from advshape.cli import main

    where = _where(example.document, example.region.start)
    commands: list[tuple[str, list[str]]] = []
    for line in str(example.parsed).splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        else:
            raise AssertionError(f"{where}: an output block must start with `$ advshape`")
    for command, shown in commands:
        argv = shlex.split(command)
        assert argv[0] == "advshape", f"{where}: only `advshape` commands are run"
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv[1:])
        # a shown error line (`advshape CMD: error: ...`, on stderr) means exit code 2
        error = any(re.match(r"^advshape( [\w-]+)?: error: ", line) for line in shown)
        assert code == (2 if error else 0), f"{where}: `{command}` exited {code}"
        got = [line.rstrip() for line in (out.getvalue() + err.getvalue()).rstrip("\n").splitlines()]
        want = [line.rstrip() for line in shown]
        assert got == want, f"{where}: `{command}` printed\n" + "\n".join(got)


class DocsBlocks:
    """The Sybil parser of these pages: each fenced block, treated by its language and the
    docs-test marker directly above it (the table in this module's doc)."""

    def __init__(self) -> None:
        self.lexer = FencedCodeBlockLexer(language=r".*")
        self.python = PythonEvaluator()
        self.doctests = DocTestStringParser(
            DocTestEvaluator(doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        )

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in self.lexer(document):
            where = _where(document, region.start)
            if not CLOSING_FENCE.search(document.text[region.start : region.end].rstrip()):
                raise AssertionError(f"{where}: unclosed code fence")
            lang = (region.lexemes["language"].split() or [""])[0].lower()
            source = region.lexemes["source"]
            mark = _marker_above(document, region.start)
            kind = mark["kind"] if mark else None
            if kind is not None and kind not in KINDS:
                raise AssertionError(
                    f"{where}: unknown docs-test marker {kind!r} (known: {', '.join(KINDS)})"
                )
            if lang in ("python", "py"):
                if kind == "compile-only":
                    assert mark and mark["reason"], f"{where}: say why the block only compiles"
                    region.evaluator = _compile_only
                else:
                    assert kind is None, f"{where}: {kind} is for console blocks"
                    region.evaluator = self.python
                region.parsed = source
                yield region
            elif lang == "pycon":
                assert kind is None, f"{where}: pycon blocks always run"
                for part in self.doctests(source, document.path):  # one region per `>>>`
                    part.adjust(region, source)
                    yield part
            elif kind == "output":
                assert lang == "console", f"{where}: output checks need ```console"
                region.parsed = source
                region.evaluator = _run_console
                yield region
            elif kind is not None:
                raise AssertionError(f"{where}: {kind} marks a ```python block")


SYBIL = Sybil(parsers=[DocsBlocks()])


def run_page(path: Path) -> int:
    """Run the page's blocks in order; returns how many were executed or checked (compiled
    only: not counted)."""
    document = SYBIL.parse(path)
    document.namespace["__name__"] = "__docs__"
    ran = 0
    for example in document:
        try:
            example.evaluate()
        except SybilFailure as failure:  # a doctest's wrong output, as the test's failure
            raise AssertionError(str(failure)) from None
        ran += example.region.evaluator is not _compile_only
    return ran


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_page_code_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    run_page(path)


def _blocks(path: Path) -> list[tuple[str, str | None]]:
    """(language, marker kind) of every fenced block of a page."""
    document = Document(path.read_text(), str(path))
    found = []
    for region in FencedCodeBlockLexer(language=r".*")(document):
        mark = _marker_above(document, region.start)
        lang = (region.lexemes["language"].split() or [""])[0].lower()
        found.append((lang, mark["kind"] if mark else None))
    return found


def test_docs_have_code_that_runs():
    """Guards against the test passing vacuously: the README's examples are found and run."""
    readme = _blocks(ROOT / "README.md")
    assert sum(lang in ("python", "pycon") and kind is None for lang, kind in readme) >= 2
    every = [block for p in PAGES for block in _blocks(p)]
    assert any(lang == "python" and kind is None for lang, kind in every)
    assert any(kind == "compile-only" for _, kind in every)
    assert any(lang == "pycon" for lang, _ in every)
    assert any(kind == "output" for _, kind in every)


FAILING = """\
Text.

```python
x = 1
```

```pycon
>>> x + 1
3
```
"""


def test_runner_fails_on_wrong_output_and_exceptions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def page(text: str) -> Path:
        path = tmp_path / "example.md"
        path.write_text(text)
        return path

    with pytest.raises(AssertionError, match=r"Expected:\s+3\s+Got:\s+2"):
        run_page(page(FAILING))
    with pytest.raises(ZeroDivisionError):
        run_page(page("```python\n1 / 0\n```\n"))
    with pytest.raises(SyntaxError):  # compile-only blocks are still compiled
        run_page(page("<!-- docs-test: compile-only needs a GPU -->\n```python\nx = (\n```\n"))
    with pytest.raises(AssertionError, match="say why"):
        run_page(page("<!-- docs-test: compile-only -->\n```python\nx = 1\n```\n"))
    shown = "<!-- docs-test: output -->\n```console\n$ advshape show grpo --n 2\nwrong\n```\n"
    with pytest.raises(AssertionError, match="printed"):
        run_page(page(shown))
    with pytest.raises(AssertionError, match="unknown docs-test marker 'outptu'"):
        run_page(page("<!-- docs-test: outptu -->\n```console\n$ advshape list\n```\n"))
    with pytest.raises(AssertionError, match="unclosed code fence"):
        run_page(page("```python\nx = 1\n"))
    # indented fences (inside a list item) are found and dedented
    assert run_page(page("- item:\n\n  ```python\n  y = 2\n  ```\n")) == 1
    # a page's blocks share one namespace, in order: python, then pycon, then python
    assert run_page(page("```python\nz = 2\n```\n\n```pycon\n>>> z * 3\n6\n```\n")) == 2
