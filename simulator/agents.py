"""The movement model: what a visitor plans to do, and the path they walk (pure, no I/O).

A visit is a route through the walkable graph with stops. Its trajectory is piecewise linear
in time, kept as arrays ``t_s, x_m, y_m`` of corner points, so any position in between is a
linear interpolation, and the pings and the ground truth are both computed from it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from simulator.mall import Mall
from simulator.walkways import WalkGraph

__all__ = [
    "COUNTER_STOP",
    "INTENTS",
    "LONG_COUNTER_STOP_RANGE_S",
    "MENU_LOOK",
    "MENU_LOOK_RANGE_S",
    "QUICK_PICK_UP_RANGE_S",
    "Behaviour",
    "Destinations",
    "StopSpan",
    "Trajectory",
    "VisitPlan",
    "behaviour_for",
    "build_trajectory",
    "departure_bound_s",
    "plan_visit",
]

# Free walking speeds of adults indoors are about 1.0-1.5 m/s; browsing inside a shop is slower.
WALK_SPEED_MEAN_MPS = 1.2
WALK_SPEED_SD_MPS = 0.15
WALK_SPEED_RANGE_MPS = (0.6, 1.6)
# Some people stroll past the shop windows (0.6-0.8 m/s) instead of walking to somewhere.
STROLLER_SHARE = 0.15
STROLL_SPEED_RANGE_MPS = (0.6, 0.8)
BROWSE_SPEED_MPS = 0.5
# Shoppers stand away from the walls of a shop.
SHOP_MARGIN_M = 2.0
_LOG_300, _LOG_420, _LOG_900 = np.log(300.0), np.log(420.0), np.log(900.0)
# What a stop is for: the ground truth names a stay near the shop by the intent behind it.
STORE, FOOD_COURT, COUNTER_STOP, MENU_LOOK = "store", "food_court", "counter_stop", "menu_look"
INTENTS = (STORE, FOOD_COURT, COUNTER_STOP, MENU_LOOK)
# A deliberate stop at the pizza shop is clearly long or clearly short against the 180 s offer
# threshold and the truth's 60 s margin (pizzario.config.TruthSettings): queue and eat for
# 250 s to 25 min, or pick up at the counter in 20-40 s (walking in and out within the truth's
# 30 m outer radius adds about 70 s, so a quick pick-up stays under 180 - 60 s there); a look
# at the menu board from the promenade takes 15-45 s. Nobody's plan is a coin flip at 175 s.
LONG_COUNTER_STOP_RANGE_S = (250.0, 1500.0)
QUICK_PICK_UP_RANGE_S = (20.0, 40.0)
MENU_LOOK_RANGE_S = (15.0, 45.0)
# Of the pizza stops: queue and eat, quick pick-up, a look at the menu.
PIZZA_STOP_SHARES = (0.55, 0.20, 0.25)
# The menu board hangs in the shop window: people stand on the promenade 1-2.5 m in front
# of it, within this many metres either side of the shop's centre line.
MENU_SPOT_DEPTH_M = (1.0, 2.5)
MENU_SPOT_HALF_WIDTH_M = 4.0


@dataclass(frozen=True)
class Behaviour:
    """How a kind of visitor tends to behave; derived from their segment's spending habits."""

    mean_extra_stores: float
    pizza_stop_probability: float
    food_court_probability: float


@dataclass(frozen=True)
class VisitPlan:
    """Where one visitor goes: entrance, stops (zone id and dwell seconds), exit, pace.

    ``intents`` says what each stop is for (one of :data:`INTENTS`, in the order of
    ``stops``): a menu look is a stop "at" the pizza shop spent on the promenade in front of it.
    """

    entrance: str
    stops: tuple[tuple[str, float], ...]
    exit: str
    walk_speed_mps: float
    pizza_shop: str
    intents: tuple[str, ...] = ()

    @property
    def stops_at_pizza_shop(self) -> bool:
        return any(zone_id == self.pizza_shop for zone_id, _ in self.stops)

    def intent(self, index: int) -> str:
        """What stop ``index`` is for (a plan built without intents: by the zone's kind)."""
        if self.intents:
            return self.intents[index]
        return COUNTER_STOP if self.stops[index][0] == self.pizza_shop else STORE


@dataclass(frozen=True)
class StopSpan:
    """When a visitor was at a stop: from reaching it to leaving it (seconds since the epoch)."""

    zone_id: str
    intent: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Trajectory:
    """Corner points of a visit's path in local metres, times in seconds since the epoch."""

    t_s: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    stops: tuple[StopSpan, ...] = ()

    @property
    def arrival_s(self) -> float:
        return float(self.t_s[0])

    @property
    def departure_s(self) -> float:
        return float(self.t_s[-1])

    def position(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.interp(t_s, self.t_s, self.x_m), np.interp(t_s, self.t_s, self.y_m)


def behaviour_for(segment_spending_score: float | None) -> Behaviour:
    """Behaviour from a segment's mean spending score (0-100); None for an unknown visitor.

    Big spenders visit more stores and are likelier to stop for pizza or at the food court,
    which is what the marketing team expects the offers to exploit.
    """
    score = 40.0 if segment_spending_score is None else float(segment_spending_score)
    share = np.clip(score / 100.0, 0.0, 1.0)
    return Behaviour(
        mean_extra_stores=0.5 + 3.5 * share,
        pizza_stop_probability=0.10 + 0.35 * share,
        food_court_probability=0.15 + 0.35 * share,
    )


@dataclass(frozen=True)
class Destinations:
    """The zones a plan can name, listed once per mall (planning runs per visitor)."""

    stores: tuple[str, ...]
    food_courts: tuple[str, ...]
    entrances: tuple[str, ...]
    pizza_shop: str

    @classmethod
    def of(cls, mall: Mall) -> Destinations:
        return cls(
            stores=tuple(zone.id for zone in mall.zones_of_kind("store")),
            food_courts=tuple(zone.id for zone in mall.zones_of_kind("food_court")),
            entrances=tuple(zone.id for zone in mall.zones_of_kind("entrance")),
            pizza_shop=mall.pizza_shop.zone_id,
        )


def plan_visit(
    behaviour: Behaviour, places: Destinations, rng: np.random.Generator, max_visit_s: float
) -> VisitPlan:
    """Draw one visit: which stores, whether to stop at the pizza shop and for how long."""
    stores = places.stores
    count = min(len(stores), 1 + int(rng.poisson(behaviour.mean_extra_stores)), 8)
    chosen = rng.permutation(len(stores))[:count].tolist()
    stops = [(stores[index], _store_dwell_s(rng), STORE) for index in chosen]
    if places.food_courts and rng.random() < behaviour.food_court_probability:
        food_court = places.food_courts[int(rng.integers(0, len(places.food_courts)))]
        stops.insert(int(rng.integers(0, len(stops) + 1)), (food_court, _clip(
            rng.lognormal(_LOG_900, 0.4), 300, 2700), FOOD_COURT))
    if rng.random() < behaviour.pizza_stop_probability:
        intent, dwell_s = _pizza_stop(rng)
        stops.insert(int(rng.integers(0, len(stops) + 1)), (places.pizza_shop, dwell_s, intent))
    # Keep the visit within the simulator's look-back (trim the last stops first).
    while len(stops) > 1 and sum(dwell for _, dwell, _ in stops) > 0.8 * max_visit_s:
        stops.pop()
    entrances = places.entrances
    entrance = entrances[int(rng.integers(0, len(entrances)))]
    # Most people leave the way they came (the car park, the bus stop).
    exit_zone = entrance if rng.random() < 0.6 else entrances[int(rng.integers(0, len(entrances)))]
    speed = _clip(rng.normal(WALK_SPEED_MEAN_MPS, WALK_SPEED_SD_MPS), 0.8, WALK_SPEED_RANGE_MPS[1])
    if rng.random() < STROLLER_SHARE:
        speed = float(rng.uniform(*STROLL_SPEED_RANGE_MPS))
    return VisitPlan(entrance, tuple((zone, dwell) for zone, dwell, _ in stops), exit_zone,
                     speed, places.pizza_shop, tuple(intent for _, _, intent in stops))


def _browse_spots(dwell_s: float) -> int:
    return 1 + min(4, int(dwell_s // 150))


def departure_bound_s(plan: VisitPlan, graph: WalkGraph, arrival_s: float) -> float:
    """A time the visit surely has ended by, without drawing its browsing spots.

    Lets a run that starts with the mall already busy skip building the paths of visitors
    who left before the start.
    """
    total_s = arrival_s
    here = graph.node_of_zone[plan.entrance]
    for zone_id, dwell_s in plan.stops:
        target = graph.node_of_zone[zone_id]
        total_s += graph.path_length_m(here, target) / plan.walk_speed_mps
        here = target
        x0, x1, y0, y1 = graph.rect_m(zone_id)
        spots = _browse_spots(dwell_s)
        longest_move_s = math.hypot(x1 - x0, y1 - y0) / BROWSE_SPEED_MPS
        total_s += max(dwell_s, (spots + 1) * longest_move_s + spots)
    exit_node = graph.node_of_zone[plan.exit]
    return total_s + graph.path_length_m(here, exit_node) / plan.walk_speed_mps


def _clip(value: float, low: float, high: float) -> float:
    # np.clip costs microseconds per scalar; planning calls this for every stop.
    return min(max(float(value), low), high)


def _store_dwell_s(rng: np.random.Generator) -> float:
    return _clip(rng.lognormal(_LOG_300, 0.6), 60, 1800)


def _pizza_stop(rng: np.random.Generator) -> tuple[str, float]:
    """A stop at the pizza shop: queue and eat, a quick pick-up, or a look at the menu."""
    draw = rng.random()
    long_share, quick_share, _ = PIZZA_STOP_SHARES
    if draw < long_share:
        return COUNTER_STOP, _clip(rng.lognormal(_LOG_420, 0.5), *LONG_COUNTER_STOP_RANGE_S)
    if draw < long_share + quick_share:
        return COUNTER_STOP, float(rng.uniform(*QUICK_PICK_UP_RANGE_S))
    return MENU_LOOK, float(rng.uniform(*MENU_LOOK_RANGE_S))


def build_trajectory(
    plan: VisitPlan, graph: WalkGraph, arrival_s: float, rng: np.random.Generator
) -> Trajectory:
    """Walk the plan: along corridors between stops, browsing inside each stop for its dwell.

    A look at the menu is spent on the promenade in front of the shop window instead of
    inside. The returned trajectory records when each stop began and ended.
    """
    # A visit has a few dozen corners: plain floats are several times faster than arrays here.
    here = graph.node_of_zone[plan.entrance]
    xs, ys = [graph.xy[here][0]], [graph.xy[here][1]]
    ts = [arrival_s]
    spans: list[StopSpan] = []

    def go(x: float, y: float, speed_mps: float) -> None:
        ts.append(ts[-1] + math.hypot(x - xs[-1], y - ys[-1]) / speed_mps)
        xs.append(x)
        ys.append(y)

    def walk(corners: np.ndarray) -> None:
        for x, y in corners[1:].tolist():
            go(x, y, plan.walk_speed_mps)

    def stand(route: list[tuple[float, float]], dwell_s: float) -> None:
        # Stand at each spot of the route in turn, moving slowly between them, then go back.
        door_x, door_y = xs[-1], ys[-1]
        route = [(door_x, door_y), *route, (door_x, door_y)]
        moving_s = sum(math.dist(a, b) for a, b in itertools.pairwise(route)) / BROWSE_SPEED_MPS
        stand_s = max(dwell_s - moving_s, float(len(route) - 2)) / (len(route) - 2)
        for x, y in route[1:-1]:
            go(x, y, BROWSE_SPEED_MPS)
            ts.append(ts[-1] + stand_s)
            xs.append(x)
            ys.append(y)
        go(door_x, door_y, BROWSE_SPEED_MPS)

    for index, (zone_id, dwell_s) in enumerate(plan.stops):
        intent = plan.intent(index)
        if intent == MENU_LOOK:
            target = graph.front_node(zone_id)
            walk(graph.path(here, target))
            begin = ts[-1]
            stand([_menu_spot(graph, zone_id, xs[-1], ys[-1], rng)], dwell_s)
        else:
            target = graph.node_of_zone[zone_id]
            walk(graph.path(here, target))
            begin = ts[-1]
            x0, x1, y0, y1 = graph.rect_m(zone_id)
            spots = _browse_spots(dwell_s)
            spot_x = rng.uniform(x0 + SHOP_MARGIN_M, x1 - SHOP_MARGIN_M, spots).tolist()
            spot_y = rng.uniform(y0 + SHOP_MARGIN_M, y1 - SHOP_MARGIN_M, spots).tolist()
            stand(list(zip(spot_x, spot_y, strict=True)), dwell_s)
        spans.append(StopSpan(zone_id, intent, begin, ts[-1]))
        here = target
    walk(graph.path(here, graph.node_of_zone[plan.exit]))
    return Trajectory(np.array(ts), np.array(xs), np.array(ys), tuple(spans))


def _menu_spot(graph: WalkGraph, zone_id: str, front_x: float, front_y: float,
               rng: np.random.Generator) -> tuple[float, float]:
    """Where someone stands to read the menu: on the walkway, just outside the shop window."""
    x0, x1, y0, y1 = graph.rect_m(zone_id)
    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    depth = float(rng.uniform(*MENU_SPOT_DEPTH_M))
    offset = float(rng.uniform(-MENU_SPOT_HALF_WIDTH_M, MENU_SPOT_HALF_WIDTH_M))
    # The window is the shop's side that faces the walkway node outside its door.
    if abs(front_y - centre_y) >= abs(front_x - centre_x):
        wall_y = y1 if front_y > centre_y else y0
        return centre_x + offset, wall_y + math.copysign(depth, front_y - centre_y)
    wall_x = x1 if front_x > centre_x else x0
    return wall_x + math.copysign(depth, front_x - centre_x), centre_y + offset
