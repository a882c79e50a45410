from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from kafka import KafkaAdminClient, KafkaProducer

from pizzario import Config, load_config
from stack.flink import FlinkService, cancel_job, job_state, run_python_job
from stack.layout import Layout
from stack.process import running
from stack.service import StackError

JOB = Path(__file__).with_name("kafka_to_elasticsearch_job.py")
ACTIVE = {"CREATED", "INITIALIZING", "RUNNING"}


def _pings(first: int, count: int) -> list[dict]:
    return [
        {"event_id": f"e{i}", "customer_id": 100 + i, "ts": 1_700_000_000_000 + i * 1_000,
         "lat": 51.5030 + i / 10_000, "lon": -0.0190}
        for i in range(first, first + count)
    ]  # fmt: skip


def _produce(config: Config, topic: str, pings: list[dict]) -> None:
    producer = KafkaProducer(bootstrap_servers=config.kafka.bootstrap)
    for ping in pings:
        producer.send(topic, json.dumps(ping).encode())
    producer.flush(timeout=30)
    producer.close()


def _hits(url: str, index: str) -> list[dict]:
    """Every document of the index, oldest event first."""
    # The sink creates the index with its first request, before `ts` may be mapped.
    query = {"size": 100, "sort": [{"ts": {"order": "asc", "unmapped_type": "long"}}]}
    response = requests.post(f"{url}/{index}/_search?version=true", json=query, timeout=10)
    response.raise_for_status()
    return list(response.json()["hits"]["hits"])


def _wait_for_documents(config: Config, job_id: str, index: str, count: int) -> list[dict]:
    """Poll Elasticsearch until the index holds count documents (3 minutes at most)."""
    url = config.elasticsearch.url
    deadline = time.monotonic() + 180
    documents: list[dict] = []
    while len(documents) < count and time.monotonic() < deadline:
        state = job_state(job_id, config)
        assert state in ACTIVE, f"job {job_id} is {state}"
        if requests.head(f"{url}/{index}", timeout=10).ok:
            requests.post(f"{url}/{index}/_refresh", timeout=10)
            documents = _hits(url, index)
        time.sleep(0.5)
    return documents


def _stop_with_savepoint(config: Config, job_id: str) -> str:
    """Stop the job with a savepoint in the cluster's default folder; return its path."""
    rest = config.flink.rest_url.rstrip("/")
    trigger = requests.post(f"{rest}/jobs/{job_id}/stop", json={"drain": False}, timeout=10)
    trigger.raise_for_status()
    status_url = f"{rest}/jobs/{job_id}/savepoints/{trigger.json()['request-id']}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = requests.get(status_url, timeout=10).json()
        if answer["status"]["id"] == "COMPLETED":
            operation = answer["operation"]
            assert "location" in operation, operation.get("failure-cause")
            return str(operation["location"])
        time.sleep(0.5)
    raise AssertionError(f"savepoint of {job_id} did not complete in 120 s")


@pytest.fixture
def topic_and_index(stack: Config) -> Iterator[tuple[str, str]]:
    """A fresh topic and an index matched by the offers template ("offers-*")."""
    suffix = uuid.uuid4().hex[:8]
    topic, index = f"stack-flink-{suffix}", f"{stack.elasticsearch.offers_index}-flink-{suffix}"
    yield topic, index
    requests.delete(f"{stack.elasticsearch.url}/{index}", timeout=30)
    admin = KafkaAdminClient(bootstrap_servers=stack.kafka.bootstrap)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()


def _job_args(config: Config, topic: str, index: str) -> list[str]:
    return ["--topic", topic, "--index", index, "--bootstrap", config.kafka.bootstrap,
            "--elasticsearch", config.elasticsearch.url]  # fmt: skip


@pytest.mark.integration
def test_a_sql_job_submitted_with_flink_run_moves_kafka_json_into_elasticsearch(
    stack: Config, topic_and_index: tuple[str, str]
) -> None:
    topic, index = topic_and_index
    _produce(stack, topic, _pings(0, 3))
    job_id = run_python_job(JOB, _job_args(stack, topic, index), config=stack)
    try:
        documents = _wait_for_documents(stack, job_id, index, 3)
    finally:
        final_state = cancel_job(job_id, stack)

    assert [document["_id"] for document in documents] == ["e0", "e1", "e2"]
    assert [document["_source"]["customer_id"] for document in documents] == [100, 101, 102]
    assert documents[2]["_source"]["location"] == {"lat": 51.5032, "lon": -0.019}
    assert final_state == "CANCELED"


@pytest.mark.integration
def test_a_job_restored_from_a_savepoint_resumes_after_the_records_it_had_read(
    stack: Config, topic_and_index: tuple[str, str]
) -> None:
    topic, index = topic_and_index
    _produce(stack, topic, _pings(0, 3))
    first_job = run_python_job(JOB, _job_args(stack, topic, index), config=stack)
    try:
        _wait_for_documents(stack, first_job, index, 3)
        savepoint = _stop_with_savepoint(stack, first_job)
    except BaseException:
        cancel_job(first_job, stack)
        raise

    try:
        _produce(stack, topic, _pings(3, 2))
        second_job = run_python_job(
            JOB, _job_args(stack, topic, index), config=stack, from_savepoint=savepoint
        )
        try:
            documents = _wait_for_documents(stack, second_job, index, 5)
        finally:
            cancel_job(second_job, stack)
    finally:
        # Only this test's savepoint: others in the folder may belong to running tests.
        shutil.rmtree(urlsplit(savepoint).path, ignore_errors=True)

    assert savepoint.startswith("file:")
    assert [document["_id"] for document in documents] == ["e0", "e1", "e2", "e3", "e4"]
    # Each document was written once: the restored source did not read e0..e2 again.
    assert [document["_version"] for document in documents] == [1, 1, 1, 1, 1]


class _FailingStart(FlinkService):
    """A cluster whose start script forks a daemon, records its pid, then fails or hangs."""

    def __init__(self, config: Config, script: Path, timeout_s: float) -> None:
        super().__init__(config, Layout.from_config(config), java_home=Path("/no-java-needed"))
        self.script = script
        self.start_script_timeout_s = timeout_s

    @property
    def _start_script(self) -> Path:
        return self.script


def _start_script(tmp_path: Path, ending: str) -> Path:
    # Like flink-daemon.sh: the daemon is detached from the script's output, its pid recorded.
    script = tmp_path / "jobmanager.sh"
    script.write_text(
        "#!/bin/sh\n"
        "sleep 120 >/dev/null 2>&1 &\n"
        'echo $! > "$FLINK_CONF_DIR/../run/flink-pizzario-standalonesession.pid"\n'
        f"{ending}\n"
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(
    ("ending", "timeout_s", "problem"),
    [
        ("echo 'JobManager did not start' >&2; exit 1", 60.0, "jobmanager.sh failed: "),
        ("exec sleep 60", 1.0, "jobmanager.sh did not finish in 1 s"),
    ],
)
def test_a_failed_cluster_start_stops_the_daemons_it_forked(
    tmp_path: Path, private_environ: dict[str, str], ending: str, timeout_s: float, problem: str
) -> None:
    config = load_config(private_environ)
    service = _FailingStart(config, _start_script(tmp_path, ending), timeout_s)
    with pytest.raises(StackError, match=rf"^flink: {problem}"):
        service.start(timeout_s=5)
    (pid_file,) = (service.state_dir / "run").glob("*.pid")
    daemon = int(pid_file.read_text())
    # Left running, it would hold the REST port and the next `up` would call it a stranger.
    assert not running(daemon)
    assert not service.pid_file.exists()
