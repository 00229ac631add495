"""The forecasting engine: settings derived from the data, training jobs, forecasts, verdicts."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from core.data import Series
from core.errors import ConfigError, InputError
from core.forecast import RNNForecaster
from core.forecasting import (
    ForecastResult,
    SeriesTooShortError,
    _warnings,
    best_forecaster,
    copies_last_value,
    frequency_kind,
    resolve_config,
    run_forecast,
    start_forecast,
    verdict,
)
from core.jobs import JobState

# Few epochs, one small network: these tests check behaviour, not accuracy.
QUICK = {"epochs": 2, "patience": 0, "units": 4, "ensemble": 1}
BASELINE_NAMES = ("naive", "seasonal_naive", "drift", "autoets", "autotheta", "autoarima")


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
    # The training part, less the forecaster's validation block, still holds 6 windows.
    train = 48 - config.holdout
    fit_part = train - min(config.horizon, train // 3)
    assert fit_part - (config.window + 1) >= 6


def test_a_window_too_long_for_the_training_part_says_the_lengths():
    with pytest.raises(SeriesTooShortError) as caught:
        resolve_config(make_series(seasonal(60)), ForecastConfig(window=40, horizon=12))
    message = str(caught.value)
    assert "48 points" in message and "window of 40" in message
    assert "Leave the window empty" in message and "use a shorter one" in message
    assert isinstance(caught.value, InputError)


def test_a_series_too_short_for_a_network_resolves_for_the_classical_methods():
    config = resolve_config(make_series(seasonal(20), freq="YS", season=1), ForecastConfig())
    assert (config.season, config.horizon, config.holdout) == (1, 6, 6)
    assert config.window >= 2 and config.transform != "auto"
    short = resolve_config(make_series(seasonal(14), freq="YS", season=1), ForecastConfig())
    assert 14 - short.holdout >= 4


@pytest.mark.parametrize("length", [3, 4])
def test_fewer_than_four_training_points_are_refused_in_plain_words(length):
    with pytest.raises(SeriesTooShortError) as caught:
        resolve_config(make_series(seasonal(length), freq="YS", season=1), ForecastConfig())
    message = str(caught.value)
    assert f"The series has {length} points" in message and "at least 4" in message
    assert "longer series" in message
    with pytest.raises(SeriesTooShortError):
        run_forecast(make_series(seasonal(length), freq="YS", season=1), ForecastConfig(**QUICK))


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


def _result(model_mase, baseline_mases, cell="gru", choice="network"):
    scores = lambda mase: {"mae": 1.0, "rmse": 1.0, "smape": 1.0, "mase": mase}  # noqa: E731
    return ForecastResult(
        config=ForecastConfig(cell=cell), forecast=pd.DataFrame(), baselines=pd.DataFrame(),
        metrics={"model": scores(model_mase),
                 "baselines": {name: scores(value) for name, value in baseline_mases.items()}},
        history=[], epochs_run=0, best_epoch=0, seconds=0.0, stopped_by_user=False,
        copies_last_value=False, warnings=[], model_path="", choice=choice,
    )


def test_the_verdict_names_the_best_baseline_and_the_gap():
    result = _result(1.38, {"naive": 4.0, "seasonal_naive": 2.0, "autoets": 2.2})
    assert verdict(result) == (
        "GRU's error (MASE 1.38) is 31% lower than seasonal naive's (2.00), the best baseline: "
        "use this model's forecast. It beat AutoETS (MASE 2.20)."
    )


def test_a_network_that_kept_its_starting_point_is_warned_about():
    result = _result(1.5, {"naive": 2.0, "seasonal_naive": 3.0})
    result.preprocessing = {"kept_anchor": True, "anchor": "seasonal"}
    assert verdict(result) == (
        "GRU's error (MASE 1.50) is 25% lower than naive's (2.00), the best baseline: use this "
        "model's forecast."
    )
    warnings = _warnings(result)
    assert any(w.startswith("No epoch of GRU beat its starting point") for w in warnings)
    result.preprocessing = {"kept_anchor": False}
    assert not any("starting point" in w for w in _warnings(result))


def test_the_verdict_says_when_a_baseline_wins():
    text = verdict(_result(2.5, {"naive": 4.0, "autoets": 2.0}, cell="lstm"))
    assert text.startswith("LSTM's error (MASE 2.50) is 25% higher than AutoETS's (2.00)")
    assert "use AutoETS's forecast here" in text


def test_a_losing_verdict_still_says_whether_the_model_beat_autoets():
    text = verdict(_result(0.9, {"seasonal_naive": 1.57, "autoets": 1.17, "autotheta": 0.64},
                           choice="hybrid"))
    assert "use AutoTheta's forecast here" in text
    assert text.endswith("It beat AutoETS (MASE 1.17).")
    text = verdict(_result(0.5, {"seasonal_naive": 0.55, "autoets": 0.38, "autotheta": 0.87}))
    assert "use AutoETS's forecast here" in text and "It beat" not in text


def test_the_verdict_and_the_label_name_what_the_forecast_is():
    hybrid = _result(2.0, {"naive": 2.01, "autoets": 2.5}, choice="hybrid")
    assert hybrid.model_label == "GRU + AutoETS + AutoTheta + AutoARIMA"
    assert verdict(hybrid) == (
        "GRU + AutoETS + AutoTheta + AutoARIMA's error (MASE 2.00) is about the same as naive's, "
        "the best "
        "baseline. It beat AutoETS (MASE 2.50)."
    )
    classical = _result(1.0, {"naive": 2.0}, choice="classical")
    assert "no network" in classical.model_label and "AutoETS" in classical.model_label
    assert verdict(classical).startswith(classical.model_label)


def test_the_best_forecaster_has_the_lowest_holdout_mase():
    assert _result(1.5, {"naive": 2.0, "drift": 1.0}).best == "drift"
    assert _result(1.0, {"naive": 2.0}).best == "model"
    nan = float("nan")
    # MASE undefined (a flat training part): the lowest MAE decides.
    assert best_forecaster({"model": {"mae": 1.0, "mase": nan},
                            "baselines": {"naive": {"mae": 0.5, "mase": nan}}}) == "naive"


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
    assert len(result.baselines) == holdout + horizon
    baselines = result.baselines
    assert list(baselines.columns) == ["time", "part", *BASELINE_NAMES]
    assert list(baselines["part"]) == ["holdout"] * holdout + ["future"] * horizon
    assert list(baselines["time"]) == list(frame["time"])
    # The naive baseline repeats the training part's last value, then the data's last value.
    np.testing.assert_allclose(baselines["naive"][:holdout], series.values[-holdout - 1])
    np.testing.assert_allclose(baselines["naive"][holdout:], series.values[-1])
    assert np.all(np.isfinite(baselines[list(BASELINE_NAMES)].to_numpy()))
    assert result.choice in ("network", "hybrid", "classical") and result.choice_text
    assert (result.network is not None) == (result.choice == "hybrid")
    if result.network is not None:
        assert list(result.network.columns) == ["time", "part", "network"]
        assert len(result.network) == holdout + horizon
        assert "network" in result.metrics
    assert result.best in ("model", *BASELINE_NAMES)
    metrics = result.metrics_json()
    for key in ("choice", "choice_text", "network", "best", "verdict", "model", "baselines"):
        assert key in metrics
    assert Path(result.model_path).exists() and result.model_path.endswith(".rnnlab")
    # The saved model forecasts the future rows again from the end of the data.
    loaded = RNNForecaster.load(result.model_path)
    future = frame[frame["part"] == "future"]
    np.testing.assert_allclose(loaded.predict(horizon, series=series).mean, future["forecast"],
                               rtol=1e-6)
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
        config = ForecastConfig(**{**QUICK, "ensemble": 2}, strategy=strategy, horizon=6,
                                holdout=15)
        result = run_forecast(series, config, JobContext(tmp_path))
        _check_result(result, series, config)
        assert [log["epoch"] for log in result.history] == [1, 2]
    # The saved model holds two members side by side, each with its own weights; the
    # forecast is their median.
    model = RNNForecaster.load(result.model_path).model_
    heads = [layer for layer in model.layers if layer.name.startswith("forecast_")]
    cells = [layer for layer in model.layers if layer.name.startswith(f"{result.config.cell}_")]
    assert len(heads) == 2 and len(cells) == 2
    assert not np.allclose(cells[0].get_weights()[0], cells[1].get_weights()[0])
    window = np.zeros((1, result.config.window, 1), dtype="float32")
    assert np.asarray(model(window)).shape == (1, 2 * 6)


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
    config = ForecastConfig(holdout=24, horizon=24, epochs=3, ensemble=1)
    honest = run_forecast(series, config).forecast
    other = run_forecast(dataclasses.replace(series, values=tampered), config).forecast
    columns = ["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
    np.testing.assert_array_equal(
        honest.loc[honest.part == "holdout", columns].to_numpy(),
        other.loc[other.part == "holdout", columns].to_numpy(),
    )
    assert not np.allclose(honest.loc[honest.part == "holdout", "actual"],
                           other.loc[other.part == "holdout", "actual"])


@pytest.mark.parametrize("length", [10, 13])
def test_every_series_resolve_config_accepts_gets_a_forecast(length):
    series = make_series(seasonal(length), freq="YS", season=1)
    result = run_forecast(series, ForecastConfig(**QUICK))
    assert result.choice == "classical"
    assert len(result.forecast) == result.config.holdout + result.config.horizon
