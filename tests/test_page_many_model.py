"""The forecast page's all-series mode (issue 13): covariates refused in plain words before
training, the global network's model file offered for download, and loaded back in the
saved-model step to forecast every series without training (each kind of model file sent to
its own mode in plain words)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from app_helpers import job_of, run_until_finished, texts
from test_page_many import own_file, stores_csv

from core.forecast.many import GlobalRNNForecaster
from core.forecasting import ALL_SERIES_FILE, ONE_SERIES_FILE
from tests.test_saved_forecast import trained  # noqa: F401 (a one-series model file)
from ui.jobs import job_manager
from ui.loaders import fingerprint


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


@pytest.mark.slow
def test_every_series_is_forecast_with_calendar_features():
    data = stores_csv()
    at = own_file(data)
    at.checkbox(key="fc_calendar").check().run()  # daily data: calendar features offered
    at.toggle(key=f"fc_all_{fingerprint(data)}").set_value(True).run()
    assert not at.exception and not at.error, texts(at.error)
    said = " ".join(texts(at.caption))
    assert "Each series' own calendar features are inputs of the network" in said, said
    at.number_input(key="fc_epochs").set_value(1).run()
    at.number_input(key="fc_units").set_value(2).run()
    at.button(key="train-all").click().run()
    job = job_of(at, "forecast_all")
    run_until_finished(at, key="forecast_all")
    assert not at.exception and job.state.value == "done", job.snapshot().message
    compared = job.result.covariates
    assert compared["used"].startswith("calendar features (day of week")
    assert compared["text"] in texts(at.success) + texts(at.info)
    assert job.result.summary["covariates"] == compared["used"]


@pytest.mark.slow
def test_the_global_model_is_offered_as_a_model_file_that_loads_back():
    data = stores_csv()
    at = own_file(data)
    at.toggle(key=f"fc_all_{fingerprint(data)}").set_value(True).run()
    at.number_input(key="fc_epochs").set_value(1).run()
    at.number_input(key="fc_units").set_value(2).run()
    at.button(key="train-all").click().run()
    job = job_of(at, "forecast_all")
    run_until_finished(at, key="forecast_all")
    assert not at.exception and job.state.value == "done", job.snapshot().message
    labels = [button.label for button in at.download_button]
    assert "Download every forecast (CSV)" in labels and "Download model (.rnnlab)" in labels
    loaded = GlobalRNNForecaster.load(job.result.model_path)
    assert set(loaded.members_) == set(job.result.scores) == {"A", "B"}
    assert loaded.id_names_ == ("store",)


def train_all(data: bytes):
    """The page with every series of `data` trained (1 epoch, 2 units) and its finished job."""
    at = own_file(data)
    at.toggle(key=f"fc_all_{fingerprint(data)}").set_value(True).run()
    at.number_input(key="fc_epochs").set_value(1).run()
    at.number_input(key="fc_units").set_value(2).run()
    at.button(key="train-all").click().run()
    job = job_of(at, "forecast_all")
    run_until_finished(at, key="forecast_all")
    assert not at.exception and job.state.value == "done", job.snapshot().message
    return at, job


def upload_model(at, key: str, data: bytes) -> None:
    at.file_uploader(key=key).set_value(("model.rnnlab", data, "application/octet-stream"))
    at.run()


@pytest.mark.slow
def test_the_saved_global_model_forecasts_every_series_again_without_training():
    at, training = train_all(stores_csv())
    assert "Download model (.rnnlab)" in [button.label for button in at.download_button]
    upload_model(at, "fc-all-model-file", Path(training.result.model_path).read_bytes())
    at.button(key="fc-all-use-model").click().run()
    job = job_of(at, "forecast_all_saved")
    assert job is not None and job.id != training.id
    run_until_finished(at, key="forecast_all_saved")
    assert not at.exception and not at.error, texts(at.error)
    assert job.state.value == "done", job.snapshot().message
    saved = job.result.forecast
    future = training.result.forecast
    future = future[future["part"] == "future"].reset_index(drop=True)
    assert list(saved.columns[:2]) == ["store", "time"]
    assert list(saved["store"]) == list(future["store"]) and set(saved["store"]) == {"A", "B"}
    assert list(saved["time"]) == list(future["time"])
    np.testing.assert_allclose(saved["forecast"], future["forecast"], rtol=1e-9)
    np.testing.assert_allclose(saved["upper_95"], future["upper_95"], rtol=1e-9)
    said = texts(at.success)
    assert any(text.startswith("2 series forecast") and "without training" in text
               for text in said), said
    assert "Download forecasts (CSV)" in [button.label for button in at.download_button]
    chooser = at.selectbox(key=f"many-saved-chart-{job.id}")
    assert chooser.options == ["A", "B"]
    chooser.set_value("B").run()
    assert not at.exception
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    figure = next(figure for figure in figures  # the saved model's chart, not the training's
                  if any(trace.get("name") == "95% interval" for trace in figure["data"]))
    assert figure["layout"]["title"]["text"] == "Series B"
    drawn = [trace for trace in figure["data"] if trace.get("name", "").endswith("forecast")]
    rows = future[future["store"] == "B"]["forecast"]
    np.testing.assert_allclose(_plotly_values(drawn[0]["y"]), rows, rtol=1e-9)


def _plotly_values(y) -> np.ndarray:
    """A trace's y values, whether plotly wrote them as a list or as typed binary data."""
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])
    return np.asarray(y, dtype="float64")


@pytest.mark.slow
def test_each_kind_of_model_file_is_sent_to_the_other_mode(trained):  # noqa: F811
    data = stores_csv()
    at, all_series = train_all(data)
    upload_model(at, "fc-all-model-file", Path(trained[1].model_path).read_bytes())
    at.button(key="fc-all-use-model").click().run()
    assert job_of(at, "forecast_all_saved") is None  # refused before any job
    assert any(ONE_SERIES_FILE in text for text in texts(at.error)), texts(at.error)

    at.toggle(key=f"fc_all_{fingerprint(data)}").set_value(False).run()
    upload_model(at, "fc-model-file", Path(all_series.result.model_path).read_bytes())
    at.button(key="fc-use-model").click().run()
    assert job_of(at, "forecast_saved") is None
    assert any(ALL_SERIES_FILE in text for text in texts(at.error)), texts(at.error)


@pytest.mark.slow
def test_data_without_a_series_the_model_learnt_gets_the_jobs_plain_message():
    at, training = train_all(stores_csv())
    model = Path(training.result.model_path).read_bytes()
    other = stores_csv(lengths=(("A", 40), ("C", 40)), duplicate=False)  # store B is missing
    at.file_uploader(key="fc_upload").set_value(("stores.csv", other, "text/csv"))
    at.run()
    at.toggle(key=f"fc_all_{fingerprint(other)}").set_value(True).run()
    upload_model(at, "fc-all-model-file", model)
    at.button(key="fc-all-use-model").click().run()
    job = job_of(at, "forecast_all_saved")
    run_until_finished(at, key="forecast_all_saved")
    assert not at.exception and job.state.value == "failed"
    said = " ".join(texts(at.error))
    assert "No data was given for series 'B', which the model was fitted on" in said, said
