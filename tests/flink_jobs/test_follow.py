from __future__ import annotations

from flink_jobs.follow import format_offer
from tests.pizzario.machine_zones import under_machine_zones

# 2026-11-22 17:35:30 UTC: 23:05:30 in the mall (Asia/Kolkata, UTC+05:30).
TRIGGERED_AT = 1_795_368_930_000


def _offer() -> dict[str, object]:
    return {
        "offer_id": "abc",
        "customer_id": 49,
        "segment_label": "average-income average-spending",
        "offer_code": "NEWPIZZA-LAUNCH",
        "discount_pct": 10.0,
        "dwell_seconds": 183.4,
        "triggered_at": TRIGGERED_AT,
        "emitted_at": TRIGGERED_AT + 11_600,
        "message": "Our new pizza is here: 10% off your first one.",
    }


def test_an_offer_line_shows_who_what_and_both_clocks_in_mall_time() -> None:
    line = format_offer(_offer(), "Asia/Kolkata")
    assert line.startswith("23:05:30  customer    49  average-income average-spending")
    assert "NEWPIZZA-LAUNCH      10%  dwell   183 s" in line
    assert "sent 23:05:41" in line  # 11.6 s later, shown to the second
    assert line.endswith("10% off your first one.")


def test_the_line_does_not_depend_on_the_machine_time_zone() -> None:
    lines = under_machine_zones(lambda: format_offer(_offer(), "Asia/Kolkata"))
    assert len(lines) == 1
    # the mall's zone is what moves the times: the same offer in another mall's zone
    assert format_offer(_offer(), "Europe/Paris").startswith("18:35:30  customer")
