"""Processes of the local stack: ports, pid files, background start, stop, memory."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "alive_pids",
    "owned_by_state_dir",
    "port_open",
    "read_pids",
    "resident_memory_bytes",
    "running",
    "start_background",
    "stop_pids",
    "write_pids",
]


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def read_pids(pid_file: Path) -> list[int]:
    """Pids recorded in a pid file (one per line); empty when the file is missing."""
    if not pid_file.is_file():
        return []
    return [int(line) for line in pid_file.read_text().split() if line.strip().isdigit()]


def write_pids(pid_file: Path, pids: Sequence[int]) -> None:
    """Record pids, one per line (an empty list removes the file)."""
    if not pids:
        pid_file.unlink(missing_ok=True)
        return
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text("".join(f"{pid}\n" for pid in pids))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def owned_by_state_dir(pid: int, state_dir: Path) -> bool:
    """True when the live process's command line names our state folder.

    Every service is started with a config file inside the state folder (or the folder a
    symlink there points to), so this tells our processes from an unrelated one that
    reused a recorded pid.
    """
    command = _cmdline(pid)
    return str(state_dir) in command or str(state_dir.resolve()) in command


def alive_pids(pid_file: Path, state_dir: Path) -> list[int]:
    """Recorded pids that are still running and still ours."""
    return [pid for pid in read_pids(pid_file) if owned_by_state_dir(pid, state_dir)]


def resident_memory_bytes(pid: int) -> int | None:
    """Resident set size of a process (VmRSS), or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def start_background(
    command: Sequence[str],
    log_file: Path,
    env: Mapping[str, str],
    cwd: Path,
    user: str | None = None,
) -> int:
    """Start a detached process (own session) with stdout and stderr appended to log_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            user=user,
        )
    return process.pid


def stop_pids(pids: Sequence[int], timeout_s: float = 30.0) -> None:
    """SIGTERM the processes, wait for them to exit, SIGKILL whatever remains."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    remaining = list(pids)
    while remaining and time.monotonic() < deadline:
        remaining = [pid for pid in remaining if running(pid)]
        if remaining:
            time.sleep(0.2)
    for pid in remaining:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def running(pid: int) -> bool:
    """True while the pid exists and is not a zombie (reaping it if it is our child)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
