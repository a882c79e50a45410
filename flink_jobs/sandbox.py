"""A private copy of the pipeline's topics, indices and job names, for tests and benchmarks.

Everything the job reads and writes is named in the configuration, so a run that sets these
``PIZZARIO_*`` variables (in its own process and in the ``flink run`` it starts) leaves the
real topics, indices and the running pipeline alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import requests

from pizzario.config import REPO_ROOT, Config, load_config

__all__ = ["drop_sandbox", "enter_sandbox", "free_slots", "sandbox_environment"]

log = logging.getLogger(__name__)


def sandbox_environment(tag: str, work_dir: Path) -> dict[str, str]:
    """``PIZZARIO_*`` overrides that give a run its own topics, indices, job and folders.

    Index names keep the ``offers-``/``visits-``/``footfall-`` prefixes so that the stack's index
    templates (keyword ids, epoch-millisecond dates) apply to them too.
    """
    return {
        "PIZZARIO_KAFKA_PING_TOPIC": f"{tag}-pings",
        "PIZZARIO_KAFKA_DEAD_LETTER_TOPIC": f"{tag}-pings-dlq",
        "PIZZARIO_KAFKA_OFFER_TOPIC": f"{tag}-offers",
        "PIZZARIO_KAFKA_VISITS_TOPIC": f"{tag}-visits",
        "PIZZARIO_KAFKA_FOOTFALL_TOPIC": f"{tag}-footfall",
        "PIZZARIO_ELASTICSEARCH_OFFERS_INDEX": f"offers-{tag}",
        "PIZZARIO_ELASTICSEARCH_VISITS_INDEX": f"visits-{tag}",
        "PIZZARIO_ELASTICSEARCH_FOOTFALL_INDEX": f"footfall-{tag}",
        "PIZZARIO_PIPELINE_JOB_NAME": f"pizzario-offers-{tag}",
        "PIZZARIO_PIPELINE_CONSUMER_GROUP": f"pizzario-pipeline-{tag}",
        "PIZZARIO_PIPELINE_TRANSACTIONAL_ID_PREFIX": f"pizzario-offers-{tag}",
        "PIZZARIO_PATHS_OUTPUT_DIR": str(work_dir / "out"),
        "PIZZARIO_PATHS_STATE_DIR": str(work_dir / "state"),
    }


def free_slots(config: Config, *, wait_for: int = 0, timeout_s: float = 60.0) -> int:
    """Task slots of the Flink cluster that no job holds.

    With ``wait_for``, wait up to ``timeout_s`` for that many (a job that was just cancelled
    hands its slots back a moment later).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        response = requests.get(f"{config.flink.rest_url.rstrip('/')}/overview", timeout=10)
        response.raise_for_status()
        available = int(response.json()["slots-available"])
        if available >= wait_for or time.monotonic() > deadline:
            return available
        time.sleep(1)


def drop_sandbox(config: Config, *, remove_files: bool = False) -> None:
    """Cancel a sandbox's jobs, delete its topics and indices (best effort: a leftover is only
    disk space, but a job left running holds task slots).

    With ``remove_files``, also delete its output and state folders, as made by
    :func:`enter_sandbox`: a benchmark's archive and checkpoints run to gigabytes per run.

    Notes
    -----
    The jobs are the sandbox's offer job and its indexer, whose names start with the
    sandbox's job name; a caller that cancelled the offer job itself would otherwise leave the
    indexer, which it never submitted by hand, running for good.
    """
    from kafka import KafkaAdminClient

    _cancel_jobs(config)
    kafka = config.kafka
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap, client_id="pizzario-sandbox")
    try:
        topics = {
            kafka.ping_topic, kafka.dead_letter_topic, kafka.offer_topic, kafka.visits_topic,
            kafka.footfall_topic,
        }  # fmt: skip
        admin.delete_topics(sorted(topics & set(admin.list_topics())))
    except Exception as error:  # cleanup must not hide the run's own outcome
        log.warning("could not delete sandbox topics: %s", error)
    finally:
        admin.close()
    search = config.elasticsearch
    for index in (search.offers_index, search.visits_index, search.footfall_index):
        requests.delete(f"{search.url}/{index}", timeout=10)
    paths = config.paths
    # only a sandbox's own folder: never the checkout's out/ and .state/ (the stack's data)
    if remove_files and paths.output_dir.parent == paths.state_dir.parent != REPO_ROOT:
        for folder in (paths.output_dir, paths.state_dir):
            shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # the folder enter_sandbox made, once it is empty
            paths.output_dir.parent.rmdir()


def _cancel_jobs(config: Config) -> None:
    """Cancel every active job whose name starts with the sandbox's job name."""
    from flink_jobs.cluster import ACTIVE_STATES, ClusterError, list_jobs
    from stack.flink import cancel_job

    try:
        for job in list_jobs(config):
            if job.name.startswith(config.pipeline.job_name) and job.state in ACTIVE_STATES:
                cancel_job(job.job_id, config)
    except (ClusterError, requests.RequestException) as error:
        log.warning("could not cancel the sandbox's jobs: %s", error)


def enter_sandbox(prefix: str) -> Config:
    """Point this process (and the jobs it submits) at a fresh sandbox; return its configuration.

    Raises
    ------
    SystemExit
        When the Flink cluster has no free slots for the job.
    """
    from stack.provision import create_topics

    work_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    (work_dir / "out").mkdir()
    os.environ.update(sandbox_environment(f"{prefix}-{uuid.uuid4().hex[:8]}", work_dir))
    from flink_jobs.cluster import pipeline_slots

    config = load_config()
    needed = pipeline_slots(config)
    if free_slots(config, wait_for=needed) < needed:
        raise SystemExit(
            f"the Flink cluster has fewer than {needed} free slots: stop the running jobs first"
        )
    create_topics(config)
    return config
