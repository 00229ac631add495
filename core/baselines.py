"""Classical yardsticks a network must beat: naive, seasonal naive, drift and AutoETS.

They share the estimator contract of RNN Lab's forecaster: `__init__` stores settings, `fit(y)`
learns from the training values and returns `self`, learned state ends in `_`, and
`predict(horizon)` returns the next `horizon` values. A comparison is then a loop.
"""

from __future__ import annotations

import numpy as np

from core.errors import InputError


def _as_train(y) -> np.ndarray:
    y = np.asarray(y, dtype="float64").ravel()
    if y.size == 0:
        raise InputError("A baseline needs at least one training value; received none.")
    return y


class NaiveForecaster:
    """Every future value equals the last one seen."""

    name = "naive"

    def fit(self, y) -> NaiveForecaster:
        self.last_ = float(_as_train(y)[-1])
        return self

    def predict(self, horizon: int) -> np.ndarray:
        return np.full(int(horizon), self.last_)


class SeasonalNaiveForecaster:
    """Every future value equals the value one season earlier (the last season repeated)."""

    name = "seasonal_naive"

    def __init__(self, season: int):
        self.season = int(season)

    def fit(self, y) -> SeasonalNaiveForecaster:
        y = _as_train(y)
        season = self.season if 1 <= self.season <= y.size else 1
        self.last_season_ = y[-season:].copy()
        return self

    def predict(self, horizon: int) -> np.ndarray:
        repeats = -(-int(horizon) // self.last_season_.size)
        return np.tile(self.last_season_, repeats)[: int(horizon)]


class DriftForecaster:
    """The straight line through the first and last training values, extended."""

    name = "drift"

    def fit(self, y) -> DriftForecaster:
        y = _as_train(y)
        self.last_ = float(y[-1])
        self.slope_ = float((y[-1] - y[0]) / (y.size - 1)) if y.size > 1 else 0.0
        return self

    def predict(self, horizon: int) -> np.ndarray:
        return self.last_ + self.slope_ * np.arange(1, int(horizon) + 1)


class AutoETSForecaster:
    """statsforecast's AutoETS: exponential smoothing with error/trend/season picked by AICc.

    A strong classical method that fits in well under two seconds on 2,300 points here (no
    numba compilation is paid at fit time with statsforecast 2.1.1). The season is dropped when
    the training part holds fewer than two full seasons.
    """

    name = "autoets"

    def __init__(self, season: int):
        self.season = int(season)

    def fit(self, y) -> AutoETSForecaster:
        from statsforecast.models import AutoETS

        y = _as_train(y)
        season = self.season if self.season > 1 and y.size >= 2 * self.season else 1
        self.model_ = AutoETS(season_length=season).fit(y)
        return self

    def predict(self, horizon: int) -> np.ndarray:
        return np.asarray(self.model_.predict(int(horizon))["mean"], dtype="float64")


def make_baselines(season: int, include_autoets: bool = True) -> list:
    """The baselines every forecast is scored against, in the order the page shows them."""
    baselines = [NaiveForecaster(), SeasonalNaiveForecaster(season), DriftForecaster()]
    if include_autoets:
        baselines.append(AutoETSForecaster(season))
    return baselines
