"""Explanatory columns (covariates) and calendar features as extra inputs of the network.

Two kinds of covariate, as darts and neuralforecast name them:

- **known in advance** (`known`): planned prices, holidays, a weather forecast. Their values are
  known over the forecast too, so each window gets them over its input steps (extra channels)
  and over the steps it forecasts (a second input). In a file they continue past the last value
  of the target: rows at the end whose target cell is empty ("future rows"). When the holdout is
  scored, the holdout's own covariate values are used, as they would be known in advance.
- **past** (`past`): known only up to now (yesterday's footfall). Only the input window sees them.

Calendar features (day of week, time of year, hour of day as sin/cos pairs) are known in advance
by definition; they are offered for daily and finer data.

Each user column is scaled by its mean and standard deviation on the forecaster's fit part only
(never the validation block or the holdout).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InputError

# Data of these kinds gets calendar features offered (coarser data has its season instead).
CALENDAR_KINDS = ("daily", "hourly", "subhourly")


# ---------------------------------------------------------------------------------------------
# The covariates of one series


@dataclasses.dataclass(frozen=True, eq=False)
class Covariates:
    """Covariate columns on the series' time grid, continued past its end for the known ones.

    `values` has one row per time of `time`: the series' own times first (`history` of them),
    then the future rows the file gave (known covariates only; past ones are NaN there).
    """

    values: pd.DataFrame  # one column per covariate, positional rows
    time: pd.Index  # the times of the rows
    history: int  # rows that carry a target value
    known: tuple[str, ...] = ()
    past: tuple[str, ...] = ()
    calendar: bool = False
    notes: tuple[str, ...] = ()

    @property
    def future_rows(self) -> int:
        return len(self.time) - self.history

    @property
    def used(self) -> bool:
        return bool(self.known or self.past or self.calendar)

    def names(self) -> list[str]:
        return [*self.known, *self.past]

    def describe(self) -> str:
        """'temperature (known in advance), footfall (past only), calendar features'."""
        parts = [f"{name} (known in advance)" for name in self.known]
        parts += [f"{name} (past only)" for name in self.past]
        if self.calendar:
            parts.append("calendar features")
        return ", ".join(parts)


def split_names(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Column names from 'a,b' or a list, blanks dropped, order kept, no repeats."""
    if text is None:
        return ()
    items = text.split(",") if isinstance(text, str) else list(text)
    names: list[str] = []
    for item in items:
        name = str(item).strip()
        if name and name not in names:
            names.append(name)
    return tuple(names)


def calendar_offered(freq: str | None, time: pd.Index) -> bool:
    """Calendar features make sense: dated data, daily or finer."""
    from core.forecast.rnn import frequency_kind

    return isinstance(time, pd.DatetimeIndex) and frequency_kind(freq) in CALENDAR_KINDS


def calendar_names(freq: str | None) -> tuple[str, ...]:
    """The calendar features for data of frequency `freq` (each a sin/cos pair)."""
    from core.forecast.rnn import frequency_kind

    kind = frequency_kind(freq)
    names = ["day_of_week", "time_of_year"]
    if kind in ("hourly", "subhourly"):
        names.insert(0, "hour_of_day")
    return tuple(names)


def calendar_features(time: pd.DatetimeIndex, names: Sequence[str]) -> np.ndarray:
    """Sin/cos pairs of the named calendar positions, shape (len(time), 2 * len(names))."""
    time = pd.DatetimeIndex(time)
    columns = []
    for name in names:
        if name == "hour_of_day":
            angle = (time.hour + time.minute / 60.0) / 24.0
        elif name == "day_of_week":
            angle = time.dayofweek / 7.0
        elif name == "time_of_year":
            angle = (time.dayofyear - 1) / 365.25
        else:
            raise ValueError(f"unknown calendar feature {name!r}")
        angle = 2 * np.pi * np.asarray(angle, dtype="float64")
        columns += [np.sin(angle), np.cos(angle)]
    if not columns:
        return np.empty((len(time), 0))
    return np.stack(columns, axis=1)


# ---------------------------------------------------------------------------------------------
# Reading covariates from a file


def split_future_rows(table, target: str, date_col: str | None = None):
    """The table without its future rows (those after the last row whose target has a value),
    and the number of those rows. By time when there is a time column, else by file order."""
    from core.data.columns import _find_column
    from core.data.numbers import _to_numbers
    from core.data.times import _time_values

    raw = table._raw if table._raw is not None else table.frame.astype(str)
    columns = [str(column) for column in raw.columns]
    target = _find_column(target, columns, "value (target)")
    numbers, missing, _ = _to_numbers(raw[target], table.decimal)
    present = ~missing & np.isfinite(numbers)
    if not present.any():
        return table, 0
    if date_col is not None:
        times = _time_values(raw, date_col, table.decimal, [])
        last = times[present].max()
        future = np.asarray(times > last)
    else:
        future = np.arange(len(raw)) > np.flatnonzero(present)[-1]
    if not future.any():
        return table, 0
    kept = dataclasses.replace(table, _raw=raw[~future],
                               frame=table.frame[~future] if len(table.frame) == len(raw)
                               else table.frame)
    return kept, int(future.sum())


def read_covariates(table, series, known: Sequence[str] = (), past: Sequence[str] = (),
                    calendar: bool = False, *, series_id: str | None = None,
                    id_cols: Sequence[str] | None = None) -> Covariates:
    """The covariate columns of `table` on the time grid of `series` (made from that table by
    `core.data.to_series`), with the known ones continued over the table's future rows.

    Raises:
        InputError: a column does not exist, is the target or the time column, holds text, is
            empty, or is used both ways; a known column has gaps in its future rows.
    """
    from core.data.base import _names
    from core.data.columns import _find_column
    from core.data.numbers import _to_numbers
    from core.data.series import _rows_of
    from core.data.times import _time_values

    raw = table._raw if table._raw is not None else table.frame.astype(str)
    columns = [str(column) for column in raw.columns]
    known = tuple(_find_column(name, columns, "covariate") for name in split_names(known))
    past = tuple(_find_column(name, columns, "covariate") for name in split_names(past))
    both = sorted(set(known) & set(past))
    if both:
        raise InputError(
            f"Column(s) {_names(both)} are given both as known in advance and as past-only "
            "covariates. Give each column once."
        )
    notes: list[str] = []
    if calendar and not calendar_offered(series.freq, series.time):
        notes.append("Calendar features need dated daily or finer data; they were left out.")
        calendar = False
    if not known and not past:
        return Covariates(pd.DataFrame(index=pd.RangeIndex(len(series))), series.time,
                          len(series), calendar=calendar, notes=tuple(notes))
    for name in (*known, *past):
        if name == series.date_col:
            raise InputError(f"Column '{name}' is the time column, so it cannot be a covariate. "
                             "Choose another column.")
        if name == series.name or series.name.startswith(f"{name} ("):
            raise InputError(f"Column '{name}' is the value forecast, so it cannot also be a "
                             "covariate. Choose other columns.")
    if series_id is not None and id_cols:
        raw = raw[_rows_of(raw, list(id_cols), series_id)]
    cells = {}
    for name in (*known, *past):
        numbers, missing, bad = _to_numbers(raw[name], table.decimal)
        if bad.any():
            line = raw.index[bad][0]
            raise InputError(
                f"Column '{name}' cannot be used as a covariate: it holds text, such as "
                f"'{raw[name][bad].iloc[0]}' on line {line} ({int(bad.sum())} cell(s) are not "
                "numbers). A covariate must hold numbers: fix those cells or leave them empty, "
                "or choose another column."
            )
        if missing.all():
            raise InputError(f"Column '{name}' is empty, so it cannot be a covariate. "
                             "Choose a column that holds numbers.")
        cells[name] = numbers
    frame = pd.DataFrame(cells)
    if series.date_col is not None and isinstance(series.time, pd.DatetimeIndex):
        times = _time_values(raw, series.date_col, table.decimal, [])
        frame.index = times
        frame = frame[frame.index.notna()]
        if series.freq:
            from core.data.regular import _align_to

            frame.index = _align_to(pd.DatetimeIndex(frame.index), series.freq)
        frame = frame.groupby(level=0, sort=True).mean()
        end = series.time[-1]
        history = frame[frame.index <= end].reindex(series.time)
        future = frame[frame.index > end]
        if series.freq and len(future):
            from core.forecast.base import future_time

            steps = len(pd.date_range(end, future.index[-1], freq=series.freq)) - 1
            future = future.reindex(future_time(series.time, series.freq, max(steps, 0)))
        time = series.time.append(pd.DatetimeIndex(future.index))
    else:
        # Rows in file order: the series' rows first, then the future rows.
        history = frame.iloc[: len(series)]
        future = frame.iloc[len(series):]
        time = pd.RangeIndex(len(series) + len(future))
    gaps = history.isna()
    if gaps.any().any():
        counts = {name: int(count) for name, count in gaps.sum().items() if count}
        notes.append("Covariate gaps were filled by linear interpolation: " + ", ".join(
            f"{count} in '{name}'" for name, count in counts.items()) + ".")
        history = history.interpolate(limit_direction="both")
    for name in past:
        future[name] = np.nan
    if known and len(future):
        holes = future[list(known)].isna()
        if holes.any().any():
            name = holes.any()[lambda flags: flags].index[0]
            where = future.index[holes[name].to_numpy()][0]
            raise InputError(
                f"Covariate '{name}' is used as known in advance, but its value is missing in "
                f"the future rows (at {_time_text(where)}). Fill it in every row after the last "
                "value of the target, or give the column as a past-only covariate "
                "(--past-covariates)."
            )
    values = pd.concat([history, future], ignore_index=True)[list((*known, *past))]
    for name in (*known, *past):
        if not np.isfinite(values[name].to_numpy()[: len(series)]).any():
            raise InputError(f"Column '{name}' has no values over the series, so it cannot be a "
                             "covariate. Choose a column that holds numbers.")
    return Covariates(values, time, len(series), known, past, calendar, tuple(notes))


def _time_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return f"row {value}"


def load_with_covariates(source: Any, *, known: Sequence[str] = (), past: Sequence[str] = (),
                         calendar: bool = False, target: str | None = None,
                         date_col: str | None = None, sep: str | None = None,
                         decimal: str | None = None, encoding: str | None = None,
                         missing: str = "interpolate", sheet: str | None = None,
                         freq: str | None = None, series: str | None = None,
                         id_cols: Sequence[str] | None = None):
    """`core.data.load_series` that also reads covariates: (Series, Covariates).

    Future rows (after the target's last value) are kept out of the series and give the known
    covariates' values over the forecast.
    """
    from core.data import read_file, to_series

    table = read_file(source, sheet=sheet, sep=sep, decimal=decimal, encoding=encoding)
    return series_with_covariates(table, known=known, past=past, calendar=calendar,
                                  target=target, date_col=date_col, missing=missing, freq=freq,
                                  series=series, id_cols=id_cols, to_series=to_series)


def series_with_covariates(table, *, known: Sequence[str] = (), past: Sequence[str] = (),
                           calendar: bool = False, target: str | None = None,
                           date_col: str | None = None, missing: str = "interpolate",
                           freq: str | None = None, series: str | None = None,
                           id_cols: Sequence[str] | None = None, to_series=None):
    """A table to (Series, Covariates); see `load_with_covariates`."""
    if to_series is None:
        from core.data import to_series
    whole = to_series(table, target=target, date_col=date_col, missing=missing, freq=freq,
                      series=series, id_cols=id_cols)
    target_name = target or whole.name.split(" (")[0]
    trimmed, future_rows = table, 0
    if known or past or calendar:
        trimmed, future_rows = split_future_rows(table, target_name, whole.date_col)
    result = whole
    if future_rows:
        result = to_series(trimmed, target=target_name, date_col=whole.date_col, missing=missing,
                           freq=freq, series=series, id_cols=id_cols)
        # The rows were kept out on purpose: the note that they were dropped would mislead.
        notes = tuple(n for n in result.notes if not n.startswith("Missing values"))
        result = dataclasses.replace(result, notes=notes)
    covariates = read_covariates(
        table, result, known, past, calendar, series_id=series,
        id_cols=_ids_for(table, result, target_name, id_cols) if series else None)
    if known and covariates.future_rows == 0:
        notes = (*covariates.notes, (
            "No future rows were found (rows after the last value with the target empty and "
            "the known covariates filled), so the holdout can be scored but nothing can be "
            "forecast past the data."))
        covariates = dataclasses.replace(covariates, notes=notes)
    return result, covariates


def _ids_for(table, series, target: str, id_cols):
    if id_cols:
        return list(id_cols)
    from core.data import find_id_columns

    return find_id_columns(table, target, series.date_col)


def check_horizon(covariates: Covariates | None, history: int, horizon: int) -> None:
    """Known covariates must cover the forecast: refuse in plain words when they do not."""
    if covariates is None or not covariates.known:
        return
    available = len(covariates.time) - history
    if available < horizon:
        names = ", ".join(f"'{name}'" for name in covariates.known)
        raise InputError(
            f"The known-in-advance covariate(s) {names} have values for {max(available, 0)} "
            f"step(s) after the data, but {horizon} are forecast. Add rows after the last value "
            f"(time filled, target empty, {names} filled) for every step forecast, shorten the "
            "horizon, or give the column(s) as past-only covariates."
        )


# ---------------------------------------------------------------------------------------------
# Covariates as network inputs


class CovariateEncoder:
    """Scales covariates and cuts them into each window's extra inputs.

    `inputs(...)` gives, for each forecast origin, the covariates over the `window` steps
    before it (known, calendar and past: extra channels beside the series' own; the user's
    columns also relative to their last value in the window), and the known
    ones and the calendar over the `steps` it forecasts. Each known column comes twice over the
    forecast: as it is (scaled), and minus the anchor forecast of its own recent values, the
    way the series' targets are taken relative to their anchor; a linear effect of a covariate
    on the series is then one weight shared by every step.
    """

    def __init__(self, known: Sequence[str] = (), past: Sequence[str] = (),
                 calendar: Sequence[str] = ()):
        self.known = tuple(known)
        self.past = tuple(past)
        self.calendar = tuple(calendar)

    @property
    def future_width(self) -> int:
        return 2 * len(self.known) + 2 * len(self.calendar)

    @property
    def channel_width(self) -> int:
        return 2 * len(self.known) + 2 * len(self.calendar) + 2 * len(self.past)

    def fit(self, covariates: Covariates, fit_part: int) -> CovariateEncoder:
        """Learn each column's mean and standard deviation on its first `fit_part` rows."""
        head = covariates.values.iloc[:fit_part]
        self.mean_ = {name: float(np.nanmean(head[name])) for name in (*self.known, *self.past)}
        self.std_ = {}
        for name in (*self.known, *self.past):
            std = float(np.nanstd(head[name]))
            self.std_[name] = std if np.isfinite(std) and std > 0 else 1.0
        return self

    def matrices(self, covariates: Covariates, time: pd.Index, freq: str | None,
                 total: int) -> tuple[np.ndarray, np.ndarray]:
        """The scaled known (with calendar) and past matrices over `total` rows from the
        series' start (NaN where the covariates give no value)."""
        from core.forecast.base import future_time

        known = np.full((total, len(self.known)), np.nan)
        past = np.full((total, len(self.past)), np.nan)
        rows = min(total, len(covariates.values))
        for index, name in enumerate(self.known):
            known[:rows, index] = (covariates.values[name].to_numpy()[:rows] - self.mean_[name]) \
                / self.std_[name]
        for index, name in enumerate(self.past):
            past[:rows, index] = (covariates.values[name].to_numpy()[:rows] - self.mean_[name]) \
                / self.std_[name]
        if self.calendar:
            times = pd.DatetimeIndex(time[:total])
            if len(times) < total:
                times = times.append(pd.DatetimeIndex(future_time(times, freq, total - len(times))))
            known = np.concatenate([known, calendar_features(times, self.calendar)], axis=1)
        return known, past

    def inputs(self, known: np.ndarray, past: np.ndarray, origins: np.ndarray, window_encoder,
               known_until: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(channels (n, window, channel_width), future (n, steps, future_width)) for forecasts
        from `origins`, windows and anchors as `window_encoder` (a
        `core.preprocessing.WindowEncoder`) makes them. Past covariates at or after
        `known_until` (per row; default the origin) are not known yet: the last known value
        stands in. Missing values count as the mean (0)."""
        window, steps = window_encoder.window, window_encoder.steps
        origins = np.asarray(origins, dtype="int64")
        until = origins if known_until is None else np.asarray(known_until, dtype="int64")
        before = origins[:, None] + np.arange(-window, 0)[None, :]
        after = origins[:, None] + np.arange(steps)[None, :]
        parts, columns = [], []
        if known.shape[1]:
            parts.append(_take(known, before))
            if self.known:
                columns.append(parts[-1][:, :, : len(self.known)])
        if past.shape[1]:
            parts.append(_take(past, np.minimum(before, until[:, None] - 1)))
            columns.append(parts[-1])
        # Each user column also relative to its value at the window's end, as the series' own
        # input is: an effect of a covariate's change is then linear in these channels.
        parts += [column - column[:, -1:, :] for column in columns]
        channels = np.concatenate(parts, axis=2) if parts else np.empty((len(origins), window, 0))
        future = _take(known, after) if known.shape[1] else np.empty((len(origins), steps, 0))
        if self.known:
            length = window_encoder.context_length
            context = _take(known[:, : len(self.known)],
                            origins[:, None] + np.arange(-length, 0)[None, :])
            relative = np.stack([future[:, :, column] - window_encoder.base(context[:, :, column],
                                                                            steps)
                                 for column in range(len(self.known))], axis=2)
            future = np.concatenate([future, relative], axis=2)
        return channels.astype("float32"), future.astype("float32")

    def to_dict(self) -> dict:
        return {"known": list(self.known), "past": list(self.past),
                "calendar": list(self.calendar), "mean": self.mean_, "std": self.std_}

    @classmethod
    def from_dict(cls, data: dict) -> CovariateEncoder:
        encoder = cls(data["known"], data["past"], data["calendar"])
        unknown = set(encoder.calendar) - {"hour_of_day", "day_of_week", "time_of_year"}
        if unknown:
            raise ValueError(f"unknown calendar feature(s) {sorted(unknown)}")
        encoder.mean_ = {str(k): float(v) for k, v in data["mean"].items()}
        encoder.std_ = {str(k): float(v) for k, v in data["std"].items()}
        return encoder


def _take(matrix: np.ndarray, index: np.ndarray) -> np.ndarray:
    """matrix[index] with rows outside the matrix and NaN values read as 0 (the mean)."""
    inside = (index >= 0) & (index < len(matrix))
    picked = matrix[np.clip(index, 0, len(matrix) - 1)]
    picked = np.where(inside[..., None], picked, 0.0)
    return np.nan_to_num(picked, nan=0.0)
