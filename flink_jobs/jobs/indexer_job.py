"""The indexer job: offers, visits and footfall from their Kafka topics into Elasticsearch.

Submitted by ``python -m flink_jobs submit`` (beside the offer job) as
``flink run -py flink_jobs/jobs/indexer_job.py``. It renders sql/00_result_topics.sql and
sql/indexer.sql from the configuration (``PIZZARIO_*`` variables included) and submits their
INSERTs as one statement set, one Flink job of parallelism 1.
"""

from __future__ import annotations

import argparse
import logging
import sys

from flink_jobs.pipeline import apply_statements, indexer_settings, indexer_statements
from pizzario.config import load_config

log = logging.getLogger("flink_jobs.indexer_job")


def run() -> None:
    """Build the indexer from the configuration and submit it (the client returns once it runs)."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    config = load_config()
    # define the result topics as sources and the indices as sinks
    statements = indexer_statements(config)
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    # run the statements and submit the three copies as one job
    result = apply_statements(t_env, statements, indexer_settings(config)).execute()
    job_client = result.get_job_client()
    job_id = job_client.get_job_id() if job_client is not None else "unknown"
    print(f"JobID {job_id}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Flink's own flags pass through.
    parser.parse_known_args(argv)
    run()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main())
