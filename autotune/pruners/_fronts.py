"""Non-dominated ranks of (value up, cost down) points, for pruning several objectives."""

from __future__ import annotations

import math
from collections.abc import Sequence


def front_ranks(points: Sequence[tuple[float, float]]) -> list[int]:
    """The non-dominated front of each ``(value, cost)`` point: 0 for the first front.

    A point dominates another when its value is at least as high and its cost at most as low,
    and it is strictly better in one of them.

    Example:
        >>> front_ranks([(0.9, 10.0), (0.8, 20.0), (0.95, 30.0), (0.7, 30.0)])
        [0, 1, 0, 2]
    """
    ranks = [-1] * len(points)
    left = set(range(len(points)))
    front = 0
    while left:
        current = {
            i
            for i in left
            if not any(
                points[j][0] >= points[i][0]
                and points[j][1] <= points[i][1]
                and (points[j][0] > points[i][0] or points[j][1] < points[i][1])
                for j in left
            )
        }
        for i in current:
            ranks[i] = front
        left -= current
        front += 1
    return ranks


def crowding(points: Sequence[tuple[float, float]], members: Sequence[int]) -> dict[int, float]:
    """NSGA-II's crowding distance of each member of one front: the two ends (highest value,
    lowest cost) are infinitely far, the others get the gap between their neighbours.

    Example:
        >>> crowding([(0.9, 30.0), (0.8, 10.0), (0.6, 5.0)], [0, 1, 2])
        {2: inf, 0: inf, 1: 2.0}
    """
    order = sorted(members, key=lambda i: (points[i][0], -points[i][1]))
    if len(order) <= 2:
        return {i: math.inf for i in order}
    distance = {order[0]: math.inf, order[-1]: math.inf}
    for i in order[1:-1]:
        distance[i] = 0.0
    for axis in (0, 1):
        low = min(points[i][axis] for i in order)
        span = max(points[i][axis] for i in order) - low
        for before, i, after in zip(order, order[1:-1], order[2:], strict=False):
            if span > 0:
                distance[i] += abs(points[after][axis] - points[before][axis]) / span
    return distance


def front_order(points: Sequence[tuple[float, float]]) -> list[int]:
    """Point indices best first: by front, then by crowding distance (the front's ends and
    sparse regions first, as MOASHA and NSGA-II keep them), then by value, then as given.

    Example:
        >>> front_order([(0.8, 20.0), (0.9, 10.0), (0.95, 30.0), (0.85, 25.0)])
        [2, 1, 3, 0]
    """
    ranks = front_ranks(points)
    distance: dict[int, float] = {}
    for front in set(ranks):
        distance.update(crowding(points, [i for i, r in enumerate(ranks) if r == front]))
    return sorted(range(len(points)), key=lambda i: (ranks[i], -distance[i], -points[i][0]))
