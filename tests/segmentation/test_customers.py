"""Customer CSV validation: each problem is named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentation.customers import CustomerInputError, read_customers

HEADER = "CustomerID,Gender,Age,Annual Income (k$),Spending Score (1-100)\n"
GOOD_ROWS = "1,Male,19,15,39\n2,Female,21,15,81\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_the_course_file_shape(tmp_path: Path) -> None:
    customers = read_customers(_write(tmp_path, HEADER + GOOD_ROWS))
    assert customers.customer_id.tolist() == [1, 2]
    assert customers.gender.tolist() == ["Male", "Female"]
    assert customers.spending_score.tolist() == [39.0, 81.0]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", None, "the file is empty"),
        (HEADER, None, "header but no customer rows"),
        ("CustomerID,Gender,Age,Spending Score (1-100)\n1,Male,19,39\n", 1,
         "missing column(s): Annual Income (k$)"),
        (HEADER + GOOD_ROWS + "3,Male,abc,20,30\n", 4, "Age 'abc' is not a number"),
        (HEADER + GOOD_ROWS + "3,Other,30,20,30\n", 4, "Gender 'Other' is not one of"),
        (HEADER + GOOD_ROWS + "2,Male,30,20,30\n", 4, "CustomerID 2 repeats line 3"),
        (HEADER + GOOD_ROWS + "3,Male,30,20,130\n", 4, "Spending Score (1-100) '130' is outside"),
        (HEADER + GOOD_ROWS + "x,Male,30,20,30\n", 4, "CustomerID 'x' is not an integer"),
        (HEADER + "1,Male,19,15\n", 2, "4 fields, expected 5"),
        (HEADER + GOOD_ROWS + "3,Male,NaN,20,30\n", 4, "Age 'NaN' is not a finite number"),
        (HEADER + GOOD_ROWS + "3,Male,30,inf,30\n", 4,
         "Annual Income (k$) 'inf' is not a finite number"),
        (HEADER + GOOD_ROWS + "-3,Male,30,20,30\n", 4, "CustomerID '-3' is not positive"),
    ],
)
def test_each_problem_is_named(
    tmp_path: Path, text: str, line: int | None, problem: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CustomerInputError) as caught:
        read_customers(path)
    assert caught.value.row == line
    assert problem in caught.value.problem
    where = str(path) if line is None else f"{path}, line {line}"
    assert str(caught.value).startswith(where + ": ")


def test_blank_lines_do_not_shift_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "\n1,Male,19,15,39\n\n2,Robot,21,15,81\n")
    with pytest.raises(CustomerInputError, match="line 5: Gender 'Robot'"):
        read_customers(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CustomerInputError, match=r"nowhere\.csv: cannot be read"):
        read_customers(tmp_path / "nowhere.csv")


def test_a_file_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes((HEADER + GOOD_ROWS).encode() + b"3,Male,30,20,30\n4,Fem\xe4le,30,20,30\n")
    with pytest.raises(CustomerInputError) as caught:
        read_customers(path)
    assert str(caught.value) == (
        f"{path}, line 5: not UTF-8 text (byte 0xe4); save it as UTF-8"
    )


def test_a_byte_order_mark_is_not_part_of_the_header(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD_ROWS).encode())
    assert read_customers(path).customer_id.tolist() == [1, 2]


def test_a_folder_is_named_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "customers.csv"
    folder.mkdir()
    with pytest.raises(CustomerInputError, match=r"customers\.csv: cannot be read \(Is a direc"):
        read_customers(folder)
