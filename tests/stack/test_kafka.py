from __future__ import annotations

import json
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from pizzario import Config


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
    for record in sent:
        producer.send(
            topic, key=str(record["customer_id"]).encode(), value=json.dumps(record).encode()
        )
    producer.flush(timeout=30)
    producer.close()

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=stack.kafka.bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1_000,
    )
    received = []
    deadline = time.monotonic() + 30
    while len(received) < len(sent) and time.monotonic() < deadline:
        received.extend(consumer)
    consumer.close()
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka.bootstrap)
    admin.delete_topics([topic])
    admin.close()

    assert [json.loads(record.value) for record in received] == sent
    assert [record.key for record in received] == [b"0", b"1", b"2", b"3", b"4"]
