"""The segment catalogue (data/segments.csv, data/segment_offers.csv), checked as it is read.

The segmentation writes the two files; the simulator reads the first and the pipeline's
``CUSTOMER_SEGMENT`` function (flink_jobs/java) reads both, with Jackson's CSV reader, inside a
running task. A file that reader cannot use fails the job there, again at every restart, so
this module holds the one reader of the contract in Python and refuses, with the file, the line
and the problem, whatever the Java reader would fail on or would read wrongly.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from segmentation.customers import CUSTOMER_RANGES, GENDERS, InputFileError, decode_text

__all__ = [
    "LOOKUP_COLUMNS",
    "OFFER_LOOKUP_COLUMNS",
    "SEGMENT_COLUMNS",
    "SEGMENT_ORIGINS",
    "CatalogueFileError",
    "CatalogueOffer",
    "SegmentRow",
    "read_catalogue",
    "read_segment_offers",
    "read_segment_table",
]

# Columns of data/segments.csv, the table the pipeline looks customers up in (DESIGN.md).
SEGMENT_COLUMNS = (
    "customer_id", "gender", "age", "annual_income_k", "spending_score",
    "segment_id", "segment_label", "segment_origin", "distance_to_centroid",
)  # fmt: skip
# What CUSTOMER_SEGMENT reads from each file; the other contract columns are checked when present.
LOOKUP_COLUMNS = ("customer_id", "segment_id", "segment_label")
OFFER_LOOKUP_COLUMNS = ("segment_id", "offer_code", "message", "discount_pct")
SEGMENT_ORIGINS = ("created", "assigned")

# Java's Long.parseLong / Integer.parseInt after String.trim(): ASCII digits and one sign only.
# Python's int() also takes "1_000" and other forms the job would fail on.
_JAVA_INTEGER = re.compile(r"[+-]?[0-9]+")
# A plain decimal number; Double.parseDouble would also take "NaN", "Infinity" and "1d".
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# String.trim() removes every character up to U+0020, control characters included.
_JAVA_BLANK = "".join(chr(code) for code in range(0x21))
_INT_BITS = {"customer_id": 63, "segment_id": 31}  # Java long and int


class CatalogueFileError(InputFileError):
    """A catalogue file that cannot be used: names the file, the row (line) and the problem."""

    line_format = "{path}: row {row}"


@dataclass(frozen=True)
class SegmentRow:
    """One customer of the segment table; a contract column the file lacks is None."""

    line: int
    customer_id: int
    segment_id: int
    segment_label: str
    gender: str | None = None
    age: float | None = None
    annual_income_k: float | None = None
    spending_score: float | None = None
    segment_origin: str | None = None
    distance_to_centroid: str | None = None


@dataclass(frozen=True)
class CatalogueOffer:
    """A segment's default offer as the pipeline reads it."""

    line: int
    segment_id: int
    offer_code: str
    message: str
    discount_pct: float


@dataclass(frozen=True)
class _Record:
    path: Path
    line: int
    values: dict[str, str]

    def fail(self, problem: str) -> CatalogueFileError:
        return CatalogueFileError(self.path, self.line, problem)

    def integer(self, column: str) -> int:
        text = self.values[column].strip(_JAVA_BLANK)
        if not _JAVA_INTEGER.fullmatch(text):
            raise self.fail(f"{column} {text!r} is not an integer")
        value = int(text)
        if not 0 < value < 2 ** _INT_BITS[column]:
            raise self.fail(f"{column} {value} is not between 1 and {2 ** _INT_BITS[column] - 1}")
        return value

    def number(self, column: str, low: float, high: float) -> float:
        text = self.values[column].strip(_JAVA_BLANK)
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is not None and not math.isfinite(value):  # NaN, inf, 1e999
            raise self.fail(f"{column} {text!r} is not a finite number")
        if value is None or not _DECIMAL.fullmatch(text):
            raise self.fail(f"{column} {text!r} is not a number")
        if not low <= value <= high:
            raise self.fail(f"{column} {value:g} is not between {low:g} and {high:g}")
        return value

    def text(self, column: str) -> str:
        value = self.values[column]
        if not value.strip():
            raise self.fail(f"{column} is empty")
        return value

    def optional(self, column: str) -> str | None:
        return self.values.get(column)

    def first_time(self, what: str, key: int, first_line: dict[int, int]) -> None:
        """Note that this row holds ``key``; refuse a second row with it (the job keeps one)."""
        if key in first_line:
            raise self.fail(f"{what} {key} twice (first in row {first_line[key]})")
        first_line[key] = self.line


def _records(path: Path, required: Sequence[str]) -> list[_Record]:
    """The file's data records with their line numbers, after the checks every CSV here needs.

    Notes
    -----
    The job's reader differs from Python's ``csv`` in ways that matter: it takes a blank line
    for a record without values (and fails on it, a trailing one included), fails on a record
    with more fields than the header and on a quote that is never closed. So these are refused
    here rather than skipped or read leniently.
    """
    if not path.is_file():
        raise CatalogueFileError(
            path, None, "file not found (run `make segments`, python -m segmentation fit)"
        )
    # A byte-order mark is skipped, as the job's reader skips it.
    text = decode_text(path, error=CatalogueFileError)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[_Record] = []
    header: list[str] | None = None
    try:
        start = 1
        for row in reader:
            if not row:
                raise CatalogueFileError(
                    path, start, "blank line (the pipeline's reader fails on it)"
                )
            if header is None:
                header = _header(path, row, required)
            elif len(row) != len(header):
                raise CatalogueFileError(
                    path, start, f"{len(row)} fields, the header has {len(header)}"
                )
            else:
                records.append(_Record(path, start, dict(zip(header, row, strict=True))))
            start = reader.line_num + 1
    except csv.Error as error:
        raise CatalogueFileError(path, reader.line_num, f"not readable as CSV ({error})") from None
    if header is None:
        raise CatalogueFileError(path, None, "the file is empty (no header, no rows)")
    return records


def _header(path: Path, row: list[str], required: Sequence[str]) -> list[str]:
    header = [name.strip() for name in row]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CatalogueFileError(path, 1, f"column(s) named twice: {', '.join(repeated)}")
    missing = [column for column in required if column not in header]
    if missing:
        raise CatalogueFileError(path, 1, f"missing column(s) {', '.join(missing)}")
    return header


def read_segment_table(
    path: Path | str, required: Sequence[str] = LOOKUP_COLUMNS
) -> tuple[SegmentRow, ...]:
    """Read and check data/segments.csv (or a population file in its columns).

    Parameters
    ----------
    path : path-like
        The segment table.
    required : sequence of str
        Columns that must be present: the pipeline's lookup needs :data:`LOOKUP_COLUMNS`, the
        simulator the customers' attributes too. Every other contract column that is present
        is checked as well.

    Returns
    -------
    tuple of SegmentRow
        In file order.

    Raises
    ------
    CatalogueFileError
        Naming the file, the line and the first problem: not UTF-8, not CSV, a blank line, a
        row of the wrong width, a missing column, an id that is not an integer the job can
        read, a repeated customer, an empty label, a number that is not finite or out of the
        customers' range, an unknown gender or segment origin, or no customers at all.
    """
    path = Path(path)
    rows: list[SegmentRow] = []
    first_line: dict[int, int] = {}
    for record in _records(path, required):
        customer_id = record.integer("customer_id")
        record.first_time("customer", customer_id, first_line)
        rows.append(_segment_row(record, customer_id))
    if not rows:
        raise CatalogueFileError(path, None, "no customers (a header and no rows)")
    return tuple(rows)


def _segment_row(record: _Record, customer_id: int) -> SegmentRow:
    measures = {
        name: None if record.optional(name) is None else record.number(name, *CUSTOMER_RANGES[name])
        for name in CUSTOMER_RANGES
    }
    gender = record.optional("gender")
    if gender is not None and gender.strip() not in GENDERS:
        raise record.fail(f"gender {gender!r} is not one of {', '.join(GENDERS)}")
    origin = record.optional("segment_origin")
    if origin is not None and origin not in SEGMENT_ORIGINS:
        raise record.fail(f"segment_origin {origin!r} is not one of {', '.join(SEGMENT_ORIGINS)}")
    distance = record.optional("distance_to_centroid")
    if distance:  # empty for a look-alike the simulator made up
        record.number("distance_to_centroid", 0.0, math.inf)
    return SegmentRow(
        line=record.line,
        customer_id=customer_id,
        segment_id=record.integer("segment_id"),
        segment_label=record.text("segment_label"),
        gender=None if gender is None else gender.strip(),
        segment_origin=origin,
        distance_to_centroid=distance,
        **measures,
    )


def read_segment_offers(path: Path | str) -> tuple[CatalogueOffer, ...]:
    """Read and check data/segment_offers.csv: one offer per segment, a discount in 0..100 %.

    Raises
    ------
    CatalogueFileError
        As :func:`read_segment_table`, for the offers' columns; also for a segment that has two
        offers (the job would keep the last one silently).
    """
    path = Path(path)
    offers: list[CatalogueOffer] = []
    first_line: dict[int, int] = {}
    for record in _records(path, OFFER_LOOKUP_COLUMNS):
        segment_id = record.integer("segment_id")
        record.first_time("segment", segment_id, first_line)
        offers.append(CatalogueOffer(
            line=record.line,
            segment_id=segment_id,
            offer_code=record.text("offer_code"),
            message=record.text("message"),
            discount_pct=record.number("discount_pct", 0.0, 100.0),
        ))  # fmt: skip
    if not offers:
        raise CatalogueFileError(path, None, "no offers (a header and no rows)")
    return tuple(offers)


def read_catalogue(
    segments_csv: Path | str, segment_offers_csv: Path | str
) -> tuple[tuple[SegmentRow, ...], tuple[CatalogueOffer, ...]]:
    """Both files, and every customer's segment with an offer.

    Notes
    -----
    The job drops a customer whose segment has no offer without a word, so that customer would
    never be offered anything; a segment without an offer is therefore refused here. (The
    offer rules, not the catalogue, are the place to withhold offers from a segment.)
    """
    offers = read_segment_offers(segment_offers_csv)
    rows = read_segment_table(segments_csv)
    offered = {offer.segment_id for offer in offers}
    for row in rows:
        if row.segment_id not in offered:
            raise CatalogueFileError(
                segments_csv, row.line,
                f"segment {row.segment_id} has no offer in {segment_offers_csv}",
            )  # fmt: skip
    return rows, offers
