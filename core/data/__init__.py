"""Read analysts' files (CSV, .xlsx and .ods workbooks) into clean, regular time series.

`read_file` (or `read_csv`) finds how a file is written (encoding, delimiter, decimal mark,
sheet, time and value columns) and returns a `Table` whose guesses the UI shows and lets the
user override; `to_series` turns a table into a `Series`: sorted by time, duplicates averaged,
on a regular time grid (detected, or the `freq` chosen), gaps and missing values filled by a
named policy, every change reported in `notes`. A file holding several series (a long table
with id columns such as store or product, or a wide one with a column per series) becomes a
`Panel` of series through `to_panel`; `to_series(series=...)` keeps one of them.
`load_series` and `load_panel` read and convert in one call.

Every problem a user can fix raises a subclass of `InputError` whose message says what was
wrong, what was received and what to do; the parser never lets a raw pandas error through.

The package's parts, each testable on its own: `readers` (bytes, encoding, delimiter, header),
`spreadsheets` (workbooks), `numbers` (cells to numbers), `times` (cells to timestamps),
`columns` (which column is what, ids), `regular` (the time grid, gaps and missing values),
`series` (a table to one series), `panel` (a table to many); `base` holds the results and
the errors.
"""

from __future__ import annotations

from core.data.base import (
    MAX_ABS,
    MIN_POINTS,
    MISSING_POLICIES,
    BinaryFileError,
    ColumnNotFoundError,
    ConstantSeriesError,
    DateColumnError,
    EmptyFileError,
    EncodingError,
    FileTooLargeError,
    FormulaError,
    HeaderOnlyError,
    MalformedFileError,
    NonNumericError,
    Series,
    Table,
    TooFewRowsError,
    UnreadableFileError,
    ValueTooLargeError,
    WideTableError,
)
from core.data.columns import find_id_columns
from core.data.panel import Panel, load_panel, to_panel
from core.data.readers import (
    read_csv,
    read_file,
)
from core.data.regular import (
    FREQUENCIES,
    season_for,
)
from core.data.series import (
    describe,
    load_series,
    series_labels,
    to_series,
)
from core.data.spreadsheets import sheet_names

__all__ = [
    "FREQUENCIES",
    "MAX_ABS",
    "MIN_POINTS",
    "MISSING_POLICIES",
    "BinaryFileError",
    "ColumnNotFoundError",
    "ConstantSeriesError",
    "DateColumnError",
    "EmptyFileError",
    "EncodingError",
    "FileTooLargeError",
    "FormulaError",
    "HeaderOnlyError",
    "MalformedFileError",
    "NonNumericError",
    "Panel",
    "Series",
    "Table",
    "TooFewRowsError",
    "UnreadableFileError",
    "ValueTooLargeError",
    "WideTableError",
    "describe",
    "find_id_columns",
    "load_panel",
    "load_series",
    "read_csv",
    "read_file",
    "season_for",
    "series_labels",
    "sheet_names",
    "to_panel",
    "to_series",
]
