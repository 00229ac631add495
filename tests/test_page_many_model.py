"""The forecast page's all-series mode (issue 13): covariates refused in plain words before
training, and the global network's model file offered for download and loading back."""

from __future__ import annotations

import pytest
from app_helpers import job_of, run_until_finished, texts
from test_page_many import own_file, stores_csv

from core.forecast.many import GlobalRNNForecaster
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
