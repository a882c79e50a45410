"""``up``, ``down`` and ``status`` of the whole local stack."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from pizzario import Config
from stack.elasticsearch import ElasticsearchService
from stack.fetch import is_fetched
from stack.flink import FlinkService
from stack.kafka import KafkaService
from stack.layout import Layout, find_java17, pyflink_home
from stack.lease import Leases
from stack.process import describe_process
from stack.provision import create_indices, create_topics
from stack.service import Service, ServiceStatus, StackError

__all__ = ["down", "format_status", "leave", "services", "status", "up"]

log = logging.getLogger(__name__)


def services(config: Config, layout: Layout | None = None) -> list[Service]:
    """The services in start order: Kafka, Elasticsearch, Flink."""
    layout = layout or Layout.from_config(config)
    java_home = find_java17(config.stack.java_home)
    return [
        KafkaService(config, layout, java_home),
        ElasticsearchService(config, layout, java_home),
        FlinkService(config, layout, java_home),
    ]


@contextlib.contextmanager
def _exclusive(layout: Layout) -> Iterator[None]:
    """One `up`, `down` or `leave` at a time per checkout (test sessions start and end
    together, and a session must not stop a service while another decides to reuse it)."""
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    with (layout.state_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def up(config: Config, layout: Layout | None = None, *, lease: bool = False) -> list[str]:
    """Start whatever is not running and healthy, one after another, then create topics
    and indices.

    Parameters
    ----------
    config : Config
        The configuration the services are started for.
    layout : Layout, optional
        Paths of the stack; derived from config when omitted.
    lease : bool
        Hold a lease for this process (a test session); the services it starts are then
        stopped by :func:`leave` of the last lease holder, not by ``python -m stack down``.

    Returns
    -------
    list of str
        Names of the services this call started (empty when all were already up).

    Raises
    ------
    StackError
        One line naming the service that failed and its log file.
    """
    layout = layout or Layout.from_config(config)
    if not is_fetched(layout):
        raise StackError("stack: downloads are missing; run `python -m stack fetch` first")
    started_at = time.monotonic()
    started = []
    leases = Leases(layout.lease_dir)
    with _exclusive(layout):
        if lease:
            leases.take()
        for service in services(config, layout):
            if service.start(config.stack.start_timeout_s):
                started.append(service.name)
                if lease:
                    leases.record_started(service.name)
    if "flink" not in started:
        _warn_if_flink_lib_changed(layout)
    try:
        create_topics(config)
    except Exception as error:
        raise StackError(f"kafka: creating topics failed: {error}") from error
    try:
        create_indices(config)
    except Exception as error:
        raise StackError(f"elasticsearch: creating indices failed: {error}") from error
    log.info("stack: up in %.1f s", time.monotonic() - started_at)
    return started


def _warn_if_flink_lib_changed(layout: Layout) -> None:
    """A running cluster loaded its jars at start; say so when fetch has installed newer ones."""
    pids = layout.pid_file("flink")
    if not pids.is_file():
        return
    lib = pyflink_home() / "lib"
    started = pids.stat().st_mtime
    newer = sorted(jar.name for jar in lib.glob("*.jar") if jar.stat().st_mtime > started)
    if newer:
        log.warning(
            "flink: %s changed after the running cluster started; restart it to load them "
            "(python -m stack down && python -m stack up)",
            ", ".join(newer),
        )


def _stop(config: Config, layout: Layout, only: list[str] | None) -> list[str]:
    stopped = []
    for service in reversed(services(config, layout)):
        if (only is None or service.name in only) and service.stop():
            stopped.append(service.name)
    return stopped


def leave(config: Config, layout: Layout | None = None) -> list[str]:
    """Drop this process's lease; the last holder stops what lease holders started.

    Returns
    -------
    list of str
        Names of the services stopped (empty while another live process holds a lease).
    """
    layout = layout or Layout.from_config(config)
    leases = Leases(layout.lease_dir)
    with _exclusive(layout):
        leases.release()
        others = leases.holders()
        if others:
            log.info("stack: left running for pid(s) %s", " ".join(map(str, others)))
            return []
        started = leases.started()
        stopped = _stop(config, layout, started) if started else []
        leases.forget_started(started)
    return stopped


def down(
    config: Config,
    layout: Layout | None = None,
    only: list[str] | None = None,
    *,
    force: bool = False,
) -> list[str]:
    """Stop the services this checkout started (all, or the named ones), in reverse order.

    Raises
    ------
    StackError
        When a live process holds a lease (a test session runs) and force is false.
    """
    layout = layout or Layout.from_config(config)
    leases = Leases(layout.lease_dir)
    with _exclusive(layout):
        holders = leases.holders(exclude=[os.getpid()])
        if holders and not force:
            users = ", ".join(describe_process(pid, width=60) for pid in holders)
            raise StackError(f"stack: in use by {users}; wait for it to end or use --force")
        stopped = _stop(config, layout, only)
        leases.forget_started(stopped)
    return stopped


def status(config: Config, layout: Layout | None = None) -> list[ServiceStatus]:
    """The status of each service."""
    return [service.status() for service in services(config, layout)]


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def format_status(rows: list[ServiceStatus], root: Path) -> str:
    """A small table: service, pids, address, health, resident memory, log."""
    lines = [f"{'service':<14}{'pids':<14}{'address':<17}{'health':<36}{'rss':>9}  log"]
    for row in rows:
        pids = " ".join(map(str, row.pids)) or ("-" if not row.health.ok else "external")
        health = ("ok: " if row.health.ok else "DOWN: ") + row.health.detail
        rss = f"{row.resident_bytes / 2**20:.0f} MiB" if row.pids else "-"
        lines.append(
            f"{row.name:<14}{pids:<14}{row.address:<17}{health[:35]:<36}{rss:>9}  "
            f"{_relative(row.log_file, root)}"
        )
    return "\n".join(lines)
