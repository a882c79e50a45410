"""Provision the Docker Compose stack: Kafka topics, index templates and Kibana saved objects.

Run by the one-shot ``setup`` service of docker/compose.yml once Kafka, Elasticsearch and Kibana
are healthy; it can also be run from a checkout against the published ports::

    python docker/provision.py

Every step is idempotent: existing topics and indices are kept, templates are replaced, and the
saved objects are imported with ``overwrite=true``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from pizzario import Config, load_config
from stack.kafka import probe_kafka
from stack.provision import TEMPLATE_DIR, create_indices, create_topics

__all__ = ["import_saved_objects", "main", "wait_until"]

log = logging.getLogger("provision")

KIBANA_HEADERS = {"kbn-xsrf": "pizzario-provision"}


def wait_until(what: str, probe: Callable[[], bool], timeout_s: float) -> None:
    """Call ``probe`` every 2 s until it returns true; exit naming ``what`` on time-out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if probe():
                log.info("%s is ready", what)
                return
        except (requests.RequestException, OSError) as error:
            log.debug("%s not ready: %s", what, error)
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} was not ready within {timeout_s:.0f} s; see its log")
        time.sleep(2)


def import_saved_objects(config: Config, ndjson: Path, timeout_s: float) -> None:
    """Import the data views and the dashboard, and make the offers data view the default."""
    url = config.elasticsearch.kibana_url.rstrip("/")
    wait_until(
        f"Kibana at {url}",
        lambda: requests.get(f"{url}/api/status", timeout=5).ok,
        timeout_s,
    )
    response = requests.post(
        f"{url}/api/saved_objects/_import",
        params={"overwrite": "true"},
        headers=KIBANA_HEADERS,
        files={"file": (ndjson.name, ndjson.read_bytes(), "application/ndjson")},
        timeout=60,
    )
    is_json = response.headers.get("content-type", "").startswith("application/json")
    result = response.json() if is_json else {}
    if not response.ok or not result.get("success"):
        raise SystemExit(
            f"{ndjson}: Kibana import failed ({response.status_code}): {response.text}"
        )
    log.info("Kibana imported %d saved objects from %s", result["successCount"], ndjson.name)
    first = json.loads(ndjson.read_text(encoding="utf-8").splitlines()[0])
    if first.get("type") == "index-pattern":
        requests.post(
            f"{url}/api/kibana/settings",
            headers=KIBANA_HEADERS,
            json={"changes": {"defaultIndex": first["id"]}},
            timeout=30,
        ).raise_for_status()


def main(argv: list[str] | None = None) -> None:
    """Create the topics and indices (as the local stack does), then import the dashboard."""
    config = load_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--saved-objects",
        type=Path,
        default=config.paths.repo_root / "docker" / "kibana" / "saved_objects.ndjson",
        help="Kibana saved objects to import (NDJSON)",
    )
    parser.add_argument("--skip-kibana", action="store_true", help="leave Kibana alone")
    parser.add_argument(
        "--timeout-s", type=float, default=300, help="how long to wait for each service"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for path in (TEMPLATE_DIR, *(() if args.skip_kibana else (args.saved_objects,))):
        if not path.exists():
            sys.exit(f"missing {path}")
    bootstrap = config.kafka.bootstrap
    wait_until(f"Kafka at {bootstrap}", lambda: probe_kafka(bootstrap).ok, args.timeout_s)
    created = create_topics(config)
    log.info("topics created: %s", ", ".join(created) or "none (all existed)")
    es_url = config.elasticsearch.url.rstrip("/")
    wait_until(
        f"Elasticsearch at {es_url}",
        lambda: requests.get(f"{es_url}/_cluster/health", timeout=5).ok,
        args.timeout_s,
    )
    created = create_indices(config)
    log.info("index templates applied; indices created: %s", ", ".join(created) or "none")
    if not args.skip_kibana:
        import_saved_objects(config, args.saved_objects, args.timeout_s)
    log.info("provisioning done")


if __name__ == "__main__":
    main()
