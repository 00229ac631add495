"""Every series of a file at once, in the browser (issue 13, item 2): a long CSV of three stores
is read (the 5-point store named in a note), then a workbook holding a long table of two stores
is forecast with one network, its per-series scores read and every forecast downloaded."""

from __future__ import annotations

import csv
import datetime as dt
import re
import time
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.driver import TRAINING_TIMEOUT_MS, StreamlitApp

pytestmark = pytest.mark.browser

DOWNLOAD = "Download every forecast (CSV)"
MONTHS = [dt.date(2015 + i // 12, i % 12 + 1, 1) for i in range(60)]


def sales(store: int, step: int) -> float:
    return round((100, 900)[store] * (1 + 0.2 * ((step % 12) in (5, 6, 7)) + 0.003 * step), 2)


def write_long_csv(path: Path) -> None:
    rows = [f"{MONTHS[i]},{name},{sales(k, i)}" for k, (name, length) in
            enumerate((("north", 60), ("south", 48))) for i in range(length)]
    rows += [f"{MONTHS[i]},tiny,{10 + i}" for i in range(5)]
    path.write_text("month,store,sales\n" + "\n".join(rows))


def write_workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sales"
    sheet["A1"] = "Monthly sales per store"
    sheet.append(["month", "store", "sales"])
    for k, (name, length) in enumerate((("north", 60), ("south", 48))):
        for i in range(length):
            sheet.append([MONTHS[i], name, sales(k, i)])
    book.save(path)


def choose_upload(app: StreamlitApp, path: Path) -> None:
    if app.main.get_by_text("My own CSV file", exact=True).count():
        app.main.get_by_text("My own CSV file", exact=True).click()
        app.wait_idle()
    app.upload(path)


def test_forecast_every_series_of_a_long_file_and_download_them(app, tmp_path):
    app.open("/Forecast")
    long_csv = tmp_path / "stores.csv"
    write_long_csv(long_csv)
    choose_upload(app, long_csv)
    app.main.get_by_text("Forecast all series", exact=True).click()
    app.wait_idle()
    expect(app.main.get_by_text(re.compile(r"2 series will be forecast with one network"))
           ).to_be_visible()
    expect(app.main.get_by_text(re.compile(r"'tiny' \(5 usable point\(s\)")).first).to_be_visible()

    book = tmp_path / "stores.xlsx"
    write_workbook(book)
    app.upload(book)
    # A new file: the switch is off again until chosen for it.
    app.main.get_by_text("Forecast all series", exact=True).click()
    app.wait_idle()
    expect(app.main.get_by_text(re.compile(r"2 series will be forecast with one network "
                                           r"\(north, south\)"))).to_be_visible(timeout=30_000)
    app.set_number("Epochs", 3)
    app.main.get_by_role("button", name="Train one network on all 2 series").click()

    deadline = time.monotonic() + TRAINING_TIMEOUT_MS / 1000
    download = app.main.get_by_role("button", name=DOWNLOAD)
    while download.count() == 0:
        assert time.monotonic() < deadline, f"no results; the page says:\n{app.text()}"
        app.page.wait_for_timeout(500)
    app.wait_idle()
    assert app.errors() == []
    expect(app.main.get_by_text(re.compile(r"geometric-mean MASE")).first).to_be_visible()
    scores = app.main.locator('[data-testid="stDataFrame"]').nth(-2)
    expect(scores).to_be_visible()
    chart = app.chart("Series north")
    assert chart is not None, [c["title"] for c in app.charts()]

    with app.page.expect_download() as download_info:
        download.click()
    rows = list(csv.DictReader(open(download_info.value.path(), newline="")))
    stores = {row["store"] for row in rows}
    assert stores == {"north", "south"}, stores
    north = [row for row in rows if row["store"] == "north"]
    holdout = [row for row in north if row["part"] == "holdout"]
    future = [row for row in north if row["part"] == "future"]
    assert len(holdout) == len(future) == 12  # monthly: a year ahead, a year held out
    assert [float(row["actual"]) for row in holdout] == pytest.approx(
        [sales(0, i) for i in range(48, 60)])
    assert future[0]["time"].startswith("2020-01"), future[0]
    app.assert_no_traceback()
