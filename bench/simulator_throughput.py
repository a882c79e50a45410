"""Simulator throughput into the local Kafka, beside what limits it, in one run.

Prints records per second for:

1. generating only (no Kafka): the simulator's own ceiling, with and without the warm-up that
   fills the mall before the start;
2. each Kafka client sending the same pre-serialised records (the client's ceiling);
3. the simulator streaming into Kafka through each client (``--speed max``) with the
   client's default compression, after the warm-up that fills the mall.

Records go to a scratch topic (``<ping topic>-bench``, deleted afterwards) so that a pipeline
reading ``mall-pings`` is not flooded. Needs the local stack (``python -m stack up``).
Target: 50,000 pings/s from one process.

    .venv/bin/python bench/simulator_throughput.py [--customers 100000] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Callable

import numpy as np

from pizzario import load_config
from simulator import Settings, Simulation, load_mall, load_segments, synthesize_customers
from simulator.engine import DEFAULT_PEAK_ARRIVALS_PER_CUSTOMER_MIN, EVENING_START_MS
from simulator.run import RunReport, stream
from simulator.sinks import DEFAULT_COMPRESSION, PRODUCER_BACKENDS, Sink, open_kafka_sink

TARGET_PER_S = 50_000


class _NullSink:
    """Accepts and forgets records: what the simulator costs without any client."""

    def __init__(self) -> None:
        self.delivered = self.failed = 0
        self.errors: dict[str, int] = {}
        self.first_send: float | None = None

    def send(self, key: bytes, value: bytes) -> None:
        if self.first_send is None:
            self.first_send = time.perf_counter()
        self.delivered += 1

    def close(self) -> None:
        pass


class _Timed:
    """Wraps a sink to note when the first record left (after the warm-up planning)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.first_send: float | None = None

    def send(self, key: bytes, value: bytes) -> None:
        if self.first_send is None:
            self.first_send = time.perf_counter()
        self.sink.send(key, value)

    def send_many(self, keys: list[bytes], values: list[bytes]) -> None:
        if self.first_send is None:
            self.first_send = time.perf_counter()
        self.sink.send_many(keys, values)

    def close(self) -> None:
        self.sink.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self.sink, name)


def _simulation(args: argparse.Namespace, duration_s: float) -> Simulation:
    config = load_config()
    customers = synthesize_customers(load_segments(config.paths.segments_csv), args.customers,
                                     np.random.default_rng([args.seed, 1]))
    return Simulation(load_mall(config.paths.mall_json), customers, Settings(
        start_ms=EVENING_START_MS, duration_s=duration_s, seed=args.seed,
        arrivals_per_minute=DEFAULT_PEAK_ARRIVALS_PER_CUSTOMER_MIN * args.customers))


def _row(what: str, records: int, seconds: float, note: str = "") -> None:
    rate = records / seconds if seconds > 0 else 0.0
    print(f"{what:<52} {records:>10,} {seconds:>9.2f} {rate:>12,.0f}  {note}", flush=True)


def _generate_only(args: argparse.Namespace) -> list[tuple[bytes, bytes]]:
    simulation = _simulation(args, args.duration_s)
    sink = _NullSink()
    kept: list[tuple[bytes, bytes]] = []
    started = time.perf_counter()
    records = 0
    for batch in simulation.batches():
        if sink.first_send is None:
            sink.first_send = time.perf_counter()
        records += len(batch.values)
        if len(kept) < args.raw_records:
            kept.extend(zip(batch.keys, batch.values, strict=True))
    ended = time.perf_counter()
    _row("generate only, warm-up included", records, ended - started,
         f"(warm-up {sink.first_send - started:.1f} s, {simulation.counts.visitors:,} visitors)")
    _row("generate only, streaming phase", records, ended - sink.first_send)
    return kept[: args.raw_records]


def _raw_send(backend: str, compression: str | None, records: list[tuple[bytes, bytes]],
              topic: str, args: argparse.Namespace) -> int:
    """Rate of delivered records; returns how many failed."""
    sink = open_kafka_sink(backend, load_config().kafka.bootstrap, topic, args.linger_ms,
                           args.batch_size, compression)
    started = time.perf_counter()
    for key, value in records:
        sink.send(key, value)
    sink.close()
    seconds = time.perf_counter() - started
    _row(f"{backend} ({compression or 'none'}): raw send of pre-serialised", sink.delivered,
         seconds, f"(sent {len(records):,}, failed {sink.failed})")
    return sink.failed


def _simulate_into_kafka(backend: str, topic: str, duration_s: float,
                         args: argparse.Namespace, profile: bool = False) -> RunReport:
    """Streams into Kafka and prints the delivered rate after the warm-up; returns the report."""
    simulation = _simulation(args, duration_s)
    compression = DEFAULT_COMPRESSION[backend]
    sink = _Timed(open_kafka_sink(backend, load_config().kafka.bootstrap, topic, args.linger_ms,
                                  args.batch_size, compression))
    started = time.perf_counter()

    def run() -> RunReport:
        return stream(simulation, sink, None, progress_every_s=0)

    report = _profiled(run)() if profile else run()
    ended = time.perf_counter()
    first = sink.first_send or started
    report.elapsed_s = ended - first
    _row(f"simulator -> Kafka ({backend}, {compression or 'none'})", report.delivered,
         report.elapsed_s,
         f"(warm-up {first - started:.1f} s; sent {report.records:,}, failed {report.failed})")
    return report


def _profiled(run: Callable[[], RunReport]) -> Callable[[], RunReport]:
    def inner() -> RunReport:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
        try:
            return run()
        finally:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False)[:6000],
                  file=sys.stderr)

    return inner


def _scratch_topic(create: bool) -> str:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

    config = load_config()
    topic = f"{config.kafka.ping_topic}-bench"
    admin = KafkaAdminClient(bootstrap_servers=config.kafka.bootstrap)
    try:
        if create:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(topic, config.kafka.ping_partitions, 1)])
        else:
            with contextlib.suppress(UnknownTopicOrPartitionError):
                admin.delete_topics([topic])
    finally:
        admin.close()
    return topic


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000,
                        help="population (about 30 %% of it in the mall at the peak)")
    parser.add_argument("--duration-s", type=float, default=300.0,
                        help="simulated seconds for the generator and confluent-kafka runs")
    parser.add_argument("--kafka-python-duration-s", type=float, default=60.0,
                        help="simulated seconds for the (slower) kafka-python run")
    parser.add_argument("--raw-records", type=int, default=300_000,
                        help="pre-serialised records for the raw client sends")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--linger-ms", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=512 * 1024)
    parser.add_argument("--profile", action="store_true",
                        help="profile the confluent-kafka run with pyinstrument (stderr)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"{args.customers:,} customers, evening peak, seed {args.seed}; one process; "
          f"target {TARGET_PER_S:,} pings/s")
    print(f"{'what':<52} {'records':>10} {'seconds':>9} {'records/s':>12}")
    topic = _scratch_topic(create=True)
    try:
        records = _generate_only(args)
        failed = sum(_raw_send(backend, compression, records, topic, args)
                     for backend in PRODUCER_BACKENDS for compression in (None, "zstd"))
        failed += _simulate_into_kafka("kafka-python", topic, args.kafka_python_duration_s,
                                       args).failed
        best = _simulate_into_kafka("confluent-kafka", topic, args.duration_s, args,
                                    profile=args.profile)
        failed += best.failed
    finally:
        _scratch_topic(create=False)
    rate = best.delivered / best.elapsed_s if best.elapsed_s > 0 else 0.0
    if failed:
        print(f"FAILED: {failed:,} records were not delivered; the rates above do not count "
              "them and this run cannot be compared with the target")
        return 1
    verdict = "meets" if rate >= TARGET_PER_S else "misses"
    print(f"simulator -> Kafka (confluent-kafka): {rate:,.0f} pings/s delivered, {verdict} the "
          f"target of {TARGET_PER_S:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
