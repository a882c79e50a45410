"""Score offers against the simulator's ground truth of stays near the shop (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.truth import TruthStay

__all__ = ["DwellScore", "score_offers"]


@dataclass(frozen=True)
class DwellScore:
    offers: int
    matched_offers: int
    expected_customers: frozenset[int]
    offered_customers: frozenset[int]
    qualified_customers: frozenset[int]
    unmatched: tuple[dict[str, Any], ...]

    @property
    def precision(self) -> float:
        return self.matched_offers / self.offers if self.offers else 1.0

    @property
    def recall(self) -> float:
        if not self.expected_customers:
            return 1.0
        return len(self.expected_customers & self.offered_customers) / len(
            self.expected_customers
        )

    @property
    def customer_precision(self) -> float:
        """Share of offered customers who truly stayed past the threshold at some time."""
        if not self.offered_customers:
            return 1.0
        return len(self.offered_customers & self.qualified_customers) / len(
            self.offered_customers
        )

    @property
    def missed(self) -> frozenset[int]:
        return self.expected_customers - self.offered_customers


def score_offers(
    offers: Sequence[dict[str, Any]],
    stays: Iterable[TruthStay],
    *,
    threshold_s: float,
    horizon_ms: int,
    opted_out: Iterable[int] = (),
    tolerance_s: float = 15.0,
) -> DwellScore:
    """Precision and recall of dwell detection, one offer per customer (one simulated day).

    Parameters
    ----------
    offers : sequence of dict
        Offers as the pipeline wrote them (customer_id, triggered_at).
    stays : iterable of TruthStay
        The simulator's true stays inside the geofence.
    threshold_s : float
        The dwell threshold.
    horizon_ms : int
        Stays whose threshold is crossed after this event time are not expected (the watermark
        has not passed them when the input ends).
    opted_out : iterable of int
        Customers who must not get offers.
    tolerance_s : float
        Slack for GPS noise at the geofence edge when matching an offer to a stay.

    Notes
    -----
    An offer is correct when its customer had a true stay that covers its trigger time, from
    ``enter + threshold - tolerance`` to ``exit + tolerance``.
    """
    stays = list(stays)
    excluded = set(opted_out)
    threshold_ms, tolerance_ms = threshold_s * 1000, tolerance_s * 1000
    expected = frozenset(
        stay.customer_id
        for stay in stays
        if stay.known
        and stay.customer_id not in excluded
        and stay.dwell_s >= threshold_s
        and stay.enter_ts + threshold_ms <= horizon_ms
    )
    unmatched = tuple(
        offer
        for offer in offers
        if not any(
            stay.customer_id == offer["customer_id"]
            and stay.enter_ts + threshold_ms - tolerance_ms
            <= offer["triggered_at"]
            <= stay.exit_ts + tolerance_ms
            for stay in stays
        )
    )
    return DwellScore(
        offers=len(offers),
        matched_offers=len(offers) - len(unmatched),
        expected_customers=expected,
        offered_customers=frozenset(int(offer["customer_id"]) for offer in offers),
        qualified_customers=frozenset(
            stay.customer_id for stay in stays if stay.dwell_s >= threshold_s
        ),
        unmatched=unmatched,
    )
