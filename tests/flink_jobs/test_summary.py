from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from flink_jobs.summary import (
    IndexedView,
    PipelineSummary,
    SegmentOffers,
    format_summary,
    read_summary,
    segment_rows,
)
from pizzario import Config


def _summary(indexed_offers: int | None) -> PipelineSummary:
    indexed = None
    if indexed_offers is not None:
        indexed = IndexedView(
            offers=indexed_offers,
            visits=7,
            mean_visit_dwell_seconds=96.2,
            footfall_windows=40,
            busiest_zones=(("food-court", 12), ("corridor-main", 9)),
        )
    return PipelineSummary(
        offers=(
            SegmentOffers("high-income high-spending", "NEWPIZZA-PREMIUM", 3, 201.4),
            SegmentOffers("low-income low-spending", "NEWPIZZA-SAVER", 2, 185.0),
        ),
        indexed=indexed,
        dead_letters=4,
        elasticsearch_error=None if indexed is not None else "not reachable at http://es",
    )


def test_the_summary_table_shows_totals_per_segment() -> None:
    text = format_summary(_summary(indexed_offers=5))
    assert text.splitlines()[0] == "offers sent: 5"
    assert "NEWPIZZA-PREMIUM        3     201 s" in text
    assert "offers in Elasticsearch: 5\n" in text
    assert "visits near the shop: 7, mean dwell 96 s" in text
    assert "busiest zones by visitors: food-court (12), corridor-main (9)" in text
    assert text.splitlines()[-1] == "dead-lettered records: 4"


def test_the_summary_says_how_far_the_index_trails_the_offers() -> None:
    assert "offers in Elasticsearch: 3 (2 not indexed yet)" in format_summary(_summary(3))
    text = format_summary(_summary(None))
    assert text.splitlines()[0] == "offers sent: 5"
    assert "Elasticsearch: not reachable at http://es; the indexer job fills" in text
    assert "visits" not in text


def test_offers_per_segment_count_and_average_the_offers_by_label() -> None:
    offers = [
        {"segment_label": "b", "offer_code": "Y", "dwell_seconds": 180.0},
        {"segment_label": "a", "offer_code": "X", "dwell_seconds": 200.0},
        {"segment_label": "a", "offer_code": "Z", "dwell_seconds": 220.0},
    ]
    assert segment_rows(offers) == (
        SegmentOffers("a", "X, Z", 2, 210.0),
        SegmentOffers("b", "Y", 1, 180.0),
    )


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
    kafka = dataclasses.replace(
        stack.kafka,
        offer_topic=f"offers-summary-{suffix}",
        dead_letter_topic=f"mall-pings-dlq-summary-{suffix}",
    )
    config = dataclasses.replace(stack, elasticsearch=es, kafka=kafka)
    offers = [
        ("a", "high-income high-spending", "NEWPIZZA-PREMIUM", 200.0),
        ("b", "high-income high-spending", "NEWPIZZA-PREMIUM", 220.0),
        ("c", "low-income low-spending", "NEWPIZZA-SAVER", 181.0),
    ]
    try:
        producer = Producer({"bootstrap.servers": kafka.bootstrap})
        for offer_id, label, code, dwell in offers:
            offer = {"offer_id": offer_id, "segment_label": label, "offer_code": code,
                     "dwell_seconds": dwell}  # fmt: skip
            producer.produce(kafka.offer_topic, json.dumps(offer).encode(), offer_id.encode())
        # The indexer has copied two of the three so far.
        for offer_id, label, code, dwell in offers[:2]:
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
        for reason in ("not JSON", "missing field", "off the map"):
            producer.produce(kafka.dead_letter_topic, json.dumps({"reason": reason}).encode())
        assert producer.flush(10) == 0

        summary = read_summary(config)
    finally:
        requests.delete(f"{es.url}/{es.offers_index},{es.footfall_index}", timeout=10)
        AdminClient({"bootstrap.servers": kafka.bootstrap}).delete_topics(
            [kafka.offer_topic, kafka.dead_letter_topic]
        )

    assert summary.total_offers == 3
    by_label = {row.segment_label: row for row in summary.offers}
    assert by_label["high-income high-spending"].offers == 2
    assert by_label["high-income high-spending"].mean_dwell_seconds == 210.0
    assert by_label["low-income low-spending"].offer_code == "NEWPIZZA-SAVER"
    assert summary.indexed is not None
    assert summary.indexed.offers == 2
    assert summary.indexed.visits == 0  # never written: an absent index reads as empty
    assert summary.indexed.busiest_zones == (("food-court", 6),)
    assert summary.dead_letters == 3


@pytest.mark.integration
def test_the_summary_shows_the_offers_while_elasticsearch_is_away(stack: Config) -> None:
    suffix = uuid.uuid4().hex[:8]
    kafka = dataclasses.replace(stack.kafka, offer_topic=f"offers-summary-{suffix}")
    # A port where nothing listens stands for Elasticsearch being away.
    es = dataclasses.replace(stack.elasticsearch, url="http://127.0.0.1:9")
    config = dataclasses.replace(stack, elasticsearch=es, kafka=kafka)
    try:
        producer = Producer({"bootstrap.servers": kafka.bootstrap})
        offer = {"offer_id": "a", "segment_label": "s", "offer_code": "C", "dwell_seconds": 190.0}
        producer.produce(kafka.offer_topic, json.dumps(offer).encode(), b"a")
        assert producer.flush(10) == 0
        summary = read_summary(config)
    finally:
        AdminClient({"bootstrap.servers": kafka.bootstrap}).delete_topics([kafka.offer_topic])
    assert summary.total_offers == 1
    assert summary.indexed is None
    assert summary.elasticsearch_error is not None
    assert summary.elasticsearch_error.startswith("not reachable at http://127.0.0.1:9 (")
