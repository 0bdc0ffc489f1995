"""Regenerate the shaper table from the registry, between the shaper-table markers, in the
README and on the docs' shapers page (tests/test_cli.py keeps both equal to the registry)."""

from pathlib import Path

from advshape.cli.registry_cmds import _render, registry_table

START, END = "<!-- shaper-table:start -->", "<!-- shaper-table:end -->"
ROOT = Path(__file__).resolve().parent.parent
FILES = (ROOT / "README.md", ROOT / "docs" / "shapers.md")


def main() -> None:
    table = _render(*registry_table(), "markdown")
    for path in FILES:
        text = path.read_text()
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        path.write_text(f"{head}{START}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    main()
