"""Throughput of the offer pipeline on the local stack, next to a parse-and-discard reference.

Loads a backlog of simulated pings (at least 2,000,000 by default) into a private topic, then
drains it twice in the same run: with the passthrough job (read, parse, discard) and with the
full offer pipeline, each bounded at the backlog's end so that it finishes when done. The drain
time is the job's RUNNING -> FINISHED time from the Flink REST API. Each operator chain's
accumulated busy and back-pressured time (REST metrics) shows what limits the full job.

Run it on a running stack (``make up``) with free task slots:

    .venv/bin/python bench/pipeline_throughput.py [--pings 2000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from flink_jobs.cluster import JOB_FILE
from flink_jobs.sandbox import drop_sandbox, enter_sandbox
from pizzario.config import Config

PASSTHROUGH_FILE = JOB_FILE.with_name("passthrough_job.py")
# Pings per simulated second for each visitor arrival per minute on a flat day (measured:
# 7,504,999 pings in 4,558 simulated seconds at 300 arrivals per minute), to size the
# simulated time.
PINGS_PER_S_PER_ARRIVAL_RATE = 5.49
# Share of the backlog that may reach the reader behind the watermark (see check_drained).
LATE_SHARE_ALLOWED = 0.001


def _rest(config: Config) -> str:
    return config.flink.rest_url.rstrip("/")


def load_backlog(config: Config, pings: int) -> int:
    """Fill the sandbox ping topic with at least ``pings`` simulated pings; return the count."""
    arrivals_per_min = 300
    duration_s = int(1.1 * pings / (PINGS_PER_S_PER_ARRIVAL_RATE * arrivals_per_min)) + 60
    start = datetime.now(tz=UTC) - timedelta(seconds=duration_s + 600)
    command = [
        sys.executable, "-m", "simulator", "--speed", "max", "--seed", "42",
        "--customers", "20000", "--peak-arrivals-per-min", str(arrivals_per_min), "--flat-day",
        "--duration", f"{duration_s}s", "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--topic", config.kafka.ping_topic, "--bootstrap", config.kafka.bootstrap,
        "--producer", "confluent-kafka", "--progress-every", "10",
        "--truth", str(Path(tempfile.gettempdir()) / "pipeline-throughput-truth.csv"),
    ]  # fmt: skip
    print(f"loading the backlog: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    subprocess.run(command, check=True)
    count = topic_size(config)
    print(f"backlog: {count:,} records in {time.monotonic() - started:.0f} s", flush=True)
    return count


def topic_size(config: Config) -> int:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=config.kafka.bootstrap)
    try:
        partitions = [
            TopicPartition(config.kafka.ping_topic, number)
            for number in consumer.partitions_for_topic(config.kafka.ping_topic) or ()
        ]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def run_bounded(config: Config, job_file: Path) -> tuple[float, list[dict]]:
    """Submit a bounded job and wait for it; return its drain time and its vertices."""
    from stack.flink import run_python_job

    job_id = run_python_job(job_file, ["--bounded"], config=config)
    while True:
        job = requests.get(f"{_rest(config)}/jobs/{job_id}", timeout=10).json()
        if job["state"] in {"FINISHED", "FAILED", "CANCELED"}:
            break
        time.sleep(1)
    if job["state"] != "FINISHED":
        raise SystemExit(f"job {job_id} ended {job['state']}; see the Flink web UI")
    stamps = job["timestamps"]
    return (stamps["FINISHED"] - stamps["RUNNING"]) / 1000, job["vertices"]


def _print_profile(vertices: list[dict]) -> None:
    """Busy and back-pressured share of each operator chain over its run (REST metrics)."""
    print("\nfull pipeline, per operator chain (share of its subtasks' time):")
    print(f"  {'busy':>6} {'backpressured':>13} {'records in':>12} {'records out':>12}  chain")
    rows = []
    for vertex in vertices:
        metrics = vertex.get("metrics", {})
        capacity_ms = max(vertex.get("duration", 0), 1) * vertex.get("parallelism", 1)
        busy = metrics.get("accumulated-busy-time", 0) / capacity_ms
        pressured = metrics.get("accumulated-backpressured-time", 0) / capacity_ms
        records = (metrics.get("read-records", 0), metrics.get("write-records", 0))
        rows.append((busy, pressured, *records, vertex["name"]))
    for busy, pressured, records_in, records_out, name in sorted(rows, reverse=True):
        print(f"  {busy:6.0%} {pressured:13.0%} {records_in:12,} {records_out:12,}  {name[:90]}")


def check_drained(vertices: list[dict], backlog: int) -> None:
    """Fail unless the typed ping reader passed on (nearly) every record of the backlog.

    The backlog holds valid pings only, so the reader hands each of them to the dedupe, except
    the pings already behind the watermark, which it writes to the archive in its own task
    (not counted here); an in-order backlog has next to none. A job that starts from another
    job's committed offsets would finish early and look fast.
    """
    for vertex in vertices:
        if vertex["name"].startswith("Source: mall_pings"):
            emitted = vertex.get("metrics", {}).get("write-records", 0)
            if emitted < (1 - LATE_SHARE_ALLOWED) * backlog:
                raise SystemExit(
                    f"the full job's ping source emitted {emitted:,} of {backlog:,} pings"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=2_000_000, help="backlog size")
    args = parser.parse_args(argv)

    config = enter_sandbox("bench")
    try:
        backlog = load_backlog(config, args.pings)
        print("draining with the passthrough job (parse, discard) ...", flush=True)
        passthrough_s, _ = run_bounded(config, PASSTHROUGH_FILE)
        print("draining with the full offer pipeline ...", flush=True)
        full_s, profile = run_bounded(config, JOB_FILE)
    finally:
        drop_sandbox(config)
    check_drained(profile, backlog)
    passthrough_rate, full_rate = backlog / passthrough_s, backlog / full_s
    cores, parallelism = os.cpu_count(), config.flink.parallelism
    print(f"\nbacklog {backlog:,} pings, parallelism {parallelism}, {cores} cores")
    for label, seconds, rate in (
        ("passthrough (parse, discard)", passthrough_s, passthrough_rate),
        ("full offer pipeline", full_s, full_rate),
    ):
        print(f"  {label:<28} {seconds:7.1f} s  {rate:10,.0f} pings/s")
    print(f"  full / passthrough           {full_rate / passthrough_rate:.2f}")
    _print_profile(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
