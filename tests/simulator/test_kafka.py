"""The simulator's records in the real local Kafka (needs the stack: ``python -m stack up``)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from pizzario import Config
from simulator import load_ground_truth
from simulator.cli import main


def _end_offsets(config: Config) -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=config.kafka.bootstrap)
    try:
        partitions = [TopicPartition(config.kafka.ping_topic, p)
                      for p in sorted(consumer.partitions_for_topic(config.kafka.ping_topic))]
        return consumer.end_offsets(partitions)
    finally:
        consumer.close()


def _read_from(config: Config, offsets: dict[TopicPartition, int], expected: int,
               timeout_s: float = 60.0) -> list:
    consumer = KafkaConsumer(bootstrap_servers=config.kafka.bootstrap,
                             group_id=f"simulator-test-{uuid.uuid4()}",
                             enable_auto_commit=False)
    try:
        consumer.assign(list(offsets))
        for partition, offset in offsets.items():
            consumer.seek(partition, offset)
        messages: list = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=1000, max_records=50_000).values():
                messages.extend(batch)
        # A little longer, to catch records beyond the expected count.
        for batch in consumer.poll(timeout_ms=1000).values():
            messages.extend(batch)
        return messages
    finally:
        consumer.close()


@pytest.mark.integration
@pytest.mark.parametrize("producer", ["kafka-python", "confluent-kafka"])
def test_pings_arrive_keyed_parseable_and_counted(stack: Config, producer: str,
                                                  tmp_path: Path) -> None:
    # Event time now, so a pipeline running on the same topic sees ordinary traffic.
    start = str(int(time.time() * 1000))
    common = ["--seed", "21", "--start", start, "--duration", "3m", "--speed", "max",
              "--customers", "400", "--progress-every", "0"]
    offsets = _end_offsets(stack)
    truth_csv = tmp_path / "kafka.truth.csv"
    assert main([*common, "--producer", producer, "--truth", str(truth_csv)]) == 0
    summary = load_ground_truth(truth_csv).summary
    assert summary["failed"] == 0
    assert summary["sent"] == summary["delivered"] == summary["counts"]["records"] > 500

    messages = _read_from(stack, offsets, summary["sent"])
    assert len(messages) == summary["sent"]
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
