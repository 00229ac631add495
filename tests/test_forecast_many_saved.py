"""An all-series model file forecasting every series again as a job (the Forecast page's
saved-model step with "Forecast all series" on, issue 13): same forecasts as the training run,
and plain refusals of a one-series file, a missing series and a missing covariate column."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from core.data import read_csv, to_panel
from core.errors import InputError
from core.forecasting import ALL_SERIES_FILE, ONE_SERIES_FILE, forecast_with_saved_model
from core.forecasting_many import (
    forecast_all_with_saved_model,
    run_forecast_all,
    saved_all_task,
)
from core.jobs import run_inline
from tests.test_forecast_many import long_file
from tests.test_forecast_many_files import long_demand
from tests.test_saved_forecast import trained  # noqa: F401 (a one-series model file)

QUICK = ForecastConfig(epochs=2, units=4, patience=0, horizon=6)
READ = {"target": "demand", "date_col": "date", "id_cols": ["store"]}


@pytest.fixture(scope="module")
def stores():
    panel = to_panel(read_csv(long_file()))
    return panel, run_forecast_all(panel, QUICK, debug={"autoets": False})


@pytest.mark.slow
def test_the_job_forecasts_every_series_as_the_training_run_did(stores):
    panel, result = stores
    saved = run_inline(saved_all_task, {"model": open(result.model_path, "rb").read(),
                                        "panel": panel})
    future = result.forecast[result.forecast["part"] == "future"].reset_index(drop=True)
    assert list(saved.forecast.columns[:2]) == ["store", "time"]
    assert list(saved.forecast["store"]) == list(future["store"])
    assert list(saved.forecast["time"]) == list(future["time"])
    for column in ("forecast", "lower_95", "upper_95"):
        np.testing.assert_allclose(saved.forecast[column], future[column], rtol=1e-9)
    assert saved.ids == {"A": ("A",), "B": ("B",)} and saved.id_names == ("store",)
    assert saved.horizon == 6 and saved.notes == [] and saved.created
    assert list(saved.rows_of("B")["forecast"]) == list(future[future["store"] == "B"]["forecast"])


@pytest.mark.slow
def test_a_missing_series_is_refused_in_plain_words(stores):
    panel, result = stores
    only_a = {"A": panel["A"]}  # store B's rows left out of the file
    with pytest.raises(InputError, match="No data was given for series 'B'"):
        forecast_all_with_saved_model(result.model_path, only_a)


def _as_table(frame: pd.DataFrame):
    return read_csv(frame.to_csv(index=False).encode())


@pytest.mark.slow
def test_each_kind_of_model_file_is_sent_to_the_other_mode(stores, trained):  # noqa: F811
    panel, result = stores
    series, one = trained
    with pytest.raises(InputError) as refused:
        forecast_all_with_saved_model(one.model_path, panel)
    assert str(refused.value) == ONE_SERIES_FILE
    with pytest.raises(InputError) as refused:
        forecast_with_saved_model(result.model_path, panel["A"])
    assert str(refused.value) == ALL_SERIES_FILE


@pytest.mark.slow
def test_a_model_with_covariates_reads_them_and_names_a_missing_column():
    text = long_demand(points=60, future=3, levels=(50, 400))
    table = read_csv(text.encode())
    from core.forecasting_many import panel_with_covariates

    panel, covariates = panel_with_covariates(table, "demand", "date", ["store"],
                                              known="temperature")
    config = QUICK.replace(horizon=None, covariates="temperature")
    result = run_forecast_all(panel, config, covariates=covariates, debug={"autoets": False})
    bare = to_panel(table, "demand", "date", ["store"])
    saved = forecast_all_with_saved_model(result.model_path, bare, table, READ)
    future = result.forecast[result.forecast["part"] == "future"].reset_index(drop=True)
    np.testing.assert_allclose(saved.forecast["forecast"], future["forecast"], rtol=1e-9)

    without = pd.read_csv(io.StringIO(text)).drop(columns="temperature").dropna()
    no_column = _as_table(without)
    with pytest.raises(InputError, match="trained with covariates \\(temperature\\)") as refused:
        forecast_all_with_saved_model(result.model_path, to_panel(no_column, "demand", "date",
                                                                  ["store"]), no_column, READ)
    assert "temperature" in str(refused.value).split("from this file:")[1]
