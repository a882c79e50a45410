"""Command line of the local stack: ``python -m stack fetch|up|down|status``."""

from __future__ import annotations

import argparse
import logging
import sys

from pizzario import load_config
from stack.fetch import FetchError, fetch
from stack.layout import Layout, find_java17


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stack",
        description=(
            "Run Kafka, Elasticsearch and a Flink cluster as local processes on 127.0.0.1 "
            "(no Docker). Downloads go to the cache (~/.cache/pizzario), runtime state to .state/."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download Kafka, Elasticsearch and the Flink connectors")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    config = load_config()
    layout = Layout.from_config(config)
    try:
        if args.command == "fetch":
            seconds = fetch(layout, find_java17(config.stack.java_home))
            print(f"fetch: done in {seconds:.1f} s")
    except FetchError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
