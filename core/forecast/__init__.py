"""Forecasters with one contract: the recurrent network and the classical baselines.

`RNNForecaster(config).fit(series).predict(horizon)` gives a `Forecast` (values, 80% and 95%
intervals, times); the baselines in `core.forecast.baselines` answer the same calls, and
`Forecaster.backtest` scores any of them from several origins.
"""

from core.forecast.base import Backtest, Forecast, Forecaster, SeriesData, as_series
from core.forecast.rnn import RNNForecaster

__all__ = ["Backtest", "Forecast", "Forecaster", "RNNForecaster", "SeriesData", "as_series"]
