"""`python -m core forecast --data FILE.xlsx [--sheet NAME]`: workbooks on the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

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


def stores_file(path: Path, lengths=(("A", 36), ("B", 30), ("C", 5))) -> Path:
    """Stores of unequal length (months), B's 2001-03 given twice (56 and 80)."""
    rows = [f"{2001 + i // 12}-{i % 12 + 1:02d},{store},{(100 if store == 'A' else 50) + i % 12 * 3}"
            for store, length in lengths for i in range(length)]
    rows.append("2001-03,B,80")
    path.write_text("month,store,sales\n" + "\n".join(rows))
    return path


@pytest.mark.slow
def test_id_columns_without_a_series_forecast_every_series(tmp_path):
    import json

    import pandas as pd

    data = stores_file(tmp_path / "stores.csv")
    out = tmp_path / "out"
    result = run_cli("forecast", "--data", str(data), "--id-col", "store", "--horizon", "6",
                     "--epochs", "2", "--units", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["series"]) == {"A", "B"}
    assert metrics["series"]["A"]["ids"] == {"store": "A"}
    assert set(metrics["series"]["B"]["baselines"]) >= {"naive", "seasonal_naive", "autoets"}
    assert metrics["overall"]["gmase"]["model"] > 0
    assert "'C' (5 usable point(s)" in " ".join(metrics["notes"])
    assert "duplicate" in " ".join(metrics["notes"]).lower()
    frame = pd.read_csv(out / "forecast.csv")
    assert list(frame.columns[:3]) == ["store", "time", "actual"]
    assert frame.groupby("store").size().to_dict() == {"A": 12, "B": 12}  # 6 holdout + 6 future
    assert "note: series 'C' was not forecast" in result.stdout


def test_id_columns_whose_series_are_all_too_short_are_one_error_line(tmp_path):
    data = stores_file(tmp_path / "stores.csv", (("B", 7), ("C", 5)))
    result = run_cli("forecast", "--data", str(data), "--id-col", "store",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "None of the 2 series", "'C' (5 usable point(s)")
