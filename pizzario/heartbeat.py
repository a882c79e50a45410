"""The mall gateway's heartbeat: event time that moves while the mall is quiet.

A Flink source's watermark moves only with the records it reads, one partition at a time. When
no phone pings for a while (closing time, a quiet partition) the stays of the last customers
wait for a ping that never comes. So the gateway (the simulator here) sends, to every
partition of the ping topic, a small record that says what time it is: the pipeline's format
reads its ``ts`` for the watermark and drops it before any stage.
"""

from __future__ import annotations

__all__ = ["HEARTBEAT_FIELD", "HEARTBEAT_KEY", "heartbeat_record"]

# The field that marks a heartbeat; a ping never carries it.
HEARTBEAT_FIELD = "heartbeat"
# Heartbeats go to an explicit partition; the key only tells them apart in a topic dump.
HEARTBEAT_KEY = b"heartbeat"


def heartbeat_record(ts_ms: int) -> bytes:
    """The heartbeat's value: ``{"heartbeat":true,"ts":<epoch ms>}``."""
    return b'{"%s":true,"ts":%d}' % (HEARTBEAT_FIELD.encode(), ts_ms)
