"""A worker's kept networks (core.traced): a repeated network trains exactly as a new one would.

The kept model skips TensorFlow's tracing; what must not change is anything the user sees: the
loss history and the forecast are the same as from a freshly built network with the same seed.
"""

import numpy as np
import pandas as pd
import pytest

from core import traced
from core.config import ForecastConfig
from core.data import Series
from core.forecast.rnn import RNNForecaster

QUICK = dict(epochs=4, patience=0, refit=False, units=8)


def series(seed: int = 0) -> Series:
    t = np.arange(96)
    values = 50 + 0.2 * t + 8 * np.sin(2 * np.pi * t / 12)
    values += np.random.default_rng(seed).normal(0, 1, t.size)
    return Series(values=values, time=pd.date_range("2000-01-01", periods=96, freq="MS"),
                  freq="MS", season=12, name="y", date_col="t", missing="interpolate", filled=0,
                  notes=())


def fitted(**settings) -> RNNForecaster:
    return RNNForecaster(ForecastConfig(**{**QUICK, **settings})).fit(series())


@pytest.fixture
def keeping():
    traced.enable()
    yield
    traced.enable(False)


def losses(forecaster: RNNForecaster) -> list[float]:
    return [log["loss"] for log in forecaster.history_] + [
        log["val_loss"] for log in forecaster.history_]


def test_a_kept_network_trains_and_forecasts_as_a_new_one(keeping):
    first = fitted(seed=3)
    traced.give_back()  # the job ended
    assert traced.kept_count() == 1
    kept = first.model_
    again = fitted(seed=3)
    assert again.model_ is kept and traced.kept_count() == 0
    np.testing.assert_allclose(losses(again), losses(first), rtol=1e-5)
    # Another seed on the kept model: as a new network with that seed, not as the old one.
    traced.give_back()
    other = fitted(seed=4)
    assert other.model_ is kept
    traced.enable(False)
    fresh = fitted(seed=4)
    assert fresh.model_ is not kept
    np.testing.assert_allclose(losses(other), losses(fresh), rtol=1e-5)
    np.testing.assert_allclose(other.predict(12).mean, fresh.predict(12).mean, rtol=1e-5)
    assert not np.allclose(losses(other), losses(first))


def test_a_kept_network_also_reproduces_dropout(keeping):
    first = fitted(seed=1, dropout=0.3)
    traced.give_back()
    again = fitted(seed=1, dropout=0.3)
    assert again.model_ is first.model_
    np.testing.assert_allclose(losses(again), losses(first), rtol=1e-5)


def test_only_a_network_of_the_same_shape_and_settings_is_reused(keeping):
    first = fitted(seed=0)
    traced.give_back()
    assert fitted(seed=0, units=16).model_ is not first.model_
    assert fitted(seed=0, clipnorm=0.5).model_ is not first.model_
    assert fitted(seed=0, cell="lstm").model_ is not first.model_
    assert traced.kept_count() == 1


def test_a_job_never_gets_the_same_model_twice_and_only_a_few_are_kept(keeping):
    first, second = fitted(seed=0), fitted(seed=0)  # one job, two networks alive at once
    assert first.model_ is not second.model_
    for units in (4, 5, 6, 7, 9):
        fitted(seed=0, units=units)
    assert len(traced._taken) == traced.KEEP  # a long search holds no more than these
    traced.give_back()
    assert traced.kept_count() == traced.KEEP


def test_outside_a_worker_nothing_is_kept():
    first = fitted(seed=0)
    traced.give_back()
    assert traced.kept_count() == 0
    assert fitted(seed=0).model_ is not first.model_


def test_a_workers_second_job_with_the_same_network_gives_the_same_results(tmp_path):
    """Through the job system: the worker keeps the first job's network and trains it again."""
    from core.jobs.local import LocalJobManager

    manager = LocalJobManager(workers=1, warm_modules=("tensorflow", "keras"), root=tmp_path)
    try:
        payload = {"series": series(), "config": ForecastConfig(**QUICK, seed=2).to_dict(),
                   "debug": {"autoets": False}}
        first, second = (manager.submit("core.forecasting:forecast_task", payload).wait(300)
                         for _ in range(2))
        jobs = manager.jobs()
    finally:
        manager.shutdown()
    assert [snapshot.finished for snapshot in (first, second)] == [True, True]
    one, two = (job.result for job in jobs)
    assert [log["loss"] for log in two.history] == pytest.approx(
        [log["loss"] for log in one.history], rel=1e-5)
    np.testing.assert_allclose(two.forecast["forecast"], one.forecast["forecast"], rtol=1e-5)
    # The second job's first epoch did not trace again: far quicker than the first one's.
    assert two.history[0]["seconds"] < one.history[0]["seconds"]
