from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import requests
from kafka import KafkaProducer

from pizzario import Config
from stack.flink import cancel_job, job_state, run_python_job

JOB = Path(__file__).with_name("kafka_to_elasticsearch_job.py")


def _hits(url: str, index: str) -> list[dict]:
    """Every document of the index, oldest event first."""
    # The sink creates the index with its first request, before `ts` may be mapped.
    query = {"size": 100, "sort": [{"ts": {"order": "asc", "unmapped_type": "long"}}]}
    response = requests.post(f"{url}/{index}/_search", json=query, timeout=10)
    response.raise_for_status()
    return list(response.json()["hits"]["hits"])


@pytest.mark.integration
def test_a_sql_job_submitted_with_flink_run_moves_kafka_json_into_elasticsearch(
    stack: Config,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    topic = f"stack-flink-{suffix}"
    # "offers-*" picks up the offers template: location is a geo_point, ids are keywords.
    index = f"{stack.elasticsearch.offers_index}-flink-{suffix}"
    pings = [
        {"event_id": f"e{i}", "customer_id": 100 + i, "ts": 1_700_000_000_000 + i * 1_000,
         "lat": 51.5030 + i / 10_000, "lon": -0.0190}
        for i in range(3)
    ]  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=stack.kafka.bootstrap)
    for ping in pings:
        producer.send(topic, json.dumps(ping).encode())
    producer.flush(timeout=30)
    producer.close()

    job_id = run_python_job(
        JOB,
        ["--topic", topic, "--index", index, "--bootstrap", stack.kafka.bootstrap,
         "--elasticsearch", stack.elasticsearch.url],
        config=stack,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        documents: list[dict] = []
        while len(documents) < len(pings) and time.monotonic() < deadline:
            state = job_state(job_id, stack)
            assert state in {"CREATED", "INITIALIZING", "RUNNING"}, f"job {job_id} is {state}"
            requests.post(f"{stack.elasticsearch.url}/{index}/_refresh", timeout=10)
            if requests.head(f"{stack.elasticsearch.url}/{index}", timeout=10).ok:
                documents = _hits(stack.elasticsearch.url, index)
            time.sleep(1)
    finally:
        final_state = cancel_job(job_id, stack)
        requests.delete(f"{stack.elasticsearch.url}/{index}", timeout=30)
        # kafka-python leaves test topics behind; they are tiny and expire with retention.

    assert [document["_id"] for document in documents] == ["e0", "e1", "e2"]
    assert [document["_source"]["customer_id"] for document in documents] == [100, 101, 102]
    assert documents[2]["_source"]["location"] == {"lat": 51.5032, "lon": -0.019}
    assert final_state == "CANCELED"
