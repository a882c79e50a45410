"""Fixtures of the stack's own tests."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def private_environ(tmp_path: Path) -> dict[str, str]:
    """PIZZARIO_* variables for a stack of its own: a state folder and free ports, so that
    nothing a test starts or stops can touch the shared stack."""
    return {
        "PIZZARIO_PATHS_STATE_DIR": str(tmp_path / "state"),
        "PIZZARIO_KAFKA_BOOTSTRAP": f"127.0.0.1:{_free_port()}",
        "PIZZARIO_KAFKA_CONTROLLER_PORT": str(_free_port()),
        "PIZZARIO_ELASTICSEARCH_URL": f"http://127.0.0.1:{_free_port()}",
        "PIZZARIO_FLINK_REST_URL": f"http://127.0.0.1:{_free_port()}",
        "PIZZARIO_STACK_FLINK_RPC_PORT": str(_free_port()),
    }
