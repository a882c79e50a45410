"""Connector options of the pipeline's external tables, for the cluster and for local files.

The SQL stages are the same everywhere; only these options differ. :func:`cluster_connectors`
wires Kafka and Elasticsearch (what ``python -m flink_jobs submit`` runs);
:func:`file_connectors` reads pings from a JSON-lines file and writes every sink as JSON lines
into a folder, which is how the scenario tests run the real SQL on a local mini cluster.
"""

from __future__ import annotations

from pathlib import Path

from flink_jobs.params import SinkAndSourceOptions
from pizzario.config import Config

__all__ = ["FILE_SINKS", "cluster_connectors", "file_connectors"]

# Folder names of the sinks written by file_connectors(), one JSON-lines table each.
FILE_SINKS = ("dead_letters", "archive", "footfall", "visits", "offers_topic", "offers_index")


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


def cluster_connectors(config: Config, *, bounded: bool = False) -> SinkAndSourceOptions:
    """Kafka sources and sinks, Elasticsearch indices and the ping archive, from the configuration.

    Parameters
    ----------
    config : Config
        Hosts, topics, indices, paths and the consumer group.
    bounded : bool
        Stop reading at the topic's end offsets as of the start, so the job finishes once it has
        drained the backlog (the throughput benchmark times that).
    """
    kafka, search, pipeline = config.kafka, config.elasticsearch, config.pipeline

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

    def index_sink(index: str) -> dict[str, str]:
        return {
            "connector": "elasticsearch-7",
            "hosts": search.url,
            "index": index,
            "sink.bulk-flush.interval": "1 s",
            "sink.bulk-flush.max-actions": "1000",
            "sink.bulk-flush.backoff.strategy": "EXPONENTIAL",
            "sink.bulk-flush.backoff.max-retries": "8",
            "sink.bulk-flush.backoff.delay": "500 ms",
        }

    return SinkAndSourceOptions(
        ping_source=ping_source,
        dead_letter_sink={
            "connector": "kafka",
            "topic": kafka.dead_letter_topic,
            "properties.bootstrap.servers": kafka.bootstrap,
            "format": "json",
            "sink.delivery-guarantee": "at-least-once",
        },
        archive_sink=_archive_sink(config.paths.output_dir / "ping-archive"),
        footfall_sink=index_sink(search.footfall_index),
        visits_sink=index_sink(search.visits_index),
        segments_csv=config.paths.segments_csv.resolve(),
        segment_offers_csv=config.paths.segment_offers_csv.resolve(),
        offers_topic_sink={
            "connector": "kafka",
            "topic": kafka.offer_topic,
            "properties.bootstrap.servers": kafka.bootstrap,
            "key.format": "raw",
            "key.fields": "offer_id",
            "value.format": "json",
            "value.fields-include": "ALL",
            # Offers are written in Kafka transactions committed on checkpoints: a restart never
            # shows a reader (isolation.level=read_committed) an offer twice.
            "sink.delivery-guarantee": "exactly-once",
            "sink.transactional-id-prefix": pipeline.transactional_id_prefix,
            # Must not exceed the broker's transaction.max.timeout.ms (15 minutes by default).
            "properties.transaction.timeout.ms": "600000",
        },
        offers_index_sink=index_sink(search.offers_index),
    )


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
        footfall_sink=json_sink("footfall"),
        visits_sink=json_sink("visits"),
        segments_csv=segments_csv.resolve(),
        segment_offers_csv=segment_offers_csv.resolve(),
        offers_topic_sink=json_sink("offers_topic"),
        offers_index_sink=json_sink("offers_index"),
    )
