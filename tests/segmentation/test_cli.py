"""`python -m segmentation` end to end on temporary copies of the course data."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pizzario.config import load_config
from segmentation.cli import main
from segmentation.offers import OFFER_COLUMNS
from segmentation.outputs import SEGMENT_COLUMNS

NEW_CUSTOMERS = (
    "CustomerID,Gender,Age,Annual Income (k$),Spending Score (1-100)\n"
    "201,Female,30,90,90\n"
    "202,Male,60,20,10\n"
)


def _outputs(folder: Path) -> dict[str, Path]:
    return {
        "--segments": folder / "segments.csv",
        "--model": folder / "segment_model.json",
        "--offers": folder / "segment_offers.csv",
        "--plots-dir": folder / "img",
        "--report": folder / "segments.md",
    }


def _fit(tmp_path: Path, *extra: str) -> tuple[int, dict[str, Path]]:
    source = tmp_path / "customers.csv"
    if not source.exists():
        shutil.copy(load_config().paths.customers_csv, source)
    outputs = _outputs(tmp_path / "out")
    # Three restarts reproduce the 10-restart segments on this data and keep the test quick.
    args = ["fit", "--input", str(source), "--k-max", "7", "--n-init", "3"]
    for option, path in outputs.items():
        args += [option, str(path)]
    return main([*args, *extra]), outputs


def _files(outputs: dict[str, Path]) -> dict[str, bytes]:
    files = sorted(outputs["--plots-dir"].glob("*.png"))
    files += [path for option, path in outputs.items() if option != "--plots-dir"]
    return {path.name: path.read_bytes() for path in files}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    code, outputs = _fit(tmp_path_factory.mktemp("fit"))
    assert code == 0
    return outputs


def test_fit_writes_every_output(fitted: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    with fitted["--segments"].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == SEGMENT_COLUMNS
    assert len(rows) == 200
    assert {row["segment_origin"] for row in rows} == {"created"}
    assert {row["segment_id"] for row in rows} == {"1", "2", "3", "4", "5"}
    with fitted["--offers"].open(newline="") as handle:
        offers = list(csv.DictReader(handle))
    assert tuple(offers[0]) == OFFER_COLUMNS
    assert [o["offer_code"] for o in offers] == [
        "NEWPIZZA-VALUE", "NEWPIZZA-SAVER", "NEWPIZZA-LAUNCH", "NEWPIZZA-PREMIUM",
        "NEWPIZZA-TASTING"]
    model = json.loads(fitted["--model"].read_text())
    assert model["chosen_k"] == 5
    assert [s["size"] for s in model["segments"]] == [22, 23, 81, 39, 35]
    assert [m["k"] for m in model["metrics_per_k"]] == [2, 3, 4, 5, 6, 7]
    assert len(list(fitted["--plots-dir"].glob("segmentation_*.png"))) == 4
    assert "| 3 | average-income average-spending |" in fitted["--report"].read_text()


def test_fit_twice_gives_identical_bytes(tmp_path: Path, fitted: dict[str, Path]) -> None:
    code, outputs = _fit(tmp_path)
    assert code == 0
    assert _files(outputs) == _files(fitted)


def test_assign_appends_and_refuses_known_ids(tmp_path: Path, fitted: dict[str, Path]) -> None:
    table = tmp_path / "segments.csv"
    shutil.copy(fitted["--segments"], table)
    new = tmp_path / "new.csv"
    new.write_text(NEW_CUSTOMERS)
    args = ["assign", "--input", str(new), "--segments", str(table),
            "--model", str(fitted["--model"])]
    assert main(args) == 0
    lines = table.read_text().splitlines()
    assert len(lines) == 1 + 202
    assert lines[-2].startswith("201,Female,30,90,90,4,high-income high-spending,assigned,")
    assert lines[-1].startswith("202,Male,60,20,10,2,low-income low-spending,assigned,")
    before = table.read_bytes()
    assert main(args) == 2
    assert table.read_bytes() == before


def test_assign_to_its_own_file(tmp_path: Path, fitted: dict[str, Path]) -> None:
    new = tmp_path / "new.csv"
    new.write_text(NEW_CUSTOMERS)
    output = tmp_path / "assigned.csv"
    assert main(["assign", "--input", str(new), "--output", str(output),
                 "--model", str(fitted["--model"])]) == 0
    assert len(output.read_text().splitlines()) == 3


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "customers.csv"
    source.write_text(NEW_CUSTOMERS + "203,Male,41,oops,50\n")
    outputs = _outputs(tmp_path / "out")
    result = subprocess.run(
        [sys.executable, "-m", "segmentation", "fit", "--input", str(source),
         *[str(item) for pair in outputs.items() for item in pair]],
        capture_output=True, text=True, check=False, cwd=load_config().paths.repo_root,
    )
    assert result.returncode == 2
    assert f"{source}, line 4: Annual Income (k$) 'oops' is not a number" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_customer_file_that_is_not_utf8_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = tmp_path / "customers.csv"
    source.write_bytes(NEW_CUSTOMERS.encode() + b"203,M\xe4le,41,20,50\n")
    outputs = _outputs(tmp_path / "out")
    assert main(["fit", "--input", str(source),
                 *[str(item) for pair in outputs.items() for item in pair]]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {source}, line 4: not UTF-8 text (byte 0xe4); save it as UTF-8\n"
    assert not (tmp_path / "out").exists()


HEADER = "CustomerID,Gender,Age,Annual Income (k$),Spending Score (1-100)\n"


@pytest.mark.parametrize(
    ("customers", "message"),
    [
        (HEADER + "1,Male,30,40,50\n2,Female,31,60,70\n",
         "2 customer(s) with 2 distinct value(s) of annual_income_k, spending_score: "
         "segmenting needs at least 3 distinct customers"),
        (HEADER + "1,Male,30,40,50\n2,Female,35,40,50\n3,Male,40,40,50\n4,Male,45,40,50\n",
         "4 customer(s) with 1 distinct value(s)"),
    ],
)
def test_too_few_distinct_customers_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, customers: str, message: str
) -> None:
    (tmp_path / "customers.csv").write_text(customers)
    code, _ = _fit(tmp_path)
    assert code == 2
    assert f"error: {message}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--n-init", "0"], "argument --n-init: must be at least 1, got 0"),
        (["--k-max", "1"], "argument --k-max: must be at least 2, got 1"),
        (["--features", "bogus"], "argument --features: unknown feature(s) bogus; choose from "
         "gender, age, annual_income_k, spending_score"),
    ],
)
def test_bad_options_exit_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture, option: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        _fit(tmp_path, *option)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "JSONDecodeError"), ('{"features": 3}', "TypeError"), ("{}", "KeyError")],
)
def test_corrupt_model_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: str, reason: str
) -> None:
    model = tmp_path / "segment_model.json"
    model.write_text(content)
    output = tmp_path / "report.md"
    assert main(["report", "--model", str(model), "--output", str(output)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {model}: not a readable segment model ({reason}")
    assert not output.exists()


def test_corrupt_segment_table_exits_2(
    tmp_path: Path, fitted: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    table = tmp_path / "segments.csv"
    table.write_text("garbage,header\n1,2\n")
    output = tmp_path / "report.md"
    assert main(["report", "--segments", str(table), "--model", str(fitted["--model"]),
                 "--output", str(output)]) == 2
    assert f"error: {table}: not a segments table" in capsys.readouterr().err
    assert not output.exists()


def test_report_keeps_the_hand_measured_benchmark_section(
    tmp_path: Path, fitted: dict[str, Path]
) -> None:
    output = tmp_path / "segments.md"
    benchmark = "## Benchmark\n\nmeasured: ours 0.43 s, scikit-learn 1.03 s\n"
    output.write_text("# old note\n\n## Segments\n\nold\n\n" + benchmark)
    args = ["report", "--segments", str(fitted["--segments"]), "--model",
            str(fitted["--model"]), "--output", str(output)]
    assert main(args) == 0
    text = output.read_text()
    assert text.endswith("\n\n" + benchmark)
    assert text.count("## Benchmark") == 1 and "old\n" not in text
    assert main(args) == 0
    assert output.read_text() == text
