"""Scoring stay by stay on hand-built truths and offers, with figures a person can check."""

from __future__ import annotations

import pytest

from simulator.scoring import score_offers
from simulator.truth import TruthStay

# 2026-11-22 18:30 in Bengaluru (13:00 UTC).
EVENING_MS = 1_795_352_400_000
DAY_MS = 86_400_000


def _stay(customer: int, enter_s: float, exit_s: float, expect: str, *, known: bool = True,
          dwell_s: float = 0.0, base_ms: int = EVENING_MS) -> TruthStay:
    return TruthStay(customer, known, base_ms + round(enter_s * 1000),
                     base_ms + round(exit_s * 1000), dwell_s, "counter_stop", expect)


def _offer(customer: int, at_s: float, base_ms: int = EVENING_MS) -> dict[str, int]:
    return {"customer_id": customer, "triggered_at": base_ms + round(at_s * 1000)}


STAYS = [
    _stay(1, 0, 400, "offer", dwell_s=400),        # met 10 s after the threshold
    _stay(2, 0, 300, "offer", dwell_s=300),        # offered 35 s too early
    _stay(3, 0, 260, "offer", dwell_s=260),        # offered 70 s late
    _stay(4, 0, 400, "offer", dwell_s=400),        # offered twice in the window
    _stay(5, 0, 100, "no_offer"),                  # offered anyway
    _stay(6, 0, 250, "either", dwell_s=200),       # offered: not scored
    _stay(6, 3600, 4000, "offer", dwell_s=400),    # after that day's offer: expects none
    _stay(7, 0, 400, "offer", known=False, dwell_s=400),  # unknown visitor, offered
    _stay(8, 0, 400, "offer", dwell_s=400),        # opted out, not offered
    _stay(9, 0, 400, "offer", dwell_s=400),        # never offered
    _stay(1, 0, 400, "offer", dwell_s=400, base_ms=EVENING_MS + DAY_MS),  # next day: met
]
OFFERS = [_offer(1, 190), _offer(2, 145), _offer(3, 250), _offer(4, 185), _offer(4, 200),
          _offer(5, 50), _offer(6, 200), _offer(7, 190),
          _offer(1, 200, base_ms=EVENING_MS + DAY_MS)]


def test_each_rule_counts_exactly() -> None:
    score = score_offers(OFFERS, STAYS, threshold_s=180, time_zone="Asia/Kolkata",
                         opted_out=[8])
    assert score.offers == 9
    assert score.offer_stays == 6  # customers 1 (twice), 2, 3, 4 and 9
    assert [stay.customer_id for stay in score.met] == [1, 1]
    assert score.timing_errors_s == (10.0, 20.0)
    assert sorted(stay.customer_id for stay in score.missed) == [2, 3, 4, 9]
    assert score.recall == pytest.approx(2 / 6)
    assert sorted((o["customer_id"], o["triggered_at"] - EVENING_MS) for o in score.false_offers
                  ) == [(2, 145_000), (3, 250_000), (4, 185_000), (4, 200_000), (5, 50_000),
                        (7, 190_000)]
    assert score.precision == pytest.approx(2 / 8)
    assert (score.either_stays, score.either_offers) == (1, 1)
    assert score.capped_stays == 1
    assert score.no_offer_stays == 4  # customer 5's, 6's capped one, 7's and 8's
    assert sorted(stay.customer_id for stay in score.violated) == [5, 7]
    assert score.expected_customers == {1, 2, 3, 4, 9}
    assert score.customer_precision == pytest.approx(5 / 7)
    assert score.timing_percentile_s(50) == 15.0


def test_a_clean_run_scores_one() -> None:
    stays = [_stay(1, 0, 400, "offer", dwell_s=400), _stay(2, 0, 90, "no_offer"),
             _stay(3, 0, 200, "either", dwell_s=150)]
    score = score_offers([_offer(1, 175)], stays, threshold_s=180, time_zone="Asia/Kolkata")
    assert (score.recall, score.precision, score.timing_errors_s) == (1.0, 1.0, (-5.0,))
    assert score.violated == () and score.false_offers == () and score.either_stays == 1


def test_an_offer_just_after_an_either_stay_is_not_scored() -> None:
    stays = [_stay(1, 0, 200, "either", dwell_s=150), _stay(2, 0, 200, "either", dwell_s=150)]
    score = score_offers([_offer(1, 250), _offer(2, 270)], stays, threshold_s=180)
    assert score.either_offers == 1 and len(score.false_offers) == 1


def test_the_offer_must_come_while_the_customer_is_still_there() -> None:
    # The stay ends 20 s after the threshold: an offer 30 s after it is too late.
    stays = [_stay(1, 0, 200, "offer", dwell_s=200)]
    score = score_offers([_offer(1, 210)], stays, threshold_s=180, time_zone="UTC")
    assert score.recall == 0.0 and len(score.false_offers) == 1


def test_the_cap_counts_days_in_the_mall_time_zone() -> None:
    # An offer at 23:50 in Bengaluru, then a long stay from 00:05 the next local day: the
    # same UTC day (18:20 and 18:35 UTC), another day for the mall.
    late_evening = EVENING_MS + round(5.3333 * 3600 * 1000)
    offers = [_offer(1, 0, base_ms=late_evening), _offer(1, 15 * 60 + 185, base_ms=late_evening)]
    stays = [_stay(1, -200, 100, "either", dwell_s=200, base_ms=late_evening),
             _stay(1, 15 * 60, 15 * 60 + 400, "offer", dwell_s=400, base_ms=late_evening)]
    local = score_offers(offers, stays, threshold_s=180, time_zone="Asia/Kolkata")
    assert (len(local.met), local.capped_stays, local.either_offers) == (1, 0, 1)
    utc = score_offers(offers, stays, threshold_s=180, time_zone="UTC")
    assert (len(utc.met), utc.capped_stays, len(utc.violated)) == (0, 1, 1)


def test_stays_past_the_horizon_are_not_scored() -> None:
    stays = [_stay(1, 0, 400, "offer", dwell_s=400), _stay(2, 100, 500, "offer", dwell_s=400)]
    score = score_offers([_offer(1, 180)], stays, threshold_s=180, time_zone="UTC",
                         horizon_ms=EVENING_MS + 200_000)
    assert (score.offer_stays, score.beyond_horizon, score.recall) == (1, 1, 1.0)
