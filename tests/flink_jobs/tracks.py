"""Hand-built tracks around the pizza shop for the dwell rule's tests: pure functions, no I/O.

A track is a path of waypoints ``(t_s, east_m, north_m)`` in metres from the shop's centre,
walked in straight lines between them; a phone samples it every few seconds with the noise its
reported accuracy says (a 2-D Gaussian whose 68 % radius is the accuracy, as the simulator's
phones). Everything is relative to the shop read from the mall file, so a test holds whatever
the layout.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from flink_jobs.dwell_rule import Fix
from simulator.geometry import LocalProjection
from simulator.mall import Mall
from simulator.pings import ACCURACY_68_TO_SIGMA

__all__ = [
    "Waypoint",
    "crossings_s",
    "fixes_of",
    "position_at",
    "sample_track",
    "stand",
    "walk_to",
]

# (seconds from the track's start, metres east, metres north of the shop's centre)
Waypoint = tuple[float, float, float]
WALK_SPEED_MPS = 1.2


def walk_to(path: list[Waypoint], east_m: float, north_m: float, speed_mps: float) -> None:
    """Extend a path by a straight walk at ``speed_mps`` to a point."""
    t_s, east0, north0 = path[-1]
    path.append((t_s + math.hypot(east_m - east0, north_m - north0) / speed_mps, east_m, north_m))


def stand(path: list[Waypoint], seconds: float) -> None:
    """Extend a path by standing still."""
    t_s, east_m, north_m = path[-1]
    path.append((t_s + seconds, east_m, north_m))


def position_at(path: Sequence[Waypoint], t_s: float) -> tuple[float, float]:
    """The true position at ``t_s`` (held at the ends)."""
    if t_s <= path[0][0]:
        return path[0][1], path[0][2]
    for (t0, e0, n0), (t1, e1, n1) in itertools.pairwise(path):
        if t_s <= t1:
            u = 0.0 if t1 == t0 else (t_s - t0) / (t1 - t0)
            return e0 + u * (e1 - e0), n0 + u * (n1 - n0)
    return path[-1][1], path[-1][2]


def crossings_s(path: Sequence[Waypoint], radius_m: float, step_s: float = 0.01) -> list[float]:
    """Times (to ``step_s``) at which the true path crosses a circle around the shop."""
    times: list[float] = []
    inside = math.hypot(*position_at(path, path[0][0])) <= radius_m
    steps = int((path[-1][0] - path[0][0]) / step_s)
    for k in range(1, steps + 1):
        t_s = path[0][0] + k * step_s
        now_inside = math.hypot(*position_at(path, t_s)) <= radius_m
        if now_inside != inside:
            times.append(t_s)
            inside = now_inside
    return times


@dataclass(frozen=True)
class Phone:
    """How a test phone reports: every ``every_s`` seconds, accuracies drawn from a range."""

    every_s: int = 5
    accuracy_range_m: tuple[float, float] = (5.0, 20.0)
    noisy: bool = True


def sample_track(
    customer_id: int,
    path: Sequence[Waypoint],
    *,
    mall: Mall,
    start_ms: int,
    seed: int,
    phone: Phone = Phone(),
    skip_s: Sequence[tuple[float, float]] = (),
) -> list[dict[str, object]]:
    """The pings of a phone along ``path``: one every ``phone.every_s`` from its first waypoint
    to its last, none during the silences ``skip_s`` (start inclusive, end exclusive)."""
    rng = random.Random(seed)
    shop = mall.pizza_shop
    plane = LocalProjection(shop.lat, shop.lon)
    pings: list[dict[str, object]] = []
    t_s = path[0][0]
    while t_s <= path[-1][0]:
        east_m, north_m = position_at(path, t_s)
        accuracy_m = round(rng.uniform(*phone.accuracy_range_m), 1)
        if phone.noisy:
            sigma_m = accuracy_m * float(ACCURACY_68_TO_SIGMA)
            east_m += rng.gauss(0.0, sigma_m)
            north_m += rng.gauss(0.0, sigma_m)
        if not any(low <= t_s < high for low, high in skip_s):
            lat, lon = plane.to_latlon(east_m, north_m)
            ts_ms = start_ms + round(t_s * 1000)
            pings.append({
                "event_id": f"c{customer_id}-{ts_ms}",
                "customer_id": customer_id,
                "device_id": f"phone-{customer_id}",
                "ts": ts_ms,
                "lat": lat,
                "lon": lon,
                "accuracy_m": accuracy_m,
            })  # fmt: skip
        t_s += phone.every_s
    return pings


def fixes_of(pings: Sequence[dict[str, object]], mall: Mall) -> list[Fix]:
    """The fixes the job's rule sees: metres from the shop computed as stage 4 computes them."""
    shop = mall.pizza_shop
    plane = LocalProjection(shop.lat, shop.lon)
    return [
        Fix(
            ts_ms=int(ping["ts"]),  # type: ignore[call-overload]
            east_m=(float(ping["lon"]) - shop.lon) * plane.metres_per_degree_lon,  # type: ignore[arg-type]
            north_m=(float(ping["lat"]) - shop.lat) * plane.metres_per_degree_lat,  # type: ignore[arg-type]
            accuracy_m=float(ping["accuracy_m"]),  # type: ignore[arg-type]
        )
        for ping in sorted(pings, key=lambda ping: int(ping["ts"]))  # type: ignore[call-overload]
    ]
