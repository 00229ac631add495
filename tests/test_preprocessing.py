"""Windows, value transforms and per-window normalisation, on tiny exact data."""

import numpy as np
import pytest

from core.errors import InputError
from core.preprocessing import (
    DAMPING,
    ValueTransform,
    WindowEncoder,
    anchor_forecast,
    choose_anchor,
    choose_transform,
    make_windows,
    seasonal_forecast,
)


def test_windows_hold_exactly_the_next_value():
    inputs, targets = make_windows(np.arange(10.0), 3)
    assert inputs.shape == (7, 3) and targets.shape == (7, 1)
    np.testing.assert_array_equal(inputs[0], [0, 1, 2])
    np.testing.assert_array_equal(targets[0], [3])
    np.testing.assert_array_equal(inputs[-1], [6, 7, 8])
    np.testing.assert_array_equal(targets[-1], [9])


def test_multi_step_windows_hold_the_next_horizon_values():
    inputs, targets = make_windows(np.arange(10.0), 4, horizon=3)
    assert inputs.shape == (4, 4) and targets.shape == (4, 3)
    np.testing.assert_array_equal(inputs[1], [1, 2, 3, 4])
    np.testing.assert_array_equal(targets[1], [5, 6, 7])
    np.testing.assert_array_equal(targets[-1], [7, 8, 9])


def test_a_series_too_short_for_one_window_raises_a_plain_error():
    with pytest.raises(InputError, match="5 points cannot make a single window of 4 inputs and 2"):
        make_windows(np.arange(5.0), 4, horizon=2)


@pytest.mark.parametrize("kind", ["none", "log"])
def test_value_transforms_round_trip(kind):
    values = np.array([1.0, 2.5, 100.0, 0.01])
    transform = ValueTransform(kind)
    np.testing.assert_allclose(transform.inverse(transform.forward(values)), values)


def test_log_transform_refuses_values_at_or_below_zero():
    with pytest.raises(InputError, match="above 0"):
        ValueTransform("log").forward(np.array([1.0, 0.0, 2.0]))


def _multiplicative(length=120, season=12):
    t = np.arange(length)
    level = 100 * 1.02**t
    return level * (1 + 0.3 * np.sin(2 * np.pi * t / season))


def test_logs_are_chosen_when_swings_grow_with_the_level():
    assert choose_transform(_multiplicative(), 12) == "log"


@pytest.mark.parametrize(
    "values",
    [
        100 + 10 * np.sin(2 * np.pi * np.arange(120) / 12),  # constant swings
        np.sin(np.arange(120.0)),  # negative values
        np.linspace(1, 50, 120),  # a trend without swings
    ],
)
def test_logs_are_not_chosen_otherwise(values):
    assert choose_transform(values, 12) == "none"


def test_the_seasonal_anchor_is_chosen_only_where_it_forecasts_better():
    t = np.arange(96)
    assert choose_anchor(np.sin(2 * np.pi * t / 12), 12, horizon=6, seasons=3) == "seasonal"
    walk = np.cumsum(np.random.default_rng(0).normal(size=96))
    assert choose_anchor(walk, 12, horizon=6, seasons=3) == "last"
    # A straight line: the drift anchor forecasts it exactly, the last value does not.
    assert choose_anchor(np.arange(96.0), 1, horizon=6, seasons=0, context_length=8) == "drift"
    trend = 0.05 * t + 3 * np.sin(2 * np.pi * t / 12)
    assert choose_anchor(trend, 12, horizon=6, seasons=3) == "seasonal_drift"


def test_the_drift_anchor_extends_the_line_through_the_context():
    contexts = np.array([[1.0, 2.0, 5.0]])  # slope (5 - 1) / 2 = 2, damped step by step
    phi = DAMPING
    np.testing.assert_allclose(anchor_forecast(contexts, "drift", 1, 1, 3),
                               [[5 + 2 * phi, 5 + 2 * (phi + phi**2), 5 + 2 * (phi + phi**2 + phi**3)]])


def test_the_seasonal_drift_anchor_adds_the_trend_between_season_means():
    # Seasons of 2: means 1 and 3, so the trend is 1 per step, 2 per season. The seasonal
    # forecast [2, 4, 2] repeats the last season; the trend adds one season (two for step 3).
    contexts = np.array([[0.0, 2.0, 2.0, 4.0]])
    np.testing.assert_allclose(anchor_forecast(contexts, "seasonal", 2, 2, 3), [[2, 4, 2]])
    phi = DAMPING
    np.testing.assert_allclose(anchor_forecast(contexts, "seasonal_drift", 2, 2, 3),
                               [[2 + 2 * phi, 4 + 2 * (phi + phi**2) / 2,
                                 2 + 4 * (phi + phi**2 + phi**3) / 3]])


def test_the_seasonal_forecast_is_the_last_level_plus_the_mean_profile():
    # Two seasons of 3: profiles [-1, 0, 1] and [-3, 0, 3] average to [-2, 0, 2]; last mean 20.
    contexts = np.array([[9.0, 10.0, 11.0, 17.0, 20.0, 23.0]])
    np.testing.assert_allclose(seasonal_forecast(contexts, 3, 2, 4), [[18, 20, 22, 18]])


def test_encoder_inputs_are_the_window_minus_its_last_value_over_the_scale():
    encoder = WindowEncoder(window=3, steps=2, season=1, anchor="last", differenced=False)
    encoder.fit(np.arange(10.0) * 2)  # one-step change 2
    assert encoder.scale_ == 2
    contexts = np.array([[0.0, 2.0, 4.0, 6.0]])  # context_length = window + 1
    np.testing.assert_allclose(encoder.inputs(contexts)[0, :, 0], [-2, -1, 0])
    np.testing.assert_allclose(encoder.base(contexts), [[6, 6]])


def test_differenced_inputs_are_one_step_changes():
    encoder = WindowEncoder(window=3, steps=1, season=1, anchor="last", differenced=True)
    encoder.fit(np.array([0.0, 1.0, 2.0]))
    np.testing.assert_allclose(encoder.inputs(np.array([[0.0, 1.0, 3.0, 6.0]]))[0, :, 0], [1, 2, 3])


def test_with_one_season_the_seasonal_anchor_is_seasonal_naive_moved_to_its_mean():
    encoder = WindowEncoder(window=2, steps=5, season=4, anchor="seasonal", differenced=False,
                            seasons=1)
    contexts = np.array([[10.0, 11.0, 12.0, 13.0]])
    np.testing.assert_allclose(encoder.base(contexts), [[10, 11, 12, 13, 10]])


@pytest.mark.parametrize("anchor,season", [("last", 1), ("drift", 1), ("seasonal", 4),
                                           ("seasonal_drift", 4)])
def test_targets_decode_back_to_the_true_values(anchor, season):
    rng = np.random.default_rng(1)
    series = np.cumsum(rng.normal(size=60)) + 5 * np.sin(np.arange(60) * np.pi / 2)
    encoder = WindowEncoder(window=6, steps=3, season=season, anchor=anchor, differenced=False,
                            seasons=2)
    encoder.fit(series[:40])
    contexts, futures = make_windows(series, encoder.context_length, 3)
    decoded = encoder.decode(contexts, encoder.targets(contexts, futures))
    np.testing.assert_allclose(decoded, futures, rtol=1e-5, atol=1e-5)
