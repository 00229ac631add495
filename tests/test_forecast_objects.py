"""The forecaster objects of core.forecast: one contract for the network and every baseline,
backtests from promised origins, short series, model files."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from core.cells import cell_keys
from core.config import ForecastConfig
from core.errors import InputError
from core.forecast import RNNForecaster, SeriesData, as_series
from core.forecast.baselines import (
    BASELINES,
    CombinationForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    label_of,
    make_baselines,
)
from core.forecast.rnn import CLASSICAL
from core.modelfile import ModelFileError

# Tiny networks, two epochs: these tests check behaviour, not accuracy.
QUICK = ForecastConfig(epochs=2, patience=0, units=4, ensemble=1)


def monthly(length=48, seed=0, start="2000-01-01", level=20.0) -> SeriesData:
    """A trending seasonal monthly series (season 12) with a little noise."""
    t = np.arange(length)
    noise = np.random.default_rng(seed).normal(0, 0.3, length)
    values = level + 0.05 * t + 3 * np.sin(2 * np.pi * t / 12) + noise
    return SeriesData(values, pd.date_range(start, periods=length, freq="MS"), "MS", 12, "y")


def yearly(length, seed=0) -> SeriesData:
    values = 100 + 2.0 * np.arange(length) + np.random.default_rng(seed).normal(0, 1, length)
    return SeriesData(values, pd.date_range("1990-01-01", periods=length, freq="YS"), "YS", 1,
                      "y")


def tampered_after(series: SeriesData, count: int) -> SeriesData:
    """`series` with every value after its first `count` changed wildly."""
    values = series.values.copy()
    values[count:] = values[count:] * 3 + 500
    return dataclasses.replace(series, values=values)


def check_forecast(forecast, series: SeriesData, horizon: int) -> None:
    """Length, the months after the data's end, finite values and ordered bounds."""
    assert len(forecast) == horizon and forecast.mean.shape == (horizon,)
    expected = pd.date_range(series.time[-1], periods=horizon + 1, freq="MS")[1:]
    assert list(forecast.time) == list(expected)
    assert np.all(np.isfinite(forecast.mean))
    lower80, upper80 = forecast.lower[0.8], forecast.upper[0.8]
    lower95, upper95 = forecast.lower[0.95], forecast.upper[0.95]
    for bound in (lower80, upper80, lower95, upper95):
        assert bound.shape == (horizon,) and np.all(np.isfinite(bound))
    tolerance = 1e-9 * np.maximum(1.0, np.abs(forecast.mean))
    assert np.all(lower95 <= lower80 + tolerance)
    assert np.all(lower80 <= forecast.mean + tolerance)
    assert np.all(forecast.mean <= upper80 + tolerance)
    assert np.all(upper80 <= upper95 + tolerance)
    frame = forecast.to_frame()
    assert list(frame.columns) == ["time", "forecast", "lower_80", "upper_80", "lower_95",
                                   "upper_95"]
    assert len(frame) == horizon


def assert_same_forecast(first, second, tolerance=0.0) -> None:
    np.testing.assert_allclose(first.mean, second.mean, rtol=tolerance, atol=tolerance)
    for level in (0.8, 0.95):
        np.testing.assert_allclose(first.lower[level], second.lower[level], rtol=tolerance,
                                   atol=tolerance)
        np.testing.assert_allclose(first.upper[level], second.upper[level], rtol=tolerance,
                                   atol=tolerance)
    assert list(first.time) == list(second.time)


# ---------------------------------------------------------------------------------------------
# Series


def test_as_series_reads_a_pandas_series_and_refuses_gaps():
    index = pd.date_range("2001-01-01", periods=5, freq="MS")
    data = as_series(pd.Series([1.0, 2, 3, 4, 5], index=index), season=12)
    assert data.values.tolist() == [1, 2, 3, 4, 5] and data.season == 12
    assert data.freq == "MS" and data.head(2).values.tolist() == [1, 2]
    assert list(data.head(2).time) == list(index[:2])
    with pytest.raises(InputError, match="missing or infinite"):
        as_series([1.0, np.nan, 3.0])
    with pytest.raises(InputError, match="empty"):
        as_series([])


# ---------------------------------------------------------------------------------------------
# Every baseline obeys the contract


FORECASTERS = [*BASELINES, "combination"]


def make(name: str, season=None):
    return CombinationForecaster(season) if name == "combination" else BASELINES[name](season)


@pytest.mark.parametrize("name", FORECASTERS)
def test_each_baseline_obeys_the_contract(name):
    series = monthly(48)
    forecaster = make(name)
    assert forecaster.fit(series) is forecaster
    check_forecast(forecaster.predict(7), series, 7)
    assert label_of(forecaster.name) == forecaster.label


@pytest.mark.parametrize("name", FORECASTERS)
def test_a_baseline_never_sees_the_values_after_its_training_part(name):
    series, train = monthly(48), 36
    honest = make(name).fit(series.head(train)).predict(12)
    other = make(name).fit(tampered_after(series, train).head(train)).predict(12)
    assert_same_forecast(honest, other)


@pytest.mark.parametrize("name", FORECASTERS)
def test_a_second_fit_replaces_the_first(name):
    first, second = monthly(48, seed=1), monthly(40, seed=2, start="2005-03-01", level=60)
    refitted = make(name).fit(first).fit(second).predict(6)
    assert_same_forecast(refitted, make(name).fit(second).predict(6))
    assert refitted.time[0] == pd.Timestamp("2008-07-01")


@pytest.mark.parametrize("name", FORECASTERS)
def test_clone_gives_an_unfitted_copy_with_the_same_settings(name):
    forecaster = make(name, season=12).fit(monthly(48))
    copy = forecaster.clone()
    assert type(copy) is type(forecaster) and copy.params() == forecaster.params()
    assert not any(key.endswith("_") for key in vars(copy))


def test_the_combination_is_the_mean_of_its_members():
    series = monthly(48)
    combination = CombinationForecaster(12).fit(series).predict(9)
    members = [BASELINES[name](12).fit(series).predict(9) for name in ("autoets", "autotheta")]
    np.testing.assert_allclose(combination.mean, (members[0].mean + members[1].mean) / 2)
    for level in (0.8, 0.95):
        np.testing.assert_allclose(combination.lower[level],
                                   (members[0].lower[level] + members[1].lower[level]) / 2)
        np.testing.assert_allclose(combination.upper[level],
                                   (members[0].upper[level] + members[1].upper[level]) / 2)
    pair = CombinationForecaster(12, members=("naive", "drift")).fit(series).predict(3)
    last, slope = series.values[-1], (series.values[-1] - series.values[0]) / (len(series) - 1)
    np.testing.assert_allclose(pair.mean, last + slope * np.arange(1, 4) / 2)


def test_exact_values_of_the_simple_baselines():
    series = SeriesData(np.arange(24.0) % 12 + np.repeat([0.0, 100.0], 12),
                        pd.date_range("2000-01-01", periods=24, freq="MS"), "MS", 12)
    np.testing.assert_allclose(make("naive").fit(series).predict(3).mean, [111, 111, 111])
    np.testing.assert_allclose(make("seasonal_naive").fit(series).predict(13).mean,
                               [*(100 + np.arange(12.0)), 100])
    np.testing.assert_allclose(make("drift").fit(series).predict(2).mean,
                               111 + (111 - 0) / 23 * np.array([1, 2]))


def test_the_season_is_dropped_with_fewer_than_two_seasons():
    short, long = monthly(23), monthly(24)
    seasonal_short = SeasonalNaiveForecaster(12).fit(short)
    assert seasonal_short.season_used_ == 1
    assert_same_forecast(seasonal_short.predict(5), NaiveForecaster(12).fit(short).predict(5))
    seasonal_long = SeasonalNaiveForecaster(12).fit(long)
    assert seasonal_long.season_used_ == 12
    np.testing.assert_allclose(seasonal_long.predict(12).mean, long.values[-12:])
    for name in ("autoets", "autotheta"):
        assert BASELINES[name](12).fit(short).season_used_ == 1
        assert BASELINES[name](12).fit(long).season_used_ == 12


def test_make_baselines_names_fresh_forecasters_in_order():
    baselines = make_baselines(12)
    assert [b.name for b in baselines] == ["naive", "seasonal_naive", "drift", "autoets",
                                           "autotheta", "autoarima"]
    assert all(b.season == 12 and not hasattr(b, "model_") for b in baselines)
    assert [b.name for b in make_baselines(4, ("drift",))] == ["drift"]


def test_a_baseline_forecasts_from_the_end_of_another_series_after_a_refit():
    series, other = monthly(48), monthly(30, seed=5, start="2010-01-01")
    forecast = make("drift").fit(series).fit(other).predict(4)
    check_forecast(forecast, other, 4)


# ---------------------------------------------------------------------------------------------
# Backtests


def test_backtest_origins_are_where_promised_and_each_fold_sees_only_its_past():
    series = monthly(40)
    backtest = NaiveForecaster().backtest(series, folds=3, horizon=4)
    assert backtest.name == "naive" and backtest.horizon == 4
    assert [fold.origin for fold in backtest.folds] == [28, 32, 36]
    for fold in backtest.folds:
        origin = fold.origin
        # Naive repeats the value just before the origin: fitted on the data before it only.
        np.testing.assert_allclose(fold.forecast.mean, np.full(4, series.values[origin - 1]))
        np.testing.assert_array_equal(fold.actual, series.values[origin : origin + 4])
        assert list(fold.time) == list(series.time[origin : origin + 4])
        assert list(fold.forecast.time) == list(fold.time)
        assert set(fold.scores) == {"mae", "rmse", "smape", "mase"}
        assert fold.scores["mae"] == pytest.approx(
            np.mean(np.abs(fold.actual - series.values[origin - 1])))
    means = backtest.mean_scores()
    assert means["mae"] == pytest.approx(np.mean([fold.scores["mae"] for fold in backtest.folds]))


def test_backtest_with_a_stride_and_a_drift_fitted_up_to_each_origin():
    series = monthly(40)
    backtest = BASELINES["drift"]().backtest(series, folds=3, horizon=4, stride=2)
    assert [fold.origin for fold in backtest.folds] == [32, 34, 36]
    for fold in backtest.folds:
        first, last = series.values[0], series.values[fold.origin - 1]
        slope = (last - first) / (fold.origin - 1)
        np.testing.assert_allclose(fold.forecast.mean, last + slope * np.arange(1, 5))


def test_backtest_folds_do_not_move_when_the_future_changes():
    series = monthly(40)
    honest = BASELINES["autoets"](12).backtest(series, folds=2, horizon=4)
    # Values from the last origin on are changed: the first fold's forecast must not move.
    other = BASELINES["autoets"](12).backtest(tampered_after(series, 36), folds=2, horizon=4)
    assert_same_forecast(honest.folds[0].forecast, other.folds[0].forecast)
    assert_same_forecast(honest.folds[1].forecast, other.folds[1].forecast)
    assert honest.folds[1].scores != other.folds[1].scores


def test_too_many_folds_is_a_plain_error():
    with pytest.raises(InputError) as caught:
        NaiveForecaster().backtest(monthly(40), folds=10, horizon=4)
    message = str(caught.value)
    assert "10 folds of 4 steps" in message and "44 points" in message
    assert "the series has 40" in message and "fewer folds" in message


# ---------------------------------------------------------------------------------------------
# Short series: the classical fallback (no network: fast)


def test_a_series_too_short_for_a_network_gets_the_named_classical_fallback():
    series = yearly(12)
    forecaster = RNNForecaster(QUICK.replace(horizon=6))
    assert forecaster.fit(series) is forecaster
    assert forecaster.choice_ == "classical" and forecaster.plan_ is None
    text = forecaster.describe()
    assert "too short for a network" in text and "12 points" in text
    assert "AutoETS" in text and "AutoTheta" in text and "AutoARIMA" in text
    assert forecaster.summary()["fallback"] == text
    forecast = forecaster.predict()
    assert len(forecast) == 6
    assert list(forecast.time) == list(pd.date_range("2002-01-01", periods=6, freq="YS"))
    members = [BASELINES[name](1).fit(series).predict(6).mean for name in CLASSICAL]
    np.testing.assert_allclose(forecast.mean, np.mean(members, axis=0))
    assert np.all(forecast.lower[0.95] <= forecast.lower[0.8])
    assert np.all(forecast.lower[0.8] <= forecast.mean)
    assert np.all(forecast.mean <= forecast.upper[0.8])
    assert np.all(forecast.upper[0.8] <= forecast.upper[0.95])
    assert forecast.upper[0.95][-1] - forecast.lower[0.95][-1] > 0


def test_the_classical_fallback_forecasts_from_the_end_of_another_series():
    series, other = yearly(12), yearly(14, seed=3)
    forecaster = RNNForecaster(QUICK.replace(horizon=6)).fit(series)
    forecast = forecaster.predict(3, series=other)
    assert list(forecast.time) == list(pd.date_range("2004-01-01", periods=3, freq="YS"))
    members = [BASELINES[name](1).fit(other).predict(3).mean for name in CLASSICAL]
    np.testing.assert_allclose(forecast.mean, np.mean(members, axis=0))


def test_a_series_of_two_points_is_refused_in_plain_words():
    with pytest.raises(InputError, match="2 points; even the simplest forecast needs 3"):
        RNNForecaster(QUICK).fit(yearly(2))


@pytest.mark.parametrize("length", [4, 5, 6, 7, 8, 9])
def test_a_very_short_series_gets_the_classical_forecast(length):
    series = yearly(length)
    forecaster = RNNForecaster(QUICK.replace(horizon=2)).fit(series)
    assert forecaster.choice_ == "classical" and f"{length} points" in forecaster.describe()
    forecast = forecaster.predict()
    assert len(forecast) == 2 and np.all(np.isfinite(forecast.mean))
    assert forecast.time[0] == series.time[-1] + pd.offsets.YearBegin(1)
    assert np.all(forecast.lower[0.95] <= forecast.lower[0.8])
    assert np.all(forecast.lower[0.8] <= forecast.mean)
    assert np.all(forecast.mean <= forecast.upper[0.8])
    assert np.all(forecast.upper[0.8] <= forecast.upper[0.95])


def test_three_points_get_a_forecast_or_a_plain_refusal():
    try:
        forecast = RNNForecaster(QUICK.replace(horizon=2)).fit(yearly(3)).predict()
    except InputError:
        return
    assert len(forecast) == 2


def test_the_classical_fallback_round_trips_through_a_model_file(tmp_path):
    series, other = yearly(12), yearly(13, seed=4)
    forecaster = RNNForecaster(QUICK.replace(horizon=6)).fit(series)
    data = forecaster.save(tmp_path / "model.rnnlab")
    assert (tmp_path / "model.rnnlab").read_bytes() == data
    loaded = RNNForecaster.load(tmp_path / "model.rnnlab")
    assert loaded.choice_ == "classical" and loaded.describe() == forecaster.describe()
    assert_same_forecast(loaded.predict(), forecaster.predict(), tolerance=1e-6)
    assert_same_forecast(loaded.predict(4, series=other), forecaster.predict(4, series=other),
                         tolerance=1e-6)
    assert loaded.config == forecaster.config


def test_a_tampered_or_foreign_model_file_is_refused(tmp_path):
    data = bytearray(RNNForecaster(QUICK.replace(horizon=6)).fit(yearly(12)).save())
    RNNForecaster.load(bytes(data))  # the untouched file loads
    middle = len(data) // 2
    data[middle] ^= 0xFF
    with pytest.raises(ModelFileError):
        RNNForecaster.load(bytes(data))
    with pytest.raises(ModelFileError, match="no model file"):
        RNNForecaster.load(tmp_path / "missing.rnnlab")
    (tmp_path / "model.keras").write_bytes(b"PK\x03\x04 not ours")
    with pytest.raises(ModelFileError):
        RNNForecaster.load(tmp_path / "model.keras")


# ---------------------------------------------------------------------------------------------
# The network (slow: real Keras fits, kept tiny)


@pytest.fixture(scope="module")
def fitted_network():
    """A GRU fitted on 36 months of a 48-month series (network or hybrid)."""
    series = monthly(48)
    forecaster = RNNForecaster(QUICK.replace(horizon=6, cell="gru"))
    returned = forecaster.fit(series.head(36))
    return forecaster, returned, series


@pytest.mark.slow
def test_the_network_obeys_the_contract(fitted_network):
    forecaster, returned, series = fitted_network
    assert returned is forecaster
    assert forecaster.choice_ in ("network", "hybrid")
    assert forecaster.plan_ is not None and forecaster.history_
    train = series.head(36)
    check_forecast(forecaster.predict(), train, 6)
    check_forecast(forecaster.predict(10), train, 10)  # past the fitted horizon: fed back
    parts = forecaster.parts(6)
    assert parts["network"].shape == (6,)
    text = forecaster.describe()
    assert forecaster.label in text and ("alone" in text or "mixed" in text)
    assert set(forecaster.summary()) >= {"choice", "window", "horizon", "season", "transform"}


@pytest.mark.slow
def test_the_network_forecasts_from_the_end_of_another_series(fitted_network):
    forecaster, _, series = fitted_network
    forecast = forecaster.predict(6, series=series)
    check_forecast(forecast, series, 6)
    assert not np.allclose(forecast.mean, forecaster.predict(6).mean)
    # The network is not fitted again: the same data gives the fitted forecast.
    assert_same_forecast(forecaster.predict(6, series=series.head(36)), forecaster.predict(6),
                         tolerance=1e-9)


@pytest.mark.slow
def test_the_network_never_sees_the_values_after_its_training_part(fitted_network):
    forecaster, _, series = fitted_network
    again = RNNForecaster(forecaster.config).fit(tampered_after(series, 36).head(36))
    assert_same_forecast(again.predict(6), forecaster.predict(6), tolerance=1e-6)


@pytest.mark.slow
def test_a_second_network_fit_replaces_the_first(fitted_network):
    forecaster, _, series = fitted_network
    other = monthly(40, seed=2, start="2005-03-01", level=60)
    twice = RNNForecaster(forecaster.config).fit(series).fit(other)
    once = RNNForecaster(forecaster.config).fit(other)
    assert twice.data_.values.tolist() == other.values.tolist()
    assert twice.plan_ == once.plan_ and len(twice.history_) == len(once.history_)
    assert_same_forecast(twice.predict(6), once.predict(6), tolerance=1e-5)
    assert twice.predict(6).time[0] == pd.Timestamp("2008-07-01")


@pytest.mark.slow
def test_twenty_yearly_points_get_a_forecast_of_six():
    series = yearly(20)
    forecaster = RNNForecaster(QUICK.replace(horizon=6)).fit(series)
    assert forecaster.choice_ in ("network", "hybrid", "classical")
    forecast = forecaster.predict()
    assert len(forecast) == 6
    assert list(forecast.time) == list(pd.date_range("2010-01-01", periods=6, freq="YS"))
    assert np.all(forecast.lower[0.95] <= forecast.mean)
    assert np.all(forecast.mean <= forecast.upper[0.95])
    text = forecaster.describe()
    if forecaster.choice_ == "classical":
        assert "too short for a network" in text
    else:
        assert forecaster.label in text


@pytest.mark.slow
@pytest.mark.parametrize("cell", cell_keys())
def test_each_cell_round_trips_through_a_model_file(cell, tmp_path):
    series, other = monthly(40, seed=1), monthly(44, seed=6, start="2003-01-01")
    forecaster = RNNForecaster(QUICK.replace(cell=cell, horizon=4)).fit(series)
    path = tmp_path / "model.rnnlab"
    forecaster.save(path)
    loaded = RNNForecaster.load(path)
    assert loaded.choice_ == forecaster.choice_ and loaded.plan_ == forecaster.plan_
    assert loaded.config == forecaster.config and loaded.describe() == forecaster.describe()
    assert_same_forecast(loaded.predict(), forecaster.predict(), tolerance=1e-6)
    assert_same_forecast(loaded.predict(9, series=other), forecaster.predict(9, series=other),
                         tolerance=1e-6)
    for original, copy in zip(forecaster.model_.get_weights(), loaded.model_.get_weights(),
                              strict=True):
        np.testing.assert_allclose(original, copy, rtol=1e-6)


@pytest.mark.slow
def test_the_network_backtest_fits_a_fresh_copy_before_each_origin():
    series = monthly(44)
    backtest = RNNForecaster(QUICK.replace(horizon=4)).backtest(series, folds=2, horizon=4)
    assert backtest.horizon == 4 and [fold.origin for fold in backtest.folds] == [36, 40]
    for fold in backtest.folds:
        check_forecast(fold.forecast, series.head(fold.origin), 4)
        assert np.isfinite(fold.scores["mase"])
