"""Ground truth: every stay near the pizza shop on the true path, judged offer / no_offer / either.

A **stay** is one uninterrupted interval during which a visitor's true (noise-free) position
is within the outer radius of the shop's centre, clipped to the run: it begins where the path
enters that circle and ends where it leaves it, so a walk to the food court and back makes two
stays. Its **dwell** is the longest uninterrupted time the true position spent within the
inner radius during the stay (0 when it never came that close). With the dwell threshold T and
the time margin m (:class:`StayRule`):

- ``offer``: the dwell is at least T + m, and the phone did not fall silent for longer than
  the rule's ``max_silence_s`` during the dwell's first T + m;
- ``no_offer``: the whole stay, within the outer radius, lasted at most T - m;
- ``either``: anything between, honestly ambiguous for a trigger that sees noisy fixes (or,
  while the phone was silent, none).

The rows carry no cap: "first offer per customer per day" is the scorer's business
(:mod:`simulator.scoring`), as are opted-out customers.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.agents import COUNTER_STOP, MENU_LOOK, SHOP_MARGIN_M, StopSpan, Trajectory
from simulator.mall import Mall
from simulator.pings import geofence_stays

__all__ = [
    "BROWSE_NEXT_DOOR",
    "EXPECTATIONS",
    "NEXT_DOOR_M",
    "STAY_KINDS",
    "TRUTH_COLUMNS",
    "WALK_PAST",
    "GroundTruth",
    "StayRule",
    "StayVerdict",
    "TruthStay",
    "either_share",
    "judge_stays",
    "load_ground_truth",
    "longest_silence_s",
    "next_door_stores",
    "summary_path_for",
    "truth_summary",
    "write_ground_truth",
]

OFFER, NO_OFFER, EITHER = "offer", "no_offer", "either"
EXPECTATIONS = (OFFER, NO_OFFER, EITHER)
BROWSE_NEXT_DOOR, WALK_PAST = "browse_next_door", "walk_past"
# A stay's kind is the visitor's intent: a stop at the counter, a look at the menu board,
# coming from or going to a store next door, or just walking past.
STAY_KINDS = (COUNTER_STOP, MENU_LOOK, BROWSE_NEXT_DOOR, WALK_PAST)
TRUTH_COLUMNS = ("customer_id", "known", "enter_ts", "exit_ts", "dwell_s", "kind", "expect")
# "Next door": a store whose browsing area comes this close to the shop's centre. In the
# shipped layout that is the two stores either side of Pizzario and the two facing it across
# the atrium (30.7-38.5 m); the next one is 40.0 m away.
NEXT_DOOR_M = 39.0


@dataclass(frozen=True)
class StayRule:
    """The radii and times that judge a stay (defaults: ``pizzario.config.TruthSettings``).

    Notes
    -----
    The trigger sees a smoothed position that errs by up to about 10 m (p99 of a 60 s
    accuracy-weighted mean of 5-20 m fixes) and lags the true path by up to its 60 s window.
    Judging on an inner and an outer radius 10 m either side of the 20 m geofence, and on a
    margin of one window either side of the threshold, leaves only stays that such a trigger
    may honestly get either way as ``either``.
    """

    inner_radius_m: float = 10.0
    outer_radius_m: float = 30.0
    threshold_s: float = 180.0
    margin_s: float = 60.0
    # A phone drops out now and then (20-120 s, simulator/pings.py); while it is silent no
    # trigger can see the customer arrive or fire in time, so such a dwell is not held to an
    # offer. 0 turns this off.
    max_silence_s: float = 20.0

    def __post_init__(self) -> None:
        if not 0 < self.inner_radius_m <= self.outer_radius_m:
            raise ValueError("the inner radius must be positive and at most the outer radius")
        if not 0 <= self.margin_s < self.threshold_s:
            raise ValueError("the time margin must be non-negative and below the threshold")

    def expect(self, dwell_s: float, outer_s: float, silence_s: float = 0.0) -> str:
        """``offer``, ``no_offer`` or ``either`` for a stay's inner dwell and outer duration.

        ``silence_s`` is the phone's longest silence during the dwell's first T + m seconds.
        """
        if dwell_s >= self.threshold_s + self.margin_s:
            if 0 < self.max_silence_s < silence_s:
                return EITHER
            return OFFER
        if outer_s <= self.threshold_s - self.margin_s:
            return NO_OFFER
        return EITHER


@dataclass(frozen=True)
class StayVerdict:
    """One judged stay of a trajectory, in seconds: see :func:`judge_stays`."""

    enter_s: float
    exit_s: float
    dwell_start_s: float
    dwell_s: float
    kind: str
    expect: str

    @property
    def outer_s(self) -> float:
        return self.exit_s - self.enter_s


@dataclass(frozen=True)
class TruthStay:
    """One row of the truth file (times in epoch ms).

    ``enter_ts`` is when the dwell began (the start of the longest time within the inner
    radius), or the entry into the outer radius for a stay that never came that close;
    ``exit_ts`` is the exit from the outer radius. An ``offer`` stay's dwell therefore reaches
    the threshold at ``enter_ts + threshold``, while the customer is still there.
    """

    customer_id: int
    known: bool
    enter_ts: int
    exit_ts: int
    dwell_s: float
    kind: str
    expect: str

    def reached_ms(self, threshold_s: float) -> int:
        """When the dwell reached ``threshold_s`` (meaningful for stays that dwelt that long)."""
        return self.enter_ts + round(threshold_s * 1000)


def next_door_stores(mall: Mall) -> frozenset[str]:
    """Stores whose browsing area comes within :data:`NEXT_DOOR_M` of the shop's centre."""
    projection = mall.projection
    cx, cy = projection.to_xy(mall.pizza_shop.lat, mall.pizza_shop.lon)
    near = set()
    for zone in mall.zones_of_kind("store"):
        x0, y0 = projection.to_xy(zone.rect.min_lat, zone.rect.min_lon)
        x1, y1 = projection.to_xy(zone.rect.max_lat, zone.rect.max_lon)
        dx = max(x0 + SHOP_MARGIN_M - cx, 0.0, cx - x1 + SHOP_MARGIN_M)
        dy = max(y0 + SHOP_MARGIN_M - cy, 0.0, cy - y1 + SHOP_MARGIN_M)
        if math.hypot(dx, dy) <= NEXT_DOOR_M:
            near.add(zone.id)
    return frozenset(near)


def judge_stays(
    trajectory: Trajectory,
    centre_xy_m: tuple[float, float],
    rule: StayRule,
    window_s: tuple[float, float],
    next_door: frozenset[str] = frozenset(),
    fix_times_s: np.ndarray | None = None,
) -> list[StayVerdict]:
    """Every stay of one visit within the outer radius, clipped to ``window_s``, judged.

    Parameters
    ----------
    trajectory : Trajectory
        The true path, with its stops (their intents name the stays).
    centre_xy_m : tuple of float
        The shop's centre in the mall's local metres.
    rule : StayRule
        Radii, threshold and margin.
    window_s : tuple of float
        The run's ``(start, end)``: what happens outside it is never sent, so it is not judged.
    next_door : frozenset of str
        Store zones that count as next door (:func:`next_door_stores`).
    fix_times_s : numpy.ndarray, optional
        When the phone reported (sorted); without it the phone is taken never to fall silent.

    Notes
    -----
    Both circles are met exactly where each straight piece of the path crosses them
    (:func:`simulator.pings.geofence_stays`), so a stay's times do not depend on any sampling.
    """
    start, end = window_s
    outer = _clip(geofence_stays(trajectory, centre_xy_m, rule.outer_radius_m), start, end)
    if not outer:  # most visits: the inner circle need not be met at all
        return []
    inner = _clip(geofence_stays(trajectory, centre_xy_m, rule.inner_radius_m), start, end)
    verdicts = []
    for enter, leave in outer:
        pieces = [(a, b) for a, b in inner if a < leave and b > enter]
        dwell_start, dwell_end = max(pieces, key=lambda piece: piece[1] - piece[0],
                                     default=(enter, enter))
        dwell = dwell_end - dwell_start
        silence = 0.0
        if fix_times_s is not None and dwell > 0:
            silence = longest_silence_s(fix_times_s, dwell_start, min(
                dwell_end, dwell_start + rule.threshold_s + rule.margin_s))
        verdicts.append(StayVerdict(
            enter, leave, dwell_start, dwell, _kind(trajectory.stops, enter, leave, next_door),
            rule.expect(dwell, leave - enter, silence)))
    return verdicts


def longest_silence_s(fix_times_s: np.ndarray, start_s: float, end_s: float) -> float:
    """The longest time without a fix within ``[start_s, end_s]`` (its edges count as bounds)."""
    inside = fix_times_s[(fix_times_s > start_s) & (fix_times_s < end_s)]
    bounds = np.concatenate([[start_s], inside, [end_s]])
    return float(np.diff(bounds).max())


def _clip(intervals: Iterable[tuple[float, float]], start: float, end: float
          ) -> list[tuple[float, float]]:
    clipped = ((max(a, start), min(b, end)) for a, b in intervals)
    return [(a, b) for a, b in clipped if b > a]


def _kind(stops: Sequence[StopSpan], enter: float, leave: float, next_door: frozenset[str]
          ) -> str:
    """The intent behind a stay: the stop made during it, else the store walked from or to."""
    during = {stop.intent for stop in stops if stop.start_s < leave and stop.end_s > enter}
    for intent in (COUNTER_STOP, MENU_LOOK):
        if intent in during:
            return intent
    before = [stop for stop in stops if stop.end_s <= enter]
    after = [stop for stop in stops if stop.start_s >= leave]
    adjacent = before[-1:] + after[:1]
    if any(stop.zone_id in next_door for stop in adjacent):
        return BROWSE_NEXT_DOOR
    return WALK_PAST


def either_share(stays: Iterable[TruthStay]) -> float:
    """Share of the stays (all within the outer radius) judged ``either``; 0 without stays."""
    expects = [stay.expect for stay in stays]
    return expects.count(EITHER) / len(expects) if expects else 0.0


def truth_summary(stays: Sequence[TruthStay], rule: StayRule) -> dict[str, object]:
    """Counts by expectation and kind, the ``either`` share and the rule, for the summary."""
    return {
        "stays": len(stays),
        "by_expect": {value: sum(s.expect == value for s in stays) for value in EXPECTATIONS},
        "by_kind": {value: sum(s.kind == value for s in stays) for value in STAY_KINDS},
        "either_share": round(either_share(stays), 4),
        "inner_radius_m": rule.inner_radius_m,
        "outer_radius_m": rule.outer_radius_m,
        "threshold_s": rule.threshold_s,
        "margin_s": rule.margin_s,
        "max_silence_s": rule.max_silence_s,
    }


@dataclass(frozen=True)
class GroundTruth:
    """The stays and the run's summary (settings, counts of pings and injected faults)."""

    stays: tuple[TruthStay, ...]
    summary: dict[str, object]

    def expecting(self, expect: str, known_only: bool = True) -> tuple[TruthStay, ...]:
        """The stays judged ``expect`` (of known customers only, unless told otherwise)."""
        return tuple(stay for stay in self.stays if stay.expect == expect
                     and (stay.known or not known_only))


def summary_path_for(truth_csv: str | Path) -> Path:
    """The summary JSON written beside a truth CSV: ``stays.csv`` -> ``stays.summary.json``."""
    path = Path(truth_csv)
    return path.with_name(f"{path.stem}.summary.json")


def write_ground_truth(path: str | Path, stays: Sequence[TruthStay], summary: dict[str, object]
                       ) -> None:
    """Write the stays CSV (:data:`TRUTH_COLUMNS`) and its summary JSON beside it."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRUTH_COLUMNS)
        for stay in sorted(stays, key=lambda s: (s.enter_ts, s.customer_id)):
            writer.writerow([stay.customer_id, int(stay.known), stay.enter_ts, stay.exit_ts,
                             f"{stay.dwell_s:.3f}", stay.kind, stay.expect])
    summary_path_for(path).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def load_ground_truth(path: str | Path) -> GroundTruth:
    """Read a truth CSV written by the simulator (and its summary JSON when present)."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        stays = tuple(
            TruthStay(int(row["customer_id"]), row["known"] == "1", int(row["enter_ts"]),
                      int(row["exit_ts"]), float(row["dwell_s"]), row["kind"], row["expect"])
            for row in csv.DictReader(handle)
        )
    summary_file = summary_path_for(path)
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return GroundTruth(stays, summary)
