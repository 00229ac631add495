"""Baselines follow the estimator contract and forecast what their names promise."""

import numpy as np
import pytest

from core.baselines import (
    AutoETSForecaster,
    DriftForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    make_baselines,
)
from core.errors import InputError

TRAIN = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])


def test_naive_repeats_the_last_value():
    np.testing.assert_array_equal(NaiveForecaster().fit(TRAIN).predict(3), [7, 7, 7])


def test_seasonal_naive_repeats_the_last_season():
    forecaster = SeasonalNaiveForecaster(season=3).fit(TRAIN)
    np.testing.assert_array_equal(forecaster.predict(5), [5, 6, 7, 5, 6])


def test_seasonal_naive_with_a_season_longer_than_the_data_falls_back_to_naive():
    np.testing.assert_array_equal(SeasonalNaiveForecaster(season=50).fit(TRAIN).predict(2), [7, 7])


def test_drift_extends_the_line_through_first_and_last_values():
    np.testing.assert_allclose(DriftForecaster().fit([0.0, 5.0, 2.0, 3.0]).predict(2), [4, 5])


def test_autoets_follows_a_clean_seasonal_pattern():
    t = np.arange(96)
    series = 10 + np.sin(2 * np.pi * t / 12)
    forecast = AutoETSForecaster(season=12).fit(series[:84]).predict(12)
    np.testing.assert_allclose(forecast, series[84:], atol=0.1)


@pytest.mark.parametrize("baseline", make_baselines(season=2))
def test_every_baseline_follows_the_estimator_contract(baseline):
    assert not any(name.endswith("_") for name in vars(baseline))  # __init__ learns nothing
    assert baseline.fit(np.arange(20.0)) is baseline
    assert any(name.endswith("_") for name in vars(baseline))
    first = baseline.predict(4)
    assert first.shape == (4,)
    # A second fit replaces the first.
    assert not np.allclose(baseline.fit(np.arange(20.0) + 100).predict(4), first)


def test_a_baseline_without_training_values_says_so():
    with pytest.raises(InputError, match="at least one training value"):
        NaiveForecaster().fit([])
