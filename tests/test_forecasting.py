"""The forecasting engine: settings derived from the data, training jobs, forecasts, verdicts."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from core.data import Series
from core.errors import ConfigError, InputError
from core.forecasting import (
    ForecastResult,
    SeriesTooShortError,
    copies_last_value,
    frequency_kind,
    resolve_config,
    run_forecast,
    start_forecast,
    verdict,
)
from core.jobs import JobState

# Few epochs and no AutoETS: these tests check behaviour, not accuracy.
QUICK = {"epochs": 2, "patience": 0, "units": 4}


def make_series(values, freq="MS", season=12) -> Series:
    values = np.asarray(values, dtype="float64")
    time = pd.date_range("2000-01-01", periods=len(values), freq=freq) if freq else pd.RangeIndex(len(values))
    return Series(values=values, time=time, freq=freq, season=season, name="y", date_col="t",
                  missing="interpolate", filled=0, notes=())


def seasonal(length=96, season=12, seed=0):
    t = np.arange(length)
    noise = np.random.default_rng(seed).normal(0, 0.3, length)
    return 20 + 0.05 * t + 3 * np.sin(2 * np.pi * t / season) + noise


# ---------------------------------------------------------------------------------------------
# Settings


@pytest.mark.parametrize(
    "freq,kind",
    [("MS", "monthly"), ("ME", "monthly"), ("QS-OCT", "quarterly"), ("YS-JAN", "yearly"),
     ("W-SUN", "weekly"), ("D", "daily"), ("h", "hourly"), (None, "unknown")],
)
def test_frequency_kinds(freq, kind):
    assert frequency_kind(freq) == kind


def test_automatic_settings_come_from_the_frequency():
    config = resolve_config(make_series(seasonal(120)), ForecastConfig())
    assert (config.season, config.horizon, config.holdout, config.window) == (12, 12, 12, 24)
    assert config.transform in ("log", "none")


def test_the_holdout_defaults_to_the_horizon_and_user_choices_are_kept():
    config = resolve_config(make_series(seasonal(120)), ForecastConfig(horizon=6, window=10))
    assert (config.horizon, config.holdout, config.window) == (6, 6, 10)


def test_logs_are_decided_on_the_training_part_only():
    # Flat swings in training, exploding in the holdout: the holdout must not sway the choice.
    values = seasonal(120)
    values[-12:] = 1000 + 500 * np.sin(np.arange(12))
    assert resolve_config(make_series(values), ForecastConfig()).transform == "none"


def test_an_automatic_window_shrinks_to_fit_a_short_series():
    config = resolve_config(make_series(seasonal(48)), ForecastConfig())
    assert config.window < 24
    assert 48 >= config.holdout + config.window + config.horizon + 12


def test_a_series_too_short_for_the_chosen_settings_says_the_lengths():
    with pytest.raises(SeriesTooShortError) as caught:
        resolve_config(make_series(seasonal(60)), ForecastConfig(window=40, horizon=12))
    message = str(caught.value)
    assert "60 points" in message and "window of 40" in message and "horizon of 12" in message
    assert "Use a shorter window" in message
    assert isinstance(caught.value, InputError)


def test_a_season_longer_than_half_the_series_is_refused():
    with pytest.raises(ConfigError, match="season"):
        resolve_config(make_series(seasonal(60)), ForecastConfig(season=40))


def test_log_transform_on_non_positive_data_is_refused():
    with pytest.raises(ConfigError, match="above 0"):
        resolve_config(make_series(seasonal(96) - 30), ForecastConfig(transform="log"))


# ---------------------------------------------------------------------------------------------
# Small pure helpers


def test_a_flat_forecast_at_the_last_value_is_flagged_as_a_copy():
    values = seasonal(96)
    train_last, last = values[-13], values[-1]
    flat = np.concatenate([np.full(12, train_last), np.full(12, last)])
    assert copies_last_value(flat, values, holdout=12)
    following = np.concatenate([values[-12:], values[-12:]])
    assert not copies_last_value(following, values, holdout=12)


def _result(model_mase, baseline_mases, cell="gru"):
    scores = lambda mase: {"mae": 1.0, "rmse": 1.0, "smape": 1.0, "mase": mase}  # noqa: E731
    return ForecastResult(
        config=ForecastConfig(cell=cell), forecast=pd.DataFrame(), baselines=pd.DataFrame(),
        metrics={"model": scores(model_mase),
                 "baselines": {name: scores(value) for name, value in baseline_mases.items()}},
        history=[], epochs_run=0, best_epoch=0, seconds=0.0, stopped_by_user=False,
        copies_last_value=False, warnings=[], model_path="",
    )


def test_the_verdict_names_the_best_baseline_and_the_gap():
    result = _result(1.38, {"naive": 4.0, "seasonal_naive": 2.0, "autoets": 2.2})
    assert verdict(result) == (
        "GRU's error (MASE 1.38) is 31% lower than seasonal naive's (2.00), the best baseline."
    )


def test_the_verdict_says_when_the_network_kept_its_starting_point():
    result = _result(1.5, {"naive": 2.0, "seasonal_naive": 3.0})
    result.preprocessing = {"kept_anchor": True, "anchor": "seasonal"}
    assert verdict(result) == (
        "GRU did not improve on its starting point, the smoothed seasonal forecast, whose error "
        "(MASE 1.50) is 25% lower than naive's (2.00), the best baseline."
    )


def test_the_verdict_says_when_a_baseline_wins():
    text = verdict(_result(2.5, {"naive": 4.0, "autoets": 2.0}, cell="lstm"))
    assert text.startswith("LSTM's error (MASE 2.50) is 25% higher than AutoETS's (2.00)")
    assert "AutoETS is the better forecast here" in text


# ---------------------------------------------------------------------------------------------
# Training (slow: real Keras fits, kept tiny)


def _check_result(result, series, config):
    holdout, horizon = result.config.holdout, result.config.horizon
    frame = result.forecast
    assert list(frame.columns) == ["time", "actual", "forecast", "lower_80", "upper_80",
                                   "lower_95", "upper_95", "part"]
    assert (frame["part"] == "holdout").sum() == holdout
    assert (frame["part"] == "future").sum() == horizon
    assert np.all(np.isfinite(frame["forecast"]))
    assert np.all(frame["lower_95"] <= frame["lower_80"]) and np.all(frame["lower_80"] <= frame["forecast"])
    assert np.all(frame["forecast"] <= frame["upper_80"]) and np.all(frame["upper_80"] <= frame["upper_95"])
    np.testing.assert_array_equal(frame["actual"][:holdout], series.values[-holdout:])
    assert frame["time"].iloc[holdout] == series.time[-1] + pd.offsets.MonthBegin(1)
    assert set(result.metrics["baselines"]) >= {"naive", "seasonal_naive", "drift"}
    assert len(result.baselines) == holdout
    assert Path(result.model_path).exists()
    pickle.loads(pickle.dumps(result))


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_each_cell_builds_trains_two_epochs_and_forecasts(cell, tmp_path):
    from core.jobs import JobContext

    series = make_series(seasonal(72))
    config = ForecastConfig(cell=cell, **QUICK)
    result = run_forecast(series, config, JobContext(tmp_path))
    assert [log["epoch"] for log in result.history] == [1, 2]
    assert {"loss", "val_loss", "seconds"} <= set(result.history[0])
    assert result.config.cell == cell and result.epochs_run == 2
    _check_result(result, series, config)


@pytest.mark.slow
def test_recursive_strategy_and_a_holdout_longer_than_the_horizon(tmp_path):
    from core.jobs import JobContext

    series = make_series(seasonal(96))
    for strategy in ("recursive", "direct"):
        config = ForecastConfig(strategy=strategy, horizon=6, holdout=15, ensemble=2, **QUICK)
        result = run_forecast(series, config, JobContext(tmp_path))
        _check_result(result, series, config)
        assert [log["epoch"] for log in result.history] == [1, 2]
    # The saved model averages two members with their own weights.
    import keras

    model = keras.saving.load_model(result.model_path)
    heads = [layer for layer in model.layers if layer.name.startswith("forecast_")]
    assert len(heads) == 2
    assert not np.allclose(heads[0].kernel.numpy(), heads[1].kernel.numpy())
    window = np.zeros((1, result.config.window, 1), dtype="float32")
    assert np.asarray(model(window)).shape == (1, 6)


@pytest.mark.slow
def test_default_settings_learn_a_trending_seasonal_series(tmp_path):
    from core.jobs import JobContext

    series = make_series(seasonal(144, seed=3))
    result = run_forecast(series, ForecastConfig(epochs=60), JobContext(tmp_path))
    assert result.metrics["model"]["mase"] < result.metrics["baselines"]["naive"]["mase"]
    assert result.metrics["model"]["mase"] < 1.5
    assert not result.copies_last_value


@pytest.mark.slow
def test_the_stop_flag_stops_a_forecast_job_early(job_manager):
    config = ForecastConfig(epochs=2000, patience=0, units=4)
    job = start_forecast(job_manager, make_series(seasonal(72)), config, owner="test")
    for _ in range(1200):
        if job.snapshot().epoch >= 2 or job.snapshot().finished:
            break
        job.wait(0.1)
    job.stop()
    snapshot = job.wait(300)
    assert snapshot.state is JobState.STOPPED
    assert job.result.stopped_by_user
    assert 2 <= job.result.epochs_run < 2000
    assert any("stopped by hand" in warning for warning in job.result.warnings)


@pytest.mark.slow
def test_a_nan_loss_ends_the_job_in_an_error_state(job_manager):
    series = make_series(seasonal(72))
    payload = {"series": series, "config": ForecastConfig(**QUICK).replace(epochs=5).to_dict(),
               "debug": {"nan_at_epoch": 2}}
    snapshot = job_manager.submit("core.forecasting:forecast_task", payload).wait(300)
    assert snapshot.state is JobState.FAILED
    assert "diverged" in snapshot.message and "learning rate" in snapshot.message


def test_start_forecast_refuses_a_series_too_short_before_queueing(job_manager):
    with pytest.raises(SeriesTooShortError):
        start_forecast(job_manager, make_series(seasonal(30)), ForecastConfig(window=24))


@pytest.mark.slow
def test_intervals_cover_a_noise_series_about_as_promised(tmp_path):
    from core.intervals import coverage
    from core.jobs import JobContext

    noise = 10 + np.random.default_rng(7).normal(0, 1, 600)
    series = make_series(noise, freq="D", season=1)
    config = ForecastConfig(horizon=50, epochs=5, units=8)
    result = run_forecast(series, config, JobContext(tmp_path))
    holdout = result.forecast[result.forecast["part"] == "holdout"]
    assert len(holdout) == 50
    assert 0.6 <= coverage(holdout["actual"], holdout["lower_80"], holdout["upper_80"]) <= 0.98
    assert 0.82 <= coverage(holdout["actual"], holdout["lower_95"], holdout["upper_95"])
    # And the intervals are not absurdly wide: the 95% band is within 2x the normal one.
    assert np.median(holdout["upper_95"] - holdout["lower_95"]) < 2 * 2 * 1.96


@pytest.mark.slow
def test_the_holdout_never_leaks_into_the_forecast_of_it():
    """Change every held-out value wildly: the holdout forecast and its band must not move."""
    import dataclasses

    from core.data import load_series

    series = load_series(Path(__file__).resolve().parents[1] / "sample_data" / "air_passengers.csv")
    tampered = np.array(series.values, dtype="float64")
    tampered[-24:] = tampered[-24:] * 3 + 500
    config = ForecastConfig(holdout=24, horizon=24, epochs=3)
    honest = run_forecast(series, config).forecast
    other = run_forecast(dataclasses.replace(series, values=tampered), config).forecast
    columns = ["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    np.testing.assert_array_equal(
        honest.loc[honest.part == "holdout", columns].to_numpy(),
        other.loc[other.part == "holdout", columns].to_numpy(),
    )
    assert not np.allclose(honest.loc[honest.part == "holdout", "actual"],
                           other.loc[other.part == "holdout", "actual"])
