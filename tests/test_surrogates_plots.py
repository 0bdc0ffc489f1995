"""Figures: every paper figure and the user plots are written as PNG + SVG."""

from __future__ import annotations

import stat

import pytest
from PIL import Image

import advshape
from advshape.plots import figures


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_paper_figures(tmp_path, name):
    written = figures.FIGURES[name](tmp_path)
    assert [p.name for p in written] == [f"{name}.png", f"{name}.svg"]
    with Image.open(written[0]) as image:
        width, height = image.size
    assert width > 500 and height > 300
    assert written[1].read_text().lstrip().startswith("<?xml")
    assert stat.S_IMODE(written[0].stat().st_mode) & 0o044  # readable by others, not 0600
    assert not list(tmp_path.glob(".*"))  # no temp files left behind


def test_user_weights_and_surrogates(tmp_path):
    shapers = [advshape.shaper("grpo_k:k=2"), advshape.shaper("F=rho**0.5")]
    w = figures.plot_weights(shapers, 8, tmp_path, stem="w")
    s = figures.plot_surrogates(shapers, 8, tmp_path, stem="s")
    assert {p.name for p in w + s} == {"w.png", "w.svg", "s.png", "s.svg"}
    svg = (tmp_path / "s.svg").read_text()
    assert "grpo_k:k=2" in svg and "F=rho**0.5" in svg  # legends are real text
