"""Read offers from the Kafka ``offers`` topic as a phone would: committed transactions only."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from pizzario.clock import format_local
from pizzario.config import Config

__all__ = ["format_offer", "read_offers"]


def read_offers(
    config: Config,
    *,
    follow: bool,
    from_beginning: bool = True,
    idle_timeout_s: float = 5.0,
    topic: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield offers as JSON dicts.

    Parameters
    ----------
    config : Config
        Kafka bootstrap and the offer topic.
    follow : bool
        Keep waiting for new offers; otherwise stop after ``idle_timeout_s`` without one.
    from_beginning : bool
        Start at the oldest retained offer rather than at the end of the topic.
    topic : str, optional
        Another topic than the configured offer topic (the benchmarks use their own).
    """
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic or config.kafka.offer_topic,
        bootstrap_servers=config.kafka.bootstrap,
        # Offers are written in transactions; an aborted one must never reach a phone.
        isolation_level="read_committed",
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        value_deserializer=lambda value: json.loads(value.decode("utf-8")),
    )
    try:
        last_seen = time.monotonic()
        while True:
            batches = consumer.poll(timeout_ms=200)
            if batches:
                last_seen = time.monotonic()
                for records in batches.values():
                    yield from (record.value for record in records)
            elif not follow and time.monotonic() - last_seen > idle_timeout_s:
                return
    finally:
        consumer.close()


def format_offer(offer: dict[str, Any], time_zone: str) -> str:
    """One line per offer for a terminal: mall time of the trigger, who, what, and when sent.

    Parameters
    ----------
    offer : dict
        An offer as read from the offer topic.
    time_zone : str
        The mall's IANA zone (``data/mall.json``): both times are shown in it, so the line is
        the same on any machine.

    Notes
    -----
    The trigger time is event time (the simulated clock when the simulator runs faster than
    real time); the send time is the product's clock (:mod:`pizzario.clock`), so the two differ
    by the pipeline's latency only in real time.
    """
    triggered = format_local(offer["triggered_at"], time_zone)
    sent = format_local(offer["emitted_at"], time_zone)
    return (
        f"{triggered}  customer {offer['customer_id']:>5}  {offer['segment_label']:<34} "
        f"{offer['offer_code']:<18} {offer['discount_pct']:>4.0f}%  "
        f"dwell {offer['dwell_seconds']:>5.0f} s  sent {sent}  {offer['message']}"
    )
