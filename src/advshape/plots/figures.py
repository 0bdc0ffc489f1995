"""The paper's Figures 1–5 and the same plots for any shapers, with matplotlib.

Every figure is computed from the registry (effective weights w± = ρ̂A⁺, −(1 − ρ̂)A⁻ at the
group size N of the captions, N = 16) or from surrogates (closed forms, checked against
reverse-engineering in ``advshape verify``). Each is written as PNG and SVG, atomically.

K values: Fig. 2's caption names K = 2, 4 and K ≥ 6, so Fig. 2 uses K = 2, 4, 6, 8; the other
captions say "various K" and we use K = 1, 2, 4, 8 (Fig. 1), K = 1, 2, 4, 8, 16 (Fig. 4),
K = 2, 4, 8, 12 (Fig. 5). Fig. 3's λ for the two entropy curves are not given; we use 0.5 and
2 (either side of λ ≈ 1.5, where the paper says the maximiser leaves ρ = 1).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from advshape._files import file_mode
from advshape._src.closed_forms import incomplete_beta
from advshape._src.registry import shaper
from advshape._src.shaper import Shaper

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FIGURES", "plot_surrogates", "plot_weights", "save"]

N_PAPER = 16
GREEN, BLUE, RED, PURPLE, GRAY = "#2ca02c", "#1f77b4", "#d62728", "#9467bd", "#7f7f7f"


def _pyplot():
    from advshape.surrogates._optional import require

    matplotlib = require("matplotlib", "advshape plot")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 9,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "svg.fonttype": "none",  # text stays text: small, searchable SVGs
        }
    )
    return plt


def _shrink_png(path: str) -> None:
    """Re-save with a 256-colour palette: line plots lose nothing visible, files shrink ~3×."""
    from PIL import Image  # a matplotlib dependency

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=256)
    palette.save(path, format="PNG", optimize=True)


def save(fig: Figure, out_dir: str | os.PathLike[str], stem: str) -> list[Path]:
    """Write a figure as ``stem.png`` and ``stem.svg`` into ``out_dir``, each atomically.

    Each file is written to a temporary name and renamed into place, so a reader never sees
    half a figure; the PNG is re-saved with a 256-colour palette (~3× smaller, no visible
    loss for line plots).

    Args:
        fig: a matplotlib figure.
        out_dir: the folder (created if missing).
        stem: the file name without its extension.

    Returns:
        The two paths written, PNG first.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from advshape.plots.figures import save
        >>> fig, ax = plt.subplots()
        >>> _ = ax.plot([0, 1], [0, 1])
        >>> [str(path) for path in save(fig, "figures", "line")]
        ['figures/line.png', 'figures/line.svg']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Figs. 1–5, which ``advshape plot`` draws with it).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in ("png", "svg"):
        target = out / f"{stem}.{ext}"
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{stem}.", suffix=f".{ext}")
        os.close(fd)
        try:
            fig.savefig(tmp, format=ext, dpi=96, bbox_inches="tight")
            if ext == "png":
                _shrink_png(tmp)
            os.chmod(tmp, file_mode())  # mkstemp makes 0600 files
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        written.append(target)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return written


def _weights(s: Shaper, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.arange(n + 1)
    assert s.weights is not None  # registry shapers are count-based
    w_pos, w_neg = s.weights(m, np.full(n + 1, n))
    return m / n, w_pos, w_neg


def _draw_weights(ax, s: Shaper, n: int, color, label: str, scale: float = 1.0, log=False):
    rho, w_pos, w_neg = _weights(s, n)
    w_pos, w_neg = scale * w_pos, scale * np.abs(w_neg)
    for w, style, marker, suffix in ((w_pos, "-", "o", "correct"), (w_neg, "--", "s", "wrong")):
        keep = w > 0 if log else np.ones_like(w, dtype=bool)
        ax.plot(
            rho[keep],
            w[keep],
            style,
            marker=marker,
            markersize=3.5,
            color=color,
            label=f"{label} ({suffix})",
        )


def _label_weights(ax, n: int, log: bool = False) -> None:
    ax.set_xlabel(f"empirical 0/1 reward ρ̂ = N⁺/N  (N = {n})")
    ax.set_ylabel("|effective gradient weight|" + (" (log)" if log else ""))
    if log:
        ax.set_yscale("log")


def fig1(out_dir) -> list[Path]:
    """Fig. 1: effective weights of GRPO_K (Eq. 17) vs GRPO~_K (Eq. 19), N = 16."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, 4))
    for ax, name, title in (
        (axes[0], "grpo_k", "GRPO_K (Eq. 17, asymmetric)"),
        (axes[1], "grpo_k_chen", "GRPO~_K of Chen et al. (Eq. 19)"),
    ):
        for color, k in zip(colors, (1, 2, 4, 8)):
            _draw_weights(ax, shaper(name, k=k), N_PAPER, color, f"K={k}")
        ax.set_title(title)
        _label_weights(ax, N_PAPER)
    axes[0].legend(ncol=2)
    fig.suptitle("Fig. 1: ρ̂A⁺ (solid, correct) and (1−ρ̂)|A⁻| (dashed, wrong); K = 1 is GRPO")
    return save(fig, out_dir, "fig1")


def fig2(out_dir) -> list[Path]:
    """Fig. 2: mixed Pass@K/0-1 weights, Eq. (24) green, Eq. (23) blue, skew-R gray, N = 16."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharey=True)
    for ax, k in zip(axes, (2, 4, 6, 8)):
        _draw_weights(ax, shaper("mix_direct", k=k), N_PAPER, GREEN, "Eq. (24)")
        _draw_weights(ax, shaper("mix_chen", k=k), N_PAPER, BLUE, "Eq. (23)")
        rho, w_pos, _ = _weights(shaper("skew_r"), N_PAPER)
        ax.plot(rho, w_pos, ":", color=GRAY, linewidth=2, label="skew-R (1−ρ̂)A±")
        ax.set_title(f"K = {k}")
        _label_weights(ax, N_PAPER)
    axes[0].legend()
    fig.suptitle("Fig. 2: combined Pass@K effective weights (solid: correct, dashed: wrong)")
    return save(fig, out_dir, "fig2")


def fig3(out_dir) -> list[Path]:
    """Fig. 3: GRPO, skew-R (×2) and entropy-regularised weights; their normalised surrogates."""
    plt = _pyplot()
    fig, (ax_w, ax_f) = plt.subplots(1, 2, figsize=(11, 4.2))
    curves = (
        ("grpo", 1.0, BLUE, "GRPO", "--"),
        ("skew_r", 2.0, GREEN, "skew-R ×2", "-"),
        ("entropy:lam=0.5", 1.0, RED, "entropy λ=0.5", "-"),
        ("entropy:lam=2", 1.0, PURPLE, "entropy λ=2", "-"),
    )
    rho = np.linspace(0.0, 1.0, 401)
    for spec, scale, color, label, style in curves:
        s = shaper(spec)
        r_hat, w_pos, _ = _weights(s, N_PAPER)  # symmetric: w⁺ = w⁻
        ax_w.plot(r_hat, scale * w_pos, style, marker="o", markersize=3.5, color=color, label=label)
        assert s.surrogate is not None  # these registry shapers have closed forms
        f = s.surrogate(rho)
        ax_f.plot(
            rho, (f - f[0]) / (f[-1] - f[0]), style, color=color, label=label.replace(" ×2", "")
        )
    ax_w.set_title("(a) effective gradient weight")
    ax_w.set_xlabel(f"empirical 0/1 reward ρ̂ = N⁺/N  (N = {N_PAPER})")
    ax_w.set_ylabel("effective gradient weight w± (signed)")
    ax_f.set_title("(b) surrogate reward, normalised F(0) = 0, F(1) = 1")
    ax_f.set_xlabel("population 0/1 reward ρ")
    ax_f.set_ylabel("F(ρ)")
    ax_w.legend()
    ax_f.legend()
    fig.suptitle("Fig. 3: regularised surrogates (skew-R weights ×2: equal areas)")
    return save(fig, out_dir, "fig3")


def fig4(out_dir) -> list[Path]:
    """Fig. 4: GRPO_K surrogates (Eq. 35) vs the GRPO~_K one, against ρ_K, normalised."""
    from advshape.surrogates.reverse import reverse_engineer

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    rho_k = np.linspace(0.0, 1.0, 401)
    colors = plt.get_cmap("plasma")(np.linspace(0.0, 0.85, 5))
    for color, k in zip(colors, (1, 2, 4, 8, 16)):
        with np.errstate(divide="ignore"):  # ρ_K = 1 ↔ ρ = 1
            rho = -np.expm1(np.log1p(-rho_k) / k)
        f = incomplete_beta(rho, 0.5, k - 0.5)
        ax.plot(rho_k, f / f[-1], color=color, label=f"GRPO_K, K={k} (Eq. 35)")
        dots = np.linspace(0.05, 0.95, 10)
        curve = reverse_engineer(shaper("grpo_k", k=k))
        ax.plot(dots, curve.normalised(1 - (1 - dots) ** (1 / k)), "o", color=color, markersize=4)
    ax.plot(rho_k, 2 / np.pi * np.arcsin(np.sqrt(rho_k)), "k--", label="GRPO~_K: (2/π)·arcsin√ρ_K")
    ax.set_xlabel("population Pass@K reward ρ_K")
    ax.set_ylabel("surrogate reward (normalised)")
    ax.set_title("Fig. 4: surrogates vs ρ_K (dots: reverse-engineered)")
    ax.legend(loc="lower right")
    return save(fig, out_dir, "fig4")


def fig5(out_dir) -> list[Path]:
    """Fig. 5: |effective weights| (log) of GRPO_K, GRPO~_K and the biased scaler, N = 16."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharey=True)
    for ax, k in zip(axes, (2, 4, 8, 12)):
        _draw_weights(ax, shaper("grpo_k", k=k), N_PAPER, GREEN, "GRPO_K", log=True)
        _draw_weights(ax, shaper("grpo_k_chen", k=k), N_PAPER, BLUE, "GRPO~_K", log=True)
        _draw_weights(ax, shaper("biased_k", k=k), N_PAPER, RED, "biased", log=True)
        ax.axvline(1 - (k - 1) / N_PAPER, color=GRAY, linewidth=1)
        ax.set_title(f"K = {k}  (gray: ρ̂ = 1 − (K−1)/N)")
        _label_weights(ax, N_PAPER, log=True)
    axes[0].legend(fontsize=8)
    fig.suptitle("Fig. 5: absolute effective weights, correct (solid) and wrong (dashed)")
    return save(fig, out_dir, "fig5")


FIGURES = {"fig1": fig1, "fig2": fig2, "fig3": fig3, "fig4": fig4, "fig5": fig5}
"""The paper's Figures 1–5 by name: ``FIGURES["fig1"](out_dir)`` draws Fig. 1 into ``out_dir``
and returns the paths of its PNG and SVG (``advshape plot --figure fig1``)."""


def plot_weights(
    shapers: Sequence[Shaper], n: int, out_dir: str | os.PathLike[str], stem: str = "weights"
) -> list[Path]:
    """The effective gradient weights of shapers against ρ̂ = N⁺/N, at one group size N.

        w⁺ = ρ̂·A⁺ (solid),   |w⁻| = (1 − ρ̂)·|A⁻| (dashed),   N⁺ = 0..N

    the quantities of the paper's Figs. 1, 2 and 5, for any count-based shapers.

    Args:
        shapers: the count-based shapers, one colour each.
        n: the group size N.
        out_dir: the folder of the figure.
        stem: the file name without its extension.

    Returns:
        The paths of the PNG and the SVG.

    Example:
        >>> import advshape
        >>> from advshape.plots.figures import plot_weights
        >>> shapers = [advshape.shaper("grpo"), advshape.shaper("grpo_k:k=4")]
        >>> [path.name for path in plot_weights(shapers, 16, "figures")]
        ['weights.png', 'weights.svg']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1, middle column; Figs. 1, 2 and 5).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.6))
    colors = plt.get_cmap("tab10")(np.arange(len(shapers)) % 10)
    for color, s in zip(colors, shapers):
        _draw_weights(ax, s, n, color, s.spec)
    _label_weights(ax, n)
    ax.set_title("effective gradient weights (solid: correct, dashed: wrong)")
    ax.legend()
    return save(fig, out_dir, stem)


def plot_surrogates(
    shapers: Sequence[Shaper], n: int, out_dir: str | os.PathLike[str], stem: str = "surrogate"
) -> list[Path]:
    """The surrogate rewards shapers ascend: the population F and the exact F_N at one N.

        F̄ = (F − F(0))/(F(1) − F(0))

    Population surrogates solid (the closed form, else reverse-engineered), the exact finite-N
    surrogate F_N dashed, all normalised; a surrogate that diverges (MaxRL's log ρ) has no
    normalisation and only its F_N is drawn.

    Args:
        shapers: the count-based shapers, one colour each.
        n: the group size N of F_N.
        out_dir: the folder of the figure.
        stem: the file name without its extension.

    Returns:
        The paths of the PNG and the SVG.

    Example:
        >>> import advshape
        >>> from advshape.plots.figures import plot_surrogates
        >>> [path.name for path in plot_surrogates([advshape.shaper("grpo")], 8, "figures")]
        ['surrogate.png', 'surrogate.svg']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 5.1, Lemma 2; Figs. 3 and 4).
    """
    from advshape.surrogates.reverse import reverse_engineer

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.6))
    rho = np.linspace(0.0, 1.0, 401)
    colors = plt.get_cmap("tab10")(np.arange(len(shapers)) % 10)
    for color, s in zip(colors, shapers):
        try:
            f = s.surrogate(rho) if s.surrogate is not None else reverse_engineer(s)(rho)
        except ValueError:  # no population surrogate (grpo_passk): F_N only
            f = None
        if f is not None and np.isfinite(f[0]) and np.isfinite(f[-1]):
            ax.plot(rho, (f - f[0]) / (f[-1] - f[0]), "-", color=color, label=f"{s.spec} (N → ∞)")
        else:  # log-divergent (maxrl's log ρ) or none: no [0, 1] normalisation exists
            ax.plot([], [], "-", color=color, label=f"{s.spec} (N → ∞: not normalisable)")
        f_n = reverse_engineer(s, n=n)(rho)
        ax.plot(rho, (f_n - f_n[0]) / (f_n[-1] - f_n[0]), "--", color=color, label=f"exact F_{n}")
    ax.set_xlabel("population 0/1 reward ρ")
    ax.set_ylabel("surrogate F(ρ), normalised")
    ax.set_title("surrogate rewards ascended in expectation")
    ax.legend()
    return save(fig, out_dir, stem)
