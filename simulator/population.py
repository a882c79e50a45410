"""Who walks the mall: the segmented customers, synthetic look-alikes and unknown visitors."""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from segmentation import SEGMENT_COLUMNS
from segmentation.catalogue import CatalogueFileError, read_segment_table

__all__ = [
    "SEGMENT_COLUMNS",
    "UNKNOWN_ID_BASE",
    "Customer",
    "SegmentsError",
    "device_id_for",
    "load_segments",
    "synthesize_customers",
    "write_population",
]

# Visitors who are not customers get ids from here up, far above any CustomerID.
UNKNOWN_ID_BASE = 1_000_000


class SegmentsError(ValueError):
    """The segment table cannot be read; the message names the file and the row."""


@dataclass(frozen=True)
class Customer:
    """One person the simulator can send into the mall.

    ``origin`` is ``segments`` for a row of the segment table, ``synthetic`` for a look-alike
    drawn from a segment's members (see :func:`synthesize_customers`). ``segment_origin`` and
    ``distance_to_centroid`` are the segment table's values as read (text, so that writing
    the population back changes nothing); a look-alike is ``assigned`` with no distance.
    """

    customer_id: int
    gender: str
    age: int
    annual_income_k: float
    spending_score: float
    segment_id: int
    segment_label: str
    origin: str = "segments"
    segment_origin: str = "created"
    distance_to_centroid: str = ""

    @property
    def device_id(self) -> str:
        return device_id_for(self.customer_id)


def device_id_for(customer_id: int) -> str:
    """A stable phone id per customer (the same in every run, whatever the seed)."""
    digest = hashlib.blake2b(str(customer_id).encode(), digest_size=6).hexdigest()
    return f"dev-{digest}"


def load_segments(path: str | Path) -> tuple[Customer, ...]:
    """Read the segment table (data/segments.csv, columns as in DESIGN.md).

    Raises
    ------
    SegmentsError
        When the segmentation's checks of the table refuse it (a missing file or column, a
        value of the wrong type or out of range, a repeated customer, no customers...).
    """
    try:
        rows = read_segment_table(path, required=SEGMENT_COLUMNS[:7])
    except CatalogueFileError as error:
        raise SegmentsError(str(error)) from error
    customers = [
        Customer(
            customer_id=row.customer_id,
            gender=str(row.gender),
            age=int(row.age or 0),
            annual_income_k=float(row.annual_income_k or 0.0),
            spending_score=float(row.spending_score or 0.0),
            segment_id=row.segment_id,
            segment_label=row.segment_label,
            segment_origin=row.segment_origin or "created",
            distance_to_centroid=row.distance_to_centroid or "",
        )
        for row in rows
    ]
    return tuple(customers)


def synthesize_customers(
    customers: Sequence[Customer], total: int, rng: np.random.Generator
) -> tuple[Customer, ...]:
    """Grow the population to ``total`` people with look-alikes of the segmented customers.

    Each synthetic customer copies a random member of a segment chosen in proportion to the
    segment sizes, with age, income and score jittered by a fraction of that segment's spread,
    so the per-segment distributions are kept. New ids continue after the largest real id.
    """
    if total <= len(customers):
        return tuple(customers[:total])
    members: dict[int, list[Customer]] = defaultdict(list)
    for customer in customers:
        members[customer.segment_id].append(customer)
    spread = {
        segment: np.std([[c.age, c.annual_income_k, c.spending_score] for c in group], axis=0)
        for segment, group in members.items()
    }
    extra = total - len(customers)
    templates = rng.integers(0, len(customers), size=extra)
    noise = rng.normal(0.0, 0.25, size=(extra, 3))
    next_id = max(customer.customer_id for customer in customers) + 1
    synthetic = []
    for index, (template_index, jitter) in enumerate(zip(templates, noise, strict=True)):
        template = customers[template_index]
        age_sd, income_sd, score_sd = spread[template.segment_id]
        synthetic.append(replace(
            template,
            customer_id=next_id + index,
            age=min(max(round(template.age + jitter[0] * age_sd), 18), 90),
            annual_income_k=float(max(1, round(template.annual_income_k + jitter[1] * income_sd))),
            spending_score=float(min(max(round(template.spending_score + jitter[2] * score_sd), 1),
                                     100)),
            origin="synthetic",
            segment_origin="assigned",
            distance_to_centroid="",
        ))
    return (*customers, *synthetic)


def write_population(path: str | Path, customers: Sequence[Customer]) -> None:
    """Write the simulated population in the segment table's columns.

    Rows of the segment table keep their ``segment_origin`` and ``distance_to_centroid``;
    synthetic customers are ``assigned`` with no centroid distance, so a pipeline that loads
    this file instead of data/segments.csv knows them too.
    """
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SEGMENT_COLUMNS)
        for c in customers:
            writer.writerow([c.customer_id, c.gender, c.age, c.annual_income_k, c.spending_score,
                             c.segment_id, c.segment_label, c.segment_origin,
                             c.distance_to_centroid])
