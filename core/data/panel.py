"""Many series in one file: a long table (date, id column(s), value) or a wide one (a column
per series) -> a `Panel` of clean `Series`, each made exactly as `to_series` makes one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from core.data.base import (
    _UNEXPECTED,
    MIN_POINTS,
    NonNumericError,
    Series,
    Table,
    TooFewRowsError,
    _names,
    _unexpected,
)
from core.data.columns import _find_column, _id_like, _parsed_times, _role, find_id_columns
from core.data.readers import read_file
from core.data.regular import _freq_words
from core.data.series import _labels, _to_series
from core.errors import InputError


@dataclasses.dataclass(frozen=True, eq=False)
class Panel(Mapping):
    """Several clean series read from one file: a read-only mapping of id -> `Series`.

    Attributes:
        series: id -> Series, in the order the ids first appear in the file.
        id_cols: the columns that told the series apart (a long table); () for a wide table,
            whose ids are its value columns' names.
        ids: id -> the id columns' values (one per id column), to write them back as columns.
        target: the value column of a long table (None for a wide one).
        date_col: the time column (None: row order).
        freq: the frequency most series share (None when irregular or when they disagree).
        dropped: id -> why that series was left out (too few points, constant...).
        notes: what was done to the file as a whole and to each series, in plain words.
    """

    series: dict[str, Series]
    id_cols: tuple[str, ...]
    ids: dict[str, tuple[str, ...]]
    target: str | None
    date_col: str | None
    freq: str | None
    dropped: dict[str, str]
    notes: tuple[str, ...]

    def __getitem__(self, key: str) -> Series:
        return self.series[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.series)

    def __len__(self) -> int:
        return len(self.series)

    @property
    def id_names(self) -> tuple[str, ...]:
        """The id column names to write (a wide table's single id column is 'series')."""
        return self.id_cols or ("series",)

    def to_frame(self) -> pd.DataFrame:
        """One long frame: the id column(s), `time` and `value`, series after series."""
        parts = []
        for key, one in self.series.items():
            part = one.to_frame()
            for name, value in zip(self.id_names, self.ids[key], strict=True):
                part.insert(len(part.columns) - 2, name, value)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)


def to_panel(
    table: Table,
    target: str | None = None,
    date_col: str | None = None,
    id_cols: list[str] | tuple[str, ...] | str | None = None,
    *,
    columns: list[str] | None = None,
    missing: str = "interpolate",
    freq: str | None = None,
    min_points: int = MIN_POINTS,
) -> Panel:
    """Every series of a long or wide table, each cleaned as `to_series` cleans one.

    Args:
        target: a long table's value column (default: the first number column that is not
            an id).
        date_col: the time column (default: detected).
        id_cols: the column(s) telling the series apart (a name, or several); default
            `find_id_columns`. When none is named or found, the table is read as wide.
        columns: a wide table's value columns, one series each (default: every number column
            that is not an id or a time column).
        missing, freq: as in `to_series`.
        min_points: a series with fewer usable points is left out, with a note naming it.

    Raises:
        InputError: no series could be made (each has too few points, say), or an id or value
            column that does not exist; the message names the columns and what to do.
    """
    try:
        return _to_panel(table, target, date_col, id_cols, columns, missing, freq, min_points)
    except _UNEXPECTED as error:
        raise _unexpected(error) from error


def load_panel(
    source: Any,
    *,
    target: str | None = None,
    date_col: str | None = None,
    id_cols: list[str] | tuple[str, ...] | str | None = None,
    columns: list[str] | None = None,
    sheet: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    missing: str = "interpolate",
    freq: str | None = None,
) -> Panel:
    """`read_file` then `to_panel`, in one call (the command line's `--id-col`)."""
    table = read_file(source, sheet=sheet, sep=sep, decimal=decimal, encoding=encoding)
    return to_panel(table, target, date_col, id_cols, columns=columns, missing=missing, freq=freq)


def _to_panel(
    table: Table, target: str | None, date_col: str | None,
    id_cols: list[str] | tuple[str, ...] | str | None, columns: list[str] | None, missing: str,
    freq: str | None, min_points: int,
) -> Panel:
    raw = table._raw if table._raw is not None else table.frame.astype(str)
    names = [str(column) for column in raw.columns]
    if isinstance(id_cols, str):
        id_cols = [part.strip() for part in id_cols.split(",") if part.strip()]
    if id_cols is None and columns is None:
        id_cols = find_id_columns(table, target=target, date_col=date_col)
    ids = [_find_column(column, names, "series id") for column in id_cols or []]
    if date_col is None:
        date_col = next((c for c in table.date_candidates if c != target and c not in ids), None)
    else:
        date_col = _find_column(date_col, names, "time")
    notes = list(table.notes)
    if ids:
        if target is None:
            candidates = [c for c in table.numeric_candidates if c != date_col and c not in ids]
            if not candidates:
                raise NonNumericError(
                    f"No column of numbers was found to forecast beside the id column(s) "
                    f"{_names(ids)}. Received columns: {_names(names)}. Name the value column."
                )
            target = candidates[0]
        target = _find_column(target, names, "value (target)")
        if target in ids:
            raise InputError(
                f"Column '{target}' tells the series apart (an id column), so it cannot also be "
                "the value column. Choose another value column."
            )
        made, keys, blank = _long(table, raw, target, date_col, ids, missing, freq, notes)
        if blank:
            notes.append(f"{blank} row(s) with no series id were left out.")
    else:
        made, keys = _wide(table, names, columns, date_col, missing, freq)
        notes.append(
            f"No column telling series apart was found, so each column of numbers is a series: "
            f"{_names(list(keys))}."
        )
    series: dict[str, Series] = {}
    dropped: dict[str, str] = {}
    for key, (problem, one) in made.items():
        if problem is None and len(one) < min_points:
            problem = f"{len(one)} usable point(s); at least {min_points} are needed"
        if problem is not None:
            dropped[key] = problem
            continue
        series[key] = one
        notes += [f"Series '{key}': {note}" for note in one.notes if note not in table.notes]
    if dropped:
        notes.append(
            f"{len(dropped)} series left out: "
            + "; ".join(f"'{key}' ({why})" for key, why in list(dropped.items())[:10])
            + ("..." if len(dropped) > 10 else "")
            + "."
        )
    if not series:
        raise TooFewRowsError(
            f"None of the {len(made)} series in the file could be used: "
            + "; ".join(f"'{key}' ({why})" for key, why in list(dropped.items())[:5])
            + ". Each series needs at least "
            f"{min_points} points with a time and a number."
        )
    lengths = {key: len(one) for key, one in series.items()}
    if len(set(lengths.values())) > 1:
        shortest = min(lengths, key=lengths.get)
        longest = max(lengths, key=lengths.get)
        notes.append(
            f"The series have different lengths (from {lengths[shortest]} points for "
            f"'{shortest}' to {lengths[longest]} for '{longest}'); each is used over its own span."
        )
    freqs = pd.Series([one.freq for one in series.values()], dtype=object)
    common = freqs.mode(dropna=True)
    shared = str(common.iloc[0]) if len(common) else None
    differ = [key for key, one in series.items() if one.freq != shared]
    if shared is not None and differ:
        notes.append(
            f"Most series are {_freq_words(shared)}, but {_names(differ, 5)} "
            f"{'is' if len(differ) == 1 else 'are'} not (irregular or another step); set the "
            "frequency to put every series on the same grid."
        )
    return Panel(
        series=series,
        id_cols=tuple(ids),
        ids={key: keys[key] for key in series},
        target=target,
        date_col=date_col,
        freq=shared if not differ else None,
        dropped=dropped,
        notes=tuple(notes),
    )


Made = dict[str, tuple[str | None, Any]]


def _long(
    table: Table, raw: pd.DataFrame, target: str, date_col: str | None, ids: list[str],
    missing: str, freq: str | None, notes: list[str],
) -> tuple[Made, dict[str, tuple[str, ...]], int]:
    labels = _labels(raw, ids)
    blank = np.zeros(len(raw), dtype=bool)
    for column in ids:
        cells = raw[column].astype(str).str.strip()
        blank |= (cells == "").to_numpy() | cells.str.lower().isin(("nan", "none")).to_numpy()
    made: Made = {}
    keys: dict[str, tuple[str, ...]] = {}
    times = None
    if date_col is not None:  # read the time column once, not once per series
        times, time_notes = _parsed_times(raw, date_col, table.decimal, {})
        notes += time_notes
    for key in pd.unique(labels[~blank]):
        mask = (labels == key).to_numpy()
        rows = raw[mask]
        keys[key] = tuple(str(rows[column].iloc[0]).strip() for column in ids)
        part = dataclasses.replace(table, _raw=rows, notes=[], target_question=None)
        parsed = {} if times is None else {date_col: (times[mask], [])}
        made[key] = _one(part, target, date_col, missing, freq, key, parsed)
    return made, keys, int(blank.sum())


def _wide(
    table: Table, names: list[str], columns: list[str] | None, date_col: str | None,
    missing: str, freq: str | None,
) -> tuple[Made, dict[str, tuple[str, ...]]]:
    if columns is None:
        raw = table._raw if table._raw is not None else table.frame.astype(str)
        first = raw.columns[0]
        columns = [
            c for c in table.numeric_candidates
            if c != date_col and not _id_like(c, np.asarray(table.frame[c], dtype=float), c == first)
        ]
        if any(_role(c) < 2 for c in columns):  # inputs (temperature, price) are not series
            columns = [c for c in columns if _role(c) < 2]
    else:
        columns = [_find_column(column, names, "value") for column in columns]
    if not columns:
        raise NonNumericError(
            f"No column of numbers was found to make series from. Received columns: "
            f"{_names(names)}. Name the value column(s), or the id column of a long table."
        )
    plain = dataclasses.replace(table, notes=[], target_question=None)
    made: Made = {column: _one(plain, column, date_col, missing, freq, None) for column in columns}
    return made, {column: (column,) for column in columns}


def _one(
    table: Table, target: str | None, date_col: str | None, missing: str, freq: str | None,
    key: str | None, parsed: dict | None = None,
) -> tuple[str | None, Series | None]:
    """(None, series) or (why it cannot be used, None): one bad series does not stop the rest."""
    try:
        one = _to_series(table, target, date_col, missing, freq, None, [], parsed)
    except TooFewRowsError as error:
        counted = str(error).split(" usable value(s)")[0].rsplit(" ", 1)[-1]
        return (f"{counted} usable point(s); at least {MIN_POINTS} are needed"
                if counted.isdigit() else str(error)), None
    except InputError as error:
        return str(error), None
    if key is not None:
        one = dataclasses.replace(one, name=f"{one.name} ({key})")
    return None, one
