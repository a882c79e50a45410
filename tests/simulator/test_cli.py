from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from simulator import (
    Batch,
    Customer,
    FaultRates,
    Mall,
    Settings,
    Simulation,
    load_ground_truth,
    load_segments,
    sinks,
    summary_path_for,
)
from simulator.cli import build_parser, default_start_ms, main, parse_duration_s, parse_start_ms
from simulator.engine import EVENING_START_MS
from simulator.run import stream
from simulator.sinks import PRODUCER_BACKENDS, FileSink


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = capsys.readouterr().out
    options = [o for action in parser._actions for o in action.option_strings]
    assert len(options) >= 25
    for action in parser._actions:
        if action.option_strings and action.help != "==SUPPRESS==":
            assert action.help, action.option_strings
    for option in ("--speed", "--duration", "--seed", "--start", "--customers", "--out",
                   "--truth", "--duplicate-rate", "--out-of-order-rate", "--late-rate",
                   "--malformed-rate", "--unknown-rate", "--producer"):
        assert option in text


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("10m", 600),
                                               ("1h30m", 5400), ("0.5h", 1800)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == seconds


def test_start_times() -> None:
    assert parse_start_ms("2026-11-22T13:00:00Z") == EVENING_START_MS
    assert parse_start_ms("2026-11-22T18:30:00+05:30") == EVENING_START_MS
    assert parse_start_ms(str(EVENING_START_MS)) == EVENING_START_MS


def test_out_writes_the_pings_truth_and_summary(segments_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "pings.jsonl"
    args = ["--speed", "max", "--duration", "20m", "--seed", "9", "--start",
            "2026-11-22T13:00:00Z", "--segments", str(segments_csv), "--customers", "300",
            "--out", str(out), "--malformed-rate", "0.01", "--duplicate-rate", "0.01",
            "--population-out", str(tmp_path / "population.csv"), "--progress-every", "0"]
    assert main(args) == 0
    lines = out.read_bytes().splitlines()
    truth = load_ground_truth(tmp_path / "pings.truth.csv")
    counts = truth.summary["counts"]
    assert truth.summary["sent"] == truth.summary["delivered"] == len(lines) == counts["records"]
    assert counts["records"] == counts["pings"] + counts["duplicate"]
    assert truth.summary["failed"] == 0 and truth.summary["seed"] == 9
    assert len(truth.stays) == truth.summary["truth_stays"] > 0
    assert all(EVENING_START_MS <= s.enter_ts < s.exit_ts <= EVENING_START_MS + 1_200_000
               for s in truth.stays)
    header = (tmp_path / "pings.truth.csv").read_text().splitlines()[0]
    assert header == "customer_id,known,enter_ts,exit_ts,dwell_s,kind,expect"
    judged = truth.summary["truth"]
    assert sum(judged["by_expect"].values()) == len(truth.stays)
    assert judged["either_share"] == round(
        sum(s.expect == "either" for s in truth.stays) / len(truth.stays), 4)
    assert len(load_segments(tmp_path / "population.csv")) == 300
    # The same seed and start give byte-identical output.
    again = tmp_path / "again.jsonl"
    assert main([*args[:-6], "--out", str(again), "--malformed-rate", "0.01",
                 "--duplicate-rate", "0.01", "--progress-every", "0"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_broken_inputs_fail_with_the_file_named(tmp_path: Path, segments_csv: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    assert main(["--segments", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")]) == 2
    assert f"{tmp_path / 'none.csv'}: file not found" in caplog.text
    bad = tmp_path / "mall.json"
    bad.write_text(json.dumps({"name": "x"}))
    assert main(["--mall", str(bad), "--segments", str(segments_csv)]) == 2
    assert f"{bad}: origin: missing field" in caplog.text


class _FakeClock:
    """Wall-clock stand-in: sleeping advances time exactly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


class _RecordingSink(FileSink):
    def __init__(self, path: Path, clock: _FakeClock) -> None:
        super().__init__(path)
        self.clock = clock
        self.sent_at: list[float] = []

    def send(self, key: bytes, value: bytes) -> None:
        self.sent_at.append(self.clock.now)
        super().send(key, value)


def test_speed_sixty_plays_ten_minutes_in_ten_seconds(mall: Mall, segments_csv: Path,
                                                      tmp_path: Path) -> None:
    simulation = Simulation(mall, load_segments(segments_csv), Settings(
        start_ms=EVENING_START_MS, duration_s=600, seed=2, arrivals_per_minute=3.0,
        faults=FaultRates(out_of_order=0.05)))
    clock = _FakeClock()
    sink = _RecordingSink(tmp_path / "paced.jsonl", clock)
    report = stream(simulation, sink, speed=60.0, progress_every_s=0, clock=clock.time,
                    sleep=clock.sleep)
    assert report.records == report.delivered == len(sink.sent_at) > 500
    # Each ping leaves when the simulated clock (60x) reaches its send time.
    event_ms = [json.loads(line)["ts"] for line in (tmp_path / "paced.jsonl").read_bytes(
        ).splitlines()]
    lags = [sent - 1000.0 - (ts - EVENING_START_MS) / 1000 / 60
            for sent, ts in zip(sink.sent_at, event_ms, strict=True)]
    assert min(lags) >= -0.002 - 1e-9  # stream() does not sleep for less than 2 ms
    assert max(lags) <= 8 / 60 + 1e-6  # out-of-order delays stay under 8 s simulated
    assert 9.0 <= clock.slept <= 10.0 + 8 / 60


class _SlowStart(Simulation):
    """Planning the warm-up takes 30 s of (fake) wall clock before the first batch."""

    def __init__(self, mall: Mall, customers: Sequence[Customer], settings: Settings,
                 clock: _FakeClock) -> None:
        super().__init__(mall, customers, settings)
        self.clock = clock

    def batches(self) -> Iterator[Batch]:
        self.clock.now += 30.0
        yield from super().batches()


def test_pacing_starts_when_the_first_batch_is_ready(mall: Mall, segments_csv: Path,
                                                      tmp_path: Path) -> None:
    clock = _FakeClock()
    simulation = _SlowStart(mall, load_segments(segments_csv), Settings(
        start_ms=EVENING_START_MS, duration_s=600, seed=2, arrivals_per_minute=3.0), clock)
    sink = _RecordingSink(tmp_path / "paced.jsonl", clock)
    report = stream(simulation, sink, speed=60.0, progress_every_s=0, clock=clock.time,
                    sleep=clock.sleep)
    # Ten simulated minutes still take ten seconds after the 30 s of planning: nothing of
    # the first half hour of simulated time (at 60x) is sent as a burst.
    assert report.records == len(sink.sent_at) > 500
    assert 9.0 <= clock.slept <= 10.0
    assert sink.sent_at[-1] - sink.sent_at[0] >= 9.0
    assert report.elapsed_s >= 30.0 + 9.0


@pytest.mark.parametrize("producer", PRODUCER_BACKENDS)
def test_no_broker_fails_fast_and_clearly(producer: str, segments_csv: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sinks, "CONNECT_TIMEOUT_S", 2.0)
    truth = tmp_path / "run" / "truth.csv"
    # Nothing listens on port 1.
    assert main(["--bootstrap", "127.0.0.1:1", "--producer", producer, "--speed", "max",
                 "--duration", "10m", "--segments", str(segments_csv), "--truth", str(truth),
                 "--progress-every", "0"]) == 2
    errors = [r for r in caplog.records if r.name == "simulator"]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert errors[0].getMessage().startswith("Kafka at 127.0.0.1:1: cannot connect (")
    assert "`make up`" in errors[0].getMessage()
    # librdkafka's and kafka-python's retry lines are cut short.
    assert len(caplog.records) <= 1 + 3
    assert not truth.exists() and not summary_path_for(truth).exists()


class _Delivered:
    """A send the broker acknowledged: callbacks run at once."""

    def add_callback(self, callback: Callable[[object], None]) -> None:
        callback(None)

    def add_errback(self, errback: Callable[[BaseException], None]) -> None:
        pass


class _RefusingProducer:
    """kafka-python's producer once the broker is gone: send() raises after max_block_ms."""

    def __init__(self, accept: int) -> None:
        self.accept = accept

    def partitions_for(self, topic: str) -> set[int]:
        return {0, 1}

    def send(self, topic: str, key: bytes, value: bytes, partition: int | None = None
             ) -> _Delivered:
        from kafka.errors import KafkaTimeoutError

        if partition is not None:  # a heartbeat, sent to each partition by number
            return _Delivered()
        if self.accept <= 0:
            raise KafkaTimeoutError("Failed to update metadata after 10.0 secs.")
        self.accept -= 1
        return _Delivered()

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_broker_lost_mid_run_still_writes_truth_and_summary(
        segments_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kafka.KafkaProducer", lambda **config: _RefusingProducer(accept=100))
    truth = tmp_path / "truth.csv"
    assert main(["--speed", "max", "--duration", "10m", "--segments", str(segments_csv),
                 "--customers", "300", "--start", "2026-11-22T13:00:00Z", "--seed", "3",
                 "--truth", str(truth), "--progress-every", "0"]) == 1
    summary = load_ground_truth(truth).summary
    assert summary["sent"] == summary["counts"]["records"] > 500
    assert summary["delivered"] == 100
    assert summary["failed"] == summary["sent"] - 100
    assert set(summary["errors"]) == {
        "KafkaTimeoutError: Failed to update metadata after 10.0 secs.",
        "not sent: the producer gave up after KafkaTimeoutError"}


def test_map_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["map", "--out", str(first), "--visitors", "4"]) == 0
    assert main(["map", "--out", str(second), "--visitors", "4"]) == 0
    assert first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first.read_bytes() == second.read_bytes()
    assert main(["map", "--out", str(second), "--visitors", "4", "--seed", "8"]) == 0
    assert first.read_bytes() != second.read_bytes()


@pytest.mark.parametrize(
    ("speed", "expected_start_ms"),
    [
        (1.0, 1_000_000_000),  # real time: event time is the wall clock
        (0.5, 1_000_000_000),
        (60.0, 1_000_000_000 - 590_000),  # 10 min in 10 s: start 9 min 50 s ago
        (None, 1_000_000_000 - 600_000),  # as fast as possible: the whole span is past
    ],
)
def test_default_start_keeps_event_times_out_of_the_future(
    speed: float | None, expected_start_ms: int
) -> None:
    now_ms = 1_000_000_000
    start_ms = default_start_ms(now_ms, 600.0, speed)
    assert start_ms == expected_start_ms
    wall_s = 0.0 if speed is None else 600.0 / speed
    # The last ping's event time never lies ahead of the wall clock at the moment it is sent.
    assert start_ms + 600_000 <= now_ms + wall_s * 1000


def test_the_default_start_comes_from_the_product_clock(
    segments_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pizzario.clock import Clock, fixed_clock

    caplog.set_level(logging.INFO, logger="simulator")
    args = ["--speed", "max", "--duration", "10m", "--seed", "4", "--segments",
            str(segments_csv), "--customers", "50", "--progress-every", "0"]
    # an injected clock: as fast as possible, the whole span lies before its now
    out = tmp_path / "fixed.jsonl"
    assert main([*args, "--out", str(out)], clock=fixed_clock(EVENING_START_MS + 600_000)) == 0
    assert load_ground_truth(tmp_path / "fixed.truth.csv").summary["start_ms"] == EVENING_START_MS
    # logged in mall time (Asia/Kolkata), whatever the machine's zone
    assert any("start 2026-11-22T18:30:00+05:30," in r.getMessage() for r in caplog.records)
    # the configured clock: the wall clock a day behind (PIZZARIO_CLOCK_OFFSET_S)
    monkeypatch.setenv("PIZZARIO_CLOCK_OFFSET_S", "-86400")
    out = tmp_path / "configured.jsonl"
    before_ms = Clock(offset_s=-86_400).now_ms()
    assert main([*args, "--out", str(out)]) == 0
    after_ms = Clock(offset_s=-86_400).now_ms()
    start_ms = load_ground_truth(tmp_path / "configured.truth.csv").summary["start_ms"]
    assert before_ms - 600_000 <= start_ms <= after_ms - 600_000
