"""Drill: Elasticsearch is away for a minute while the recorded evening plays.

The recording is replayed at a pace that lasts well past the outage into a sandboxed pipeline:
the offer job, which writes offers, visits and footfall to Kafka, and the indexer job, which
copies them into Elasticsearch. Once Elasticsearch holds some offers it is stopped, and
started again a minute later. Two watchers note when each offer became readable in Kafka
(read_committed, as a phone reads) and when it first showed in the offers index.

The promises: the offer job runs on untouched and keeps committing offers to Kafka while
Elasticsearch is away; the indexer fails and comes back by itself; once Elasticsearch is back,
it holds every offer, visit and footfall window, exactly the undisturbed run's.

Failures are counted from each job's exception history, not from the ``numRestarts`` metric:
the indexer went through nine restarts in one run while that metric said 0.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from flink_jobs.cluster import find_running_job
from flink_jobs.pipeline import indexer_job_name
from pizzario.clock import configured_clock
from pizzario.config import Config
from tests.flink_jobs.conftest import Baseline
from tests.flink_jobs.harness import (
    Outage,
    Outcome,
    Recording,
    checkpoints_completed,
    collect_outcome,
    interrupt_service,
    job_details,
    job_restarts,
    replay,
    sandboxed,
    start_pipeline,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.drill]

# The stream lasts about 140 s: offers keep coming before, during and after the outage.
REPLAY_RATE_PER_S = 1_500
OUTAGE_S = 60.0
# Elasticsearch goes down once it holds this many offers (it worked before the outage).
OFFERS_BEFORE_OUTAGE = 5


class _Watch:
    """Two threads: when each offer became readable in Kafka, and when it showed in the index."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.in_kafka: dict[str, float] = {}
        self.offers: dict[str, dict[str, Any]] = {}
        self.in_index: dict[str, float] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._follow_kafka, daemon=True),
            threading.Thread(target=self._poll_index, daemon=True),
        ]

    def __enter__(self) -> _Watch:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _follow_kafka(self) -> None:
        import json

        from confluent_kafka import Consumer

        consumer = Consumer({
            "bootstrap.servers": self.config.kafka.bootstrap,
            "group.id": "drill-elasticsearch-watch",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        })  # fmt: skip
        consumer.subscribe([self.config.kafka.offer_topic])
        try:
            while not self._stop.is_set():
                message = consumer.poll(0.2)
                if message is None or message.error() is not None:
                    continue
                offer = json.loads(message.value())
                self.in_kafka.setdefault(offer["offer_id"], time.monotonic())
                self.offers.setdefault(offer["offer_id"], offer)
        finally:
            consumer.close()

    def _poll_index(self) -> None:
        url = f"{self.config.elasticsearch.url}/{self.config.elasticsearch.offers_index}/_search"
        while not self._stop.wait(0.5):
            # Elasticsearch is away for a while: no answer is an answer.
            with contextlib.suppress(requests.RequestException, ValueError, KeyError):
                response = requests.post(
                    url, json={"size": 10_000, "_source": False}, timeout=5
                )
                if response.ok:
                    now = time.monotonic()
                    for hit in response.json()["hits"]["hits"]:
                        self.in_index.setdefault(hit["_id"], now)


@dataclass
class OutageLog:
    outage: Outage | None = None
    offer_checkpoints: list[int] = field(default_factory=list)
    error: BaseException | None = None


@dataclass(frozen=True)
class Observed:
    outcome: Outcome
    acknowledged: int
    outage: Outage
    offer_job_restarts: int
    offer_job_failures: int
    indexer_failures: int
    indexer_state: str
    # checkpoints of the offer job completed when Elasticsearch stopped and when it was back
    offer_checkpoints: list[int]
    in_kafka: dict[str, float]
    in_index: dict[str, float]
    emitted_monotonic: dict[str, float]


@pytest.fixture(scope="module")
def observed(
    stack: Config, drill_recording: Recording, tmp_path_factory: pytest.TempPathFactory
) -> Observed:
    with sandboxed("drill-es", tmp_path_factory.mktemp("es-outage")) as config:
        job_id = start_pipeline(config)
        indexer = find_running_job(config, indexer_job_name(config))
        assert indexer is not None, "the indexer job did not start with the pipeline"
        log = OutageLog()
        with _Watch(config) as watch:
            stopper = threading.Thread(
                target=_stop_elasticsearch, args=(stack, config, job_id, watch, log), daemon=True
            )
            stopper.start()
            acknowledged = replay(config, drill_recording, rate_per_s=REPLAY_RATE_PER_S)
            stopper.join(timeout=600)
            if log.error is not None:
                raise log.error
            assert log.outage is not None, "Elasticsearch was not stopped"
            outcome = collect_outcome(config)
            # the index has caught up with the topic, as seen by the watchers too
            wait_for(lambda: set(watch.in_index) >= set(watch.in_kafka), timeout_s=60,
                     what="the watchers seeing every offer in the index")
        # emitted_at is the product's clock in milliseconds; the watchers note monotonic time
        clock = configured_clock(config.clock)
        shift_s = clock.now_ms() / 1000 - time.monotonic()
        return Observed(
            outcome=outcome,
            acknowledged=acknowledged,
            outage=log.outage,
            offer_job_restarts=job_restarts(config, job_id),
            offer_job_failures=_failures(config, job_id),
            indexer_failures=_failures(config, indexer.job_id),
            indexer_state=job_details(config, indexer.job_id)["state"],
            offer_checkpoints=log.offer_checkpoints,
            in_kafka=dict(watch.in_kafka),
            in_index=dict(watch.in_index),
            emitted_monotonic={
                offer_id: offer["emitted_at"] / 1000 - shift_s
                for offer_id, offer in watch.offers.items()
            },
        )


def _failures(config: Config, job_id: str) -> int:
    """How many failures the job's exception history holds (the REST API keeps the latest 16)."""
    response = requests.get(
        f"{config.flink.rest_url.rstrip('/')}/jobs/{job_id}/exceptions", timeout=10
    )
    response.raise_for_status()
    return len(response.json().get("exceptionHistory", {}).get("entries", []))


def _stop_elasticsearch(
    stack: Config, config: Config, job_id: str, watch: _Watch, log: OutageLog
) -> None:
    try:
        wait_for(lambda: len(watch.in_index) >= OFFERS_BEFORE_OUTAGE, timeout_s=300,
                 what=f"{OFFERS_BEFORE_OUTAGE} offers in Elasticsearch before the outage")

        def note_checkpoints() -> None:
            log.offer_checkpoints.append(checkpoints_completed(config, job_id))

        log.outage = interrupt_service(
            stack, "elasticsearch", down_for_s=OUTAGE_S, while_down=note_checkpoints
        )
        note_checkpoints()
    except BaseException as error:  # reported by the fixture, not lost in the thread
        log.error = error


def _during(observed: Observed, seen: dict[str, float]) -> list[str]:
    """Offers that ``seen`` noted while Elasticsearch was down."""
    outage = observed.outage
    return [offer_id for offer_id, at in seen.items()
            if outage.stopped_at < at < outage.healthy_at]  # fmt: skip


def test_the_offer_job_ran_on_and_kept_sending_offers_to_kafka(observed: Observed) -> None:
    outage = observed.outage
    sent_meanwhile = _during(observed, observed.in_kafka)
    latency = [observed.in_kafka[o] - observed.emitted_monotonic[o] for o in sent_meanwhile]
    checkpoints = observed.offer_checkpoints
    print(f"\nElasticsearch away {outage.down_s:.1f} s (stopped, {OUTAGE_S:.0f} s, started "
          f"again); meanwhile {len(sent_meanwhile)} offers were committed to Kafka, decided "
          f"to readable in a median {statistics.median(latency or [0]):.1f} s, at most "
          f"{max(latency or [0]):.1f} s; offer job checkpoints {checkpoints[0]} -> "
          f"{checkpoints[-1]}, restarts {observed.offer_job_restarts}, failures "
          f"{observed.offer_job_failures}")
    assert observed.offer_job_restarts == 0
    assert observed.offer_job_failures == 0
    # the offers' transactions commit on checkpoints: they went on completing
    assert checkpoints[-1] > checkpoints[0]
    assert sent_meanwhile, "no offer was decided during the outage: the drill proves nothing"


def test_the_indexer_failed_and_came_back_by_itself(observed: Observed) -> None:
    outage = observed.outage
    lag = {o: observed.in_index[o] - observed.in_kafka[o] for o in observed.in_kafka}
    held = [o for o in observed.in_kafka if observed.in_kafka[o] < outage.healthy_at
            and observed.in_index[o] > outage.stopped_at]  # fmt: skip
    caught_up = max(observed.in_index[o] for o in held) - outage.healthy_at if held else 0.0
    others = [lag[o] for o in lag if o not in held] or [0.0]
    print(f"\nindexer failures {observed.indexer_failures}, state {observed.indexer_state}; "
          f"{len(held)} offers waited for Elasticsearch, all indexed {caught_up:.1f} s after "
          f"it answered again (lag Kafka -> index at most "
          f"{max([lag[o] for o in held] or [0.0]):.1f} s); the other offers lagged a median "
          f"{statistics.median(others):.1f} s, at most {max(others):.1f} s")
    # it failed while Elasticsearch was away (how often depends on the restart delays)
    assert observed.indexer_failures >= 1
    assert observed.indexer_state == "RUNNING"
    assert held


def test_every_offer_visit_and_footfall_window_reached_elasticsearch(
    undisturbed_run: Baseline, observed: Observed
) -> None:
    calm, disturbed = undisturbed_run.outcome, observed.outcome
    print(f"\noffers: undisturbed {len(calm.offers)}, Elasticsearch away "
          f"{len(disturbed.offers)} in Kafka, {len(disturbed.indexed_offers)} indexed; visits "
          f"{len(disturbed.visits)}, footfall {len(disturbed.footfall)}")
    assert observed.acknowledged == undisturbed_run.acknowledged
    assert disturbed.duplicate_offer_ids() == {}
    assert disturbed.offers_view() == calm.offers_view()
    assert disturbed.indexed_view() == disturbed.offers_view()
    assert disturbed.documents("visits") == calm.documents("visits")
    assert disturbed.documents("footfall") == calm.documents("footfall")
    assert calm.visits and calm.footfall
