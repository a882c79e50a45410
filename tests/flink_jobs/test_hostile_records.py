"""The hostile-input drill's records and their mixing (pure: no stack)."""

from __future__ import annotations

import json
from collections import Counter

from tests.flink_jobs.harness import Recording
from tests.flink_jobs.hostile_records import (
    HOSTILE_TOTAL,
    KIND_COUNTS,
    MEGABYTE,
    STRANGER_BASE,
    STRANGERS,
    UNKNOWN,
    hostile_records,
    mix,
)

START_MS = 1_795_352_400_000


def _recording(minutes: int = 70, every_s: int = 2) -> Recording:
    """Pings of customers 1-4, one every ``every_s``; every tenth arrives 6 s late (disorder)."""
    pings = [
        {"event_id": f"e{n}", "customer_id": 1 + n % 4, "device_id": "d", "lat": 1.0,
         "lon": 1.0, "accuracy_m": 5.0, "ts": START_MS + n * every_s * 1000}
        for n in range(minutes * 60 // every_s)
    ]  # fmt: skip
    order = sorted(range(len(pings)), key=lambda n: n + (3 if n % 10 == 0 else 0))
    return Recording(
        keys=[str(pings[n]["customer_id"]).encode() for n in order],
        values=[json.dumps(pings[n]).encode() for n in order],
    )


def test_ten_thousand_records_of_every_kind() -> None:
    hostile = hostile_records()
    assert sum(KIND_COUNTS.values()) == HOSTILE_TOTAL
    assert Counter(bad.kind for bad in hostile) == {
        kind: count for kind, count in KIND_COUNTS.items() if kind != UNKNOWN
    }
    assert all(bad.reason for bad in hostile)
    sizes = [len(bad.value or b"") for bad in hostile]
    assert MEGABYTE <= max(sizes) < 1_000_000 - 64  # a producer's default limit, key included
    assert sum(sizes) < 40_000_000
    # kinds are spread through the list, not sent in bursts: each kind's first record is
    # among the first fifth of the list
    first = {bad.kind: index for index, bad in reversed(list(enumerate(hostile)))}
    assert max(first.values()) < len(hostile) / 5


def test_the_mix_keeps_the_recording_and_sends_strangers_on_time() -> None:
    recording = _recording()
    hostile = hostile_records()
    mixed = mix(recording, hostile)

    assert len(mixed) == len(recording) + len(hostile) + KIND_COUNTS[UNKNOWN]
    recorded = [value for value in mixed.values if value in set(recording.values)]
    assert recorded == recording.values
    strangers = [v for v in mixed.values if v is not None and v.startswith(b'{"event_id": "str')]
    assert len(strangers) == KIND_COUNTS[UNKNOWN]
    assert Counter(mixed.values) - Counter(recording.values) == Counter(
        [bad.value for bad in hostile] + strangers
    )
    recorded_values = set(recording.values)
    latest, last_of = 0, {}
    for key, value in zip(mixed.keys, mixed.values, strict=True):
        is_stranger = value is not None and value.startswith(b'{"event_id": "stranger-')
        if not is_stranger and value not in recorded_values:
            continue
        ping = json.loads(value)  # type: ignore[arg-type]
        if is_stranger:
            stranger = int(ping["customer_id"]) - STRANGER_BASE
            assert 0 <= stranger < STRANGERS and key == str(ping["customer_id"]).encode()
            assert ping["ts"] == latest  # the stream's own latest time: never late
            assert ping["ts"] >= last_of.get(stranger, 0) + 20_000
            last_of[stranger] = ping["ts"]
        latest = max(latest, int(ping["ts"]))
    assert len(last_of) == STRANGERS
