"""Regenerate the README's shaper table from the registry (between the shaper-table markers)."""

from pathlib import Path

from advshape.cli.registry_cmds import _render, registry_table

START, END = "<!-- shaper-table:start -->", "<!-- shaper-table:end -->"


def main() -> None:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    table = _render(*registry_table(), "markdown")
    readme.write_text(f"{head}{START}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    main()
