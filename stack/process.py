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
    "describe_listener",
    "describe_process",
    "listener_of",
    "listening_addresses",
    "listening_inodes",
    "owned_by_state_dir",
    "port_open",
    "read_pids",
    "resident_memory_bytes",
    "running",
    "socket_address",
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


# /proc/net/tcp writes the socket state in hex; 0A is LISTEN.
_TCP_LISTEN = "0A"


def listening_inodes(table: str, port: int) -> set[str]:
    """Inodes of the sockets listening on port, read from a /proc/net/tcp or tcp6 table."""
    inodes = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != _TCP_LISTEN:
            continue
        if int(fields[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(fields[9])
    return inodes


def listener_of(port: int) -> tuple[int, str] | None:
    """Pid and command line of the process listening on a TCP port, when /proc shows it.

    Another user's process is found only when running as root (its fd folder is private).
    """
    inodes: set[str] = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        with contextlib.suppress(OSError):
            inodes |= listening_inodes(table.read_text(), port)
    sockets = {f"socket:[{inode}]" for inode in inodes}
    if not sockets:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(str(fd.readlink()) in sockets for fd in (proc / "fd").iterdir()):
                return int(proc.name), _cmdline(int(proc.name)).strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return None


def socket_address(hex_address: str) -> tuple[str, int]:
    """``0100007F:1F90`` (or the 32-digit IPv6 form) as ``("127.0.0.1", 8080)``."""
    host_hex, port_hex = hex_address.rsplit(":", 1)
    # /proc writes each 32-bit word of the address in the machine's (little-endian) order.
    raw = b"".join(bytes.fromhex(host_hex[i : i + 8])[::-1] for i in range(0, len(host_hex), 8))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw), int(port_hex, 16)


def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """The (address, port) pairs on which a process listens for TCP connections.

    IPv4-mapped IPv6 addresses are given in their IPv4 form (``::ffff:127.0.0.1`` is
    ``127.0.0.1``), so that a check for loopback reads the same for Java's dual-stack sockets.
    """
    inodes = set()
    try:
        fds = list((Path("/proc") / str(pid) / "fd").iterdir())
    except OSError:  # gone, or not ours to read
        return []
    for fd in fds:
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own, for one)
            target = str(fd.readlink())
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        with contextlib.suppress(OSError):
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) >= 10 and fields[3] == _TCP_LISTEN and fields[9] in inodes:
                    host, port = socket_address(fields[1])
                    found.append((host.removeprefix("::ffff:"), port))
    return sorted(found)


def describe_process(pid: int, width: int = 80) -> str:
    """The pid and its command line on one short line: ``pid 1234 (java -Xms768m ...)``."""
    command = " ".join(_cmdline(pid).split()) or "?"
    if len(command) > width:
        command = command[: width - 4] + " ..."
    return f"pid {pid} ({command})"


def describe_listener(port: int) -> str:
    """The process listening on a port as :func:`describe_process` says it, or "another
    process" when /proc does not show it."""
    found = listener_of(port)
    return "another process" if found is None else describe_process(found[0])


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
