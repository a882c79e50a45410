"""The simulator refuses a segment table the segmentation's checks refuse, and sends nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from segmentation.catalogue import SEGMENT_COLUMNS
from simulator.cli import main

HEADER = ",".join(SEGMENT_COLUMNS)
GOOD = "1,Male,19,15,39,2,careful,created,0.8\n2,Female,21,15,81,1,keen,created,0.4\n"


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (GOOD + "3,Male,30,NaN,40,1,keen,created,0.1\n",
         "row 4: annual_income_k 'NaN' is not a finite number"),
        (GOOD + "2,Male,30,20,40,1,keen,created,0.1\n", "row 4: customer 2 twice (first in row 3)"),
        (GOOD + "\n", "row 4: blank line (the pipeline's reader fails on it)"),
        (GOOD.replace(",keen,", ",,"), "row 3: segment_label is empty"),
    ],
    ids=["NaN income", "customer twice", "blank line", "no label"],
)
def test_a_bad_segment_table_stops_the_simulator_before_anything_is_sent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, rows: str, problem: str
) -> None:
    segments = tmp_path / "segments.csv"
    segments.write_text(f"{HEADER}\n{rows}")
    out = tmp_path / "pings.jsonl"
    with caplog.at_level(logging.ERROR, logger="simulator"):
        code = main(["--segments", str(segments), "--out", str(out), "--speed", "max",
                     "--duration", "60s", "--seed", "1", "--progress-every", "0"])  # fmt: skip
    assert code == 2
    assert [record.getMessage() for record in caplog.records] == [f"{segments}: {problem}"]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [segments]  # no truth file, no population either
