"""The analyst's own files in the browser (issue 13): a workbook and a long file of several
series go through the real file chooser; a renamed image gets a plain message."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.driver import StreamlitApp

pytestmark = pytest.mark.browser


def choose_upload(app: StreamlitApp, path: Path) -> None:
    app.main.get_by_text("My own CSV file", exact=True).click()
    app.wait_idle()
    app.upload(path)


def write_workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active["A1"] = "Visitors per day, counted at the gate."
    sheet = book.create_sheet("Visitors")
    sheet["A1"] = "Daily visitors"
    sheet.append(["date", "temperature", "visitors"])
    for i in range(90):
        serial = (dt.date(2024, 3, 1) - dt.date(1899, 12, 30)).days + i  # Excel date serials
        sheet.append([serial, 10 + i % 9, 100 + (i % 7) * 10 + i])
    book.save(path)


def test_a_workbook_is_read_from_its_table_sheet(app, tmp_path):
    path = tmp_path / "visitors.xlsx"
    write_workbook(path)
    app.open("/Forecast")
    choose_upload(app, path)
    # The table sheet, past the title row, with serial dates read as days and visitors (not the
    # temperature) as the value column; the full start date is shown for daily data.
    # Generous: the first workbook read of a fresh server is slow on a loaded machine.
    expect(app.main.get_by_text(re.compile(r"visitors: 90 points from 2024-03-01"))).to_be_visible(
        timeout=30_000)
    expect(app.main.get_by_text(re.compile(r"Excel date serial numbers"))).to_be_visible()
    assert app.errors() == []
    expect(app.main.get_by_role("button", name="Train model")).to_be_enabled()
    app.choose("Sheet", "Read me")
    expect(app.page.locator('[data-testid="stAlertContentError"]').first).to_contain_text(
        "Sheet 'Read me' of 'visitors.xlsx'")
    expect(app.main.get_by_role("button", name="Train model")).to_be_disabled()
    app.assert_no_traceback()


def test_a_long_file_asks_which_series(app, tmp_path):
    path = tmp_path / "stores.csv"
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    rows = [f"{d},{store},{base + i}" for store, base, length in (("north", 100, 60),
                                                                  ("south", 300, 45))
            for i, d in enumerate(days[:length])]
    path.write_text("date,store,sales\n" + "\n".join(rows))
    app.open("/Forecast")
    choose_upload(app, path)
    expect(app.main.get_by_text(re.compile(r"2 series in this file \(column 'store'\)"))).to_be_visible()
    expect(app.main.get_by_text(re.compile(r"sales \(north\): 60 points"))).to_be_visible()
    app.choose("Series", "south")
    expect(app.main.get_by_text(re.compile(r"sales \(south\): 45 points"))).to_be_visible()
    assert app.errors() == []
    app.assert_no_traceback()


def test_a_renamed_image_gets_a_plain_message(app, tmp_path):
    path = tmp_path / "chart.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    app.open("/Forecast")
    choose_upload(app, path)
    expect(app.page.locator('[data-testid="stAlertContentError"]').first).to_contain_text(
        "named like a workbook but is a PNG image")
    app.assert_no_traceback()
