"""Classical forecasters with the same contract as the network: naive, seasonal naive, drift,
AutoETS, AutoTheta, AutoARIMA, and their equal-weight combination.

Each wraps one statsforecast model, which also gives 80% and 95% intervals. A season is dropped
when the training part holds fewer than two full seasons (the seasonal models cannot estimate
it then); the forecast still comes, without the season.

AutoETS, AutoTheta and AutoARIMA are fitted on at most the last RECENT_POINTS points of a series
(their cost grows faster than the length: AutoETS with a daily season took 25 s on 5,000 hourly
points here, against about 1 s on 1,000), so a long series costs them a bounded time. Series of
up to RECENT_POINTS points (every one of bench/accuracy.py's) are fitted whole, as before.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np

from core.forecast.base import (
    LEVELS,
    Forecast,
    Forecaster,
    SeriesData,
    as_series,
    combine,
    future_time,
    make_forecast,
)

# Fitted statsforecast models by (class, season, data): a forecast fits AutoETS and AutoTheta on
# the same training part (and on the whole series) both inside the network's mix and as
# baselines; fitting is deterministic, so the second fit reuses the first. Small and
# per-process: a worker forgets it when it is recycled.
_FITTED: dict[tuple, tuple] = {}
_FITTED_SIZE = 32


# The expensive classical models learn from at most this many recent points of a long series.
RECENT_POINTS = 1000


class StatsForecaster(Forecaster):
    """A statsforecast model behind RNN Lab's contract. Subclasses name the model.

    `max_points`: fit on at most this many recent points (None: the whole series)."""

    seasonal = True
    min_points = 1
    max_points: int | None = None

    def __init__(self, season: int | None = None):
        self.season = season

    def params(self) -> dict[str, Any]:
        return {"season": self.season}

    def _model(self, season: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, series: Any) -> StatsForecaster:
        data = recent_part(as_series(series, self.season), self.max_points)
        season = data.season if data.season > 1 and len(data) >= 2 * data.season else 1
        self.season_used_ = season
        self.data_ = data
        self.fallback_ = ""
        key = (type(self).__name__, season, hashlib.sha1(data.values.tobytes()).hexdigest())
        if key in _FITTED:
            self.model_, self.fallback_ = _FITTED[key]
            return self
        try:
            if len(data) < self.min_points:
                raise ValueError(f"it needs at least {self.min_points}")
            self.model_ = self._model(season).fit(data.values)
        except (NotImplementedError, ValueError, ZeroDivisionError, np.linalg.LinAlgError) as error:
            # statsforecast refuses some tiny or degenerate series (AutoETS: fewer than 7
            # points); the straight line through the data still gives an honest forecast.
            from statsforecast.models import Naive, RandomWalkWithDrift

            self.fallback_ = (f"{self.label} could not be fitted on {len(data)} points "
                              f"({str(error)[:80]}); the drift line is used in its place.")
            self.model_ = (RandomWalkWithDrift() if len(data) > 1 else Naive()).fit(data.values)
        _FITTED[key] = (self.model_, self.fallback_)
        while len(_FITTED) > _FITTED_SIZE:
            _FITTED.pop(next(iter(_FITTED)))
        return self

    def forward(self, values, horizon: int) -> np.ndarray:
        """The mean forecast of `horizon` steps after `values` (the fitted series, shortened or
        extended) with the parameters fitted already: cheap, for many origins in a row."""
        values = np.asarray(values, dtype="float64")
        try:
            output = self.model_.forward(y=values, h=int(horizon))
        except (NotImplementedError, ValueError, ZeroDivisionError, AttributeError,
                np.linalg.LinAlgError):
            output = self._model(self.season_used_).fit(values).predict(int(horizon))
        return np.asarray(output["mean"], dtype="float64")

    def predict(self, horizon: int) -> Forecast:
        horizon = int(horizon)
        output = self.model_.predict(horizon, level=[int(level * 100) for level in LEVELS])
        bounds = {}
        for level in LEVELS:
            percent = int(level * 100)
            bounds[level] = (output[f"lo-{percent}"], output[f"hi-{percent}"])
        mean = np.asarray(output["mean"], dtype="float64")
        time = future_time(self.data_.time, self.data_.freq, horizon)
        return make_forecast(mean, bounds, time, self.name)


class NaiveForecaster(StatsForecaster):
    """Every future value equals the last one seen."""

    name, label = "naive", "naive"

    def _model(self, season):
        from statsforecast.models import Naive

        return Naive()


class SeasonalNaiveForecaster(StatsForecaster):
    """Every future value equals the value one season earlier."""

    name, label = "seasonal_naive", "seasonal naive"

    def _model(self, season):
        from statsforecast.models import Naive, SeasonalNaive

        return SeasonalNaive(season) if season > 1 else Naive()


class DriftForecaster(StatsForecaster):
    """The straight line through the first and last training values, extended."""

    name, label = "drift", "drift"
    min_points = 2

    def _model(self, season):
        from statsforecast.models import RandomWalkWithDrift

        return RandomWalkWithDrift()


class AutoETSForecaster(StatsForecaster):
    """Exponential smoothing with error, trend and season picked by AICc."""

    name, label = "autoets", "AutoETS"
    max_points = RECENT_POINTS

    def _model(self, season):
        from statsforecast.models import AutoETS

        return AutoETS(season_length=season)


class AutoThetaForecaster(StatsForecaster):
    """The Theta method (M3's winner), its variant picked by in-sample error."""

    name, label = "autotheta", "AutoTheta"
    min_points = 3
    max_points = RECENT_POINTS

    def _model(self, season):
        from statsforecast.models import AutoTheta

        return AutoTheta(season_length=season)


# A seasonal ARIMA over a long season is very slow: 13 minutes for 52 weeks on the weekly
# sample, 147 s for a daily season on 1,000 hourly points. Past this season, AutoARIMA models the
# series with its season taken out by MSTL (the season comes back in the forecast, as seasonal
# naive forecasts it): about 2 s on 1,000 hourly points, where a plain non-seasonal ARIMA
# forecast the daily cycle poorly (MASE 1.18-1.29 against 0.42-1.02 on bench/scale.py's series).
MAX_ARIMA_SEASON = 12


class AutoARIMAForecaster(StatsForecaster):
    """ARIMA with orders picked by AICc (slower than the others: about half a second); for a
    season longer than MAX_ARIMA_SEASON, on the series without its season (MSTL)."""

    name, label = "autoarima", "AutoARIMA"
    min_points = 3
    max_points = RECENT_POINTS

    def _model(self, season):
        from statsforecast.models import MSTL, AutoARIMA

        if season > MAX_ARIMA_SEASON:
            return MSTL(season_length=season, trend_forecaster=AutoARIMA(season_length=1))
        return AutoARIMA(season_length=season)


class CombinationForecaster(Forecaster):
    """The equal-weight mean of several forecasters (by default AutoETS and AutoTheta)."""

    name, label = "combination", "ETS+Theta"

    def __init__(self, season: int | None = None, members: tuple[str, ...] = ("autoets", "autotheta")):
        self.season = season
        self.members = tuple(members)

    def params(self) -> dict[str, Any]:
        return {"season": self.season, "members": self.members}

    def fit(self, series: Any) -> CombinationForecaster:
        self.members_ = [BASELINES[name](self.season).fit(series) for name in self.members]
        return self

    def predict(self, horizon: int) -> Forecast:
        return combine([member.predict(horizon) for member in self.members_], self.name)


def recent_part(data: SeriesData, points: int | None = RECENT_POINTS) -> SeriesData:
    """The last `points` points of `data` (all of it when shorter, or when `points` is None)."""
    if points is None or len(data) <= points:
        return data
    return dataclasses.replace(data, values=data.values[-points:], time=data.time[-points:])


BASELINES: dict[str, type[StatsForecaster]] = {
    cls.name: cls
    for cls in (NaiveForecaster, SeasonalNaiveForecaster, DriftForecaster, AutoETSForecaster,
                AutoThetaForecaster, AutoARIMAForecaster)
}
# What every forecast is scored against, in the order the page shows them.
DEFAULT_BASELINES = ("naive", "seasonal_naive", "drift", "autoets", "autotheta", "autoarima")


def make_baselines(season: int | None, names: tuple[str, ...] = DEFAULT_BASELINES) -> list[Forecaster]:
    """Fresh, unfitted baselines by name."""
    return [BASELINES[name](season) for name in names]


def label_of(name: str) -> str:
    """The display name of a baseline ('autoets' -> 'AutoETS')."""
    if name in BASELINES:
        return BASELINES[name].label
    return CombinationForecaster.label if name == CombinationForecaster.name else name
