"""AppTest of the Compare page (pages/3_Compare.py) on tiny settings."""

from __future__ import annotations

import time

import pytest
from app_helpers import job_of, page, texts

from ui.jobs import job_manager

PAGE = "pages/3_Compare.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def compare_jobs(at):
    saved = at.session_state["_cmp_runs"]
    return [job_of(at, run.key) for run in saved["runs"]]


def run_until_all_finished(at, timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(job is not None and job.state.finished for job in compare_jobs(at)):
            at.run()
            return
        time.sleep(1.0)
        at.run()
    raise AssertionError(f"the comparison did not finish within {timeout} s")


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
def test_tiny_forecast_comparison_gives_the_table():
    at = page(PAGE)
    at.selectbox(key="cmp_fc_sample").set_value("lynx")
    at.select_slider(key="cmp_forecast_units").set_value(2)
    at.slider(key="cmp_forecast_epochs").set_value(2)
    at.checkbox(key="cmp_one_at_a_time").uncheck()
    at.run()
    at.button(key="cmp_train").click().run()
    jobs = compare_jobs(at)  # two at a time: all three submitted at once
    assert len(jobs) == 3 and len({job.id for job in jobs}) == 3
    run_until_all_finished(at)
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["cell"]) == ["SimpleRNN", "LSTM", "GRU"]
    assert "holdout MASE (lower is better)" in table.columns
    parameters = [int(value.replace(",", "")) for value in table["parameters"]]
    assert parameters[0] < parameters[2] < parameters[1]  # SimpleRNN < GRU < LSTM
    assert "One seed only" in " ".join(texts(at.markdown))


@pytest.mark.slow
def test_tiny_nextword_comparison_gives_the_table():
    at = page(PAGE)
    at.radio(key="cmp_kind").set_value("nextword").run()
    at.select_slider(key="cmp_nextword_units").set_value(4)
    at.slider(key="cmp_nextword_epochs").set_value(1)
    at.run()
    at.button(key="cmp_train").click().run()
    # one at a time (the default): only the first is submitted at first
    assert sum(job is not None for job in compare_jobs(at)) == 1
    run_until_all_finished(at)
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert "holdout top-1 accuracy (higher is better)" in table.columns
    assert len(table) == 3
    # the cells are compared as networks alone, without word counts mixed in
    results = [job.result for job in compare_jobs(at)]
    assert all("network" not in result["metrics"] for result in results)
