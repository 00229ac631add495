"""core.data reads .xlsx and .ods workbooks built here with openpyxl and pandas (issue 13, item 1)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.data import BinaryFileError, FormulaError, load_series, read_file
from core.errors import InputError

DAYS = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(30)]


def workbook_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def two_sheets() -> bytes:
    """A notes sheet, then the data: a title and a source line above a header, serial dates."""
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active["A1"] = "Sales of the two shops, from the till."
    data = book.create_sheet("Sales")
    data["A1"] = "Daily sales report"
    data["A2"] = "Source: the till, exported by hand"
    data.append(["day", "north", "south"])
    for i, day in enumerate(DAYS):
        serial = (day - dt.date(1899, 12, 30)).days  # stored as a plain number, no date format
        data.append([serial, 100 + i, 50 + 2 * i])
    return workbook_bytes(book)


def test_a_workbook_with_two_sheets_notes_above_the_header_and_serial_dates():
    table = read_file(two_sheets())
    assert table.sheets == ("Read me", "Sales")
    assert table.sheet == "Sales"  # the notes sheet holds no table
    assert list(table.frame.columns) == ["day", "north", "south"]
    assert table.date_candidates[0] == "day"
    notes = " ".join(table.notes)
    assert "2 sheets" in notes and "Skipped 2 line(s) before the header (line 3)" in notes
    assert "Excel date serial numbers (45352 = 2024-03-01)" in notes
    series = load_series(two_sheets(), target="south")
    assert series.freq == "D"
    assert series.time[0] == pd.Timestamp("2024-03-01") and len(series) == 30
    np.testing.assert_array_equal(series.values, 50 + 2 * np.arange(30))


def test_the_sheet_can_be_chosen_by_name():
    with pytest.raises(InputError, match="Sheet 'Read me' has a header .* but no data rows"):
        load_series(two_sheets(), sheet="read me")  # case does not matter; that sheet is text
    with pytest.raises(InputError, match=r"no sheet named 'Totals'\. Its sheets are 'Read me', 'Sales'"):
        read_file(two_sheets(), sheet="Totals")


def test_real_dates_and_a_merged_header_row():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B1"] = "Visitors"
    sheet.merge_cells("B1:C1")  # a group header over two columns
    sheet.append(["when", "adults", "children"])
    for i, day in enumerate(DAYS):
        sheet.append([dt.datetime.combine(day, dt.time(13, 0)), 10.5 + i, i % 7])
    table = read_file(workbook_bytes(book))
    assert list(table.frame.columns) == ["when", "Visitors adults", "Visitors children"]
    assert "Header rows 1 and 2 (names merged over several columns) were read as one" in (
        " ".join(table.notes))
    assert table._raw["when"].iloc[0] == "2024-03-01 13:00"
    assert table.numeric_candidates[:2] == ["Visitors adults", "Visitors children"]
    series = load_series(workbook_bytes(book))
    assert series.name == "Visitors adults" and series.values[1] == 11.5
    assert series.time[0] == pd.Timestamp("2024-03-01 13:00")


def test_a_title_above_the_header_is_not_merged_into_it():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Visitors per day"
    sheet.append(["date", "north", "south"])
    for i, day in enumerate(DAYS):
        sheet.append([day, i, 2 * i])
    table = read_file(workbook_bytes(book))
    assert list(table.frame.columns) == ["date", "north", "south"]
    assert "Skipped 1 line(s) before the header (line 2)" in " ".join(table.notes)


def formulas(cached: bool) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["date", "price", "revenue"])
    for i, day in enumerate(DAYS):
        sheet.append([day, 2 + i % 5, f"=B{i + 2}*10"])
    data = workbook_bytes(book)
    if not cached:
        return data  # openpyxl saves formulas without results, as a script would
    # What Excel writes: each formula beside its last result.
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(
                    rb"<f>B(\d+)\*10</f><v\s*/>",
                    lambda m: b"<f>B%s*10</f><v>%d</v>" % (m.group(1), 10 * (2 + (int(m.group(1)) - 2) % 5)),
                    content,
                )
            target.writestr(item, content)
    return out.getvalue()


def test_formulas_are_read_from_their_saved_results():
    series = load_series(formulas(cached=True), target="revenue")
    np.testing.assert_array_equal(series.values[:6], [20, 30, 40, 50, 60, 20])


def test_formulas_without_saved_results_are_refused_in_plain_words():
    with pytest.raises(FormulaError, match=r"30 formula\(s\) whose results were never saved "
                       r"\(cell C2 holds =B2\*10\).*Open it in Excel or LibreOffice and save it again"):
        read_file(formulas(cached=False))


def test_an_ods_workbook_reads_like_an_xlsx_one():
    frame = pd.DataFrame({"month": pd.date_range("2020-01-01", periods=24, freq="MS"),
                          "sales": np.arange(24) * 1.5 + 3})
    buffer = io.BytesIO()
    frame.to_excel(buffer, engine="odf", index=False, sheet_name="Monthly")
    table = read_file(buffer.getvalue())
    assert table.sheet == "Monthly"
    series = load_series(buffer.getvalue())
    assert series.freq == "MS" and len(series) == 24 and series.values[1] == 4.5


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("chart.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(100), "'chart.xlsx' is named like a workbook but is a PNG image"),
        ("old.xls", b"\xd0\xcf\x11\xe0" + bytes(100), "old Excel (.xls) workbook"),
        ("broken.xlsx", b"PK\x03\x04" + bytes(100), "is damaged"),
        ("photos.xlsx", None, "a zip archive, not an Excel (.xlsx) or OpenDocument (.ods) workbook"),
    ],
)
def test_files_that_are_not_workbooks_get_a_plain_message(tmp_path, name, data, expected):
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("holiday.jpg", b"\xff\xd8\xff")
        data = buffer.getvalue()
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(BinaryFileError, match=re.escape(expected)):
        read_file(path)


def test_an_empty_sheet_is_named():
    book = openpyxl.Workbook()
    book.active.title = "Blank"
    with pytest.raises(InputError, match="Sheet 'Blank' is empty"):
        read_file(workbook_bytes(book))


def test_a_csv_still_reads_through_read_file(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("month,sales\n" + "\n".join(f"2020-{m:02d},{m}" for m in range(1, 13)))
    table = read_file(path)
    assert table.sheet is None and table.sep == "," and table.numeric_candidates == ["sales"]


def ods_bytes() -> bytes:
    frame = pd.DataFrame({"month": pd.date_range("2020-01-01", periods=24, freq="MS"),
                          "sales": np.arange(24.0)})
    buffer = io.BytesIO()
    frame.to_excel(buffer, engine="odf", index=False)
    return buffer.getvalue()


@pytest.mark.parametrize("make", [two_sheets, lambda: formulas(cached=True), ods_bytes])
def test_damaged_workbooks_raise_only_plain_input_errors(make):
    """Cut short, bytes changed, a block zeroed: a message, never a zlib or XML traceback."""
    import random

    rng = random.Random(13)
    original = make()
    refused = 0
    for trial in range(60):
        data = bytearray(original)
        if trial % 3 == 0:
            data = data[: rng.randrange(4, len(data))]
        elif trial % 3 == 1:
            for _ in range(rng.randrange(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            start = rng.randrange(len(data))
            data[start : start + 50] = bytes(50)
        try:
            read_file(bytes(data))
        except InputError:
            refused += 1
    assert refused >= 30  # most damage is seen; what is not still reads as a table
