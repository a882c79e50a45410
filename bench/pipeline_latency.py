"""Offer latency of the pipeline on the local stack, with the simulator in real time.

Submits the offer pipeline on private topics, runs the simulator at --speed 1 (event time is
the wall clock, so a ping is produced at its event time) and reads the offers as a phone would
(read_committed). For every offer it reports

- emitted_at - triggered_at: from the production of the ping that crossed the dwell threshold
  to the offer leaving Flink (the watermark wait is most of it), and
- received - triggered_at: until a phone can read it, after the Kafka transaction commits on
  the next checkpoint;

next to the goal: out-of-orderness bound + checkpoint interval + 2 s.

    .venv/bin/python bench/pipeline_latency.py [--minutes 8]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time

from flink_jobs.cluster import submit_offers_job, wait_until_running
from flink_jobs.follow import read_offers
from flink_jobs.sandbox import drop_sandbox, enter_sandbox
from pizzario.clock import configured_clock
from pizzario.config import Config


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _collect(config: Config, received: list[tuple[dict, float]], stop: threading.Event) -> None:
    # on the product's clock, as the offers' triggered_at and emitted_at are
    clock = configured_clock(config.clock)
    for offer in read_offers(config, follow=True, idle_timeout_s=1.0):
        received.append((offer, clock.now_ms()))
        if stop.is_set():
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=8.0, help="real (= simulated) minutes")
    parser.add_argument("--arrivals-per-min", type=float, default=20.0, help="peak arrivals")
    args = parser.parse_args(argv)

    from stack.flink import cancel_job

    config = enter_sandbox("latency")
    job_id = submit_offers_job(config)
    received: list[tuple[dict, float]] = []
    stop = threading.Event()
    try:
        wait_until_running(config, job_id)
        reader = threading.Thread(target=_collect, args=(config, received, stop), daemon=True)
        reader.start()
        print(f"simulating {args.minutes:g} minutes in real time ...", flush=True)
        subprocess.run(
            [
                sys.executable, "-m", "simulator", "--speed", "1", "--seed", "3",
                # the segment table's customers only: look-alikes would be unknown to the job
                "--duration", f"{int(args.minutes * 60)}s",
                "--peak-arrivals-per-min", str(args.arrivals_per_min),
                "--topic", config.kafka.ping_topic, "--bootstrap", config.kafka.bootstrap,
                "--truth", str(config.paths.output_dir / "truth.csv"), "--progress-every", "60",
            ],
            check=True,
        )  # fmt: skip
        # The simulator's closing heartbeats moved the watermark past its last pings; the
        # last offers still wait for the checkpoint that commits them.
        time.sleep(config.flink.checkpoint_interval_ms / 1000 + 5)
        stop.set()
        reader.join(timeout=10)
    finally:
        cancel_job(job_id, config)
        drop_sandbox(config, remove_files=True)

    if not received:
        raise SystemExit("no offers arrived; see the Flink web UI and the job's log")
    emitted = [(offer["emitted_at"] - offer["triggered_at"]) / 1000 for offer, _ in received]
    readable = [(at - offer["triggered_at"]) / 1000 for offer, at in received]
    goal_s = (
        config.offers.out_of_orderness_s + config.flink.checkpoint_interval_ms / 1000 + 2
    )
    interval_ms, bound_s = config.flink.checkpoint_interval_ms, config.offers.out_of_orderness_s
    print(f"\n{len(received)} offers; checkpoint interval {interval_ms} ms, "
          f"out-of-orderness {bound_s} s")  # fmt: skip
    print(f"  {'seconds after the trigger ping':<34} {'p50':>6} {'p90':>6} {'p99':>6} {'max':>6}")
    for label, values in (("offer leaves Flink (emitted_at)", emitted),
                          ("offer readable in Kafka", readable)):  # fmt: skip
        cells = " ".join(f"{_percentile(values, q):6.1f}" for q in (0.5, 0.9, 0.99))
        print(f"  {label:<34} {cells} {max(values):6.1f}")
    print(f"  goal for p99: {goal_s:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
