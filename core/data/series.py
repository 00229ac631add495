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
from core.data.columns import _find_column, _find_id_columns, _target_values
from core.data.readers import read_file
from core.data.regular import (
    _check_freq,
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
    *,
    freq: str | None = None,
    series: str | None = None,
    id_cols: list[str] | tuple[str, ...] | None = None,
) -> Series:
    """Turn a table into one regular series: sort, average duplicates, fill gaps and missing values.

    Args:
        target: the value column; by default the first of `table.numeric_candidates` that is
            not an id column.
        date_col: the time column; by default the first of `table.date_candidates`
            (none found: the series uses row order).
        missing: how to fill gaps and missing values: "interpolate" (linear), "ffill"
            (repeat the last value), "zero", or "drop" (remove them).
        freq: a pandas frequency alias ("h", "D", "B", "W", "MS", "QS", "YS"...) that overrides
            the detected one: times move to the start of their period on that grid and values
            at the same time are averaged.
        series: in a long table holding several series, the one to keep: its id (for several
            id columns, the values joined by " / ", as `to_panel` names them). Left out, the
            series are averaged at each time and a note says so.
        id_cols: the column(s) telling the series apart; by default `find_id_columns`. An empty
            list means "one series".
    """
    try:
        return _to_series(table, target, date_col, missing, freq, series, id_cols)
    except _UNEXPECTED as error:
        raise _unexpected(error) from error


ID_SEPARATOR = " / "


def _to_series(
    table: Table, target: str | None, date_col: str | None, missing: str,
    freq: str | None = None, series: str | None = None,
    id_cols: list[str] | tuple[str, ...] | None = None, parsed: dict | None = None,
) -> Series:
    if missing not in MISSING_POLICIES:
        raise ConfigError(
            f"Unknown missing-value policy {missing!r}; choose one of {', '.join(MISSING_POLICIES)}."
        )
    freq = _check_freq(freq)
    raw = table._raw if table._raw is not None else table.frame.astype(str)
    columns = [str(column) for column in raw.columns]
    notes: list[str] = list(table.notes)
    parsed = {} if parsed is None else parsed  # time column -> its times and notes, read once
    ids = _resolve_ids(table, columns, target, date_col, id_cols, parsed)
    if target is None:
        candidates = [c for c in table.numeric_candidates if c != date_col and c not in ids]
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
        if table.target_question and target == table.numeric_candidates[0]:
            notes.append(table.target_question)
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
    if target in ids:
        raise InputError(
            f"Column '{target}' tells the series apart (an id column), so it cannot also be the "
            "value column. Choose another value column."
        )
    keep = None
    if series is not None:
        keep = _rows_of(raw, ids, series)
        raw = raw[keep]
    elif ids:
        labels = _labels(raw, ids).unique().tolist()
        notes.insert(0, (
            f"{_id_words(ids)} hold{'s' if len(ids) == 1 else ''} {len(labels)} series "
            f"({_names(labels, 6)}); their values were averaged at each time into one series. "
            "Choose one of them, or forecast each series (id column "
            f"{', '.join(repr(i) for i in ids)})."
        ))
    values = _target_values(raw, target, table.decimal, notes)
    if date_col is None:
        notes.append("No time column was found, so the rows are used in file order.")
        time: pd.Index = pd.RangeIndex(len(values))
        freq = None
        points = pd.Series(values, index=time)
        added = np.zeros(len(points), dtype=bool)
    else:
        if date_col in parsed and keep is None:
            times, time_notes = parsed[date_col]
            notes += time_notes
        else:
            times = _time_values(raw, date_col, table.decimal, notes)
        points = pd.Series(values, index=times)
        points = points[points.index.notna()]
        points, freq, added = _regularise(points, notes, freq)
    series_values, time, filled = _fill_missing(points, added, missing, freq, notes)
    time = _final_index(time, freq, date_col)
    _check_usable(series_values, target if series is None else f"{target}' of series '{series}")
    series_values = np.array(series_values, dtype=np.float64)
    series_values.flags.writeable = False
    return Series(
        values=series_values,
        time=time,
        freq=freq,
        season=season_for(freq),
        name=target if series is None else f"{target} ({series})",
        date_col=date_col,
        missing=missing,
        filled=filled,
        notes=tuple(notes),
    )


def _resolve_ids(
    table: Table, columns: list[str], target: str | None, date_col: str | None,
    id_cols: list[str] | tuple[str, ...] | None, parsed: dict,
) -> list[str]:
    if id_cols is None:
        return _find_id_columns(table, target, date_col, parsed)
    if isinstance(id_cols, str):
        id_cols = [id_cols]
    ids = [_find_column(column, columns, "series id") for column in id_cols]
    if date_col is not None and date_col in ids:
        raise InputError(
            f"Column '{date_col}' is the time column, so it cannot also tell the series apart. "
            "Choose another id column."
        )
    return ids


def _labels(raw: pd.DataFrame, ids: list[str]) -> pd.Series:
    """Each row's series id: the id columns' cells joined by " / "."""
    parts = [raw[column].astype(str).str.strip() for column in ids]
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + ID_SEPARATOR + part
    return labels


def series_labels(table: Table, id_cols: list[str] | tuple[str, ...]) -> list[str]:
    """The ids of the series of a long table, in the order they first appear (blank ids left out);
    several id columns' values are joined by " / ", as `to_series(series=...)` takes them."""
    raw = table._raw if table._raw is not None else table.frame.astype(str)
    columns = [str(column) for column in raw.columns]
    ids = [_find_column(column, columns, "series id") for column in id_cols]
    labels = _labels(raw, ids)
    blank = np.zeros(len(raw), dtype=bool)
    for column in ids:
        blank |= (raw[column].astype(str).str.strip() == "").to_numpy()
    return [str(label) for label in pd.unique(labels[~blank])]


def _rows_of(raw: pd.DataFrame, ids: list[str], series: str) -> np.ndarray:
    """A mask of the rows of one series."""
    if not ids:
        raise InputError(
            f"Series '{series}' was asked for, but no column telling several series apart was "
            "found. Name the id column (such as store or product), or leave the series out."
        )
    labels = _labels(raw, ids)
    keep = (labels == str(series).strip()).to_numpy()
    if not keep.any():
        known = labels.unique().tolist()
        raise InputError(
            f"There is no series '{series}' in {_id_words(ids).lower()}. Its series are "
            f"{_names(known)}; choose one of these."
        )
    return keep


def _id_words(ids: list[str]) -> str:
    if len(ids) == 1:
        return f"Column '{ids[0]}'"
    return "Columns " + ", ".join(f"'{column}'" for column in ids)


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
    freq: str | None = None,
    series: str | None = None,
    id_cols: list[str] | tuple[str, ...] | None = None,
) -> Series:
    """`read_file` (a CSV or a workbook's sheet) then `to_series`, in one call."""
    table = read_file(source, sheet=sheet, sep=sep, decimal=decimal, encoding=encoding)
    return to_series(
        table, target=target, date_col=date_col, missing=missing, freq=freq, series=series,
        id_cols=id_cols,
    )


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
