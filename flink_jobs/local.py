"""Run the pipeline to completion on a local mini cluster, reading pings from a file.

This is how the scenario tests exercise the real SQL without Kafka or Elasticsearch: the
same stages, file connectors instead of the cluster's (see :func:`flink_jobs.file_connectors`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flink_jobs.connectors import FILE_SINKS, file_connectors
from flink_jobs.pipeline import apply_statements, job_settings, pipeline_statements
from pizzario.config import Config
from simulator.mall import Mall, load_mall

__all__ = ["read_sink", "run_on_files"]


def run_on_files(
    config: Config,
    pings_jsonl: Path,
    output_dir: Path,
    *,
    segments_csv: Path | None = None,
    segment_offers_csv: Path | None = None,
    opted_out_customer_ids: Iterable[int] = (),
    rules_sql: Path | None = None,
    mall: Mall | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Run every stage over a JSON-lines file of pings and return each sink's rows.

    Returns
    -------
    dict of str to list of dict
        Rows per sink name in :data:`flink_jobs.connectors.FILE_SINKS`.
    """
    from pyflink.table import EnvironmentSettings, TableEnvironment

    mall = mall if mall is not None else load_mall(config.paths.mall_json)
    connectors = file_connectors(
        pings_jsonl,
        output_dir,
        segments_csv=segments_csv or config.paths.segments_csv,
        segment_offers_csv=segment_offers_csv or config.paths.segment_offers_csv,
    )
    statements = pipeline_statements(
        config,
        connectors,
        rules_sql=rules_sql,
        mall=mall,
        opted_out_customer_ids=opted_out_customer_ids,
    )
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    settings = job_settings(config, mall.timezone)
    # Files are committed on checkpoints; a short interval keeps a small run short.
    settings["execution.checkpointing.interval"] = "500 ms"
    settings["execution.checkpointing.dir"] = (output_dir / "checkpoints").resolve().as_uri()
    settings["restart-strategy.type"] = "none"
    apply_statements(t_env, statements, settings).execute().wait()
    return {name: read_sink(output_dir / name) for name in FILE_SINKS}


def read_sink(folder: Path) -> list[dict[str, Any]]:
    """Every JSON row of the committed files under a sink folder (in-progress files skipped)."""
    rows: list[dict[str, Any]] = []
    if not folder.exists():
        return rows
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith((".", "_")):
            with path.open(encoding="utf-8") as handle:
                rows.extend(json.loads(line) for line in handle if line.strip())
    return rows
