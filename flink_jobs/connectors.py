"""Connector options of the pipeline's external tables, for the cluster and for local files.

The SQL stages are the same everywhere; only these options differ. :func:`cluster_connectors`
wires the offer job to Kafka (what ``python -m flink_jobs submit`` runs);
:func:`indexer_connectors` wires the indexer job from the result topics to Elasticsearch;
:func:`file_connectors` reads pings from a JSON-lines file and writes every sink as JSON lines
into a folder, which is how the scenario tests run the real SQL on a local mini cluster.
"""

from __future__ import annotations

from pathlib import Path

from flink_jobs.params import SinkAndSourceOptions
from pizzario.config import Config, KafkaSettings

__all__ = [
    "FILE_SINKS",
    "cluster_connectors",
    "file_connectors",
    "indexer_connectors",
    "indexer_consumer_group",
]

# Folder names of the sinks written by file_connectors(), one JSON-lines table each.
FILE_SINKS = ("dead_letters", "archive", "footfall", "visits", "offers_topic")


# The local file system with buffered writes for the streaming file sink (flink_jobs/java:
# BufferedFileSystemFactory); plain file:// makes two system calls per archived ping.
ARCHIVE_SCHEME = "pizzario-buffered-file"


def _archive_sink(folder: Path) -> dict[str, str]:
    return {
        "connector": "filesystem",
        "path": f"{ARCHIVE_SCHEME}://{folder.resolve().as_posix()}",
        # JSON lines like the 'json' format's, written without a Jackson tree per row
        # (flink_jobs/java: JsonLinesEncoder); the 'json' format was most of the archive's cost
        "format": "pizzario-json-lines",
        "sink.partition-commit.trigger": "process-time",
        "sink.partition-commit.delay": "0 s",
        "sink.partition-commit.policy.kind": "success-file",
        "sink.rolling-policy.rollover-interval": "5 min",
    }


def _result_topic_sink(
    kafka: KafkaSettings, topic: str, key: str, transaction_prefix: str
) -> dict[str, str]:
    """A result topic (offers, visits, footfall) written in transactions committed on checkpoints.

    Notes
    -----
    A restart never shows a reader with ``isolation.level=read_committed`` a record twice:
    what the job wrote after its last checkpoint is aborted and written again. Each sink needs
    its own transactional-id prefix; two sinks with one prefix would fence each other.
    """
    return {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": kafka.bootstrap,
        "key.format": "raw",
        "key.fields": key,
        "value.format": "json",
        "value.fields-include": "ALL",
        "sink.delivery-guarantee": "exactly-once",
        "sink.transactional-id-prefix": transaction_prefix,
        # Must not exceed the broker's transaction.max.timeout.ms (15 minutes by default).
        "properties.transaction.timeout.ms": "600000",
    }


def cluster_connectors(config: Config, *, bounded: bool = False) -> SinkAndSourceOptions:
    """Kafka sources and sinks and the ping archive of the offer job, from the configuration.

    Parameters
    ----------
    config : Config
        Hosts, topics, paths and the consumer group.
    bounded : bool
        Stop reading at the topic's end offsets as of the start, so the job finishes once it has
        drained the backlog (the throughput benchmark times that).

    Notes
    -----
    The job writes its results to Kafka only; :func:`indexer_connectors` copies them into
    Elasticsearch in a job of its own. The Elasticsearch sink (``elasticsearch-7``, the
    connector's SinkFunction) pings the cluster when it opens, fails its job when a bulk request
    cannot reach it (only requests rejected as overloaded, HTTP 429, are retried), and waits
    for its pending requests on every checkpoint: in this job an outage stopped the offers to
    Kafka with it, whose transactions commit on those checkpoints.
    """
    kafka, pipeline = config.kafka, config.pipeline
    prefix = pipeline.transactional_id_prefix

    ping_source = {
        "connector": "kafka",
        "topic": kafka.ping_topic,
        "properties.bootstrap.servers": kafka.bootstrap,
        "properties.group.id": pipeline.consumer_group,
        # Resume where the group left off; a new group starts at the beginning of the topic.
        "scan.startup.mode": "group-offsets",
        "properties.auto.offset.reset": "earliest",
    }
    if bounded:
        ping_source["scan.bounded.mode"] = "latest-offset"

    return SinkAndSourceOptions(
        ping_source=ping_source,
        dead_letter_sink={
            "connector": "kafka",
            "topic": kafka.dead_letter_topic,
            "properties.bootstrap.servers": kafka.bootstrap,
            "format": "json",
            "sink.delivery-guarantee": "at-least-once",
            # A producer's own retries (a slow broker, a big dead letter) write no copy; a
            # restart from a checkpoint may still repeat what came after it.
            "properties.enable.idempotence": "true",
        },
        archive_sink=_archive_sink(config.paths.output_dir / "ping-archive"),
        footfall_topic=_result_topic_sink(
            kafka, kafka.footfall_topic, "footfall_id", f"{prefix}-footfall"
        ),
        visits_topic=_result_topic_sink(kafka, kafka.visits_topic, "visit_id", f"{prefix}-visits"),
        segments_csv=config.paths.segments_csv.resolve(),
        segment_offers_csv=config.paths.segment_offers_csv.resolve(),
        # The offers keep the prefix they always had.
        offers_topic=_result_topic_sink(kafka, kafka.offer_topic, "offer_id", prefix),
    )


def indexer_connectors(config: Config) -> dict[str, dict[str, str]]:
    """The indexer job's tables: the result topics as sources, the indices as sinks.

    Returns
    -------
    dict of str to dict
        Connector options by placeholder name: ``offers_topic``, ``visits_topic`` and
        ``footfall_topic`` (read committed, from the indexer's consumer group), and
        ``offers_index``, ``visits_index`` and ``footfall_index``.

    Notes
    -----
    Every document has the id of its record (offer_id, visit_id, footfall_id), so indexing a
    record again overwrites the same document with the same content: at-least-once delivery,
    which is what the Elasticsearch sink gives (it flushes on checkpoints, and the source
    commits its offsets when a checkpoint completes), ends in exactly one document per record.
    """
    kafka, search = config.kafka, config.elasticsearch

    def topic_source(topic: str) -> dict[str, str]:
        return {
            "connector": "kafka",
            "topic": topic,
            "properties.bootstrap.servers": kafka.bootstrap,
            "properties.group.id": indexer_consumer_group(config),
            # Only committed transactions: an offer the offer job aborted was never sent.
            "properties.isolation.level": "read_committed",
            "scan.startup.mode": "group-offsets",
            "properties.auto.offset.reset": "earliest",
            # The value holds every column (value.fields-include ALL); the key is not needed.
            "value.format": "json",
        }

    def index_sink(index: str) -> dict[str, str]:
        return {
            "connector": "elasticsearch-7",
            "hosts": search.url,
            "index": index,
            # Wait for every pending request on each checkpoint, so the offsets that a
            # checkpoint commits have been indexed (at least once).
            "sink.flush-on-checkpoint": "true",
            # A failed request fails the job, which restarts with its backoff and replays from
            # the last checkpoint; retrying in place would hold the checkpoint instead.
            "failure-handler": "fail",
            "sink.bulk-flush.interval": "1 s",
            "sink.bulk-flush.max-actions": "1000",
            # Retries of requests that Elasticsearch rejects as overloaded (HTTP 429) only.
            "sink.bulk-flush.backoff.strategy": "EXPONENTIAL",
            "sink.bulk-flush.backoff.max-retries": "8",
            "sink.bulk-flush.backoff.delay": "500 ms",
        }

    return {
        "offers_topic": topic_source(kafka.offer_topic),
        "visits_topic": topic_source(kafka.visits_topic),
        "footfall_topic": topic_source(kafka.footfall_topic),
        "offers_index": index_sink(search.offers_index),
        "visits_index": index_sink(search.visits_index),
        "footfall_index": index_sink(search.footfall_index),
    }


def indexer_consumer_group(config: Config) -> str:
    """The indexer's consumer group: the offer job's group name with ``-indexer``."""
    return f"{config.pipeline.consumer_group}-indexer"


def file_connectors(
    pings_jsonl: Path, output_dir: Path, *, segments_csv: Path, segment_offers_csv: Path
) -> SinkAndSourceOptions:
    """Read pings from one JSON-lines file and write every sink under ``output_dir/<sink>/``."""

    def json_sink(name: str) -> dict[str, str]:
        return {"connector": "filesystem", "path": str(output_dir / name), "format": "json"}

    return SinkAndSourceOptions(
        ping_source={"connector": "filesystem", "path": str(pings_jsonl)},
        dead_letter_sink=json_sink("dead_letters"),
        archive_sink=_archive_sink(output_dir / "archive"),
        footfall_topic=json_sink("footfall"),
        visits_topic=json_sink("visits"),
        segments_csv=segments_csv.resolve(),
        segment_offers_csv=segment_offers_csv.resolve(),
        offers_topic=json_sink("offers_topic"),
    )
