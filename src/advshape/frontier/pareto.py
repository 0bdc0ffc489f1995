"""The fixed-K frontier: which pass@1/pass@K points training with a fixed K can reach.

Each run of a fixed-K shaper (grpo_k or rloo_k with K = 1, 2, …, 16) ends at a point
(x, y) = (pass@1, pass@K). Two trained policies A and B can be mixed: answer each problem with
A with probability λ and with B otherwise. All K samples then come from one policy, so the
mixture's pass@1 and pass@K are both λ·A + (1 − λ)·B: every point on the segment between two
reached points is reachable too. Giving up pass@1 or pass@K is free as well (a point below or
left of a reachable point is no better than it). The **fixed-K frontier** is the upper-right
boundary of that set, the dominated convex hull of the fixed-K points:

    F(x) = max { pass@K of a mixture of fixed-K runs whose pass@1 ≥ x },

a non-increasing, concave, piecewise-linear function through the hull's vertices: the
Pareto-optimal points, less those that lie under a chord of two others, joined by straight
lines ("mixture interpolation"; between two adjacent K's that are both on the hull it is the
straight line between their points). Left of the vertex with the smallest pass@1, F is that
vertex's pass@K (it dominates everything there). Right of the vertex with the largest pass@1
no fixed-K mixture reaches x; F is then extended flat at that vertex's pass@K, and the
comparison is marked ``beyond``.

The **gap** of a point X is pass@K(X) − F(pass@1(X)): positive when X lies above every
mixture of fixed-K runs with at least its pass@1.

Everything here is plain arithmetic on the coordinates, so it is exact on ``Fraction``s (the
tests use hand-made points).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = ["FrontierValue", "envelope", "frontier_at", "gap", "pareto_points"]


class FrontierValue(NamedTuple):
    """F(x) (or a gap) and where x lies against the frontier's range of pass@1.

    Attributes:
        value: F(x), or the gap pass@K(X) − F(x) (:func:`gap`).
        where: ``"left"`` of the vertex with the smallest pass@1, ``"on"`` the range of the
            vertices, or ``"beyond"`` the largest (F extended flat there).

    Example:
        >>> from advshape.frontier.pareto import frontier_at
        >>> frontier_at([(0.25, 0.75), (0.5, 0.5)], 0.375)
        FrontierValue(value=0.625, where='on')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the 0/1 and Pass@K rewards, Sec. 1.1; shaping for both, Sec. 6.1).
    """

    value: Any
    where: str


def pareto_points(points: Sequence[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The points no other point weakly dominates, sorted by pass@1 ascending.

    A point is dropped when another is higher or equal on both axes and higher on one;
    duplicates are kept once. Sorted by x ascending, the kept points' y descend.

    Args:
        points: (pass@1, pass@K) pairs.

    Returns:
        The Pareto-optimal points, sorted by pass@1.

    Example:
        >>> from advshape.frontier.pareto import pareto_points
        >>> pareto_points([(0.2, 0.8), (0.3, 0.7), (0.25, 0.6), (0.3, 0.7)])
        [(0.2, 0.8), (0.3, 0.7)]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the 0/1 and Pass@K rewards, Sec. 1.1; shaping for both, Sec. 6.1).
    """
    unique = sorted(set(points), key=lambda p: (p[0], p[1]))
    best: list[tuple[Any, Any]] = []
    # sweep from the right: a point is optimal when its y beats every point with a larger x
    top = None
    for x, y in reversed(unique):
        if top is None or y > top:
            best.append((x, y))
            top = y
    return best[::-1]


def envelope(points: Sequence[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The vertices of the fixed-K frontier: the upper concave hull of the Pareto points.

        F(x) = max { λ·y_a + (1 − λ)·y_b : λ·x_a + (1 − λ)·x_b ≥ x, λ ∈ [0, 1] }

    over pairs of points a, b: the best pass@K of a mixture of two runs with pass@1 at least x
    (extended flat beyond the largest pass@1, which no mixture exceeds).

    Args:
        points: (pass@1, pass@K) of the fixed-K runs (at least one).

    Returns:
        The vertices, sorted by pass@1 ascending (pass@K descending); F is linear between them.

    Raises:
        ValueError: no points.

    Example:
        >>> from advshape.frontier.pareto import envelope
        >>> envelope([(0.2, 0.8), (0.3, 0.6), (0.4, 0.55), (0.35, 0.5)])  # (0.3, 0.6) under the chord
        [(0.2, 0.8), (0.4, 0.55)]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the 0/1 and Pass@K rewards, Sec. 1.1; shaping for both, Sec. 6.1). The hull by Andrew's monotone chain, A. M. Andrew 1979, Inf. Process.
        Lett. 9(5).
    """
    if not points:
        raise ValueError("the fixed-K frontier needs at least one point")
    hull: list[tuple[Any, Any]] = []
    for p in pareto_points(points):
        # drop the last vertex while it lies on or under the chord from the one before it to p
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (y2 - y1) * (p[0] - x1) <= (p[1] - y1) * (x2 - x1):
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


def frontier_at(vertices: Sequence[tuple[Any, Any]], x: Any) -> FrontierValue:
    """F(x) on the frontier with these vertices (from :func:`envelope`).

        F(x) = y₁ + (y₂ − y₁)·(x − x₁)/(x₂ − x₁) between adjacent vertices x₁ ≤ x ≤ x₂;
        the first vertex's y left of the range, the last vertex's y beyond it.

    Args:
        vertices: the frontier's vertices, sorted by pass@1 (at least one).
        x: a pass@1.

    Returns:
        The :class:`FrontierValue` F(x) and where x lies.

    Example:
        >>> from advshape.frontier.pareto import frontier_at
        >>> v = [(0.25, 0.75), (0.5, 0.5)]
        >>> frontier_at(v, 0.375)
        FrontierValue(value=0.625, where='on')
        >>> frontier_at(v, 0.125), frontier_at(v, 0.625)
        (FrontierValue(value=0.75, where='left'), FrontierValue(value=0.5, where='beyond'))

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the 0/1 and Pass@K rewards, Sec. 1.1; shaping for both, Sec. 6.1).
    """
    first, last = vertices[0], vertices[-1]
    if x <= first[0]:
        return FrontierValue(first[1], "left" if x < first[0] else "on")
    if x > last[0]:
        return FrontierValue(last[1], "beyond")
    for (x1, y1), (x2, y2) in itertools.pairwise(vertices):
        if x1 <= x <= x2:
            return FrontierValue(y1 + (y2 - y1) * (x - x1) / (x2 - x1), "on")
    raise AssertionError("unreachable: x lies between the first and the last vertex")


def gap(vertices: Sequence[tuple[Any, Any]], x: Any, y: Any) -> FrontierValue:
    """The gap of a point X = (x, y) to the frontier: pass@K(X) − F(pass@1(X)).

        gap(X) = y − F(x)

    Positive when X lies above every mixture of fixed-K runs with at least its pass@1.

    Args:
        vertices: the frontier's vertices (from :func:`envelope`).
        x: X's pass@1.
        y: X's pass@K.

    Returns:
        The :class:`FrontierValue` y − F(x) and where x lies.

    Example:
        >>> from fractions import Fraction as Q
        >>> from advshape.frontier.pareto import gap
        >>> gap([(Q(1, 5), Q(4, 5)), (Q(2, 5), Q(3, 5))], Q(3, 10), Q(3, 4))  # 3/4 − 7/10
        FrontierValue(value=Fraction(1, 20), where='on')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the 0/1 and Pass@K rewards, Sec. 1.1; shaping for both, Sec. 6.1).
    """
    value, where = frontier_at(vertices, x)
    return FrontierValue(y - value, where)
