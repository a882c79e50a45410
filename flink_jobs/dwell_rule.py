"""The dwell rule of the offer trigger in Python: the same arithmetic as the job's Java rule.

The job runs the rule in Java (``DwellRule`` in flink_jobs/java, inside ``CUSTOMER_TIMELINE``);
this model lets the rule's radii be tuned against simulated fixes without a cluster
(bench/dwell_radii.py) and lets tests say at which ping the job must fire. It keeps the Java
rule's float32 storage of positions and weights and its order of summation, so the two agree
to the millisecond (the Java rule also keeps at most 256 fixes per window, which no phone here
comes near).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from pizzario.config import OfferSettings

__all__ = ["DwellParams", "Fix", "Trigger", "dwell_triggers", "weighted_position"]

# As in DwellRule.java: a fix claiming better than 1 m would hide every other fix.
MIN_ACCURACY_M = 1.0


@dataclass(frozen=True)
class DwellParams:
    """The rule's parameters, in the units the Java rule takes."""

    window_ms: int
    enter_radius_m: float
    exit_radius_m: float
    session_gap_ms: int
    dwell_threshold_ms: int

    @classmethod
    def from_offers(cls, offers: OfferSettings) -> DwellParams:
        """The parameters the pipeline renders from the configuration."""
        return cls(
            window_ms=offers.position_window_s * 1000,
            enter_radius_m=offers.enter_radius_m,
            exit_radius_m=offers.exit_radius_m,
            session_gap_ms=offers.session_gap_s * 1000,
            dwell_threshold_ms=offers.dwell_threshold_s * 1000,
        )


@dataclass(frozen=True)
class Fix:
    """One accurate fix of a customer: event time and metres east and north of the shop."""

    ts_ms: int
    east_m: float
    north_m: float
    accuracy_m: float


@dataclass(frozen=True)
class Trigger:
    """A stay's first qualifying ping and the stay's start (both epoch ms)."""

    ts_ms: int
    stay_start_ms: int


def _stored(fix: Fix) -> tuple[int, float, float, float]:
    """A fix as the Java rule stores it: float32 position and weight."""
    accuracy = max(fix.accuracy_m, MIN_ACCURACY_M)
    return (
        fix.ts_ms,
        float(np.float32(fix.east_m)),
        float(np.float32(fix.north_m)),
        float(np.float32(1.0 / (accuracy * accuracy))),
    )


def weighted_position(
    window: Iterable[tuple[int, float, float, float]], now_ms: int
) -> tuple[float, float, float]:
    """Weighted east, north and mean time (ms before ``now_ms``) of stored fixes, oldest first."""
    total = east = north = ago = 0.0
    for ts_ms, east_m, north_m, weight in window:
        total += weight
        east += weight * east_m
        north += weight * north_m
        ago += weight * float(now_ms - ts_ms)
    return east / total, north / total, ago / total


def dwell_triggers(fixes: Iterable[Fix], params: DwellParams) -> list[Trigger]:
    """Every ping at which a stay first qualifies, for one customer's fixes in time order.

    Notes
    -----
    The same steps as ``DwellRule.step``: a silence longer than the session gap empties the
    window and ends the stay; fixes a whole window old leave it; a stay begins when the
    weighted position comes within the enter radius, dated at the window's weighted mean time,
    ends beyond the exit radius, and fires once when its dwell reaches the threshold.
    """
    window: deque[tuple[int, float, float, float]] = deque()
    triggers: list[Trigger] = []
    previous_ms: int | None = None
    in_stay = fired = False
    stay_start_ms = 0
    for fix in fixes:
        ts_ms = fix.ts_ms
        if previous_ms is not None and ts_ms - previous_ms > params.session_gap_ms:
            window.clear()
            in_stay = False
        previous_ms = ts_ms
        while window and ts_ms - window[0][0] >= params.window_ms:
            window.popleft()
        window.append(_stored(fix))
        east, north, ago = weighted_position(window, ts_ms)
        squared = east * east + north * north
        if not in_stay and squared <= params.enter_radius_m**2:
            in_stay, fired = True, False
            # Java's Math.round: the nearest integer, halves up
            stay_start_ms = ts_ms - math.floor(ago + 0.5)
        elif in_stay and squared > params.exit_radius_m**2:
            in_stay = False
        if in_stay and not fired and ts_ms - stay_start_ms >= params.dwell_threshold_ms:
            fired = True
            triggers.append(Trigger(ts_ms, stay_start_ms))
    return triggers
