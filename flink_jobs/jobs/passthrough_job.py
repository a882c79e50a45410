"""Reference job for the throughput benchmark: read and parse the pings, then discard them.

Submitted with ``flink run -py flink_jobs/jobs/passthrough_job.py --bounded`` by
bench/pipeline_throughput.py; it uses the pipeline's own ingest stage (sql/10_ingest_pings.sql).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from flink_jobs.connectors import cluster_connectors
from flink_jobs.params import clock_params, mall_params, offer_params
from flink_jobs.pipeline import apply_statements, job_settings
from flink_jobs.rendering import load_statements
from pizzario.config import load_config
from simulator.mall import load_mall


def run(bounded: bool) -> None:
    """Build the passthrough job from the configuration and submit it."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    config = load_config()
    # Its own consumer group: the Kafka source commits offsets on checkpoints, and the full
    # job that drains the same backlog next starts from its group's offsets.
    pipeline = config.pipeline
    config = dataclasses.replace(
        config,
        pipeline=dataclasses.replace(
            pipeline, consumer_group=f"{pipeline.consumer_group}-passthrough"
        ),
    )
    mall = load_mall(config.paths.mall_json)
    # define the source (the pipeline's stage 1) and a sink that discards everything
    connectors = cluster_connectors(config, bounded=bounded)
    params = {**connectors.as_params(), **mall_params(mall), **offer_params(config.offers),
              **clock_params(config.clock)}
    sql_dir = config.paths.sql_dir
    statements = load_statements(
        [sql_dir / "10_ingest_pings.sql", sql_dir / "bench_passthrough.sql"], params
    )
    settings = job_settings(config, mall.timezone)
    settings["pipeline.name"] = f"{config.pipeline.job_name}-passthrough"
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    apply_statements(t_env, statements, settings).execute()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bounded", action="store_true", help="finish at the topic's end")
    args, _ = parser.parse_known_args(argv)
    run(args.bounded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
