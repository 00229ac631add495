"""What every forecaster shares: the `Forecast` it returns, the series it reads, and backtests.

The contract (scikit-learn's, darts'): `__init__` stores settings only; `fit(series)` learns
and returns `self`; learned state ends in `_`; `predict(horizon)` returns a `Forecast`; a second
`fit` replaces the first. The network (`RNNForecaster`) and the classical baselines follow it,
so comparing, combining and choosing is a loop over objects.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from core import metrics as metric_functions
from core.errors import InputError

LEVELS = (0.8, 0.95)


@dataclasses.dataclass
class SeriesData:
    """The parts of a series a forecaster reads: values, their times and frequency, a season."""

    values: np.ndarray
    time: pd.Index
    freq: str | None = None
    season: int = 1
    name: str = "value"

    def __len__(self) -> int:
        return int(self.values.size)

    def head(self, count: int) -> SeriesData:
        """The first `count` points (a training part, or the data up to a backtest origin)."""
        return dataclasses.replace(self, values=self.values[:count], time=self.time[:count])


def as_series(series: Any, season: int | None = None) -> SeriesData:
    """A `SeriesData` from a `core.data.Series`, a pandas Series or any 1-D array of numbers.

    Raises:
        InputError: the values are not finite numbers, or there are none.
    """
    if isinstance(series, SeriesData):
        data = series
    else:
        values = getattr(series, "values", series)
        values = np.asarray(values, dtype="float64").ravel()
        time = getattr(series, "time", None)
        if time is None and isinstance(series, pd.Series):
            time = series.index
        time = pd.Index(time) if time is not None and len(time) == values.size else pd.RangeIndex(values.size)
        freq = getattr(series, "freq", None)
        if freq is None and isinstance(time, pd.DatetimeIndex):
            freq = time.freqstr
        data = SeriesData(values, time, freq, int(getattr(series, "season", 1) or 1),
                          str(getattr(series, "name", "value") or "value"))
    if season:
        data = dataclasses.replace(data, season=int(season))
    if data.values.size == 0:
        raise InputError("The series is empty: there is nothing to forecast.")
    if not np.all(np.isfinite(data.values)):
        raise InputError(
            "The series has missing or infinite values. Fill the gaps first (the data step's "
            "missing-value setting does it)."
        )
    return data


def future_time(time_index: pd.Index, freq: str | None, count: int) -> pd.Index:
    """The `count` timestamps (or positions) after the end of `time_index`."""
    if isinstance(time_index, pd.DatetimeIndex) and len(time_index):
        if not freq:
            freq = time_index.freqstr or (pd.infer_freq(time_index) if len(time_index) > 2 else None)
        if freq:
            return pd.date_range(time_index[-1], periods=count + 1, freq=freq)[1:]
        step = (time_index[-1] - time_index[0]) / max(len(time_index) - 1, 1)
        return pd.DatetimeIndex([time_index[-1] + step * (k + 1) for k in range(count)])
    if len(time_index) >= 2 and pd.api.types.is_numeric_dtype(time_index):
        step = time_index[-1] - time_index[-2]
        return pd.Index([time_index[-1] + step * (k + 1) for k in range(count)])
    start = len(time_index)
    return pd.RangeIndex(start, start + count)


@dataclasses.dataclass
class Forecast:
    """A forecast of `len(mean)` steps with its 80% and 95% intervals and their times."""

    mean: np.ndarray
    lower: dict[float, np.ndarray]
    upper: dict[float, np.ndarray]
    time: pd.Index
    name: str = ""

    def __len__(self) -> int:
        return int(self.mean.size)

    def to_frame(self) -> pd.DataFrame:
        """time, forecast, lower_80, upper_80, lower_95, upper_95."""
        frame = pd.DataFrame({"time": self.time, "forecast": self.mean})
        for level in LEVELS:
            percent = int(round(level * 100))
            frame[f"lower_{percent}"] = self.lower[level]
            frame[f"upper_{percent}"] = self.upper[level]
        return frame


def make_forecast(mean, widths_or_bounds, time, name: str = "") -> Forecast:
    """A `Forecast` from a mean path and {level: (lower, upper)} bounds."""
    mean = np.asarray(mean, dtype="float64")
    lower = {level: np.asarray(bounds[0], dtype="float64") for level, bounds in widths_or_bounds.items()}
    upper = {level: np.asarray(bounds[1], dtype="float64") for level, bounds in widths_or_bounds.items()}
    return Forecast(mean, lower, upper, pd.Index(time)[: mean.size], name)


def combine(forecasts: list[Forecast], name: str) -> Forecast:
    """The equal-weight mean of several forecasts of the same steps (bounds averaged too)."""
    mean = np.mean([f.mean for f in forecasts], axis=0)
    lower = {level: np.mean([f.lower[level] for f in forecasts], axis=0) for level in LEVELS}
    upper = {level: np.mean([f.upper[level] for f in forecasts], axis=0) for level in LEVELS}
    return Forecast(mean, lower, upper, forecasts[0].time, name)


class Forecaster:
    """Base class: subclasses set `name`, implement `fit` and `predict`, and `params()` (the
    settings `__init__` takes, so that a backtest can make fresh copies)."""

    name = "forecaster"
    label = "forecaster"

    def params(self) -> dict[str, Any]:
        return {}

    def default_horizon(self) -> int | None:
        """The horizon a backtest uses when none is given (None: the caller must say)."""
        return None

    def clone(self) -> Forecaster:
        """An unfitted copy with the same settings."""
        return type(self)(**self.params())

    def fit(self, series: Any) -> Forecaster:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, horizon: int) -> Forecast:  # pragma: no cover - abstract
        raise NotImplementedError

    def backtest(self, series: Any, folds: int = 3, horizon: int | None = None,
                 stride: int | None = None) -> Backtest:
        """Rolling-origin evaluation: `folds` origins inside `series`, the last one `horizon`
        points before its end, `stride` points apart (default: the horizon). At each origin a
        fresh copy is fitted on the data before it and makes one multi-step forecast (no true
        value after the origin is fed back), scored against the truth.

        Raises:
            InputError: the series is too short for that many folds.
        """
        data = as_series(series)
        horizon = int(horizon or self.default_horizon() or 0)
        if horizon < 1:
            raise InputError("Say how many steps each backtest fold forecasts (the horizon).")
        stride = int(stride or horizon)
        origins = [len(data) - horizon - stride * (folds - 1 - k) for k in range(folds)]
        if origins[0] < 4:
            raise InputError(
                f"A backtest of {folds} folds of {horizon} steps needs at least "
                f"{horizon + stride * (folds - 1) + 4} points; the series has {len(data)}. "
                "Use fewer folds or a shorter horizon."
            )
        results = []
        for origin in origins:
            train = data.head(origin)
            forecast = self.clone().fit(train).predict(horizon)
            actual = data.values[origin : origin + horizon]
            results.append(Fold(origin, data.time[origin : origin + horizon], actual, forecast,
                                metric_functions.score(actual, forecast.mean, train.values,
                                                       data.season)))
        return Backtest(self.name, horizon, results)


@dataclasses.dataclass
class Fold:
    origin: int  # index of the first forecast point
    time: pd.Index
    actual: np.ndarray
    forecast: Forecast
    scores: dict[str, float]


@dataclasses.dataclass
class Backtest:
    name: str
    horizon: int
    folds: list[Fold]

    def mean_scores(self) -> dict[str, float]:
        """Each measure averaged over the folds (NaN folds left out)."""
        names = self.folds[0].scores if self.folds else {}
        return {
            key: float(np.nanmean([fold.scores[key] for fold in self.folds]))
            if any(math.isfinite(fold.scores[key]) for fold in self.folds) else math.nan
            for key in names
        }
