"""Charts an analyst can read (issue 13, item 6): full dates at the series' precision, and a
forecast chart that opens on the recent past with the whole history one click away."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from core.data import load_series
from ui import forecast_view as view


@pytest.mark.parametrize(
    ("stamp", "freq", "text"),
    [
        ("2024-03-01", "D", "2024-03-01"),  # daily data that starts on the 1st: the day counts
        ("2024-03-01 13:00", "h", "2024-03-01 13:00"),
        ("2024-03-04", "W-MON", "2024-03-04"),
        ("2024-03-01", "MS", "2024-03"),
        ("2024-04-01", "QS-JAN", "2024 Q2"),
        ("2024-01-01", "YS-JAN", "2024"),
        ("2024-03-01 06:30", None, "2024-03-01 06:30"),
        ("2024-03-01", None, "2024-03-01"),
    ],
)
def test_times_are_written_at_the_series_precision(stamp, freq, text):
    assert view.time_text(pd.Timestamp(stamp), freq) == text


def test_row_numbers_stay_numbers():
    assert view.time_text(41) == "41"


@pytest.mark.parametrize(
    ("length", "first_forecast", "season", "start"),
    [
        (3000, 2986, 7, 2986 - 56),   # daily, 14 held out: 4 holdouts' worth of history shown
        (144, 132, 12, 132 - 48),     # monthly: four years before the holdout
        (60, 48, 12, 0),              # short: everything fits
        (900, 876, 24, 876 - 96),     # hourly, a day held out: four days shown
    ],
)
def test_the_chart_opens_a_few_seasons_before_the_forecast(length, first_forecast, season, start):
    assert view.recent_view(pd.RangeIndex(length), first_forecast, season) == start


def fake_result(series, horizon: int):
    """What results_figure reads of a ForecastResult: the forecast and baselines frames."""
    holdout = pd.DataFrame({"time": series.time[-horizon:], "part": "holdout",
                            "actual": series.values[-horizon:],
                            "forecast": series.values[-horizon:] + 1})
    future_time = pd.date_range(series.time[-1], periods=horizon + 1, freq=series.freq)[1:]
    future = pd.DataFrame({"time": future_time, "part": "future", "actual": np.nan,
                           "forecast": 20.0 + np.arange(horizon)})
    frame = pd.concat([holdout, future], ignore_index=True)
    for percent in (80, 95):
        frame[f"upper_{percent}"] = frame["forecast"] + 2
        frame[f"lower_{percent}"] = frame["forecast"] - 2
    baselines = pd.DataFrame({"time": holdout["time"], "naive": 5.0, "drift": 1e6})
    metrics = {"model": {"mase": 0.5},
               "baselines": {"naive": {"mase": 1.0}, "drift": {"mase": 9.0}}}
    return types.SimpleNamespace(forecast=frame, baselines=baselines, cell_name="LSTM",
                                 model_label="LSTM", metrics=metrics, network=None)


def daily_series(length: int):
    days = pd.date_range("2024-03-01", periods=length, freq="D")
    text = "date,visits\n" + "\n".join(f"{d:%Y-%m-%d},{i % 7 + i / 100}" for i, d in enumerate(days))
    return load_series(text.encode())


def test_a_long_daily_forecast_opens_zoomed_with_the_full_history_one_click_away():
    series = daily_series(800)
    figure = view.results_figure(series, fake_result(series, 14))
    layout = figure.layout
    start, end = (pd.Timestamp(x) for x in layout.xaxis.range)
    assert start == series.time[800 - 14 - 56]
    assert end == series.time[-1] + pd.Timedelta(days=14)
    assert layout.xaxis.rangeslider.visible is True and layout.xaxis.hoverformat == "%Y-%m-%d"
    buttons = layout.updatemenus[0].buttons
    assert [button.label for button in buttons] == ["Recent", "All history"]
    assert buttons[1].args[0] == {"xaxis.autorange": True, "yaxis.autorange": True}
    # The y axis fits what is shown: the history since the zoom, the forecast and its bands
    # (up to 33 + 2), not the hidden drift baseline at a million.
    low, high = layout.yaxis.range
    assert low < 5 and 35 < high < 38


def test_a_short_forecast_chart_shows_everything():
    series = daily_series(60)
    figure = view.results_figure(series, fake_result(series, 14))
    assert figure.layout.xaxis.range is None and not figure.layout.updatemenus


def test_a_long_series_gets_a_slider_in_the_data_step():
    assert view.series_figure(daily_series(800)).layout.xaxis.rangeslider.visible is True
    assert not view.series_figure(daily_series(60)).layout.xaxis.rangeslider.visible
    assert view.series_figure(daily_series(60)).layout.xaxis.hoverformat == "%Y-%m-%d"


def test_the_interval_bands_of_a_short_forecast_have_no_marker_dots():
    series = daily_series(60)
    figure = view.results_figure(series, fake_result(series, 4))  # 8 points per band outline
    bands = [trace for trace in figure.data if trace.fill == "toself"]
    assert len(bands) == 4 and all(trace.mode == "lines" for trace in bands)
