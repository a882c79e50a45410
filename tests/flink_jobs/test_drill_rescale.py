"""Drill: the pipeline is stopped with a savepoint and resumed at another parallelism.

The recorded evening is replayed in three parts into one sandboxed pipeline: the first third
at parallelism 2, the second after a stop with savepoint and a resume at parallelism 1, the
last after another stop and a resume at parallelism 4 (the TaskManager has the slots). The
keyed state (the dedupe and dwell window per customer, the cap per offer id) is split and
merged by key groups on each resume; the offers must come out exactly as in the undisturbed
run, none twice, and a customer served before a rescale gets nothing more that day.
"""

from __future__ import annotations

import os

import pytest

from flink_jobs.cluster import find_running_job, stop_with_savepoint
from flink_jobs.inputs import load_opt_outs
from pizzario.config import Config, load_config
from tests.flink_jobs.conftest import Baseline
from tests.flink_jobs.harness import (
    Outcome,
    Recording,
    checkpoints_completed,
    collect_outcome,
    job_details,
    replay,
    sandboxed,
    start_pipeline,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.drill]

PARALLELISMS = (2, 1, 4)


@pytest.fixture(scope="module")
def rescaled(
    stack: Config, drill_recording: Recording, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Outcome, list[tuple[int, int]]]:
    parts = _split(drill_recording, len(PARALLELISMS))
    seen: list[tuple[int, int]] = []  # (parallelism, tasks reported by the REST API)
    # The override is named to the sandbox so that leaving it restores the variable.
    work = tmp_path_factory.mktemp("rescale")
    with sandboxed("drill-rescale", work, PIZZARIO_FLINK_PARALLELISM="2") as config:
        savepoint = None
        for parallelism, part in zip(PARALLELISMS, parts, strict=True):
            os.environ["PIZZARIO_FLINK_PARALLELISM"] = str(parallelism)
            config = load_config()
            job_id = start_pipeline(config, from_savepoint=savepoint)
            seen.append((parallelism, _max_vertex_parallelism(config, job_id)))
            replay(config, part)
            # Stop only once a checkpoint covers the part: the savepoint then follows it.
            done = checkpoints_completed(config, job_id)
            wait_for(lambda c=config, d=done, j=job_id: checkpoints_completed(c, j) > d + 1,
                     timeout_s=60, what="checkpoints after the part was sent")
            if parallelism != PARALLELISMS[-1]:
                job = find_running_job(config)
                assert job is not None and job.job_id == job_id
                savepoint = stop_with_savepoint(config, job)
        outcome = collect_outcome(config)
    return outcome, seen


def _split(recording: Recording, parts: int) -> list[Recording]:
    size = -(-len(recording) // parts)
    return [
        Recording(recording.keys[i : i + size], recording.values[i : i + size])
        for i in range(0, len(recording), size)
    ]


def _max_vertex_parallelism(config: Config, job_id: str) -> int:
    return max(int(vertex["parallelism"]) for vertex in job_details(config, job_id)["vertices"])


def test_each_part_ran_at_its_parallelism(rescaled: tuple[Outcome, list[tuple[int, int]]]) -> None:
    assert rescaled[1] == [(p, p) for p in PARALLELISMS]


def test_the_rescaled_runs_offers_are_the_undisturbed_runs(
    undisturbed_run: Baseline, rescaled: tuple[Outcome, list[tuple[int, int]]]
) -> None:
    calm, outcome = undisturbed_run.outcome, rescaled[0]
    print(f"\noffers: undisturbed {len(calm.offers)}, rescaled 2 -> 1 -> 4 {len(outcome.offers)}")
    assert calm.offers
    assert outcome.duplicate_offer_ids() == {}
    assert outcome.offers_view() == calm.offers_view()
    assert not outcome.customers() & set(load_opt_outs(Config().paths.opt_outs_csv))
    assert outcome.indexed_view() == calm.indexed_view()


def test_visits_and_footfall_survive_the_rescales(
    undisturbed_run: Baseline, rescaled: tuple[Outcome, list[tuple[int, int]]]
) -> None:
    calm, outcome = undisturbed_run.outcome, rescaled[0]
    assert outcome.documents("visits") == calm.documents("visits")
    assert outcome.documents("footfall") == calm.documents("footfall")
