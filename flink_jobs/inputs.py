"""Small input files the job reads when it is built: the opt-out list."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["OptOutFileError", "load_opt_outs"]


class OptOutFileError(ValueError):
    """An opt-out file that cannot be read: the message names the file and the row."""


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
    """
    if not path.exists():
        return ()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "customer_id" not in reader.fieldnames:
            raise OptOutFileError(f"{path}: needs a header row with a customer_id column")
        ids: set[int] = set()
        for row_number, row in enumerate(reader, start=2):
            value = (row.get("customer_id") or "").strip()
            try:
                ids.add(int(value))
            except ValueError as error:
                raise OptOutFileError(
                    f"{path}, row {row_number}: customer_id {value!r} is not an integer"
                ) from error
    return tuple(sorted(ids))
