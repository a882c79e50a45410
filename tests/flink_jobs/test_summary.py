from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from flink_jobs.summary import PipelineSummary, SegmentOffers, format_summary, read_summary
from pizzario import Config


def test_the_summary_table_shows_totals_per_segment() -> None:
    summary = PipelineSummary(
        offers=(
            SegmentOffers("high-income high-spending", "NEWPIZZA-PREMIUM", 3, 201.4),
            SegmentOffers("low-income low-spending", "NEWPIZZA-SAVER", 2, 185.0),
        ),
        visits=7,
        mean_visit_dwell_seconds=96.2,
        footfall_windows=40,
        busiest_zones=(("food-court", 12), ("corridor-main", 9)),
        dead_letters=4,
    )
    text = format_summary(summary)
    assert text.splitlines()[0] == "offers sent: 5"
    assert "NEWPIZZA-PREMIUM        3     201 s" in text
    assert "visits near the shop: 7, mean dwell 96 s" in text
    assert "busiest zones by visitors: food-court (12), corridor-main (9)" in text
    assert text.splitlines()[-1] == "dead-lettered records: 4"


@pytest.mark.integration
def test_the_summary_reads_back_what_the_sinks_hold(stack: Config) -> None:
    suffix = uuid.uuid4().hex[:8]
    # Index names matching the templates' `<index>-*` patterns get the real mappings.
    es = dataclasses.replace(
        stack.elasticsearch,
        offers_index=f"offers-summary-{suffix}",
        visits_index=f"visits-summary-{suffix}",
        footfall_index=f"footfall-summary-{suffix}",
    )
    kafka = dataclasses.replace(stack.kafka, dead_letter_topic=f"mall-pings-dlq-summary-{suffix}")
    config = dataclasses.replace(stack, elasticsearch=es, kafka=kafka)
    offers = [
        ("a", "high-income high-spending", "NEWPIZZA-PREMIUM", 200.0),
        ("b", "high-income high-spending", "NEWPIZZA-PREMIUM", 220.0),
        ("c", "low-income low-spending", "NEWPIZZA-SAVER", 181.0),
    ]
    try:
        for offer_id, label, code, dwell in offers:
            requests.put(
                f"{es.url}/{es.offers_index}/_doc/{offer_id}",
                json={"offer_id": offer_id, "segment_label": label, "offer_code": code,
                      "dwell_seconds": dwell},
                timeout=10,
            ).raise_for_status()
        requests.put(
            f"{es.url}/{es.footfall_index}/_doc/1",
            json={"zone": "food-court", "visitors": 6, "ping_count": 50},
            timeout=10,
        ).raise_for_status()
        requests.post(f"{es.url}/{es.offers_index},{es.footfall_index}/_refresh", timeout=10)
        producer = Producer({"bootstrap.servers": kafka.bootstrap})
        for reason in ("not JSON", "missing field", "off the map"):
            producer.produce(kafka.dead_letter_topic, json.dumps({"reason": reason}).encode())
        assert producer.flush(10) == 0

        summary = read_summary(config)
    finally:
        requests.delete(f"{es.url}/{es.offers_index},{es.footfall_index}", timeout=10)
        AdminClient({"bootstrap.servers": kafka.bootstrap}).delete_topics([kafka.dead_letter_topic])

    assert summary.total_offers == 3
    by_label = {row.segment_label: row for row in summary.offers}
    assert by_label["high-income high-spending"].offers == 2
    assert by_label["high-income high-spending"].mean_dwell_seconds == pytest.approx(210.0)
    assert by_label["low-income low-spending"].offer_code == "NEWPIZZA-SAVER"
    assert summary.visits == 0  # never written: an absent index reads as empty
    assert summary.busiest_zones == (("food-court", 6),)
    assert summary.dead_letters == 3
