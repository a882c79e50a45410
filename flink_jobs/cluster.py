"""The running pipeline on the Flink cluster, through its REST API and ``flink run -py``.

The pipeline is two jobs: the offer job, which holds the state (dedupe, stays, the cap) and
writes offers, visits and footfall to Kafka, and the indexer job, which copies them into
Elasticsearch. Submitting, listing, stopping with a savepoint and resuming from the latest one
concern the offer job; the indexer is submitted with it when it does not run, and cancelled
with it on ``stop``. The savepoint path and the rules each offer job was submitted with are
recorded under ``.state/flink_jobs/`` so that ``resume`` and ``apply-rules`` know where the
job's state is.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from flink_jobs.pipeline import INDEXER_PARALLELISM, indexer_job_name
from pizzario.clock import configured_clock
from pizzario.config import Config

__all__ = [
    "ACTIVE_STATES",
    "INDEXER_JOB_FILE",
    "JOB_FILE",
    "ClusterError",
    "JobInfo",
    "ensure_indexer",
    "find_running_job",
    "latest_savepoint",
    "list_jobs",
    "pipeline_slots",
    "recorded_rules",
    "stop_indexer",
    "stop_with_savepoint",
    "submit_offers_job",
    "wait_until_running",
]

log = logging.getLogger(__name__)

JOB_FILE = Path(__file__).resolve().parent / "jobs" / "offers_job.py"
INDEXER_JOB_FILE = JOB_FILE.with_name("indexer_job.py")
ACTIVE_STATES = frozenset(
    {"CREATED", "INITIALIZING", "RUNNING", "RESTARTING", "RECONCILING", "CANCELLING"}
)


class ClusterError(RuntimeError):
    """A cluster operation that failed; the message says which and why."""


@dataclass(frozen=True)
class JobInfo:
    job_id: str
    name: str
    state: str
    start_time_ms: int
    duration_ms: int


def _rest(config: Config) -> str:
    return config.flink.rest_url.rstrip("/")


def _request(method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = requests.request(method, url, timeout=15, **kwargs)
    except requests.RequestException as error:
        raise ClusterError(f"Flink REST API not reachable at {url}: {error}") from error
    if response.status_code >= 400:
        raise ClusterError(f"{method} {url} answered {response.status_code}: {response.text[:500]}")
    return response.json() if response.content else {}


def list_jobs(config: Config) -> list[JobInfo]:
    """Every job the cluster knows, newest first."""
    overview = _request("GET", f"{_rest(config)}/jobs/overview")
    jobs = [
        JobInfo(
            job_id=job["jid"],
            name=job["name"],
            state=job["state"],
            start_time_ms=int(job.get("start-time", 0)),
            duration_ms=int(job.get("duration", 0)),
        )
        for job in overview.get("jobs", [])
    ]
    return sorted(jobs, key=lambda job: job.start_time_ms, reverse=True)


def find_running_job(config: Config, name: str | None = None) -> JobInfo | None:
    """The newest active job with the pipeline's name, if any."""
    name = name or config.pipeline.job_name
    return next(
        (job for job in list_jobs(config) if job.name == name and job.state in ACTIVE_STATES), None
    )


def _record_dir(config: Config) -> Path:
    folder = config.paths.state_dir / "flink_jobs" / config.pipeline.job_name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def recorded_rules(config: Config) -> Path | None:
    """The copy of the rules file the running job was submitted with, if recorded."""
    path = _record_dir(config) / "applied_offer_rules.sql"
    return path if path.exists() else None


def latest_savepoint(config: Config) -> str | None:
    """The savepoint written by the last ``stop``, if any."""
    path = _record_dir(config) / "savepoint.json"
    if not path.exists():
        return None
    return str(json.loads(path.read_text())["location"])


def stop_with_savepoint(config: Config, job: JobInfo) -> str:
    """Stop a job with a savepoint (``POST /jobs/<id>/stop``) and return the savepoint location."""
    target = (config.paths.state_dir / "flink" / "savepoints").resolve()
    trigger = _request(
        "POST",
        f"{_rest(config)}/jobs/{job.job_id}/stop",
        json={"targetDirectory": target.as_uri(), "drain": False},
    )
    request_id = trigger["request-id"]
    deadline = time.monotonic() + config.pipeline.savepoint_timeout_s
    while time.monotonic() < deadline:
        status = _request("GET", f"{_rest(config)}/jobs/{job.job_id}/savepoints/{request_id}")
        if status["status"]["id"] == "COMPLETED":
            operation = status.get("operation", {})
            if "failure-cause" in operation:
                cause = operation["failure-cause"].get("stack-trace", "")[:1500]
                raise ClusterError(f"stop with savepoint of {job.name} failed:\n{cause}")
            location = str(operation["location"])
            stopped_at = configured_clock(config.clock).now_ms() / 1000
            record = {"job_id": job.job_id, "location": location, "stopped_at": stopped_at}
            (_record_dir(config) / "savepoint.json").write_text(json.dumps(record, indent=2))
            log.info("stopped %s (%s) with savepoint %s", job.name, job.job_id, location)
            return location
        time.sleep(0.5)
    raise ClusterError(
        f"stop with savepoint of {job.name} did not complete in "
        f"{config.pipeline.savepoint_timeout_s} s; the job may still be running"
    )


def submit_offers_job(
    config: Config, *, rules_sql: Path | None = None, from_savepoint: str | None = None
) -> str:
    """Submit the offer job with ``flink run -py`` and return its job id.

    The indexer job is submitted too unless it runs (:func:`ensure_indexer`): the offer job's
    results reach Elasticsearch only through it.
    """
    # The job reads the segmentation's outputs only when its first trigger needs them: a
    # missing file would fail the running job minutes later instead of here.
    for catalogue in (config.paths.segments_csv, config.paths.segment_offers_csv):
        if not catalogue.is_file():
            raise ClusterError(
                f"{catalogue} is missing: run `make segments` "
                "(python -m segmentation fit) before submitting the pipeline"
            )
    rules_sql = rules_sql or config.paths.offer_rules_sql
    args = ["--rules", str(rules_sql.resolve())]
    if from_savepoint:
        args += ["--from-savepoint", from_savepoint]
    job_id = _run_job(config, JOB_FILE, args)
    shutil.copyfile(rules_sql, _record_dir(config) / "applied_offer_rules.sql")
    log.info("submitted %s as job %s", config.pipeline.job_name, job_id)
    ensure_indexer(config)
    return job_id


def _run_job(config: Config, script: Path, args: list[str]) -> str:
    from stack.flink import run_python_job
    from stack.service import StackError

    try:
        return run_python_job(script, args, config=config)
    except StackError as error:
        raise ClusterError(str(error)) from error


def ensure_indexer(config: Config) -> str:
    """Submit the indexer job unless it runs; return its job id once it runs.

    Notes
    -----
    The indexer continues from its consumer group's offsets, so a new one picks up where the
    last one stopped (or, for new topics, at their beginning); the offer job's savepoint does
    not concern it. Two indexers would do the same work twice, hence the check.
    """
    name = indexer_job_name(config)
    running = find_running_job(config, name)
    if running is not None:
        return running.job_id
    job_id = _run_job(config, INDEXER_JOB_FILE, [])
    wait_until_running(config, job_id)
    log.info("submitted %s as job %s", name, job_id)
    return job_id


def stop_indexer(config: Config) -> str | None:
    """Cancel the indexer job if it runs; return its job id.

    Notes
    -----
    Cancelling loses nothing: whatever it read after its last completed checkpoint was not
    committed to its consumer group, so the next indexer reads it again and writes the same
    documents under the same ids.
    """
    from stack.flink import cancel_job

    running = find_running_job(config, indexer_job_name(config))
    if running is None:
        return None
    cancel_job(running.job_id, config)
    log.info("cancelled %s (%s)", running.name, running.job_id)
    return running.job_id


def pipeline_slots(config: Config) -> int:
    """Task slots the pipeline's two jobs take: the offer job's parallelism and the indexer's."""
    return config.flink.parallelism + INDEXER_PARALLELISM


def _root_exception(config: Config, job_id: str) -> str:
    try:
        exceptions = _request("GET", f"{_rest(config)}/jobs/{job_id}/exceptions")
    except ClusterError as error:
        return str(error)
    root = exceptions.get("root-exception") or ""
    history = exceptions.get("exceptionHistory", {}).get("entries", [])
    if not root and history:
        root = history[0].get("stacktrace", "")
    return "\n".join(root.splitlines()[:8])


def wait_until_running(config: Config, job_id: str, timeout_s: float = 90.0) -> None:
    """Wait until every task of the job runs (bounded sources may have finished already).

    Raises
    ------
    ClusterError
        When the job fails or restarts instead, with its root exception.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = _request("GET", f"{_rest(config)}/jobs/{job_id}")
        state = job["state"]
        if state in {"FAILED", "CANCELED", "RESTARTING"}:
            raise ClusterError(f"job {job_id} is {state}:\n{_root_exception(config, job_id)}")
        vertex_states = {vertex["status"] for vertex in job.get("vertices", [])}
        if state == "RUNNING" and vertex_states <= {"RUNNING", "FINISHED"}:
            return
        time.sleep(0.5)
    raise ClusterError(f"job {job_id} did not reach RUNNING within {timeout_s:.0f} s")
