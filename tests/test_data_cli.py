"""`python -m core forecast --data FILE.xlsx [--sheet NAME]`: workbooks on the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl

from tests.cli_helpers import assert_one_error_line

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def workbook(path: Path, length: int = 30) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "read me"
    sheet = book.create_sheet("Monthly")
    sheet.append(["month", "sales"])
    for i in range(length):
        sheet.append([f"{2001 + i // 12}-{i % 12 + 1:02d}", 50 + i % 12])
    book.save(path)
    return path


def test_help_names_the_sheet_option():
    result = run_cli("forecast", "--help")
    assert "--sheet" in result.stdout and ".xlsx" in result.stdout


def test_the_chosen_sheet_is_read(tmp_path):
    data = workbook(tmp_path / "sales.xlsx")
    result = run_cli("forecast", "--data", str(data), "--sheet", "Monthly", "--target", "price",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "no column named 'price'", "'month', 'sales'")


def test_an_unknown_sheet_is_one_error_line(tmp_path):
    data = workbook(tmp_path / "sales.xlsx")
    result = run_cli("forecast", "--data", str(data), "--sheet", "Totals",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "no sheet named 'Totals'", "'Notes', 'Monthly'")


def test_a_renamed_png_is_one_error_line(tmp_path):
    data = tmp_path / "chart.xlsx"
    data.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = run_cli("forecast", "--data", str(data), "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "named like a workbook but is a PNG image")


def test_id_columns_repeat_or_split_on_commas():
    import argparse

    from core.forecasting_cli import id_columns

    assert id_columns(argparse.Namespace(id_col=None)) is None
    assert id_columns(argparse.Namespace(id_col=["store, product", "region"])) == [
        "store", "product", "region"]


def test_help_names_the_many_series_and_frequency_options():
    result = run_cli("forecast", "--help")
    assert "--id-col" in result.stdout and "--freq" in result.stdout


def long_file(path: Path) -> Path:
    """Three stores: A with 30 months, B with 7, C with 5."""
    rows = [f"{2001 + i // 12}-{i % 12 + 1:02d},{store},{50 + i % 12}"
            for store, length in (("A", 30), ("B", 7), ("C", 5)) for i in range(length)]
    path.write_text("month,store,sales\n" + "\n".join(rows))
    return path


def test_one_series_of_a_long_file_is_chosen_by_its_id(tmp_path):
    data = long_file(tmp_path / "stores.csv")
    result = run_cli("forecast", "--data", str(data), "--series", "B",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "series 'B' gives only 7 usable value(s)")
    result = run_cli("forecast", "--data", str(data), "--series", "Z",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "no series 'Z' in column 'store'", "'A', 'B', 'C'")


def test_an_id_with_five_points_is_one_error_line(tmp_path):
    data = long_file(tmp_path / "stores.csv")
    result = run_cli("forecast", "--data", str(data), "--series", "C", "--id-col", "store",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "series 'C' gives only 5 usable value(s)")


def test_a_frequency_finer_than_the_data_is_one_error_line(tmp_path):
    data = workbook(tmp_path / "sales.xlsx")
    result = run_cli("forecast", "--data", str(data), "--freq", "D",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "With the frequency set to daily", "Choose a coarser frequency")


def test_id_columns_without_a_series_ask_which_one(tmp_path):
    data = long_file(tmp_path / "stores.csv")
    result = run_cli("forecast", "--data", str(data), "--id-col", "store",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "3 series told apart by store (A, B, C)", "--series A")
