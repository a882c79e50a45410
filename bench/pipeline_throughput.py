"""Throughput of the offer pipeline on the local stack, next to a parse-and-discard reference.

Loads a backlog of simulated pings (at least 2,000,000 by default) into a private topic, then
drains it in rounds in the same run: each round with the passthrough job (read, parse,
discard) and then with the full offer pipeline, each bounded at the backlog's end so that it
finishes when done, and each as a new consumer group so that it reads the whole backlog. The
drain time is the job's RUNNING -> FINISHED time from the Flink REST API. Each operator
chain's accumulated busy and back-pressured time (REST metrics) in the last round shows what
limits the full job.

Why rounds: a job's code is compiled to machine code while it runs, and on two cores the
compiler competes with the job itself. The first full job after the TaskManager starts drains
the backlog at well under half the rate of later ones, and a streaming job that runs for days
spends a negligible share of its life there. The first round's figures are printed as the
cold start; the later rounds' median is the steady state.

Run it on a running stack (``make up``) with free task slots:

    .venv/bin/python bench/pipeline_throughput.py [--pings 2000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests

from flink_jobs.cluster import JOB_FILE
from flink_jobs.sandbox import drop_sandbox, enter_sandbox
from pizzario.clock import configured_clock
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
    # on the product's clock, which the job's ping check reads too
    start = configured_clock(config.clock).now() - timedelta(seconds=duration_s + 600)
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


def run_bounded(config: Config, job_file: Path, run_tag: str) -> tuple[float, list[dict]]:
    """Submit a bounded job and wait for it; return its drain time and its vertices.

    ``run_tag`` gives the job a consumer group and transactional ids of its own: a job that
    starts from another job's committed offsets would finish early and look fast.
    """
    from stack.flink import run_python_job

    os.environ["PIZZARIO_PIPELINE_CONSUMER_GROUP"] = f"{config.pipeline.consumer_group}-{run_tag}"
    os.environ["PIZZARIO_PIPELINE_TRANSACTIONAL_ID_PREFIX"] = (
        f"{config.pipeline.transactional_id_prefix}-{run_tag}"
    )
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
    print("\nfull pipeline in the last round, per operator chain (share of its subtasks' time):")
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
        if vertex["name"].startswith("Source: ping_records"):
            emitted = vertex.get("metrics", {}).get("write-records", 0)
            if emitted < (1 - LATE_SHARE_ALLOWED) * backlog:
                raise SystemExit(
                    f"the full job's ping source emitted {emitted:,} of {backlog:,} pings"
                )


def _print_rates(backlog: int, rounds: list[tuple[float, float]]) -> None:
    """Each round's drain times and rates, then the cold start and the steady state."""
    print(f"  {'round':<8} {'passthrough (parse, discard)':>30} {'full offer pipeline':>28}  ratio")
    for number, (passthrough_s, full_s) in enumerate(rounds, start=1):
        print(
            f"  {number:<8} {passthrough_s:7.1f} s {backlog / passthrough_s:12,.0f} pings/s"
            f" {full_s:7.1f} s {backlog / full_s:10,.0f} pings/s  {passthrough_s / full_s:5.2f}"
        )
    passthrough_rate, full_rate = backlog / rounds[0][0], backlog / rounds[0][1]
    print(
        f"  cold start (round 1):    passthrough {passthrough_rate:10,.0f} pings/s"
        f"   full {full_rate:9,.0f} pings/s   ratio {full_rate / passthrough_rate:.2f}"
    )
    if len(rounds) > 1:
        passthrough_rate = backlog / statistics.median(p for p, _ in rounds[1:])
        full_rate = backlog / statistics.median(f for _, f in rounds[1:])
        print(
            f"  steady (median of 2-{len(rounds)}): passthrough {passthrough_rate:10,.0f} pings/s"
            f"   full {full_rate:9,.0f} pings/s   ratio {full_rate / passthrough_rate:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=2_000_000, help="backlog size")
    parser.add_argument(
        "--rounds", type=int, default=5,
        help="drains of the backlog by each job; the first is the cold start (default 5)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    config = enter_sandbox("bench")
    rounds: list[tuple[float, float]] = []
    try:
        backlog = load_backlog(config, args.pings)
        for number in range(1, args.rounds + 1):
            print(f"round {number}: draining with the passthrough job (parse, discard) ...",
                  flush=True)  # fmt: skip
            passthrough_s, _ = run_bounded(config, PASSTHROUGH_FILE, f"passthrough-{number}")
            print(f"round {number}: draining with the full offer pipeline ...", flush=True)
            full_s, profile = run_bounded(config, JOB_FILE, f"full-{number}")
            check_drained(profile, backlog)
            print(f"round {number}: passthrough {backlog / passthrough_s:,.0f} pings/s, "
                  f"full {backlog / full_s:,.0f} pings/s", flush=True)  # fmt: skip
            rounds.append((passthrough_s, full_s))
    finally:
        drop_sandbox(config, remove_files=True)
    cores, parallelism = os.cpu_count(), config.flink.parallelism
    print(f"\nbacklog {backlog:,} pings, parallelism {parallelism}, {cores} cores")
    _print_rates(backlog, rounds)
    _print_profile(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
