"""Bounded cost as the data grows (issue 16): the server's limit on a series' length (refused in
plain words by core, the forecast page and the command line), the classical methods reading
only the recent points of a long series, and the estimate shown before Train within a factor
of 2 of the time measured."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from app_helpers import page, texts

from core.config import ForecastConfig
from core.errors import ConfigError
from core.forecast import baselines
from core.forecast.base import SeriesData
from core.forecast.rnn import VALIDATION_ORIGINS, validation_origins
from core.forecasting import resolve_config
from core.limits import MAX_POINTS_VARIABLE, TooManyPointsError, check_points, max_points
from tests.cli_helpers import assert_one_error_line

ROOT = Path(__file__).resolve().parents[1]


def hourly_csv(path: Path, points: int) -> Path:
    hours = np.arange(points)
    frame = pd.DataFrame({
        "time": pd.date_range("2024-01-01", periods=points, freq="h").strftime("%Y-%m-%d %H:%M"),
        "load": (100 + 10 * np.sin(2 * np.pi * hours / 24) + hours % 7).round(2),
    })
    frame.to_csv(path, index=False)
    return path


def hourly_series(points: int, seed: int = 0) -> SeriesData:
    hours = np.arange(points, dtype="float64")
    noise = np.random.default_rng(seed).normal(0, 1.0, points)
    values = 100 + 10 * np.sin(2 * np.pi * hours / 24) + 3 * np.sin(2 * np.pi * hours / 168) + noise
    return SeriesData(values, pd.date_range("2024-01-01", periods=points, freq="h"), "h", 24, "load")


# ---------------------------------------------------------------------------------------------
# The limit on a series' length


@pytest.mark.parametrize(("setting", "limit"), [("", 1_000_000), ("500", 500), ("2_000", 2000),
                                                ("3,000", 3000)])
def test_the_limit_comes_from_the_environment(monkeypatch, setting, limit):
    monkeypatch.setenv(MAX_POINTS_VARIABLE, setting)
    assert max_points() == limit


@pytest.mark.parametrize("setting", ["many", "0", "-5", "1.5"])
def test_a_bad_limit_setting_is_refused_in_plain_words(monkeypatch, setting):
    monkeypatch.setenv(MAX_POINTS_VARIABLE, setting)
    with pytest.raises(ConfigError, match=f"{MAX_POINTS_VARIABLE} must be a whole number"):
        max_points()


def test_a_series_over_the_limit_is_refused_and_one_at_it_is_not(monkeypatch):
    monkeypatch.setenv(MAX_POINTS_VARIABLE, "100")
    check_points(100)
    with pytest.raises(TooManyPointsError) as caught:
        check_points(101)
    message = str(caught.value)
    assert "101 points" in message and "at most 100" in message
    assert MAX_POINTS_VARIABLE in message and "coarser frequency" in message
    # core refuses it too, whoever calls it (a job, the API)
    with pytest.raises(TooManyPointsError, match="has 150 points"):
        resolve_config(hourly_series(150), ForecastConfig())


def test_the_command_line_refuses_a_file_over_the_limit(tmp_path):
    data = hourly_csv(tmp_path / "meter.csv", 300)
    result = subprocess.run(
        [sys.executable, "-m", "core", "forecast", "--data", str(data), "--out",
         str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, MAX_POINTS_VARIABLE: "200"})
    assert_one_error_line(result, "300 points", "at most 200", MAX_POINTS_VARIABLE)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_forecast_page_refuses_a_file_over_the_limit_in_its_data_step(tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_POINTS_VARIABLE, "200")
    data = hourly_csv(tmp_path / "meter.csv", 300).read_bytes()
    at = page("pages/1_Forecast.py")
    at.radio(key="fc_source").set_value("My own CSV file").run()
    at.file_uploader(key="fc_upload").set_value(("meter.csv", data, "text/csv"))
    at.run()
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert "300 points" in errors and "at most 200" in errors, errors
    assert at.button(key="train").disabled  # nothing to train on


# ---------------------------------------------------------------------------------------------
# The classical methods on a long series


def test_the_expensive_classical_methods_read_only_the_recent_points():
    series = hourly_series(3 * baselines.RECENT_POINTS)
    recent = baselines.recent_part(series)
    assert len(recent) == baselines.RECENT_POINTS and recent.time[-1] == series.time[-1]
    for name in ("autoets", "autotheta"):
        whole = baselines.BASELINES[name](24).fit(series)
        assert len(whole.data_) == baselines.RECENT_POINTS
        np.testing.assert_allclose(whole.predict(24).mean,
                                   baselines.BASELINES[name](24).fit(recent).predict(24).mean)
    # the cheap ones still read every point: drift's slope is the whole series'
    drift = baselines.BASELINES["drift"](24).fit(series)
    assert len(drift.data_) == len(series)


def test_a_short_series_is_fitted_whole_as_before():
    from statsforecast.models import AutoETS

    series = hourly_series(300)
    ours = baselines.BASELINES["autoets"](24).fit(series).predict(12).mean
    direct = AutoETS(season_length=24).fit(series.values).predict(12)["mean"]
    np.testing.assert_allclose(ours, direct)


def test_arima_over_a_long_season_takes_the_season_out_first():
    from statsforecast.models import MSTL, AutoARIMA

    assert isinstance(baselines.AutoARIMAForecaster(24)._model(24), MSTL)
    assert isinstance(baselines.AutoARIMAForecaster(12)._model(12), AutoARIMA)
    series = hourly_series(600)
    started = time.perf_counter()
    forecast = baselines.AutoARIMAForecaster(24).fit(series).predict(24)
    assert np.isfinite(forecast.mean).all()
    # the daily cycle is in the forecast (a plain ARIMA flattens it within a few hours)
    assert np.ptp(forecast.mean) > 10
    assert time.perf_counter() - started < 60  # seasonal ARIMA over 24 took minutes


@pytest.mark.parametrize(("fit_part", "size", "expected"), [
    (10, 15, [10, 11, 12, 13, 14]),  # a short block: every origin
    (0, VALIDATION_ORIGINS, list(range(VALIDATION_ORIGINS))),
])
def test_validation_origins_of_a_short_block_are_all_of_them(fit_part, size, expected):
    assert validation_origins(fit_part, size).tolist() == expected


def test_validation_origins_of_a_long_block_are_evenly_spaced():
    origins = validation_origins(5000, 6000)
    assert origins.size == VALIDATION_ORIGINS
    assert origins[0] == 5000 and origins[-1] == 5999
    assert np.all(np.diff(origins) >= 4) and np.all(np.diff(origins) <= 6)


# ---------------------------------------------------------------------------------------------
# The estimate shown before Train


@pytest.mark.slow
def test_the_estimate_is_within_a_factor_of_two_of_the_measured_time():
    # A long enough series to train within its budget (streamed windows), with a small budget
    # so that the test is quick; measured here, on this machine, now.
    from core.forecast.rnn import RNNForecaster
    from core.forecast.windows import estimate_seconds, machine_busy

    series = hourly_series(4000, seed=3)
    config = resolve_config(series, ForecastConfig(budget_seconds=10))
    train = series.head(len(series) - config.holdout)
    estimate = estimate_seconds(len(train), config, machine_busy())
    started = time.perf_counter()
    forecaster = RNNForecaster(config).fit(train)
    measured = time.perf_counter() - started
    print(f"estimate {estimate:.1f} s, measured {measured:.1f} s "
          f"(training {forecaster.training_seconds_:.1f} s), load {os.getloadavg()[0]:.1f}")
    assert forecaster.training_windows_ > 2048  # streamed, so held to the budget
    assert 0.5 <= measured / estimate <= 2.0


def test_the_page_shows_the_estimate_and_keeps_the_budget_in_the_settings(tmp_path):
    data = hourly_csv(tmp_path / "meter.csv", 3000).read_bytes()
    at = page("pages/1_Forecast.py")
    at.radio(key="fc_source").set_value("My own CSV file").run()
    at.file_uploader(key="fc_upload").set_value(("meter.csv", data, "text/csv"))
    at.run()
    assert not at.exception
    budget = at.number_input(key="fc_budget_seconds")
    assert budget.value == ForecastConfig().budget_seconds
    captions = " ".join(texts(at.caption))
    assert "Training takes about" in captions and "budget of 60 s" in captions, captions
    budget.set_value(300.0).run()
    assert at.session_state["_fc_config"].budget_seconds == 300.0
    captions = " ".join(texts(at.caption))
    assert "budget of 5 min" in captions, captions
    assert ForecastConfig.from_json(at.session_state["_fc_config"].to_json()).budget_seconds == 300


def test_a_short_series_is_said_to_train_until_early_stopping():
    at = page("pages/1_Forecast.py")  # the first bundled sample: a short monthly series
    assert not at.exception
    captions = " ".join(texts(at.caption))
    assert "Training takes about" in captions and "until early stopping" in captions, captions
