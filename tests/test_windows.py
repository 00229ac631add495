"""Training windows of a long series: views, a fixed number per epoch, every window reached,
reproducible with the seed, a time budget, and the forecaster training on them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from core.forecast import windows
from core.forecast.rnn import RNNForecaster, masked_windows
from core.forecast.windows import training_data, window_batches, window_views
from core.training import epochs_within


def test_views_hold_the_same_windows_as_the_copies():
    values = np.arange(50.0) ** 1.5
    for first, last in [(None, None), (12, 40), (7, 7)]:
        contexts, targets = window_views(values, 7, 4, first, last)
        copies = masked_windows(values, 7, 4, first, last)
        np.testing.assert_array_equal(contexts, copies[0])
        np.testing.assert_array_equal(targets, copies[1])


def test_contexts_are_views_of_the_series_not_copies():
    values = np.arange(10_000.0)
    contexts, targets = window_views(values, 48, 24)
    assert np.shares_memory(contexts, values)
    assert contexts.shape == (10_000 - 48, 48)
    # the targets are a view too (of the series padded once with `steps` NaNs)
    assert not targets.flags.owndata and not contexts.flags.writeable
    assert np.isnan(targets[-1, 1:]).all() and targets[-1, 0] == values[-1]


def test_channels_come_last():
    values = np.stack([np.arange(20.0), -np.arange(20.0)], axis=1)
    contexts, targets = window_views(values, 5, 3)
    assert contexts.shape == (15, 5, 2) and targets.shape == (15, 3, 2)
    np.testing.assert_array_equal(contexts[2, :, 1], -np.arange(2.0, 7.0))


def encode_rows(count):
    rows_seen = []

    def encode(rows):
        rows = np.arange(count)[rows]
        rows_seen.append(rows)
        return rows[:, None].astype("float32"), rows[:, None].astype("float32")

    return encode, rows_seen


def test_a_few_windows_are_handed_over_whole():
    encode, seen = encode_rows(100)
    x, y = training_data(100, encode, batch_size=32, seed=0, per_epoch=200)
    assert x.shape == (100, 1) and len(seen) == 1


def test_many_windows_stream_a_fixed_number_per_epoch_and_reach_every_one():
    count, per_epoch, batch = 1000, 128, 32
    encode, _ = encode_rows(count)
    data, targets = training_data(count, encode, batch, seed=4, per_epoch=per_epoch)
    assert targets is None and len(data) == per_epoch // batch
    seen = []
    for _ in range(math.ceil(count / per_epoch)):
        epoch = np.concatenate([data[i][0][:, 0] for i in range(len(data))]).astype(int)
        assert epoch.size == per_epoch and np.unique(epoch).size == per_epoch
        seen.append(epoch)
        data.on_epoch_end()
    assert set(np.concatenate(seen).tolist()) == set(range(count))


def test_the_draws_are_reproducible_with_the_seed():
    first = window_batches(500, encode_rows(500)[0], 16, seed=7, per_epoch=64)
    again = window_batches(500, encode_rows(500)[0], 16, seed=7, per_epoch=64)
    other = window_batches(500, encode_rows(500)[0], 16, seed=8, per_epoch=64)
    for _ in range(3):
        first.on_epoch_end(), again.on_epoch_end(), other.on_epoch_end()
    assert all(np.array_equal(a, b) for a, b in zip(first.drawn, again.drawn, strict=True))
    assert not np.array_equal(first.drawn[0], other.drawn[0])


def test_epochs_within_a_budget():
    # 10 s spent on 2 epochs of 5 s in a 60 s budget: 10 more fit, capped by the 100 epochs
    assert epochs_within(60, 10, 5, 2, 100) == (12, 50)
    # the epochs asked for cap it
    assert epochs_within(60, 10, 5, 2, 4) == (4, 10)
    # a spent budget still allows the epoch under way to be counted, with nothing left
    assert epochs_within(60, 70, 5, 2, 100) == (3, 0)


def test_the_estimate_grows_with_the_data_then_stops_at_the_budget():
    config = ForecastConfig()
    small, medium = windows.estimate_seconds(200, config), windows.estimate_seconds(2000, config)
    big, huge = (windows.estimate_seconds(100_000, config),
                 windows.estimate_seconds(1_000_000, config))
    assert small < medium <= big
    assert huge == pytest.approx(big)
    assert huge <= windows.START_SECONDS + config.budget_seconds + 10 + 1e-9 + \
        windows.CLASSICAL_SECONDS_PER_POINT * 5000


@pytest.mark.slow
def test_a_long_series_trains_on_sampled_windows_and_forecasts(monkeypatch):
    # The streamed path, made reachable on a small series by lowering the per-epoch count.
    monkeypatch.setattr(windows, "WINDOWS_PER_EPOCH", 64)
    time = pd.date_range("2020-01-01", periods=400, freq="h")
    values = 10 + np.sin(np.arange(400) * 2 * np.pi / 24) + 0.05 * np.arange(400) / 40
    config = ForecastConfig(cell="gru", units=8, epochs=3, patience=3, horizon=12,
                            combine="network", seed=1)
    forecaster = RNNForecaster(config).fit(pd.Series(values, index=time))
    assert forecaster.training_windows_ > 64
    assert 1 <= len(forecaster.history_) <= 3
    forecast = forecaster.predict(12)
    assert forecast.mean.shape == (12,) and np.isfinite(forecast.mean).all()
    assert (forecast.lower[0.8] <= forecast.mean).all() and (forecast.mean <= forecast.upper[0.8]).all()
