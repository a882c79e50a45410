"""The truth's judgement on hand-built paths, the layout's room around the shop, the either
share of a fixed run, and agents whose stops stay out of the ambiguous band."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pizzario import load_config
from simulator import Mall
from simulator.agents import (
    COUNTER_STOP,
    MENU_LOOK,
    SHOP_MARGIN_M,
    STORE,
    Destinations,
    StopSpan,
    Trajectory,
    behaviour_for,
    build_trajectory,
    plan_visit,
)
from simulator.engine import EVENING_START_MS, Settings, Simulation
from simulator.population import load_segments
from simulator.truth import StayRule, judge_stays, next_door_stores, truth_summary
from simulator.walkways import WalkGraph

RULE = StayRule()  # 10 m, 30 m, 180 s, 60 s: the defaults of pizzario.config.TruthSettings
CENTRE = (0.0, 0.0)
WHOLE_DAY = (0.0, 1e6)
# Where a walker on the promenade crosses the 30 m circle, 13 m from the centre.
CHORD_HALF_M = math.sqrt(30.0**2 - 13.0**2)


def _path(*corners: tuple[float, float, float], stops: tuple[StopSpan, ...] = ()
          ) -> Trajectory:
    t, x, y = (np.array(column, dtype=float) for column in zip(*corners, strict=True))
    return Trajectory(t, x, y, stops)


def test_the_rule_matches_the_configured_defaults() -> None:
    config = load_config({})
    assert (RULE.inner_radius_m, RULE.outer_radius_m, RULE.margin_s, RULE.max_silence_s) == (
        config.truth.inner_radius_m, config.truth.outer_radius_m, config.truth.time_margin_s,
        config.truth.max_silence_s)
    assert RULE.threshold_s == config.offers.dwell_threshold_s


def test_a_stop_at_the_counter_is_an_offer() -> None:
    # At 1 m/s along the promenade (13 m off the centre), in to the counter 1 m from the
    # centre, 300 s there, back out and on.
    path = _path((0, -50, 13), (50, 0, 13), (62, 0, 1), (362, 0, 1), (374, 0, 13),
                 (424, 50, 13), stops=(StopSpan("pizzario", COUNTER_STOP, 62, 362),))
    [stay] = judge_stays(path, CENTRE, RULE, WHOLE_DAY)
    assert stay.enter_s == pytest.approx(50 - CHORD_HALF_M)
    assert stay.exit_s == pytest.approx(374 + CHORD_HALF_M)
    # Within 10 m from y = 10 on the way in to y = 10 on the way out.
    assert (stay.dwell_start_s, stay.dwell_s) == (pytest.approx(53), pytest.approx(318))
    assert (stay.kind, stay.expect) == ("counter_stop", "offer")


def test_a_phone_that_falls_silent_during_the_dwell_leaves_it_open() -> None:
    path = _path((0, -50, 13), (50, 0, 13), (62, 0, 1), (362, 0, 1), (374, 0, 13),
                 (424, 50, 13), stops=(StopSpan("pizzario", COUNTER_STOP, 62, 362),))
    every_ten = np.arange(0.0, 424.0, 10.0)
    [heard] = judge_stays(path, CENTRE, RULE, WHOLE_DAY, fix_times_s=every_ten)
    assert heard.expect == "offer"
    # A dropout of 60 s just after the customer reached the counter: no trigger sees them
    # arrive, so no trigger can be held to an offer in time.
    dropout = every_ten[(every_ten < 60) | (every_ten >= 120)]
    [silent] = judge_stays(path, CENTRE, RULE, WHOLE_DAY, fix_times_s=dropout)
    assert (silent.dwell_s, silent.expect) == (pytest.approx(318), "either")
    # The same dropout after the threshold and the margin (from 53 + 240 s on) changes nothing.
    late = every_ten[(every_ten < 300) | (every_ten >= 360)]
    assert judge_stays(path, CENTRE, RULE, WHOLE_DAY, fix_times_s=late)[0].expect == "offer"


def test_a_shopper_next_door_only_passes_by() -> None:
    # Walks the promenade to the store 35 m east and browses there for ten minutes.
    path = _path((0, -50, 13), (85, 35, 13), (98, 35, 0), (698, 35, 0),
                 stops=(StopSpan("store-next", STORE, 98, 698),))
    [stay] = judge_stays(path, CENTRE, RULE, WHOLE_DAY, frozenset({"store-next"}))
    assert stay.outer_s == pytest.approx(2 * CHORD_HALF_M)
    assert (stay.dwell_s, stay.kind, stay.expect) == (0.0, "browse_next_door", "no_offer")


def test_someone_walking_past_slowly() -> None:
    path = _path((0, -50, 13), (100 / 0.6, 50, 13))
    [stay] = judge_stays(path, CENTRE, RULE, WHOLE_DAY)
    assert stay.outer_s == pytest.approx(2 * CHORD_HALF_M / 0.6)  # 90.1 s
    assert (stay.dwell_s, stay.kind, stay.expect) == (0.0, "walk_past", "no_offer")


def test_a_walk_to_the_food_court_and_back_splits_the_stay() -> None:
    # 150 s at the counter, 300 s at the food court 150 m away, 150 s at the counter again:
    # two stays of 180 s within the outer radius, neither long enough for an offer, although
    # the customer was near the shop for 300 s of the 900.
    path = _path((0, 0, 1), (150, 0, 1), (300, 150, 1), (600, 150, 1), (750, 0, 1), (900, 0, 1),
                 stops=(StopSpan("pizzario", COUNTER_STOP, 0, 150),
                        StopSpan("food-court", "food_court", 300, 600),
                        StopSpan("pizzario", COUNTER_STOP, 750, 900)))
    first, second = judge_stays(path, CENTRE, RULE, (0.0, 900.0))
    assert (first.enter_s, first.exit_s) == (0.0, pytest.approx(150 + math.sqrt(899)))
    assert (second.enter_s, second.exit_s) == (pytest.approx(750 - math.sqrt(899)), 900.0)
    for stay in (first, second):
        assert stay.dwell_s == pytest.approx(150 + math.sqrt(99))
        assert (stay.kind, stay.expect) == ("counter_stop", "either")


def test_the_run_window_clips_a_stay() -> None:
    # Ten minutes at the counter, of which the run sees the last 150 s: honestly "either".
    path = _path((0, 0, 1), (600, 0, 1), stops=(StopSpan("pizzario", COUNTER_STOP, 0, 600),))
    [stay] = judge_stays(path, CENTRE, RULE, (450.0, 2000.0))
    assert (stay.enter_s, stay.dwell_s, stay.expect) == (450.0, 150.0, "either")


def test_no_stop_of_anyone_else_within_the_outer_radius_of_the_shop(mall: Mall) -> None:
    graph = WalkGraph(mall)
    cx, cy = mall.projection.to_xy(mall.pizza_shop.lat, mall.pizza_shop.lon)
    outer = load_config({}).truth.outer_radius_m
    nearest = math.inf
    for zone in mall.zones:
        if zone.kind in ("store", "food_court"):
            x0, x1, y0, y1 = graph.rect_m(zone.id)
            dx = max(x0 + SHOP_MARGIN_M - cx, 0.0, cx - x1 + SHOP_MARGIN_M)
            dy = max(y0 + SHOP_MARGIN_M - cy, 0.0, cy - y1 + SHOP_MARGIN_M)
            nearest = min(nearest, math.hypot(dx, dy))
    for node in mall.nodes:
        if mall.zone(node.zone_id).kind in ("entrance", "food_court"):
            nearest = min(nearest, math.dist(graph.xy[node.id], (cx, cy)))
    assert nearest >= outer
    # ... and the promenade passes the shop front, inside the geofence.
    corridor = graph.rect_m("corridor-main")
    assert corridor[0] < cx < corridor[1]
    assert abs((corridor[2] + corridor[3]) / 2 - cy) < mall.pizza_shop.geofence_radius_m
    # Where sampled visitors stand still: never within the outer radius but for Pizzario.
    rng, places = np.random.default_rng(2), Destinations.of(mall)
    for _ in range(300):
        plan = plan_visit(behaviour_for(90), places, rng, 7200.0)
        path = build_trajectory(plan, graph, 0.0, rng)
        still = np.flatnonzero((np.diff(path.x_m) == 0) & (np.diff(path.y_m) == 0))
        for index in still.tolist():
            moment = path.t_s[index]
            at_shop = any(stop.zone_id == mall.pizza_shop.zone_id
                          and stop.start_s <= moment <= stop.end_s for stop in path.stops)
            if not at_shop:
                assert math.hypot(path.x_m[index] - cx, path.y_m[index] - cy) >= outer


def test_next_door_is_the_four_stores_around_the_shop(mall: Mall) -> None:
    names = {mall.zone(zone_id).name for zone_id in next_door_stores(mall)}
    assert names == {"Shoppers Stop", "Croma", "Fabindia", "Crossword Books"}


def test_the_either_share_at_default_settings(mall: Mall) -> None:
    # The simulator's defaults: the segment table's 200 customers at 0.0075 arrivals per
    # customer and minute, the time-of-day profile, a busy mall from the start; two evening
    # hours (18:30-20:30 in Bengaluru) of seed 5.
    customers = load_segments(load_config({}).paths.segments_csv)
    simulation = Simulation(mall, customers, Settings(
        start_ms=EVENING_START_MS, duration_s=7200, seed=5,
        arrivals_per_minute=0.0075 * len(customers)))
    for _ in simulation.batches():
        pass
    summary = truth_summary(simulation.truth, simulation.settings.truth)
    assert summary["stays"] == 396
    assert summary["by_expect"] == {"offer": 20, "no_offer": 367, "either": 9}
    assert summary["either_share"] == 0.0227  # under the 15 % the truth promises


def test_stops_at_the_shop_stay_out_of_the_ambiguous_band(mall: Mall) -> None:
    low, high = RULE.threshold_s - RULE.margin_s, RULE.threshold_s + RULE.margin_s
    rng, places = np.random.default_rng(4), Destinations.of(mall)
    durations = {COUNTER_STOP: [], MENU_LOOK: []}
    for _ in range(3000):
        plan = plan_visit(behaviour_for(80), places, rng, 7200.0)
        for index, (zone_id, dwell_s) in enumerate(plan.stops):
            if zone_id == mall.pizza_shop.zone_id:
                durations[plan.intent(index)].append(dwell_s)
    counter, menu = np.array(durations[COUNTER_STOP]), np.array(durations[MENU_LOOK])
    assert not np.any((counter > low) & (counter < high))
    assert menu.max() <= 45 and counter.max() > 600
    # Queue and eat, or pick up in under a minute: 55 to 20 of every 75 counter stops.
    assert np.mean(counter >= high) == pytest.approx(55 / 75, abs=0.04)
    assert len(menu) / (len(menu) + len(counter)) == pytest.approx(0.25, abs=0.04)
