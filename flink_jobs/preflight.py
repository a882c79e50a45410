"""Check every file the pipeline reads before anything touches the cluster.

The job reads the segment catalogue (``data/segments.csv``, ``data/segment_offers.csv``) only
when its first trigger needs it, inside a task: a bad file found there fails the running job
minutes later, over and over, with the offers of every customer in between lost. So ``submit``,
``resume`` and ``apply-rules`` read the files here first, as the job's ``CUSTOMER_SEGMENT``
function will, and refuse with the file and the problem while the running job is untouched.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

from flink_jobs.inputs import OptOutFileError, load_opt_outs
from pizzario.config import Config

__all__ = ["InputFileError", "check_inputs", "check_segment_catalogue"]

SEGMENT_COLUMNS = ("customer_id", "segment_id", "segment_label")
OFFER_COLUMNS = ("segment_id", "offer_code", "message", "discount_pct")


class InputFileError(ValueError):
    """An input file the pipeline cannot use: the message is ``<file>: <problem>``."""


def check_inputs(config: Config, rules_sql: Path) -> None:
    """Refuse, before anything is submitted or stopped, an input file the job cannot use.

    Parameters
    ----------
    config : Config
        Where the segment catalogue, the opt-outs and the mall layout are.
    rules_sql : Path
        The offer rules the job will run (planned separately by ``check_rules``).

    Raises
    ------
    InputFileError
        Naming the first file with a problem, and the row and column where it applies.
    """
    paths = config.paths
    check_segment_catalogue(paths.segments_csv, paths.segment_offers_csv)
    try:
        load_opt_outs(paths.opt_outs_csv)
    except OptOutFileError as error:
        raise InputFileError(str(error)) from error
    _check_mall(paths.mall_json)
    _check_rules_text(rules_sql)


def check_segment_catalogue(segments_csv: Path, segment_offers_csv: Path) -> None:
    """Read the two catalogue files as the job's segment lookup reads them.

    Every segment must have exactly one offer (a customer of a segment without one would never
    be offered anything, silently), every customer one row, and every number must parse.
    """
    offers: set[int] = set()
    for line, row in _rows(segment_offers_csv, OFFER_COLUMNS):
        segment = _integer(segment_offers_csv, line, row, "segment_id")
        if segment in offers:
            raise InputFileError(f"{segment_offers_csv}: row {line}: segment {segment} twice")
        offers.add(segment)
        if not row["offer_code"].strip():
            raise InputFileError(f"{segment_offers_csv}: row {line}: offer_code is empty")
        discount = _number(segment_offers_csv, line, row, "discount_pct")
        if not 0 <= discount <= 100:
            raise InputFileError(
                f"{segment_offers_csv}: row {line}: discount_pct {discount:g} is not a "
                "percentage between 0 and 100"
            )
    customers: set[int] = set()
    for line, row in _rows(segments_csv, SEGMENT_COLUMNS):
        customer = _integer(segments_csv, line, row, "customer_id")
        if customer in customers:
            raise InputFileError(f"{segments_csv}: row {line}: customer {customer} twice")
        customers.add(customer)
        segment = _integer(segments_csv, line, row, "segment_id")
        if segment not in offers:
            raise InputFileError(
                f"{segments_csv}: row {line}: segment {segment} has no offer in "
                f"{segment_offers_csv}"
            )
    if not offers:
        raise InputFileError(f"{segment_offers_csv}: no offers")
    if not customers:
        raise InputFileError(f"{segments_csv}: no customers")


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV with its line numbers; the file must exist and have the columns."""
    if not path.is_file():
        raise InputFileError(
            f"{path}: file not found (run `make segments`, python -m segmentation fit)"
        )
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in columns if column not in (reader.fieldnames or ())]
            if missing:
                raise InputFileError(f"{path}: missing column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                absent = [column for column in columns if row.get(column) is None]
                if absent:
                    raise InputFileError(f"{path}: row {line}: no value for {', '.join(absent)}")
                yield line, row
    except UnicodeDecodeError as error:
        raise InputFileError(f"{path}: not UTF-8 text ({error.reason})") from error
    except csv.Error as error:
        raise InputFileError(f"{path}: not a readable CSV file ({error})") from error


def _integer(path: Path, line: int, row: dict[str, str], column: str) -> int:
    text = row[column].strip()
    try:
        return int(text)
    except ValueError as error:
        raise InputFileError(
            f"{path}: row {line}: {column} {text!r} is not an integer"
        ) from error


def _number(path: Path, line: int, row: dict[str, str], column: str) -> float:
    text = row[column].strip()
    try:
        value = float(text)
    except ValueError as error:
        raise InputFileError(f"{path}: row {line}: {column} {text!r} is not a number") from error
    if not math.isfinite(value):
        raise InputFileError(f"{path}: row {line}: {column} {text!r} is not a finite number")
    return value


def _check_mall(mall_json: Path) -> None:
    # The layout's own loader holds its contract; the job renders the zones from it.
    from simulator.mall import MallLayoutError, load_mall

    try:
        load_mall(mall_json)
    except (MallLayoutError, OSError) as error:
        message = str(error)
        raise InputFileError(
            message if str(mall_json) in message else f"{mall_json}: {message}"
        ) from error


def _check_rules_text(rules_sql: Path) -> None:
    try:
        text = rules_sql.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise InputFileError(f"{rules_sql}: file not found") from error
    except UnicodeDecodeError as error:
        raise InputFileError(f"{rules_sql}: not UTF-8 text ({error.reason})") from error
    lines = (line.strip() for line in text.splitlines())
    if not any(line and not line.startswith("--") for line in lines):
        raise InputFileError(f"{rules_sql}: no SQL in the file (only comments or blank lines)")
