"""Reverse-engineering: the surrogate reward F(ρ) that a count-based shaper ascends.

Population (N → ∞, paper Sec. 5.1, Lemma 2, App. C.4). Write the update of a group as
w⁺∇̂₊ − w⁻∇̂₋ with w⁺ = ρ̂A⁺, w⁻ = −(1 − ρ̂)A⁻. As N → ∞, ρ̂ → ρ, ∇̂₊ → ∇ρ/ρ and
∇̂₋ → −∇ρ/(1 − ρ), so the update tends to F'(ρ)∇ρ with

    F'(ρ) = w⁺(ρ)/ρ + w⁻(ρ)/(1 − ρ),        (asymmetric w⁺ ≠ w⁻ allowed)

and the shaper ascends F(ρ) = ∫₀^ρ F'(t) dt. We need nothing but the shaper's score
function ``scores(n_pos, n)``:

1. *Limit weights.* At ρ = m/M the weights of groups of N = M, 2M, 4M (with N⁺ = ρN) are
   exact; their finite-N error is a power series in 1/N, so the Richardson combination
   (8·w_{4M} − 6·w_{2M} + w_M)/3 is the limit to O(1/M³). M = 2¹⁸ by default: exact
   binomial-ratio tables make N = 2²⁰ ≈ 10⁶ cheap.
2. *Singular ends.* F' typically blows up like ρ^{−1/2} or log ρ at the ends (GRPO-type
   normalisations). With ρ = sin²θ, F(ρ) = ∫₀^θ h(φ) dφ where
   h = F'·dρ/dθ = 2(w⁺·cos/sin + w⁻·sin/cos) is bounded for every shaper in the paper.
   The grid ρ = m/M is dense in θ in the middle and spaced ~√(1/M) at the ends.
3. *Quadrature.* Cumulative trapezoid rule in θ on that grid, except in the 32 cells next to
   each end: there the Pass@K estimators' finite-N error is a series in 1/N⁻ (not 1/N), so
   Richardson fails, and h may carry θ·log θ terms. These windows are integrated exactly from a
   least-squares fit of h (basis 1, x, x·log x, x², x²·log x, x³, x³·log x, x⁴) made on the next
   96 grid points. Between grid points F is a cubic Hermite interpolant in θ (values F,
   slopes h), so F is available at any ρ ∈ [0, 1], ends included.

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
from advshape._src.scheduled import ScheduledShaper
from advshape._src.shaper import Shaper

__all__ = ["DEFAULT_RESOLUTION", "SurrogateCurve", "limit_weights", "reverse_engineer"]

Array = NDArray[np.float64]

DEFAULT_RESOLUTION = 2**18
"""M of the grid ρ = m/M of :func:`reverse_engineer` (weights from N = M, 2M and 4M ≈ 10⁶)."""


def count_based(shaper: Shaper | ScheduledShaper | str) -> Shaper:
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


def limit_weights(
    shaper: Shaper | str, resolution: int = DEFAULT_RESOLUTION
) -> tuple[Array, Array, Array]:
    """N → ∞ limit weights (w⁺, w⁻) on the grid ρ = m/M, m = 0..M (M = ``resolution``).

        w±(ρ) = lim_{N→∞} w±(ρN, N) ≈ (8·w±_{4M} − 6·w±_{2M} + w±_M)/3

    The exact weights at N = M, 2M, 4M (N⁺ = ρN integral for all three) have errors in powers
    of 1/N; the Richardson combination cancels the 1/N and 1/N² terms. These are the limits
    the paper's Sec. 5.1 integrates, F'(ρ) = w⁺(ρ)/ρ + w⁻(ρ)/(1 − ρ).

    Args:
        shaper: a count-based :class:`advshape.Shaper` or a spec string.
        resolution: M, at least 512 grid cells.

    Returns:
        ``(rho, w_pos, w_neg)``: three float64 arrays of M + 1 values.

    Raises:
        ValueError: the shaper is not count-based, M < 512, or non-finite weights.

    Example:
        >>> from advshape.surrogates import limit_weights
        >>> rho, w_pos, w_neg = limit_weights("grpo", resolution=512)  # w± = √(ρ(1 − ρ))
        >>> float(rho[128]), round(float(w_pos[128]), 9), round(float(w_neg[128]), 9)
        (0.25, 0.433012702, 0.433012702)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 5.1, Lemma 2: the limit weights; Table 1, middle column).
    """
    s = count_based(shaper)
    m = int(resolution)
    if m < _MIN_RESOLUTION:
        raise ValueError(
            f"resolution must be at least {_MIN_RESOLUTION} grid cells, got {resolution}"
        )
    counts = np.arange(m + 1)
    weights = s.weights
    assert weights is not None  # count_based: a count-based shaper has weights
    levels = [weights(f * counts, np.full(m + 1, f * m)) for f in (1, 2, 4)]
    w_pos = (8.0 * levels[2][0] - 6.0 * levels[1][0] + levels[0][0]) / 3.0
    w_neg = (8.0 * levels[2][1] - 6.0 * levels[1][1] + levels[0][1]) / 3.0
    if not (np.all(np.isfinite(w_pos)) and np.all(np.isfinite(w_neg))):
        raise ValueError(
            f"shaper {s.spec!r} has non-finite effective weights at large N; "
            "its scores must be finite for every N+ = 0..N"
        )
    return counts / m, w_pos, w_neg


# End windows. Within a few grid points of ρ = 0 or 1 two things go wrong: the finite-N error of
# Pass@K-type weights is a series in 1/N⁻ (or 1/N⁺), not 1/N, so Richardson extrapolation fails
# when N⁻ = O(K); and h(θ) = F'·dρ/dθ, bounded, may be non-smooth there (h − h(0) ∝ θ·log θ for
# the entropy regulariser) while the cells are widest (~ √(1/M)). So the first and last
# _END_SKIP cells are integrated with a least-squares fit of h, made on the grid points
# _END_SKIP..4·_END_SKIP away from the end, in the basis {1, x, x·log x, x², x²·log x, x³,
# x³·log x, x⁴} (x = θ/θ_fit: well-conditioned), which contains those singular terms.
_END_SKIP = 32
_MIN_RESOLUTION = 16 * _END_SKIP


def _end_basis(x: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0)
    x2, x3 = x * x, x * x * x
    return np.stack([np.ones_like(x), x, x * log, x2, x2 * log, x3, x3 * log, x2 * x2], axis=-1)


_BASIS_SIZE = 8


def _end_antiderivative(x: Array) -> Array:
    """∫₀^x of each basis function (∫ xⁿ log x = xⁿ⁺¹ log x/(n+1) − xⁿ⁺¹/(n+1)²)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0)
    x2, x3, x4 = x * x, x * x * x, x * x * x * x
    return np.stack(
        [
            x,
            x2 / 2,
            x2 / 2 * log - x2 / 4,
            x3 / 3,
            x3 / 3 * log - x3 / 9,
            x4 / 4,
            x4 / 4 * log - x4 / 16,
            x4 * x / 5,
        ],
        axis=-1,
    )


def _end_log_antiderivative(x: Array) -> Array:
    """An antiderivative of each basis function divided by x (∫ b_j(x)/x dx): log x for b = 1,
    so it is −inf at x = 0 when the end diverges."""
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(x > 0, x, 1.0)
        log = np.where(x > 0, np.log(safe), 0.0)
        log0 = np.where(x > 0, np.log(safe), -np.inf)
    x2, x3, x4 = x * x, x * x * x, x * x * x * x
    return np.stack(
        [
            log0,
            x,
            x * log - x,
            x2 / 2,
            x2 / 2 * log - x2 / 4,
            x3 / 3,
            x3 / 3 * log - x3 / 9,
            x4 / 4,
        ],
        axis=-1,
    )


def _power_terms(x: Array, power: float) -> Array:
    """x^γ: the leading non-smooth term of h = 2 sinθ cosθ·F'(sin²θ) when F' ∝ ρ^(−a) near
    the end (γ = 1 − 2a)."""
    return (x**power)[..., None]


def _power_antiderivative(x: Array, power: float) -> Array:
    return (x ** (power + 1) / (power + 1))[..., None]


def _fit(x: Array, target: Array, power: float | None) -> tuple[Array, float]:
    """Least-squares coefficients in the end basis (plus the power term), and the relative
    rms residual."""
    basis = _end_basis(x)
    if power is not None:
        basis = np.concatenate([basis, _power_terms(x, power)], axis=-1)
    coef = np.asarray(np.linalg.lstsq(basis, target, rcond=None)[0], dtype=np.float64)
    scale = float(np.sqrt(np.mean(target * target))) or 1.0
    return coef, float(np.sqrt(np.mean((basis @ coef - target) ** 2))) / scale


# A power term x^γ joins the end fit only if it explains h far better than the smooth basis:
# the residual drops by _POWER_GAIN, at a γ that stands out (every γ further than
# _POWER_APART from it fits _POWER_SHARP times worse). Measured on the window of 97 grid
# points: F = ρ^p (0.4 ≤ p ≤ 1.3) gives gains of 10⁴–10⁵ at γ = 2p − 1 ± 0.002, next best
# γ 10×–100× worse; the registry's shapers have gains below 20 (their h is smooth; what the
# smooth basis misses is the finite-N residue of the Pass@K weights next to ρ = 1).
_POWER_GAIN = 1000.0
_POWER_SHARP = 10.0
_POWER_APART = 0.2
_POWER_GRID = np.linspace(-0.995, 3.0, 800)


def _end_power(phi: Array, h: Array) -> float | None:
    """The exponent γ of a non-smooth term h ∝ φ^γ at an end (F' ∝ |ρ − end|^(−a), γ = 1 − 2a
    not an integer), or None where the smooth basis fits h (every shaper of the registry).

    The residual of the fit with x^γ added, for every γ of a grid at once: with r the residual
    of the smooth fit and v_γ the part of x^γ the smooth basis misses (both orthogonal to it),
    |r − (v_γ·r/|v_γ|²)·v_γ|² = |r|² − (v_γ·r)²/|v_γ|²; then refined around the best γ.
    """
    x = phi / float(phi.max())
    target_scale = float(np.sqrt(np.mean(h * h))) or 1.0
    q, _ = np.linalg.qr(_end_basis(x))
    r = h - q @ (q.T @ h)
    plain = float(np.sqrt(np.mean(r * r))) / target_scale
    if plain < 1e-13:  # at rounding level already
        return None
    powers = x[:, None] ** _POWER_GRID[None, :]
    v = powers - q @ (q.T @ powers)
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.maximum(r @ r - (v.T @ r) ** 2 / np.einsum("ij,ij->j", v, v), 0.0)
    residuals = np.sqrt(np.where(np.isfinite(left), left, r @ r) / x.size) / target_scale
    i = int(np.argmin(residuals))
    if i in (0, _POWER_GRID.size - 1):
        return None
    from scipy.optimize import minimize_scalar

    step = float(_POWER_GRID[1] - _POWER_GRID[0])
    best = minimize_scalar(
        lambda g: _fit(x, h, g)[1],
        bounds=(_POWER_GRID[i] - step, _POWER_GRID[i] + step),
        method="bounded",
        options={"xatol": 1e-6},
    )
    power, residual = float(best.x), float(best.fun)
    apart = np.abs(_POWER_GRID - power) > _POWER_APART
    if (
        residual * _POWER_GAIN > plain
        or residual * _POWER_SHARP > float(residuals[apart].min())
        or abs(power - round(power)) < 1e-3  # an integer power is in the smooth basis
    ):
        return None
    return power


class _EndModel:
    """h near one end, as a function of the distance φ ≥ 0 from that end, and its integral.

    ``divergent``: h ≈ c/φ (F' ∝ 1/|ρ − end|, F logarithmic there); then φ·h is fitted, and
    :meth:`integral` is an antiderivative fixed only up to a constant (−inf·sign(c) at φ = 0).
    ``power``: γ of a non-smooth term h ∝ φ^γ (see :func:`_end_power`), fitted along with the
    smooth basis and integrated exactly.
    """

    def __init__(
        self, phi: Array, h: Array, divergent: bool = False, power: float | None = None
    ) -> None:
        self.scale = float(phi.max())
        self.divergent = divergent
        self.power = None if divergent else power
        target = h * phi / self.scale if divergent else h
        self.coef, _ = _fit(phi / self.scale, target, self.power)

    def value(self, phi: ArrayLike) -> Array:
        """The fitted h at distance φ from the end."""
        x = np.asarray(phi, dtype=np.float64) / self.scale
        fitted = _end_basis(x) @ self.coef[:_BASIS_SIZE]
        if self.power is not None:
            fitted = fitted + _power_terms(x, self.power) @ self.coef[_BASIS_SIZE:]
        if self.divergent:
            with np.errstate(divide="ignore"):
                return fitted / x
        return fitted

    def integral(self, phi: ArrayLike) -> Array:
        """∫₀^φ h; for a divergent end, an antiderivative of h (differences are exact)."""
        x = np.asarray(phi, dtype=np.float64) / self.scale
        if self.divergent:
            # h = (basis @ coef)/x and dφ = scale·dx: ∫h dφ = scale·Σ coef_j ∫ b_j(x)/x dx
            terms = _end_log_antiderivative(x)
            return self.scale * (terms[..., 1:] @ self.coef[1:] + terms[..., 0] * self.coef[0])
        out = _end_antiderivative(x) @ self.coef[:_BASIS_SIZE]
        if self.power is not None:
            out = out + _power_antiderivative(x, self.power) @ self.coef[_BASIS_SIZE:]
        return self.scale * out


@dataclass(frozen=True, eq=False)  # holds arrays: compare curves by value, not ==
class SurrogateCurve:
    """A reverse-engineered surrogate F(ρ): call it on any array of ρ ∈ [0, 1].

    ``curve(rho)`` gives F with F(0) = 0; ``curve.normalised(rho)`` gives (F − F(0))/(F(1) − F(0));
    ``curve.derivative(rho)`` gives F'(ρ) (population: interpolated limit F'; finite N: c_N).
    Made by :func:`reverse_engineer`, which describes how F is computed.

    Attributes:
        shaper: the count-based shaper whose surrogate this is.
        n: None for the population surrogate, else the group size N of the exact F_N.
        divergent: the ends (0 and/or 1) where F diverges logarithmically (F' ∝ 1/|ρ − end|,
            e.g. MaxRL's log ρ). Such an F is defined only up to an additive constant: it is
            anchored at ``anchor`` (F(anchor) = 0: ρ = 1 if only the left end diverges, ½ if
            both do, else 0), is ±inf at the divergent end, and has no affine normalisation
            (:meth:`normalised` says so).

    Example:
        >>> import advshape
        >>> f8 = advshape.reverse_engineer("reinforce_k:k=4", n=8)  # F_8 = (1 − (1 − ρ)⁴)/4
        >>> round(float(f8(0.5)), 12), round(float(f8.derivative(0.5)), 12)
        (0.234375, 0.125)
        >>> advshape.reverse_engineer("maxrl").describe()
        'F(maxrl): diverges (logarithmically) at ρ = 0; defined up to an additive constant, anchored F(1) = 0'

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 5.1, Lemma 2); Tajwar, Zeng et al. 2026 (MaxRL, F = log ρ),
        https://arxiv.org/abs/2602.02710.
    """

    shaper: Shaper
    n: int | None
    _theta: Array | None = field(default=None, repr=False)
    _values: Array | None = field(default=None, repr=False)
    _slopes: Array | None = field(default=None, repr=False)
    _left: _EndModel | None = field(default=None, repr=False)
    _right: _EndModel | None = field(default=None, repr=False)
    divergent: tuple[int, ...] = ()
    _offset: float = field(default=0.0, repr=False)

    @property
    def label(self) -> str:
        return f"F({self.shaper.spec})" if self.n is None else f"F_{self.n}({self.shaper.spec})"

    @property
    def anchor(self) -> float:
        """The ρ where F = 0."""
        if 0 in self.divergent:
            return 0.5 if 1 in self.divergent else 1.0
        return 0.0

    def describe(self) -> str:
        """One line: how F is pinned down (and where it diverges)."""
        if not self.divergent:
            return f"{self.label}: F(0) = 0"
        ends = " and ".join(f"ρ = {e}" for e in self.divergent)
        return (
            f"{self.label}: diverges (logarithmically) at {ends}; defined up to an additive "
            f"constant, anchored F({self.anchor:g}) = 0"
        )

    def __call__(self, rho: ArrayLike) -> Array:
        rho = as_rho(rho)
        if self.n is not None:
            return finite_n_surrogate(self.shaper, self.n, rho)
        theta = np.arctan2(np.sqrt(rho), np.sqrt(1.0 - rho))  # accurate up to ρ = 1, unlike arcsin
        grid, f, h = self._theta, self._values, self._slopes
        left_end, right_end = self._left, self._right
        # a population curve (n is None) has all of them
        assert grid is not None and f is not None and h is not None
        assert left_end is not None and right_end is not None
        i = np.clip(np.searchsorted(grid, theta, side="right") - 1, 0, grid.size - 2)
        x0, x1 = grid[i], grid[i + 1]
        dx = x1 - x0
        t = (theta - x0) / dx
        # cubic Hermite: values F_i, F_{i+1}, slopes h_i, h_{i+1} (dF/dθ) at the cell ends
        h00 = (1 + 2 * t) * (1 - t) ** 2
        h10 = t * (1 - t) ** 2
        h01 = t * t * (3 - 2 * t)
        h11 = t * t * (t - 1)
        with np.errstate(invalid="ignore"):  # ±inf at a divergent end: replaced below
            out = h00 * f[i] + h10 * dx * h[i] + h01 * f[i + 1] + h11 * dx * h[i + 1]
        e = _END_SKIP
        left = left_end.integral(theta)
        right = (
            f[-1 - e]
            + right_end.integral(grid[-1] - grid[-1 - e])
            - right_end.integral(grid[-1] - theta)
        )
        out = np.where(theta <= grid[e], left, np.where(theta >= grid[-1 - e], right, out))
        at_zero = float(left_end.integral(0.0))  # 0, or −inf/+inf at a divergent end
        return np.where(rho == 1.0, f[-1], np.where(rho == 0.0, at_zero, out)) - self._offset

    def derivative(self, rho: ArrayLike) -> Array:
        """F'(ρ): c_N(ρ) at finite N, the limit w⁺/ρ + w⁻/(1 − ρ) otherwise (interior ρ)."""
        rho = as_rho(rho)
        if self.n is not None:
            return expected_update_coefficient(self.shaper, self.n, rho)
        theta = np.arcsin(np.sqrt(rho))
        assert self._theta is not None and self._slopes is not None  # set when n is None
        slope = np.interp(theta, self._theta, self._slopes)  # dF/dθ
        with np.errstate(divide="ignore", invalid="ignore"):
            return slope / (2.0 * np.sqrt(rho * (1.0 - rho)))

    def endpoints(self) -> tuple[float, float]:
        """(F(0), F(1))."""
        return float(self(0.0)), float(self(1.0))

    def normalised(self, rho: ArrayLike) -> Array:
        """F normalised affinely to F(0) = 0, F(1) = 1."""
        if self.divergent:
            raise ValueError(
                f"{self.describe()}: it has no normalisation to F(0) = 0, F(1) = 1; compare "
                "differences F(ρ) − F(ρ₀) at interior points instead"
            )
        lo, hi = self.endpoints()
        return normalise(self(rho), lo, hi)


def _check_bounded(s: Shaper, theta: Array, h: Array) -> tuple[int, ...]:
    """h = dF/dθ must stay bounded at the ends (F' = O(ρ^{−1/2})). A singular h ∝ φ^{−p} (φ: the
    distance in θ from the end) grows by the same exponent p on every scale; a bounded one does
    not: its apparent exponent fades towards the end (h ≈ a − bφ gives p ≈ bφ/a). So p is
    estimated between grid points 1 and 4 (p₁), and 4 and 16 (p₂), from each end, and h is
    called singular when p₁, p₂ > 0.25 and p₁ ≥ 0.7·p₂. p ≈ 1 (0.9 ≤ p₁, p₂ ≤ 1.1) is a
    logarithmic divergence of F, F' ∝ 1/|ρ − end| (MaxRL's log ρ): those ends are returned and
    integrated as such; any other singular end is refused."""
    divergent = []
    for end in (0, 1):
        index = (1, 4, 16) if end == 0 else (-2, -5, -17)
        phi = np.array([theta[i] if end == 0 else theta[-1] - theta[i] for i in index])
        values = h[list(index)]
        if not (np.all(values > 0) or np.all(values < 0)):
            continue
        growth = np.log(values[:-1] / values[1:]) / np.log(phi[1:] / phi[:-1])
        if np.all(growth > 0.25) and growth[0] >= 0.7 * growth[1]:
            if np.all((growth >= 0.9) & (growth <= 1.1)):
                divergent.append(end)
                continue
            _refuse_singular(s, end, (1 + float(growth.min())) / 2)
    return tuple(divergent)


def _refuse_singular(s: Shaper, end: int, order: float) -> None:
    """F' ∝ |ρ − end|^(−order) with order > 1/2 (and not the logarithmic order 1)."""
    kind = "diverges faster than logarithmically" if order > 0.95 else "is too singular"
    raise ValueError(
        f"the surrogate of shaper {s.spec!r} {kind} at rho = {end}: F'(ρ) = w⁺/ρ + "
        f"w⁻/(1 − ρ) grows like |ρ − {end}|^(−{order:.2f}) there; reverse-engineering "
        "needs F' = O(|ρ − end|^(−1/2)), i.e. weights that vanish like √(ρ(1 − ρ)) or "
        "faster, or F' ∝ 1/|ρ − end| (a logarithmic divergence, handled); "
        "reverse_engineer(shaper, n=N) gives its exact surrogate at a group size N"
    )


def _cells(theta: Array, h: Array, divergent: tuple[int, ...]) -> Array:
    """∫ h dθ over each grid cell. Trapezoid rule, except next to a divergent end, where
    h ≈ c/φ varies too fast for it (an error ~ Σ 1/(24m³) ≈ 2e-5 from the first cells): there
    h = g/w with w = θ^a·(θ_max − θ)^b (a, b: which ends diverge) and g smooth, so the trapezoid
    is applied to g and ∫dθ/w is taken exactly (a logarithm)."""
    if not divergent:
        return 0.5 * (h[1:] + h[:-1]) * np.diff(theta)
    top = np.pi / 2
    a, b = float(0 in divergent), float(1 in divergent)
    w = theta**a * (top - theta) ** b
    if a and b:
        antiderivative = np.log(theta / (top - theta)) / top
    elif a:
        antiderivative = np.log(theta)
    else:
        antiderivative = -np.log(top - theta)
    g = h * w
    return 0.5 * (g[1:] + g[:-1]) * np.diff(antiderivative)


def reverse_engineer(
    shaper: Shaper | str,
    n: int | None = None,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    **params: Any,
) -> SurrogateCurve:
    """The surrogate reward F(ρ) a count-based shaper ascends, as a vectorised callable.

        F'(ρ) = w⁺(ρ)/ρ + w⁻(ρ)/(1 − ρ),   F(ρ) = ∫₀^ρ F'(t) dt     (paper Sec. 5.1, Lemma 2)

    ``n=None`` (default): the population surrogate, w± the N → ∞ limit of the shaper's
    effective weights (asymmetric w± as in App. C.4), integrated numerically (see the module
    docstring); F(0) = 0. Accurate to ~1e-8 where F' = O(|ρ − end|^(−1/2)) at both ends,
    including non-smooth ends F' ∝ |ρ − end|^(−a), 0 < a < 1/2 (their power is fitted and
    integrated exactly); a logarithmic divergence F' ∝ 1/|ρ − end| is reported as such.
    ``n=N``: the exact surrogate at group size N, F_N(ρ) = ∫₀^ρ c_N(t) dt, where the expected
    update is exactly c_N(ρ)·∇ρ (Binomial tail sums; no quadrature).

    Args:
        shaper: a :class:`advshape.Shaper` (registry, ``count_shaper`` or ``from_surrogate``)
            or a spec string.
        n: None for the population surrogate, or a group size N for the exact F_N.
        resolution: the grid ρ = m/M, m = 0..M (weights from N = M, 2M, 4M).
        **params: shaper parameters, with a spec string only.

    Returns:
        A :class:`SurrogateCurve`: ``curve(rho)``, ``curve.normalised(rho)``,
        ``curve.derivative(rho)``.

    Raises:
        ValueError: the shaper is not count-based, has no population surrogate (weights that
            vanish as N → ∞), or F' grows faster than |ρ − end|^(−1/2) at an end (other than
            logarithmically); bad ``n``, ``resolution`` or parameters.

    Example:
        >>> import advshape
        >>> curve = advshape.reverse_engineer("grpo")  # F = 2·asin(√ρ) (paper Corollary 1)
        >>> print(f"{float(curve.normalised(0.25)):.8f}")
        0.33333333

    References:
        Advantage Shaping as Surrogate Reward Maximization, arXiv 2510.23049
        (https://arxiv.org/abs/2510.23049): Sec. 5.1, Lemma 2, App. C.4.
    """
    if params and not isinstance(shaper, str):
        raise ValueError(
            f"parameters {sorted(params)} can only be given with a spec string, not with a built "
            "Shaper (its parameters are fixed)"
        )
    s = count_based(build_shaper(shaper, **params) if isinstance(shaper, str) else shaper)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"n must be a positive integer group size, got {n!r}")
        n = int(n)
        assert s.scores is not None  # count_based checked it
        s.scores(np.arange(n + 1), np.full(n + 1, n))  # validates N against the shaper
        return SurrogateCurve(s, n)

    rho, w_pos, w_neg = limit_weights(s, resolution)
    theta = np.arctan2(np.sqrt(rho), np.sqrt(1.0 - rho))
    sin, cos = np.sqrt(rho), np.sqrt(1.0 - rho)
    h = np.empty_like(rho)
    inner = slice(1, -1)
    h[inner] = 2.0 * (
        w_pos[inner] * cos[inner] / sin[inner] + w_neg[inner] * sin[inner] / cos[inner]
    )
    if not np.any(h[_END_SKIP:-_END_SKIP]):  # (grid points next to an end may carry 1/N terms)
        raise ValueError(
            f"shaper {s.spec!r} has no population surrogate: its effective weights vanish at every "
            "ρ as N → ∞ (it targets something that changes with N); use reverse_engineer(shaper, "
            "n=N) for its exact surrogate at group size N"
        )
    e = _END_SKIP
    divergent = _check_bounded(s, theta, h)
    windows = {0: (theta[e : 4 * e + 1], h[e : 4 * e + 1])}
    windows[1] = (theta[-1] - theta[-4 * e - 1 : -e], h[-4 * e - 1 : -e])
    powers = {end: None if end in divergent else _end_power(*windows[end]) for end in (0, 1)}
    for end, power in powers.items():
        if power is not None and power < 0:
            _refuse_singular(s, end, (1 - power) / 2)
    left = _EndModel(*windows[0], divergent=0 in divergent, power=powers[0])
    right = _EndModel(*windows[1], divergent=1 in divergent, power=powers[1])
    h[:e] = left.value(theta[:e])
    h[-e:] = right.value(theta[-1] - theta[-e:])
    values = np.empty_like(rho)
    values[: e + 1] = left.integral(theta[: e + 1])
    trapezoid = _cells(theta[e:-e], h[e:-e], divergent)
    values[e + 1 : -e] = values[e] + np.cumsum(trapezoid)
    tail = theta[-1] - theta[-e - 1 :]
    values[-e - 1 :] = values[-e - 1] + right.integral(tail[0]) - right.integral(tail)
    ends_ok = [np.isfinite(values[i]) or end in divergent for i, end in ((0, 0), (-1, 1))]
    if not (np.all(np.isfinite(values[1:-1])) and all(ends_ok)):
        raise ValueError(
            f"the surrogate of shaper {s.spec!r} diverges: F'(ρ) = w⁺/ρ + w⁻/(1 − ρ) is not "
            "integrable on [0, 1] (its weights do not vanish fast enough at ρ → 0 or 1)"
        )
    curve = SurrogateCurve(s, None, theta, values, h, left, right, divergent)
    if not divergent:
        return curve
    # defined up to a constant: pin F(anchor) = 0 at a finite point
    offset = float(curve(curve.anchor))
    return SurrogateCurve(s, None, theta, values, h, left, right, divergent, offset)
