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
    n = len(points)

    def dominates(j: int, i: int) -> bool:
        (vj, cj), (vi, ci) = points[j], points[i]
        return vj >= vi and cj <= ci and (vj > vi or cj < ci)

    # NSGA-II's fast non-dominated sort: O(n^2) comparisons
    beaten_by = [0] * n
    beats: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(i, j):
                beats[i].append(j)
                beaten_by[j] += 1
            elif dominates(j, i):
                beats[j].append(i)
                beaten_by[i] += 1
    ranks = [-1] * n
    current = [i for i in range(n) if beaten_by[i] == 0]
    front = 0
    while current:
        following = []
        for i in current:
            ranks[i] = front
            for j in beats[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    following.append(j)
        current = following
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
