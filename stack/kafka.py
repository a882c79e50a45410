"""Kafka 3.9 in KRaft combined mode (broker and controller in one JVM), run from jars."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from stack.process import start_background
from stack.render import kafka_cluster_id, kafka_log4j_properties, kafka_server_properties
from stack.service import Health, Service

__all__ = ["KafkaService", "kafka_admin", "kafka_topics", "probe_kafka"]

log = logging.getLogger(__name__)


def kafka_admin(
    bootstrap: str, timeout_s: float = 5.0, client_id: str = "pizzario-stack"
) -> AdminClient:
    """An admin client whose socket operations give up after timeout_s.

    Its threads end when the client is garbage-collected; it holds no connection until used.
    """
    return AdminClient(
        {
            "bootstrap.servers": bootstrap,
            "client.id": client_id,
            "socket.timeout.ms": max(int(timeout_s * 1000), 10),
            # Connection failures are the expected answer of a probe; the exceptions say them.
            "log_level": 0,
        }
    )


def kafka_topics(bootstrap: str, timeout_s: float = 5.0) -> set[str]:
    """The topic names the broker reports.

    Raises
    ------
    confluent_kafka.KafkaException
        When no broker answers within timeout_s (closed port, another kind of server).

    Notes
    -----
    librdkafka's metadata request honours its timeout and the client's threads end with the
    client. kafka-python 3.0's admin client does not: it waits ``bootstrap_timeout_ms``
    (30 s) whatever ``request_timeout_ms`` says, and a failed bootstrap leaves its I/O thread
    and sockets behind, which a probe called every second piles up.
    """
    return set(kafka_admin(bootstrap, timeout_s).list_topics(timeout=timeout_s).topics)


def probe_kafka(bootstrap: str, timeout_s: float = 5.0) -> Health:
    """Whether a Kafka broker answers at bootstrap within timeout_s; never raises for that."""
    try:
        topics = kafka_topics(bootstrap, timeout_s)
    except KafkaException as error:
        return Health(False, f"no Kafka answer from {bootstrap}: {error.args[0].str()}")
    return Health(True, f"{len(topics)} topics")


class KafkaService(Service):
    """The broker on 127.0.0.1:9092 by default, with its controller on 9093."""

    name = "kafka"

    @property
    def host(self) -> str:
        """The broker's host (the controller listens there too)."""
        return self.config.kafka.host

    @property
    def ports(self) -> tuple[int, ...]:
        """Broker port, then controller port."""
        return (self.config.kafka.port, self.config.kafka.controller_port)

    @property
    def log_file(self) -> Path:
        """The broker's log4j file."""
        return self.layout.log_dir(self.name) / "server.log"

    @property
    def _properties(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def _data_dir(self) -> Path:
        return self.state_dir / "data"

    def check_health(self) -> Health:
        """Ask the broker for its topics (metadata), 5 s at most."""
        return probe_kafka(self.config.kafka.bootstrap)

    def _java(self, main_class: str, *args: str, heap_mb: int) -> list[str]:
        log_dir = self.layout.log_dir(self.name)
        return [
            str(self.require_java() / "bin" / "java"),
            f"-Xms{heap_mb}m",
            f"-Xmx{heap_mb}m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={log_dir}",
            f"-Dlog4j.configuration=file:{self.state_dir / 'log4j.properties'}",
            "-cp",
            f"{self.layout.kafka_libs}/*",
            main_class,
            *args,
        ]

    def _format_storage(self) -> None:
        """Format the log folder once (KRaft needs a cluster id in meta.properties)."""
        if (self._data_dir / "meta.properties").is_file():
            return
        self._data_dir.mkdir(parents=True, exist_ok=True)
        log.info("kafka: formatting storage in %s", self._data_dir)
        command = self._java(
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            kafka_cluster_id(),
            "--config",
            str(self._properties),
            "--ignore-formatted",
            heap_mb=256,
        )
        result = subprocess.run(
            command, capture_output=True, text=True, env=self.java_env(), timeout=120, check=False
        )
        with self.log_file.open("a") as out:
            out.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise self.fail(f"formatting storage failed (exit {result.returncode})")

    def _launch(self) -> list[int]:
        if not (self.layout.kafka_libs / ".fetched").is_file():
            raise self.fail("Kafka jars are missing; run `python -m stack fetch` first")
        log_dir = self.layout.log_dir(self.name)
        log_dir.mkdir(parents=True, exist_ok=True)
        self._properties.write_text(
            kafka_server_properties(self.host, self.ports[0], self.ports[1], self._data_dir)
        )
        (self.state_dir / "log4j.properties").write_text(kafka_log4j_properties(log_dir))
        self._format_storage()
        command = self._java(
            "kafka.Kafka", str(self._properties), heap_mb=self.config.stack.kafka_heap_mb
        )
        pid = start_background(command, log_dir / "kafka.out", self.java_env(), cwd=self.state_dir)
        return [pid]
