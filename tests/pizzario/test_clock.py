from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as time_of_day

import pytest

from pizzario.clock import Clock, configured_clock, fixed_clock, format_local, local_datetime
from pizzario.config import ClockSettings, load_config
from tests.pizzario.machine_zones import under_machine_zones

# 2026-03-14 06:45:30.250 UTC, a Saturday: 12:15:30.250 in Kolkata (UTC+05:30, no DST).
INSTANT_MS = 1_773_470_730_250
MALL_ZONE = "Asia/Kolkata"


def test_a_fixed_clock_reads_its_instant_every_time() -> None:
    clock = fixed_clock(INSTANT_MS)
    assert clock.now_ms() == clock.now_ms() == INSTANT_MS
    assert clock.now() == datetime(2026, 3, 14, 6, 45, 30, 250_000, tzinfo=UTC)


def test_the_offset_shifts_the_wall_clock_and_stamps_taken_outside() -> None:
    wall_s = [1_700_000_000.0]
    clock = Clock(offset_s=-3_600, wall=lambda: wall_s[0])
    assert clock.now_ms() == 1_700_000_000_000 - 3_600_000
    wall_s[0] += 2.5
    assert clock.now_ms() == 1_700_000_002_500 - 3_600_000  # it runs with the wall clock
    assert clock.from_wall_ms(1_700_000_000_000) == 1_699_996_400_000


def test_the_configured_clock_takes_the_offset_from_the_environment() -> None:
    config = load_config({"PIZZARIO_CLOCK_OFFSET_S": "-7200"})
    assert config.clock == ClockSettings(offset_s=-7200)
    assert load_config({}).clock.offset_s == 0
    assert configured_clock(config.clock).offset_s == -7200
    with pytest.raises(ValueError, match="PIZZARIO_CLOCK_OFFSET_S='an hour'"):
        load_config({"PIZZARIO_CLOCK_OFFSET_S": "an hour"})


def test_a_clock_set_to_a_time_of_day_keeps_the_date_and_runs_on() -> None:
    wall_s = [INSTANT_MS / 1000]
    base = Clock(offset_s=0, wall=lambda: wall_s[0])
    evening = base.at_local_time(MALL_ZONE, time_of_day(19, 30))
    # 19:30 in Kolkata on the same day is 14:00 UTC, 7 h 14 min 29.75 s after the wall clock:
    # the offset is whole seconds, so the reading is 19:30:00.250
    assert evening.offset_s == 7 * 3600 + 14 * 60 + 30
    assert format_local(evening.now_ms(), MALL_ZONE, "%Y-%m-%d %H:%M:%S") == "2026-03-14 19:30:00"
    wall_s[0] += 60
    assert format_local(evening.now_ms(), MALL_ZONE) == "19:31:00"
    assert evening.settings == ClockSettings(offset_s=evening.offset_s)


def test_the_day_is_the_one_the_clock_says_it_is_in_the_mall() -> None:
    # 20:00 UTC on the 14th is already 01:30 on the 15th in Kolkata: morning is on the 15th.
    late = fixed_clock(1_773_518_400_000)
    morning = late.at_local_time(MALL_ZONE, time_of_day(7, 10))
    assert format_local(morning.now_ms(), MALL_ZONE, "%Y-%m-%d %H:%M") == "2026-03-15 07:10"
    # a clock already a day ahead is set on its own date, the 16th
    ahead = Clock(offset_s=86_400, wall=late.wall).at_local_time(MALL_ZONE, time_of_day(7, 10))
    assert ahead.offset_s == morning.offset_s + 86_400
    assert format_local(ahead.now_ms(), MALL_ZONE, "%Y-%m-%d %H:%M") == "2026-03-16 07:10"


def test_display_is_in_the_given_zone_whatever_the_machine_zone() -> None:
    def render() -> tuple[str, float]:
        offset = local_datetime(INSTANT_MS, MALL_ZONE).utcoffset()
        return format_local(INSTANT_MS, MALL_ZONE), offset.total_seconds() if offset else 0.0

    assert under_machine_zones(render) == {("12:15:30", 19_800.0)}
