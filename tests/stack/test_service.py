from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from pizzario import Config, load_config
from stack.control import format_status
from stack.elasticsearch import ElasticsearchService, _ensure_system_user
from stack.flink import FlinkService
from stack.kafka import KafkaService
from stack.layout import Layout
from stack.process import running, start_background, write_pids
from stack.service import Health, Service, ServiceStatus, StackError, ensure_folder


class _NotElasticsearch(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stranger_port() -> Iterator[int]:
    """An HTTP server on a free port that is not Elasticsearch."""
    server = HTTPServer(("127.0.0.1", 0), _NotElasticsearch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _config(tmp_path: Path, **overrides: str) -> Config:
    environ = {
        "PIZZARIO_PATHS_STATE_DIR": str(tmp_path / "state"),
        "PIZZARIO_PATHS_CACHE_DIR": str(tmp_path / "cache"),
    }
    return load_config(environ | overrides)


def test_a_port_taken_by_another_program_is_reported_with_the_log_file(
    tmp_path: Path, stranger_port: int
) -> None:
    config = _config(tmp_path, PIZZARIO_ELASTICSEARCH_URL=f"http://127.0.0.1:{stranger_port}")
    service = ElasticsearchService(config, Layout.from_config(config), java_home=None)
    assert not service.health().ok
    with pytest.raises(StackError) as raised:
        service.start(timeout_s=5)
    message = str(raised.value)
    # The stranger is this test process's own HTTP server thread.
    assert message.startswith(
        f"elasticsearch: port 127.0.0.1:{stranger_port} is in use by pid {os.getpid()} ("
    )
    assert "), not started by this checkout (log: " in message
    assert str(tmp_path / "state" / "elasticsearch" / "log" / "pizzario.log") in message
    assert "\n" not in message


def test_a_missing_java_17_is_one_clear_error(tmp_path: Path) -> None:
    config = _config(
        tmp_path, PIZZARIO_KAFKA_BOOTSTRAP="127.0.0.1:1", PIZZARIO_KAFKA_CONTROLLER_PORT="2"
    )
    layout = Layout.from_config(config)
    layout.kafka_libs.mkdir(parents=True)
    (layout.kafka_libs / ".fetched").write_text("stamp\n")
    with pytest.raises(StackError, match=r"^kafka: Java 17 not found; .*\(log: .*server.log\)$"):
        KafkaService(config, layout, java_home=None).start(timeout_s=5)


def test_missing_downloads_point_to_fetch(tmp_path: Path) -> None:
    config = _config(
        tmp_path, PIZZARIO_KAFKA_BOOTSTRAP="127.0.0.1:1", PIZZARIO_KAFKA_CONTROLLER_PORT="2"
    )
    with pytest.raises(StackError, match="run `python -m stack fetch` first"):
        KafkaService(config, Layout.from_config(config), java_home=Path("/x")).start(5)


def test_status_table_shows_pids_memory_and_relative_log_paths(tmp_path: Path) -> None:
    rows = [
        ServiceStatus(
            "kafka", (41, 42), "127.0.0.1:9092", Health(True, "3 topics"), 512 * 2**20,
            tmp_path / ".state" / "kafka" / "log" / "server.log",
        ),
        ServiceStatus(
            "flink", (), "127.0.0.1:8081", Health(False, "nothing listens"), 0,
            Path("/elsewhere/flink.log"),
        ),
    ]  # fmt: skip
    lines = format_status(rows, tmp_path).splitlines()
    assert lines[0].split() == ["service", "pids", "address", "health", "rss", "log"]
    assert lines[1].split() == [
        "kafka", "41", "42", "127.0.0.1:9092", "ok:", "3", "topics", "512", "MiB",
        ".state/kafka/log/server.log",
    ]  # fmt: skip
    assert lines[2].split() == [
        "flink", "-", "127.0.0.1:8081", "DOWN:", "nothing", "listens", "-", "/elsewhere/flink.log"
    ]  # fmt: skip


def test_a_running_service_started_for_another_address_is_not_mistaken_for_starting(
    tmp_path: Path, stranger_port: int
) -> None:
    config = _config(tmp_path, PIZZARIO_ELASTICSEARCH_URL=f"http://127.0.0.1:{stranger_port}")
    service = ElasticsearchService(config, Layout.from_config(config), java_home=None)
    # A process of this checkout (its command line names the state folder) started for 9200.
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(service.state_dir)]
    )
    try:
        write_pids(service.pid_file, [sleeper.pid])
        (service.state_dir / "address").write_text("127.0.0.1:9200\n")
        with pytest.raises(StackError) as raised:
            service.start(timeout_s=5)
    finally:
        sleeper.kill()
        sleeper.wait(timeout=10)
    assert str(raised.value).startswith(
        f"elasticsearch: running from this checkout on 127.0.0.1:9200, but configured for "
        f"127.0.0.1:{stranger_port}; run `python -m stack down elasticsearch` first"
    )


class _NeverHealthy(Service):
    """A stand-in service whose process runs but never answers (unit test only)."""

    name = "never-healthy"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def ports(self) -> tuple[int, ...]:
        return (1,)

    @property
    def log_file(self) -> Path:
        return self.state_dir / "out.log"

    def check_health(self) -> Health:
        return Health(False, "no answer")

    def _launch(self) -> list[int]:
        command = [sys.executable, "-c", "import time; time.sleep(60)", str(self.state_dir)]
        self.launched = [start_background(command, self.log_file, env={}, cwd=self.state_dir)]
        return self.launched


def test_a_service_that_never_becomes_healthy_is_stopped_and_reported(tmp_path: Path) -> None:
    config = _config(tmp_path)
    service = _NeverHealthy(config, Layout.from_config(config), java_home=None)
    with pytest.raises(StackError, match=r"^never-healthy: not healthy after 2 s: "):
        service.start(timeout_s=1.5)
    (pid,) = service.launched
    assert not running(pid)
    assert not service.pid_file.exists()


def test_a_dangling_state_symlink_gets_its_target_back(tmp_path: Path) -> None:
    config = _config(tmp_path)
    service = _NeverHealthy(config, Layout.from_config(config), java_home=None)
    gone = tmp_path / "cleaned-tmp" / "pizzario-0123456789" / service.name
    service.state_dir.parent.mkdir(parents=True)
    service.state_dir.symlink_to(gone, target_is_directory=True)
    # Before the fix: FileExistsError from mkdir(exist_ok=True) on the dangling link.
    with pytest.raises(StackError, match=r"^never-healthy: not healthy after"):
        service.start(timeout_s=0.5)
    assert gone.is_dir()
    assert (gone / "out.log").is_file()
    assert service.state_dir.is_symlink()


def test_elasticsearch_runtime_folder_behind_a_dangling_symlink_is_recreated(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    service = ElasticsearchService(config, Layout.from_config(config), java_home=None)
    gone = tmp_path / "cleaned-tmp" / "elasticsearch"
    service.state_dir.parent.mkdir(parents=True)
    service.state_dir.symlink_to(gone, target_is_directory=True)
    assert service._runtime_dir(user=None) == gone
    assert gone.is_dir()
    assert ensure_folder(service.state_dir) == service.state_dir


def test_a_failed_system_user_creation_is_one_line_naming_elasticsearch() -> None:
    # Not a valid user name, so useradd refuses it (or is not allowed to run at all).
    with pytest.raises(StackError) as raised:
        _ensure_system_user("-no such user")
    message = str(raised.value)
    assert message.startswith("elasticsearch: creating system user -no such user failed")
    assert "\n" not in message


def test_hosts_and_ports_come_from_the_configuration(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        PIZZARIO_KAFKA_BOOTSTRAP="localhost:19092",
        PIZZARIO_ELASTICSEARCH_URL="http://localhost:19200/",
        PIZZARIO_FLINK_REST_URL="http://127.0.0.2:18081",
    )
    layout = Layout.from_config(config)
    kafka = KafkaService(config, layout, java_home=None)
    elasticsearch = ElasticsearchService(config, layout, java_home=None)
    flink = FlinkService(config, layout, java_home=None)
    assert (kafka.host, kafka.ports) == ("localhost", (19092, 9093))
    assert (elasticsearch.host, elasticsearch.ports) == ("localhost", (19200,))
    assert (flink.host, flink.ports) == ("127.0.0.2", (18081, 6123))
    assert kafka.status().address == "localhost:19092"


class _StartingUp(_NeverHealthy):
    """A service of this checkout already running, healthy from its second check on."""

    name = "starting-up"

    def __init__(self, config: Config, port: int) -> None:
        super().__init__(config, Layout.from_config(config), java_home=None)
        self.port = port
        self.checks = 0

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port,)

    def check_health(self) -> Health:
        self.checks += 1
        return Health(self.checks > 1, f"check {self.checks}")


def test_waiting_for_a_service_already_starting_does_not_claim_to_have_started_it(
    tmp_path: Path, stranger_port: int
) -> None:
    service = _StartingUp(_config(tmp_path), stranger_port)
    running_one = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(service.state_dir)]
    )
    try:
        write_pids(service.pid_file, [running_one.pid])
        (service.state_dir / "address").write_text(f"127.0.0.1:{stranger_port}\n")
        # A caller that stops what `start` says it started would stop someone else's service.
        assert service.start(timeout_s=10) is False
    finally:
        running_one.kill()
        running_one.wait(timeout=10)
    assert service.checks == 2
