"""The new pizza's launch offer for each segment, chosen from the segment's position."""

from __future__ import annotations

from dataclasses import dataclass

from segmentation.naming import SegmentName

__all__ = ["OFFER_COLUMNS", "Offer", "offer_for", "offers_for_segments"]

# Columns of data/segment_offers.csv; the Flink offer rules read them by these names.
OFFER_COLUMNS = ("segment_id", "segment_label", "offer_code", "message", "discount_pct",
                 "rationale")
OFFER_CODE_PREFIX = "NEWPIZZA"


@dataclass(frozen=True)
class Offer:
    """What a segment's phones are shown, and why."""

    segment_id: int
    segment_label: str
    offer_code: str
    message: str
    discount_pct: int
    rationale: str

    def to_row(self) -> dict[str, object]:
        """The segment_offers.csv row."""
        return {column: getattr(self, column) for column in OFFER_COLUMNS}


# (income level, spending level) -> (code suffix, message, discount %, rationale).
_POSITIONED_OFFERS: dict[tuple[str, str], tuple[str, str, int, str]] = {
    ("high", "high"): (
        "PREMIUM",
        "Meet our new pizza: the premium bundle with a craft drink and dessert, 5% off today.",
        5,
        "High income and high spending: they buy quality and experience, not price, so a "
        "richer bundle earns more than a deep discount would.",
    ),
    ("high", "low"): (
        "TASTING",
        "Taste the difference: a free slice of our new pizza, and 10% off a whole one.",
        10,
        "High income but low spending: they can afford it yet are not convinced; a tasting "
        "slice and a quality message lower the risk of trying.",
    ),
    ("low", "high"): (
        "VALUE",
        "Our new pizza in the value combo with a drink, 15% off and double loyalty stamps.",
        15,
        "Low income but high spending: keen buyers on a budget; a combo at a value price "
        "and loyalty stamps reward them and bring them back.",
    ),
    ("low", "low"): (
        "SAVER",
        "Try our new pizza for 25% less today.",
        25,
        "Low income and low spending: price is the barrier, so only a deep discount is "
        "likely to turn a passer-by into a buyer.",
    ),
}
_LAUNCH_OFFER = (
    "LAUNCH",
    "Our new pizza is here: 10% off your first one.",
    10,
    "Average income or spending: the standard launch offer, a moderate discount that "
    "invites a first purchase without giving away margin.",
)


def offer_for(segment: SegmentName) -> Offer:
    """The launch offer for a segment, from its income and spending levels only.

    The segment's position decides: both levels high or low pick one of four targeted
    offers; any average level picks the standard launch offer. The code is the product
    prefix plus the offer's name, e.g. ``NEWPIZZA-PREMIUM``.
    """
    suffix, message, discount_pct, rationale = _POSITIONED_OFFERS.get(
        (segment.income_level, segment.spending_level), _LAUNCH_OFFER
    )
    return Offer(
        segment_id=segment.segment_id,
        segment_label=segment.label,
        offer_code=f"{OFFER_CODE_PREFIX}-{suffix}",
        message=message,
        discount_pct=discount_pct,
        rationale=rationale,
    )


def offers_for_segments(segments: list[SegmentName]) -> list[Offer]:
    """One offer per segment, ordered by segment_id."""
    return [offer_for(segment) for segment in sorted(segments, key=lambda s: s.segment_id)]
