"""AppTest of the Compare page (pages/3_Compare.py) on tiny settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import job_of, page, run_until_finished, texts
from streamlit.testing.v1 import AppTest

from core.cells import cell_keys
from core.jobs import JobState
from ui.jobs import job_manager

PAGE = "pages/3_Compare.py"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def run_until_all_finished(at, timeout: float = 400) -> None:
    run_until_finished(at, "compare", timeout)


def test_page_runs_with_the_default_sample():
    at = page(PAGE)
    assert not at.exception and not at.error
    assert [header.value for header in at.header] == [
        "1. Task and data", "2. The same budget for all three", "3. Train", "4. Results"]
    assert "144 points" in " ".join(texts(at.caption))
    assert at.button(key="cmp_train").label == "Train the three cells (3 trainings)"
    assert at.button(key="cmp_train").disabled is False


def test_every_control_has_a_help_text():
    at = page(PAGE)
    at.radio(key="cmp_kind").set_value("nextword").run()
    widgets = [*at.radio, *at.selectbox, *at.slider, *at.select_slider, *at.checkbox,
               *at.button]
    assert [widget.label for widget in widgets if not widget.help] == []


def test_a_bad_upload_is_a_plain_error():
    at = page(PAGE)
    at.radio(key="cmp_fc_source").set_value("upload").run()
    at.file_uploader(key="cmp_fc_upload").set_value(
        ("words.csv", b"name,colour\n" + b"alice,red\n" * 20, "text/csv"))
    at.run()
    assert not at.exception
    assert at.error and "words.csv cannot be used" in at.error[0].value
    assert at.button(key="cmp_train").disabled is True


def test_seeds_change_the_number_of_trainings():
    at = page(PAGE)
    at.slider(key="cmp_forecast_seeds").set_value(2).run()
    assert at.button(key="cmp_train").label == "Train the three cells (6 trainings)"


@pytest.mark.slow
def test_tiny_forecast_comparison_gives_the_table_and_the_model_files():
    at = page(PAGE)
    at.selectbox(key="cmp_fc_sample").set_value("lynx")
    at.select_slider(key="cmp_forecast_units").set_value(2)
    at.slider(key="cmp_forecast_epochs").set_value(2)
    at.run()
    at.button(key="cmp_train").click().run()
    job = job_of(at, "compare")  # the whole comparison is one job, on the shared panel
    assert job is not None and len(job.note["runs"]) == 3
    run_until_all_finished(at)
    assert not at.exception and not at.error
    assert job.state is JobState.DONE, job.snapshot().message
    assert "Finished 3 trainings" in " ".join(texts(at.success))
    logs = job.snapshot().logs
    assert [(log["cell"], log["run_epoch"], log["epoch"]) for log in logs] == [
        (cell, epoch, number) for number, cell in enumerate(cell_keys(), 1) for epoch in (1, 2)]
    table = at.dataframe[0].value
    assert list(table["cell"]) == ["SimpleRNN", "LSTM", "GRU"]
    assert "holdout MASE (lower is better)" in table.columns
    parameters = [int(value.replace(",", "")) for value in table["parameters"]]
    assert parameters[0] < parameters[2] < parameters[1]  # SimpleRNN < GRU < LSTM
    assert "One seed only" in " ".join(texts(at.markdown))
    downloads = at.get("download_button")
    assert len(downloads) == 3
    # Each run's model file is a forecast model file the Forecast page loads back.
    from core.forecast.rnn import RNNForecaster

    path = job.result["results"][1].model_path
    assert RNNForecaster.load(path).config.cell == cell_keys()[1]


@pytest.mark.slow
def test_tiny_nextword_comparison_gives_the_table():
    at = page(PAGE)
    at.radio(key="cmp_kind").set_value("nextword").run()
    at.select_slider(key="cmp_nextword_units").set_value(4)
    at.slider(key="cmp_nextword_epochs").set_value(1)
    at.run()
    at.button(key="cmp_train").click().run()
    run_until_all_finished(at)
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert "holdout top-1 accuracy (higher is better)" in table.columns
    assert len(table) == 3
    # the cells are compared as networks alone, without word counts mixed in
    results = job_of(at, "compare").result["results"]
    assert all("network" not in result["metrics"] for result in results)


def test_the_address_holds_the_comparison_and_reopens_it():
    at = page(PAGE)
    at.radio(key="cmp_kind").set_value("nextword").run()
    at.select_slider(key="cmp_nextword_units").set_value(16)
    at.slider(key="cmp_nextword_seeds").set_value(2)
    at.run()
    params = dict(at.query_params)
    assert params == {"task": "nextword", "units": "16", "seeds": "2"}  # the text: the default
    fresh = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    fresh.query_params.update(params)
    fresh.run()
    assert not fresh.exception and not fresh.warning
    assert fresh.session_state["cmp_kind"] == "nextword"
    assert fresh.session_state["cmp_nextword_units"] == 16
    assert fresh.button(key="cmp_train").label == "Train the three cells (6 trainings)"


def test_a_hand_edited_link_opens_with_defaults_and_says_what_was_ignored():
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    at.query_params.update({"units": "lots", "data": "lynx", "seeds": "99"})
    at.run()
    assert not at.exception
    warning = " ".join(texts(at.warning))
    assert "units=lots" in warning and "seeds=99" in warning
    assert at.session_state["cmp_fc_sample"] == "lynx"
    assert at.session_state["cmp_forecast_units"] == 32
