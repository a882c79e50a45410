"""The supervisor that keeps the TaskManager running: restarts, back-off and stopping."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stack.supervise import RestartPolicy, supervise


def test_a_command_that_keeps_exiting_is_started_again_each_time(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    command = [sys.executable, "-c", f"open({str(runs)!r}, 'a').write('x')"]
    policy = RestartPolicy(initial_delay_s=0.01, max_delay_s=0.01)

    def enough() -> bool:
        return runs.exists() and len(runs.read_text()) >= 4

    restarts = supervise(command, name="probe", policy=policy, should_stop=enough)
    assert runs.read_text() == "xxxx"
    assert restarts == 3


def test_quick_deaths_double_the_wait_and_a_healthy_run_resets_it() -> None:
    policy = RestartPolicy(initial_delay_s=1.0, max_delay_s=8.0, healthy_after_s=60.0)
    waits = [policy.next_delay(0.0, 0.5)]
    for _ in range(5):
        waits.append(policy.next_delay(waits[-1], 0.5))
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert policy.next_delay(8.0, 61.0) == 1.0


def test_sigterm_stops_the_child_and_the_supervisor_without_a_restart(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "stack.supervise", "--name", "sleeper", "--state-dir",
         str(tmp_path), "--", sys.executable, "-c", child],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid_file.exists(), "the supervised command never started"
    child_pid = int(pid_file.read_text())
    supervisor.send_signal(signal.SIGTERM)
    _, errors = supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0
    with pytest.raises(ProcessLookupError):
        os.kill(child_pid, 0)
    assert "sleeper: stopped" in errors
    assert errors.count("started pid") == 1


def test_a_killed_child_comes_back_with_a_new_pid(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "stack.supervise", "--name", "sleeper", "--state-dir",
         str(tmp_path), "--initial-delay", "0.1", "--", sys.executable, "-c", child],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = _wait_for_pid(pid_file, other_than=None)
        os.kill(first, signal.SIGKILL)
        second = _wait_for_pid(pid_file, other_than=first)
        assert second != first
    finally:
        supervisor.send_signal(signal.SIGTERM)
        _, errors = supervisor.communicate(timeout=30)
    assert "exited with signal SIGKILL" in errors
    assert errors.count("started pid") == 2


def _wait_for_pid(pid_file: Path, other_than: int | None) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if pid_file.exists() and (text := pid_file.read_text()):
            pid = int(text)
            if pid != other_than:
                return pid
        time.sleep(0.05)
    raise AssertionError("the supervised command did not (re)start")
