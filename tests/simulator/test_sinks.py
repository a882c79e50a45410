"""Delivery accounting of the Kafka sinks when no broker answers (nothing listens on port 1)."""

from __future__ import annotations

import pytest

from simulator import sinks


def test_confluent_counts_every_undeliverable_record_as_failed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks, "DELIVERY_TIMEOUT_MS", 1500)
    sink = sinks.ConfluentKafkaSink("127.0.0.1:1", "mall-pings", 5, 1024, None,
                                    check_connection=False)
    sink.send_many([b"7"] * 2500, [b"{}"] * 2500)
    for _ in range(10):
        sink.send(b"7", b"{}")
    sink.close()
    assert (sink.delivered, sink.failed) == (0, 2510)
    assert sum(sink.errors.values()) == 2510
    assert all("Message timed out" in reason for reason in sink.errors)
