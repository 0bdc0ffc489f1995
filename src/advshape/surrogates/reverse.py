"""Reverse-engineering: the surrogate reward F(ρ) that a count-based shaper ascends.

Population (N → ∞, paper Sec. 5.1, Lemma 2, App. C.4). Write the update of a group as
w⁺∇̂₊ − w⁻∇̂₋ with w⁺ = ρ̂A⁺, w⁻ = −(1 − ρ̂)A⁻. As N → ∞, ρ̂ → ρ, ∇̂₊ → ∇ρ/ρ and
∇̂₋ → −∇ρ/(1 − ρ), so the update tends to F'(ρ)∇ρ with

    F'(ρ) = w⁺(ρ)/ρ + w⁻(ρ)/(1 − ρ),        (asymmetric w⁺ ≠ w⁻ allowed)

and the shaper ascends F(ρ) = ∫₀^ρ F'(t) dt. We need nothing but the shaper's score
function ``scores(n_pos, n)``:

1. *Limit weights.* At ρ = m/M the weights of groups of N = M and N = 2M (with N⁺ = ρN) are
   exact; their finite-N error is a power series in 1/N, so the Richardson combination
   2·w_{2M} − w_M is the limit to O(1/M²). M = 2¹⁹ by default: exact binomial-ratio tables make
   N = 2²⁰ ≈ 10⁶ cheap.
2. *Singular ends.* F' typically blows up like ρ^{−1/2} or log ρ at the ends (GRPO-type
   normalisations). With ρ = sin²θ, F(ρ) = ∫₀^θ h(φ) dφ where
   h = F'·dρ/dθ = 2(w⁺·cos/sin + w⁻·sin/cos) is bounded for every shaper in the paper.
   The grid ρ = m/M is dense in θ in the middle and spaced ~√(1/M) at the ends.
3. *Quadrature.* Cumulative trapezoid rule in θ on that grid; the end values h(0), h(π/2)
   (0/0 in the formula) are extrapolated quadratically from the nearest grid points. Between
   grid points F is a cubic Hermite interpolant in θ (values F, slopes h), so F is available at
   any ρ ∈ [0, 1], ends included.

The result agrees with every closed form in the registry to ~1e-8 after normalising
F(0) = 0, F(1) = 1 (tests/test_surrogates_reverse.py measures it).

Finite N (beyond the paper): :func:`reverse_engineer` with ``n=N`` returns the exact
F_N(ρ) = ∫₀^ρ c_N, c_N the exact expected-update coefficient
(:func:`advshape.expected_update_coefficient`, :func:`advshape.finite_n_surrogate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src.closed_forms import as_rho, normalise
from advshape._src.expectation import expected_update_coefficient, finite_n_surrogate
from advshape._src.registry import shaper as build_shaper
from advshape._src.shaper import Shaper

__all__ = ["DEFAULT_RESOLUTION", "SurrogateCurve", "limit_weights", "reverse_engineer"]

Array = NDArray[np.float64]

DEFAULT_RESOLUTION = 2**19  # grid ρ = m/M; weights from N = M and N = 2M ≈ 10⁶


def count_based(shaper: Shaper | str) -> Shaper:
    """The shaper (built from a spec if needed), checked to be count-based."""
    s = build_shaper(shaper) if isinstance(shaper, str) else shaper
    if not isinstance(s, Shaper):
        raise ValueError(
            f"expected an advshape.Shaper or a spec string like 'grpo_k:k=4', got {type(s).__name__}"
        )
    if s.scores is None or not s.info.count_based:
        raise ValueError(
            f"shaper {s.spec!r} is not count-based: its advantages do not depend on the rewards only "
            "through (N+, N), so it has no score function to reverse-engineer; wrap a score "
            "function with advshape.count_shaper(name, scores) instead"
        )
    return s


def limit_weights(shaper: Shaper | str, resolution: int = DEFAULT_RESOLUTION):
    """N → ∞ limit weights (w⁺, w⁻) on the grid ρ = m/M, m = 0..M (M = ``resolution``).

    Richardson extrapolation 2·w_{2M}(ρ) − w_M(ρ) of the exact weights at N = 2M and N = M
    (both have N⁺ = ρN integral): the O(1/N) error cancels, O(1/M²) remains.
    Returns ``(rho, w_pos, w_neg)``.
    """
    s = count_based(shaper)
    m = int(resolution)
    if m < 64:
        raise ValueError(f"resolution must be at least 64 grid cells, got {resolution}")
    counts = np.arange(m + 1)
    w_pos_fine, w_neg_fine = s.weights(2 * counts, np.full(m + 1, 2 * m))
    w_pos_coarse, w_neg_coarse = s.weights(counts, np.full(m + 1, m))
    w_pos = 2.0 * w_pos_fine - w_pos_coarse
    w_neg = 2.0 * w_neg_fine - w_neg_coarse
    if not (np.all(np.isfinite(w_pos)) and np.all(np.isfinite(w_neg))):
        raise ValueError(
            f"shaper {s.spec!r} has non-finite effective weights at large N; "
            "its scores must be finite for every N+ = 0..N"
        )
    return counts / m, w_pos, w_neg


# End cells: h(θ) = F'·dρ/dθ is bounded but may be non-smooth at the ends, e.g. h − h(0) ∝ θ·log θ
# for the entropy regulariser, where the trapezoid rule and a Hermite cubic lose accuracy on the
# few wide cells near θ = 0 (width ~ √(1/M)). There we integrate a least-squares fit of h in the
# basis {1, x, x·log x, x², x²·log x} (x = θ/θ_fit, so it stays well-conditioned), which is exact
# for those singular terms and as good as a quadratic for smooth h.
_END_CELLS = 4  # cells at each end integrated with the fitted model
_END_FIT_POINTS = 6  # grid points (excluding the end itself) the model is fitted to


def _end_basis(x: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        xlog = np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)
    return np.stack([np.ones_like(x), x, xlog, x * x, x * xlog], axis=-1)


def _end_antiderivative(x: Array) -> Array:
    """∫₀^x of each basis function."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.log(np.where(x > 0, x, 1.0))
    x2, x3 = x * x, x * x * x
    return np.stack([x, x2 / 2, x2 / 2 * log - x2 / 4, x3 / 3, x3 / 3 * log - x3 / 9], axis=-1)


class _EndModel:
    """h near one end, as a function of the distance φ ≥ 0 from that end, and its integral."""

    def __init__(self, phi: Array, h: Array) -> None:
        self.scale = float(phi.max())
        coef, *_ = np.linalg.lstsq(_end_basis(phi / self.scale), h, rcond=None)
        self.coef = coef

    def value_at_end(self) -> float:
        return float(self.coef[0])

    def integral(self, phi: ArrayLike) -> Array:
        """∫₀^φ h."""
        x = np.asarray(phi, dtype=np.float64) / self.scale
        return self.scale * (_end_antiderivative(x) @ self.coef)


@dataclass(frozen=True)
class SurrogateCurve:
    """A reverse-engineered surrogate F(ρ): call it on any array of ρ ∈ [0, 1].

    ``curve(rho)`` gives F with F(0) = 0; ``curve.normalised(rho)`` gives (F − F(0))/(F(1) − F(0));
    ``curve.derivative(rho)`` gives F'(ρ) (population: interpolated limit F'; finite N: c_N).
    ``n`` is None for the population surrogate, else the group size N of the exact F_N.
    """

    shaper: Shaper
    n: int | None
    _theta: Array | None = field(default=None, repr=False)
    _values: Array | None = field(default=None, repr=False)
    _slopes: Array | None = field(default=None, repr=False)
    _left: _EndModel | None = field(default=None, repr=False)
    _right: _EndModel | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"F({self.shaper.spec})" if self.n is None else f"F_{self.n}({self.shaper.spec})"

    def __call__(self, rho: ArrayLike) -> Array:
        rho = as_rho(rho)
        if self.n is not None:
            return finite_n_surrogate(self.shaper, self.n, rho)
        theta = np.arcsin(np.sqrt(rho))
        grid, f, h = self._theta, self._values, self._slopes
        i = np.clip(np.searchsorted(grid, theta, side="right") - 1, 0, grid.size - 2)
        x0, x1 = grid[i], grid[i + 1]
        dx = x1 - x0
        t = (theta - x0) / dx
        # cubic Hermite: values F_i, F_{i+1}, slopes h_i, h_{i+1} (dF/dθ) at the cell ends
        h00 = (1 + 2 * t) * (1 - t) ** 2
        h10 = t * (1 - t) ** 2
        h01 = t * t * (3 - 2 * t)
        h11 = t * t * (t - 1)
        out = h00 * f[i] + h10 * dx * h[i] + h01 * f[i + 1] + h11 * dx * h[i + 1]
        e = _END_CELLS
        left = self._left.integral(theta)
        right = (
            f[-1 - e]
            + self._right.integral(grid[-1] - grid[-1 - e])
            - self._right.integral(grid[-1] - theta)
        )
        out = np.where(theta <= grid[e], left, np.where(theta >= grid[-1 - e], right, out))
        return np.where(rho == 1.0, f[-1], np.where(rho == 0.0, 0.0, out))

    def derivative(self, rho: ArrayLike) -> Array:
        """F'(ρ): c_N(ρ) at finite N, the limit w⁺/ρ + w⁻/(1 − ρ) otherwise (interior ρ)."""
        rho = as_rho(rho)
        if self.n is not None:
            return expected_update_coefficient(self.shaper, self.n, rho)
        theta = np.arcsin(np.sqrt(rho))
        slope = np.interp(theta, self._theta, self._slopes)  # dF/dθ
        with np.errstate(divide="ignore", invalid="ignore"):
            return slope / (2.0 * np.sqrt(rho * (1.0 - rho)))

    def endpoints(self) -> tuple[float, float]:
        """(F(0), F(1))."""
        return float(self(0.0)), float(self(1.0))

    def normalised(self, rho: ArrayLike) -> Array:
        """F normalised affinely to F(0) = 0, F(1) = 1."""
        lo, hi = self.endpoints()
        return normalise(self(rho), lo, hi)


def reverse_engineer(
    shaper: Shaper | str,
    n: int | None = None,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    **params: Any,
) -> SurrogateCurve:
    """The surrogate reward F(ρ) a count-based shaper ascends, as a vectorised callable.

    ``n=None`` (default): the population surrogate, F' = w⁺/ρ + w⁻/(1 − ρ) with w± the N → ∞
    limit of the shaper's effective weights (paper Sec. 5.1, Lemma 2; asymmetric w± as in
    App. C.4), integrated numerically (see the module docstring); F(0) = 0.
    ``n=N``: the exact surrogate at group size N, F_N(ρ) = ∫₀^ρ c_N(t) dt, where the expected
    update is exactly c_N(ρ)·∇ρ (Binomial tail sums; no quadrature).

    ``shaper`` is a :class:`advshape.Shaper` (registry, ``count_shaper`` or ``from_surrogate``)
    or a spec string (``params`` are passed to :func:`advshape.shaper`).
    """
    s = count_based(build_shaper(shaper, **params) if isinstance(shaper, str) else shaper)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n must be a positive integer group size, got {n!r}")
        n = int(n)
        s.scores(np.arange(n + 1), np.full(n + 1, n))  # validates N against the shaper
        return SurrogateCurve(s, n)

    rho, w_pos, w_neg = limit_weights(s, resolution)
    theta = np.arcsin(np.sqrt(rho))
    sin, cos = np.sqrt(rho), np.sqrt(1.0 - rho)
    h = np.empty_like(rho)
    inner = slice(1, -1)
    h[inner] = 2.0 * (
        w_pos[inner] * cos[inner] / sin[inner] + w_neg[inner] * sin[inner] / cos[inner]
    )
    e, p = _END_CELLS, _END_FIT_POINTS
    left = _EndModel(theta[1 : p + 1], h[1 : p + 1])
    right = _EndModel(theta[-1] - theta[-p - 1 : -1], h[-p - 1 : -1])
    h[0], h[-1] = left.value_at_end(), right.value_at_end()
    values = np.empty_like(rho)
    values[: e + 1] = left.integral(theta[: e + 1])
    trapezoid = 0.5 * (h[e + 1 : -e] + h[e : -e - 1]) * np.diff(theta[e:-e])
    values[e + 1 : -e] = values[e] + np.cumsum(trapezoid)
    tail = theta[-1] - theta[-e - 1 :]
    values[-e - 1 :] = values[-e - 1] + right.integral(tail[0]) - right.integral(tail)
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"the surrogate of shaper {s.spec!r} diverges: F'(ρ) = w⁺/ρ + w⁻/(1 − ρ) is not "
            "integrable on [0, 1] (its weights do not vanish fast enough at ρ → 0 or 1)"
        )
    return SurrogateCurve(s, None, theta, values, h, left, right)
