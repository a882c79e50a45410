from __future__ import annotations

from flink_jobs.cli import format_job_line
from flink_jobs.cluster import JobInfo
from pizzario.clock import Clock
from tests.pizzario.machine_zones import under_machine_zones

# Flink's start stamp, on the wall clock: 2026-11-22 17:35:30 UTC.
STARTED_WALL_MS = 1_795_368_930_000
JOB = JobInfo(job_id="a1b2", name="pizzario-offers", state="RUNNING",
              start_time_ms=STARTED_WALL_MS, duration_ms=93_400)


def test_a_job_line_shows_the_start_on_the_product_clock_in_mall_time() -> None:
    # 23:05:30 in the mall (Asia/Kolkata, UTC+05:30) on the wall clock; the product's clock
    # runs 2 h 30 min behind it
    line = format_job_line(JOB, Clock(offset_s=-9_000), "Asia/Kolkata")
    assert line == "a1b2  RUNNING    2026-11-22 20:35:30 IST        93 s  pizzario-offers"


def test_a_job_line_does_not_depend_on_the_machine_time_zone() -> None:
    assert under_machine_zones(lambda: format_job_line(JOB, Clock(), "Asia/Kolkata")) == {
        "a1b2  RUNNING    2026-11-22 23:05:30 IST        93 s  pizzario-offers"}
