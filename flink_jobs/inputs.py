"""Small input files the job reads when it is built: the opt-out list."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from segmentation.customers import InputFileError, decode_text

__all__ = ["OptOutFileError", "load_opt_outs"]


class OptOutFileError(InputFileError):
    """An opt-out file that cannot be read: the message names the file and the row."""

    line_format = "{path}: row {row}"


def load_opt_outs(path: Path) -> tuple[int, ...]:
    """Customer ids from a CSV with a ``customer_id`` column; a missing file means nobody.

    Parameters
    ----------
    path : Path
        CSV file with a header row containing ``customer_id``.

    Returns
    -------
    tuple of int
        The ids, sorted and unique.

    Raises
    ------
    OptOutFileError
        When the file cannot be read, is not UTF-8, has no ``customer_id`` column, or a row's
        id is not a (non-negative) integer.
    """
    if not path.exists():
        return ()
    text = decode_text(path, error=OptOutFileError)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or "customer_id" not in reader.fieldnames:
        raise OptOutFileError(path, 1, "needs a header row with a customer_id column")
    ids: set[int] = set()
    for row in reader:
        value = (row.get("customer_id") or "").strip()
        # Python's int() also reads "1_000" and non-ASCII digits; an id is ASCII digits.
        if not value.isascii() or not value.isdigit():
            raise OptOutFileError(
                path, reader.line_num, f"customer_id {value!r} is not an integer"
            )
        ids.add(int(value))
    return tuple(sorted(ids))
