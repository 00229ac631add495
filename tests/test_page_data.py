"""The forecast page's data step with the analyst's own files: workbooks (issue 13)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from app_helpers import page, texts

from ui.jobs import job_manager

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
    at = own_file("visitors.xlsx", two_sheet_workbook())
    assert not at.exception and not at.error, texts(at.error)
    assert "60 points" in " ".join(texts(at.markdown))
    sheet = at.selectbox(key=next(k for k in at.session_state if str(k).startswith("fc_sheet_")))
    assert sheet.options == ["automatic: the first sheet with a table", "Read me", "Visitors"]
    assert "Read from sheet **Visitors**" in " ".join(texts(at.caption))
    assert at.button(key="train").disabled is False


def test_choosing_a_sheet_without_a_table_says_so():
    at = own_file("visitors.xlsx", two_sheet_workbook())
    key = next(k for k in at.session_state if str(k).startswith("fc_sheet_"))
    at.selectbox(key=key).set_value("Read me").run()
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert "Sheet 'Read me' of 'visitors.xlsx' has a header" in errors, errors
    assert at.button(key="train").disabled is True


def test_a_renamed_image_is_refused_in_plain_words():
    at = own_file("chart.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert "'chart.xlsx' is named like a workbook but is a PNG image" in errors, errors
