"""Command line of the local stack: ``python -m stack fetch|up|down|status``."""

from __future__ import annotations

import argparse
import logging
import sys

from pizzario import load_config
from stack.control import down, format_status, status, up
from stack.fetch import FetchError, fetch
from stack.layout import Layout, find_java17
from stack.service import StackError

SERVICE_NAMES = frozenset({"kafka", "elasticsearch", "flink"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stack",
        description=(
            "Run Kafka (127.0.0.1:9092), Elasticsearch (127.0.0.1:9200) and a Flink cluster "
            "(http://127.0.0.1:8081) as local processes, without Docker; addresses, sizes and "
            "the JDK come from pizzario/config.py (PIZZARIO_* variables). Downloads go to the "
            "cache (~/.cache/pizzario), data, logs and pids to .state/ in the repository."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("fetch", help="download Kafka, Elasticsearch and the Flink connectors")
    commands.add_parser(
        "up", help="start the services that are not running; create topics and indices"
    )
    stop = commands.add_parser("down", help="stop the services that `up` started")
    stop.add_argument(
        "services", nargs="*", metavar="SERVICE", help="kafka, elasticsearch, flink (default: all)"
    )
    stop.add_argument(
        "--force",
        action="store_true",
        help="stop even while a test session holds a lease on the stack",
    )
    commands.add_parser("status", help="show each service: pids, address, health, memory, log")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = set(getattr(args, "services", None) or ()) - SERVICE_NAMES
    if unknown:
        parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        config = load_config()
    except ValueError as error:  # an unparsable PIZZARIO_* override, named in the message
        parser.error(str(error))
    try:
        layout = Layout.from_config(config)
        if args.command == "fetch":
            seconds = fetch(layout, find_java17(config.stack.java_home))
            print(f"fetch: done in {seconds:.1f} s")
        elif args.command == "up":
            up(config, layout)
            print(format_status(status(config, layout), config.paths.repo_root))
        elif args.command == "down":
            stopped = down(config, layout, args.services or None, force=args.force)
            print(f"down: stopped {', '.join(stopped) if stopped else 'nothing (none running)'}")
        elif args.command == "status":
            rows = status(config, layout)
            print(format_status(rows, config.paths.repo_root))
            return 0 if all(row.health.ok for row in rows) else 3
    except (FetchError, StackError) as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:  # the state folder or a log not writable, a disk full
        print(f"stack: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
