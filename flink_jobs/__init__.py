"""The Flink SQL offer pipeline: raw mall pings to offers in Kafka and Elasticsearch.

The SQL lives in sql/, one stage per file; this package renders it from the configuration,
runs it on a local mini cluster or submits it to the Flink cluster, and manages the running
job (stop with a savepoint, resume, apply new offer rules).
"""

from __future__ import annotations

from flink_jobs.connectors import cluster_connectors, file_connectors
from flink_jobs.inputs import load_opt_outs
from flink_jobs.pipeline import apply_statements, job_settings, pipeline_statements, stage_paths
from flink_jobs.rendering import Statement, load_statements, render_sql, split_statements

__all__ = [
    "Statement",
    "apply_statements",
    "cluster_connectors",
    "file_connectors",
    "job_settings",
    "load_opt_outs",
    "load_statements",
    "pipeline_statements",
    "render_sql",
    "split_statements",
    "stage_paths",
]
