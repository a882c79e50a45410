from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from pizzario import Config
from stack.kafka import probe_kafka


def _threads_and_fds() -> tuple[int, ...]:
    """Native threads (librdkafka's included) and open file descriptors of this process."""
    return tuple(sum(1 for _ in Path(f"/proc/self/{part}").iterdir()) for part in ("task", "fd"))


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (not Kafka)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.parametrize("kind", ["closed port", "silent listener"])
def test_probing_something_that_is_not_kafka_is_unhealthy_soon_and_leaks_nothing(
    kind: str, request: pytest.FixtureRequest
) -> None:
    port = 1 if kind == "closed port" else request.getfixturevalue("silent_port")
    bootstrap = f"127.0.0.1:{port}"
    before = _threads_and_fds()
    started = time.monotonic()
    answers = [probe_kafka(bootstrap, timeout_s=1.0) for _ in range(3)]
    elapsed_s = time.monotonic() - started

    assert [answer.ok for answer in answers] == [False, False, False]
    assert answers[0].detail.startswith(f"no Kafka answer from {bootstrap}: ")
    # Three probes of 1 s each; kafka-python 3.0 took 30 s per probe here.
    assert elapsed_s < 3 * 1.0 + 5
    assert _threads_and_fds() == before


@pytest.mark.integration
def test_stack_creates_the_shared_topics_with_their_partitions(stack: Config) -> None:
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka.bootstrap)
    try:
        described = {
            topic["name"]: len(topic["partitions"])
            for topic in admin.describe_topics(
                [stack.kafka.ping_topic, stack.kafka.dead_letter_topic, stack.kafka.offer_topic]
            )
        }
    finally:
        admin.close()
    assert described == {
        stack.kafka.ping_topic: stack.kafka.ping_partitions,
        stack.kafka.dead_letter_topic: 1,
        stack.kafka.offer_topic: 1,
    }


@pytest.mark.integration
def test_a_produced_record_is_consumed_with_its_key_and_value(stack: Config) -> None:
    topic = f"stack-test-{uuid.uuid4().hex[:8]}"
    sent = [{"event_id": f"e{i}", "customer_id": i, "lat": 51.5 + i / 1000} for i in range(5)]
    producer = KafkaProducer(bootstrap_servers=stack.kafka.bootstrap)
    try:
        for record in sent:
            producer.send(
                topic, key=str(record["customer_id"]).encode(), value=json.dumps(record).encode()
            )
        producer.flush(timeout=30)
    finally:
        producer.close()

    received = []
    try:
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=stack.kafka.bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=1_000,
        )
        try:
            deadline = time.monotonic() + 30
            while len(received) < len(sent) and time.monotonic() < deadline:
                received.extend(consumer)
        finally:
            consumer.close()
    finally:
        admin = KafkaAdminClient(bootstrap_servers=stack.kafka.bootstrap)
        try:
            admin.delete_topics([topic])
        finally:
            admin.close()

    assert [json.loads(record.value) for record in received] == sent
    assert [record.key for record in received] == [b"0", b"1", b"2", b"3", b"4"]
