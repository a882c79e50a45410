"""The offer job: Kafka pings to offers, visits and footfall in Kafka.

Submitted by ``python -m flink_jobs submit`` as ``flink run -py flink_jobs/jobs/offers_job.py``.
It renders the stage files of sql/ from the configuration (``PIZZARIO_*`` variables included),
runs the DDL and views, and submits every INSERT as one statement set, one Flink job. The
indexer job (flink_jobs/jobs/indexer_job.py) copies its results into Elasticsearch.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from flink_jobs.connectors import cluster_connectors
from flink_jobs.pipeline import apply_statements, job_settings, pipeline_statements
from pizzario.config import load_config
from simulator.mall import load_mall

log = logging.getLogger("flink_jobs.offers_job")


def run(rules_sql: Path | None, from_savepoint: str | None, bounded: bool = False) -> None:
    """Build the job from the configuration and submit it (the client returns once it runs)."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    config = load_config()
    mall = load_mall(config.paths.mall_json)
    # define the sources and sinks, then render every stage with them
    connectors = cluster_connectors(config, bounded=bounded)
    statements = pipeline_statements(config, connectors, rules_sql=rules_sql, mall=mall)
    settings = job_settings(config, mall.timezone)
    if from_savepoint:
        # Fail rather than silently drop state that does not map (the cap would be lost).
        settings["execution.savepoint.path"] = from_savepoint
        settings["execution.savepoint.ignore-unclaimed-state"] = "false"
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    # run the statements and submit the inserts as one job
    result = apply_statements(t_env, statements, settings).execute()
    job_client = result.get_job_client()
    job_id = job_client.get_job_id() if job_client is not None else "unknown"
    print(f"JobID {job_id}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=None, help="offer rules file")
    parser.add_argument("--from-savepoint", default=None, help="restore state from this savepoint")
    parser.add_argument(
        "--bounded", action="store_true", help="finish at the topic's current end (benchmarks)"
    )
    # Flink's own flags pass through.
    args, _ = parser.parse_known_args(argv)
    run(args.rules, args.from_savepoint, args.bounded)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
