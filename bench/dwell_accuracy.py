"""Dwell accuracy against the simulator's ground truth: the pipeline's rule next to the one it
replaced, on clean and faulty streams, over many seeds.

For each seed the simulator plays a stretch of the evening (by default 15 simulated minutes
from 19:00 mall time on a fixed past day, 12 arrivals a minute at the peak) twice: clean, and
with the end-to-end test's faults (5 % resent, 5 % out of order, 1 % late, 1 % malformed, 10 %
unknown visitors; faults have their own random stream, so both runs show the same people).
The pings go through the real pipeline SQL, and the replaced per-fix rule
(``bench/replaced_dwell_rule.py``) is replayed in Python over the same pings, deduplicated by
event_id with late ones dropped as the pipeline's watermark would drop them. Both rules' offers
are scored with ``simulator.scoring.score_offers`` against that run's truth.

Where the pipeline runs: by default on a Flink mini cluster over a file of the pings
(``flink_jobs.local.run_on_files``: the same SQL stages with file connectors; a file's end
ends event time, so it needs no heartbeats). ``--on stack`` sends the simulator's records,
heartbeats included, into a sandboxed job on the running local stack instead (``make up``,
with free task slots). A seed takes about a minute on the mini cluster::

    .venv/bin/python bench/dwell_accuracy.py [--seeds 20] [--minutes 15] [--verbose]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from datetime import time as time_of_day
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from replaced_dwell_rule import (
    ReplacedRuleParams,
    WatchedFix,
    capped_offers,
    replaced_rule_triggers,
)

from flink_jobs.inputs import load_opt_outs
from pizzario.clock import configured_clock
from pizzario.config import Config, load_config
from simulator.geometry import EARTH_RADIUS_M
from simulator.mall import Mall, load_mall
from simulator.scoring import StayScore, score_offers
from simulator.truth import GroundTruth, either_share, load_ground_truth

# The faults of tests/flink_jobs/test_end_to_end.py.
FAULTS = {"duplicate": 0.05, "out-of-order": 0.05, "late": 0.01, "malformed": 0.01,
          "unknown": 0.1}  # fmt: skip
RULES = ("replaced", "pipeline")
STREAMS = ("clean", "faulty")


def simulate(args: argparse.Namespace, seed: int, faulty: bool, start: datetime, folder: Path,
             config: Config, kafka: bool = False) -> tuple[Path, Path]:
    """Run the simulator CLI into ``folder`` (or the sandbox's ping topic); return pings, truth."""
    pings, truth = folder / "pings.jsonl", folder / "truth.csv"
    command = [
        sys.executable, "-m", "simulator", "--speed", "max",
        "--duration", f"{args.minutes * 60}s", "--start", start.isoformat(),
        "--seed", str(seed), "--peak-arrivals-per-min", str(args.arrivals),
        "--truth", str(truth), "--progress-every", "0",
    ]  # fmt: skip
    for name, rate in FAULTS.items():
        command += [f"--{name}-rate", str(rate if faulty else 0)]
    if kafka:
        command += ["--topic", config.kafka.ping_topic, "--bootstrap", config.kafka.bootstrap]
    else:
        command += ["--out", str(pings)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600,
                          env=os.environ | {"PIZZARIO_CLOCK_OFFSET_S": str(config.clock.offset_s)})
    if done.returncode != 0:
        raise RuntimeError(f"simulator failed: {done.stderr[-2000:]}")
    return pings, truth


def _distance_m(mall: Mall, lat: float, lon: float) -> float:
    """Great-circle distance to the shop, as sql/30_enrich_pings.sql computes it."""
    shop = mall.pizza_shop
    a = (math.sin(math.radians(lat - shop.lat) / 2) ** 2
         + math.cos(math.radians(shop.lat)) * math.cos(math.radians(lat))
         * math.sin(math.radians(lon - shop.lon) / 2) ** 2)  # fmt: skip
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _valid(record: Any, mall: Mall) -> bool:
    """The pipeline's validation, as far as the simulator's malformed records go."""
    if not isinstance(record, dict) or record.get("heartbeat"):
        return False
    numbers = [record.get(k) for k in ("ts", "lat", "lon", "accuracy_m")]
    if not isinstance(record.get("event_id"), str) or type(record.get("customer_id")) is not int:
        return False
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in numbers):
        return False
    box = mall.bounds
    return (box.min_lat <= record["lat"] <= box.max_lat
            and box.min_lon <= record["lon"] <= box.max_lon)


def clean_fixes(lines: Iterable[str], mall: Mall, out_of_orderness_ms: int) -> Iterator[WatchedFix]:
    """First copies of the valid pings, in arrival order, without those behind the watermark.

    Notes
    -----
    The watermark is the largest event time seen so far minus the allowed out-of-orderness,
    per record: the simulator delays a late ping at least 5 s beyond it and an out-of-order
    one at least 2 s short of it, so this reading agrees with the pipeline's on every fault.
    """
    seen: set[str] = set()
    newest = None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not _valid(record, mall):
            continue
        ts = int(record["ts"])
        late = newest is not None and ts < newest - out_of_orderness_ms
        newest = ts if newest is None else max(newest, ts)
        if late or record["event_id"] in seen:
            continue
        seen.add(record["event_id"])
        yield WatchedFix(record["customer_id"], ts, _distance_m(mall, record["lat"], record["lon"]),
                         float(record["accuracy_m"]))


def pipeline_on_files(config: Config, mall: Mall, pings: Path, folder: Path,
                      opted_out: tuple[int, ...]) -> list[dict[str, Any]]:
    """The pipeline's offers on a Flink mini cluster over the pings file."""
    from flink_jobs.local import run_on_files

    sinks = run_on_files(config, pings, folder / "out", opted_out_customer_ids=opted_out,
                         mall=mall)
    return sinks["offers_topic"]


def run_seed_on_stack(args: argparse.Namespace, seed: int, faulty: bool, start: datetime,
                      folder: Path, config: Config) -> tuple[list[dict[str, Any]], Path, Path]:
    """The pipeline's offers from a sandboxed job on the local stack (see the module)."""
    from flink_jobs.cluster import submit_offers_job, wait_until_running
    from flink_jobs.follow import read_offers
    from flink_jobs.sandbox import drop_sandbox, sandbox_environment
    from stack.flink import cancel_job
    from stack.provision import create_topics

    overrides = sandbox_environment(f"dwell-{seed}-{int(faulty)}-{os.getpid()}", folder)
    overrides["PIZZARIO_OFFERS_MAX_CLOCK_SKEW_S"] = str(config.offers.max_clock_skew_s)
    overrides["PIZZARIO_CLOCK_OFFSET_S"] = str(config.clock.offset_s)
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        sandboxed = load_config()
        create_topics(sandboxed)
        job_id = submit_offers_job(sandboxed)
        try:
            wait_until_running(sandboxed, job_id)
            # the same seed into a file too, for the replaced rule
            pings, truth = simulate(args, seed, faulty, start, folder, sandboxed)
            (folder / "kafka").mkdir()
            simulate(args, seed, faulty, start, folder / "kafka", sandboxed, kafka=True)
            offers: list[dict[str, Any]] = []
            quiet_since = time.monotonic()
            while time.monotonic() - quiet_since < 20:  # until no offer came for 20 s
                more = list(read_offers(sandboxed, follow=False, idle_timeout_s=3.0,
                                        topic=sandboxed.kafka.offer_topic))
                if len(more) != len(offers):
                    offers, quiet_since = more, time.monotonic()
                time.sleep(2)
        finally:
            cancel_job(job_id, sandboxed)
            drop_sandbox(sandboxed)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return offers, pings, truth


@dataclasses.dataclass
class Tally:
    """Scores of one rule on one kind of stream, summed over seeds."""

    scores: list[StayScore] = dataclasses.field(default_factory=list)
    either_shares: list[float] = dataclasses.field(default_factory=list)

    def row(self) -> dict[str, str]:
        met = sum(len(s.met) for s in self.scores)
        expected = sum(s.offer_stays for s in self.scores)
        false = sum(len(s.false_offers) for s in self.scores)
        errors = [e for s in self.scores for e in s.timing_errors_s]
        p50, p95 = (np.percentile(errors, [50, 95]) if errors else (math.nan, math.nan))
        return {
            "recall": f"{met / expected if expected else 1.0:.3f}",
            "precision": f"{met / (met + false) if met + false else 1.0:.3f}",
            "timing p50/p95 s": f"{p50:+.1f} / {p95:+.1f}",
            "either": f"{np.mean(self.either_shares):.1%}",
            "offers": str(sum(s.offers for s in self.scores)),
            "offer stays": str(expected),
            "missed": str(sum(len(s.missed) for s in self.scores)),
            "violated": str(sum(len(s.violated) for s in self.scores)),
            "false": str(false),
        }


def _score(offers: list[dict[str, Any]], truth: GroundTruth, config: Config, mall: Mall,
           opted_out: tuple[int, ...]) -> StayScore:
    return score_offers(offers, truth.stays, threshold_s=config.offers.dwell_threshold_s,
                        time_zone=mall.timezone, opted_out=opted_out)


def _line(score: StayScore) -> str:
    p50, p95 = score.timing_percentile_s(50), score.timing_percentile_s(95)
    timing = f"{p50:+.1f}/{p95:+.1f} s" if p50 is not None and p95 is not None else "-"
    return (f"recall {score.recall:.3f} precision {score.precision:.3f} timing {timing} "
            f"offers {score.offers} missed {len(score.missed)} violated {len(score.violated)} "
            f"false {len(score.false_offers)}")


def print_table(tallies: dict[tuple[str, str], Tally], seeds: int) -> None:
    """One table: rule x stream, figures summed (timing pooled) over the seeds."""
    rows = {f"{rule} rule, {stream}": tallies[rule, stream].row()
            for rule in RULES for stream in STREAMS}
    columns = list(next(iter(rows.values())))
    width = max(len(name) for name in rows)
    sizes = {c: max(len(c), *(len(r[c]) for r in rows.values())) for c in columns}
    print(f"\n{seeds} seeds; recall and precision over offer stays and scored offers summed "
          "over seeds; timing = offer time - moment the true dwell reached the threshold")
    print(" " * width + " | " + " | ".join(c.rjust(sizes[c]) for c in columns))
    for name, row in rows.items():
        print(name.ljust(width) + " | " + " | ".join(row[c].rjust(sizes[c]) for c in columns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--minutes", type=int, default=15, help="simulated minutes per run")
    parser.add_argument("--arrivals", type=float, default=12.0,
                        help="visitor arrivals per minute at the evening peak")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 18),
                        help="the (past) day simulated, in mall time")
    parser.add_argument("--hour", type=int, default=19, help="mall-time hour the run starts")
    parser.add_argument("--on", choices=("files", "stack"), default="files",
                        help="a Flink mini cluster over a file (default) or the local stack")
    parser.add_argument("--verbose", action="store_true", help="a line per seed, rule, stream")
    args = parser.parse_args(argv)

    base = load_config()
    mall = load_mall(base.paths.mall_json)
    start = datetime.combine(args.day, time_of_day(args.hour), tzinfo=ZoneInfo(mall.timezone))
    # The product's clock reads an hour after the run's start, so the job's clock-skew check
    # takes the fixed past day's pings whatever the date today.
    clock = configured_clock(base.clock).reading(round(start.timestamp() * 1000) + 3_600_000)
    config = dataclasses.replace(base, clock=clock.settings)
    opted_out = load_opt_outs(config.paths.opt_outs_csv)
    with config.paths.segments_csv.open(newline="") as handle:
        known = {int(row["customer_id"]) for row in csv.DictReader(handle)}
    params = ReplacedRuleParams(
        session_gap_ms=config.offers.session_gap_s * 1000,
        dwell_threshold_ms=config.offers.dwell_threshold_s * 1000,
    )
    print(f"{args.seeds} seeds from {args.first_seed}, {args.minutes} simulated minutes from "
          f"{start.isoformat()} at {args.arrivals:g} peak arrivals/min, pipeline on {args.on}",
          file=sys.stderr, flush=True)

    tallies = {(rule, stream): Tally() for rule in RULES for stream in STREAMS}
    began, done = time.monotonic(), 0
    with tempfile.TemporaryDirectory(prefix="dwell-accuracy-") as work:
        try:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                seed_began = time.monotonic()
                results = run_seed(args, seed, start, Path(work), config, mall, known, opted_out,
                                   params)
                for key, (score, share) in results.items():
                    tallies[key].scores.append(score)
                    tallies[key].either_shares.append(share)
                done += 1
                print(f"seed {seed} done in {time.monotonic() - seed_began:.0f} s "
                      f"({time.monotonic() - began:.0f} s in all)", file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            # Ctrl-C ends the run early: the table then holds the seeds completed.
            print(f"interrupted after {done} seeds", file=sys.stderr, flush=True)
    if done:
        print_table(tallies, done)
    return 0


def run_seed(args: argparse.Namespace, seed: int, start: datetime, work: Path, config: Config,
             mall: Mall, known: set[int], opted_out: tuple[int, ...], params: ReplacedRuleParams,
             ) -> dict[tuple[str, str], tuple[StayScore, float]]:
    """Both streams of one seed through both rules: each one's score and the either share."""
    results: dict[tuple[str, str], tuple[StayScore, float]] = {}
    for stream in STREAMS:
        folder = work / f"seed-{seed}-{stream}"
        folder.mkdir()
        faulty = stream == "faulty"
        if args.on == "stack":
            offers, pings, truth_csv = run_seed_on_stack(args, seed, faulty, start, folder,
                                                         config)
        else:
            pings, truth_csv = simulate(args, seed, faulty, start, folder, config)
            offers = pipeline_on_files(config, mall, pings, folder, opted_out)
        truth = load_ground_truth(truth_csv)
        with pings.open(encoding="utf-8") as lines:
            fixes = list(clean_fixes(lines, mall, config.offers.out_of_orderness_s * 1000))
        replaced = capped_offers(replaced_rule_triggers(fixes, params), known=known,
                                 opted_out=opted_out, time_zone=mall.timezone)
        share = either_share(truth.stays)
        for rule, rule_offers in (("replaced", replaced), ("pipeline", offers)):
            score = _score(rule_offers, truth, config, mall, opted_out)
            results[rule, stream] = (score, share)
            if args.verbose:
                print(f"seed {seed} {stream} {rule}: {_line(score)}; either share "
                      f"{share:.1%} of {len(truth.stays)} stays", flush=True)
        shutil.rmtree(folder, ignore_errors=True)  # a faulty run's archive adds up
    return results


if __name__ == "__main__":
    sys.exit(main())
