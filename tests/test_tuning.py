"""Hyperparameter search (core.forecast.tuning, `python -m core tune`): what it searches and
refuses, the pruning callback, and a tiny search that must never see the holdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from core.errors import InputError
from core.forecast import tuning
from core.forecast.tuning import TuningSettings, search_range
from tests.cli_helpers import assert_one_error_line

ROOT = Path(__file__).resolve().parents[1]


def write_series(path: Path, length: int = 60, holdout_value: float | None = None,
                 holdout: int = 6) -> Path:
    """A monthly seasonal series; its last `holdout` values replaced by `holdout_value`."""
    steps = np.arange(length)
    values = 100 + 10 * np.sin(2 * np.pi * steps / 12) + 0.5 * steps
    if holdout_value is not None:
        values[-holdout:] = holdout_value
    frame = pd.DataFrame({"month": pd.date_range("2000-01-01", periods=length, freq="MS")
                          .strftime("%Y-%m"), "sales": values})
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"search": ("cell", "colour")}, "Unknown setting(s) to search: colour"),
    ({"search": ()}, "Say which settings to search"),
    ({"trials": None, "minutes": None}, "budget"),
    ({"trials": 0}, "trials must be 1 to 500"),
    ({"folds": 9}, "folds must be 1 to 5"),
])
def test_bad_settings_are_refused_in_plain_words(fields, fragment):
    with pytest.raises(InputError, match=None) as error:
        TuningSettings(**fields)
    assert fragment in str(error.value)


def test_search_ranges_lie_inside_the_configs_limits():
    for name in tuning.NUMBER_RANGES:
        low, high = search_range(name)
        config_low, config_high = ForecastConfig.RANGES[name]
        assert config_low <= low < high <= config_high
    assert set(tuning.SEARCHABLE) <= set(ForecastConfig.__dataclass_fields__)


def test_a_bad_search_name_is_one_error_line_with_exit_2(tmp_path):
    data = write_series(tmp_path / "sales.csv")
    result = subprocess.run(
        [sys.executable, "-m", "core", "tune", "--data", str(data), "--search", "units,speed",
         "--out", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert_one_error_line(result, "speed", "Choose among")
    assert not (tmp_path / "out").exists()


def test_the_pruning_callback_stops_a_poisoned_trial_after_one_epoch():
    import keras
    import optuna

    x = np.linspace(0, 1, 32, dtype="float32").reshape(-1, 1)
    y = 2 * x
    epochs_run = []

    def objective(trial):
        poisoned = trial.number == 1
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mae")
        count = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: epochs_run.append((trial.number, epoch)))
        validation = (x, y * (1e6 if poisoned else 1))
        model.fit(x, y, validation_data=validation, epochs=4, verbose=0,
                  callbacks=[count, tuning.pruning_callback(trial)])
        return float(model.evaluate(x, y, verbose=0))

    study = optuna.create_study(pruner=optuna.pruners.MedianPruner(n_startup_trials=1))
    study.optimize(objective, n_trials=2)
    states = [trial.state for trial in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]
    assert [epoch for number, epoch in epochs_run if number == 1] == [0]
    assert len([epoch for number, epoch in epochs_run if number == 0]) == 4


@pytest.mark.slow
def test_a_tiny_search_writes_its_files_and_never_sees_the_holdout(tmp_path, monkeypatch):
    from core.cli import main
    from core.config import ForecastConfig as Config
    from core.forecast.rnn import RNNForecaster
    from core.settingsfile import read_settings

    # The holdout (the last 6 points, the horizon's default for 60 points) is poisoned: if any
    # fit or any score saw it, the values or the scores would be enormous.
    data = write_series(tmp_path / "sales.csv", holdout_value=1e6, holdout=6)
    seen = []
    original_fit = RNNForecaster.fit

    def recording_fit(self, series, *args, **kwargs):
        seen.append(np.asarray(series.values).copy())
        return original_fit(self, series, *args, **kwargs)

    monkeypatch.setattr(RNNForecaster, "fit", recording_fit)
    out = tmp_path / "tuning"
    code = main(["tune", "--data", str(data), "--horizon", "6", "--holdout", "6",
                 "--trials", "2", "--folds", "2", "--trial-epochs", "1",
                 "--search", "units,learning_rate", "--units", "300", "--out", str(out)])
    assert code == 0
    assert seen and max(len(values) for values in seen) <= 60 - 6 - 6  # folds inside training
    assert max(float(values.max()) for values in seen) < 1000

    report = json.loads((out / "tuning.json").read_text())
    assert report["scored_on"]["holdout"] == 6 and report["scored_on"]["train_points"] == 54
    assert report["scored_on"]["fold_origins"] == [42, 48]
    assert len(report["trials"]) == 2
    scores = [row["score"] for row in report["trials"] if row["state"] == "complete"]
    assert scores and all(0 < score < 50 for score in scores)
    for row in report["trials"]:
        assert 8 <= row["units"] <= 128 and 1e-4 <= row["learning_rate"] <= 3e-2
    best = report["best"]
    assert best["score"] == min(scores)

    config, data_ref = read_settings((out / "config.json").read_text(), Config)
    assert config.units == best["units"] and config.learning_rate == best["learning_rate"]
    assert config.epochs == Config().epochs  # the trials' short epochs are not the model's
    assert data_ref.file == "sales.csv" and data_ref.target == "sales"


@pytest.mark.slow
def test_stop_keeps_the_best_trial_so_far(tmp_path):
    from core.data import load_series
    from core.jobs import JobContext

    class StopAfterFirstTrial(JobContext):
        """A job context whose Stop is pressed when the first trial is reported."""

        def __init__(self):
            super().__init__(tmp_path)
            self.reports = []

        def report(self, logs):
            self.reports.append(logs)

        def should_stop(self):
            return bool(self.reports)

    series = load_series(str(write_series(tmp_path / "sales.csv")))
    context = StopAfterFirstTrial()
    result = tuning.tune(series, ForecastConfig(epochs=1, units=300), TuningSettings(
        trials=5, folds=1, search=("units",)), context)
    assert result.stopped and len(result.trials) == 1 and len(context.reports) == 1
    assert context.reports[0]["trial"] == 1 and context.reports[0]["epoch"] == 1
    assert result.best is not None and result.best["trial"] == 1
    assert result.config.units == result.best["units"] != 300
