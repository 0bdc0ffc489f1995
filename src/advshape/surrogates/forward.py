"""Forward-engineering: a new advantage shaping from a chosen surrogate reward (contribution C-2).

The recipe of the paper (Sec. 1.2, C-2; Sec. 5.2; App. B.5), for a surrogate F and an optional
reward-level regulariser Ω with strength λ (Eq. 2):

1. differentiate: ∇θ[F(ρ) + λΩ(ρ)] = [F'(ρ) + λΩ'(ρ)]·∇θρ;
2. replace F'(ρ) + λΩ'(ρ) by its plug-in value at ρ̂ = N⁺/N, and ∇θρ by the RLOO estimate:

    A± = [F'(ρ̂) + λ·Ω'(ρ̂)] · A±_RLOO,    A⁺_RLOO = N(1 − ρ̂)/(N − 1), A⁻_RLOO = −Nρ̂/(N − 1).

Both scores are 0 in constant groups (ρ̂ ∈ {0, 1}), like every mean-centred shaping.

F and Ω may be SymPy expressions or strings in ``rho`` (differentiated symbolically, then
compiled to NumPy with ``sympy.lambdify``), or Python callables ρ -> value (differentiated
numerically by Ridders' extrapolated central differences: absolute error ≲ 1e-9·max(1, |F'|)
for F analytic within min(ρ̂, 1 − ρ̂)/2 of ρ̂, measured in tests/test_surrogates_forward.py;
callables without a continuous derivative inside (0, 1) are refused).
SymPy is imported only when a string or expression is given. Strings are read with SymPy's
``parse_expr``, which evaluates Python: pass only formulas you would run yourself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from advshape._src import scores as score_formulas
from advshape._src.closed_forms import as_rho
from advshape._src.registry import THIS_PAPER
from advshape._src.registry import shaper as registry_shaper
from advshape._src.shaper import Shaper, ShaperInfo, count_shaper
from advshape._src.spec import surrogate_spec
from advshape.surrogates._optional import require

__all__ = ["SurrogateFunction", "from_surrogate", "numeric_derivative"]

Array = NDArray[np.float64]

# F' is checked for negative values at these ρ: a uniform grid plus points close to both ends.
_CHECK_GRID = np.unique(
    np.concatenate(
        [
            np.linspace(0.0, 1.0, 4097)[1:-1],
            np.logspace(-12, -2, 41),
            1.0 - np.logspace(-12, -2, 41),
        ]
    )
)

# Names people write that SymPy spells differently.
_ALIASES = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "ln": "log",
    "ρ": "rho",
    "λ": "lam",
}


def numeric_derivative(f: Callable[[Array], ArrayLike], x: ArrayLike) -> Array:
    """f'(x) for x ∈ (0, 1) by Ridders' method: central differences, Richardson-extrapolated.

        D(h) = (f(x + h) − f(x − h))/(2h),   f'(x) = lim_{h→0} D(h)

    Steps start at h₀ = min(0.05, x/2, (1 − x)/2), so f is only evaluated inside (0, 1), and
    shrink by 1.4 per level for 10 levels; per x the extrapolant with the smallest error
    estimate is returned. Vectorised: f is called on whole arrays. ``from_surrogate`` uses it
    for a surrogate F given as a Python callable (A± = F'(ρ̂)·A±_RLOO needs F').

    Args:
        f: a function of a float64 array of ρ, returning values of the same shape.
        x: the points, inside (0, 1).

    Returns:
        f'(x), float64, of the shape of ``x``.

    Example:
        >>> import numpy as np
        >>> from advshape.surrogates import numeric_derivative
        >>> numeric_derivative(lambda r: r**3, [0.5, 0.1]).round(12).tolist()  # 3x²
        [0.75, 0.03]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 1.2, C-2: A± = F'(ρ̂)·A±_RLOO needs F').
    """
    return _ridders(f, x)[0]


def _ridders(f: Callable[[Array], ArrayLike], x: ArrayLike) -> tuple[Array, Array]:
    """(f'(x), its error estimate) by Ridders' method (see :func:`numeric_derivative`)."""
    x = np.asarray(x, dtype=np.float64)
    h = np.minimum(0.05, np.minimum(x, 1.0 - x) / 2.0)
    shrink, shrink2 = 1.4, 1.96
    levels = 10

    def central(step: Array) -> Array:
        return (
            np.asarray(f(x + step), dtype=np.float64) - np.asarray(f(x - step), dtype=np.float64)
        ) / (2.0 * step)

    best = np.full(x.shape, np.nan)
    best_err = np.full(x.shape, np.inf)
    previous = [central(h)]
    for _ in range(1, levels):
        h = h / shrink
        row = [central(h)]
        factor = shrink2
        for j in range(1, len(previous) + 1):
            row.append((row[j - 1] * factor - previous[j - 1]) / (factor - 1.0))
            factor *= shrink2
            err = np.maximum(np.abs(row[j] - row[j - 1]), np.abs(row[j] - previous[j - 1]))
            better = err <= best_err
            best = np.where(better, row[j], best)
            best_err = np.where(better, err, best_err)
        previous = row
    return best, best_err


class SurrogateFunction:
    """A surrogate F (or regulariser Ω) of ρ with its derivative, from text, SymPy or a callable.

    Text and SymPy expressions are differentiated symbolically (F' exactly); a Python callable
    by :func:`numeric_derivative`. F must be real and finite on [0, 1], with a real derivative
    on (0, 1); ``F(0)`` and ``F(1)`` are the limits at the ends.

    Args:
        source: the function: text in ρ (``"2*asin(sqrt(rho))"``, SymPy syntax; ``arcsin``,
            ``ln``, ``ρ`` accepted), a SymPy expression, or a callable of ρ.
        role: what it is, for messages (``"surrogate"``, ``"regularizer"``).

    Raises:
        ValueError: the expression does not parse, or F is not finite or not real on [0, 1].

    Example:
        >>> from advshape.surrogates.forward import SurrogateFunction
        >>> f = SurrogateFunction("2*asin(sqrt(rho))", "surrogate")  # GRPO's F
        >>> f.at_one, round(float(f(0.25)), 9), round(float(f.derivative(0.25)), 9)  # π, π/3
        (3.141592653589793, 1.047197551, 2.309401077)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 1.2, C-2; Corollary 1: GRPO's F = 2·arcsin√ρ).
    """

    def __init__(self, source: Any, role: str) -> None:
        self.role = role
        if callable(source) and not _is_sympy(source):
            self.text = getattr(source, "__name__", "callable")
            self.source = None  # a callable cannot be rebuilt from text
            self.symbolic = False
            self._value = _vectorised(source, role)
            self._derivative = lambda r: _ridders(self._value, r)[0]
            self.derivative_error = lambda r: _ridders(self._value, r)
            self.at_zero = float(np.asarray(self._value(np.array([0.0])))[0])
            self.at_one = float(np.asarray(self._value(np.array([1.0])))[0])
        else:
            sympy = require("sympy", "from_surrogate with a string or SymPy expression")
            expr, rho = _parse(source, role)
            self.text = str(expr)
            # what rebuilds it exactly in another process: the user's text, or SymPy's srepr
            self.source = source if isinstance(source, str) else sympy.srepr(expr)
            self.symbolic = True
            derivative = sympy.diff(expr, rho)
            _check_symbolic(expr, derivative, role, source)
            self._value = _lambdify(rho, expr)
            self._derivative = _lambdify(rho, derivative)
            self.at_zero = _end_limit(expr, rho, 0, role)
            self.at_one = _end_limit(expr, rho, 1, role)
            _check_numeric(self, role)
        for where, value in (("0", self.at_zero), ("1", self.at_one)):
            if not math.isfinite(value):
                raise ValueError(
                    f"{role} {self.text!r} is not finite at rho = {where} (got {value}); a reward "
                    "must be finite on [0, 1], e.g. use asin(sqrt(rho)) rather than log(rho)"
                )

    def __call__(self, rho: ArrayLike) -> Array:
        rho = as_rho(rho)
        with np.errstate(all="ignore"):
            values = np.asarray(self._value(rho), dtype=np.float64) * np.ones_like(rho)
        return np.where(rho == 0.0, self.at_zero, np.where(rho == 1.0, self.at_one, values))

    def derivative(self, rho: ArrayLike) -> Array:
        """The derivative at interior ρ ∈ (0, 1)."""
        rho = np.asarray(rho, dtype=np.float64)
        with np.errstate(all="ignore"):
            return np.asarray(self._derivative(rho), dtype=np.float64) * np.ones_like(rho)


def _is_sympy(obj: Any) -> bool:
    return type(obj).__module__.startswith("sympy")


def _vectorised(fn: Callable, role: str) -> Callable[[Array], Array]:
    """A callable of ρ as a function of arrays: called on the whole array if it returns real
    numbers of ρ's shape (or one number), else once per ρ; anything else is a ValueError."""

    def as_real(value: Any, shape: tuple) -> Array | None:
        try:
            arr = np.asarray(value)
        except Exception:  # ragged sequences and other oddities: not a real array
            return None
        if arr.dtype.kind not in "biuf" or arr.shape not in (shape, ()):
            return None
        return np.broadcast_to(arr.astype(np.float64), shape)

    def call(rho: Array) -> Array:
        shape = np.shape(rho)
        try:
            whole = as_real(fn(rho), shape)
        except (TypeError, ValueError):  # written for floats only: call it per value below
            whole = None
        if whole is not None:
            return whole
        out = np.empty(shape)
        for index, r in np.ndenumerate(rho):
            value = fn(float(r))
            one = as_real(value, ())
            if one is None:
                raise ValueError(
                    f"{role} (a Python callable) must return a real number for a float rho, or "
                    f"real numbers of rho's shape for an array; got {type(value).__name__}"
                    + (f" of shape {np.shape(value)}" if hasattr(value, "shape") else "")
                    + f" for rho = {float(r)!r}"
                )
            out[index] = one
        return out

    return call


def _check_symbolic(expr, derivative, role: str, source: Any) -> None:
    """Refuse what has no real, finite derivative on (0, 1) before NumPy ever sees it."""
    import sympy

    if expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise ValueError(
            f"{role} {source!r} is not a finite expression in rho (contains oo, zoo or nan)"
        )
    if expr.has(sympy.I):
        raise ValueError(f"{role} {source!r} is complex (contains I); a reward must be real")
    bad = derivative.atoms(sympy.Derivative, sympy.DiracDelta, sympy.Subs)
    if bad:
        raise ValueError(
            f"{role} {source!r} has no usable derivative on (0, 1) (d/drho = {derivative}, which "
            "involves " + ", ".join(sorted({type(b).__name__ for b in bad})) + "); use a "
            "differentiable expression: floor, sign, Heaviside and the like are step functions"
        )


def _check_numeric(f: SurrogateFunction, role: str) -> None:
    """Evaluate the compiled value and derivative once inside (0, 1): a name NumPy lacks or a
    complex value surfaces here as a ValueError, not in the middle of training."""
    grid = np.linspace(0.0, 1.0, 9)[1:-1]
    for what, fn in (("value", f._value), ("derivative", f._derivative)):
        try:
            with np.errstate(all="ignore"):
                values = np.asarray(fn(grid))
        except Exception as err:
            raise ValueError(
                f"cannot evaluate the {what} of {role} {f.text!r} with NumPy: "
                f"{type(err).__name__}: {err}"
            ) from None
        if values.dtype.kind == "c" and np.any(values.imag != 0):
            raise ValueError(f"{role} {f.text!r} takes complex values inside (0, 1)")


def _parse(source: Any, role: str):
    import sympy
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    rho = sympy.Symbol("rho", real=True)
    if isinstance(source, str):
        text = source
        for alias, name in _ALIASES.items():
            text = text.replace(alias, name)
        text = text.replace("^", "**")
        try:
            expr = parse_expr(
                text,
                local_dict={"rho": rho, "pi": sympy.pi, "e": sympy.E},
                transformations=standard_transformations,
            )
        except Exception as err:  # SyntaxError, TokenError, TypeError, ...: all mean "bad text"
            raise ValueError(
                f"cannot parse {role} {source!r}: {type(err).__name__}: {err}. Write it as a "
                "Python/SymPy expression in rho, e.g. '2*asin(sqrt(rho))' or "
                "'-rho*log(rho) - (1-rho)*log(1-rho)'"
            ) from None
    elif _is_sympy(source):
        expr = sympy.sympify(source)
        free = expr.free_symbols
        if len(free) == 1:
            expr = expr.subs(next(iter(free)), rho)
    else:
        raise ValueError(
            f"{role} must be a string, a SymPy expression or a callable of rho, "
            f"got {type(source).__name__}"
        )
    if not isinstance(expr, sympy.Expr):
        raise ValueError(
            f"{role} {source!r} is not an expression in rho (got {type(expr).__name__})"
        )
    unknown = sorted(str(s) for s in expr.free_symbols if s != rho)
    if unknown:
        raise ValueError(
            f"{role} {source!r} uses unknown symbol(s) {', '.join(unknown)}: write it in terms of "
            "rho only (put numbers in directly, e.g. '2/4*asin(sqrt(1-(1-rho)**4))')"
        )
    return expr, rho


def _lambdify(rho, expr) -> Callable[[Array], Array]:
    import sympy

    return sympy.lambdify(rho, expr, modules="numpy")


def _end_limit(expr, rho, point: int, role: str) -> float:
    import sympy

    value = float("nan")
    try:
        with np.errstate(all="ignore"):
            value = float(_lambdify(rho, expr)(np.float64(point)))
    except (ZeroDivisionError, ValueError, TypeError, OverflowError):
        pass
    if math.isfinite(value):
        return value
    direction = "+" if point == 0 else "-"
    try:
        limit = sympy.limit(expr, rho, point, dir=direction)
    except Exception as err:  # SymPy can fail on exotic expressions: say so plainly
        raise ValueError(f"cannot evaluate {role} {str(expr)!r} at rho = {point}: {err}") from None
    try:
        return float(limit)
    except TypeError:  # ±oo, zoo, nan, or an unevaluated limit
        return float("nan")


# The derivative of a callable is numerical, so a function that has none (a jump) or whose
# slope is infinite somewhere inside (0, 1) would still get finite, arbitrary scores. Two
# checks find them: (1) Ridders' own error estimate, which is large wherever every step
# straddles a jump or an infinite slope (within ~h₀/20 of it); (2) the values against the
# integral of the derivative on every cell of the check grid (Simpson's rule): a cell that
# disagrees is halved until it agrees, and one that still disagrees at width _NARROWEST
# holds a jump or an infinite slope that (1) missed.
_RELIABLE = 1e-3  # Ridders' error estimate, relative to max(1, |F'|)
_AGREE = 1e-6  # relative agreement of ΔF and ∫F' on a cell ...
_NOISE = 1e-9  # ... above this fraction of max |F| (rounding and noise in F itself)
_NARROWEST = 1e-13


def _no_derivative(f: SurrogateFunction, what: str, where: float, detail: str) -> ValueError:
    return ValueError(
        f"{what} = {f.text!r} (a Python callable) has no usable derivative near rho = "
        f"{where:.12g}: {detail} (a jump, a kink or an infinite slope); a callable surrogate "
        "must be continuously differentiable inside (0, 1), with a finite slope"
    )


def _check_differentiable(f: SurrogateFunction, what: str) -> Array:
    """Refuse a callable F whose numerical derivative is unreliable or whose increments are
    not the integral of its derivative (see the comment above); F' on the check grid."""

    def slope(x: Array) -> Array:
        value, error = f.derivative_error(x)
        # rounding alone gives central differences an error ~ ε·|F|/h at the smallest step h
        smallest_step = np.minimum(0.05, np.minimum(x, 1.0 - x) / 2.0) / 1.4**9
        rounding = 1e3 * np.finfo(np.float64).eps * scale / smallest_step
        with np.errstate(invalid="ignore"):
            unreliable = ~(error <= _RELIABLE * np.maximum(1.0, np.abs(value)) + rounding)
        if np.any(unreliable):
            i = int(np.argmax(unreliable))
            raise _no_derivative(
                f,
                what,
                float(x[i]),
                f"its numerical derivative there, {value[i]:.6g}, has an "
                f"error estimate of {error[i]:.3g}",
            )
        return value

    left, right = _CHECK_GRID[:-1], _CHECK_GRID[1:]
    values = f(_CHECK_GRID)
    scale = max(1.0, float(np.max(np.abs(values))))
    grid_slopes = slopes = slope(_CHECK_GRID)
    f_left, f_right, d_left, d_right = values[:-1], values[1:], slopes[:-1], slopes[1:]
    floor = _NOISE * scale
    while left.size:
        mid = 0.5 * (left + right)
        f_mid, d_mid = f(mid), slope(mid)
        integral = (right - left) / 6.0 * (d_left + 4.0 * d_mid + d_right)
        change = f_right - f_left
        with np.errstate(invalid="ignore"):
            bad = ~(
                np.abs(change - integral) <= _AGREE * (np.abs(change) + np.abs(integral)) + floor
            )
        if not np.any(bad):
            return grid_slopes
        # halved cells that keep disagreeing: a jump or an infinite slope (a smooth F agrees
        # after a few halvings; a few hundred disagreeing cells cannot all hold one)
        stuck = bad & (right - left <= _NARROWEST)
        if np.any(stuck) or np.count_nonzero(bad) > 256:
            i = int(np.argmax(stuck)) if np.any(stuck) else int(np.argmax(bad))
            raise _no_derivative(
                f,
                what,
                float(mid[i]),
                f"it changes by {change[i]:.6g} on [{left[i]:.12g}, "
                f"{right[i]:.12g}], while its numerical derivative integrates to "
                f"{integral[i]:.6g} there",
            )
        left = np.concatenate([left[bad], mid[bad]])
        right = np.concatenate([mid[bad], right[bad]])
        f_left = np.concatenate([f_left[bad], f_mid[bad]])
        f_right = np.concatenate([f_mid[bad], f_right[bad]])
        d_left = np.concatenate([d_left[bad], d_mid[bad]])
        d_right = np.concatenate([d_mid[bad], d_right[bad]])
    return grid_slopes


def _grid_slopes(f: SurrogateFunction, what: str) -> Array:
    """F' on the check grid; for a callable, after checking that it is differentiable."""
    if f.symbolic:
        return f.derivative(_CHECK_GRID)
    return _check_differentiable(f, what)


def _check_reward(f: SurrogateFunction) -> None:
    slope = _grid_slopes(f, "surrogate F")
    if not np.all(np.isfinite(slope)):
        bad = _CHECK_GRID[~np.isfinite(slope)][0]
        raise ValueError(
            f"surrogate F = {f.text!r} has no finite derivative at rho = {bad:.6g}; a surrogate "
            "reward must be differentiable inside (0, 1)"
        )
    tolerance = 1e-12 * max(1.0, float(np.max(np.abs(slope))))
    if np.any(slope < -tolerance):
        i = int(np.argmax(slope < -tolerance))
        raise ValueError(
            f"surrogate F = {f.text!r} decreases at rho = {_CHECK_GRID[i]:.6g} "
            f"(F' = {slope[i]:.6g} < 0), so it is not a reward: ascending it would push the "
            "success rate down. Use a non-decreasing F, and put decreasing terms in "
            "regularizer= with a strength lam="
        )
    if not f.at_one > f.at_zero:
        raise ValueError(
            f"surrogate F = {f.text!r} has F(1) = {f.at_one:.6g} <= F(0) = {f.at_zero:.6g}: "
            "it does not reward success"
        )


def from_surrogate(
    F: Any,
    name: str | None = None,
    regularizer: Any = None,
    lam: float = 0.0,
) -> Shaper:
    """A :class:`advshape.Shaper` that ascends F(ρ) + λ·Ω(ρ), by the forward recipe (C-2):

        A± = [F'(ρ̂) + λ·Ω'(ρ̂)] · A±_RLOO                      (paper Sec. 1.2, Eqs. 22, 26)

    F must be non-decreasing on [0, 1] and finite at both ends (checked on a grid of 4,177
    points, dense near the ends); Ω need only be differentiable inside (0, 1) and finite at the
    ends. A Python callable is differentiated numerically (:func:`numeric_derivative`), so it
    must be continuously differentiable inside (0, 1): a jump, a kink or an infinite slope is
    refused (found by Ridders' error estimate and by checking F's increments against the
    integral of F' on halved grid cells). The shaper's ``surrogate`` is F + λΩ;
    ``reverse_engineer`` of the shaper recovers it (round trip), and
    ``from_surrogate("2*asin(sqrt(rho))")`` is GRPO up to N/(N − 1) (Corollary 1). The spec
    texts ``surrogate:F;regularizer=Ω;lam=λ;name=NAME`` and ``F=F;Omega=Ω;lam=λ`` build the
    same shaper through ``advshape.shaper``; a shaper from text or SymPy pickles as that
    ``surrogate:`` text, one from a Python callable refuses to pickle.

    Args:
        F: the surrogate: a string or SymPy expression in ``rho`` (symbolic derivative), or a
            callable ρ -> value.
        name: the shaper's name (default ``"from_surrogate"``).
        regularizer: Ω, in the same forms as F, or None.
        lam: λ ≥ 0, the strength of Ω.

    Returns:
        A count-based :class:`advshape.Shaper` (binary rewards, N ≥ 2).

    Raises:
        ValueError: F or Ω does not parse, is not finite at an end, has no usable derivative
            inside (0, 1), F decreases or does not reward success, or λ is negative or given
            without Ω.

    Example:
        >>> import advshape
        >>> shaper = advshape.from_surrogate("2*asin(sqrt(rho))")  # GRPO·N/(N−1)
        >>> a_pos, a_neg = shaper.scores(1, 4)
        >>> print(f"{float(a_pos):.6f} {float(a_neg):.6f}")
        2.309401 -0.769800

    References:
        Advantage Shaping as Surrogate Reward Maximization, arXiv 2510.23049
        (https://arxiv.org/abs/2510.23049): Sec. 1.2 (C-2), Sec. 5.2, Eqs. 2, 22, 26.
    """
    lam = float(lam)
    if not math.isfinite(lam) or lam < 0:
        raise ValueError(
            f"lam (the regulariser strength λ) must be a finite number >= 0, got {lam}"
        )
    surrogate = SurrogateFunction(F, "surrogate F")
    _check_reward(surrogate)
    reg = SurrogateFunction(regularizer, "regularizer Omega") if regularizer is not None else None
    if reg is not None:
        slope = _grid_slopes(reg, "regularizer Omega")
        if not np.all(np.isfinite(slope)):
            bad = _CHECK_GRID[~np.isfinite(slope)][0]
            raise ValueError(
                f"regularizer Omega = {reg.text!r} has no finite derivative at rho = {bad:.6g}"
            )
    if reg is None and lam != 0.0:
        raise ValueError("lam is given but no regularizer: pass regularizer='...' too, or lam=0")

    def scale(rho: Array) -> Array:
        out = surrogate.derivative(rho)
        if reg is not None and lam != 0.0:
            out = out + lam * reg.derivative(rho)
        return out

    def scores(n_pos: NDArray, n: NDArray):
        n_pos, n = np.broadcast_arrays(np.asarray(n_pos, np.int64), np.asarray(n, np.int64))
        inner = (n_pos > 0) & (n_pos < n)
        factor = np.zeros(n.shape)
        factor[inner] = scale(n_pos[inner] / n[inner])
        if not np.all(np.isfinite(factor)):
            raise ValueError(
                f"F' + lam*Omega' is not finite at some rho_hat of group size {n.max()}"
            )
        a_pos, a_neg = score_formulas.rloo(n_pos, n)
        return factor * a_pos, factor * a_neg

    def value(rho: ArrayLike) -> Array:
        out = surrogate(rho)
        if reg is not None and lam != 0.0:
            out = out + lam * reg(rho)
        return out

    spec = f"F={surrogate.text}"
    formula = f"A± = F'(ρ̂)·A±_RLOO, F = {surrogate.text}"
    if reg is not None:
        # repr: the shortest text that reads back as exactly this float
        spec += f";Omega={reg.text};lam={lam!r}"
        formula = (
            f"A± = [F'(ρ̂) + λΩ'(ρ̂)]·A±_RLOO, F = {surrogate.text}, Ω = {reg.text}, λ = {lam:g}"
        )
    given_name = name
    name = name or "from_surrogate"
    info = ShaperInfo(
        summary=f"forward-engineered from the surrogate {spec}",
        paper=THIS_PAPER,
        equation="Contribution C-2 (Sec. 1.2), Eq. (2)",
        formula=formula,
        target_k=1,
        unbiased=False,
        binary_only=True,
        count_based=True,
        min_n=2,
        k_le_n=False,
    )
    params: dict[str, Any] = {"F": surrogate.text, "lam": lam}
    if reg is not None:
        params["regularizer"] = reg.text
    # Text and SymPy surrogates rebuild exactly from their source, through the spec language
    # (advshape.shaper reads "surrogate:..."); one built from a Python callable has no text,
    # so pickle refuses it at dumps, not in the worker.
    recipe = None
    if surrogate.source is not None and (reg is None or reg.source is not None):
        recipe = surrogate_spec(
            surrogate.source, None if reg is None else reg.source, lam, given_name
        )
    return count_shaper(
        name,
        scores,
        params=params,
        spec=spec,
        info=info,
        surrogate=value,
        rebuild=None if recipe is None else (registry_shaper, recipe),
    )
