"""End to end on the real stack: simulator (seeded, with faults) -> Kafka -> the submitted offer
job -> Kafka offers, visits and footfall -> the indexer job -> Elasticsearch, scored against the
simulator's ground truth.

The run uses its own topics, indices and job names (flink_jobs.sandbox), so the pipeline a
person may be running is not touched.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from flink_jobs.cluster import (
    find_running_job,
    pipeline_slots,
    submit_offers_job,
    wait_until_running,
)
from flink_jobs.follow import read_offers
from flink_jobs.inputs import load_opt_outs
from flink_jobs.pipeline import indexer_job_name
from flink_jobs.sandbox import drop_sandbox, free_slots, sandbox_environment
from pizzario.config import Config, load_config
from simulator.mall import load_mall
from simulator.scoring import score_offers
from simulator.truth import load_ground_truth
from tests.flink_jobs.ping_builders import base_time_ms

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SIMULATED = timedelta(minutes=15)
SEED = 5


def _read_topic(config: Config, topic: str) -> list[dict[str, Any]]:
    return list(read_offers(config, follow=False, idle_timeout_s=3.0, topic=topic))


def _search_all(config: Config, index: str) -> list[dict[str, Any]]:
    url = f"{config.elasticsearch.url}/{index}"
    requests.post(f"{url}/_refresh", timeout=10)
    response = requests.get(f"{url}/_search", json={"size": 10_000}, timeout=10)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return [hit["_source"] | {"_id": hit["_id"]} for hit in response.json()["hits"]["hits"]]


def _wait_until_stable(read: Any, *, settle_s: float, timeout_s: float) -> list[Any]:
    """Poll until the result stops growing for ``settle_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    last: list[Any] = []
    since = time.monotonic()
    while time.monotonic() < deadline:
        current = read()
        if len(current) != len(last):
            last, since = current, time.monotonic()
        elif current and time.monotonic() - since >= settle_s:
            return current
        time.sleep(2)
    return last


def _wait_for_ids(read: Any, ids: set[str], *, timeout_s: float) -> list[dict[str, Any]]:
    """Poll an index until its document ids are ``ids``; the last read when time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        documents = read()
        if {document["_id"] for document in documents} == ids or time.monotonic() > deadline:
            return documents
        time.sleep(2)


# The faults the tests use everywhere: resent and out-of-order pings, late ones (dropped by
# the pipeline, which a clear stay survives), malformed records and unknown visitors.
FAULTS = ["--duplicate-rate", "0.05", "--out-of-order-rate", "0.05", "--late-rate", "0.01",
          "--malformed-rate", "0.01", "--unknown-rate", "0.1"]  # fmt: skip
CLEAN = ["--duplicate-rate", "0", "--out-of-order-rate", "0", "--late-rate", "0",
         "--malformed-rate", "0", "--unknown-rate", "0"]  # fmt: skip


def _simulate_into_pipeline(tmp_path_factory: pytest.TempPathFactory, tag: str,
                            faults: list[str]) -> Iterator[dict[str, Any]]:
    from stack.flink import cancel_job
    from stack.provision import create_topics

    work = tmp_path_factory.mktemp(tag)
    environment = sandbox_environment(f"{tag}-{uuid.uuid4().hex[:8]}", work)
    # The simulated quarter hour starts at 19:00 mall time on a past day (the evening crowd,
    # the same at whatever hour the test runs), so the job must accept pings that old.
    environment["PIZZARIO_OFFERS_MAX_CLOCK_SKEW_S"] = str(3 * 86_400)
    patch = pytest.MonkeyPatch()
    for name, value in environment.items():
        patch.setenv(name, value)
    config = load_config()
    if free_slots(config, wait_for=pipeline_slots(config)) < pipeline_slots(config):
        patch.undo()
        pytest.fail(
            f"the Flink cluster has fewer than {pipeline_slots(config)} free slots: stop the "
            "running jobs (python -m flink_jobs stop) and run the test again",
            pytrace=False,
        )
    create_topics(config)
    job_id = submit_offers_job(config)
    try:
        wait_until_running(config, job_id)
        mall = load_mall(config.paths.mall_json)
        start = datetime.fromtimestamp(base_time_ms(mall.timezone, local_hour=19) / 1000, tz=UTC)
        truth_csv = work / "truth.csv"
        simulator = subprocess.run(
            [
                sys.executable, "-m", "simulator", "--speed", "max",
                "--duration", f"{int(SIMULATED.total_seconds())}s",
                "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--seed", str(SEED),
                "--peak-arrivals-per-min", "12", *faults, "--topic", config.kafka.ping_topic,
                "--bootstrap", config.kafka.bootstrap, "--truth", str(truth_csv),
                "--progress-every", "0",
            ],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert simulator.returncode == 0, simulator.stderr[-2000:]
        offers = _wait_until_stable(
            lambda: _read_topic(config, config.kafka.offer_topic), settle_s=20, timeout_s=240
        )
        indexed = _wait_until_stable(
            lambda: _search_all(config, config.elasticsearch.offers_index),
            settle_s=5,
            timeout_s=60,
        )
        dead_letters = _read_topic(config, config.kafka.dead_letter_topic)
        visits = _read_topic(config, config.kafka.visits_topic)
        indexed_visits = _wait_for_ids(
            lambda: _search_all(config, config.elasticsearch.visits_index),
            {visit["visit_id"] for visit in visits},
            timeout_s=60,
        )
        yield {
            "config": config,
            "mall": mall,
            "offers": offers,
            "indexed": indexed,
            "visits": visits,
            "indexed_visits": indexed_visits,
            "indexer": find_running_job(config, indexer_job_name(config)),
            "dead_letters": dead_letters,
            "truth": load_ground_truth(truth_csv),
        }
    finally:
        cancel_job(job_id, config)
        # and the indexer that the submission started
        drop_sandbox(config)
        patch.undo()


@pytest.fixture(scope="module")
def run(stack: Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The seeded quarter hour with the default faults."""
    yield from _simulate_into_pipeline(tmp_path_factory, "e2e", FAULTS)


@pytest.fixture(scope="module")
def clean_run(stack: Config, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[dict[str, Any]]:
    """The same quarter hour without faults: the same customers doing the same things."""
    yield from _simulate_into_pipeline(tmp_path_factory, "e2e-clean", CLEAN)


def _score(run: dict[str, Any]) -> Any:
    config, truth = run["config"], run["truth"]
    return score_offers(
        run["offers"],
        truth.stays,
        threshold_s=config.offers.dwell_threshold_s,
        time_zone=run["mall"].timezone,
        opted_out=load_opt_outs(config.paths.opt_outs_csv),
    )


def test_a_clean_stream_meets_every_clear_stay_in_time(clean_run: dict[str, Any]) -> None:
    score = _score(clean_run)
    print(
        f"\nclean: {score.offers} offers, {score.offer_stays} offer stays, "
        f"{score.no_offer_stays} no_offer stays, {score.either_stays} either stays "
        f"({score.either_offers} offers in them): recall {score.recall:.2f}, precision "
        f"{score.precision:.2f}, timing p50 {score.timing_percentile_s(50)} s p95 "
        f"{score.timing_percentile_s(95)} s; missed "
        f"{sorted(stay.customer_id for stay in score.missed)}, violated "
        f"{sorted(stay.customer_id for stay in score.violated)}, false offers "
        f"{sorted(offer['customer_id'] for offer in score.false_offers)}"
    )
    assert score.offer_stays > 0
    assert (score.recall, score.precision) == (1.0, 1.0)
    assert (score.missed, score.violated, score.false_offers) == ((), (), ())


def test_faults_change_no_offer(run: dict[str, Any], clean_run: dict[str, Any]) -> None:
    def decided(offers: list[dict[str, Any]]) -> set[tuple[int, str]]:
        return {(offer["customer_id"], offer["offer_id"]) for offer in offers}

    counts = run["truth"].summary["counts"]
    print(f"\nwith faults {len(run['offers'])} offers, clean {len(clean_run['offers'])}; "
          f"faults: {counts}")
    assert decided(run["offers"]) == decided(clean_run["offers"])


def test_each_customer_gets_at_most_one_offer_and_no_one_opted_out_or_unknown(
    run: dict[str, Any],
) -> None:
    config = run["config"]
    customers = [offer["customer_id"] for offer in run["offers"]]
    assert len(customers) == len(set(customers))
    assert not set(customers) & set(load_opt_outs(config.paths.opt_outs_csv))
    unknown = {stay.customer_id for stay in run["truth"].stays if not stay.known}
    assert not set(customers) & unknown


def test_kafka_and_elasticsearch_hold_the_same_offers(run: dict[str, Any]) -> None:
    topic = {offer["offer_id"]: offer for offer in run["offers"]}
    index = {document["_id"]: document for document in run["indexed"]}
    assert topic.keys() == index.keys()
    for offer_id, offer in topic.items():
        assert all(index[offer_id][key] == value for key, value in offer.items())


def test_the_indexer_runs_beside_the_offer_job_and_copies_every_visit(
    run: dict[str, Any],
) -> None:
    assert run["indexer"] is not None and run["indexer"].state == "RUNNING"
    topic = {visit["visit_id"]: visit for visit in run["visits"]}
    index = {document.pop("_id"): document for document in run["indexed_visits"]}
    assert len(topic) == len(run["visits"]) > 0
    assert index == topic


def test_every_malformed_record_is_dead_lettered(run: dict[str, Any]) -> None:
    counts = run["truth"].summary["counts"]
    assert len(run["dead_letters"]) == counts["malformed_total"]
    reasons = {letter["reason"] for letter in run["dead_letters"]}
    assert "not a JSON object" in reasons
    assert all(json.dumps(letter["record"]) for letter in run["dead_letters"])


def test_the_archive_keeps_clean_pings_by_day_and_hour(run: dict[str, Any]) -> None:
    archive = Path(run["config"].paths.output_dir) / "ping-archive"
    partitions = sorted(path.relative_to(archive) for path in archive.glob("day=*/hour=*"))
    assert partitions, f"no partition under {archive}"
