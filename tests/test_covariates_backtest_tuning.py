"""Covariates in the rolling-origin backtest and the settings search (issue 13): each fold's
network reads the covariates the settings name (known-in-advance values over the fold's points
come from the file, as the holdout's do), and settings that name covariates whose values were
not given are refused in plain words, in the job and on the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.config import ForecastConfig
from core.errors import InputError
from core.forecast.backtest import (
    backtest_task,
    covariates_for,
    horizon_with_covariates,
    run_backtest,
)
from core.forecast.covariates import series_with_covariates
from core.forecast.rnn import RNNForecaster
from core.forecast.tuning import TuningSettings, tune, tuning_task
from core.jobs import run_inline
from tests.test_covariates import demand_csv, demand_with_note, run_in_process, table_of

QUICK = ForecastConfig(epochs=8, units=8, ensemble=1, horizon=7, seed=1)


def demand(points: int = 120, future: int = 7):
    """The temperature-driven daily demand of test_covariates: (series, covariates)."""
    return series_with_covariates(table_of(demand_csv(points=points, future=future)),
                                  target="demand", known=["temperature"])


@pytest.mark.parametrize("what", ["backtest", "search"])
def test_covariates_named_but_not_given_are_refused_in_words(what):
    series, _ = demand()
    config = QUICK.replace(covariates="temperature", past_covariates="footfall")
    with pytest.raises(InputError) as refused:
        if what == "backtest":
            run_inline(backtest_task, {"series": series, "config": config.to_dict(), "folds": 2})
        else:
            run_inline(tuning_task, {"series": series, "config": config.to_dict(),
                                     "settings": {"trials": 1, "search": ["dropout"]}})
    message = str(refused.value)
    assert "temperature (known in advance), footfall (past only)" in message
    assert "not given with the series" in message and "--covariates" in message


def test_covariates_for_keeps_what_the_settings_name():
    series, covariates = demand()
    assert covariates_for(QUICK, covariates, "the backtest") is None  # settings name none
    named = QUICK.replace(covariates="temperature")
    assert covariates_for(named, covariates, "the backtest") is covariates
    calendar = covariates_for(QUICK.replace(calendar=True), None, "the backtest", series)
    assert calendar is not None and calendar.calendar and not calendar.names()
    assert len(calendar.time) == len(series.values)


def test_known_covariates_limit_the_horizon_as_the_forecast_does():
    series, covariates = demand(future=5)  # a weather forecast of 5 days; daily default is 14
    auto = ForecastConfig(covariates="temperature")
    assert horizon_with_covariates(series, auto, covariates).horizon == 5
    assert horizon_with_covariates(series, auto.replace(horizon=9), covariates).horizon == 9
    assert horizon_with_covariates(series, auto, None).horizon is None
    _, no_future = demand(future=0)
    assert horizon_with_covariates(series, auto, no_future).horizon is None


@pytest.mark.slow
def test_each_fold_of_a_backtest_reads_the_covariates_and_they_help(monkeypatch):
    series, covariates = demand()
    seen = []
    original_fit = RNNForecaster.fit

    def recording_fit(self, data, *args, **kwargs):
        seen.append((len(data.values), kwargs.get("covariates")))
        return original_fit(self, data, *args, **kwargs)

    monkeypatch.setattr(RNNForecaster, "fit", recording_fit)
    config = QUICK.replace(covariates="temperature")
    with_them = run_backtest(series, config, 2, covariates=covariates)
    # Each fold's network got the covariates, whose values cover the points it forecasts.
    assert [length for length, _ in seen] == [106, 113]
    assert all(given is covariates for _, given in seen)
    assert all(len(given.time) >= length + 7 for length, given in seen)
    assert with_them.report["covariates"] == "temperature (known in advance)"
    assert with_them.report["config"]["covariates"] == "temperature"

    seen.clear()
    without = run_backtest(series, QUICK, 2)
    assert [given for _, given in seen] == [None, None]
    assert without.report["covariates"] == ""
    with_mae = with_them.report["mean"]["model"]["mae"]
    without_mae = without.report["mean"]["model"]["mae"]
    # Demand is 4 x temperature plus a weekly swing: without the temperature it cannot be
    # foreseen, so the covariate should at least cut the folds' mean error by a third.
    assert with_mae < 0.67 * without_mae, (
        f"backtest mean MAE with the temperature {with_mae:.2f}, without {without_mae:.2f} "
        f"(ratio {with_mae / without_mae:.2f})")


@pytest.mark.slow
def test_a_search_scores_its_candidates_with_the_covariates():
    series, covariates = demand(points=140)
    settings = TuningSettings(trials=1, search=("dropout",), folds=1, epochs=8)
    config = QUICK.replace(holdout=7)
    with_them = tune(series, config.replace(covariates="temperature"), settings,
                     covariates=covariates)
    without = tune(series, config, settings)
    assert with_them.config.covariates == "temperature"  # the best settings keep them
    assert with_them.holdout == without.holdout == 7 and with_them.origins == without.origins
    score_with, score_without = with_them.best["score"], without.best["score"]
    assert np.isfinite(score_with) and np.isfinite(score_without)
    assert score_with < 0.67 * score_without, (
        f"validation MASE with the temperature {score_with:.3f}, without {score_without:.3f}")


@pytest.mark.parametrize("command", ["backtest", "tune"])
def test_the_command_line_refuses_a_bad_covariate_with_one_error_line(tmp_path, capfd, command):
    path = tmp_path / "demand.csv"
    path.write_text(demand_with_note())
    for option, fragment in (("--covariates=weather", "no column named 'weather'"),
                             ("--past-covariates=note", "Column 'note' cannot be used as a "
                                                        "covariate: it holds text")):
        code, _ = run_in_process(command, "--data", str(path), "--target", "demand", option,
                                 "--out", str(tmp_path / "out"))
        lines = capfd.readouterr().err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
        assert fragment in lines[0]


@pytest.mark.slow
def test_backtest_and_tune_commands_read_the_covariates(tmp_path, capfd):
    path = tmp_path / "demand.csv"
    path.write_text(demand_csv(points=100, future=0))  # no future rows: not needed here
    code, out = run_in_process(
        "backtest", "--data", str(path), "--target", "demand", "--covariates", "temperature",
        "--folds", "2", "--horizon", "7", "--epochs", "2", "--units", "4",
        "--out", str(tmp_path / "bt"))
    assert code == 0, capfd.readouterr().err
    report = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert report["covariates"] == "temperature (known in advance)"
    assert len(report["folds"]) == 2 and "the network read temperature" in out

    code, out = run_in_process(
        "tune", "--data", str(path), "--target", "demand", "--covariates", "temperature",
        "--calendar", "--horizon", "7", "--trials", "1", "--folds", "1", "--trial-epochs", "2",
        "--units", "4", "--search", "dropout", "--out", str(tmp_path / "tune"))
    assert code == 0, capfd.readouterr().err
    tuned = json.loads((tmp_path / "tune" / "config.json").read_text())
    settings = tuned.get("settings", tuned)
    assert settings["covariates"] == "temperature" and settings["calendar"] is True
    trials = json.loads((tmp_path / "tune" / "tuning.json").read_text())["trials"]
    assert [row["state"] for row in trials] == ["complete"]
