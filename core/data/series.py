"""A `Table` to one clean `Series`, and the facts the data step shows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.data.base import (
    _UNEXPECTED,
    MIN_POINTS,
    MISSING_POLICIES,
    NonNumericError,
    Series,
    Table,
    TooFewRowsError,
    _delimiter_advice,
    _names,
    _sample_row,
    _unexpected,
)
from core.data.columns import _find_column, _target_values
from core.data.readers import read_file
from core.data.regular import (
    _check_usable,
    _fill_missing,
    _final_index,
    _freq_words,
    _regularise,
    season_for,
)
from core.data.times import _time_values
from core.errors import ConfigError, InputError


def to_series(
    table: Table,
    target: str | None = None,
    date_col: str | None = None,
    missing: str = "interpolate",
) -> Series:
    """Turn a table into one regular series: sort, average duplicates, fill gaps and missing values.

    Args:
        target: the value column; by default the first of `table.numeric_candidates`.
        date_col: the time column; by default the first of `table.date_candidates`
            (none found: the series uses row order).
        missing: how to fill gaps and missing values: "interpolate" (linear), "ffill"
            (repeat the last value), "zero", or "drop" (remove them).
    """
    try:
        return _to_series(table, target, date_col, missing)
    except _UNEXPECTED as error:
        raise _unexpected(error) from error


def _to_series(table: Table, target: str | None, date_col: str | None, missing: str) -> Series:
    if missing not in MISSING_POLICIES:
        raise ConfigError(
            f"Unknown missing-value policy {missing!r}; choose one of {', '.join(MISSING_POLICIES)}."
        )
    raw = table._raw if table._raw is not None else table.frame.astype(str)
    columns = [str(column) for column in raw.columns]
    notes: list[str] = list(table.notes)
    if target is None:
        candidates = [c for c in table.numeric_candidates if c != date_col]
        if not candidates and len(raw) < MIN_POINTS:
            raise TooFewRowsError(
                f"The file has only {len(raw)} data row(s); at least {MIN_POINTS} are needed "
                "to learn anything. Use a longer series, one value per row."
            )
        if not candidates:
            raise NonNumericError(
                "No column of numbers was found to forecast. "
                f"Received columns: {_names(columns)}; {_sample_row(raw)}. "
                f"{_delimiter_advice(raw)}"
            )
        target = candidates[0]
    target = _find_column(target, columns, "value (target)")
    if date_col is None:
        date_col = next((c for c in table.date_candidates if c != target), None)
    else:
        date_col = _find_column(date_col, columns, "time")
        if date_col == target:
            raise InputError(
                f"The time column and the value column are both '{target}'. "
                "Choose two different columns."
            )
    values = _target_values(raw, target, table.decimal, notes)
    if date_col is None:
        notes.append("No time column was found, so the rows are used in file order.")
        time: pd.Index = pd.RangeIndex(len(values))
        freq = None
        points = pd.Series(values, index=time)
        added = np.zeros(len(points), dtype=bool)
    else:
        times = _time_values(raw, date_col, table.decimal, notes)
        points = pd.Series(values, index=times)
        points = points[points.index.notna()]
        points, freq, added = _regularise(points, notes)
    series_values, time, filled = _fill_missing(points, added, missing, freq, notes)
    time = _final_index(time, freq, date_col)
    _check_usable(series_values, target)
    series_values = np.array(series_values, dtype=np.float64)
    series_values.flags.writeable = False
    return Series(
        values=series_values,
        time=time,
        freq=freq,
        season=season_for(freq),
        name=target,
        date_col=date_col,
        missing=missing,
        filled=filled,
        notes=tuple(notes),
    )


def load_series(
    source: Any,
    *,
    target: str | None = None,
    date_col: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    missing: str = "interpolate",
    sheet: str | None = None,
) -> Series:
    """`read_file` (a CSV or a workbook's sheet) then `to_series`, in one call."""
    table = read_file(source, sheet=sheet, sep=sep, decimal=decimal, encoding=encoding)
    return to_series(table, target=target, date_col=date_col, missing=missing)


def describe(series: Series) -> dict[str, Any]:
    """Facts about a series for the UI's data step."""
    is_time = isinstance(series.time, pd.DatetimeIndex)
    return {
        "name": series.name,
        "length": len(series),
        "start": series.time[0] if is_time else 0,
        "end": series.time[-1] if is_time else len(series) - 1,
        "freq": series.freq,
        "frequency": _freq_words(series.freq),
        "season": series.season,
        "min": float(np.min(series.values)),
        "max": float(np.max(series.values)),
        "mean": float(np.mean(series.values)),
        "missing_filled": series.filled,
        "missing_policy": series.missing,
    }
