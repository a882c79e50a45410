"""Check every file the pipeline reads before anything touches the cluster.

The job reads the segment catalogue (``data/segments.csv``, ``data/segment_offers.csv``) only
when its first trigger needs it, inside a task: a bad file found there fails the running job
minutes later, over and over, with the offers of every customer in between lost. So ``submit``,
``resume`` and ``apply-rules`` read the files here first, as the job's ``CUSTOMER_SEGMENT``
function will, and refuse with the file and the problem while the running job is untouched.
"""

from __future__ import annotations

import re
from pathlib import Path

from flink_jobs.inputs import OptOutFileError, load_opt_outs
from flink_jobs.rules import RulesError
from pizzario.config import Config
from segmentation.catalogue import CatalogueFileError, read_catalogue
from simulator.mall import MallLayoutError, load_mall

__all__ = ["InputFileError", "check_inputs", "check_segment_catalogue", "rules_refusal"]

# "<exception class>: <message>" in a Java exception's text, as py4j passes it on.
_JAVA_CAUSE = re.compile(r"^(?::\s*|Caused by:\s*)?(?:[\w$]+\.)+[\w$]*(?:Exception|Error):\s*(.+)$")
# The wordings of flink_jobs.rules.RulesError after the file's name.
_RULES_PROBLEMS = (" does not plan:", " changes the job's operator graph")


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

    Notes
    -----
    The checks are the segmentation's (:mod:`segmentation.catalogue`), which owns the files'
    contract: every number must parse as the Java reader parses it, every segment must have
    exactly one offer (a customer of a segment without one would never be offered anything,
    silently), every customer one row, and no blank line or ragged row may reach the job.
    """
    try:
        read_catalogue(segments_csv, segment_offers_csv)
    except CatalogueFileError as error:
        raise InputFileError(str(error)) from error


def _check_mall(mall_json: Path) -> None:
    # The layout's own loader holds its contract; the job renders the zones from it.
    try:
        load_mall(mall_json)
    except MallLayoutError as error:  # its message starts with the file
        raise InputFileError(str(error)) from error


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


def rules_refusal(error: RulesError) -> str:
    """A refused rules file in one line, ``<file>: <problem>``, for the command line.

    Notes
    -----
    The planner's refusal arrives as several Java exceptions in a row; their first message
    (``From line 2, column 11 ...: Column 'offer_kode' not found in any table``) is the one that
    names the mistake, the rest repeat it. The planner counts lines from the statement's
    start, the comments before it included: in a rules file of one statement, the file's lines.
    """
    head, _, detail = str(error).partition("\n")
    for problem in _RULES_PROBLEMS:
        if problem in head:
            head = head.replace(problem, ":" + problem, 1)
            break
    causes = (match.group(1) for match in map(_JAVA_CAUSE.match, detail.splitlines()) if match)
    cause = next(causes, None)
    return f"{head} {cause}" if cause else " ".join([head, *detail.split()]).strip()
