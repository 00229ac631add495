"""A saved forecast model reused on new data: same forecast without training, plain refusals."""

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from core.data import Series
from core.errors import InputError
from core.forecasting import forecast_with_saved_model, run_forecast
from core.modelfile import ModelFileError


def make_series(values, freq="MS") -> Series:
    values = np.asarray(values, dtype="float64")
    time = pd.date_range("2000-01-01", periods=len(values), freq=freq)
    return Series(values=values, time=time, freq=freq, season=12, name="sales", date_col="t",
                  missing="interpolate", filled=0, notes=())


def seasonal(length=84, seed=0):
    t = np.arange(length)
    return 50 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(seed).normal(0, 0.5, length)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from core.jobs import JobContext

    series = make_series(seasonal())
    result = run_forecast(series, ForecastConfig(epochs=2, patience=0, units=4),
                          JobContext(tmp_path_factory.mktemp("run")))
    return series, result


@pytest.mark.slow
def test_a_saved_model_repeats_its_future_forecast_without_training(trained):
    series, result = trained
    with open(result.model_path, "rb") as upload:  # an upload is a file-like object
        saved = forecast_with_saved_model(upload, series)
    future = result.forecast[result.forecast["part"] == "future"]
    np.testing.assert_allclose(saved.forecast["forecast"], future["forecast"], rtol=1e-6)
    np.testing.assert_allclose(saved.forecast["upper_95"], future["upper_95"], rtol=1e-6)
    assert list(saved.forecast["time"]) == list(future["time"])
    assert saved.trained_on["name"] == "sales" and saved.trained_on["points"] == 84 - 12
    assert saved.created and "GRU" in saved.label


@pytest.mark.slow
def test_a_saved_model_refuses_another_frequency_and_a_tampered_file(trained):
    series, result = trained
    weekly = make_series(seasonal(84), freq="W-SUN")
    with pytest.raises(InputError, match="frequency 'MS'.*'W-SUN'"):
        forecast_with_saved_model(result.model_path, weekly)
    data = bytearray(open(result.model_path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ModelFileError):
        forecast_with_saved_model(bytes(data), series)
