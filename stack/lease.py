"""Leases on the running stack, so that one test session never stops it under another.

Every process that uses the stack for a while without owning it (a test session) holds a
lease: a file ``<state>/leases/<pid>`` holding the process's start time. Services that such a
process starts are recorded in ``<state>/leases/started``. When a holder leaves, it drops
its lease; the last live holder stops the recorded services. Leases of processes that died
without leaving are ignored and removed. Callers take the stack's lock around every step.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Leases", "holder_alive", "process_start_ticks"]


def process_start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" when /proc does not show it).

    Together with the pid it names one process: a pid reused later has another start time.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    # Field 22 of /proc/<pid>/stat; fields[0] here is field 3 (the state).
    return fields[19] if len(fields) > 19 else ""


def holder_alive(pid: int, start_ticks: str) -> bool:
    """True while the process that took a lease still runs (not a later one with its pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    current = process_start_ticks(pid)
    return not (start_ticks and current and current != start_ticks)


@dataclass(frozen=True)
class Leases:
    """The lease folder of one state folder."""

    folder: Path

    @property
    def _started_file(self) -> Path:
        return self.folder / "started"

    def take(self, pid: int | None = None) -> None:
        """Hold a lease for pid (this process by default)."""
        pid = os.getpid() if pid is None else pid
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / str(pid)).write_text(process_start_ticks(pid) + "\n")

    def release(self, pid: int | None = None) -> None:
        """Drop the lease of pid (this process by default); nothing when it holds none."""
        pid = os.getpid() if pid is None else pid
        (self.folder / str(pid)).unlink(missing_ok=True)

    def holders(self, exclude: Iterable[int] = ()) -> list[int]:
        """Pids of the live holders, sorted; stale leases are removed on the way."""
        excluded = set(exclude)
        live = []
        for lease in self.folder.glob("[0-9]*"):
            if not lease.name.isdigit() or int(lease.name) in excluded:
                continue
            try:
                start_ticks = lease.read_text().strip()
            except FileNotFoundError:  # released meanwhile
                continue
            if holder_alive(int(lease.name), start_ticks):
                live.append(int(lease.name))
            else:
                with contextlib.suppress(FileNotFoundError):
                    lease.unlink()
        return sorted(live)

    def started(self) -> list[str]:
        """Services that lease holders started and nobody has stopped yet, in start order."""
        if not self._started_file.is_file():
            return []
        return self._started_file.read_text().split()

    def record_started(self, name: str) -> None:
        """Remember that a lease holder started a service."""
        names = self.started()
        if name not in names:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._started_file.write_text("".join(f"{item}\n" for item in (*names, name)))

    def forget_started(self, names: Iterable[str]) -> None:
        """Forget services that were stopped."""
        gone = set(names)
        remaining = [name for name in self.started() if name not in gone]
        if remaining:
            self._started_file.write_text("".join(f"{name}\n" for name in remaining))
        else:
            self._started_file.unlink(missing_ok=True)
