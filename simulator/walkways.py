"""The walkable graph of a mall in local metres, with cached shortest paths."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from simulator.mall import Mall

__all__ = ["WalkGraph"]


@dataclass
class WalkGraph:
    """Nodes of ``mall.walkways`` projected to metres, and shortest paths between them.

    Built once per run; :meth:`path` memoises one Dijkstra tree per source node, which for a
    mall of a few dozen nodes costs microseconds and keeps planning a visit cheap.
    """

    mall: Mall
    xy: dict[str, tuple[float, float]] = field(init=False)
    node_of_zone: dict[str, str] = field(init=False)
    _neighbours: dict[str, list[tuple[str, float]]] = field(init=False)
    _trees: dict[str, dict[str, str]] = field(init=False, default_factory=dict)
    _paths: dict[tuple[str, str], np.ndarray] = field(init=False, default_factory=dict)
    _rects: dict[str, tuple[float, float, float, float]] = field(init=False, default_factory=dict)
    _lengths: dict[tuple[str, str], float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        projection = self.mall.projection
        self.xy = {node.id: projection.to_xy(node.lat, node.lon) for node in self.mall.nodes}
        # The first node listed in a zone is where people go to reach that zone.
        self.node_of_zone = {}
        for node in self.mall.nodes:
            self.node_of_zone.setdefault(node.zone_id, node.id)
        self._neighbours = {node.id: [] for node in self.mall.nodes}
        for a, b in self.mall.edges:
            length = math.dist(self.xy[a], self.xy[b])
            self._neighbours[a].append((b, length))
            self._neighbours[b].append((a, length))

    def rect_m(self, zone_id: str) -> tuple[float, float, float, float]:
        """A zone's rectangle in local metres: ``(x0, x1, y0, y1)``."""
        if zone_id not in self._rects:
            rect = self.mall.zone(zone_id).rect
            x0, y0 = self.mall.projection.to_xy(rect.min_lat, rect.min_lon)
            x1, y1 = self.mall.projection.to_xy(rect.max_lat, rect.max_lon)
            self._rects[zone_id] = (x0, x1, y0, y1)
        return self._rects[zone_id]

    def front_node(self, zone_id: str) -> str:
        """The walkway node outside a shop's door: the one its own node connects to."""
        return self._neighbours[self.node_of_zone[zone_id]][0][0]

    def path_length_m(self, source: str, target: str) -> float:
        key = (source, target)
        if key not in self._lengths:
            corners = self.path(source, target)
            self._lengths[key] = float(np.hypot(*np.diff(corners, axis=0).T).sum())
        return self._lengths[key]

    def path(self, source: str, target: str) -> np.ndarray:
        """Corner points from ``source`` to ``target`` (both included) as an ``(n, 2)`` array."""
        key = (source, target)
        if key not in self._paths:
            parents = self._tree(target)
            nodes = [source]
            while nodes[-1] != target:
                nodes.append(parents[nodes[-1]])
            self._paths[key] = np.array([self.xy[node] for node in nodes], dtype=float)
        return self._paths[key]

    def _tree(self, root: str) -> dict[str, str]:
        """Dijkstra from ``root``: each node's next hop towards it."""
        if root not in self._trees:
            distance = {root: 0.0}
            parents: dict[str, str] = {}
            queue = [(0.0, root)]
            while queue:
                dist, node = heapq.heappop(queue)
                if dist > distance[node]:
                    continue
                for nxt, length in self._neighbours[node]:
                    candidate = dist + length
                    if candidate < distance.get(nxt, math.inf):
                        distance[nxt] = candidate
                        parents[nxt] = node
                        heapq.heappush(queue, (candidate, nxt))
            self._trees[root] = parents
        return self._trees[root]
