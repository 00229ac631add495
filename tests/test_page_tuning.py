"""AppTest of the forecast page's "Find settings for me" (ui/tuning_view.py): start a search,
watch it finish, apply the best settings to the controls."""

from __future__ import annotations

import pytest
from app_helpers import job_of, page, run_until_finished, texts

from ui.jobs import job_manager
from ui.tuning_view import trials_figure

PAGE = "pages/1_Forecast.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def test_the_trials_figure_holds_a_chart_and_a_table_of_every_trial():
    logs = (
        {"epoch": 1, "trial": 1, "state": "complete", "score": 0.9, "best": 0.9, "units": 32},
        {"epoch": 2, "trial": 2, "state": "pruned", "score": None, "best": 0.9, "units": 100},
        {"epoch": 3, "trial": 3, "state": "complete", "score": 0.7, "best": 0.7, "units": 16},
    )
    figure = trials_figure(logs)
    table = next(trace for trace in figure.data if trace.type == "table")
    assert list(table.header.values) == ["trial", "result", "mean MASE", "units per layer"]
    assert list(table.cells.values[1]) == ["scored", "pruned (fell behind)", "scored"]
    assert list(table.cells.values[2]) == ["0.900", "", "0.700"]
    best = next(trace for trace in figure.data if trace.name == "best so far")
    assert list(best.y) == [0.9, 0.9, 0.7]


@pytest.mark.slow
def test_a_search_runs_as_a_job_and_apply_sets_the_controls():
    at = page(PAGE, timeout=120)
    # Quick trials (they never train longer than the model's epochs); units outside the
    # searched range, so that the best settings must change them.
    at.number_input(key="fc_epochs").set_value(1)
    at.number_input(key="fc_units").set_value(300)
    at.run()
    at.number_input(key="tn_trials").set_value(2)
    at.multiselect(key="tn_search").set_value(["units"])
    at.run()
    at.button(key="tn-start").click().run()
    assert not at.exception
    run_until_finished(at, "tuning", timeout=400)
    assert not at.exception and not at.error, texts(at.error)
    best = " ".join(texts(at.success))
    assert "Best: trial" in best and "units per layer" in best
    apply = at.button(key="tn-apply")
    assert apply.disabled is False
    apply.click().run()
    units = at.number_input(key="fc_units").value
    assert units != 300 and 8 <= units <= 128
    assert at.session_state["fc_epochs"] == 1  # the settings not searched stay as they were
    assert "Applied to the model settings above" in " ".join(texts(at.info))


def test_start_search_while_a_backtest_runs_says_why_beside_the_search():
    """The one-job notice belongs to the button pressed: it used to be shown by the first panel
    drawn, inside the closed 'saved model' expander, so the click seemed to start nothing."""
    at = page(PAGE, timeout=120)
    at.button(key="bt-start").click().run()
    backtest = job_of(at, "backtest")
    assert backtest is not None
    try:
        at.button(key="tn-start").click().run()
        assert job_of(at, "tuning") is None
        search = next(e for e in at.expander if e.label.startswith("Find settings for me"))
        saved = next(e for e in at.expander if e.label.startswith("Forecast with a saved model"))
        assert "already training a backtest" in " ".join(texts(search.warning))
        assert not saved.warning
    finally:
        backtest.stop()


def test_a_number_typed_just_before_start_search_is_the_one_searched_from():
    """The typed value arrives with the click, after the run that kept the settings then."""
    at = page(PAGE, timeout=120)
    at.number_input(key="fc_epochs").set_value(3)
    at.button(key="tn-start").click().run()
    job = job_of(at, "tuning")
    assert job is not None
    try:
        assert job.note["config"].epochs == 3
    finally:
        job.stop()


def test_while_the_model_trains_the_search_and_the_backtest_say_why_they_wait():
    at = page(PAGE, timeout=120)
    at.button(key="train").click().run()
    training = job_of(at, "forecast")
    assert training is not None
    try:
        assert at.button(key="tn-start").disabled and at.button(key="bt-start").disabled
        said = " ".join(texts(at.caption))
        assert "the search can start when it has finished" in said
        assert "the backtest can start when it has finished" in said
    finally:
        training.stop()
