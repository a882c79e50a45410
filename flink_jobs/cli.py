"""Command line of the offer pipeline: ``python -m flink_jobs COMMAND``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import requests

from flink_jobs.apply import apply_rules
from flink_jobs.cluster import (
    ClusterError,
    JobInfo,
    ensure_indexer,
    find_running_job,
    latest_savepoint,
    list_jobs,
    recorded_rules,
    stop_indexer,
    stop_with_savepoint,
    submit_offers_job,
    wait_until_running,
)
from flink_jobs.preflight import InputFileError, check_inputs, rules_refusal
from flink_jobs.rules import RulesError, check_rules
from flink_jobs.summary import format_summary, read_summary
from pizzario.clock import Clock, configured_clock, format_local
from pizzario.config import Config, load_config
from simulator.mall import load_mall

__all__ = ["format_job_line", "main"]

log = logging.getLogger("flink_jobs")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flink_jobs",
        description=(
            "The Flink SQL offer pipeline (sql/): submit it to the local Flink cluster, list, "
            "stop and resume it, apply edited offer rules, and watch the offers it sends."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    submit = commands.add_parser("submit", help="submit the pipeline (unless it already runs)")
    submit.add_argument("--rules", type=Path, help="offer rules (default: sql/offer_rules.sql)")
    commands.add_parser("list", help="list the cluster's jobs")
    commands.add_parser("stop", help="stop the pipeline with a savepoint")
    commands.add_parser("resume", help="submit the pipeline from the latest savepoint")
    apply = commands.add_parser(
        "apply-rules",
        help="check the rules file, then restart the running pipeline with it, keeping its state",
    )
    apply.add_argument("--rules", type=Path, help="offer rules (default: sql/offer_rules.sql)")
    check = commands.add_parser("check-rules", help="only check that a rules file plans")
    check.add_argument("--rules", type=Path, help="offer rules (default: sql/offer_rules.sql)")
    offers = commands.add_parser("offers", help="print offers from Kafka")
    offers.add_argument("--follow", action="store_true", help="keep printing new offers")
    offers.add_argument("--json", action="store_true", help="print raw JSON lines")
    offers.add_argument("--from-latest", action="store_true", help="only offers from now on")
    commands.add_parser(
        "summary",
        help="offers per segment, visits, footfall and dead letters, read back from the sinks",
    )
    return parser


def _submit(config: Config, rules: Path) -> int:
    # Every input first: a bad file is refused before the cluster is asked anything.
    check_inputs(config, rules)
    check_rules(config, rules)
    running = find_running_job(config)
    if running is not None:
        ensure_indexer(config)
        print(
            f"{running.name} already runs as job {running.job_id} ({running.state}); use "
            "`apply-rules` to change its rules or `stop` first",
            file=sys.stderr,
        )
        return 1
    job_id = submit_offers_job(config, rules_sql=rules)
    wait_until_running(config, job_id)
    print(f"submitted {config.pipeline.job_name}: job {job_id}, web UI {config.flink.rest_url}")
    return 0


def format_job_line(job: JobInfo, clock: Clock, time_zone: str) -> str:
    """One line per Flink job for ``list``: id, state, start, running time and name.

    Parameters
    ----------
    job : JobInfo
        A job as the REST API reports it.
    clock : Clock
        The product's clock (:mod:`pizzario.clock`).
    time_zone : str
        The mall's IANA zone (``data/mall.json``).

    Notes
    -----
    Flink stamps the start with the wall clock; it is shown on the product's clock in mall
    time, like the offers' times, so the line is the same on any machine.
    """
    started = format_local(clock.from_wall_ms(job.start_time_ms), time_zone, "%Y-%m-%d %H:%M:%S %Z")
    seconds = job.duration_ms / 1000
    return f"{job.job_id}  {job.state:<10} {started}  {seconds:>8.0f} s  {job.name}"


def _list(config: Config, clock: Clock | None = None) -> int:
    jobs = list_jobs(config)
    if not jobs:
        print("no jobs")
    clock = clock if clock is not None else configured_clock(config.clock)
    time_zone = load_mall(config.paths.mall_json).timezone
    for job in jobs:
        print(format_job_line(job, clock, time_zone))
    return 0


def _stop(config: Config) -> int:
    running = find_running_job(config)
    if running is None:
        print(f"{config.pipeline.job_name} is not running", file=sys.stderr)
        return 1
    location = stop_with_savepoint(config, running)
    stop_indexer(config)
    print(f"stopped job {running.job_id}; savepoint {location}")
    return 0


def _resume(config: Config) -> int:
    check_inputs(config, recorded_rules(config) or config.paths.offer_rules_sql)
    if find_running_job(config) is not None:
        print(f"{config.pipeline.job_name} is already running", file=sys.stderr)
        return 1
    savepoint = latest_savepoint(config)
    if savepoint is None:
        print("no savepoint recorded; use `submit`", file=sys.stderr)
        return 1
    rules = recorded_rules(config) or config.paths.offer_rules_sql
    job_id = submit_offers_job(config, rules_sql=rules, from_savepoint=savepoint)
    wait_until_running(config, job_id)
    print(f"resumed {config.pipeline.job_name} from {savepoint}: job {job_id}")
    return 0


def _apply_rules(config: Config, rules: Path) -> int:
    result = apply_rules(config, rules)
    if result.rolled_back:
        print(
            f"the new rules did not start:\n{result.error}\n"
            f"back on the previous rules: job {result.job_id}",
            file=sys.stderr,
        )
        return 1
    origin = f"from savepoint {result.savepoint}" if result.savepoint else "with empty state"
    print(f"applied {rules}: job {result.job_id} runs {origin}")
    return 0


def _offers(config: Config, *, follow: bool, as_json: bool, from_latest: bool) -> int:
    import json

    from flink_jobs.follow import format_offer, read_offers

    time_zone = load_mall(config.paths.mall_json).timezone
    count = 0
    for offer in read_offers(config, follow=follow, from_beginning=not from_latest):
        print(json.dumps(offer) if as_json else format_offer(offer, time_zone), flush=True)
        count += 1
    if not follow:
        print(f"{count} offers", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    config = load_config()
    rules = getattr(args, "rules", None) or config.paths.offer_rules_sql
    try:
        if args.command == "submit":
            return _submit(config, rules)
        if args.command == "list":
            return _list(config)
        if args.command == "stop":
            return _stop(config)
        if args.command == "resume":
            return _resume(config)
        if args.command == "apply-rules":
            return _apply_rules(config, rules)
        if args.command == "check-rules":
            check_inputs(config, rules)
            check_rules(config, rules, recorded_rules(config))
            print(f"{rules}: plans, and keeps the job's operator graph")
            return 0
        if args.command == "summary":
            try:
                print(format_summary(read_summary(config)))
            except requests.RequestException as error:
                print(
                    f"Elasticsearch is not reachable at {config.elasticsearch.url} "
                    f"(is the stack up? `make up`): {error}",
                    file=sys.stderr,
                )
                return 1
            return 0
        return _offers(config, follow=args.follow, as_json=args.json, from_latest=args.from_latest)
    except RulesError as error:
        print(f"error: {rules_refusal(error)}\n(the running job was not touched)", file=sys.stderr)
        return 2
    except InputFileError as error:
        print(f"error: {error}\n(nothing was submitted or stopped)", file=sys.stderr)
        return 2
    except ClusterError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
