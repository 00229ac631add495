"""AppTest tests of the forecast page (pages/1_Forecast.py)."""

from __future__ import annotations

import pytest
from app_helpers import job_of, page, run_until_finished, texts

from core.config import ForecastConfig
from core.settingsfile import DataRef, settings_json
from ui import controls
from ui.jobs import job_manager

PAGE = "pages/1_Forecast.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def upload(at, key: str, name: str, data: bytes, mime: str = "text/csv"):
    at.file_uploader(key=key).set_value((name, data, mime))
    at.run()
    return at


def forecast_from_home():
    """The forecast page opened from the home page (AppTest switches pages relative to app.py)."""
    at = page("app.py")
    at.switch_page(PAGE).run()
    return at


def use_own_file(at):
    at.radio(key="fc_source").set_value("My own CSV file").run()
    return at


def test_page_runs_with_the_default_sample():
    at = page(PAGE)
    assert not at.exception
    assert [header.value for header in at.header] == [
        "1. Data", "2. Model", "3. Train", "4. Results"
    ]
    assert not at.error
    summary = " ".join(texts(at.markdown))
    assert "144 points" in summary and "monthly" in summary
    assert at.button(key="train").disabled is False
    # The detected reading options are shown in the selectboxes.
    assert at.selectbox(key="fc_sep").format_func(",") == "comma ,"
    found = " ".join(caption.value for caption in at.caption)
    assert "Found: values separated by comma, decimal point" in found


def test_every_control_has_a_help_text():
    at = page(PAGE)
    widgets = [*at.radio, *at.selectbox, *at.number_input, *at.select_slider, *at.checkbox,
               *at.file_uploader, *at.button]
    missing = [widget.label for widget in widgets if not widget.help]
    assert missing == []


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("sheet.csv", b"PK\x03\x04\x14\x00\x06\x00binary", "Excel"),
        ("empty.csv", b"", "empty"),
        ("words.csv", b"name,colour\n" + b"alice,red\n" * 20, "number"),
    ],
)
def test_a_bad_upload_shows_an_error_and_no_exception(name, data, expected):
    at = use_own_file(page(PAGE))
    upload(at, "fc_upload", name, data)
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert expected.lower() in errors.lower(), errors
    assert at.button(key="train").disabled is True


def test_semicolon_and_decimal_comma_file_is_detected():
    # Four years of months, European style: 'Datum;Umsatz' and '1234,5'.
    lines = ["Datum;Umsatz"] + [
        f"{2019 + index // 12}-{index % 12 + 1:02d}-01;{1000 + 10 * index + (index % 12) * 3},5"
        for index in range(48)
    ]
    at = use_own_file(page(PAGE))
    upload(at, "fc_upload", "umsatz.csv", "\n".join(lines).encode())
    assert not at.exception
    assert not at.error, texts(at.error)
    found = " ".join(caption.value for caption in at.caption)
    assert "Found: values separated by semicolon, decimal comma" in found
    summary = " ".join(texts(at.markdown))
    assert "48 points" in summary and "monthly" in summary
    config = at.session_state["_fc_config"]
    assert isinstance(config, ForecastConfig)


def test_settings_file_round_trips_into_the_controls():
    wanted = ForecastConfig(
        cell="lstm", window=18, horizon=6, holdout=6, season=12, num_layers=2, units=48,
        dropout=0.1, learning_rate=0.005, batch_size=16, epochs=7, patience=0,
        strategy="recursive", transform="none", missing="ffill", ensemble=2, seed=7,
        clipnorm=2.5,
    )
    at = page(PAGE)
    # a settings file names its data (here the sample shown): then it restores every setting
    document = settings_json(wanted, DataRef(sample="air_passengers")).encode()
    upload(at, "fc_settings_file", "rnnlab-settings.json", document, "application/json")
    assert not at.exception
    assert not at.error, texts(at.error)
    assert at.session_state["_fc_config"] == wanted
    # The Train button's callback reads the same settings straight from the widgets' state.
    assert controls.config_from_state(at.session_state) == wanted
    assert at.radio(key="fc_cell").value == "lstm"
    assert at.checkbox(key="fc_early_stopping").value is False
    # And back out: the page's settings serialise to the same JSON.
    assert ForecastConfig.from_json(at.session_state["_fc_config"].to_json()) == wanted


def test_settings_are_kept_across_a_visit_to_another_page():
    at = forecast_from_home()
    at.number_input(key="fc_epochs").set_value(7)
    at.radio(key="fc_cell").set_value("lstm")
    at.run()
    at.switch_page("app.py").run()
    assert not at.exception
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.number_input(key="fc_epochs").value == 7
    assert at.session_state["_fc_config"].cell == "lstm"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"kind": "forecast", "units": 100000}', "units"),
        (b'{"kind": "nextword"}', "nextword"),
    ],
)
def test_a_bad_settings_file_shows_an_error(data, expected):
    at = page(PAGE)
    before = at.session_state["_fc_config"]
    upload(at, "fc_settings_file", "settings.json", data, "application/json")
    assert not at.exception
    assert expected in " ".join(texts(at.error))
    assert at.session_state["_fc_config"] == before


@pytest.mark.slow
def test_training_on_a_sample_gives_the_forecast_and_the_scores():
    at = forecast_from_home()
    at.number_input(key="fc_epochs").set_value(3)
    at.button(key="train").click().run()
    assert not at.exception
    job = job_of(at)
    assert job is not None
    # While it runs, the controls that would change it are locked, and a visit to another page
    # leaves it running.
    if not job.state.finished:
        assert at.number_input(key="fc_epochs").disabled
        assert at.button(key="train").disabled
        at.switch_page("app.py").run()
        at.switch_page(PAGE).run()
        assert job_of(at) is job
    run_until_finished(at)
    assert not at.exception
    assert job.state.value == "done", job.snapshot().message
    assert at.number_input(key="fc_epochs").disabled is False

    charts = at.get("plotly_chart")
    assert len(charts) >= 3  # series, learning curve, results
    table = at.dataframe[-1].value
    assert list(table.columns) == ["forecaster", "MAE", "RMSE", "sMAPE %", "MASE", "best"]
    rows = table["forecaster"].tolist()
    assert rows[0].startswith("GRU") and rows[0].endswith("(this model)")
    if job.result.choice == "hybrid":  # the network alone is shown beside the mix it is part of
        assert rows.pop(1) == "GRU alone (the network's part)"
    assert rows[1:] == ["naive", "seasonal naive", "drift", "AutoETS", "AutoTheta", "AutoARIMA"]
    assert (table["best"] == "best").sum() == 1
    assert table["MAE"].notna().all()
    verdicts = [text for text in texts(at.success) + texts(at.warning) if "Verdict" in text]
    assert len(verdicts) == 1 and "GRU" in verdicts[0]
    assert [button.label for button in at.download_button] == [
        "Download forecast (CSV)", "Download model (.rnnlab)", "Download settings (JSON)"
    ]
    assert job.result.epochs_run == 3

    # The settings of the run, downloaded and uploaded again, restore the same settings.
    upload(at, "fc_settings_file", "rnnlab-settings.json",
           settings_json(job.result.config, DataRef(sample="air_passengers")).encode(),
           "application/json")
    assert not at.exception
    assert at.session_state["_fc_config"] == job.result.config


@pytest.mark.slow
def test_a_saved_model_forecasts_the_sample_without_training(tmp_path):
    from pathlib import Path

    from core.data import load_series
    from core.forecasting import run_forecast
    from core.jobs import JobContext

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "air_passengers.csv"
    trained = run_forecast(load_series(sample), ForecastConfig(epochs=2, patience=0, units=4),
                           JobContext(tmp_path))
    at = page(PAGE)
    upload(at, "fc-model-file", "model.rnnlab", Path(trained.model_path).read_bytes(),
           "application/octet-stream")
    at.button(key="fc-use-model").click().run()
    run_until_finished(at, key="forecast_saved")
    assert not at.exception and not at.error
    said = " ".join(texts(at.markdown))
    assert "trained on **passengers**" in said and "without training" in said
    assert "Download this forecast (CSV)" in [button.label for button in at.download_button]
    future = trained.forecast[trained.forecast["part"] == "future"]["forecast"].to_numpy()
    shown = job_of(at, "forecast_saved").result.forecast["forecast"].to_numpy()
    assert shown == pytest.approx(future, rel=1e-6)
    # A file that is not a model file: a plain message, the page keeps working.
    upload(at, "fc-model-file", "model.rnnlab", b"not a model", "application/octet-stream")
    at.button(key="fc-use-model").click().run()
    run_until_finished(at, key="forecast_saved")
    assert not at.exception
    assert any("model file" in text.lower() for text in texts(at.error) + texts(at.warning))
