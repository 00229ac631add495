"""Forecast error measures: MAE, RMSE, sMAPE (percent) and MASE, as small pure functions.

MASE divides the forecast's MAE by the in-sample MAE of the seasonal-naive forecast on the
training part (lag `season`, lag 1 when the season is 1), so 1.0 means "as good as copying last
season, one step at a time, inside the training data". Below 1 is good; values are comparable
across series of different scales.
"""

from __future__ import annotations

import math

import numpy as np


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    actual = np.asarray(actual, dtype="float64").ravel()
    forecast = np.asarray(forecast, dtype="float64").ravel()
    if actual.shape != forecast.shape:
        raise ValueError(
            f"actual and forecast must have the same length; received {actual.size} and "
            f"{forecast.size}"
        )
    if actual.size == 0:
        raise ValueError("actual and forecast are empty; there is nothing to score")
    return actual, forecast


def mae(actual, forecast) -> float:
    actual, forecast = _pair(actual, forecast)
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual, forecast) -> float:
    actual, forecast = _pair(actual, forecast)
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent (0-200); a point where both values are 0 counts as no error."""
    actual, forecast = _pair(actual, forecast)
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(
        2.0 * np.abs(actual - forecast),
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return float(100.0 * np.mean(ratio))


def mase_scale(train, season: int) -> float:
    """In-sample MAE of the seasonal-naive forecast on `train` (lag 1 when `season` is 1 or when
    the training part is shorter than two seasons). NaN when the training part is constant."""
    train = np.asarray(train, dtype="float64").ravel()
    lag = season if season > 1 and train.size > season else 1
    if train.size <= lag:
        return math.nan
    scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
    return scale if scale > 0 else math.nan


def mase(actual, forecast, train, season: int) -> float:
    """MAE scaled by the training part's in-sample seasonal-naive MAE; NaN if that scale is 0."""
    return mae(actual, forecast) / mase_scale(train, season)


def score(actual, forecast, train, season: int) -> dict[str, float]:
    """All four measures in one dict: {"mae", "rmse", "smape", "mase"}."""
    return {
        "mae": mae(actual, forecast),
        "rmse": rmse(actual, forecast),
        "smape": smape(actual, forecast),
        "mase": mase(actual, forecast, train, season),
    }
