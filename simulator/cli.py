"""Command line: ``python -m simulator`` streams pings, ``python -m simulator map`` draws."""

from __future__ import annotations

import argparse
import json
import logging
import re
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pizzario import load_config
from pizzario.clock import Clock, configured_clock, local_datetime
from simulator.engine import (
    DEFAULT_PEAK_ARRIVALS_PER_CUSTOMER_MIN,
    FLAT_PROFILE,
    HOURLY_PROFILE,
    Settings,
    Simulation,
)
from simulator.faults import FaultRates
from simulator.mall import MallLayoutError, load_mall
from simulator.population import (
    SegmentsError,
    load_segments,
    synthesize_customers,
    write_population,
)
from simulator.run import RunReport, stream
from simulator.sinks import (
    DEFAULT_COMPRESSION,
    LIBRDKAFKA_LOGGER,
    PRODUCER_BACKENDS,
    FileSink,
    KafkaUnavailableError,
    Sink,
    open_kafka_sink,
)
from simulator.truth import StayRule, summary_path_for, truth_summary, write_ground_truth

__all__ = ["default_start_ms", "main", "parse_duration_s", "parse_start_ms"]

log = logging.getLogger("simulator")

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def parse_duration_s(text: str) -> float:
    """``90``, ``90s``, ``10m``, ``1h30m`` -> seconds."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 90s, 10m, 1h30m)")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise argparse.ArgumentTypeError(f"duration must be positive: {text!r}")
    return total


def default_start_ms(now_ms: int, duration_s: float, speed: float | None) -> int:
    """The simulated start that keeps every event time at or before the clock's ``now_ms``.

    ``now_ms`` is the product's clock (:mod:`pizzario.clock`), which the pipeline's ping check
    reads too. Faster than real time, event time runs ahead of that clock, and the pipeline
    dead-letters pings from the future; starting ``duration * (1 - 1/speed)`` in the past
    makes the run's last ping coincide with its last real second. ``speed=None`` is 'max'.
    """
    if speed is None:
        return now_ms - round(duration_s * 1000)
    if speed <= 1:
        return now_ms
    return now_ms - round(duration_s * 1000 * (1 - 1 / speed))


def parse_start_ms(text: str) -> int:
    """Epoch milliseconds, or an ISO-8601 time (UTC when it names no zone)."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"not a start time: {text!r} (try 2026-11-22T18:00:00Z or epoch ms)") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where it says something (not for flags or "computed" defaults)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


class _FirstFew(logging.Filter):
    """Lets the first ``limit`` records of each named logger family through, then mutes it."""

    def __init__(self, families: Sequence[str], limit: int) -> None:
        super().__init__()
        self.left = dict.fromkeys(families, limit)

    def filter(self, record: logging.LogRecord) -> bool:
        family = next((name for name in self.left
                       if record.name == name or record.name.startswith(f"{name}.")), None)
        if family is None:
            return True
        self.left[family] -= 1
        if self.left[family] == 0:
            record.msg = f"{record.msg} (further {family} messages are not shown)"
        return self.left[family] >= 0


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"speed is a number or 'max', not {text!r}") from error
    if value <= 0:
        raise argparse.ArgumentTypeError("speed must be positive")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate is between 0 and 1, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    config = load_config()
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=(
            "Simulate customers walking the mall in data/mall.json and stream their phones' "
            "location pings (JSON, keyed by customer_id) to Kafka or to a file, with the ground "
            "truth of who stayed near the pizza shop. Event times follow the simulated clock, "
            "so a seed and a --start give the same pings at any --speed."),
        formatter_class=_HelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="{map}")
    map_parser = sub.add_parser("map", help="draw the layout with sample paths to a PNG",
                                formatter_class=_HelpFormatter)
    map_parser.add_argument("--out", type=Path,
                            default=config.paths.repo_root / "docs" / "img" / "mall_map.png",
                            help="PNG file to write")
    map_parser.add_argument("--visitors", type=int, default=12, help="sample paths to draw")
    map_parser.add_argument("--seed", type=int, default=7, help="seed of the sample paths")
    map_parser.add_argument("--mall", type=Path, default=config.paths.mall_json,
                            help="mall layout JSON")

    timing = parser.add_argument_group("time")
    timing.add_argument("--speed", type=_speed, default=1.0,
                        help="simulated seconds per real second: 1 is real time (event time = "
                             "wall clock), 60 plays an hour in a minute, 'max' is as fast as "
                             "possible (load tests)")
    timing.add_argument("--duration", type=parse_duration_s, default=parse_duration_s("10m"),
                        metavar="DURATION",
                        help="simulated time to cover, e.g. 90s, 10m, 1h30m (seconds)")
    timing.add_argument("--start", type=parse_start_ms, default=None,
                        help="simulated start: ISO-8601 (UTC unless a zone is given) or epoch ms; "
                             "default now (the product's clock, PIZZARIO_CLOCK_OFFSET_S) in "
                             "real time, and early enough faster than real time "
                             "that no event time lies in the future")
    timing.add_argument("--seed", type=int, default=None,
                        help="random seed (default: a fresh one, logged so a run can be replayed)")
    timing.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="start with an empty mall instead of one already busy")

    people = parser.add_argument_group("people")
    people.add_argument("--segments", type=Path, default=config.paths.segments_csv,
                        help="segment table the customers come from")
    people.add_argument("--customers", type=int, default=None,
                        help="population size; above the table's size, synthetic look-alikes "
                             "drawn from each segment are added (default: the table)")
    people.add_argument("--peak-arrivals-per-min", type=float, default=None,
                        help="visitor arrivals per minute at the evening peak (Poisson, shaped "
                             "by the hour of day); default "
                             f"{DEFAULT_PEAK_ARRIVALS_PER_CUSTOMER_MIN} x customers")
    people.add_argument("--flat-day", action="store_true",
                        help="arrive at the peak rate at every hour (demos at night) instead of "
                             "following the mall's time-of-day profile")
    people.add_argument("--population-out", type=Path, default=None,
                        help="also write the simulated population in the segment table's "
                             "columns (so a pipeline can know the synthetic customers)")
    people.add_argument("--mall", type=Path, default=config.paths.mall_json,
                        help="mall layout JSON")

    faults = parser.add_argument_group("fault injection (all off by default)")
    faults.add_argument("--duplicate-rate", type=_rate, default=0.0,
                        help="share of pings resent with the same event_id 0.2-3 s later")
    faults.add_argument("--out-of-order-rate", type=_rate, default=0.0,
                        help="share of pings delayed 1 s to (watermark - 2 s): out of order but "
                             "within the pipeline's allowance")
    faults.add_argument("--late-rate", type=_rate, default=0.0,
                        help="share of pings delayed (watermark + 5 s) to (watermark + 60 s): "
                             "late for the pipeline")
    faults.add_argument("--malformed-rate", type=_rate, default=0.0,
                        help="share of pings replaced by a malformed record: not JSON, missing "
                             "field, wrong type, or coordinates off the map (counted by kind)")
    faults.add_argument("--unknown-rate", type=_rate, default=0.0,
                        help="share of visitors who are not customers (ids from 1,000,000)")

    output = parser.add_argument_group("output")
    output.add_argument("--out", type=Path, default=None,
                        help="write the records as JSON lines to this file instead of Kafka")
    output.add_argument("--truth", type=Path, default=None,
                        help="ground-truth CSV of stays near the shop, judged offer / no_offer / "
                             "either on the true path, with a "
                             "*.summary.json beside it (default: next to --out, else in "
                             f"{config.paths.output_dir}/simulator)")
    output.add_argument("--bootstrap", default=config.kafka.bootstrap, help="Kafka bootstrap")
    output.add_argument("--topic", default=config.kafka.ping_topic, help="Kafka topic")
    output.add_argument("--producer", choices=PRODUCER_BACKENDS, default="kafka-python",
                        help="Kafka client library")
    output.add_argument("--linger-ms", type=int, default=20, help="producer batching delay")
    output.add_argument("--batch-size", type=int, default=512 * 1024,
                        help="producer batch size in bytes")
    output.add_argument("--compression", choices=["auto", "none", "gzip", "zstd"],
                        default="auto",
                        help="producer compression; auto is zstd for kafka-python (fewer bytes "
                             "through its Python network code) and none for confluent-kafka")
    output.add_argument("--heartbeat-every", type=float, default=1.0, metavar="SECONDS",
                        help="simulated seconds between heartbeats to every partition of the "
                             "topic, which move the pipeline's event time while the mall is "
                             "quiet and after the last ping (0: none)")
    output.add_argument("--progress-every", type=float, default=5.0,
                        help="seconds between progress lines on stderr (0: none)")
    return parser


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    """Run the command line; ``clock`` is the product's now (the configured clock by default)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        stream=sys.stderr)
    # kafka-python narrates every connection at INFO and warns of each retry; both clients log
    # every failed reconnection, hundreds of lines over an outage: the first few say what is
    # wrong, the run's failure count says the rest.
    logging.getLogger("kafka").setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_FirstFew(("kafka", LIBRDKAFKA_LOGGER), limit=3))
    args = build_parser().parse_args(argv)
    try:
        if args.command == "map":
            from simulator.mapplot import draw_map

            truth = load_config().truth
            draw_map(load_mall(args.mall), args.out, visitors=args.visitors, seed=args.seed,
                     truth_radii_m=(truth.inner_radius_m, truth.outer_radius_m))
            log.info("wrote %s", args.out)
            return 0
        return _simulate(args, clock)
    except (MallLayoutError, SegmentsError, KafkaUnavailableError) as error:
        log.error("%s", error)
        return 2


def _simulate(args: argparse.Namespace, clock: Clock | None) -> int:
    config = load_config()
    clock = clock if clock is not None else configured_clock(config.clock)
    mall = load_mall(args.mall)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    start_ms = (
        args.start
        if args.start is not None
        else default_start_ms(clock.now_ms(), args.duration, args.speed)
    )
    customers = load_segments(args.segments)
    population = synthesize_customers(customers, args.customers or len(customers),
                                      _population_rng(seed))
    if args.population_out:
        write_population(args.population_out, population)
    peak = args.peak_arrivals_per_min
    if peak is None:
        peak = DEFAULT_PEAK_ARRIVALS_PER_CUSTOMER_MIN * len(population)
    settings = Settings(
        start_ms=start_ms, duration_s=args.duration, seed=seed, arrivals_per_minute=peak,
        faults=FaultRates(args.duplicate_rate, args.out_of_order_rate, args.late_rate,
                          args.malformed_rate, args.unknown_rate),
        out_of_orderness_s=config.offers.out_of_orderness_s, warm_up=args.warm_up,
        hourly_profile=FLAT_PROFILE if args.flat_day else HOURLY_PROFILE,
        truth=StayRule(config.truth.inner_radius_m, config.truth.outer_radius_m,
                       config.offers.dwell_threshold_s, config.truth.time_margin_s,
                       config.truth.max_silence_s))
    simulation = Simulation(mall, population, settings)
    truth_path = _truth_path(args, config.paths.output_dir)
    sink: Sink
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        sink, destination = FileSink(args.out), str(args.out)
    else:
        compression = {"auto": DEFAULT_COMPRESSION[args.producer], "none": None}.get(
            args.compression, args.compression)
        sink = open_kafka_sink(args.producer, args.bootstrap, args.topic, args.linger_ms,
                               args.batch_size, compression)
        destination = f"kafka {args.bootstrap} topic {args.topic}"
    # the start in mall time, with its UTC offset: the hour the mall sees, on any machine
    log.info("seed %d, start %s, %s simulated, %d customers, peak %.1f arrivals/min -> %s",
             seed, local_datetime(start_ms, mall.timezone).isoformat(),
             f"{args.duration:g} s", len(population), peak, destination)
    report = stream(simulation, sink, args.speed, args.progress_every,
                    heartbeat_every_s=args.heartbeat_every)
    _finish(simulation, report, args, truth_path, destination)
    return 0 if report.failed == 0 else 1


def _population_rng(seed: int) -> np.random.Generator:
    # A stream apart from the simulation's, so growing the population changes no walks.
    return np.random.default_rng([seed, 1])


def _truth_path(args: argparse.Namespace, output_dir: Path) -> Path:
    if args.truth:
        path = args.truth
    elif args.out:
        path = args.out.with_name(f"{args.out.stem}.truth.csv")
    else:
        path = output_dir / "simulator" / "truth.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _finish(simulation: Simulation, report: RunReport, args: argparse.Namespace,
            truth_path: Path, destination: str) -> None:
    counts = simulation.counts
    summary = {
        "destination": destination,
        "seed": simulation.settings.seed,
        "start_ms": simulation.settings.start_ms,
        "end_ms": simulation.settings.start_ms + round(simulation.settings.duration_s * 1000),
        "duration_s": simulation.settings.duration_s,
        "speed": "max" if args.speed is None else args.speed,
        "customers": len(simulation.customers),
        "peak_arrivals_per_min": simulation.settings.arrivals_per_minute,
        "event_id_prefix": simulation.event_prefix,
        "rates": vars(simulation.settings.faults),
        "counts": counts.as_dict(),
        "sent": report.records,
        "delivered": report.delivered,
        "failed": report.failed,
        "errors": report.errors,
        "heartbeats": report.heartbeats,
        "elapsed_s": round(report.elapsed_s, 3),
        "records_per_s": round(report.records_per_s, 1),
        "truth_stays": len(simulation.truth),
        "truth": truth_summary(simulation.truth, simulation.settings.truth),
    }
    write_ground_truth(truth_path, simulation.truth, summary)
    malformed = ", ".join(f"{kind} {n}" for kind, n in counts.malformed.items())
    log.info("done: sent %s records (%s pings; resent %d, out of order %d, late %d, malformed "
             "%d [%s]; %d visitors, %d unknown) in %.1f s = %s records/s; delivered %s, "
             "failed %d", f"{report.records:,}", f"{counts.pings:,}", counts.duplicate,
             counts.out_of_order, counts.late, counts.malformed_total, malformed,
             counts.visitors, counts.unknown_visitors, report.elapsed_s,
             f"{report.records_per_s:,.0f}", f"{report.delivered:,}", report.failed)
    truth, rule = summary["truth"], simulation.settings.truth
    by_expect = truth["by_expect"]  # type: ignore[index]
    log.info("ground truth: %d stays within %g m of the shop: offer %d, no_offer %d, either %d "
             "(either share %.1f %%; inner %g m, margin %g s) -> %s (summary %s)",
             len(simulation.truth), rule.outer_radius_m, by_expect["offer"],
             by_expect["no_offer"], by_expect["either"],
             100 * truth["either_share"], rule.inner_radius_m,  # type: ignore[index]
             rule.margin_s, truth_path, summary_path_for(truth_path))
    if report.failed:
        log.error("%d records were not delivered: %s", report.failed, json.dumps(report.errors))

