"""Score a pipeline's offers against the simulator's ground truth, stay by stay (pure functions).

An ``offer`` stay is **met** when its customer got exactly one offer fired from ``early_s``
before to ``late_s`` after the moment the true dwell reached the threshold, and before the
stay ended. A ``no_offer`` stay is **violated** by any offer inside it. ``either`` stays are
counted, not scored: an offer inside one, or up to ``late_s`` after it ended, is neither right
nor wrong.

The cap is applied here, not in the truth: an ``offer`` stay that begins after its
customer's first offer of that day (days in the mall's time zone) expects none, and so does
every stay of an unknown or opted-out customer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from simulator.truth import TruthStay

__all__ = ["EARLY_S", "LATE_S", "StayScore", "score_offers"]

# The timing window around the moment the true dwell reached the threshold.
EARLY_S = 30.0
LATE_S = 60.0


@dataclass(frozen=True)
class StayScore:
    """What :func:`score_offers` found; every figure can be traced to stays and offers.

    Attributes
    ----------
    offer_stays : int
        ``offer`` stays that expect an offer (known, not opted out, not capped, within the
        horizon).
    met : tuple of TruthStay
        Those that got exactly one offer in time; ``timing_errors_s`` holds, in the same order,
        each one's ``triggered_at`` minus the moment the dwell reached the threshold.
    missed : tuple of TruthStay
        Expected offer stays that were not met (no offer in the window, or more than one).
    offers : int
        Offers scored, all of them.
    false_offers : tuple of dict
        Offers that met no stay and fell in no ``either`` stay of an eligible customer.
    either_stays, either_offers : int
        ``either`` stays of eligible customers, and offers that fell inside one or up to
        ``late_s`` after it (not scored).
    no_offer_stays : int
        Stays that expect none: ``no_offer``, capped ``offer`` stays, and every stay of
        unknown and opted-out customers.
    violated : tuple of TruthStay
        Of those, the stays with an offer inside.
    capped_stays, beyond_horizon : int
        ``offer`` stays that expect none because of the day's first offer, and those whose
        threshold moment lies after the horizon (not scored).
    expected_customers, qualified_customers, offered_customers : frozenset of int
        Customers with an expected offer stay; eligible customers with an ``offer`` or
        ``either`` stay; customers who got an offer.
    """

    offer_stays: int
    met: tuple[TruthStay, ...]
    timing_errors_s: tuple[float, ...]
    missed: tuple[TruthStay, ...]
    offers: int
    false_offers: tuple[Mapping[str, Any], ...]
    either_stays: int
    either_offers: int
    no_offer_stays: int
    violated: tuple[TruthStay, ...]
    capped_stays: int
    beyond_horizon: int
    expected_customers: frozenset[int]
    qualified_customers: frozenset[int]
    offered_customers: frozenset[int]

    @property
    def recall(self) -> float:
        """Met offer stays over expected offer stays (1.0 when none were expected)."""
        return len(self.met) / self.offer_stays if self.offer_stays else 1.0

    @property
    def precision(self) -> float:
        """Offers that met a stay over all scored offers (those in ``either`` stays left out)."""
        scored = len(self.met) + len(self.false_offers)
        return len(self.met) / scored if scored else 1.0

    @property
    def customer_precision(self) -> float:
        """Share of offered customers who truly dwelt (an ``offer`` or ``either`` stay)."""
        if not self.offered_customers:
            return 1.0
        return len(self.offered_customers & self.qualified_customers) / len(
            self.offered_customers)

    def timing_percentile_s(self, q: float) -> float | None:
        """The ``q``-th percentile of the timing errors (None without met stays)."""
        return float(np.percentile(self.timing_errors_s, q)) if self.timing_errors_s else None


def score_offers(
    offers: Sequence[Mapping[str, Any]],
    stays: Iterable[TruthStay],
    *,
    threshold_s: float,
    time_zone: str = "UTC",
    opted_out: Iterable[int] = (),
    horizon_ms: int | None = None,
    early_s: float = EARLY_S,
    late_s: float = LATE_S,
) -> StayScore:
    """Score offers stay by stay (see the module's rules).

    Parameters
    ----------
    offers : sequence of mapping
        Offers as the pipeline wrote them; ``customer_id`` and ``triggered_at`` (epoch ms) are
        read.
    stays : iterable of TruthStay
        The simulator's truth (:func:`simulator.truth.load_ground_truth`).
    threshold_s : float
        The dwell threshold the truth was judged with (``OfferSettings.dwell_threshold_s``).
    time_zone : str
        The mall's IANA zone: the cap's days are its days.
    opted_out : iterable of int
        Customers who must get no offer.
    horizon_ms : int, optional
        ``offer`` stays whose dwell reaches the threshold after this event time are not
        scored (the input ended before the pipeline could see them).
    early_s, late_s : float
        The timing window around the moment the dwell reached the threshold.

    Returns
    -------
    StayScore

    Notes
    -----
    An offer up to ``late_s`` after an ``either`` stay ended is that stay's: a smoothed
    position leaves the geofence up to a window after the true path left the outer radius.
    The cap follows the offers actually made: a customer offered during an ``either`` stay
    rightly gets nothing at a later ``offer`` stay that day. A stay is capped when it begins
    after the day's first offer, so an offer fired too early inside the stay itself does not
    excuse the stay.
    """
    zone = ZoneInfo(time_zone)
    excluded = set(opted_out)
    by_customer: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for offer in offers:
        by_customer[int(offer["customer_id"])].append(offer)
    first_of_day: dict[tuple[int, date], int] = {}
    for customer, theirs in by_customer.items():
        for offer in theirs:
            key = (customer, _day(int(offer["triggered_at"]), zone))
            first_of_day[key] = min(first_of_day.get(key, int(offer["triggered_at"])),
                                    int(offer["triggered_at"]))
    used: set[int] = set()  # ids of offers that met a stay
    met, errors, missed, violated, expect_none = [], [], [], [], []
    either: list[TruthStay] = []
    capped: list[TruthStay] = []
    beyond = 0
    threshold_ms, early_ms, late_ms = (round(v * 1000) for v in (threshold_s, early_s, late_s))
    for stay in sorted(stays, key=lambda s: (s.customer_id, s.enter_ts)):
        if not stay.known or stay.customer_id in excluded or stay.expect == "no_offer":
            expect_none.append(stay)
            continue
        if stay.expect == "either":
            either.append(stay)
            continue
        if stay.expect != "offer":
            raise ValueError(f"stay of customer {stay.customer_id}: expect {stay.expect!r}")
            expect_none.append(stay)
            continue
        reached = stay.enter_ts + threshold_ms
        if horizon_ms is not None and reached > horizon_ms:
            beyond += 1
            continue
        first = first_of_day.get((stay.customer_id, _day(reached, zone)))
        if first is not None and first < stay.enter_ts:
            capped.append(stay)
            expect_none.append(stay)
            continue
        window = [offer for offer in by_customer.get(stay.customer_id, ())
                  if reached - early_ms <= int(offer["triggered_at"])
                  <= min(reached + late_ms, stay.exit_ts)]
        if len(window) == 1:
            met.append(stay)
            errors.append((int(window[0]["triggered_at"]) - reached) / 1000.0)
            used.add(id(window[0]))
        else:
            missed.append(stay)
    for stay in expect_none:
        if any(stay.enter_ts <= int(offer["triggered_at"]) <= stay.exit_ts
               for offer in by_customer.get(stay.customer_id, ())):
            violated.append(stay)
    either_offers, false_offers = 0, []
    for offer in offers:
        if id(offer) in used:
            continue
        if any(stay.customer_id == int(offer["customer_id"])
               and stay.enter_ts <= int(offer["triggered_at"]) <= stay.exit_ts + late_ms
               for stay in either):
            either_offers += 1
        else:
            false_offers.append(offer)
    scored = met + missed
    return StayScore(
        offer_stays=len(scored),
        met=tuple(met),
        timing_errors_s=tuple(errors),
        missed=tuple(missed),
        offers=len(offers),
        false_offers=tuple(false_offers),
        either_stays=len(either),
        either_offers=either_offers,
        no_offer_stays=len(expect_none),
        violated=tuple(violated),
        capped_stays=len(capped),
        beyond_horizon=beyond,
        expected_customers=frozenset(stay.customer_id for stay in scored),
        qualified_customers=frozenset(stay.customer_id for stay in [*scored, *capped, *either]),
        offered_customers=frozenset(by_customer),
    )


def _day(epoch_ms: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000.0, tz=zone).date()
