"""The simulator's records in the real local Kafka (needs the stack: ``python -m stack up``).

Each test run writes to a topic of its own (created with the ping topic's partition count,
deleted afterwards), so that neither other writers of ``mall-pings`` nor a pipeline reading it
are affected.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.consumer.fetcher import ConsumerRecord

from pizzario import Config
from pizzario.heartbeat import HEARTBEAT_KEY
from simulator import load_ground_truth
from simulator.cli import main
from simulator.sinks import PRODUCER_BACKENDS

T = TypeVar("T")
pytestmark = pytest.mark.integration
each_producer = pytest.mark.parametrize("producer", PRODUCER_BACKENDS)


@pytest.fixture
def scratch_topic(stack: Config) -> Iterator[str]:
    topic = f"{stack.kafka.ping_topic}-test-{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, stack.kafka.ping_partitions, 1)])
        yield topic
    finally:
        admin.delete_topics([topic])
        admin.close()


def _collect(expected: int, timeout_s: float, poll: Callable[[], list[T]]) -> list[T]:
    """Polls until ``expected`` items came or the time is up, then once more for extras."""
    found: list[T] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < expected and time.monotonic() < deadline:
        found.extend(poll())
    found.extend(poll())
    return found


def _read_all(config: Config, topic: str, expected: int, timeout_s: float = 60.0
              ) -> list[ConsumerRecord]:
    consumer = KafkaConsumer(bootstrap_servers=config.kafka.bootstrap, group_id=None,
                             enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in range(config.kafka.ping_partitions)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        return _collect(expected, timeout_s, lambda: [
            message for batch in consumer.poll(timeout_ms=1000, max_records=50_000).values()
            for message in batch])
    finally:
        consumer.close()


@each_producer
def test_pings_arrive_keyed_parseable_and_counted(stack: Config, scratch_topic: str,
                                                  producer: str, tmp_path: Path) -> None:
    common = ["--seed", "21", "--start", "2026-11-22T13:00:00Z", "--duration", "3m",
              "--speed", "max", "--customers", "400", "--progress-every", "0"]
    truth_csv = tmp_path / "kafka.truth.csv"
    assert main([*common, "--producer", producer, "--topic", scratch_topic,
                 "--truth", str(truth_csv)]) == 0
    summary = load_ground_truth(truth_csv).summary
    assert summary["failed"] == 0
    assert summary["sent"] == summary["delivered"] == summary["counts"]["records"] > 500

    everything = _read_all(stack, scratch_topic, summary["sent"] + summary["heartbeats"])
    beats = [m for m in everything if m.key == HEARTBEAT_KEY]
    messages = [m for m in everything if m.key != HEARTBEAT_KEY]
    assert len(messages) == summary["sent"]
    # the same heartbeats on every partition, once a simulated second
    assert len(beats) == summary["heartbeats"] > 0
    by_partition = Counter(m.partition for m in beats)
    assert set(by_partition) == set(range(stack.kafka.ping_partitions))
    assert len(set(by_partition.values())) == 1
    assert {m.partition for m in messages} == set(range(stack.kafka.ping_partitions))
    pings = [json.loads(message.value) for message in messages]
    assert all(message.key == str(ping["customer_id"]).encode()
               for message, ping in zip(messages, pings, strict=True))
    # One customer's pings share a key, so they share a partition and keep their order.
    partitions: dict[int, set[int]] = {}
    for message, ping in zip(messages, pings, strict=True):
        partitions.setdefault(ping["customer_id"], set()).add(message.partition)
    assert all(len(found) == 1 for found in partitions.values())

    # --out with the same seed and start writes exactly the records that went to Kafka.
    out = tmp_path / "same.jsonl"
    assert main([*common, "--out", str(out)]) == 0
    assert sorted(out.read_bytes().splitlines()) == sorted(m.value for m in messages)


def _read_all_confluent(config: Config, topic: str, expected: int, timeout_s: float = 60.0
                        ) -> list[bytes]:
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": config.kafka.bootstrap,
                         "group.id": f"simulator-test-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        consumer.subscribe([topic])

        def values() -> list[bytes]:
            messages = consumer.consume(num_messages=10_000, timeout=1.0)
            assert all(message.error() is None for message in messages)
            return [message.value() for message in messages]

        return _collect(expected, timeout_s, values)
    finally:
        consumer.close()


@each_producer
def test_zstd_records_are_read_by_both_clients(stack: Config, scratch_topic: str,
                                               producer: str, tmp_path: Path) -> None:
    truth_csv = tmp_path / "zstd.truth.csv"
    assert main(["--seed", "5", "--start", "2026-11-22T13:00:00Z", "--duration", "1m",
                 "--speed", "max", "--customers", "300", "--progress-every", "0",
                 "--producer", producer, "--compression", "zstd", "--topic", scratch_topic,
                 "--truth", str(truth_csv)]) == 0
    summary = load_ground_truth(truth_csv).summary
    sent = summary["delivered"] + summary["heartbeats"]
    assert summary["delivered"] > 100
    by_kafka_python = sorted(m.value for m in _read_all(stack, scratch_topic, sent))
    by_confluent = sorted(_read_all_confluent(stack, scratch_topic, sent))
    assert len(by_kafka_python) == sent
    assert by_confluent == by_kafka_python
