"""How well the simulated positioning separates people in the pizza shop from everyone else.

Prints, for the shipped layout (data/mall.json) and the simulator's phones (5-20 m accuracy,
a fix every 3-10 s, simulator/pings.py):

1. the geometry: how far from the shop's centre its own browsing spots lie, and the nearest
   stop position of anything else (stores' browsing areas, food-court seats, entrances);
2. the error of a 60 s accuracy-weighted mean of the fixes for a phone standing still (the
   smoothing a trigger would use), over many phones: the figure the truth's radii rest on;
3. the same mean along simulated visits: its distance from the shop's centre while the true
   position stayed within the truth's inner radius, and while it stayed beyond the outer one.

Needs no stack; deterministic for a seed. Figures go to docs/simulator.md.

    .venv/bin/python bench/geofence_separation.py [--visits 4000] [--seed 1]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from pizzario import load_config
from simulator import load_mall
from simulator.agents import (
    SHOP_MARGIN_M,
    Destinations,
    Trajectory,
    behaviour_for,
    build_trajectory,
    plan_visit,
)
from simulator.mall import Mall
from simulator.pings import PingBatch, device_for, sample_pings
from simulator.walkways import WalkGraph

WINDOW_S = 60.0
UNBOUNDED = (-1e6, 1e6, -1e6, 1e6)


def weighted_means(pings: PingBatch, window_s: float = WINDOW_S) -> tuple[np.ndarray, ...]:
    """At each fix, the 1/accuracy^2-weighted mean of the fixes of the last ``window_s``.

    Returns the mean's x and y, and the farthest and nearest true position (from the shop's
    centre, given as the origin of ``pings``) among the fixes averaged.
    """
    t = pings.t_s
    weight = 1.0 / pings.accuracy_m ** 2
    cumulative = [np.concatenate([[0.0], np.cumsum(v)]) for v in
                  (weight, weight * pings.x_m, weight * pings.y_m)]
    first = np.searchsorted(t, t - window_s, side="right")
    last = np.arange(1, t.size + 1)
    total, sum_x, sum_y = (c[last] - c[first] for c in cumulative)
    true_d = np.hypot(pings.true_x_m, pings.true_y_m)
    farthest = np.array([true_d[a:b].max() for a, b in zip(first, last, strict=True)])
    nearest = np.array([true_d[a:b].min() for a, b in zip(first, last, strict=True)])
    return sum_x / total, sum_y / total, farthest, nearest


def geometry(mall: Mall, rng: np.random.Generator) -> dict[str, float]:
    """Distances from the shop's centre of its own browsing spots and of other stop positions."""
    graph = WalkGraph(mall)
    cx, cy = mall.projection.to_xy(mall.pizza_shop.lat, mall.pizza_shop.lon)

    def spots(zone_id: str, n: int) -> np.ndarray:
        x0, x1, y0, y1 = graph.rect_m(zone_id)
        x = rng.uniform(x0 + SHOP_MARGIN_M, x1 - SHOP_MARGIN_M, n)
        y = rng.uniform(y0 + SHOP_MARGIN_M, y1 - SHOP_MARGIN_M, n)
        return np.hypot(x - cx, y - cy)

    own = spots(mall.pizza_shop.zone_id, 100_000)
    others = [zone for zone in mall.zones if zone.kind in ("store", "food_court")]
    nearest_area = min(_nearest_in_area(graph.rect_m(zone.id), cx, cy) for zone in others)
    entrances = [node for node in mall.nodes
                 if mall.zone(node.zone_id).kind in ("entrance", "food_court")]
    nearest_node = min(math.dist(graph.xy[node.id], (cx, cy)) for node in entrances)
    return {"own p50": float(np.percentile(own, 50)), "own p95": float(np.percentile(own, 95)),
            "own max": float(own.max()), "nearest other browsing spot": nearest_area,
            "nearest entrance or food-court node": nearest_node}


def _nearest_in_area(rect: tuple[float, float, float, float], cx: float, cy: float) -> float:
    x0, x1, y0, y1 = rect
    dx = max(x0 + SHOP_MARGIN_M - cx, 0.0, cx - x1 + SHOP_MARGIN_M)
    dy = max(y0 + SHOP_MARGIN_M - cy, 0.0, cy - y1 + SHOP_MARGIN_M)
    return math.hypot(dx, dy)


def still_phone_errors(phones: int, minutes: float, rng: np.random.Generator) -> np.ndarray:
    """Radial errors of the 60 s weighted mean of phones standing still (one per window)."""
    errors = []
    still = Trajectory(np.array([0.0, minutes * 60]), np.zeros(2), np.zeros(2))
    for phone in range(phones):
        pings = sample_pings(still, device_for(phone, "still"), (0.0, 1e9), UNBOUNDED, rng)
        x, y, _, _ = weighted_means(pings)
        keep = pings.t_s >= WINDOW_S  # full windows only
        errors.append(np.hypot(x, y)[keep])
    return np.concatenate(errors)


def along_visits(mall: Mall, visits: int, inner_m: float, outer_m: float,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The mean's distance from the centre while truly within ``inner_m`` / beyond ``outer_m``."""
    graph, places = WalkGraph(mall), Destinations.of(mall)
    cx, cy = mall.projection.to_xy(mall.pizza_shop.lat, mall.pizza_shop.lon)
    inside, outside = [], []
    for index in range(visits):
        # High spenders stop for pizza and browse most, so both sides get many windows.
        plan = plan_visit(behaviour_for(90.0), places, rng, 7200.0)
        trajectory = build_trajectory(plan, graph, 0.0, rng)
        centred = Trajectory(trajectory.t_s, trajectory.x_m - cx, trajectory.y_m - cy)
        pings = sample_pings(centred, device_for(index, "visit"), (0.0, 1e9), UNBOUNDED, rng)
        if pings.t_s.size == 0:
            continue
        x, y, farthest, nearest = weighted_means(pings)
        distance = np.hypot(x, y)
        full = pings.t_s - pings.t_s[0] >= WINDOW_S
        inside.append(distance[full & (farthest <= inner_m)])
        # Beyond the outer radius and within 60 m: next door and on the way there.
        outside.append(distance[full & (nearest >= outer_m) & (farthest <= 60.0)])
    return np.concatenate(inside), np.concatenate(outside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=4000)
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = load_config()
    mall = load_mall(config.paths.mall_json)
    rng = np.random.default_rng(args.seed)
    print(f"layout {config.paths.mall_json.name}: geofence {mall.pizza_shop.geofence_radius_m:g} m")
    for name, value in geometry(mall, rng).items():
        print(f"  {name:38s} {value:6.1f} m")
    errors = still_phone_errors(args.phones, 30.0, rng)
    quantiles = (50, 95, 99, 99.9)
    print(f"60 s weighted mean of a phone standing still ({errors.size:,} windows, "
          f"{args.phones} phones):")
    print("  radial error " + ", ".join(
        f"p{q:g} {np.percentile(errors, q):.1f} m" for q in quantiles))
    truth = config.truth
    inside, outside = along_visits(mall, args.visits, truth.inner_radius_m,
                                   truth.outer_radius_m, rng)
    print(f"60 s weighted mean along {args.visits} visits, distance from the shop's centre:")
    print(f"  truly within {truth.inner_radius_m:g} m ({inside.size:,} windows): " + ", ".join(
        f"p{q:g} {np.percentile(inside, q):.1f} m" for q in quantiles) +
        f", max {inside.max():.1f} m")
    print(f"  truly beyond {truth.outer_radius_m:g} m, within 60 m ({outside.size:,} windows): "
          + ", ".join(f"p{q:g} {np.percentile(outside, q):.1f} m" for q in (0.1, 1, 5, 50))
          + f", min {outside.min():.1f} m")
    radius = mall.pizza_shop.geofence_radius_m
    print(f"  share on the wrong side of the {radius:g} m geofence: inside "
          f"{np.mean(inside > radius):.2e}, outside {np.mean(outside <= radius):.2e}")


if __name__ == "__main__":
    main()
