"""What every local service shares: start, wait for health, stop, and report status."""

from __future__ import annotations

import logging
import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from pizzario import Config
from stack.layout import Layout
from stack.process import (
    alive_pids,
    describe_listener,
    port_open,
    read_pids,
    resident_memory_bytes,
    running,
    stop_pids,
    write_pids,
)

__all__ = ["Health", "Service", "ServiceStatus", "StackError", "ensure_folder"]

log = logging.getLogger(__name__)


class StackError(RuntimeError):
    """A service could not be started or checked; the message names it and its log file."""


def ensure_folder(folder: Path) -> Path:
    """Create a folder; a symlink whose target was deleted (a cleaned /tmp) gets it back."""
    if folder.is_symlink() and not folder.exists():
        (folder.parent / folder.readlink()).mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class Health:
    """The answer of a service's own health check."""

    ok: bool
    detail: str


@dataclass(frozen=True)
class ServiceStatus:
    """One line of ``python -m stack status``."""

    name: str
    pids: tuple[int, ...]
    address: str
    health: Health
    resident_bytes: int
    log_file: Path

    @property
    def started_here(self) -> bool:
        """True when this checkout's `up` started the running processes."""
        return bool(self.pids)


class Service(ABC):
    """A local service started from the cache and recorded in the state folder."""

    name: str = ""

    def __init__(self, config: Config, layout: Layout, java_home: Path | None) -> None:
        self.config = config
        self.layout = layout
        self.java_home = java_home

    # Each service defines these -----------------------------------------------
    @property
    @abstractmethod
    def host(self) -> str:
        """The host the service listens on and clients connect to (from the configuration)."""

    @property
    @abstractmethod
    def ports(self) -> tuple[int, ...]:
        """Ports the service listens on; the first is the one clients use."""

    @property
    @abstractmethod
    def log_file(self) -> Path:
        """The main log to read when something goes wrong."""

    @abstractmethod
    def check_health(self) -> Health:
        """Ask the running service whether it serves requests."""

    @abstractmethod
    def _launch(self) -> list[int]:
        """Write configuration and start the processes; return their pids."""

    # Shared behaviour -----------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        """This service's folder in the state directory."""
        return self.layout.service_dir(self.name)

    @property
    def pid_file(self) -> Path:
        """Pids of the processes this checkout started."""
        return self.layout.pid_file(self.name)

    @property
    def _address_file(self) -> Path:
        """The address the running processes were started for."""
        return self.state_dir / "address"

    def pids(self) -> list[int]:
        """Our processes that are still running."""
        return alive_pids(self.pid_file, self.state_dir)

    def health(self) -> Health:
        """Health, answered without waiting when nothing listens on the service's port."""
        if not port_open(self.host, self.ports[0]):
            return Health(False, f"nothing listens on {self.host}:{self.ports[0]}")
        try:
            return self.check_health()
        except Exception as error:  # a half-started service answers in many odd ways
            return Health(False, f"{type(error).__name__}: {error}")

    @property
    def console_file(self) -> Path:
        """Where the process's own stdout and stderr go (JVM errors before logging starts)."""
        return self.layout.log_dir(self.name) / f"{self.name}.out"

    def _last_console_line(self) -> str:
        try:
            lines = [line for line in self.console_file.read_text().splitlines() if line.strip()]
        except OSError:
            return ""
        return f"; last output: {lines[-1].strip()[:200]}" if lines else ""

    def fail(self, problem: str) -> StackError:
        """An error naming the service and its log file, one line."""
        return StackError(f"{self.name}: {problem} (log: {self.log_file})")

    def require_java(self) -> Path:
        """The Java 17 home, or a clear error."""
        if self.java_home is None:
            raise self.fail("Java 17 not found; install openjdk-17 or set PIZZARIO_STACK_JAVA_HOME")
        return self.java_home

    def java_env(self) -> dict[str, str]:
        """The environment with JAVA_HOME set to Java 17 (never the machine's default JDK)."""
        env = dict(os.environ)
        java_home = str(self.require_java())
        env["JAVA_HOME"] = java_home
        env["PATH"] = f"{java_home}/bin:{env.get('PATH', '')}"
        return env

    def start(self, timeout_s: float) -> bool:
        """Start unless already running; wait for health. True only when this call launched it."""
        if self.health().ok:
            log.info("%s: already running and healthy, left alone", self.name)
            return False
        ours = self.pids()
        address = f"{self.host}:{self.ports[0]}"
        recorded = self._address_file.read_text().strip() if self._address_file.is_file() else ""
        if ours and recorded and recorded != address:
            raise self.fail(
                f"running from this checkout on {recorded}, but configured for {address}; "
                f"run `python -m stack down {self.name}` first"
            )
        if not ours:
            busy = [port for port in self.ports if port_open(self.host, port)]
            if busy:
                raise self.fail(
                    f"port {self.host}:{busy[0]} is in use by {describe_listener(busy[0])}, "
                    "not started by this checkout"
                )
            ensure_folder(self.state_dir)
            log.info("%s: starting", self.name)
            ours = self._launch()
            write_pids(self.pid_file, ours)
            self._address_file.write_text(address + "\n")
            try:
                self.wait_healthy(timeout_s)
            except StackError:
                # Leave no half-started process behind; its logs stay for reading.
                self.stop()
                raise
            return True
        # Already running from this checkout, just not healthy yet (starting, or busy): it
        # was not started by this call, so whoever called must not stop it afterwards.
        self.wait_healthy(timeout_s)
        return False

    def wait_healthy(self, timeout_s: float) -> None:
        """Poll health until it is ok, the processes die or the deadline passes."""
        started = time.monotonic()
        last_report = started
        while True:
            health = self.health()
            if health.ok:
                elapsed_s = time.monotonic() - started
                log.info("%s: healthy after %.1f s (%s)", self.name, elapsed_s, health.detail)
                return
            # Only existence here: a just-forked child has not yet exec'd its own command line.
            if not any(running(pid) for pid in read_pids(self.pid_file)):
                raise self.fail(f"exited during start-up{self._last_console_line()}")
            if time.monotonic() - started > timeout_s:
                raise self.fail(f"not healthy after {timeout_s:.0f} s: {health.detail}")
            if time.monotonic() - last_report > 10:
                elapsed_s = time.monotonic() - started
                log.info("%s: waiting (%.0f s): %s", self.name, elapsed_s, health.detail)
                last_report = time.monotonic()
            time.sleep(1.0)

    def stop(self) -> bool:
        """Stop the processes this checkout started; True when there were any."""
        ours = self.pids()
        if ours:
            log.info("%s: stopping pids %s", self.name, " ".join(map(str, ours)))
            try:
                stop_pids(ours)
            except PermissionError as error:
                raise self.fail(f"not allowed to stop pids {ours} (another user's?)") from error
        write_pids(self.pid_file, [])
        return bool(ours)

    def status(self) -> ServiceStatus:
        """Pids, address, health, resident memory and log of the service."""
        ours = tuple(self.pids())
        resident = sum(resident_memory_bytes(pid) or 0 for pid in ours)
        return ServiceStatus(
            name=self.name,
            pids=ours,
            address=f"{self.host}:{self.ports[0]}",
            health=self.health(),
            resident_bytes=resident,
            log_file=self.log_file,
        )
