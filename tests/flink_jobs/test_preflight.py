"""Bad input files are refused with the file and the problem before the cluster is touched."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from flink_jobs import cli
from flink_jobs.preflight import InputFileError, check_inputs
from pizzario.config import Config, load_config

SEGMENTS_HEADER = "customer_id,gender,age,annual_income_k,spending_score,segment_id,segment_label"
OFFERS_HEADER = "segment_id,segment_label,offer_code,message,discount_pct,rationale"


def _inputs(tmp_path: Path) -> Config:
    """The shipped inputs, copied where a test may spoil one of them."""
    config = load_config({})
    copies = {}
    for name in ("segments_csv", "segment_offers_csv", "opt_outs_csv", "mall_json",
                 "offer_rules_sql"):
        source = getattr(config.paths, name)
        copies[name] = tmp_path / source.name
        shutil.copyfile(source, copies[name])
    return dataclasses.replace(config, paths=dataclasses.replace(config.paths, **copies))


def test_the_shipped_inputs_pass(tmp_path: Path) -> None:
    config = _inputs(tmp_path)
    check_inputs(config, config.paths.offer_rules_sql)


SEGMENT_FILES = {
    "no file": (None, "file not found"),
    "empty": ("", "missing column(s) customer_id, segment_id, segment_label"),
    "header only": (SEGMENTS_HEADER + "\n", "no customers"),
    "no segment column": ("customer_id,segment_label\n1,x\n", "missing column(s) segment_id"),
    "text id": (SEGMENTS_HEADER + "\nC1,Male,19,15,39,2,low\n",
                "row 2: customer_id 'C1' is not an integer"),
    "NaN segment": (SEGMENTS_HEADER + "\n1,Male,19,15,39,NaN,low\n",
                    "row 2: segment_id 'NaN' is not an integer"),
    "short row": (SEGMENTS_HEADER + "\n1,Male,19\n",
                  "row 2: no value for segment_id, segment_label"),
    "twice": (SEGMENTS_HEADER + "\n1,Male,19,15,39,2,low\n1,Male,19,15,39,2,low\n",
              "row 3: customer 1 twice"),
    "unknown segment": (SEGMENTS_HEADER + "\n1,Male,19,15,39,99,low\n",
                        "row 2: segment 99 has no offer in"),
    "not UTF-8": (b"customer_id,segment_id,segment_label\n1,2,\xff\xfe\n", "not UTF-8 text"),
}


@pytest.mark.parametrize("case", SEGMENT_FILES, ids=list(SEGMENT_FILES))
def test_a_bad_segments_csv_is_refused_with_the_file_and_the_problem(
    tmp_path: Path, case: str
) -> None:
    config = _inputs(tmp_path)
    content, problem = SEGMENT_FILES[case]
    path = config.paths.segments_csv
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputFileError) as refused:
        check_inputs(config, config.paths.offer_rules_sql)
    assert str(refused.value).startswith(f"{path}: ")
    assert problem in str(refused.value)


OFFER_FILES = {
    "discount as text": ("1,x,A,msg,ten,why\n", "row 2: discount_pct 'ten' is not a number"),
    "infinite discount": ("1,x,A,msg,inf,why\n", "row 2: discount_pct 'inf' is not a finite"),
    "over 100 %": ("1,x,A,msg,150,why\n", "row 2: discount_pct 150 is not a percentage"),
    "no offer code": ("1,x, ,msg,10,why\n", "row 2: offer_code is empty"),
    "segment twice": ("1,x,A,msg,10,why\n1,x,B,msg,10,why\n", "row 3: segment 1 twice"),
}


@pytest.mark.parametrize("case", OFFER_FILES, ids=list(OFFER_FILES))
def test_a_bad_segment_offers_csv_is_refused(tmp_path: Path, case: str) -> None:
    config = _inputs(tmp_path)
    rows, problem = OFFER_FILES[case]
    config.paths.segment_offers_csv.write_text(OFFERS_HEADER + "\n" + rows)
    with pytest.raises(InputFileError, match=problem):
        check_inputs(config, config.paths.offer_rules_sql)


def test_a_bad_opt_out_list_is_refused(tmp_path: Path) -> None:
    config = _inputs(tmp_path)
    config.paths.opt_outs_csv.write_text("customer_id,opted_out_at\nseven,2026-10-01\n")
    with pytest.raises(InputFileError, match=r"opt_outs.csv, row 2: customer_id 'seven'"):
        check_inputs(config, config.paths.offer_rules_sql)


@pytest.mark.parametrize("content", ["{ not json", '{"name": "x"}', ""],
                         ids=["not JSON", "missing keys", "empty"])
def test_a_bad_mall_layout_is_refused_naming_the_file(tmp_path: Path, content: str) -> None:
    config = _inputs(tmp_path)
    config.paths.mall_json.write_text(content)
    with pytest.raises(InputFileError) as refused:
        check_inputs(config, config.paths.offer_rules_sql)
    assert str(config.paths.mall_json) in str(refused.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "no SQL in the file"), (b"-- only a comment\n\n", "no SQL in the file"),
     (b"SELECT \xff", "not UTF-8 text")],
    ids=["empty", "comments only", "not UTF-8"],
)
def test_an_empty_rules_file_is_refused(tmp_path: Path, content: bytes, problem: str) -> None:
    config = _inputs(tmp_path)
    rules = tmp_path / "rules.sql"
    rules.write_bytes(content)
    with pytest.raises(InputFileError, match=problem):
        check_inputs(config, rules)


def test_the_command_line_names_the_file_and_touches_no_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    segments = tmp_path / "segments.csv"
    segments.write_text(SEGMENTS_HEADER + "\nC1,Male,19,15,39,2,low\n")
    monkeypatch.setenv("PIZZARIO_PATHS_SEGMENTS_CSV", str(segments))
    # Nothing listens here: a command that reached for the cluster would fail differently.
    monkeypatch.setenv("PIZZARIO_FLINK_REST_URL", "http://127.0.0.1:9")
    for command in (["submit"], ["apply-rules"]):
        assert cli.main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {segments}: row 2: customer_id 'C1' is not an integer")
        assert "Traceback" not in err
