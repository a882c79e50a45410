from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from simulator import Mall
from simulator.agents import (
    WALK_SPEED_RANGE_MPS,
    Destinations,
    Trajectory,
    VisitPlan,
    behaviour_for,
    build_trajectory,
    departure_bound_s,
    plan_visit,
)
from simulator.pings import device_for, geofence_stays, sample_pings
from simulator.walkways import WalkGraph


def _visits(mall: Mall, count: int, score: float | None, seed: int = 3
            ) -> Iterator[tuple[VisitPlan, Trajectory, WalkGraph]]:
    graph, places = WalkGraph(mall), Destinations.of(mall)
    rng = np.random.default_rng(seed)
    for index in range(count):
        plan = plan_visit(behaviour_for(score), places, rng, 7200.0)
        yield plan, build_trajectory(plan, graph, 1_000.0 * index, rng), graph


def test_paths_stay_on_walkable_zones(mall: Mall) -> None:
    projection = mall.projection
    checked = 0
    for _, trajectory, _ in _visits(mall, 60, score=70):
        t = np.arange(trajectory.arrival_s, trajectory.departure_s, 0.5)
        lat, lon = projection.to_latlon(*trajectory.position(t))
        outside = [(a, b) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)
                   if mall.zone_at(a, b) is None]
        assert outside == []
        checked += t.size
    assert checked > 100_000


def test_walking_speeds_stay_human(mall: Mall) -> None:
    low, high = WALK_SPEED_RANGE_MPS
    for plan, trajectory, _ in _visits(mall, 200, score=50):
        assert low <= plan.walk_speed_mps <= high
        step_m = np.hypot(np.diff(trajectory.x_m), np.diff(trajectory.y_m))
        step_s = np.diff(trajectory.t_s)
        moving = step_m > 0
        speed = step_m[moving] / step_s[moving]
        assert speed.max() <= high + 1e-9
        # Slowest movement is browsing inside a shop (0.5 m/s); nobody teleports or crawls.
        assert speed.min() >= 0.5 - 1e-9
        assert np.all(step_s >= 0)


def test_dwell_times_and_the_pizza_stop_mix(mall: Mall) -> None:
    plans = [plan for plan, _, _ in _visits(mall, 1500, score=90)]
    store_dwell = [d for plan in plans for zone, d in plan.stops if zone.startswith("store-")]
    pizza_dwell = [d for plan in plans for zone, d in plan.stops if zone == "pizzario"]
    assert min(store_dwell) >= 60 and max(store_dwell) <= 1800
    assert 180 < float(np.median(store_dwell)) < 600
    # Both sides of the 180 s offer threshold occur: look-and-leave and queue-and-eat.
    short = sum(d < 180 for d in pizza_dwell)
    assert 0.25 < short / len(pizza_dwell) < 0.55
    assert max(pizza_dwell) > 600


def test_high_spending_segments_visit_more_and_stop_for_pizza_more(mall: Mall) -> None:
    def summary(score: float) -> tuple[float, float]:
        plans = [plan for plan, _, _ in _visits(mall, 1500, score=score, seed=11)]
        stores = np.mean([sum(z.startswith("store-") for z, _ in p.stops) for p in plans])
        return float(stores), float(np.mean([p.stops_at_pizza_shop for p in plans]))

    careful_stores, careful_pizza = summary(10)
    keen_stores, keen_pizza = summary(90)
    # behaviour_for: 1 + Poisson(0.5 + 3.5 s) stores, 0.10 + 0.35 s pizza stops (s = score/100).
    assert careful_stores == pytest.approx(1 + 0.85, abs=0.15)
    assert keen_stores == pytest.approx(1 + 3.65, abs=0.2)
    assert careful_pizza == pytest.approx(0.135, abs=0.03)
    assert keen_pizza == pytest.approx(0.415, abs=0.04)


def test_departure_bound_is_never_early(mall: Mall) -> None:
    for plan, trajectory, graph in _visits(mall, 300, score=60):
        bound = departure_bound_s(plan, graph, trajectory.arrival_s)
        assert trajectory.departure_s <= bound + 1e-6
        # Loose only by the browsing moves it cannot know (at most a few minutes a stop).
        assert bound - trajectory.departure_s < 200 * len(plan.stops)


def test_geofence_stays_match_the_path(mall: Mall) -> None:
    shop = mall.pizza_shop
    centre = mall.projection.to_xy(shop.lat, shop.lon)
    radius = shop.geofence_radius_m
    stopped = passed = 0
    rng = np.random.default_rng(5)
    for plan, trajectory, _ in _visits(mall, 300, score=80):
        stays = geofence_stays(trajectory, centre, radius)
        pings = sample_pings(trajectory, device_for(1, "dev"), (0.0, 1e12),
                             (-1e4, 1e4, -1e4, 1e4), rng)
        distance = np.hypot(pings.true_x_m - centre[0], pings.true_y_m - centre[1])
        inside_a_stay = np.zeros(pings.t_s.size, dtype=bool)
        for enter, leave in stays:
            span = (pings.t_s >= enter) & (pings.t_s <= leave)
            inside_a_stay |= span
            # Every ping during a stay is truly inside the geofence ...
            assert np.all(distance[span] <= radius + 1e-6)
            # ... and the path is on the circle's edge where the stay starts and ends.
            for moment in (enter, leave):
                x, y = trajectory.position(np.array([moment]))
                if trajectory.arrival_s < moment < trajectory.departure_s:
                    assert math.hypot(x[0] - centre[0], y[0] - centre[1]) == pytest.approx(
                        radius, abs=1e-6)
        # ... and every ping outside all stays is outside it.
        assert np.all(distance[~inside_a_stay] > radius - 1e-6)
        longest = max((leave - enter for enter, leave in stays), default=0.0)
        if plan.stops_at_pizza_shop:
            stopped += 1
            dwell = next(d for zone, d in plan.stops if zone == "pizzario")
            assert longest >= dwell
        elif stays:
            passed += 1
    assert stopped > 30 and passed > 30
