"""Files users download: CSV that spreadsheet programs cannot execute.

A text cell starting with = + - @ (or a tab / carriage return) is read by Excel and LibreOffice
as a formula; `safe_csv` prefixes such cells with an apostrophe. Numbers are left untouched, so
a negative forecast stays a number.
"""

from __future__ import annotations

import pandas as pd

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value):
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> str:
    """`frame` as CSV text (no index) with formula-like text cells and headers neutralised."""
    safe = frame.copy()
    safe.columns = [_neutralise(str(column)) for column in safe.columns]
    for column in safe.columns:
        series = safe[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            safe[column] = series.map(_neutralise)
    return safe.to_csv(index=False, lineterminator="\n")
