"""Drill: the Kafka broker restarts while the simulator plays the recorded evening into it.

The simulator itself (``python -m simulator``, its default kafka-python producer: idempotent,
``acks=all``, retrying for up to two minutes) plays the drills' recorded evening at 60x speed
into a sandboxed pipeline. Once a quarter of the records are in the topic the broker is stopped
and started again. Every record the simulator counts as acknowledged must have been received
by the pipeline, and the pipeline's results must be the undisturbed run's.

"Received" is read from the pipeline itself, exactly: the offset up to which the offer job's
Kafka source has read each partition of the ping topic, which the source commits to the job's
consumer group when a checkpoint completes (after a restart, from the restored checkpoint: the
figure never counts a record twice, as a metric of the source's subtasks would after a restart,
nor drops the ones read before it). The ping topic is written without transactions, so its
offsets count records one to one. Each record the source reads becomes either a valid ping or
a dead letter (the ping format decides once, in the source); the dead letters are read back and
compared with the undisturbed run's, the valid pings show in the offers, visits and footfall.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pizzario.config import Config
from simulator.truth import summary_path_for
from tests.flink_jobs.conftest import DRILL_RECORDED_S, Baseline
from tests.flink_jobs.harness import (
    DRILL_SEED,
    Outage,
    Outcome,
    Recording,
    checkpoints_completed,
    collect_outcome,
    interrupt_service,
    job_details,
    job_restarts,
    sandboxed,
    start_pipeline,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.drill]

SPEED = 60
# The broker goes down once this share of the recording is in the ping topic.
RESTART_AT_SHARE = 0.25


@dataclass
class RestartLog:
    """What happened around the restart."""

    outage: Outage | None = None
    records_before: int = 0
    # From the broker answering again to a running offer job with a new completed checkpoint.
    recovery_s: float | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class Restarted:
    """The disturbed run: what the simulator, the broker and the pipeline each counted."""

    outcome: Outcome
    simulator: dict[str, Any]
    in_topic: int
    received: dict[int, int]
    restarts: int
    log: RestartLog = field(default_factory=RestartLog)


def _simulator_command(config: Config, truth: Path) -> list[str]:
    """The simulator's arguments for the very records of ``drill_recording``."""
    from simulator.engine import EVENING_START_MS

    return [
        sys.executable, "-m", "simulator", "--speed", str(SPEED),
        "--duration", f"{DRILL_RECORDED_S}s", "--start", str(EVENING_START_MS),
        "--seed", str(DRILL_SEED), "--peak-arrivals-per-min", "12", "--flat-day",
        "--duplicate-rate", "0.05", "--out-of-order-rate", "0.05", "--late-rate", "0",
        "--malformed-rate", "0.01", "--unknown-rate", "0.1",
        "--topic", config.kafka.ping_topic, "--bootstrap", config.kafka.bootstrap,
        "--truth", str(truth), "--progress-every", "10",
    ]  # fmt: skip


def _partition_offsets(config: Config, *, committed: bool) -> dict[int, int]:
    """The ping topic's end offsets, or the offer job's committed ones, by partition.

    The committed offsets are read with the job's own group id; a consumer that does not
    subscribe never joins the group, so the job is not disturbed.
    """
    from confluent_kafka import Consumer, TopicPartition

    topic = config.kafka.ping_topic
    consumer = Consumer({
        "bootstrap.servers": config.kafka.bootstrap,
        "group.id": config.pipeline.consumer_group,
        "enable.auto.commit": False,
    })  # fmt: skip
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        if committed:
            wanted = [TopicPartition(topic, partition) for partition in partitions]
            return {
                tp.partition: max(tp.offset, 0) for tp in consumer.committed(wanted, timeout=10)
            }
        return {
            partition: consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=10
            )[1]
            for partition in partitions
        }
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def restarted(
    stack: Config, drill_recording: Recording, tmp_path_factory: pytest.TempPathFactory
) -> Restarted:
    work = tmp_path_factory.mktemp("kafka-restart")
    truth = work / "truth.csv"
    with sandboxed("drill-kafka", work) as config:
        job_id = start_pipeline(config)
        simulator = subprocess.Popen(
            _simulator_command(config, truth), stderr=subprocess.PIPE, text=True
        )
        restart = RestartLog()
        restarter = threading.Thread(
            target=_restart_broker,
            args=(stack, config, job_id, round(RESTART_AT_SHARE * len(drill_recording)), restart),
            daemon=True,
        )
        restarter.start()
        _, errors = simulator.communicate(timeout=600)
        restarter.join(timeout=300)
        if restart.error is not None:
            raise restart.error
        assert simulator.returncode == 0, errors[-3000:]
        assert restart.outage is not None, "the broker was not restarted"
        in_topic = sum(_partition_offsets(config, committed=False).values())
        # The source has read everything once its committed offsets reach the topic's end.
        ends = _partition_offsets(config, committed=False)
        received = wait_for(
            lambda: (offsets := _partition_offsets(config, committed=True)) == ends and offsets,
            timeout_s=180,
            what="the pipeline reading the ping topic to its end",
        )
        return Restarted(
            outcome=collect_outcome(config),
            simulator=json.loads(summary_path_for(truth).read_text()),
            in_topic=in_topic,
            received=received,
            restarts=job_restarts(config, job_id),
            log=restart,
        )


def _restart_broker(
    stack: Config, config: Config, job_id: str, after_records: int, restart: RestartLog
) -> None:
    try:
        restart.records_before = wait_for(
            lambda: (n := sum(_partition_offsets(config, committed=False).values()))
            >= after_records and n,
            timeout_s=300,
            what=f"{after_records:,} records in the ping topic",
        )
        checkpoints = checkpoints_completed(config, job_id)
        restart.outage = interrupt_service(stack, "kafka")
        wait_for(lambda: _running_with_a_new_checkpoint(config, job_id, checkpoints),
                 timeout_s=300, what="the offer job running again after the restart")
        restart.recovery_s = time.monotonic() - restart.outage.healthy_at
    except BaseException as error:  # reported by the fixture, not lost in the thread
        restart.error = error


def _running_with_a_new_checkpoint(config: Config, job_id: str, before: int) -> bool:
    job = job_details(config, job_id)
    vertices = {vertex["status"] for vertex in job.get("vertices", [])}
    return (
        job["state"] == "RUNNING"
        and vertices == {"RUNNING"}
        and checkpoints_completed(config, job_id) > before
    )


def _letters(outcome: Outcome) -> Counter[tuple[str, str]]:
    return Counter((letter["reason"], str(letter["record"])) for letter in outcome.dead_letters)


def test_the_broker_restarted_and_the_simulator_lost_nothing(
    drill_recording: Recording, restarted: Restarted
) -> None:
    summary, log = restarted.simulator, restarted.log
    assert log.outage is not None and log.recovery_s is not None
    print(f"\nbroker stopped after {log.records_before:,} records, answering again "
          f"{log.outage.down_s:.1f} s later; the offer job ran with a new checkpoint "
          f"{log.recovery_s:.1f} s after that ({restarted.restarts} job restarts); the "
          f"simulator sent {summary['sent']:,}, acknowledged {summary['delivered']:,}, failed "
          f"{summary['failed']}; the topic holds {restarted.in_topic:,}")
    assert summary["failed"] == 0 and summary["errors"] == {}
    # the recording's records and heartbeats exactly: the simulator is seeded
    assert summary["sent"] == summary["delivered"] == drill_recording.record_count
    beats = drill_recording.summary["heartbeats"] * len(restarted.received)
    assert summary["heartbeats"] == beats
    # acknowledged once each: the idempotent producer's retries wrote no copy
    assert restarted.in_topic == summary["delivered"] + beats


def test_the_pipeline_received_every_acknowledged_record(
    drill_recording: Recording, undisturbed_run: Baseline, restarted: Restarted
) -> None:
    received = sum(restarted.received.values())
    letters, calm_letters = _letters(restarted.outcome), _letters(undisturbed_run.outcome)
    malformed = drill_recording.summary["counts"]["malformed_total"]
    beats = restarted.simulator["heartbeats"]
    print(f"\nacknowledged {restarted.simulator['delivered']:,} records and {beats:,} "
          f"heartbeats; received {received:,} (by partition {restarted.received}): "
          f"{received - beats - malformed:,} valid, {malformed:,} dead-lettered, {beats:,} "
          f"heartbeats ({sum(letters.values()):,} dead letters written, the undisturbed run "
          f"{sum(calm_letters.values()):,})")
    assert received == restarted.simulator["delivered"] + beats
    # Dead letters are written at least once: a restart may repeat some, never drop one.
    assert sum(calm_letters.values()) == malformed
    assert set(letters) == set(calm_letters)


def test_the_offers_visits_and_footfall_are_the_undisturbed_runs(
    undisturbed_run: Baseline, restarted: Restarted
) -> None:
    calm, disturbed = undisturbed_run.outcome, restarted.outcome
    print(f"\noffers: undisturbed {len(calm.offers)}, broker restarted {len(disturbed.offers)} "
          f"({len(disturbed.indexed_offers)} indexed); visits {len(disturbed.visits)}, "
          f"footfall {len(disturbed.footfall)}")
    assert calm.offers, "the undisturbed run sent no offer: the drill would prove nothing"
    assert disturbed.duplicate_offer_ids() == {}
    assert disturbed.offers_view() == calm.offers_view()
    assert disturbed.indexed_view() == calm.indexed_view()
    assert disturbed.documents("visits") == calm.documents("visits")
    assert disturbed.documents("footfall") == calm.documents("footfall")
