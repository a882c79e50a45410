"""Bad input files are refused with the file and the problem before the cluster is touched."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from flink_jobs import cli
from flink_jobs.preflight import InputFileError, check_inputs, rules_refusal
from flink_jobs.rules import RulesError
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
    "empty": ("", "the file is empty (no header, no rows)"),
    "header only": (SEGMENTS_HEADER + "\n", "no customers"),
    "no segment column": ("customer_id,segment_label\n1,x\n", "missing column(s) segment_id"),
    "text id": (SEGMENTS_HEADER + "\nC1,Male,19,15,39,2,low\n",
                "row 2: customer_id 'C1' is not an integer"),
    "NaN segment": (SEGMENTS_HEADER + "\n1,Male,19,15,39,NaN,low\n",
                    "row 2: segment_id 'NaN' is not an integer"),
    "short row": (SEGMENTS_HEADER + "\n1,Male,19\n", "row 2: 3 fields, the header has 7"),
    "blank last line": (SEGMENTS_HEADER + "\n1,Male,19,15,39,2,low\n\n", "row 3: blank line"),
    "underscored id": (SEGMENTS_HEADER + "\n1_000,Male,19,15,39,2,low\n",
                       "row 2: customer_id '1_000' is not an integer"),
    "twice": (SEGMENTS_HEADER + "\n1,Male,19,15,39,2,low\n1,Male,19,15,39,2,low\n",
              "row 3: customer 1 twice (first in row 2)"),
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
    "over 100 %": ("1,x,A,msg,150,why\n", "row 2: discount_pct 150 is not between 0 and 100"),
    "NaN discount": ("1,x,A,msg,NaN,why\n", "row 2: discount_pct 'NaN' is not a finite"),
    "no message": ("1,x,A,,10,why\n", "row 2: message is empty"),
    "no offer code": ("1,x, ,msg,10,why\n", "row 2: offer_code is empty"),
    "segment twice": ("1,x,A,msg,10,why\n1,x,B,msg,10,why\n",
                      "row 3: segment 1 twice \\(first in row 2\\)"),
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
    with pytest.raises(InputFileError, match=r"opt_outs.csv: row 2: customer_id 'seven'"):
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
    monkeypatch.setenv("PIZZARIO_PATHS_STATE_DIR", str(tmp_path / "state"))
    for command in (["submit"], ["apply-rules"], ["resume"], ["check-rules"]):
        assert cli.main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {segments}: row 2: customer_id 'C1' is not an integer")
        assert "Traceback" not in err



def test_a_mall_time_zone_flink_does_not_know_is_refused(tmp_path: Path) -> None:
    config = _inputs(tmp_path)
    layout = json.loads(config.paths.mall_json.read_text())
    layout["timezone"] = "Asia/Bangalore"
    config.paths.mall_json.write_text(json.dumps(layout))
    with pytest.raises(InputFileError) as refused:
        check_inputs(config, config.paths.offer_rules_sql)
    assert str(refused.value) == (
        f"{config.paths.mall_json}: timezone: unknown time zone 'Asia/Bangalore' "
        "(expected e.g. 'Asia/Kolkata')"
    )


def test_an_opt_out_list_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    config = _inputs(tmp_path)
    config.paths.opt_outs_csv.write_bytes(b"customer_id,note\n7,caf\xe9\n")
    with pytest.raises(InputFileError, match=r"opt_outs\.csv: row 2: not UTF-8 text \(byte 0xe9\)"):
        check_inputs(config, config.paths.offer_rules_sql)


# What flink_jobs.rules raises for a typo, as py4j hands the planner's exception on.
PLANNER_REFUSAL = """rules.sql does not plan:
An error occurred while calling o8.executeSql.
: org.apache.calcite.runtime.CalciteContextException: From line 2, column 11 to line 2, \
column 20: Column 'offer_kode' not found in any table
Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Column 'offer_kode' not found
\t... 38 more"""


def test_a_refused_rules_file_is_told_in_one_line() -> None:
    assert rules_refusal(RulesError(PLANNER_REFUSAL.replace("\\\n", ""))) == (
        "rules.sql: does not plan: From line 2, column 11 to line 2, column 20: "
        "Column 'offer_kode' not found in any table"
    )
    graph = RulesError("r.sql changes the job's operator graph (31 operators before, 33 after)")
    assert rules_refusal(graph) == (
        "r.sql: changes the job's operator graph (31 operators before, 33 after)"
    )


@pytest.mark.slow
def test_check_rules_names_the_file_and_the_planners_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.sql"
    rules.write_text(
        "-- a typo in a column name\n"
        "CREATE TEMPORARY VIEW offer_decisions AS\n"
        "SELECT *, offer_kode FROM dwell_triggers_known;\n"
    )
    assert cli.main(["check-rules", "--rules", str(rules)]) == 2
    # The planner counts lines from the statement's start, its leading comments included:
    # in a rules file of one statement, the file's own lines.
    assert capsys.readouterr().err == (
        f"error: {rules}: does not plan: From line 3, column 11 to line 3, column 20: "
        "Column 'offer_kode' not found in any table\n(the running job was not touched)\n"
    )
