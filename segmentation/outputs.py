"""Reading and writing the segmentation's files; every write is atomic (temp file + rename)."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from segmentation.catalogue import SEGMENT_COLUMNS, read_segment_table
from segmentation.customers import Customers
from segmentation.model import Assignment, SegmentModel
from segmentation.offers import OFFER_COLUMNS, Offer

__all__ = [
    "SEGMENT_COLUMNS",
    "atomic_write_bytes",
    "existing_customer_ids",
    "members_sample",
    "read_model",
    "read_segment_rows",
    "segment_rows",
    "segments_csv_text",
    "write_model",
    "write_offers",
]


def atomic_write_bytes(path: Path, content: bytes) -> None:
    """Write a whole file or nothing: a temp file in the same folder, then os.replace.

    Readers (the Flink job, a second fit) never see a half-written file, and a failure
    leaves the previous version in place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp creates the file 0600; give it the usual mode (0666 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        Path(temp_name).chmod(0o666 & ~umask)
        with os.fdopen(handle, "wb") as temp:
            temp.write(content)
            temp.flush()
            os.fsync(temp.fileno())
        Path(temp_name).replace(path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _number(value: float) -> str:
    """Integers without a decimal point (the input's style), other values as given."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def segment_rows(
    customers: Customers, assignment: Assignment, model: SegmentModel, origin: str
) -> list[list[str]]:
    """The segments.csv rows (as text) for these customers, in input order."""
    labels = {name.segment_id: name.label for name in model.segments}
    return [
        [
            str(int(customers.customer_id[i])),
            str(customers.gender[i]),
            _number(customers.age[i]),
            _number(customers.annual_income_k[i]),
            _number(customers.spending_score[i]),
            str(int(assignment.segment_id[i])),
            labels[int(assignment.segment_id[i])],
            origin,
            f"{assignment.distance_to_centroid[i]:.4f}",
        ]
        for i in range(len(customers))
    ]


def _csv_text(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def segments_csv_text(rows: list[list[str]]) -> str:
    """A whole segments.csv (header and rows)."""
    return _csv_text(SEGMENT_COLUMNS, rows)


def read_segment_rows(path: Path) -> list[list[str]]:
    """The data rows of an existing segments.csv (header checked), or [] if it is missing."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(rows[0]) != SEGMENT_COLUMNS:
        raise ValueError(f"{path}: not a segments table (header {rows[0] if rows else None})")
    read_segment_table(path, required=SEGMENT_COLUMNS)  # and every row as the pipeline reads it
    return rows[1:]


def existing_customer_ids(rows: list[list[str]]) -> set[int]:
    """Customer ids already present in segments.csv rows."""
    return {int(row[0]) for row in rows}


def write_offers(path: Path, offers: list[Offer]) -> None:
    """Write segment_offers.csv with exactly the columns the Flink offer rules read."""
    rows = ([offer.to_row()[column] for column in OFFER_COLUMNS] for offer in offers)
    text = _csv_text(OFFER_COLUMNS, rows)
    atomic_write_bytes(path, text.encode("utf-8"))


def write_model(path: Path, model: SegmentModel) -> None:
    """Write the model JSON (fixed key order, rounded floats, trailing newline)."""
    text = json.dumps(model.to_json(), indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def read_model(path: Path) -> SegmentModel:
    """Load a model written by :func:`write_model`."""
    with Path(path).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return SegmentModel.from_json(data)


def members_sample(rows: list[list[str]], per_segment: int) -> dict[int, list[list[str]]]:
    """The first few rows of each segment, by segment_id (for the report)."""
    sample: dict[int, list[list[str]]] = {}
    for row in rows:
        bucket = sample.setdefault(int(row[5]), [])
        if len(bucket) < per_segment:
            bucket.append(row)
    return dict(sorted(sample.items()))

