"""The forecast page's data step with the analyst's own files: workbooks (issue 13)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from app_helpers import page, texts

from ui.jobs import job_manager
from ui.loaders import fingerprint

PAGE = "pages/1_Forecast.py"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def own_file(name: str, data: bytes, mime: str = XLSX):
    at = page(PAGE)
    at.radio(key="fc_source").set_value("My own CSV file").run()
    at.file_uploader(key="fc_upload").set_value((name, data, mime))
    at.run()
    return at


def two_sheet_workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active["A1"] = "Daily visitors, counted at the gate."
    sheet = book.create_sheet("Visitors")
    sheet["A1"] = "Visitors per day"
    sheet.append(["date", "visitors"])
    for i in range(60):
        sheet.append([dt.date(2024, 3, 1) + dt.timedelta(days=i), 100 + (i % 7) * 10 + i])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_upload_reads_its_table_sheet():
    book = two_sheet_workbook()
    at = own_file("visitors.xlsx", book)
    assert not at.exception and not at.error, texts(at.error)
    assert "60 points" in " ".join(texts(at.markdown))
    sheet = at.selectbox(key=f"fc_sheet_{fingerprint(book)}")
    assert sheet.options == ["automatic: the first sheet with a table", "Read me", "Visitors"]
    assert "Read from sheet **Visitors**" in " ".join(texts(at.caption))
    assert at.button(key="train").disabled is False


def test_choosing_a_sheet_without_a_table_says_so():
    book = two_sheet_workbook()
    at = own_file("visitors.xlsx", book)
    at.selectbox(key=f"fc_sheet_{fingerprint(book)}").set_value("Read me").run()
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert "Sheet 'Read me' of 'visitors.xlsx' has a header" in errors, errors
    assert at.button(key="train").disabled is True


def test_a_renamed_image_is_refused_in_plain_words():
    at = own_file("chart.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert "'chart.xlsx' is named like a workbook but is a PNG image" in errors, errors


def long_csv() -> bytes:
    """3 stores of unequal length (A 40 days, B 30, C 5)."""
    import pandas as pd

    days = pd.date_range("2024-01-01", periods=40, freq="D")
    rows = [f"{d:%Y-%m-%d},A,{100 + i}" for i, d in enumerate(days)]
    rows += [f"{d:%Y-%m-%d},B,{200 + 2 * i}" for i, d in enumerate(days[10:])]
    rows += [f"{d:%Y-%m-%d},C,{7 + i}" for i, d in enumerate(days[:5])]
    return ("date,store,sales\n" + "\n".join(rows)).encode()


def series_key(at) -> str:
    return f"fc_series_{fingerprint(long_csv())}"


def test_a_long_file_asks_which_series_and_forecasts_the_one_chosen():
    at = own_file("stores.csv", long_csv(), "text/csv")
    assert not at.exception and not at.error, texts(at.error)
    choice = at.selectbox(key=series_key(at))
    assert choice.options == ["A", "B", "C"] and choice.value == "A"
    assert "3 series in this file (column 'store')" in " ".join(texts(at.caption))
    assert "40 points" in " ".join(texts(at.markdown))
    choice.set_value("B").run()
    assert "30 points" in " ".join(texts(at.markdown))
    at.selectbox(key=series_key(at)).set_value("C").run()
    errors = " ".join(texts(at.error))
    assert "Column 'sales' of series 'C' gives only 5 usable value(s)" in errors, errors
    assert at.button(key="train").disabled is True


def test_the_frequency_can_be_overridden():
    import pandas as pd

    days = pd.date_range("2024-01-01", periods=140, freq="D")  # 20 weeks from a Monday
    text = "date,visits\n" + "\n".join(f"{d:%Y-%m-%d},{i}" for i, d in enumerate(days))
    at = own_file("visits.csv", text.encode(), "text/csv")
    assert "140 points" in " ".join(texts(at.markdown))
    key = f"fc_freq_{fingerprint(text.encode())}"
    at.selectbox(key=key).set_value("W-MON").run()
    assert not at.exception and not at.error, texts(at.error)
    summary = " ".join(texts(at.markdown))
    assert "20 points" in summary and "weekly" in summary, summary


def test_an_input_looking_column_is_not_the_default_and_a_guess_is_asked_about():
    import pandas as pd

    days = pd.date_range("2024-01-01", periods=30, freq="D")
    demand = "date,temperature,demand\n" + "\n".join(
        f"{d:%Y-%m-%d},{10 + i % 5},{100 + 3 * i}" for i, d in enumerate(days))
    at = own_file("demand.csv", demand.encode(), "text/csv")
    assert at.selectbox(key=f"fc_target_{fingerprint(demand.encode())}").value == "demand"
    assert not any("Which column" in text for text in texts(at.info))
    wide = "date,north,south\n" + "\n".join(
        f"{d:%Y-%m-%d},{10 + i % 5},{100 + 3 * i}" for i, d in enumerate(days))
    at = own_file("regions.csv", wide.encode(), "text/csv")
    assert any("Columns 'north', 'south' could each be the one to forecast" in text
               for text in texts(at.info)), texts(at.info)
