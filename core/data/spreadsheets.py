"""Workbooks (.xlsx through openpyxl, .ods through odfpy, both through pandas) -> a `Table`.

A sheet's cells become the same frame of text cells indexed by row number that the CSV reader
builds, so the header search (notes above the table), the column detection and every message
are the CSV path's own. What only a workbook has is handled here: several sheets, formulas
(their saved results are read), merged header cells, and dates stored as Excel serial numbers.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
import zlib
from typing import Any

import numpy as np
import pandas as pd

from core.data.base import (
    BinaryFileError,
    EmptyFileError,
    FormulaError,
    Table,
    _names,
    _shorten,
)
from core.data.numbers import _MISSING_TOKENS
from core.data.readers import (
    _NUMBER_OR_DATE,
    _SIGNATURES,
    _detect_decimal,
    _frame_from_rows,
    _table,
)
from core.data.times import _time_hint
from core.errors import InputError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")
# What the zip, XML and workbook readers raise on a damaged file (XML parse errors are
# SyntaxErrors); caught only around their calls.
_DAMAGED = (
    zipfile.BadZipFile, zlib.error, KeyError, OSError, EOFError, ValueError, TypeError,
    IndexError, AttributeError, NotImplementedError, SyntaxError, ArithmeticError,
)
_ENGINES = {"xlsx": "openpyxl", "ods": "odf"}
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # serial 1 is 1900-01-01 (Excel's leap-year quirk)


def is_workbook(data: bytes, name: str | None = None) -> bool:
    """True for bytes that start like a zip (xlsx, ods) or a name that ends like a workbook."""
    named = bool(name) and str(name).lower().endswith((*WORKBOOK_SUFFIXES, ".xls"))
    return data.startswith(b"PK\x03\x04") or named


def sheet_names(data: bytes) -> list[str]:
    """The sheets of an .xlsx or .ods workbook's bytes, in order; [] for anything else."""
    if not data.startswith(b"PK\x03\x04"):
        return []
    try:
        kind = _workbook_kind(data, "The file")
        return [str(name) for name in pd.ExcelFile(io.BytesIO(data), engine=_ENGINES[kind]).sheet_names]
    except (InputError, *_DAMAGED):
        return []


def read_spreadsheet(
    data: bytes, label: str, *, sheet: str | None = None, max_rows: int = 1_000_000
) -> Table:
    """Read one sheet of an .xlsx or .ods workbook's bytes into a `Table`.

    Args:
        sheet: the sheet's name; by default the first sheet that holds a table.

    Raises:
        BinaryFileError: not a workbook (a renamed image, an old .xls, a damaged file).
        InputError: no such sheet, an empty sheet, formulas without saved results...
    """
    kind = _workbook_kind(data, label)
    engine = _ENGINES[kind]
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine=engine)
        names = [str(name) for name in book.sheet_names]
        chosen, notes = _choose_sheet(book, names, sheet, label)
        cells = pd.read_excel(book, sheet_name=chosen, header=None, dtype=object)
        where = f"Sheet '{chosen}'" + ("" if label == "The file" else f" of {label}")
        if kind == "xlsx":
            notes += _check_formulas(data, chosen, cells, where)
    except _DAMAGED as error:
        raise BinaryFileError(
            f"{label} looks like a {kind} workbook but cannot be opened: it may be damaged "
            f"({type(error).__name__}: {_shorten(str(error), 100)}). Open it in Excel or "
            "LibreOffice and save it again, or export the sheet as CSV."
        ) from None
    rows, lines = _rows(cells)
    if not rows:
        raise EmptyFileError(f"{where} is empty. Choose the sheet that holds the table.")
    rows, lines, merged_note = _merge_header_rows(rows, lines)
    if merged_note:
        notes.append(merged_note)
    raw, header_notes = _frame_from_rows(rows, lines, "", where, max_rows)
    notes += header_notes
    notes += _serial_dates(raw)
    decimal, decimal_note = _detect_decimal(raw, "")
    if decimal_note:
        notes.append(decimal_note)
    return _table(raw, decimal, notes, encoding="", sep="", sheet=chosen, sheets=tuple(names))


def _workbook_kind(data: bytes, label: str) -> str:
    """"xlsx" or "ods", or a plain refusal saying what the file really is."""
    if not data.startswith(b"PK\x03\x04"):
        what = next((what for signature, what in _SIGNATURES if data.startswith(signature)), None)
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise BinaryFileError(
                f"{label} is an old Excel (.xls) workbook, which RNN Lab does not read. Open it in "
                "Excel or LibreOffice and save it as .xlsx (Excel workbook) or CSV."
            )
        raise BinaryFileError(
            f"{label} is named like a workbook but is {what or 'not one (it is not a zip file)'}. "
            "Choose the .xlsx or .ods file itself, or export the sheet as CSV."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.namelist()
            mimetype = archive.read("mimetype") if "mimetype" in members else b""
    except _DAMAGED:
        raise BinaryFileError(
            f"{label} starts like an Excel (.xlsx) workbook or a zip archive but is damaged. "
            "Open it in Excel or LibreOffice and save it again, or export the sheet as CSV."
        ) from None
    if "xl/workbook.xml" in members:
        return "xlsx"
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    raise BinaryFileError(
        f"{label} is a zip archive, not an Excel (.xlsx) or OpenDocument (.ods) workbook "
        f"(it holds {_names(members, 5)}). Unpack it and choose the CSV or workbook inside."
    )


def _choose_sheet(book: pd.ExcelFile, names: list[str], sheet: str | None, label: str):
    if sheet is not None:
        if sheet in names:
            return sheet, []
        folded = [name for name in names if name.strip().lower() == str(sheet).strip().lower()]
        if len(folded) == 1:
            return folded[0], []
        raise InputError(
            f"{label} has no sheet named '{sheet}'. Its sheets are {_names(names)}; "
            "choose one of these names."
        )
    chosen = names[0]
    if len(names) > 1:
        for name in names:  # the first sheet with at least two columns of something
            head = pd.read_excel(book, sheet_name=name, header=None, dtype=object, nrows=60)
            if head.notna().sum().gt(0).sum() >= 2:
                chosen = name
                break
    notes = []
    if len(names) > 1:
        notes.append(
            f"The workbook has {len(names)} sheets ({_names(names)}); sheet '{chosen}' was read. "
            "Choose another sheet if the table is elsewhere."
        )
    return chosen, notes


def _check_formulas(data: bytes, sheet: str, cells: pd.DataFrame, where: str) -> list[str]:
    """Formulas whose result was never saved read as empty: refuse a table made of them."""
    if not cells.isna().to_numpy().any() or not _has_formulas(data):
        return []
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        rows = book[sheet].iter_rows(values_only=True)
        unsaved: dict[int, list[tuple[int, str]]] = {}
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if not (isinstance(value, str) and value.startswith("=")):
                    continue
                if r < cells.shape[0] and c < cells.shape[1] and _blank(cells.iat[r, c]):
                    unsaved.setdefault(c, []).append((r, value))
    finally:
        book.close()
    if not unsaved:
        return []
    column, found = max(unsaved.items(), key=lambda item: len(item[1]))
    row, formula = found[0]
    example = f"cell {_column_letter(column)}{row + 1} holds {formula[:40]}"
    present = int(cells.iloc[:, column].map(lambda v: not _blank(v)).sum())
    total = sum(len(found) for found in unsaved.values())
    if len(found) >= max(present, 3):
        raise FormulaError(
            f"{where} has {total} formula(s) whose results were never saved ({example}), so "
            "there are no values to read: the file was written by a program that does not "
            "compute formulas. Open it in Excel or LibreOffice and save it again, or paste the "
            "column as values."
        )
    return [
        f"{total} formula(s) had no saved result and were read as missing ({example}). "
        "Open the file in Excel or LibreOffice and save it again to keep their values."
    ]


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of an .xlsx holds a formula (a quick look at its XML)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return any(
            _FORMULA_TAG.search(archive.read(name))
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def _rows(cells: pd.DataFrame) -> tuple[list[list[str]], list[int]]:
    """Each sheet row as text cells (empty columns on the left and trailing blanks dropped)."""
    used = [c for c in range(cells.shape[1]) if cells.iloc[:, c].map(lambda v: not _blank(v)).any()]
    if not used:
        return [], []
    cells = cells.iloc[:, used[0] :]
    rows, lines = [], []
    for number, values in zip(cells.index, cells.itertuples(index=False, name=None), strict=True):
        row = [_text(value) for value in values]
        while row and not row[-1]:
            row.pop()
        if row:
            rows.append(row)
            lines.append(int(number) + 1)  # the row number Excel shows
    return rows, lines


def _merge_header_rows(
    rows: list[list[str]], lines: list[int]
) -> tuple[list[list[str]], list[int], str | None]:
    """Two header rows, a group name merged over several columns above the column names
    ("Sales" over "north" and "south") -> one header row ("Sales north", "Sales south")."""
    first = next((
        i for i, row in enumerate(rows)
        if sum(bool(cell) for cell in row) >= 2 and any(_NUMBER_OR_DATE.match(c) for c in row if c)
    ), None)
    if first is None or first < 2:
        return rows, lines, None
    upper, lower = rows[first - 2], rows[first - 1]
    if any(_NUMBER_OR_DATE.match(cell) for cell in upper + lower if cell):
        return rows, lines, None
    width = max(len(upper), len(lower), len(rows[first]))
    upper = upper + [""] * (width - len(upper))
    lower = lower + [""] * (width - len(lower))
    groups = [i for i, cell in enumerate(upper) if cell]
    named = sum(bool(cell) for cell in lower)
    if not groups or groups == [0] or named < 2 or len(groups) >= named:
        return rows, lines, None  # a title above the header, not group names
    filled, last = [], ""
    for upper_cell, lower_cell in zip(upper, lower, strict=True):
        if upper_cell:
            last = upper_cell
        elif not lower_cell:
            last = ""  # an empty column ends a group
        filled.append(upper_cell or (last if lower_cell else ""))
    header = [" ".join(part for part in pair if part) for pair in zip(filled, lower, strict=True)]
    note = (
        f"Header rows {lines[first - 2]} and {lines[first - 1]} (names merged over several "
        f"columns) were read as one: {_names([name for name in header if name], 8)}."
    )
    return [*rows[: first - 2], header, *rows[first:]], [*lines[: first - 2], lines[first - 1],
                                                           *lines[first:]], note


def _text(value: Any) -> str:
    """A cell as the CSV reader would see it: numbers with a decimal point, dates in ISO form."""
    if _blank(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(float(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return _stamp_text(pd.Timestamp(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value).strip()


def _stamp_text(stamp: pd.Timestamp) -> str:
    if stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if stamp.second else "%Y-%m-%d %H:%M")


def _serial_dates(raw: pd.DataFrame) -> list[str]:
    """Dates a sheet stores as plain numbers (45352 for 2024-03-01) -> dates, with a note.

    Only a column named like time (date, day, period...) or the first column counting up
    one day at a time is read so; years (1990) and yyyymm numbers are left to the time parser.
    """
    notes = []
    for position, column in enumerate(raw.columns):
        cells = raw[column].astype(str).str.strip()
        present = ~cells.str.lower().isin(_MISSING_TOKENS)
        numbers = pd.to_numeric(cells[present], errors="coerce")
        if len(numbers) < 2 or numbers.isna().any():
            continue
        low, high = float(numbers.min()), float(numbers.max())
        if _time_hint(str(column)):
            plausible = 10_000 <= low and high <= 110_000  # 1927 to 2201
        else:
            steps = np.diff(numbers.to_numpy())
            plausible = (
                position == 0 and 20_000 <= low and high <= 80_000 and bool(np.all(steps > 0))
                and float(np.median(steps)) <= 31
            )
        if not plausible:
            continue
        stamps = _EXCEL_EPOCH + pd.to_timedelta(numbers.to_numpy(dtype=float).round(6), unit="D")
        texts = [_stamp_text(stamp.round("s")) for stamp in stamps]
        raw.loc[present[present].index, column] = texts
        first = numbers.iloc[0]
        notes.append(
            f"Column '{column}' held Excel date serial numbers ({first:g} = {texts[0]}), so they "
            "were read as dates. If they are not dates, choose another time column."
        )
    return notes
