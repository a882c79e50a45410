"""Heartbeats: when stream() sends them, and what they say (fake sink and clock, no broker)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from pizzario.heartbeat import heartbeat_record
from simulator.engine import EVENING_START_MS, Settings, Simulation
from simulator.faults import FaultRates
from simulator.mall import Mall
from simulator.population import load_segments
from simulator.run import stream


class _FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class _BeatingSink:
    """Notes every record's send time (from its ts) and every heartbeat, in order."""

    def __init__(self, clock: _FakeClock) -> None:
        self.clock = clock
        self.delivered = self.failed = self.heartbeats = 0
        self.errors: Counter[str] = Counter()
        self.needs_heartbeats = True
        self.events: list[tuple[str, int, float]] = []  # (kind, simulated ms, wall s)

    def send(self, key: bytes, value: bytes) -> None:
        self.send_many([key], [value])

    def send_many(self, keys: Sequence[bytes], values: Sequence[bytes]) -> None:
        for value in values:
            self.events.append(("record", _ts(value), self.clock.now))
            self.delivered += 1

    def heartbeat(self, ts_ms: int) -> None:
        self.events.append(("beat", ts_ms, self.clock.now))
        self.heartbeats += 1

    def close(self) -> None:
        pass


def _ts(value: bytes) -> int:
    try:
        return int(json.loads(value)["ts"])
    except (ValueError, KeyError, TypeError):  # a malformed record
        return -1


def _simulation(mall: Mall, segments_csv: Path) -> Simulation:
    return Simulation(mall, load_segments(segments_csv), Settings(
        start_ms=EVENING_START_MS, duration_s=300, seed=4, arrivals_per_minute=3.0,
        faults=FaultRates(out_of_order=0.05, duplicate=0.05), out_of_orderness_s=10.0))


@pytest.mark.parametrize("speed", [None, 60.0])
def test_a_beat_every_simulated_second_and_on_after_the_last_ping(
        speed: float | None, mall: Mall, segments_csv: Path) -> None:
    clock = _FakeClock()
    sink = _BeatingSink(clock)
    report = stream(_simulation(mall, segments_csv), sink, speed, progress_every_s=0,
                    clock=clock.time, sleep=clock.sleep, heartbeat_every_s=1.0)
    beats = [ms for kind, ms, _ in sink.events if kind == "beat"]
    records = [ms for kind, ms, _ in sink.events if kind == "record" and ms >= 0]
    assert report.heartbeats == len(beats)
    assert beats == list(range(EVENING_START_MS, beats[-1] + 1, 1000))
    # On past the last send by the 10 s allowance and one beat more, so the watermark (latest
    # time - 10 s) passes the last ping; a ping is sent at most 8 s after its time.
    last_record = max(records)
    assert last_record + 11_000 <= beats[-1] < last_record + 8_000 + 12_000


@pytest.mark.parametrize("speed", [None, 60.0])
def test_no_ping_sent_after_a_beat_is_late_for_it(
        speed: float | None, mall: Mall, segments_csv: Path) -> None:
    clock = _FakeClock()
    sink = _BeatingSink(clock)
    stream(_simulation(mall, segments_csv), sink, speed, progress_every_s=0,
           clock=clock.time, sleep=clock.sleep)
    latest_beat, behind = None, []
    for kind, ms, _ in sink.events:
        if kind == "beat":
            latest_beat = ms
        elif ms >= 0 and latest_beat is not None:
            behind.append(latest_beat - ms)
    # Out-of-order pings trail the latest beat by less than the 10 s allowance (up to 8 s).
    assert 0 < max(behind) < 10_000


def test_paced_beats_leave_when_their_time_comes(mall: Mall, segments_csv: Path) -> None:
    clock = _FakeClock()
    sink = _BeatingSink(clock)
    stream(_simulation(mall, segments_csv), sink, 60.0, progress_every_s=0,
           clock=clock.time, sleep=clock.sleep)
    beats = [(ms, at) for kind, ms, at in sink.events if kind == "beat"]
    anchor = beats[0][1]
    lags = [at - anchor - (ms - EVENING_START_MS) / 1000 / 60 for ms, at in beats]
    assert min(lags) >= -0.002 - 1e-9 and max(lags) < 0.01


def test_heartbeat_record() -> None:
    assert heartbeat_record(1_795_352_400_000) == b'{"heartbeat":true,"ts":1795352400000}'
