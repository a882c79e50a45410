from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from stack.process import (
    alive_pids,
    describe_listener,
    listener_of,
    listening_inodes,
    port_open,
    read_pids,
    resident_memory_bytes,
    running,
    start_background,
    stop_pids,
    write_pids,
)


def test_port_open_tells_a_listening_port_from_a_closed_one() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_open("127.0.0.1", port)
    assert not port_open("127.0.0.1", port)


def test_pid_files_round_trip_and_an_empty_list_removes_the_file(tmp_path: Path) -> None:
    pid_file = tmp_path / "svc" / "pids"
    assert read_pids(pid_file) == []
    write_pids(pid_file, [123, 456])
    assert pid_file.read_text() == "123\n456\n"
    assert read_pids(pid_file) == [123, 456]
    write_pids(pid_file, [])
    assert not pid_file.exists()


def test_a_recorded_pid_counts_as_ours_only_while_its_command_names_the_state_dir(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "config.properties"
    log_file = tmp_path / "log" / "out.log"
    ours = start_background(
        [
            sys.executable,
            "-c",
            "import time; print('ready', flush=True); time.sleep(60)",
            str(marker),
        ],
        log_file,
        env={},
        cwd=tmp_path,
    )
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pid_file = tmp_path / "pids"
    write_pids(pid_file, [ours, stranger.pid, 999_999_999])
    try:
        deadline = time.monotonic() + 10
        while "ready" not in log_file.read_text():
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.01)
        assert alive_pids(pid_file, tmp_path) == [ours]
        assert (resident_memory_bytes(ours) or 0) > 1_000_000
    finally:
        stop_pids([ours, stranger.pid], timeout_s=10)
        stranger.wait(timeout=10)
    assert not running(ours)
    assert resident_memory_bytes(999_999_999) is None


def test_stop_pids_kills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    stop_pids([stubborn.pid], timeout_s=1)
    assert stubborn.wait(timeout=10) == -9


# Three rows of /proc/net/tcp: LISTEN (0A) on 127.0.0.1:9092 (0x2384), an ESTABLISHED (01)
# connection from that port, and LISTEN on 0.0.0.0:8081 (0x1F91).
PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1
   1: 0100007F:2384 0100007F:D4F2 01 00000000:00000000 00:00000000 00000000     0        0 4343 1
   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1
"""


def test_listening_inodes_takes_only_listening_sockets_of_the_port() -> None:
    assert listening_inodes(PROC_NET_TCP, 9092) == {"4242"}
    assert listening_inodes(PROC_NET_TCP, 8081) == {"4444"}
    assert listening_inodes(PROC_NET_TCP, 9200) == set()


def test_the_process_on_a_taken_port_is_named_with_its_pid_and_command() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        found = listener_of(port)
        described = describe_listener(port)
    assert found is not None
    assert found[0] == os.getpid()
    assert Path(sys.executable).name in found[1]
    assert described.startswith(f"pid {os.getpid()} (")
    assert described.endswith(")")
    assert len(described) <= len(f"pid {os.getpid()} ()") + 80
    # Closed now: nobody listens, and the message falls back to a plain phrase.
    assert listener_of(port) is None
    assert describe_listener(port) == "another process"
