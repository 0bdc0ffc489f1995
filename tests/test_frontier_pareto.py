"""The fixed-K frontier (dominated convex hull) and the gap, on hand-made exact points."""

from __future__ import annotations

import itertools
from fractions import Fraction as Q

import pytest

from advshape.frontier.pareto import envelope, frontier_at, gap, pareto_points


def brute_force_frontier(points, x):
    """max pass@K over every mixture of two points (all the hull needs) with pass@1 >= x;
    None when no mixture reaches x. Mixtures: λ·a + (1 − λ)·b at the λ where pass@1 = x, or
    a point itself when its pass@1 >= x (giving up pass@1 is free)."""
    best = None
    for a in points:
        if a[0] >= x:
            best = a[1] if best is None else max(best, a[1])
    for a, b in itertools.combinations(points, 2):
        lo, hi = sorted((a, b))
        if lo[0] < x <= hi[0] and lo[0] != hi[0]:
            lam = (x - lo[0]) / (hi[0] - lo[0])
            y = lo[1] + lam * (hi[1] - lo[1])
            best = y if best is None else max(best, y)
    return best


POINTS = [
    (Q(20, 100), Q(80, 100)),  # K = 16: most pass@K
    (Q(30, 100), Q(60, 100)),  # under the chord from K = 16 to K = 4: not a vertex
    (Q(40, 100), Q(55, 100)),  # K = 4
    (Q(35, 100), Q(50, 100)),  # dominated by K = 4
    (Q(50, 100), Q(40, 100)),  # K = 1: most pass@1
]


def test_pareto_points_drop_dominated_and_duplicates():
    assert pareto_points([*POINTS, POINTS[0]]) == [POINTS[0], POINTS[1], POINTS[2], POINTS[4]]
    # equal pass@1: only the higher pass@K stays
    assert pareto_points([(Q(1, 2), Q(1, 3)), (Q(1, 2), Q(2, 3))]) == [(Q(1, 2), Q(2, 3))]


def test_envelope_is_the_upper_hull_of_the_pareto_points():
    assert envelope(POINTS) == [POINTS[0], POINTS[2], POINTS[4]]
    # a point exactly on a chord is not a vertex (the line through it is the same)
    assert envelope([(Q(0), Q(1)), (Q(1, 2), Q(1, 2)), (Q(1), Q(0))]) == [
        (Q(0), Q(1)),
        (Q(1), Q(0)),
    ]
    assert envelope([(Q(1, 2), Q(1, 2))]) == [(Q(1, 2), Q(1, 2))]
    with pytest.raises(ValueError, match="at least one point"):
        envelope([])


def test_frontier_value_equals_the_best_mixture_everywhere():
    vertices = envelope(POINTS)
    for x in [Q(i, 200) for i in range(0, 101)]:
        best = brute_force_frontier(POINTS, x)
        value, where = frontier_at(vertices, x)
        if best is None:  # no mixture reaches this pass@1: flat extension, marked
            assert where == "beyond" and x > Q(1, 2) and value == Q(40, 100)
        else:
            assert value == best, x
            assert where == ("left" if x < Q(20, 100) else "on")


def test_gap_on_hand_made_points():
    vertices = envelope(POINTS)
    # between K = 16 and K = 4: F(0.3) = 0.8 + (0.55 − 0.8)·(0.1/0.2) = 0.675
    assert gap(vertices, Q(30, 100), Q(70, 100)) == (Q(1, 40), "on")
    # the point under the chord has a negative gap: a mixture of K = 16 and K = 4 beats it
    assert gap(vertices, *POINTS[1]).value == Q(60, 100) - Q(675, 1000)
    # vertices themselves sit on the frontier
    for p in vertices:
        assert gap(vertices, *p).value == 0
    # beyond the largest pass@1: against the K = 1 end, flat
    assert gap(vertices, Q(60, 100), Q(45, 100)) == (Q(5, 100), "beyond")
    # left of the range: the most-pass@K vertex dominates
    assert gap(vertices, Q(10, 100), Q(70, 100)) == (Q(-10, 100), "left")


def test_floats_work_the_same_way():
    vertices = envelope([(float(x), float(y)) for x, y in POINTS])
    value, where = gap(vertices, 0.3, 0.7)
    assert where == "on" and value == pytest.approx(0.025, abs=1e-15)
