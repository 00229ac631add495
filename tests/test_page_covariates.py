"""AppTest tests of the forecast page's covariate control (explanatory columns, calendar)."""

from __future__ import annotations

import pytest
from app_helpers import job_of, page, run_until_finished, texts

from tests.test_covariates import demand_csv
from ui.jobs import job_manager

PAGE = "pages/1_Forecast.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def with_file(text: str):
    at = page(PAGE)
    at.radio(key="fc_source").set_value("My own CSV file").run()
    at.file_uploader(key="fc_upload").set_value(("demand.csv", text.encode(), "text/csv"))
    at.run()
    assert not at.exception
    return at


def test_monthly_sample_offers_no_calendar_features():
    at = page(PAGE)
    assert not at.exception
    assert not [box for box in at.checkbox if box.key == "fc_calendar"]


def test_known_covariate_and_calendar_are_chosen_from_the_other_columns():
    at = with_file(demand_csv(points=80, future=7))
    known = at.multiselect(key="fc_known_pick")
    assert known.options == ["temperature"]
    assert at.checkbox(key="fc_calendar").label.startswith("Calendar features (day of week")
    known.set_value(["temperature"]).run()
    at.checkbox(key="fc_calendar").check().run()
    assert not at.exception and not at.error
    covariates = at.session_state["_fc_covariates"]
    assert covariates.known == ("temperature",) and covariates.calendar
    assert covariates.future_rows == 7
    config = at.session_state["_fc_config"]
    assert (config.covariates, config.past_covariates, config.calendar) == ("temperature", "",
                                                                            True)
    # The series stops at the last demand value; the horizon follows the 7 future rows.
    assert "80 points" in " ".join(texts(at.markdown))
    assert "horizon 7" in " ".join(texts(at.caption))
    # A column chosen as known in advance is not offered as past-only.
    assert at.multiselect(key="fc_past_pick").options == []


def test_a_future_row_without_the_covariate_shows_what_to_do():
    lines = demand_csv(points=60, future=3).splitlines()
    lines[-1] = lines[-1].rsplit(",", 1)[0] + ","
    at = with_file("\n".join(lines) + "\n")
    at.multiselect(key="fc_known_pick").set_value(["temperature"]).run()
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1 and "These covariates cannot be used" in errors[0]
    assert "missing in the future rows" in errors[0]
    assert at.button(key="train").disabled


@pytest.mark.slow
def test_training_with_a_covariate_says_whether_it_helped():
    at = with_file(demand_csv(points=60, future=7))
    at.multiselect(key="fc_known_pick").set_value(["temperature"]).run()
    at.number_input(key="fc_epochs").set_value(1).run()
    at.button(key="train").click().run()
    run_until_finished(at)
    assert not at.exception
    job = job_of(at)
    assert job.state.value == "done", job.snapshot().message
    said = [text for text in texts(at.success) + texts(at.info) if "Did the covariates help" in text]
    assert len(said) == 1 and "temperature (known in advance)" in said[0]
    assert job.result.covariates["without"]["mase"] > 0
