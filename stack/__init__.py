"""The local streaming stack without Docker: Kafka, Elasticsearch and a Flink cluster.

``python -m stack fetch`` downloads everything from Maven Central into a cache;
``python -m stack up|down|status`` runs the services as local processes on 127.0.0.1.
"""

from __future__ import annotations

from stack.fetch import FetchError, fetch, install_flink_jars, is_fetched
from stack.layout import Layout, find_java17, pyflink_home

__all__ = [
    "FetchError",
    "Layout",
    "fetch",
    "find_java17",
    "install_flink_jars",
    "is_fetched",
    "pyflink_home",
]
