"""Rolling-origin backtests of the forecaster and the baselines, fold by fold, as a job.

`run_backtest(series, config, folds)` puts `folds` origins at the end of the series, one horizon
apart (the last one a horizon before the end). At each origin the network and every baseline are
fitted again on the data before it only and forecast the next horizon in one go; each fold is
scored against the truth. The result holds what `backtest.json` holds (`report`) and every
fold's forecasts (`forecasts`), for the page's chart. `backtest_task` runs it in a worker: one
progress entry per finished fold, and Stop keeps the folds already done.

One good holdout can be luck; the spread of the folds' scores says whether it was.

With covariates (the settings name them and `covariates` carries their values, read with the
series), each fold's network reads them as the holdout's does: past-only columns up to the
fold's origin, known-in-advance columns also over the points the fold forecasts (their values
there come from the file, as they would be known in advance). The baselines read none.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from core import metrics as metric_functions
from core.config import ForecastConfig
from core.errors import InputError, JobStopped
from core.forecast.base import Backtest, Fold, Forecaster, SeriesData, as_series
from core.forecast.baselines import make_baselines
from core.forecast.covariates import Covariates, calendar_offered, split_names
from core.forecast.rnn import RNNForecaster
from core.forecasting import _json_safe, best_forecaster, resolve_config, uses_covariates
from core.jobs import JobContext

TASK = "core.forecast.backtest:backtest_task"
MAX_FOLDS = 20
MODEL = "model"  # the network's (or its mix's) name in the report, as in metrics.json


@dataclasses.dataclass
class BacktestResult:
    """A backtest's report (backtest.json) and each fold's forecasts. Picklable: no Keras."""

    report: dict
    forecasts: pd.DataFrame  # fold, time, actual, model, then one column per baseline
    stopped: bool = False  # Stop was pressed: the report holds the folds finished before it

    @property
    def model_label(self) -> str:
        return self.report["model"]


class _StopOnly:
    """A job context for the fits inside a fold: honours Stop, reports nothing (the job's
    progress counts folds, not epochs)."""

    def __init__(self, context: JobContext | None):
        self._context = context

    def set_total(self, epochs: int) -> None:
        pass

    def report(self, logs: dict) -> None:
        pass

    def say(self, message: str) -> None:
        pass

    def should_stop(self) -> bool:
        return self._context is not None and self._context.should_stop()


def fold_origins(length: int, folds: int, horizon: int, stride: int | None = None) -> list[int]:
    """The first forecast point of each fold, oldest first, as `Forecaster.backtest` places them:
    `fold_origins(48, 2, 4)` gives [40, 44]."""
    stride = int(stride or horizon)
    return [length - horizon - stride * (folds - 1 - k) for k in range(folds)]


def resolved_for_backtest(series: Any, config: ForecastConfig) -> ForecastConfig:
    """`config` with the horizon and the season decided from the whole series, as `forecast`
    decides them; the window and the transform are left to each fold's fit (decided on its
    training part)."""
    resolved = resolve_config(series, config.replace(holdout=config.holdout or 1))
    return config.replace(horizon=resolved.horizon, season=resolved.season)


def check_folds(length: int, folds: int, horizon: int) -> None:
    """Raises InputError (in plain words) when `folds` folds of `horizon` do not fit `length`."""
    if not 1 <= folds <= MAX_FOLDS:
        raise InputError(f"The number of folds must be 1 to {MAX_FOLDS}; received {folds}.")
    needed = horizon * folds + 4
    if length < needed:
        raise InputError(
            f"A backtest of {folds} folds of {horizon} steps needs at least {needed} points; "
            f"the series has {length}. Use fewer folds or a shorter horizon."
        )


def covariates_for(config: ForecastConfig, covariates: Covariates | None, what: str,
                   series: Any = None) -> Covariates | None:
    """The covariates a backtest or a search reads: None when the settings name none; those
    given when they hold every column the settings name (calendar features alone need no
    columns: they are made from `series`' dates when none were given).

    Raises:
        InputError: the settings name covariates whose values were not given with the series.
    """
    if not uses_covariates(config):
        return None
    wanted = {"known in advance": split_names(config.covariates),
              "past only": split_names(config.past_covariates)}
    have = {"known in advance": covariates.known if covariates is not None else (),
            "past only": covariates.past if covariates is not None else ()}
    missing = [f"{name} ({kind})" for kind, names in wanted.items() for name in names
               if name not in have[kind]]
    if missing:
        raise InputError(
            f"The settings use the covariate(s) {', '.join(missing)}, but their values were not "
            f"given with the series, so {what} would not score the model these settings "
            "describe. Read the data with these covariates (on the command line: --covariates "
            "or --past-covariates), or clear them from the settings."
        )
    if covariates is None and series is not None:  # calendar features only
        data = as_series(series)
        covariates = Covariates(pd.DataFrame(index=pd.RangeIndex(len(data))), data.time,
                                len(data), calendar=calendar_offered(data.freq, data.time))
    return covariates


def horizon_with_covariates(series: Any, config: ForecastConfig,
                            covariates: Covariates | None) -> ForecastConfig:
    """`config` with the horizon the forecast would use: with known-in-advance covariates and
    no horizon set, at most the future rows the file gives (as `resolve_with_covariates`)."""
    if covariates is None or not covariates.known or config.horizon is not None:
        return config
    resolved = resolve_config(series, config.replace(holdout=config.holdout or 1))
    if 0 < covariates.future_rows < resolved.horizon:
        return config.replace(horizon=covariates.future_rows)
    return config


def fit_fold(forecaster: Forecaster, data: SeriesData, origin: int, horizon: int,
             context: JobContext | None = None, covariates: Covariates | None = None) -> Fold:
    """One fold: a fresh copy of `forecaster` fitted on the points before `origin` only,
    forecasting `horizon` points in one go, scored against the truth. `covariates` (for the
    network only) cover the whole series: the fold's fit reads them up to its origin, its
    forecast the known-in-advance ones over the fold's points."""
    train = data.head(origin)
    fresh = forecaster.clone()
    fitted = fresh.fit(train, context=_StopOnly(context), covariates=covariates) \
        if isinstance(fresh, RNNForecaster) else fresh.fit(train)
    forecast = fitted.predict(horizon)
    actual = data.values[origin : origin + horizon]
    scores = metric_functions.score(actual, forecast.mean, train.values, data.season)
    return Fold(origin, data.time[origin : origin + horizon], actual, forecast, scores)


def run_backtest(series: Any, config: ForecastConfig, folds: int,
                 context: JobContext | None = None,
                 covariates: Covariates | None = None) -> BacktestResult:
    """Rolling-origin scores and forecasts of the network and the baselines (see the module).
    `covariates`: the values of the covariates the settings name, read with the series.

    Raises:
        InputError: too few or too many folds for the series; covariates named in the settings
            but not given.
        JobStopped: Stop was pressed before the first fold finished.
    """
    covariates = covariates_for(config, covariates, "the backtest", series)
    data = as_series(series)
    config = resolved_for_backtest(series, horizon_with_covariates(series, config, covariates))
    horizon, season = config.horizon, config.season
    data = dataclasses.replace(data, season=season)
    check_folds(len(data), folds, horizon)
    forecasters = {MODEL: RNNForecaster(config)}
    forecasters.update({baseline.name: baseline for baseline in make_baselines(season)})
    runs = {name: Backtest(name, horizon, []) for name in forecasters}
    frames, stopped = [], False
    if context is not None:
        context.set_total(folds)
    for index, origin in enumerate(fold_origins(len(data), folds, horizon), start=1):
        if context is not None:
            context.say(f"Fold {index} of {folds}: fitting on the {origin} points before "
                        f"{_time_text(data.time[origin])}...")
        done = {name: fit_fold(forecaster, data, origin, horizon, context,
                               covariates if name == MODEL else None)
                for name, forecaster in forecasters.items()}
        if context is not None and context.should_stop():
            stopped = True  # this fold's network stopped part-way: it is not kept
            break
        for name, fold in done.items():
            runs[name].folds.append(fold)
        frame = pd.DataFrame({"fold": index, "time": done[MODEL].time, "actual": done[MODEL].actual})
        for name, fold in done.items():
            frame[name] = fold.forecast.mean
        frames.append(frame)
        if context is not None:
            context.report({"epoch": index, "origin": origin,
                            **{f"mase_{name}": fold.scores["mase"] for name, fold in done.items()}})
    if not frames:
        raise JobStopped("Stopped before the first fold finished; nothing was scored.")
    fold_rows = [{
        "origin": fold.origin,
        "train_points": fold.origin,
        "start": _time_text(fold.time[0]),
        "end": _time_text(fold.time[-1]),
        "scores": {name: run.folds[index].scores for name, run in runs.items()},
    } for index, fold in enumerate(runs[MODEL].folds)]
    means = {name: run.mean_scores() for name, run in runs.items()}
    best = best_forecaster({"model": means[MODEL],
                            "baselines": {k: v for k, v in means.items() if k != MODEL}})
    report = _json_safe({
        "folds": fold_rows,
        "mean": means,
        "best": best,
        "horizon": horizon,
        "season": season,
        "stride": horizon,
        "model": forecasters[MODEL].label,
        "covariates": covariates.describe() if covariates is not None else "",
        "config": config.to_dict(),
    })
    if stopped:
        report["stopped"] = True
    return BacktestResult(report, pd.concat(frames, ignore_index=True), stopped)


def backtest_task(payload: dict, context: JobContext) -> BacktestResult:
    """Job task: payload = {"series": Series, "config": ForecastConfig.to_dict(), "folds": K},
    and "covariates" (`Covariates` read with the series) when the settings name some."""
    config = ForecastConfig.from_dict(payload["config"])
    return run_backtest(payload["series"], config, int(payload["folds"]), context,
                        payload.get("covariates"))


def mase_range(report: dict, name: str = MODEL) -> tuple[float, float] | None:
    """The lowest and highest fold MASE of `name` (None when no fold has one)."""
    values = [fold["scores"][name]["mase"] for fold in report["folds"]]
    values = [value for value in values if value is not None and math.isfinite(value)]
    return (min(values), max(values)) if values else None


def fold_winners(report: dict) -> list[str]:
    """The forecaster with the lowest MASE in each fold (by name; MAE where MASE is missing)."""
    winners = []
    for fold in report["folds"]:
        scores = fold["scores"]
        key = "mase" if all(s["mase"] is not None for s in scores.values()) else "mae"
        finite = {name: s[key] for name, s in scores.items() if s[key] is not None}
        winners.append(min(finite, key=finite.get) if finite else MODEL)
    return winners


def _time_text(value) -> str:
    """A time as the CSV files write it: '2004-05-01' for a midnight, else ISO with the hour."""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)
