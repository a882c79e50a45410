from __future__ import annotations

import subprocess
import sys

import pytest

from stack.__main__ import main


def test_help_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stack", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("fetch", "up", "down", "status"):
        assert f"    {command} " in result.stdout


def test_down_refuses_an_unknown_service(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["down", "kafka", "zookeeper"])
    assert exited.value.code == 2
    assert "unknown service(s): zookeeper" in capsys.readouterr().err
