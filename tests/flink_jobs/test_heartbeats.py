"""Time moves when the mall is quiet: heartbeats, and nothing else, release the last offer.

On the real stack: a known customer stands at the shop until the dwell threshold, the stay
qualifying at its very last ping, and then the mall falls silent: no ping follows. The
gateway's heartbeats (:mod:`pizzario.heartbeat`) go to every partition of the ping topic, and
the offer must follow them. Before them it cannot leave: every partition's watermark waits
for the stay's last ping plus the out-of-orderness allowance.
"""

from __future__ import annotations

import time

import pytest

from flink_jobs.follow import read_offers
from pizzario.clock import configured_clock
from pizzario.config import Config
from tests.flink_jobs.harness import (
    read_topic,
    sandboxed,
    send_heartbeat,
    start_pipeline,
    wait_for,
)
from tests.flink_jobs.ping_builders import AT_SHOP, pings_at

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CUSTOMER = 3  # in data/segments.csv
# pings every 5 s at the shop for exactly the dwell threshold: the last ping qualifies the stay
STAY_S = 180


def _send_pings(config: Config, pings: list[dict[str, object]]) -> None:
    import json

    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": config.kafka.bootstrap, "acks": "all"})
    for ping in pings:
        producer.produce(config.kafka.ping_topic, json.dumps(ping).encode(),
                         str(ping["customer_id"]).encode())  # fmt: skip
    assert producer.flush(30) == 0


def test_heartbeats_alone_release_the_offer_of_a_stay_that_ended_the_stream(
        stack: Config, tmp_path_factory: pytest.TempPathFactory) -> None:
    with sandboxed("heartbeats", tmp_path_factory.mktemp("heartbeats")) as config:
        start_pipeline(config)
        clock = configured_clock(config.clock)
        start_ms = clock.now_ms() - (STAY_S + 60) * 1000
        stay = pings_at(CUSTOMER, AT_SHOP, start_ms, STAY_S)
        last_ms = int(stay[-1]["ts"])  # type: ignore[call-overload]
        # every partition has a watermark from the start of the stay, then only its pings
        send_heartbeat(config, start_ms)
        _send_pings(config, stay)
        # Silence: two checkpoints pass (an offer would be committed by then) and none leaves.
        time.sleep(2 * config.flink.checkpoint_interval_ms / 1000 + 4)
        assert read_topic(config, config.kafka.offer_topic) == []

        beats = range(last_ms + 1000, last_ms + (config.offers.out_of_orderness_s + 2) * 1000,
                      1000)  # fmt: skip
        sent_at = time.monotonic()
        for ts_ms in beats:
            send_heartbeat(config, ts_ms)
        (offer,) = wait_for(
            lambda: list(read_offers(config, follow=False, idle_timeout_s=1.0)),
            timeout_s=60, what="the offer after the heartbeats",
        )
        waited_s = time.monotonic() - sent_at
        before_end_s = (last_ms - offer["triggered_at"]) / 1000
        print(f"\noffer readable {waited_s:.1f} s after {len(beats)} heartbeats "
              f"(checkpoint interval {config.flink.checkpoint_interval_ms} ms); dwell "
              f"{offer['dwell_seconds']} s, triggered {before_end_s:.0f} s before the stay's "
              f"last ping")
        assert offer["customer_id"] == CUSTOMER
        assert (offer["triggered_at"], offer["dwell_seconds"]) == (last_ms, STAY_S)
        # no dead letter: a heartbeat is not a bad record
        assert read_topic(config, config.kafka.dead_letter_topic) == []
