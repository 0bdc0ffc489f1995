"""Regenerate the PSR/NSR/W-REINFORCE table of docs/surrogates.md (between the zhu-variance markers).

Every number is exact rational arithmetic (advshape.surrogates.verify.bernoulli_update_moments),
rounded for display: rerun this script to reproduce it.
"""

from fractions import Fraction
from pathlib import Path

from advshape.surrogates.verify import zhu_relative_std

START, END = "<!-- zhu-variance:start -->", "<!-- zhu-variance:end -->"
RHOS = (Fraction(1, 10), Fraction(1, 2), Fraction(9, 10))


def render() -> str:
    head = "| shaper (A⁺, A⁻) | N | " + " | ".join(f"ρ = {float(r):g}" for r in RHOS) + " |"
    lines = [head, "|---|---|" + "---|" * len(RHOS)]
    for n in (8, 32):
        for name, stds in zhu_relative_std(n, RHOS):
            lines.append(f"| {name} | {n} | " + " | ".join(f"{v:.3f}" for v in stds) + " |")
    return "\n".join(lines)


def main() -> None:
    page = Path(__file__).resolve().parent.parent / "docs" / "surrogates.md"
    text = page.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    page.write_text(f"{head}{START}\n{render()}\n{END}{tail}")


if __name__ == "__main__":
    main()
