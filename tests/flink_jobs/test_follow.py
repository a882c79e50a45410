from __future__ import annotations

import time

from flink_jobs.follow import format_offer


def test_an_offer_line_shows_who_what_and_both_clocks() -> None:
    triggered_at = 1_795_368_930_000
    offer = {
        "offer_id": "abc",
        "customer_id": 49,
        "segment_label": "average-income average-spending",
        "offer_code": "NEWPIZZA-LAUNCH",
        "discount_pct": 10.0,
        "dwell_seconds": 183.4,
        "triggered_at": triggered_at,
        "emitted_at": triggered_at + 11_600,
        "message": "Our new pizza is here: 10% off your first one.",
    }
    line = format_offer(offer)
    trigger_clock = time.strftime("%H:%M:%S", time.localtime(triggered_at / 1000))
    sent_clock = time.strftime("%H:%M:%S", time.localtime((triggered_at + 11_600) / 1000))
    assert line.startswith(f"{trigger_clock}  customer    49  average-income average-spending")
    assert "NEWPIZZA-LAUNCH      10%  dwell   183 s" in line
    assert f"sent {sent_clock}" in line
    assert line.endswith("10% off your first one.")
