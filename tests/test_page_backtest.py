"""The forecast page's backtest (ui/backtest_view.py): the chart and table from a made-up
result, and one real backtest run as a job through AppTest."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from app_helpers import job_of, page, run_until_finished, texts

from core.data import Series
from core.forecast.backtest import BacktestResult
from tests.test_covariates import demand_csv
from ui.backtest_view import backtest_figure, scores_frame, summary
from ui.jobs import job_manager

PAGE = "pages/1_Forecast.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def made_up_result() -> tuple[Series, BacktestResult]:
    """40 monthly points; two folds of 4 where the model wins the first and naive the second."""
    time = pd.date_range("2020-01-01", periods=40, freq="MS")
    values = np.arange(40, dtype="float64")
    series = Series(values=values, time=time, freq="MS", season=12, name="sales",
                    date_col="month", missing="interpolate", filled=0, notes=())

    def scores(mase):
        return {"mae": mase, "rmse": mase, "smape": mase, "mase": mase}

    report = {
        "folds": [
            {"origin": 32, "start": "2022-09-01", "end": "2022-12-01",
             "scores": {"model": scores(0.5), "naive": scores(0.8)}},
            {"origin": 36, "start": "2023-01-01", "end": "2023-04-01",
             "scores": {"model": scores(1.5), "naive": scores(0.6)}},
        ],
        "mean": {"model": scores(1.0), "naive": scores(0.7)},
        "best": "naive", "horizon": 4, "season": 12, "stride": 4, "model": "GRU",
    }
    frames = [pd.DataFrame({"fold": fold, "time": time[origin : origin + 4],
                            "actual": values[origin : origin + 4],
                            "model": values[origin : origin + 4] + 1,
                            "naive": np.full(4, values[origin - 1])})
              for fold, origin in ((1, 32), (2, 36))]
    return series, BacktestResult(report, pd.concat(frames, ignore_index=True))


def test_the_chart_draws_each_fold_as_its_own_segment_over_the_history():
    series, result = made_up_result()
    figure = backtest_figure(series, result)
    folds = [trace for trace in figure.data if (trace.name or "").endswith(tuple("0123456789"))
             and "GRU" in (trace.name or "")]
    assert [trace.name for trace in folds] == ["fold 1: GRU from 2022-09-01, MASE 0.50",
                                               "fold 2: GRU from 2023-01-01, MASE 1.50"]
    assert folds[0].line.color != folds[1].line.color
    assert list(folds[1].y) == [37.0, 38.0, 39.0, 40.0]
    assert len(figure.data[0].x) == 40  # the whole series, the truth under every fold
    naive = [trace for trace in figure.data if trace.name == "naive"]
    assert len(naive) == 2 and all(trace.visible is True for trace in naive)  # the best baseline
    # One legend entry for both folds' naive forecasts; the hover says which fold.
    assert [trace.showlegend for trace in naive] == [True, False]
    assert {trace.legendgroup for trace in naive} == {"naive"}
    assert naive[1].hovertemplate.startswith("fold 2: ")


def test_the_table_has_each_folds_score_and_the_means_and_the_summary_says_who_won():
    _, result = made_up_result()
    table = scores_frame(result)
    assert list(table.columns) == ["forecaster", "fold 1 MASE", "fold 2 MASE", "mean MASE",
                                   "mean sMAPE %", "mean MAE", "best"]
    assert table["forecaster"].tolist() == ["GRU (this model)", "naive"]
    assert table["fold 2 MASE"].tolist() == [1.5, 0.6]
    assert table["best"].tolist() == ["", "best"]
    text = summary(result)
    assert "from 0.50 to 1.50 over 2 fold(s) (mean 1.00)" in text
    assert "lowest error in 1 of 2 fold(s)" in text and "naive was best (0.70)" in text


@pytest.mark.slow
def test_a_backtest_runs_as_a_job_and_shows_its_chart_and_table():
    at = page(PAGE, timeout=120)
    at.number_input(key="fc_epochs").set_value(1)
    at.number_input(key="bt_folds").set_value(2)
    at.run()
    at.button(key="bt-start").click().run()
    assert not at.exception
    run_until_finished(at, "backtest", timeout=500)
    assert not at.exception and not at.error, texts(at.error)
    charts = [chart for chart in at.get("plotly_chart")
              if "each fold's forecast against the truth" in chart.proto.spec]
    assert len(charts) == 1
    table = next(frame.value for frame in at.dataframe
                 if "fold 1 MASE" in frame.value.columns)
    assert "fold 2 MASE" in table.columns and len(table) == 7  # the model and six baselines
    assert all(math.isfinite(value) for value in table["mean MASE"])
    assert "over 2 fold(s)" in " ".join(texts(at.markdown))


def with_covariate() -> object:
    """The page on a daily demand file with 'temperature' chosen as known in advance."""
    at = page(PAGE, timeout=120)
    at.radio(key="fc_source").set_value("My own CSV file").run()
    at.file_uploader(key="fc_upload").set_value(
        ("demand.csv", demand_csv(points=90, future=7).encode(), "text/csv"))
    at.run()
    at.multiselect(key="fc_known_pick").set_value(["temperature"]).run()
    assert not at.exception and not at.error, texts(at.error)
    return at


def test_the_backtest_and_the_search_say_which_covariates_their_networks_read():
    at = with_covariate()
    notes = " ".join(texts(at.info))
    assert "Each fold's network reads the explanatory columns chosen with the data: " \
           "temperature (known in advance)" in notes
    assert "Every trial's network reads the explanatory columns chosen with the data: " \
           "temperature (known in advance)" in notes


def test_without_covariates_neither_says_so():
    at = page(PAGE)
    assert "explanatory columns" not in " ".join(texts(at.info))


@pytest.mark.slow
def test_a_backtest_with_a_covariate_hands_it_to_the_folds_networks():
    at = with_covariate()
    at.number_input(key="fc_epochs").set_value(1)
    at.number_input(key="bt_folds").set_value(2)
    at.run()
    at.button(key="bt-start").click().run()
    assert not at.exception
    run_until_finished(at, "backtest", timeout=500)
    assert not at.exception and not at.error, texts(at.error)
    result = job_of(at, "backtest").result
    assert result.report["covariates"] == "temperature (known in advance)"
    assert "Each fold's network read temperature (known in advance)" in " ".join(
        texts(at.caption))


def test_a_number_typed_just_before_run_backtest_is_the_one_backtested():
    """The typed value arrives with the click, after the run that kept the settings then."""
    at = page(PAGE, timeout=120)
    at.number_input(key="fc_units").set_value(7)
    at.button(key="bt-start").click().run()
    job = job_of(at, "backtest")
    assert job is not None
    try:
        assert job.note["config"].units == 7
    finally:
        job.stop()
