"""Every code block of README.md and docs/ that claims to be Python runs, and shown output is
checked where it is shown.

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

Other languages (``bash``, ``text``, ...) are not Python and are left alone.
"""

from __future__ import annotations

import doctest
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
PAGE_IDS = [p.relative_to(ROOT).as_posix() for p in PAGES]

MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<kind>[\w-]+)\s*(?P<reason>.*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
KINDS = ("compile-only", "output")


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    marker: str | None  # "compile-only", "output" or None
    reason: str

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path, text: str | None = None) -> list[Block]:
    """The fenced code blocks of a Markdown file, with the docs-test marker just above each."""
    lines = (path.read_text() if text is None else text).splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = len(m["indent"]), m["fence"]
        lang = (m["info"].split() or [""])[0].lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not re.match(rf"^\s*{re.escape(fence)}\s*$", lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        if j == len(lines):
            raise AssertionError(f"{path.relative_to(ROOT)}:{i + 1}: unclosed code fence")
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mark = MARKER.match(lines[k]) if k >= 0 else None
        if mark and mark["kind"] not in KINDS:
            raise AssertionError(
                f"{path.relative_to(ROOT)}:{k + 1}: unknown docs-test marker {mark['kind']!r} "
                f"(known: {', '.join(KINDS)})"
            )
        found.append(
            Block(
                path,
                i + 1,
                lang,
                "\n".join(body) + "\n",
                mark["kind"] if mark else None,
                mark["reason"] if mark else "",
            )
        )
        i = j + 1
    return found


def _check_console(block: Block, capsys: pytest.CaptureFixture[str]) -> None:
    from advshape.cli import main

    commands: list[tuple[str, list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        else:
            raise AssertionError(f"{block.where()}: an output block must start with `$ advshape`")
    for command, shown in commands:
        argv = shlex.split(command)
        assert argv[0] == "advshape", f"{block.where()}: only `advshape` commands are run"
        capsys.readouterr()
        code = main(argv[1:])
        captured = capsys.readouterr()
        # a shown error line (`advshape CMD: error: ...`, on stderr) means exit code 2
        error = any(re.match(r"^advshape( [\w-]+)?: error: ", line) for line in shown)
        assert code == (2 if error else 0), f"{block.where()}: `{command}` exited {code}"
        got = [line.rstrip() for line in (captured.out + captured.err).rstrip("\n").splitlines()]
        want = [line.rstrip() for line in shown]
        assert got == want, f"{block.where()}: `{command}` printed\n" + "\n".join(got)


def run_page(path: Path, capsys: pytest.CaptureFixture[str], text: str | None = None) -> int:
    """Run the page's blocks; returns how many were executed or checked (not just compiled)."""
    namespace: dict[str, object] = {"__name__": "__docs__"}
    ran = 0
    for block in blocks(path, text):
        if block.lang in ("python", "py"):
            code = compile(block.code, block.where(), "exec")
            if block.marker == "compile-only":
                assert block.reason, f"{block.where()}: say why the block only compiles"
                continue
            assert block.marker is None, f"{block.where()}: {block.marker} is for console blocks"
            exec(code, namespace)
            ran += 1
        elif block.lang == "pycon":
            assert block.marker is None, f"{block.where()}: pycon blocks always run"
            test = doctest.DocTestParser().get_doctest(
                block.code, namespace, block.where(), str(block.path), block.line
            )
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            )
            report: list[str] = []
            runner.run(test, out=report.append, clear_globs=False)
            namespace.update(test.globs)  # DocTest ran on a copy: later blocks see its names
            assert runner.failures == 0, "".join(report)
            ran += 1
        elif block.marker == "output":
            assert block.lang == "console", f"{block.where()}: output checks need ```console"
            _check_console(block, capsys)
            ran += 1
        elif block.marker is not None:
            raise AssertionError(f"{block.where()}: {block.marker} marks a ```python block")
    return ran


@pytest.mark.parametrize("path", PAGES, ids=PAGE_IDS)
def test_page_code_runs(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    run_page(path, capsys)


def test_docs_have_code_that_runs(capsys, tmp_path, monkeypatch):
    """Guards against the test passing vacuously: the README's examples are found and run."""
    readme = blocks(ROOT / "README.md")
    assert sum(b.lang in ("python", "pycon") and b.marker is None for b in readme) >= 2
    assert any(b.lang == "python" and b.marker is None for p in PAGES for b in blocks(p))
    assert any(b.marker == "compile-only" for p in PAGES for b in blocks(p))
    assert any(b.lang == "pycon" for p in PAGES for b in blocks(p))
    assert any(b.marker == "output" for p in PAGES for b in blocks(p))


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


def test_runner_fails_on_wrong_output_and_exceptions(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = ROOT / "docs" / "example.md"  # only its name is used
    with pytest.raises(AssertionError, match=r"Expected:\s+3\s+Got:\s+2"):
        run_page(page, capsys, FAILING)
    with pytest.raises(ZeroDivisionError):
        run_page(page, capsys, "```python\n1 / 0\n```\n")
    with pytest.raises(SyntaxError):  # compile-only blocks are still compiled
        run_page(
            page, capsys, "<!-- docs-test: compile-only needs a GPU -->\n```python\nx = (\n```\n"
        )
    with pytest.raises(AssertionError, match="say why"):
        run_page(page, capsys, "<!-- docs-test: compile-only -->\n```python\nx = 1\n```\n")
    shown = "<!-- docs-test: output -->\n```console\n$ advshape show grpo --n 2\nwrong\n```\n"
    with pytest.raises(AssertionError, match="printed"):
        run_page(page, capsys, shown)
    # indented fences (inside a list item) are found and dedented
    assert run_page(page, capsys, "- item:\n\n  ```python\n  y = 2\n  ```\n") == 1
