"""The local streaming stack without Docker: Kafka, Elasticsearch and a Flink cluster.

``python -m stack fetch`` downloads everything from Maven Central into a cache;
``python -m stack up|down|status`` runs the services as local processes (on 127.0.0.1 by default).
:func:`run_python_job` submits a PyFlink script to the cluster with ``flink run -py``.
"""

from __future__ import annotations

from stack.control import down, format_status, status, up
from stack.fetch import FetchError, fetch, install_flink_jars, is_fetched
from stack.flink import cancel_job, flink_environment, job_state, run_python_job
from stack.layout import Layout, find_java17, pyflink_home
from stack.service import StackError

__all__ = [
    "FetchError",
    "Layout",
    "StackError",
    "cancel_job",
    "down",
    "fetch",
    "find_java17",
    "flink_environment",
    "format_status",
    "install_flink_jars",
    "is_fetched",
    "job_state",
    "pyflink_home",
    "run_python_job",
    "status",
    "up",
]
