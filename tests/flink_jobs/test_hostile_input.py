"""Drill: 10,000 hostile records mixed into the recorded evening change nothing but the dead
letters.

Every kind of bad record (:mod:`tests.flink_jobs.hostile_records`: not JSON, cut short, a
megabyte long, nested 100,000 deep, fields missing or mistyped, NaN and infinite numbers, times
decades away, control characters, invalid UTF-8, UTF-16, empty records, ``null`` and
tombstones) is spread through the drills' recorded evening, with the pings of five strangers
(visitors who are not customers) lingering at the shop. The job must never restart, every bad
record must reach the dead-letter topic with its reason, the strangers must be seen (a visit
each) and offered nothing, and the customers' offers must be exactly those of the undisturbed
run of the same recording (the drills' shared baseline, ``undisturbed_run``).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from pizzario.config import Config
from tests.flink_jobs.conftest import Baseline
from tests.flink_jobs.harness import (
    Outcome,
    Recording,
    collect_outcome,
    job_details,
    job_restarts,
    replay,
    sandboxed,
    start_pipeline,
)
from tests.flink_jobs.hostile_records import (
    DEAD_LETTER_MAX_CHARS,
    HOSTILE_TOTAL,
    KIND_COUNTS,
    STRANGER_BASE,
    STRANGERS,
    UNKNOWN,
    Hostile,
    as_dead_letter,
    hostile_records,
    mix,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.drill]


@dataclass(frozen=True)
class HostileRun:
    """What the run with the hostile records left behind, and how the job fared meanwhile."""

    outcome: Outcome
    hostile: list[Hostile]
    records_sent: int
    job_states: Counter[str]  # the job's state, sampled about every thousand records sent
    restarts_seen: set[int]  # numRestarts, sampled likewise and once at the end
    final_state: str
    last_restarting_ms: int  # when the job last entered RESTARTING; 0: never
    failures: list[str]


@pytest.fixture(scope="module")
def hostile_run(
    stack: Config, drill_recording: Recording, tmp_path_factory: pytest.TempPathFactory
) -> HostileRun:
    hostile = hostile_records()
    mixed = mix(drill_recording, hostile)
    states: Counter[str] = Counter()
    restarts: set[int] = set()
    with sandboxed("drill-hostile", tmp_path_factory.mktemp("drill-hostile")) as config:
        job_id = start_pipeline(config)

        def watch(_sent: int) -> None:  # about every thousand records
            states[job_details(config, job_id)["state"]] += 1
            restarts.add(job_restarts(config, job_id))

        sent = replay(config, mixed, during=watch)
        outcome = collect_outcome(config)
        # numRestarts is fetched from the tasks every 10 s (metrics.fetcher.update-interval);
        # the failures the JobManager keeps (exception history) are current.
        time.sleep(12)
        restarts.add(job_restarts(config, job_id))
        final = job_details(config, job_id)
        failures = _failures(config, job_id)
    return HostileRun(outcome, hostile, sent, states, restarts, final["state"],
                      int(final["timestamps"].get("RESTARTING", 0)), failures)  # fmt: skip


def _failures(config: Config, job_id: str) -> list[str]:
    """The first line of each failure of the job that the JobManager remembers."""
    response = requests.get(f"{config.flink.rest_url.rstrip('/')}/jobs/{job_id}/exceptions",
                            timeout=10)  # fmt: skip
    response.raise_for_status()
    entries = response.json().get("exceptionHistory", {}).get("entries", [])
    return [entry["stacktrace"].partition("\n")[0] for entry in entries]


def test_the_job_never_restarted(hostile_run: HostileRun) -> None:
    print(f"\njob states while the records went in: {dict(hostile_run.job_states)}; "
          f"numRestarts seen: {sorted(hostile_run.restarts_seen)}")  # fmt: skip
    assert hostile_run.failures == []
    assert set(hostile_run.job_states) == {"RUNNING"}
    assert hostile_run.restarts_seen == {0}
    assert (hostile_run.final_state, hostile_run.last_restarting_ms) == ("RUNNING", 0)


def test_every_bad_record_is_dead_lettered_with_its_reason(
    undisturbed_run: Baseline, hostile_run: HostileRun
) -> None:
    outcome, hostile = hostile_run.outcome, hostile_run.hostile
    assert sum(KIND_COUNTS.values()) == HOSTILE_TOTAL
    assert Counter(bad.kind for bad in hostile) == {
        kind: count for kind, count in KIND_COUNTS.items() if kind != UNKNOWN
    }
    expected = Counter((as_dead_letter(bad.value), bad.reason) for bad in hostile)
    expected.update((letter["record"], letter["reason"])
                    for letter in undisturbed_run.outcome.dead_letters)  # fmt: skip
    seen = Counter((letter["record"], letter["reason"]) for letter in outcome.dead_letters)

    by_kind = _dead_letters_by_kind(hostile, seen)
    print("\nkind: records sent / dead-lettered with the expected reason")
    for kind, count in KIND_COUNTS.items():
        print(f"  {kind}: {count} / {by_kind.get(kind, 0)}")
    print("dead letters by reason:", dict(Counter(reason for _, reason in seen.elements())))
    repeats = seen - expected
    print(f"dead letters written twice: {sum(repeats.values())} (at least once, like every "
          f"dead letter)")
    cut = [letter for letter in outcome.dead_letters
           if (letter["record_chars"] or 0) > len(letter["record"] or "")]  # fmt: skip
    long_records = Counter(
        len(bad.value.decode("utf-8", errors="replace"))
        for bad in hostile
        if bad.value is not None and len(bad.value) > DEAD_LETTER_MAX_CHARS
    )
    cut_chars = Counter(letter["record_chars"] for letter in cut)
    # every long record cut short and counted in full, and nothing else cut
    assert set(cut_chars) == set(long_records) and long_records - cut_chars == Counter()
    assert {len(letter["record"]) for letter in cut} == {DEAD_LETTER_MAX_CHARS}
    # The dead-letter sink delivers at least once: a record may be repeated, never unexpected
    # and never missing.
    assert set(seen) == set(expected), "dead letters nobody expected"
    assert expected - seen == Counter(), "bad records missing from the dead-letter topic"
    assert by_kind == {kind: KIND_COUNTS[kind] for kind in by_kind}


def _dead_letters_by_kind(hostile: list[Hostile], seen: Counter[tuple[Any, Any]]) -> dict:
    """Dead letters matched to the kind of the record they hold (each record is one kind's)."""
    left = Counter(seen)
    found: Counter[str] = Counter()
    for bad in hostile:
        key = (as_dead_letter(bad.value), bad.reason)
        if left[key] > 0:
            left[key] -= 1
            found[bad.kind] += 1
    return dict(found)


def test_the_strangers_are_seen_and_offered_nothing(hostile_run: HostileRun) -> None:
    outcome = hostile_run.outcome
    strangers = set(range(STRANGER_BASE, STRANGER_BASE + STRANGERS))
    visitors = {int(visit["customer_id"]) for visit in outcome.visits}
    print(f"\nstrangers' visits: {sorted(visitors & strangers)}")
    assert visitors & strangers == strangers
    assert not [letter for letter in outcome.dead_letters
                if '"event_id": "stranger-' in (letter["record"] or "")]  # fmt: skip
    assert not {customer for customer in outcome.customers() if customer >= STRANGER_BASE}


def test_the_customers_offers_are_exactly_the_undisturbed_runs(
    undisturbed_run: Baseline, hostile_run: HostileRun
) -> None:
    outcome, calm = hostile_run.outcome, undisturbed_run.outcome
    print(f"\noffers: undisturbed {len(calm.offers)}, with {HOSTILE_TOTAL:,} hostile records "
          f"{len(outcome.offers)}; records sent {hostile_run.records_sent:,} "
          f"(undisturbed {undisturbed_run.acknowledged:,})")  # fmt: skip
    assert calm.offers
    assert outcome.duplicate_offer_ids() == {}
    assert outcome.offers_view() == calm.offers_view()
