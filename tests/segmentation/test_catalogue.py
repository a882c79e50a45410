"""The segment catalogue is refused, with the file, the row and the problem, wherever the
pipeline's CUSTOMER_SEGMENT function would fail on it or read it wrongly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pizzario.config import load_config
from segmentation.catalogue import (
    LOOKUP_COLUMNS,
    SEGMENT_COLUMNS,
    CatalogueFileError,
    read_catalogue,
    read_segment_offers,
    read_segment_table,
)

SEGMENTS_HEADER = ",".join(SEGMENT_COLUMNS)
ROW_1 = "1,Male,19,15,39,2,low-income low-spending,created,0.8241"
ROW_2 = "2,Female,21,15,81,1,low-income high-spending,assigned,"
OFFERS_HEADER = "segment_id,segment_label,offer_code,message,discount_pct,rationale"
OFFER_1 = '1,low-income high-spending,NEWPIZZA-VALUE,"Combo, 15% off",15,keen buyers'
OFFER_2 = "2,low-income low-spending,NEWPIZZA-SAVER,Try it for 25% less,25,price"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_the_shipped_catalogue_reads_in_full() -> None:
    paths = load_config({}).paths
    rows, offers = read_catalogue(paths.segments_csv, paths.segment_offers_csv)
    assert len(rows) == 200
    assert rows[0].customer_id == 1 and rows[0].segment_id == 2
    assert (rows[0].age, rows[0].annual_income_k, rows[0].spending_score) == (19, 15, 39)
    assert sorted(offer.segment_id for offer in offers) == [1, 2, 3, 4, 5]


def test_a_small_table_reads_as_written(tmp_path: Path) -> None:
    path = _write(tmp_path, "segments.csv", f"{SEGMENTS_HEADER}\n{ROW_1}\n{ROW_2}\n")
    first, second = read_segment_table(path, required=SEGMENT_COLUMNS)
    assert (first.line, first.customer_id, first.gender, first.segment_origin) == (
        2, 1, "Male", "created",
    )  # fmt: skip
    assert (second.distance_to_centroid, second.segment_label) == ("", "low-income high-spending")


@pytest.mark.parametrize(
    "content",
    [
        # what the job's reader accepts as well: a byte-order mark, CRLF, padded ids
        f"\ufeff{SEGMENTS_HEADER}\n{ROW_1}\n",
        f"{SEGMENTS_HEADER}\r\n{ROW_1}\r\n",
        "customer_id,segment_id,segment_label\n 7 ,+2,x\n",
        'customer_id,segment_id,segment_label\n7,2,"a label, with a comma"\n',
    ],
    ids=["byte-order mark", "CRLF", "padded ids", "quoted comma"],
)
def test_what_the_pipeline_reads_is_accepted(tmp_path: Path, content: str) -> None:
    assert len(read_segment_table(_write(tmp_path, "segments.csv", content))) == 1


SHORT = "customer_id,segment_id,segment_label"
BAD_SEGMENT_TABLES = {
    "empty": ("", "the file is empty (no header, no rows)"),
    "header only": (f"{SEGMENTS_HEADER}\n", "no customers (a header and no rows)"),
    "no segment_id": ("customer_id,segment_label\n1,x\n", "row 1: missing column(s) segment_id"),
    "semicolons": ("customer_id;segment_id;segment_label\n1;2;x\n",
                   "row 1: missing column(s) customer_id, segment_id, segment_label"),
    "a column twice": (f"{SHORT},segment_id\n1,2,x,3\n",
                       "row 1: column(s) named twice: segment_id"),
    "a blank line": (f"{SHORT}\n1,2,x\n\n2,2,x\n", "row 3: blank line"),
    "a blank last line": (f"{SHORT}\n1,2,x\n\n", "row 3: blank line"),
    "too many fields": (f"{SHORT}\n1,2,x,extra\n", "row 2: 4 fields, the header has 3"),
    "too few fields": (f"{SHORT}\n1,2\n", "row 2: 2 fields, the header has 3"),
    "unclosed quote": (f'{SHORT}\n1,2,"x\n', "row 2: not readable as CSV"),
    "text id": (f"{SHORT}\nC1,2,x\n", "row 2: customer_id 'C1' is not an integer"),
    "underscored id": (f"{SHORT}\n1_000,2,x\n", "row 2: customer_id '1_000' is not an integer"),
    "decimal id": (f"{SHORT}\n1.0,2,x\n", "row 2: customer_id '1.0' is not an integer"),
    "id beyond a long": (f"{SHORT}\n{2**63},2,x\n",
                         f"row 2: customer_id {2**63} is not between 1 and {2**63 - 1}"),
    "zero id": (f"{SHORT}\n0,2,x\n", "row 2: customer_id 0 is not between 1"),
    "segment beyond an int": (f"{SHORT}\n1,{2**31},x\n",
                              f"row 2: segment_id {2**31} is not between 1 and {2**31 - 1}"),
    "NaN segment": (f"{SHORT}\n1,NaN,x\n", "row 2: segment_id 'NaN' is not an integer"),
    "empty segment": (f"{SHORT}\n1,,x\n", "row 2: segment_id '' is not an integer"),
    "empty label": (f"{SHORT}\n1,2,  \n", "row 2: segment_label is empty"),
    "customer twice": (f"{SHORT}\n1,2,x\n1,3,y\n", "row 3: customer 1 twice (first in row 2)"),
    "NaN income": (f"{SEGMENTS_HEADER}\n1,Male,19,NaN,39,2,x,created,0.1\n",
                   "row 2: annual_income_k 'NaN' is not a finite number"),
    "infinite score": (f"{SEGMENTS_HEADER}\n1,Male,19,15,inf,2,x,created,0.1\n",
                       "row 2: spending_score 'inf' is not a finite number"),
    "age out of range": (f"{SEGMENTS_HEADER}\n1,Male,190,15,39,2,x,created,0.1\n",
                         "row 2: age 190 is not between 0 and 130"),
    "unknown gender": (f"{SEGMENTS_HEADER}\n1,Robot,19,15,39,2,x,created,0.1\n",
                       "row 2: gender 'Robot' is not one of Female, Male"),
    "unknown origin": (f"{SEGMENTS_HEADER}\n1,Male,19,15,39,2,x,guessed,0.1\n",
                       "row 2: segment_origin 'guessed' is not one of created, assigned"),
    "negative distance": (f"{SEGMENTS_HEADER}\n1,Male,19,15,39,2,x,created,-1\n",
                          "row 2: distance_to_centroid -1 is not between 0 and inf"),
    "not UTF-8": (f"{SHORT}\n1,2,x\n2,2,".encode() + b"caf\xe9\n",
                  "row 3: not UTF-8 text (byte 0xe9)"),
}  # fmt: skip


def test_a_missing_table_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(CatalogueFileError, match=r"segments\.csv: file not found \(run `make"):
        read_segment_table(tmp_path / "segments.csv")


def test_the_simulator_needs_the_customers_columns_too(tmp_path: Path) -> None:
    path = _write(tmp_path, "segments.csv", f"{SHORT}\n1,2,x\n")
    assert len(read_segment_table(path, required=LOOKUP_COLUMNS)) == 1
    with pytest.raises(CatalogueFileError, match=r"column\(s\) gender, age, annual_income_k"):
        read_segment_table(path, required=SEGMENT_COLUMNS[:7])


BAD_OFFER_FILES = {
    "empty": ("", "the file is empty"),
    "header only": (f"{OFFERS_HEADER}\n", "no offers (a header and no rows)"),
    "no discount column": ("segment_id,offer_code,message\n1,A,m\n",
                           "row 1: missing column(s) discount_pct"),
    "discount as text": (f"{OFFERS_HEADER}\n1,x,A,msg,ten,why\n",
                         "row 2: discount_pct 'ten' is not a number"),
    "NaN discount": (f"{OFFERS_HEADER}\n1,x,A,msg,NaN,why\n",
                     "row 2: discount_pct 'NaN' is not a finite number"),
    "Java-only number": (f"{OFFERS_HEADER}\n1,x,A,msg,10d,why\n",
                         "row 2: discount_pct '10d' is not a number"),
    "over 100 %": (f"{OFFERS_HEADER}\n1,x,A,msg,150,why\n",
                   "row 2: discount_pct 150 is not between 0 and 100"),
    "negative discount": (f"{OFFERS_HEADER}\n1,x,A,msg,-5,why\n",
                          "row 2: discount_pct -5 is not between 0 and 100"),
    "no offer code": (f"{OFFERS_HEADER}\n1,x, ,msg,10,why\n", "row 2: offer_code is empty"),
    "no message": (f"{OFFERS_HEADER}\n1,x,A,,10,why\n", "row 2: message is empty"),
    "segment twice": (f"{OFFERS_HEADER}\n{OFFER_1}\n1,x,B,msg,10,why\n",
                      "row 3: segment 1 twice (first in row 2)"),
    "a blank last line": (f"{OFFERS_HEADER}\n{OFFER_1}\n\n", "row 3: blank line"),
}  # fmt: skip


BAD_FILES = [
    *(("segments.csv", read_segment_table, case, *rest)
      for case, rest in BAD_SEGMENT_TABLES.items()),
    *(("segment_offers.csv", read_segment_offers, case, *rest)
      for case, rest in BAD_OFFER_FILES.items()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "reader", "case", "content", "problem"), BAD_FILES,
    ids=[f"{name}: {case}" for name, _, case, _, _ in BAD_FILES],
)  # fmt: skip
def test_a_bad_catalogue_file_is_refused_naming_file_row_and_problem(
    tmp_path: Path, name: str, reader: Callable[[Path], object], case: str,
    content: str | bytes, problem: str,
) -> None:  # fmt: skip
    path = _write(tmp_path, name, content)
    with pytest.raises(CatalogueFileError) as refused:
        reader(path)
    assert str(refused.value).startswith(f"{path}: {problem}")


def test_a_segment_without_an_offer_is_refused(tmp_path: Path) -> None:
    segments = _write(tmp_path, "segments.csv", f"{SHORT}\n1,2,x\n2,7,y\n")
    offers = _write(tmp_path, "segment_offers.csv", f"{OFFERS_HEADER}\n{OFFER_1}\n{OFFER_2}\n")
    with pytest.raises(CatalogueFileError) as refused:
        read_catalogue(segments, offers)
    assert str(refused.value) == f"{segments}: row 3: segment 7 has no offer in {offers}"


# Files on which the pipeline's own reader fails inside a running task (each would fail the job
# again at every restart): the reason the checks above refuse them.
JAVA_FAILURES = (
    "empty", "a blank line", "a blank last line", "too many fields", "too few fields",
    "unclosed quote", "text id", "underscored id", "decimal id", "id beyond a long",
    "segment beyond an int", "NaN segment", "empty segment", "not UTF-8",
)  # fmt: skip


JavaLookup = Callable[[int, Path, Path], Any]


@pytest.fixture(scope="module")
def java_lookup() -> JavaLookup:
    """CUSTOMER_SEGMENT itself, called through PyFlink's JVM (no cluster needed)."""
    from pyflink.java_gateway import get_gateway

    gateway = get_gateway()

    def lookup(customer_id: int, segments_csv: Path, offers_csv: Path) -> object:
        function = gateway.jvm.com.pizzario.flink.CustomerSegment()  # a fresh catalogue
        return function.eval(gateway.jvm.java.lang.Long(customer_id), str(segments_csv),
                             str(offers_csv))  # fmt: skip

    return lookup


@pytest.mark.slow
@pytest.mark.parametrize("case", JAVA_FAILURES)
def test_the_pipelines_reader_fails_on_what_is_refused(
    tmp_path: Path, case: str, java_lookup: JavaLookup
) -> None:
    from py4j.protocol import Py4JJavaError

    offers = _write(tmp_path, "segment_offers.csv", f"{OFFERS_HEADER}\n{OFFER_1}\n{OFFER_2}\n")
    segments = _write(tmp_path, "segments.csv", BAD_SEGMENT_TABLES[case][0])
    with pytest.raises(Py4JJavaError):
        java_lookup(1, segments, offers)


@pytest.mark.slow
def test_the_pipelines_reader_reads_an_accepted_table_alike(
    tmp_path: Path, java_lookup: JavaLookup
) -> None:
    offers = _write(tmp_path, "segment_offers.csv", f"{OFFERS_HEADER}\n{OFFER_1}\n{OFFER_2}\n")
    segments = _write(
        tmp_path, "segments.csv",
        '\ufeffcustomer_id,segment_id,segment_label\r\n 7 ,+2,"a label, with a comma"\r\n',
    )  # fmt: skip
    (row,) = read_segment_table(segments)
    found = java_lookup(7, segments, offers)
    assert [found.getField(i) for i in range(5)] == [
        row.segment_id, row.segment_label, "NEWPIZZA-SAVER", "Try it for 25% less", 25.0,
    ]  # fmt: skip
