"""What the reliability drills share: a sandboxed pipeline on the real stack, a recorded stream
replayed into it, and the outcome read back from Kafka and Elasticsearch.

A drill runs the same recording twice, once undisturbed and once with a fault (a killed
TaskManager, a restarted broker, Elasticsearch away, a rescale), and compares the two
:class:`Outcome` s. Everything that the pipeline derives from event time must be equal; only
the processing-time stamp of an offer (``emitted_at``) may differ, so :meth:`Outcome.offers_view`
leaves it out.

Typical use::

    recording = record_stream(seed=11, duration_s=600)
    with sandboxed("drill-tm", tmp_path) as config:
        job_id = start_pipeline(config)
        acknowledged = replay(config, recording, rate_per_s=8_000)
        outcome = collect_outcome(config, expect_offers=True)
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from pizzario.config import Config, load_config

__all__ = [
    "DRILL_SEED",
    "Outage",
    "Outcome",
    "Recording",
    "checkpoints_completed",
    "collect_outcome",
    "interrupt_service",
    "job_details",
    "job_restarts",
    "read_topic",
    "record_stream",
    "replay",
    "sandboxed",
    "search_all",
    "start_pipeline",
    "wait_for",
]

DRILL_SEED = 11
# Processing-time fields: the only parts of an offer that differ between two runs of the same
# pings.
PROCESSING_TIME_FIELDS = frozenset({"emitted_at"})


@dataclass(frozen=True)
class Recording:
    """Kafka records in send order (key and value bytes), as the simulator produced them.

    A value of None is a tombstone (a record with no value), which a hostile sender can send.
    """

    keys: list[bytes]
    values: list[bytes | None]
    summary: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.values)

    def last_event_ms(self) -> int:
        """The latest ping time in the recording (malformed records skipped)."""
        latest = 0
        for value in self.values:
            with contextlib.suppress(ValueError, TypeError, AttributeError, KeyError):
                latest = max(latest, int(json.loads(value)["ts"]))
        return latest


def record_stream(
    *,
    seed: int = DRILL_SEED,
    duration_s: float = 600.0,
    arrivals_per_min: float = 12.0,
    duplicate: float = 0.05,
    out_of_order: float = 0.05,
    late: float = 0.0,
    malformed: float = 0.01,
    unknown: float = 0.1,
    start_ms: int | None = None,
    config: Config | None = None,
) -> Recording:
    """Simulate a seeded stretch of the mall into memory: the same arguments, the same records.

    The default start is a fixed evening (the simulator's ``EVENING_START_MS``), so the offer
    rules see the same hours whenever the drill runs. ``late`` is off by default: whether a
    late ping is dropped depends on how far the watermark got when it arrives, which a replay
    after a crash changes (the watermark is not part of a checkpoint), so late pings would make
    two runs differ in ways that are not losses.
    """
    import numpy as np

    from simulator.engine import EVENING_START_MS, FLAT_PROFILE, Settings, Simulation
    from simulator.faults import FaultRates
    from simulator.mall import load_mall
    from simulator.population import load_segments, synthesize_customers

    config = config or load_config()
    customers = load_segments(config.paths.segments_csv)
    population = synthesize_customers(customers, len(customers), np.random.default_rng([seed, 1]))
    settings = Settings(
        start_ms=EVENING_START_MS if start_ms is None else start_ms,
        duration_s=duration_s,
        seed=seed,
        arrivals_per_minute=arrivals_per_min,
        faults=FaultRates(duplicate, out_of_order, late, malformed, unknown),
        out_of_orderness_s=config.offers.out_of_orderness_s,
        hourly_profile=FLAT_PROFILE,
    )
    simulation = Simulation(load_mall(config.paths.mall_json), population, settings)
    keys: list[bytes] = []
    values: list[bytes] = []
    for batch in simulation.batches():
        keys.extend(batch.keys)
        values.extend(batch.values)
    summary = {"counts": simulation.counts.as_dict(), "start_ms": settings.start_ms}
    return Recording(keys, values, summary)


@contextlib.contextmanager
def sandboxed(tag: str, work_dir: Path, **overrides: str) -> Iterator[Config]:
    """Give this process (and the jobs it submits) private topics, indices, job name and folders.

    Extra ``PIZZARIO_*`` settings come as keyword arguments (``PIZZARIO_FLINK_PARALLELISM="1"``).
    The recorded evening lies in the past, so the ping contract's clock-skew limit is widened
    to accept it. On exit the sandbox's topics and indices are deleted (its files stay in
    ``work_dir`` for a post-mortem, under pytest's temporary folder).
    """
    from flink_jobs.sandbox import drop_sandbox, free_slots, sandbox_environment
    from stack.provision import create_topics

    environment = sandbox_environment(f"{tag}-{uuid.uuid4().hex[:8]}", work_dir)
    environment["PIZZARIO_OFFERS_MAX_CLOCK_SKEW_S"] = str(3650 * 86_400)
    environment.update(overrides)
    patch = _EnvironmentPatch(environment)
    try:
        config = load_config()
        if free_slots(config, wait_for=config.flink.parallelism) < config.flink.parallelism:
            raise RuntimeError(
                f"the Flink cluster has fewer than {config.flink.parallelism} free slots"
            )
        create_topics(config)
        try:
            yield config
        finally:
            _cancel_sandbox_jobs(config)
            drop_sandbox(config)
    finally:
        patch.undo()


class _EnvironmentPatch:
    """Set environment variables now; :meth:`undo` restores what was there."""

    def __init__(self, changes: dict[str, str]) -> None:
        import os

        self._environ = os.environ
        self._saved = {name: os.environ.get(name) for name in changes}
        os.environ.update(changes)

    def undo(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                self._environ.pop(name, None)
            else:
                self._environ[name] = value


def _cancel_sandbox_jobs(config: Config) -> None:
    from flink_jobs.cluster import list_jobs
    from stack.flink import cancel_job

    for job in list_jobs(config):
        if job.name.startswith(config.pipeline.job_name) and job.state not in {
            "FINISHED", "FAILED", "CANCELED",
        }:  # fmt: skip
            cancel_job(job.job_id, config)


def start_pipeline(config: Config, **submit: Any) -> str:
    """Submit the offer pipeline to the cluster and wait until it runs; return its job id."""
    from flink_jobs.cluster import submit_offers_job, wait_until_running

    job_id = submit_offers_job(config, **submit)
    wait_until_running(config, job_id, timeout_s=180)
    return job_id


def replay(
    config: Config,
    recording: Recording,
    *,
    rate_per_s: float | None = None,
    during: Callable[[int], None] | None = None,
) -> int:
    """Send the recording to the ping topic; return how many records the broker acknowledged.

    Parameters
    ----------
    rate_per_s : float, optional
        Pace the sends (a drill needs the stream to last while it kills something); as fast
        as possible when omitted.
    during : callable, optional
        Called with the number of records sent so far, about every thousand records: a drill
        injects its fault from here.

    Notes
    -----
    The producer is idempotent with ``acks=all`` and retries until its delivery timeout, so
    a broker that restarts meanwhile costs time, not records; a record that still fails is
    counted out, never retried by hand (which could reorder a customer's pings).
    """
    from confluent_kafka import Producer

    failures: Counter[str] = Counter()
    acknowledged = 0

    def report(error: Any, _message: Any) -> None:
        nonlocal acknowledged
        if error is None:
            acknowledged += 1
        else:
            failures[str(error)] += 1

    producer = Producer({
        "bootstrap.servers": config.kafka.bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "delivery.timeout.ms": 300_000,
        # Records up to the broker's own limit (message.max.bytes, 1 MiB + 12 bytes), for
        # drills that send a megabyte in one record.
        "message.max.bytes": 1_048_588,
    })  # fmt: skip
    started = time.monotonic()
    for index, (key, value) in enumerate(zip(recording.keys, recording.values, strict=True)):
        while True:
            try:
                producer.produce(config.kafka.ping_topic, value, key, on_delivery=report)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.05)
        if index % 1000 == 0:
            producer.poll(0)
            if during is not None:
                during(index)
            if rate_per_s:
                ahead_s = started + index / rate_per_s - time.monotonic()
                if ahead_s > 0:
                    time.sleep(ahead_s)
    producer.flush(330)
    if failures:
        raise RuntimeError(f"{sum(failures.values())} records were not delivered: {dict(failures)}")
    return acknowledged


def _rest(config: Config) -> str:
    return config.flink.rest_url.rstrip("/")


def job_details(config: Config, job_id: str) -> dict[str, Any]:
    """The REST API's view of a job (state, vertices, timestamps)."""
    response = requests.get(f"{_rest(config)}/jobs/{job_id}", timeout=10)
    response.raise_for_status()
    return dict(response.json())


def job_restarts(config: Config, job_id: str) -> int:
    """How many times the job has restarted (the JobManager's ``numRestarts`` metric)."""
    response = requests.get(
        f"{_rest(config)}/jobs/{job_id}/metrics", params={"get": "numRestarts"}, timeout=10
    )
    response.raise_for_status()
    values = [int(metric["value"]) for metric in response.json()]
    return values[0] if values else 0


def checkpoints_completed(config: Config, job_id: str) -> int:
    """How many checkpoints of the job have completed (across restarts)."""
    response = requests.get(f"{_rest(config)}/jobs/{job_id}/checkpoints", timeout=10)
    response.raise_for_status()
    return int(response.json()["counts"]["completed"])


def wait_for(condition: Callable[[], Any], *, timeout_s: float, what: str) -> Any:
    """Poll ``condition`` every half second until it returns something true; return that."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(requests.RequestException):
            result = condition()
            if result:
                return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(0.5)


def read_topic(config: Config, topic: str, *, idle_timeout_s: float = 3.0) -> list[dict[str, Any]]:
    """Every committed record of a topic (read_committed), as JSON dicts."""
    from flink_jobs.follow import read_offers

    return list(read_offers(config, follow=False, idle_timeout_s=idle_timeout_s, topic=topic))


def search_all(config: Config, index: str) -> list[dict[str, Any]]:
    """Every document of an index after a refresh, with its ``_id``; empty for a missing index."""
    url = f"{config.elasticsearch.url}/{index}"
    requests.post(f"{url}/_refresh", timeout=30)
    documents: list[dict[str, Any]] = []
    response = requests.get(
        f"{url}/_search", params={"scroll": "1m"}, json={"size": 5_000, "sort": ["_doc"]},
        timeout=30,
    )
    if response.status_code == 404:
        return []
    response.raise_for_status()
    page = response.json()
    while page["hits"]["hits"]:
        documents += [hit["_source"] | {"_id": hit["_id"]} for hit in page["hits"]["hits"]]
        response = requests.post(
            f"{config.elasticsearch.url}/_search/scroll",
            json={"scroll": "1m", "scroll_id": page["_scroll_id"]},
            timeout=30,
        )
        response.raise_for_status()
        page = response.json()
    return documents


@dataclass(frozen=True)
class Outcome:
    """What a run left in the sinks, read back once they stopped changing."""

    offers: list[dict[str, Any]]
    indexed_offers: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    footfall: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]

    @property
    def offer_ids(self) -> list[str]:
        """Offer ids in the order the topic holds them (duplicates kept, to be counted)."""
        return [offer["offer_id"] for offer in self.offers]

    def duplicate_offer_ids(self) -> dict[str, int]:
        """Offer ids that the topic holds more than once, with their counts."""
        return {key: n for key, n in Counter(self.offer_ids).items() if n > 1}

    def offers_view(self) -> dict[str, dict[str, Any]]:
        """Offers by id without the processing-time fields: equal for equal pings."""
        return {
            offer["offer_id"]: {k: v for k, v in offer.items() if k not in PROCESSING_TIME_FIELDS}
            for offer in self.offers
        }

    def indexed_view(self) -> dict[str, dict[str, Any]]:
        """The offers index, likewise."""
        return {
            document["_id"]: {
                k: v for k, v in document.items() if k not in PROCESSING_TIME_FIELDS | {"_id"}
            }
            for document in self.indexed_offers
        }

    def customers(self) -> set[int]:
        """Every customer that the offers topic holds an offer for."""
        return {int(offer["customer_id"]) for offer in self.offers}

    def documents(self, kind: str) -> dict[str, dict[str, Any]]:
        """Visits or footfall documents by id."""
        return {document["_id"]: document for document in getattr(self, kind)}


def collect_outcome(
    config: Config, *, settle_s: float = 20.0, timeout_s: float = 300.0
) -> Outcome:
    """Read every sink once the offers, visits and footfall have stopped changing.

    The offers topic is read with read_committed; a sink counts as settled when two reads
    ``settle_s`` apart agree (the pipeline commits every checkpoint, 2 s by default, and the
    indices refresh every few seconds).
    """
    search = config.elasticsearch
    kafka = config.kafka

    def snapshot() -> tuple[int, int, int, int]:
        return (
            len(read_topic(config, kafka.offer_topic, idle_timeout_s=2.0)),
            len(search_all(config, search.offers_index)),
            len(search_all(config, search.visits_index)),
            len(search_all(config, search.footfall_index)),
        )

    deadline = time.monotonic() + timeout_s
    last = snapshot()
    while time.monotonic() < deadline:
        time.sleep(settle_s)
        current = snapshot()
        if current == last:
            break
        last = current
    return Outcome(
        offers=read_topic(config, kafka.offer_topic),
        indexed_offers=search_all(config, search.offers_index),
        visits=search_all(config, search.visits_index),
        footfall=search_all(config, search.footfall_index),
        dead_letters=read_topic(config, kafka.dead_letter_topic),
    )


@dataclass(frozen=True)
class Outage:
    """When a service of the local stack was stopped and when it answered again (monotonic s)."""

    service: str
    stopped_at: float
    healthy_at: float

    @property
    def down_s(self) -> float:
        """Seconds from the stop to the first healthy answer after the start."""
        return self.healthy_at - self.stopped_at


def interrupt_service(
    stack: Config,
    name: str,
    *,
    down_for_s: float = 0.0,
    while_down: Callable[[], None] | None = None,
) -> Outage:
    """Stop one service of the local stack (``kafka``, ``elasticsearch``), wait, start it again.

    Returns once the service answers its health check again. ``down_for_s`` counts from the
    stop; the start's own time comes on top. ``while_down`` is called once the service has
    stopped (a drill notes what it needs to compare).

    Notes
    -----
    The service object, not ``stack down`` and ``stack up``: those also rewrite which services
    the test session started, and the session would then leave the service running at its end.
    """
    from stack.control import services

    (service,) = [service for service in services(stack) if service.name == name]
    if not service.pids():
        raise RuntimeError(f"{name} was not started by this checkout: not ours to interrupt")
    stopped_at = time.monotonic()
    service.stop()
    if while_down is not None:
        while_down()
    time.sleep(max(0.0, stopped_at + down_for_s - time.monotonic()))
    service.start(stack.stack.start_timeout_s)
    return Outage(name, stopped_at, time.monotonic())
