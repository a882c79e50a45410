"""Reading and validating the customer CSV (the course dataset's columns)."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CUSTOMER_COLUMNS",
    "CUSTOMER_RANGES",
    "GENDERS",
    "CustomerInputError",
    "Customers",
    "InputFileError",
    "decode_text",
    "read_customers",
]

# Column in the input file -> name used everywhere downstream (segments.csv, features).
CUSTOMER_COLUMNS: dict[str, str] = {
    "CustomerID": "customer_id",
    "Gender": "gender",
    "Age": "age",
    "Annual Income (k$)": "annual_income_k",
    "Spending Score (1-100)": "spending_score",
}
_COLUMN_OF_NAME = {name: column for column, name in CUSTOMER_COLUMNS.items()}
GENDERS = ("Female", "Male")
# Plausible values of the numeric columns, by downstream name (the segment table's too).
CUSTOMER_RANGES: dict[str, tuple[float, float]] = {
    "age": (0, 130),
    "annual_income_k": (0, 100_000),
    "spending_score": (1, 100),
}


class InputFileError(ValueError):
    """An input file that cannot be used: names the file, the line (if any) and the problem."""

    # How the message names the place; a subclass may word it its own way.
    line_format = "{path}, line {row}"

    def __init__(self, path: Path | str, row: int | None, problem: str) -> None:
        self.path = Path(path)
        self.row = row
        self.problem = problem
        where = f"{self.path}" if row is None else self.line_format.format(path=self.path, row=row)
        super().__init__(f"{where}: {problem}")


class CustomerInputError(InputFileError):
    """A customer file that cannot be used: names the file, the row (line) and the problem."""


@dataclass(frozen=True)
class Customers:
    """The validated customers, one array per column, in file order."""

    customer_id: np.ndarray
    gender: np.ndarray
    age: np.ndarray
    annual_income_k: np.ndarray
    spending_score: np.ndarray

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])

    def column(self, name: str) -> np.ndarray:
        """One column by its downstream name (``age``, ``annual_income_k``...)."""
        return getattr(self, name)


def _parse_number(raw: str, column: str, path: Path, line: int) -> float:
    """A finite number within the column's plausible range, or a CustomerInputError."""
    try:
        value = float(raw)
    except ValueError:
        raise CustomerInputError(path, line, f"{column} {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise CustomerInputError(path, line, f"{column} {raw!r} is not a finite number")
    low, high = CUSTOMER_RANGES[CUSTOMER_COLUMNS[column]]
    if not low <= value <= high:
        raise CustomerInputError(path, line, f"{column} {raw!r} is outside {low:g}..{high:g}")
    return value


def _parse_id(raw: str, path: Path, line: int) -> int:
    """A positive integer customer id, or a CustomerInputError."""
    try:
        value = int(raw.strip())
    except ValueError:
        raise CustomerInputError(path, line, f"CustomerID {raw!r} is not an integer") from None
    if value <= 0:
        raise CustomerInputError(path, line, f"CustomerID {raw!r} is not positive")
    return value


def decode_text(path: Path, error: type[InputFileError] = InputFileError) -> str:
    """A whole file as UTF-8 text (a byte-order mark skipped), or ``error`` with the line.

    Notes
    -----
    The file is decoded at once, not through a text stream: a stream decodes in chunks, and
    the offset of a bad byte within its chunk would give the wrong line.
    """
    try:
        data = path.read_bytes()
    except OSError as failure:
        raise error(path, None, f"cannot be read ({failure.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as failure:
        line = data.count(b"\n", 0, failure.start) + 1
        byte = data[failure.start]
        raise error(path, line, f"not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8") from None


def read_customers(path: Path | str) -> Customers:
    """Read and validate a customer CSV.

    Parameters
    ----------
    path : path-like
        A CSV with the columns CustomerID, Gender, Age, Annual Income (k$) and
        Spending Score (1-100); extra columns are ignored.

    Returns
    -------
    Customers
        The rows in file order.

    Raises
    ------
    CustomerInputError
        The file is missing or empty, a column is missing, a value is not a number or out of
        range, a gender is unknown, or a CustomerID repeats; the message names the file, the
        line and the problem.
    """
    path = Path(path)
    text = decode_text(path, error=CustomerInputError)
    reader = csv.reader(io.StringIO(text, newline=""))
    # Keep each record's line number for the messages; blank lines are not records.
    rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    if not rows:
        raise CustomerInputError(path, None, "the file is empty (no header, no rows)")
    header_line, header_row = rows[0]
    header = [cell.strip() for cell in header_row]
    missing = [column for column in CUSTOMER_COLUMNS if column not in header]
    if missing:
        raise CustomerInputError(path, header_line, f"missing column(s): {', '.join(missing)}")
    if len(rows) == 1:
        raise CustomerInputError(path, None, "the file has a header but no customer rows")
    index = {column: header.index(column) for column in CUSTOMER_COLUMNS}
    ids: list[int] = []
    genders: list[str] = []
    numbers: dict[str, list[float]] = {name: [] for name in CUSTOMER_RANGES}
    first_line_of: dict[int, int] = {}
    for line, row in rows[1:]:
        if len(row) < len(header):
            raise CustomerInputError(path, line, f"{len(row)} fields, expected {len(header)}")
        customer_id = _parse_id(row[index["CustomerID"]], path, line)
        if customer_id in first_line_of:
            raise CustomerInputError(
                path, line, f"CustomerID {customer_id} repeats line {first_line_of[customer_id]}"
            )
        first_line_of[customer_id] = line
        gender = row[index["Gender"]].strip()
        if gender not in GENDERS:
            raise CustomerInputError(
                path, line, f"Gender {gender!r} is not one of {', '.join(GENDERS)}"
            )
        ids.append(customer_id)
        genders.append(gender)
        for name in CUSTOMER_RANGES:
            column = _COLUMN_OF_NAME[name]
            numbers[name].append(_parse_number(row[index[column]], column, path, line))
    return Customers(
        customer_id=np.asarray(ids, dtype=np.int64),
        gender=np.asarray(genders, dtype=object),
        **{name: np.asarray(values, dtype=np.float64) for name, values in numbers.items()},
    )
