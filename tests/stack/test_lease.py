from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pizzario import load_config
from stack.__main__ import main
from stack.control import leave
from stack.layout import Layout
from stack.lease import Leases, holder_alive, process_start_ticks


@pytest.fixture
def other_holder() -> Iterator[subprocess.Popen[bytes]]:
    """Another live process that can hold a lease (a stand-in for a second test session)."""
    sleeper = subprocess.Popen(["sleep", "60"])
    yield sleeper
    sleeper.kill()
    sleeper.wait(timeout=10)


def test_a_live_process_holds_its_lease_and_a_dead_one_loses_it(
    tmp_path: Path, other_holder: subprocess.Popen[bytes]
) -> None:
    leases = Leases(tmp_path / "leases")
    leases.take(other_holder.pid)
    leases.take()
    assert leases.holders() == sorted([os.getpid(), other_holder.pid])
    assert leases.holders(exclude=[os.getpid()]) == [other_holder.pid]

    other_holder.kill()
    other_holder.wait(timeout=10)
    assert leases.holders(exclude=[os.getpid()]) == []
    # The dead holder's lease file was removed on the way.
    assert sorted(path.name for path in leases.folder.iterdir()) == [str(os.getpid())]
    leases.release()
    assert leases.holders() == []


def test_a_reused_pid_is_not_mistaken_for_the_holder(
    other_holder: subprocess.Popen[bytes],
) -> None:
    ticks = process_start_ticks(other_holder.pid)
    assert ticks.isdigit()
    assert holder_alive(other_holder.pid, ticks)
    # Same pid, another start time: a later process that got the pid after the holder died.
    assert not holder_alive(other_holder.pid, str(int(ticks) + 1))


def test_started_services_are_remembered_in_order_until_stopped(tmp_path: Path) -> None:
    leases = Leases(tmp_path / "leases")
    for name in ("kafka", "flink", "kafka"):
        leases.record_started(name)
    assert leases.started() == ["kafka", "flink"]
    leases.forget_started(["kafka"])
    assert leases.started() == ["flink"]
    leases.forget_started(["flink"])
    assert leases.started() == []
    assert not (tmp_path / "leases" / "started").exists()


def test_leaving_stops_nothing_while_another_session_holds_a_lease(
    private_environ: dict[str, str], other_holder: subprocess.Popen[bytes]
) -> None:
    config = load_config(private_environ)
    layout = Layout.from_config(config)
    leases = Leases(layout.lease_dir)
    leases.take(other_holder.pid)
    leases.take()
    leases.record_started("kafka")

    assert leave(config, layout) == []
    # The other session still counts on kafka: it stays recorded for the last one to leave.
    assert leases.started() == ["kafka"]
    assert leases.holders() == [other_holder.pid]

    other_holder.kill()
    other_holder.wait(timeout=10)
    leases.take()
    # Last holder: it stops what sessions started (nothing runs here, so nothing is stopped).
    assert leave(config, layout) == []
    assert leases.started() == []
    assert leases.holders() == []


def test_stack_down_refuses_while_a_session_holds_a_lease(
    private_environ: dict[str, str],
    other_holder: subprocess.Popen[bytes],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in private_environ.items():
        monkeypatch.setenv(name, value)
    Leases(Path(private_environ["PIZZARIO_PATHS_STATE_DIR"]) / "leases").take(other_holder.pid)

    assert main(["down"]) == 1
    error = capsys.readouterr().err.strip()
    assert error == (
        f"stack: in use by pid {other_holder.pid} (sleep 60); wait for it to end or use --force"
    )
    assert main(["down", "--force"]) == 0
    assert capsys.readouterr().out.strip().endswith("down: stopped nothing (none running)")
