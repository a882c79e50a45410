"""Start-up time and memory of the local stack, measured on a private copy of it.

The shared stack (``make up``) is left alone: this script starts a second one with its own
state folder and ports, times each service from launch to healthy on a fresh state folder
and again on a warm one (storage formatted, indices present), reports each service's
resident memory beside the memory it was configured for, and stops it. ``--cold-fetch``
also times a first download into an empty Maven repository and cache. ``--probe-only`` times
the Kafka health probe against a closed port beside kafka-python's admin client (the probe
the stack used before), with the threads and file descriptors each leaves behind, and
starts nothing.

Run: ``python bench/stack_startup.py [--cold-fetch | --probe-only]``
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pizzario import Config, load_config
from stack.control import down, services
from stack.fetch import fetch
from stack.kafka import probe_kafka
from stack.layout import Layout, find_java17
from stack.provision import create_indices, create_topics

# Ports of the private stack, away from the shared one's 9092/9093/9200/8081/6123.
PRIVATE_PORTS = {
    "PIZZARIO_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
    "PIZZARIO_KAFKA_CONTROLLER_PORT": "19093",
    "PIZZARIO_ELASTICSEARCH_URL": "http://127.0.0.1:19200",
    "PIZZARIO_FLINK_REST_URL": "http://127.0.0.1:18081",
    "PIZZARIO_STACK_FLINK_RPC_PORT": "16123",
}


def _budget_mib(config: Config, name: str) -> int:
    """The memory each service was configured for (heap, or Flink's process sizes)."""
    stack = config.stack
    return {
        "kafka": stack.kafka_heap_mb,
        "elasticsearch": stack.elasticsearch_heap_mb,
        "flink": stack.flink_jobmanager_memory_mb + stack.flink_taskmanager_memory_mb,
    }[name]


def _time_up(config: Config, layout: Layout) -> dict[str, float]:
    seconds = {}
    for service in services(config, layout):
        started = time.monotonic()
        service.start(config.stack.start_timeout_s)
        seconds[service.name] = time.monotonic() - started
    started = time.monotonic()
    create_topics(config)
    create_indices(config)
    seconds["topics+indices"] = time.monotonic() - started
    return seconds


def _cold_fetch(config: Config, scratch: Path) -> float:
    """Download everything into an empty Maven repository and cache; return seconds."""
    cache = scratch / "cache"
    os.environ["MAVEN_OPTS"] = f"-Dmaven.repo.local={scratch / 'm2'}"
    try:
        paths = dataclasses.replace(config.paths, cache_dir=cache)
        layout = Layout.from_config(dataclasses.replace(config, paths=paths))
        return fetch(layout, find_java17(config.stack.java_home))
    finally:
        del os.environ["MAVEN_OPTS"]


def _threads_and_fds() -> tuple[int, int]:
    return tuple(  # type: ignore[return-value]
        sum(1 for _ in Path(f"/proc/self/{part}").iterdir()) for part in ("task", "fd")
    )


def _kafka_python_probe(bootstrap: str) -> None:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    with contextlib.suppress(KafkaError):
        KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5_000).close()


def _compare_probes(calls: int) -> None:
    """Time each probe against a closed port; print seconds per call and what it leaks."""
    bootstrap = "127.0.0.1:1"
    print(f"Kafka probe against {bootstrap} (nothing listens), {calls} calls each")
    print(f"{'probe':<36}{'s per call':>11}{'threads left':>14}{'fds left':>10}")
    probes = {
        "stack.kafka.probe_kafka (5 s)": lambda: probe_kafka(bootstrap, timeout_s=5.0),
        "kafka-python KafkaAdminClient": lambda: _kafka_python_probe(bootstrap),
    }
    for name, probe in probes.items():
        threads, fds = _threads_and_fds()
        started = time.monotonic()
        for _ in range(calls):
            probe()
        seconds = (time.monotonic() - started) / calls
        threads_after, fds_after = _threads_and_fds()
        print(f"{name:<36}{seconds:>11.1f}{threads_after - threads:>14}{fds_after - fds:>10}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold-fetch", action="store_true", help="also time a first download")
    parser.add_argument(
        "--probe-only", action="store_true", help="only compare the Kafka probes (about 70 s)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.probe_only:
        # kafka-python narrates each refused connection at WARNING.
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
        _compare_probes(calls=2)
        return 0

    scratch = Path(tempfile.mkdtemp(prefix="pizzario-bench-"))
    scratch.chmod(0o755)  # Elasticsearch runs as the unprivileged service user
    environ = (
        dict(os.environ) | PRIVATE_PORTS | {"PIZZARIO_PATHS_STATE_DIR": str(scratch / "state")}
    )
    config = load_config(environ)
    layout = Layout.from_config(config)
    print(f"private stack in {scratch}")
    try:
        warm_fetch = fetch(layout, find_java17(config.stack.java_home))
        cold_fetch = _cold_fetch(config, scratch) if args.cold_fetch else None
        fresh = _time_up(config, layout)
        down(config, layout)
        warm = _time_up(config, layout)
        rows = {status.name: status for status in (s.status() for s in services(config, layout))}
    finally:
        down(config, layout)
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\n{'step':<16}{'fresh state s':>14}{'warm state s':>14}")
    for step in fresh:
        print(f"{step:<16}{fresh[step]:>14.1f}{warm[step]:>14.1f}")
    print(f"{'whole stack':<16}{sum(fresh.values()):>14.1f}{sum(warm.values()):>14.1f}")
    print(
        f"\n{'service':<16}{'resident MiB':>14}{'configured MiB':>16}  (heap; Flink: JM+TM process)"
    )
    for name, row in rows.items():
        budget = _budget_mib(config, name)
        print(f"{name:<16}{row.resident_bytes / 2**20:>14.0f}{budget:>16}")
    total = sum(row.resident_bytes for row in rows.values()) / 2**20
    print(f"{'total':<16}{total:>14.0f}")
    print(f"\nfetch with everything cached: {warm_fetch:.2f} s")
    if cold_fetch is not None:
        print(f"fetch into an empty Maven repository and cache: {cold_fetch:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
