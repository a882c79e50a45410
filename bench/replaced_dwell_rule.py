"""The per-fix dwell rule that the smoothed-position rule replaced, as a pure Python model.

The pipeline no longer carries it (it was ``DwellRule`` in flink_jobs/java and stages 4 and 8
of sql/), so ``bench/dwell_accuracy.py`` replays it here over the same clean pings to put its
figures beside the current rule's. Per customer, in event-time order, over the first copies of
the accurate pings (at most ``max_accuracy_m``) within the trigger's ring around the shop, a
stay

- starts at a fix inside the geofence,
- is broken by two fixes in a row clearly outside it (farther than the geofence plus
  ``min(2 x accuracy, exit margin)``), or by a silence longer than the session gap (the
  customer's first watched ping opens a stretch too),
- qualifies at a fix that is not clearly outside once it has lasted the dwell threshold since
  its first inside fix, provided at least the minimum share of the stretch's fixes were inside.

Only the first qualifying fix of a stretch fires. The offer step after it kept known customers
who had not opted out, and the first offer per customer per day (:func:`capped_offers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["ReplacedRuleParams", "WatchedFix", "capped_offers", "replaced_rule_triggers"]


@dataclass(frozen=True)
class ReplacedRuleParams:
    """The replaced rule's parameters, as it shipped them.

    Notes
    -----
    The defaults are that release's: a 20 m geofence (data/mall.json), an exit margin of two
    reported accuracies capped at 25 m, a trigger ring 30 m beyond that (a customer walking
    away leaves at least one ping there), half the fixes inside, a 120 s session gap, a 180 s
    threshold and fixes of at most 50 m accuracy.
    """

    geofence_radius_m: float = 20.0
    exit_accuracy_factor: float = 2.0
    exit_margin_m: float = 25.0
    trigger_ring_extra_m: float = 30.0
    min_inside_share: float = 0.5
    session_gap_ms: int = 120_000
    dwell_threshold_ms: int = 180_000
    max_accuracy_m: float = 50.0

    @property
    def trigger_ring_m(self) -> float:
        """How far from the shop's centre a fix is still watched."""
        return self.geofence_radius_m + self.exit_margin_m + self.trigger_ring_extra_m


@dataclass(frozen=True)
class WatchedFix:
    """One clean ping of a customer: event time, distance to the shop and reported accuracy."""

    customer_id: int
    ts_ms: int
    distance_m: float
    accuracy_m: float


@dataclass
class _Stretch:
    previous_ts: int | None = None
    previous_away: bool = False
    since_ts: int | None = None
    stay_start_ts: int | None = None
    inside: int = 0
    fixes: int = 0
    fired: bool = False


def replaced_rule_triggers(
    fixes: Iterable[WatchedFix], params: ReplacedRuleParams = ReplacedRuleParams()
) -> list[tuple[int, int]]:
    """Where the replaced rule fired: ``(customer_id, triggered_at)`` pairs in firing order.

    Parameters
    ----------
    fixes : iterable of WatchedFix
        Clean pings (first copies, on time), in the order the pipeline's window saw them:
        sorted by event time, ties in arrival order (Python's sort is stable).
    params : ReplacedRuleParams

    Returns
    -------
    list of (int, int)
        Customer and the event time of the firing fix, before the cap and the known-customer
        filter.
    """
    state: dict[int, _Stretch] = {}
    fired: list[tuple[int, int]] = []
    for fix in sorted(fixes, key=lambda f: f.ts_ms):
        if fix.accuracy_m > params.max_accuracy_m or fix.distance_m > params.trigger_ring_m:
            continue
        s = state.setdefault(fix.customer_id, _Stretch())
        inside = fix.distance_m <= params.geofence_radius_m
        away = fix.distance_m > params.geofence_radius_m + min(
            params.exit_accuracy_factor * fix.accuracy_m, params.exit_margin_m
        )
        breaks = (
            s.previous_ts is None
            or (away and s.previous_away)
            or fix.ts_ms - s.previous_ts > params.session_gap_ms
        )
        s.previous_ts, s.previous_away = fix.ts_ms, away
        if breaks and (s.since_ts is None or fix.ts_ms > s.since_ts):
            s.since_ts, s.stay_start_ts, s.inside, s.fixes, s.fired = (
                fix.ts_ms, None, 0, 0, False)  # fmt: skip
        s.fixes += 1
        if inside:
            s.inside += 1
            if s.stay_start_ts is None or fix.ts_ms < s.stay_start_ts:
                s.stay_start_ts = fix.ts_ms
        qualifies = (
            not away
            and s.stay_start_ts is not None
            and fix.ts_ms - s.stay_start_ts >= params.dwell_threshold_ms
            and s.inside >= params.min_inside_share * s.fixes
        )
        if qualifies and not s.fired:
            s.fired = True
            fired.append((fix.customer_id, fix.ts_ms))
    return fired


def capped_offers(
    triggers: Sequence[tuple[int, int]],
    *,
    known: Iterable[int],
    opted_out: Iterable[int],
    time_zone: str,
) -> list[dict[str, int]]:
    """The offers the triggers made: known, not opted-out customers, first per local day.

    Returns
    -------
    list of dict
        ``customer_id`` and ``triggered_at`` (epoch ms), as the pipeline's offers carry them.
    """
    zone = ZoneInfo(time_zone)
    eligible = set(known) - set(opted_out)
    seen: set[tuple[int, object]] = set()
    offers: list[dict[str, int]] = []
    for customer_id, ts_ms in sorted(triggers, key=lambda t: t[1]):
        day = datetime.fromtimestamp(ts_ms / 1000, tz=zone).date()
        if customer_id not in eligible or (customer_id, day) in seen:
            continue
        seen.add((customer_id, day))
        offers.append({"customer_id": customer_id, "triggered_at": ts_ms})
    return offers
