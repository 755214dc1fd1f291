"""pareto_front on hand-made points and, property-style, on random ones."""

from __future__ import annotations

import random

import pytest

from autotune.results import pareto_front


def _dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([], []),
        ([(0.5, 10.0)], [True]),
        # more accurate and faster wins outright
        ([(0.8, 20.0), (0.9, 10.0)], [False, True]),
        # a trade-off: both on the front
        ([(0.9, 30.0), (0.8, 10.0)], [True, True]),
        # equal accuracy: only the faster one
        ([(0.9, 30.0), (0.9, 10.0)], [False, True]),
        # equal seconds: only the more accurate one
        ([(0.9, 10.0), (0.95, 10.0)], [False, True]),
        # identical points do not dominate each other
        ([(0.9, 10.0), (0.9, 10.0), (0.7, 50.0)], [True, True, False]),
        # a staircase with points behind each step
        (
            [(0.99, 100.0), (0.97, 40.0), (0.98, 90.0), (0.96, 45.0), (0.90, 5.0), (0.89, 6.0)],
            [True, True, True, False, True, False],
        ),
    ],
)
def test_front_of_hand_made_points(points, expected) -> None:
    assert pareto_front(points) == expected


@pytest.mark.parametrize("seed", range(30))
def test_no_front_point_is_dominated_and_every_other_point_is(seed: int) -> None:
    rng = random.Random(seed)
    # a coarse grid makes ties in accuracy, in seconds and whole duplicates common
    points = [
        (rng.randint(0, 12) / 12, float(rng.randint(1, 15))) for _ in range(rng.randint(1, 40))
    ]

    front = pareto_front(points)

    for i, point in enumerate(points):
        dominated = any(_dominates(other, point) for other in points)
        assert front[i] is not dominated, (i, point, points)
