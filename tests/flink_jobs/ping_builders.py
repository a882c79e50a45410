"""Hand-written ping sequences for the scenario tests: pure functions, no I/O.

A scenario is a list of ping dicts (the contract in DESIGN.md). Positions are the pizza shop
itself ("at the shop", 0 m from it), a spot on the promenade about 46 m away (outside the 20 m
geofence, but within the ring the dwell trigger watches) and the food court (about 150 m away),
so whether a ping is near the shop is obvious.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pizzario.clock import configured_clock

__all__ = [
    "AT_SHOP",
    "FOOD_COURT",
    "PING_EVERY_S",
    "PROMENADE_46M",
    "base_time_ms",
    "duplicated_and_shuffled",
    "malformed_lines",
    "pings_at",
    "to_jsonl",
]

AT_SHOP = (12.9969227, 77.6961893)
FOOD_COURT = (12.9970396, 77.6975305)
PROMENADE_46M = (12.9970396, 77.6966)
PING_EVERY_S = 5


def base_time_ms(time_zone: str, local_hour: int, now: datetime | None = None) -> int:
    """Epoch ms of the latest ``local_hour``:00 in ``time_zone`` that is at least 2 hours ago.

    ``now`` is the product's configured clock (:mod:`pizzario.clock`) unless given: the job
    checks pings against that clock, so the two agree whatever offset the run is given.
    """
    zone = ZoneInfo(time_zone)
    now = (now or configured_clock().now()).astimezone(zone)
    start = now.replace(hour=local_hour, minute=0, second=0, microsecond=0)
    if start > now - timedelta(hours=2):
        start -= timedelta(days=1)
    return int(start.timestamp() * 1000)


def pings_at(
    customer_id: int,
    position: tuple[float, float],
    start_ms: int,
    duration_s: int,
    *,
    every_s: int = PING_EVERY_S,
    accuracy_m: float = 5.0,
) -> list[dict[str, object]]:
    """Pings every ``every_s`` seconds at one position from ``start_ms`` for ``duration_s`` seconds
    (both ends included)."""
    lat, lon = position
    return [
        {
            "event_id": f"c{customer_id}-{start_ms + offset_s * 1000}",
            "customer_id": customer_id,
            "device_id": f"phone-{customer_id}",
            "ts": start_ms + offset_s * 1000,
            "lat": lat,
            "lon": lon,
            "accuracy_m": accuracy_m,
        }
        for offset_s in range(0, duration_s + 1, every_s)
    ]


def duplicated_and_shuffled(
    pings: Iterable[dict[str, object]], *, max_delay_s: int, seed: int
) -> list[dict[str, object]]:
    """Every ping sent twice, in an arrival order that lags event time by up to ``max_delay_s``."""
    rng = random.Random(seed)
    copies = [dict(ping) for ping in pings for _ in range(2)]
    arrival = [int(ping["ts"]) + rng.uniform(0, max_delay_s * 1000) for ping in copies]  # type: ignore[call-overload]
    return [ping for _, ping in sorted(zip(arrival, copies, strict=True), key=lambda pair: pair[0])]


def malformed_lines(valid_ping: dict[str, object], now_ms: int) -> dict[str, str]:
    """One bad line per contract violation, keyed by the reason stage 2 should give."""

    def variant(**changes: object) -> str:
        ping = {**valid_ping, **changes}
        return json.dumps({key: value for key, value in ping.items() if value is not _DROP})

    return {
        "not a JSON object": "this is not json {",
        "event_id missing": variant(event_id=_DROP),
        "customer_id missing or not an integer": variant(customer_id="twelve"),
        "device_id missing": variant(device_id=_DROP),
        "ts missing or not an integer": variant(ts="yesterday"),
        "lat/lon missing or not numbers": variant(lat=[1, 2]),
        "lat/lon off the map or not finite": variant(lat=48.8566, lon=2.3522),
        "accuracy_m negative or not finite": variant(accuracy_m=-3.0),
        "ts too far in the past": variant(ts=now_ms - 40 * 86_400_000),
        "ts in the future": variant(ts=now_ms + 86_400_000),
    }


_DROP = object()


def to_jsonl(pings: Iterable[dict[str, object]], extra_lines: Iterable[str] = ()) -> str:
    """Pings as JSON lines, then the extra (malformed) lines."""
    lines = [json.dumps(ping) for ping in pings]
    lines.extend(extra_lines)
    return "\n".join(lines) + "\n"
