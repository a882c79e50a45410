"""Wiring: pace the simulation's records into a sink, report progress, write ground truth."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from simulator.engine import Simulation
from simulator.sinks import Sink

__all__ = ["RunReport", "stream"]

log = logging.getLogger(__name__)
# Check the clock and the progress timer once per this many records when not pacing.
_CHUNK = 4096


@dataclass
class RunReport:
    """What a run sent, what the sink confirmed, and how fast."""

    records: int = 0
    delivered: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    # heartbeats the broker confirmed (one per partition and beat), not among the records
    heartbeats: int = 0

    @property
    def records_per_s(self) -> float:
        return self.records / self.elapsed_s if self.elapsed_s > 0 else 0.0


class _Progress:
    def __init__(self, simulation: Simulation, sink: Sink, every_s: float,
                 clock: Callable[[], float]) -> None:
        self.simulation, self.sink, self.every_s, self.clock = simulation, sink, every_s, clock
        self.started = self.last = clock()
        self.last_records = 0

    def maybe(self, records: int, simulated_ms: int) -> None:
        now = self.clock()
        if self.every_s <= 0 or now - self.last < self.every_s:
            return
        rate = (records - self.last_records) / (now - self.last)
        self.last, self.last_records = now, records
        moment = datetime.fromtimestamp(simulated_ms / 1000, tz=UTC).strftime("%H:%M:%S")
        log.info("simulated %s UTC | sent %s | %s records/s | in the mall %d | delivered %s "
                 "| failed %d", moment, f"{records:,}", f"{rate:,.0f}",
                 self.simulation.active_visitors(simulated_ms / 1000), f"{self.sink.delivered:,}",
                 self.sink.failed)


class _Beats:
    """The heartbeats' schedule in simulated time: one every ``every_ms``, none if 0."""

    def __init__(self, sink: Sink, every_ms: int, first_ms: int) -> None:
        self.sink, self.every_ms, self.next_ms = sink, every_ms, first_ms

    def due(self, ms: int) -> bool:
        """Whether a beat falls at or before ``ms`` (it goes before a record sent then)."""
        return self.every_ms > 0 and self.next_ms <= ms

    def send(self) -> None:
        self.sink.heartbeat(self.next_ms)
        self.next_ms += self.every_ms


def stream(
    simulation: Simulation,
    sink: Sink,
    speed: float | None,
    progress_every_s: float = 5.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    heartbeat_every_s: float = 1.0,
) -> RunReport:
    """Send every record of the simulation to the sink and close it.

    Parameters
    ----------
    speed : float or None
        Simulated seconds per wall-clock second (1 = real time, 60 = an hour a minute); None
        sends as fast as possible. Event times never depend on it.
    progress_every_s : float
        Seconds between progress lines on stderr (0 turns them off).
    clock, sleep
        The wall clock and a way to wait on it; paced sends are timed from the moment the
        first batch is ready (after the warm-up), not from the call.
    heartbeat_every_s : float
        Simulated seconds between heartbeats to every partition (0: none). After the last
        record they go on for the pipeline's out-of-orderness allowance and one beat more.

    Returns
    -------
    RunReport
        After the sink closed, so ``delivered + failed == records``.

    Notes
    -----
    A heartbeat stamped ``t`` goes out just before the first record sent at or after ``t``,
    so every record after it was sent no earlier than ``t``; the simulator's out-of-order
    pings trail their send time by less than the allowance, so a heartbeat never makes an
    on-time ping late. The beats after the last record are the mall's clock running on after
    its last ping: without them the last stays would wait for a ping that never comes.
    """
    report = RunReport()
    progress = _Progress(simulation, sink, progress_every_s, clock)
    start_ms = simulation.settings.start_ms
    started = clock()
    # The wall-clock moment of start_ms; taken when the first batch is ready, so the warm-up
    # planning (tens of seconds for a large population) is not played back as a burst.
    anchor: float | None = None
    send = sink.send
    beats = _Beats(sink, round(heartbeat_every_s * 1000) if sink.needs_heartbeats else 0,
                   start_ms)
    last_ms = start_ms

    def wait_for(ms: int, records: int) -> None:
        """Sleep until simulated ``ms`` is due on the wall clock (paced runs only)."""
        wait_s = anchor + (ms - start_ms) / 1000.0 / speed - clock()
        if wait_s > 0.002:
            progress.maybe(records, ms)
            sleep(wait_s)

    try:
        for batch in simulation.batches():
            if anchor is None:
                anchor = clock()
            keys, values, send_ms = batch.keys, batch.values, batch.send_ms
            for begin in range(0, len(values), _CHUNK):
                end = min(begin + _CHUNK, len(values))
                if speed is None:
                    # Each beat goes just before the first record sent at or after it.
                    chunk_ms, at = send_ms[begin:end], begin
                    while beats.due(int(chunk_ms[-1])):
                        cut = begin + int(np.searchsorted(chunk_ms, beats.next_ms, side="left"))
                        if cut > at:
                            sink.send_many(keys[at:cut], values[at:cut])
                            at = cut
                        beats.send()
                    if at < end:
                        sink.send_many(keys[at:end], values[at:end])
                else:
                    for index, (ms, key, value) in enumerate(zip(
                            send_ms[begin:end].tolist(), keys[begin:end], values[begin:end],
                            strict=True)):
                        while beats.due(ms):
                            wait_for(beats.next_ms, report.records + index)
                            beats.send()
                        wait_for(ms, report.records + index)
                        send(key, value)
                report.records += end - begin
                last_ms = max(last_ms, int(send_ms[end - 1]))
                progress.maybe(report.records, int(send_ms[end - 1]))
        closing_ms = last_ms + round(
            (simulation.settings.out_of_orderness_s + heartbeat_every_s) * 1000)
        while beats.due(closing_ms):
            if speed is not None and anchor is not None:
                wait_for(beats.next_ms, report.records)
            beats.send()
    finally:
        sink.close()
        report.elapsed_s = clock() - started
        report.delivered, report.failed = sink.delivered, sink.failed
        report.errors = dict(sink.errors)
        report.heartbeats = sink.heartbeats
    return report
