"""The model of the replaced per-fix dwell rule (bench/replaced_dwell_rule.py) on hand-built tracks.

The benchmark scores that model against the simulator's truth beside the pipeline, so it must
behave as the rule did: fire once, at the first fix 180 s after the first inside fix, and not
for someone whose fixes are mostly outside the geofence.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH_MODULE = Path(__file__).resolve().parents[2] / "bench" / "replaced_dwell_rule.py"
_spec = importlib.util.spec_from_file_location("replaced_dwell_rule", BENCH_MODULE)
assert _spec is not None and _spec.loader is not None
rule = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("replaced_dwell_rule", rule)
_spec.loader.exec_module(rule)

START_MS = 1_795_008_600_000  # 2026-11-18 19:00 in Asia/Kolkata
EVERY_MS = 5_000


def _track(customer_id: int, distances_m: list[float], accuracy_m: float = 5.0) -> list:
    return [
        rule.WatchedFix(customer_id, START_MS + k * EVERY_MS, distance, accuracy_m)
        for k, distance in enumerate(distances_m)
    ]


def test_a_stop_at_the_counter_fires_once_180_s_after_the_first_inside_fix() -> None:
    # 20 s walking in from 40 m (clearly away: beyond 20 m + 2 x 5 m), then 300 s at 5 m
    fixes = _track(1, [40.0] * 4 + [5.0] * 61)
    first_inside_ms = START_MS + 4 * EVERY_MS
    assert rule.replaced_rule_triggers(fixes) == [(1, first_inside_ms + 180_000)]


def test_a_shopper_next_door_at_the_edge_with_stray_fixes_inside_gets_nothing() -> None:
    # 10 minutes at 25 m (outside the 20 m geofence, not clearly away), one fix in three at
    # 15 m: a stay starts at the first stray fix, but a third of the fixes inside is under half
    distances = [15.0 if k % 3 == 0 else 25.0 for k in range(121)]
    assert rule.replaced_rule_triggers(_track(2, distances)) == []


def test_two_fixes_clearly_away_break_the_stay_and_it_counts_from_zero() -> None:
    # 120 s inside, two fixes at 40 m in a row, 120 s inside: neither part reaches 180 s
    distances = [5.0] * 25 + [40.0, 40.0] + [5.0] * 25
    assert rule.replaced_rule_triggers(_track(3, distances)) == []


def test_the_offer_step_keeps_known_customers_once_a_day() -> None:
    triggers = [(1, START_MS), (1, START_MS + 3_600_000), (2, START_MS), (4, START_MS)]
    offers = rule.capped_offers(triggers, known={1, 2, 3}, opted_out={2},
                                time_zone="Asia/Kolkata")
    assert offers == [{"customer_id": 1, "triggered_at": START_MS}]
