"""Drill: the TaskManager is killed (SIGKILL) twice mid-stream; nothing is lost or sent twice.

The same recorded evening (a fixed seed, with duplicates, disorder, malformed records and
unknown visitors) is replayed into two sandboxed pipelines: one undisturbed, one whose
TaskManager is killed after two completed checkpoints and killed again after it recovered.
The stack's supervisor starts the TaskManager again (``stack.supervise``), the job restarts
from its last checkpoint, and the offers (Kafka, read_committed, and Elasticsearch), the visits
and the footfall must come out exactly as in the undisturbed run.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field

import pytest

from flink_jobs.inputs import load_opt_outs
from pizzario.config import Config
from stack.flink import FlinkService
from stack.layout import Layout, find_java17
from tests.flink_jobs.conftest import Baseline
from tests.flink_jobs.harness import (
    Outcome,
    Recording,
    checkpoints_completed,
    collect_outcome,
    job_details,
    job_restarts,
    replay,
    sandboxed,
    start_pipeline,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.drill]

# Slow enough that the stream outlasts two kills and two recoveries (about 100 s).
REPLAY_RATE_PER_S = 2_000
KILLS = 2
CHECKPOINTS_BEFORE_KILL = 2


@dataclass
class KillLog:
    """When each kill happened and how long the job took to be whole again."""

    killed_pids: list[int] = field(default_factory=list)
    recovery_s: list[float] = field(default_factory=list)
    restarts_seen: int = 0
    error: BaseException | None = None


@pytest.fixture(scope="module")
def disturbed(
    stack: Config, drill_recording: Recording, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Outcome, int, KillLog]:
    service = FlinkService(stack, Layout.from_config(stack), find_java17(stack.stack.java_home))
    if service.taskmanager_pid() is None:
        pytest.fail("the drill needs the TaskManager that this checkout's stack supervises; "
                    "it found none (is the cluster another checkout's?)", pytrace=False)
    with sandboxed("drill-tm-killed", tmp_path_factory.mktemp("killed")) as config:
        job_id = start_pipeline(config)
        kills = KillLog()
        killer = threading.Thread(
            target=_kill_twice, args=(config, job_id, service, kills), daemon=True
        )
        killer.start()
        acknowledged = replay(config, drill_recording, rate_per_s=REPLAY_RATE_PER_S)
        killer.join(timeout=300)
        if kills.error is not None:
            raise kills.error
        assert not killer.is_alive(), "the kills had not finished when the stream ended"
        return collect_outcome(config), acknowledged, kills


def _kill_twice(config: Config, job_id: str, service: FlinkService, kills: KillLog) -> None:
    try:
        for _ in range(KILLS):
            floor = checkpoints_completed(config, job_id) + CHECKPOINTS_BEFORE_KILL
            wait_for(lambda f=floor: checkpoints_completed(config, job_id) >= f,
                     timeout_s=120, what=f"{CHECKPOINTS_BEFORE_KILL} checkpoints before the kill")
            pid = service.taskmanager_pid()
            assert pid is not None, "no TaskManager to kill"
            done = checkpoints_completed(config, job_id)
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            kills.killed_pids.append(pid)
            # Whole again: a new TaskManager runs the job and a checkpoint completed since.
            wait_for(lambda d=done, p=pid: _recovered(config, job_id, service, p, d),
                     timeout_s=180, what="recovery after the TaskManager was killed")
            kills.recovery_s.append(time.monotonic() - killed_at)
        kills.restarts_seen = job_restarts(config, job_id)
    except BaseException as error:  # reported by the fixture, not lost in the thread
        kills.error = error


def _recovered(
    config: Config, job_id: str, service: FlinkService, killed_pid: int, checkpoints_before: int
) -> bool:
    pid = service.taskmanager_pid()
    if pid is None or pid == killed_pid:
        return False
    job = job_details(config, job_id)
    vertices = {vertex["status"] for vertex in job.get("vertices", [])}
    return (
        job["state"] == "RUNNING"
        and vertices == {"RUNNING"}
        and checkpoints_completed(config, job_id) > checkpoints_before
    )


def test_the_stream_is_about_two_hundred_thousand_records(drill_recording: Recording) -> None:
    # A precondition of the drill, not a figure under test: the simulator decides the count.
    assert 190_000 <= len(drill_recording) <= 230_000
    assert drill_recording.summary["counts"]["malformed_total"] > 0


def test_every_record_reached_kafka_in_both_runs(
    drill_recording: Recording, undisturbed_run: Baseline, disturbed: tuple[Outcome, int, KillLog]
) -> None:
    assert undisturbed_run.acknowledged == drill_recording.record_count
    assert disturbed[1] == drill_recording.record_count


def test_the_taskmanager_was_killed_twice_and_came_back_each_time(
    disturbed: tuple[Outcome, int, KillLog],
) -> None:
    kills = disturbed[2]
    recoveries = ", ".join(f"{seconds:.1f} s" for seconds in kills.recovery_s)
    print(f"\nkilled TaskManager pids {kills.killed_pids}; recovered after {recoveries}; "
          f"job restarts {kills.restarts_seen}")
    assert len(kills.killed_pids) == KILLS
    assert len(set(kills.killed_pids)) == KILLS
    assert len(kills.recovery_s) == KILLS
    assert kills.restarts_seen >= KILLS


def test_the_offers_are_the_undisturbed_runs_with_none_twice(
    undisturbed_run: Baseline, disturbed: tuple[Outcome, int, KillLog]
) -> None:
    calm, killed = undisturbed_run.outcome, disturbed[0]
    print(f"\noffers: undisturbed {len(calm.offers)}, killed twice {len(killed.offers)}")
    assert calm.offers, "the undisturbed run sent no offer: the drill would prove nothing"
    assert killed.duplicate_offer_ids() == {}
    assert calm.duplicate_offer_ids() == {}
    assert killed.offers_view() == calm.offers_view()
    assert not killed.customers() & set(load_opt_outs(Config().paths.opt_outs_csv))


def test_elasticsearch_holds_the_same_offers_visits_and_footfall(
    undisturbed_run: Baseline, disturbed: tuple[Outcome, int, KillLog]
) -> None:
    calm, killed = undisturbed_run.outcome, disturbed[0]
    print(f"\nindexed: offers {len(killed.indexed_offers)}, visits {len(killed.visits)}, "
          f"footfall {len(killed.footfall)}")
    assert killed.indexed_view() == calm.indexed_view() == calm.offers_view()
    assert killed.documents("visits") == calm.documents("visits")
    assert killed.documents("footfall") == calm.documents("footfall")
    assert calm.visits and calm.footfall


def test_no_malformed_record_is_lost(
    drill_recording: Recording, undisturbed_run: Baseline, disturbed: tuple[Outcome, int, KillLog]
) -> None:
    # Dead letters are written at least once: a replay after a crash may repeat some, never
    # drop one.
    expected = drill_recording.summary["counts"]["malformed_total"]
    assert len(undisturbed_run.outcome.dead_letters) == expected
    calm = {
        (letter["reason"], str(letter["record"])) for letter in undisturbed_run.outcome.dead_letters
    }
    killed = {(letter["reason"], str(letter["record"])) for letter in disturbed[0].dead_letters}
    print(f"\ndead letters: {expected} malformed, {len(disturbed[0].dead_letters)} written in "
          "the killed run")
    assert killed == calm
