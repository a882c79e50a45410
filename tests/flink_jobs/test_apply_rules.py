"""``apply-rules`` on the real stack: new rules take effect and the frequency cap survives.

A customer gets an offer, the rules are edited and applied (stop with savepoint, resubmit),
then the same customer stays again the same day (no second offer) and a new customer stays
(an offer from the edited rules). The product's clock is set to 19:30 mall time for the run
(the job takes the offset from PIZZARIO_CLOCK_OFFSET_S), so the stays fall in the evening,
outside the lunch rule's hours and well before midnight, whatever the hour the test runs at.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from datetime import time as time_of_day
from pathlib import Path

import pytest

from flink_jobs.apply import apply_rules
from flink_jobs.cluster import find_running_job, submit_offers_job, wait_until_running
from flink_jobs.follow import read_offers
from flink_jobs.sandbox import drop_sandbox, free_slots, sandbox_environment
from pizzario.clock import configured_clock
from pizzario.config import Config, load_config
from simulator.mall import load_mall
from tests.flink_jobs.harness import send_heartbeat
from tests.flink_jobs.ping_builders import AT_SHOP, PROMENADE_46M, pings_at

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REGULAR = 3  # offer before the rules change; stays again after it: capped
NEWCOMER = 4  # stays only after the rules change: gets the edited offer


def _send(config: Config, pings: Iterable[dict[str, object]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=config.kafka.bootstrap)
    for ping in sorted(pings, key=lambda p: int(p["ts"])):  # type: ignore[call-overload]
        producer.send(
            config.kafka.ping_topic,
            key=str(ping["customer_id"]).encode(),
            value=json.dumps(ping).encode(),
        )
    producer.flush()
    producer.close()


class _Heartbeats:
    """The mall gateway's clock, five seconds a beat: without it the watermark would stay
    behind the last trigger once the test's burst of pings is read."""

    def __init__(self, config: Config, next_ts_ms: int) -> None:
        self.config, self.next_ts_ms = config, next_ts_ms

    def ping(self) -> None:
        send_heartbeat(self.config, self.next_ts_ms)
        self.next_ts_ms += 5_000


def _offers_of(
    config: Config, customer_id: int, filler: _Heartbeats, timeout_s: float = 240
) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        offers = [
            offer
            for offer in read_offers(config, follow=False, idle_timeout_s=2.0)
            if offer["customer_id"] == customer_id
        ]
        if offers:
            return offers
        filler.ping()
        time.sleep(1)
    return []


def test_apply_rules_keeps_the_cap_and_applies_the_new_offer(
    stack: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stack.flink import cancel_job
    from stack.provision import create_topics

    for name, value in sandbox_environment(f"rules-{uuid.uuid4().hex[:8]}", tmp_path).items():
        monkeypatch.setenv(name, value)
    mall = load_mall(load_config().paths.mall_json)
    clock = configured_clock(load_config().clock).at_local_time(mall.timezone, time_of_day(19, 30))
    monkeypatch.setenv("PIZZARIO_CLOCK_OFFSET_S", str(clock.offset_s))
    config = load_config()
    if free_slots(config, wait_for=config.flink.parallelism) < config.flink.parallelism:
        pytest.fail("the Flink cluster has no free slots: stop the running jobs", pytrace=False)
    rules = tmp_path / "offer_rules.sql"
    rules.write_text(config.paths.offer_rules_sql.read_text())
    create_topics(config)
    minute = 60_000
    base_ms = clock.now_ms() - 20 * minute  # 19:10 mall time
    try:
        job_id = submit_offers_job(config, rules_sql=rules)
        wait_until_running(config, job_id)
        # 6 minutes at the shop, then away: one offer
        _send(config, pings_at(REGULAR, AT_SHOP, base_ms, 360)
              + pings_at(REGULAR, PROMENADE_46M, base_ms + 365_000, 10))  # fmt: skip
        filler = _Heartbeats(config, base_ms + 7 * minute)
        (first,) = _offers_of(config, REGULAR, filler)

        edited = rules.read_text().replace(
            "ELSE default_offer_code", "ELSE CONCAT(default_offer_code, '-EVENING')"
        )
        assert edited != rules.read_text()
        rules.write_text(edited)
        applied = apply_rules(config, rules)
        assert not applied.rolled_back and applied.savepoint is not None
        job_id = applied.job_id
        assert find_running_job(config).job_id == job_id  # type: ignore[union-attr]

        # after the last heartbeat, so that none of the second stay is late
        second_stay_ms = filler.next_ts_ms + minute
        _send(config, pings_at(REGULAR, AT_SHOP, second_stay_ms, 360)
              + pings_at(NEWCOMER, AT_SHOP, second_stay_ms, 360))  # fmt: skip
        filler.next_ts_ms = second_stay_ms + 7 * minute + 5_000
        (newcomer,) = _offers_of(config, NEWCOMER, filler)
        assert newcomer["offer_code"].endswith("-EVENING")
        regular = _offers_of(config, REGULAR, filler)

        # the cap's state came through the savepoint: still the one offer of the day
        assert regular == [first]
    finally:
        running = find_running_job(config)
        if running is not None:
            cancel_job(running.job_id, config)
        drop_sandbox(config)
