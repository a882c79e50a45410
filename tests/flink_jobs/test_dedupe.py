"""The dedupe (stage 4) on a local mini cluster: copies go, distinct pings of one instant stay.

CUSTOMER_TIMELINE remembers the event_ids of a customer's latest instant, so the cases that
matter are a copy that arrives after later pings of the same customer, and two different pings
that share an instant.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from flink_jobs.local import run_on_files
from pizzario.config import load_config
from simulator.mall import load_mall
from tests.flink_jobs.ping_builders import FOOD_COURT, base_time_ms, pings_at, to_jsonl

pytestmark = pytest.mark.slow

CUSTOMER = 901


def test_copies_are_dropped_and_distinct_pings_of_one_instant_are_kept(tmp_path) -> None:
    config = load_config()
    config = dataclasses.replace(
        config, offers=dataclasses.replace(config.offers, max_clock_skew_s=3 * 86_400)
    )
    mall = load_mall(config.paths.mall_json)
    start_ms = base_time_ms(mall.timezone, local_hour=10)
    pings = pings_at(CUSTOMER, FOOD_COURT, start_ms, 60)
    twin = {**pings[2], "event_id": f"{pings[2]['event_id']}-twin", "lat": FOOD_COURT[0] + 1e-5}
    # copies of the third and fifth pings arrive after a later ping of the customer (within the
    # 10 s out-of-order bound, so not late); the twin shares the third's instant but is a
    # different ping
    arrivals = [*pings[:4], dict(pings[2]), twin, *pings[4:6], dict(pings[4]), *pings[6:]]
    (tmp_path / "pings.jsonl").write_text(to_jsonl(arrivals), encoding="utf-8")

    sinks = run_on_files(config, tmp_path / "pings.jsonl", tmp_path / "out", mall=mall)

    archived = Counter(row["event_id"] for row in sinks["archive"])
    expected = {str(ping["event_id"]) for ping in pings} | {str(twin["event_id"])}
    assert set(archived) == expected
    assert set(archived.values()) == {1}
    assert sum(row["ping_count"] for row in sinks["footfall"]) == len(expected)
