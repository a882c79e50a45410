"""What the pipeline has produced so far, read back from Elasticsearch and Kafka.

The figures come from the sinks themselves, not from the job, so the summary shows what a
dashboard or a phone would see: offers per segment, visits near the shop, footfall per zone,
and how many records were dead-lettered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from pizzario.config import Config

__all__ = ["PipelineSummary", "SegmentOffers", "format_summary", "read_summary"]


@dataclass(frozen=True)
class SegmentOffers:
    """Offers sent to one segment."""

    segment_label: str
    offer_code: str
    offers: int
    mean_dwell_seconds: float


@dataclass(frozen=True)
class PipelineSummary:
    """Counts read back from the pipeline's sinks."""

    offers: tuple[SegmentOffers, ...]
    visits: int
    mean_visit_dwell_seconds: float | None
    footfall_windows: int
    busiest_zones: tuple[tuple[str, int], ...]
    dead_letters: int

    @property
    def total_offers(self) -> int:
        return sum(row.offers for row in self.offers)


def _search(config: Config, index: str, body: dict[str, Any]) -> dict[str, Any]:
    url = f"{config.elasticsearch.url}/{index}/_search"
    response = requests.post(url, json=body, timeout=10)
    if response.status_code == 404:
        # An index that was never written to is an empty result, not an error.
        return {"hits": {"total": {"value": 0}}, "aggregations": {}}
    response.raise_for_status()
    return response.json()


def _count_dead_letters(config: Config) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": config.kafka.bootstrap, "group.id": "pizzario-summary"}
    )
    try:
        topic = config.kafka.dead_letter_topic
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return 0
        total = 0
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            total += high - low
        return total
    finally:
        consumer.close()


def read_summary(config: Config, *, top_zones: int = 5) -> PipelineSummary:
    """Read the summary from Elasticsearch (offers, visits, footfall) and Kafka (dead letters)."""
    es = config.elasticsearch
    offers = _search(
        config,
        es.offers_index,
        {
            "size": 0,
            "aggs": {
                "segments": {
                    "terms": {"field": "segment_label", "size": 50},
                    "aggs": {
                        "codes": {"terms": {"field": "offer_code", "size": 20}},
                        "dwell": {"avg": {"field": "dwell_seconds"}},
                    },
                }
            },
        },
    )
    rows = tuple(
        SegmentOffers(
            segment_label=bucket["key"],
            offer_code=", ".join(code["key"] for code in bucket["codes"]["buckets"]),
            offers=bucket["doc_count"],
            mean_dwell_seconds=bucket["dwell"]["value"] or 0.0,
        )
        for bucket in offers.get("aggregations", {}).get("segments", {}).get("buckets", [])
    )
    visits = _search(
        config,
        es.visits_index,
        {
            "size": 0,
            "track_total_hits": True,
            "aggs": {"dwell": {"avg": {"field": "dwell_seconds"}}},
        },
    )
    footfall = _search(
        config,
        es.footfall_index,
        {
            "size": 0,
            "track_total_hits": True,
            "aggs": {
                "zones": {
                    "terms": {"field": "zone", "size": top_zones, "order": {"visitors": "desc"}},
                    "aggs": {"visitors": {"sum": {"field": "visitors"}}},
                }
            },
        },
    )
    zones = footfall.get("aggregations", {}).get("zones", {}).get("buckets", [])
    return PipelineSummary(
        offers=rows,
        visits=visits["hits"]["total"]["value"],
        mean_visit_dwell_seconds=visits.get("aggregations", {}).get("dwell", {}).get("value"),
        footfall_windows=footfall["hits"]["total"]["value"],
        busiest_zones=tuple((zone["key"], int(zone["visitors"]["value"])) for zone in zones),
        dead_letters=_count_dead_letters(config),
    )


def format_summary(summary: PipelineSummary) -> str:
    """A short table for the terminal."""
    lines = [f"offers sent: {summary.total_offers}"]
    if summary.offers:
        lines.append(f"  {'segment':<34} {'offer':<18} {'offers':>6}  mean dwell")
        lines.extend(
            f"  {row.segment_label:<34} {row.offer_code:<18} {row.offers:>6}  "
            f"{row.mean_dwell_seconds:6.0f} s"
            for row in summary.offers
        )
    dwell = (
        f", mean dwell {summary.mean_visit_dwell_seconds:.0f} s"
        if summary.mean_visit_dwell_seconds is not None
        else ""
    )
    lines.append(f"visits near the shop: {summary.visits}{dwell}")
    busiest = ", ".join(f"{zone} ({visitors})" for zone, visitors in summary.busiest_zones)
    lines.append(
        f"footfall: {summary.footfall_windows} zone-minutes"
        + (f"; busiest zones by visitors: {busiest}" if busiest else "")
    )
    lines.append(f"dead-lettered records: {summary.dead_letters}")
    return "\n".join(lines)
