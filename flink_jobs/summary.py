"""What the pipeline has produced so far, read back from Kafka and Elasticsearch.

The figures come from the sinks themselves, not from the jobs, so the summary shows what a
phone or a dashboard would see: the offers committed to Kafka per segment (the record, what the
phones read), how many of them the Elasticsearch view holds yet, visits near the shop, footfall
per zone, and how many records were dead-lettered.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests

from pizzario.config import Config

__all__ = [
    "IndexedView",
    "PipelineSummary",
    "SegmentOffers",
    "committed_records",
    "format_summary",
    "read_summary",
    "segment_rows",
]


@dataclass(frozen=True)
class SegmentOffers:
    """Offers sent to one segment."""

    segment_label: str
    offer_code: str
    offers: int
    mean_dwell_seconds: float


@dataclass(frozen=True)
class IndexedView:
    """What the Elasticsearch indices hold (the indexer job's copy of the result topics)."""

    offers: int
    visits: int
    mean_visit_dwell_seconds: float | None
    footfall_windows: int
    busiest_zones: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class PipelineSummary:
    """Counts read back from the pipeline's sinks.

    ``indexed`` is None when Elasticsearch did not answer; ``elasticsearch_error`` says why.
    """

    offers: tuple[SegmentOffers, ...]
    indexed: IndexedView | None
    dead_letters: int
    elasticsearch_error: str | None = None

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


def committed_records(config: Config, topic: str, *, timeout_s: float = 30.0) -> list[bytes]:
    """Every committed record value of a topic, read once to its end (read_committed).

    Notes
    -----
    The end is the partition's end as the consumer sees it (for read_committed, the last
    stable offset), reported as an end-of-partition event, so the read takes as long as the
    data and no idle timeout. A topic that does not exist holds nothing.
    """
    from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

    consumer = Consumer({
        "bootstrap.servers": config.kafka.bootstrap,
        "group.id": "pizzario-summary",
        # An offer in an aborted or open transaction was never sent to a phone.
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
    })  # fmt: skip
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return []
        consumer.assign([TopicPartition(topic, p, 0) for p in metadata.partitions])
        open_partitions = set(metadata.partitions)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout_s
        while open_partitions and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                open_partitions.discard(message.partition())
            elif error is not None:
                raise KafkaException(error)
            elif message.value() is not None:
                values.append(message.value())
        return values
    finally:
        consumer.close()


def segment_rows(offers: Iterable[dict[str, Any]]) -> tuple[SegmentOffers, ...]:
    """Offers per segment label: count, offer codes and mean dwell, by label."""
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for offer in offers:
        by_label[str(offer["segment_label"])].append(offer)
    return tuple(
        SegmentOffers(
            segment_label=label,
            offer_code=", ".join(sorted({str(offer["offer_code"]) for offer in rows})),
            offers=len(rows),
            mean_dwell_seconds=sum(float(offer["dwell_seconds"]) for offer in rows) / len(rows),
        )
        for label, rows in sorted(by_label.items(), key=lambda item: (-len(item[1]), item[0]))
    )


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


def _read_indexed(config: Config, top_zones: int) -> IndexedView:
    es = config.elasticsearch
    offers = _search(config, es.offers_index, {"size": 0, "track_total_hits": True})
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
    return IndexedView(
        offers=offers["hits"]["total"]["value"],
        visits=visits["hits"]["total"]["value"],
        mean_visit_dwell_seconds=visits.get("aggregations", {}).get("dwell", {}).get("value"),
        footfall_windows=footfall["hits"]["total"]["value"],
        busiest_zones=tuple((zone["key"], int(zone["visitors"]["value"])) for zone in zones),
    )


def read_summary(config: Config, *, top_zones: int = 5) -> PipelineSummary:
    """Read the offers and dead letters from Kafka, and the indexed view from Elasticsearch.

    Notes
    -----
    The offers come from the Kafka topic, not from the index: Kafka is the record, and the
    index may trail it (the indexer job copies it, and waits while Elasticsearch is away), so
    the summary works, and says how far the view has got, with Elasticsearch down.
    """
    offers = [json.loads(value) for value in committed_records(config, config.kafka.offer_topic)]
    try:
        indexed: IndexedView | None = _read_indexed(config, top_zones)
        problem = None
    except requests.RequestException as error:
        indexed, problem = None, f"not reachable at {config.elasticsearch.url} ({error})"
    return PipelineSummary(
        offers=segment_rows(offers),
        indexed=indexed,
        dead_letters=_count_dead_letters(config),
        elasticsearch_error=problem,
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
    indexed = summary.indexed
    if indexed is None:
        lines.append(
            f"Elasticsearch: {summary.elasticsearch_error}; the indexer job fills the view in "
            "once it answers again"
        )
    else:
        behind = summary.total_offers - indexed.offers
        lines.append(
            f"offers in Elasticsearch: {indexed.offers}"
            + (f" ({behind} not indexed yet)" if behind > 0 else "")
        )
        dwell = (
            f", mean dwell {indexed.mean_visit_dwell_seconds:.0f} s"
            if indexed.mean_visit_dwell_seconds is not None
            else ""
        )
        lines.append(f"visits near the shop: {indexed.visits}{dwell}")
        busiest = ", ".join(f"{zone} ({visitors})" for zone, visitors in indexed.busiest_zones)
        lines.append(
            f"footfall: {indexed.footfall_windows} zone-minutes"
            + (f"; busiest zones by visitors: {busiest}" if busiest else "")
        )
    lines.append(f"dead-lettered records: {summary.dead_letters}")
    return "\n".join(lines)
