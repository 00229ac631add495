"""Hyperparameter search with Optuna: settings that forecast the training part best.

`tune(series, config, settings)` tries up to `settings.trials` settings (or as many as fit in
`settings.minutes`), each a copy of `config` with the searched settings (`settings.search`:
cell, units, layers, window, learning rate, dropout, batch size, strategy) drawn by Optuna's TPE
sampler. A candidate is scored by rolling-origin validation on the TRAINING part only: the last
`holdout` points (decided as the forecast decides them) are cut off before anything else, and
`settings.folds` origins one horizon apart are placed inside what is left. At each origin the
forecaster is fitted on the points before it and forecasts one horizon; the score is the mean
MASE over the folds. The holdout stays unseen, so the forecast's own holdout score remains an
honest check of the settings found.

Trials are kept cheap (`settings.epochs`, default 15, no second fit on all the data, one
network) and score the network's own forecasts (not its mix with the classical methods, which
these settings do not change): the search ranks settings, it does not train the final model. A trial whose
validation loss is worse than the median of earlier trials at the same epoch is pruned (stopped)
by `PruneBadTrial`, a Keras callback that reports each epoch's validation loss to Optuna.

With covariates (the settings name them; their values come with the series), every fold's fit
reads them as the forecast's holdout does: known-in-advance values over the fold's forecast
points from the file, past-only ones up to the fold's origin.

The first trial is the settings given (where they lie inside the searched ranges), so the best
found is never worse on validation than what the user had. As a job, each finished trial is one
progress entry, and Stop keeps the best trial so far.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from core import metrics as metric_functions
from core.cells import cell_keys, cell_names
from core.config import ForecastConfig
from core.errors import InputError, JobStopped, RNNLabError, TrainingError
from core.forecast.backtest import covariates_for, fold_origins, horizon_with_covariates
from core.forecast.base import SeriesData, as_series
from core.forecast.covariates import Covariates
from core.forecast.rnn import RNNForecaster, plan_for
from core.forecasting import resolve_config
from core.jobs import JobContext

TASK = "core.forecast.tuning:tuning_task"

# The part of ForecastConfig.RANGES each number is searched in: the full ranges hold settings a
# few-epoch trial cannot judge (512 units, a learning rate of 1) and that make trials slow.
# `search_range` intersects them with RANGES, so a narrower config range always wins.
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "units": (8, 128),
    "num_layers": (1, 3),
    "window": (4, 72),
    "learning_rate": (1e-4, 3e-2),
    "dropout": (0.0, 0.5),
    "batch_size": (8, 128),
}
LOG_SCALE = ("units", "learning_rate", "batch_size")  # searched evenly in their logarithm
CHOICE_SETTINGS = ("cell", "strategy")
SEARCHABLE = ("cell", "units", "num_layers", "window", "learning_rate", "dropout", "batch_size",
              "strategy")
DEFAULT_SEARCH = ("cell", "units", "window", "learning_rate", "dropout")
WORDS = {
    "cell": "cell", "units": "units per layer", "num_layers": "layers",
    "window": "lookback window", "learning_rate": "learning rate", "dropout": "dropout",
    "batch_size": "batch size", "strategy": "forecast strategy",
}
LIMITS = {"trials": (1, 500), "minutes": (0.1, 24 * 60), "folds": (1, 5), "epochs": (1, 500),
          "patience": (1, 100)}


def search_range(name: str) -> tuple[float, float]:
    """The range a number setting is searched in: NUMBER_RANGES inside ForecastConfig.RANGES."""
    low, high = NUMBER_RANGES[name]
    config_low, config_high = ForecastConfig.RANGES[name]
    return max(low, config_low), min(high, config_high)


def choices(name: str) -> tuple[str, ...]:
    """The values a choice setting is searched among (for the cell: every registered cell)."""
    return tuple(cell_keys()) if name == "cell" else ForecastConfig.choices(name)


@dataclasses.dataclass(frozen=True)
class TuningSettings:
    """The search's budget and what it searches. `trials` or `minutes` (or both) must be given:
    the search ends at whichever comes first."""

    trials: int | None = 10
    minutes: float | None = None
    search: tuple[str, ...] = DEFAULT_SEARCH
    folds: int = 2  # validation origins inside the training part
    epochs: int = 15  # at most, per trial fit
    patience: int = 3  # early stopping inside a trial fit
    seed: int = 0  # the sampler's

    def __post_init__(self) -> None:
        search = tuple(dict.fromkeys(str(name).strip() for name in self.search if str(name).strip()))
        object.__setattr__(self, "search", search)
        unknown = [name for name in search if name not in SEARCHABLE]
        if unknown:
            raise InputError(
                f"Unknown setting(s) to search: {', '.join(unknown)}. Choose among "
                f"{', '.join(SEARCHABLE)}."
            )
        if not search:
            raise InputError(f"Say which settings to search: some of {', '.join(SEARCHABLE)}.")
        if self.trials is None and self.minutes is None:
            raise InputError("Give the search a budget: a number of trials, minutes, or both.")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if value is not None and not low <= value <= high:
                raise InputError(f"The {name} must be {low:g} to {high:g}; received {value:g}.")

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "search": list(self.search)}


@dataclasses.dataclass
class TuningResult:
    """Every trial and the best settings. Picklable: no Keras, no Optuna objects."""

    trials: list[dict]  # one row per trial: trial, state, score, seconds, epochs, settings...
    best: dict | None  # the best complete trial's row
    config: ForecastConfig  # the settings given, with the best trial's settings applied
    settings: TuningSettings
    holdout: int
    horizon: int
    season: int
    origins: list[int]  # each validation fold's first forecast point (inside the training part)
    train_points: int
    seconds: float
    stopped: bool = False
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def best_settings(self) -> dict[str, Any]:
        return {name: self.best[name] for name in self.settings.search} if self.best else {}

    def to_json(self) -> dict:
        """tuning.json: the budget, how candidates were scored, every trial and the best."""
        from core.forecasting import _json_safe

        return _json_safe({
            "settings": self.settings.to_dict(),
            "scored_on": {
                "measure": "mean MASE over the validation folds (lower is better)",
                "train_points": self.train_points,
                "holdout": self.holdout,
                "holdout_used": False,
                "horizon": self.horizon,
                "season": self.season,
                "fold_origins": self.origins,
            },
            "trials": self.trials,
            "best": self.best,
            "best_settings": self.best_settings,
            "config": self.config.to_dict(),
            "seconds": self.seconds,
            "stopped": self.stopped,
            "notes": self.notes,
        })


def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def pruning_callback(trial, offset: int = 0):
    """A Keras callback that reports each epoch's validation loss to an Optuna trial (as step
    `offset + epoch`) and ends the trial, by raising `optuna.TrialPruned`, when the study's
    pruner says it is worse than earlier trials were at that step."""
    import keras

    optuna = _optuna()

    class PruneBadTrial(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.pruned_at: int | None = None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get("val_loss")
            if value is None or not math.isfinite(float(value)):
                return
            step = offset + int(epoch)
            trial.report(float(value), step)
            if trial.should_prune():
                self.pruned_at = step
                if self.model is not None:
                    self.model.stop_training = True
                raise optuna.TrialPruned(
                    f"validation loss {float(value):.4g} at epoch {epoch + 1} is worse than "
                    "earlier trials'")

    return PruneBadTrial()


class _TrialContext:
    """The job context of the fits inside a trial: the epoch logs go to the pruning callback
    (the forecaster's own Keras callback hands them over each epoch), Stop is the job's."""

    def __init__(self, context: JobContext | None, callback):
        self._context = context
        self._callback = callback
        self.epochs = 0

    def set_total(self, epochs: int) -> None:
        pass

    def say(self, message: str) -> None:
        pass

    def report(self, logs: dict) -> None:
        self.epochs += 1
        self._callback.on_epoch_end(int(logs.get("epoch", 1)) - 1, logs)

    def should_stop(self) -> bool:
        return self._context is not None and self._context.should_stop()


def max_window(values: np.ndarray, config: ForecastConfig, freq: str | None, season: int) -> int:
    """The longest window the network can be fitted with on `values` (0: none)."""
    low, high = ForecastConfig.RANGES["window"]
    low, high = int(low), int(min(high, values.size))
    if plan_for(values, config.replace(window=low), freq, season) is None:
        return 0
    while low < high:  # plan_for succeeds up to some window, and fails from the next one on
        middle = (low + high + 1) // 2
        if plan_for(values, config.replace(window=middle), freq, season) is None:
            high = middle - 1
        else:
            low = middle
    return low


def suggest(trial, search: tuple[str, ...], ranges: dict[str, tuple[float, float]]) -> dict:
    """The settings one trial tries: a choice or a number (log-scaled where it says) per name."""
    params: dict[str, Any] = {}
    for name in search:
        if name in CHOICE_SETTINGS:
            params[name] = trial.suggest_categorical(name, list(choices(name)))
        elif name == "dropout":  # in the page's steps of 0.05
            low, high = ranges[name]
            params[name] = round(trial.suggest_float(name, low, high, step=0.05), 2)
        elif isinstance(ForecastConfig.__dataclass_fields__[name].default, float):
            low, high = ranges[name]
            value = trial.suggest_float(name, low, high, log=name in LOG_SCALE)
            params[name] = float(f"{value:.3g}")  # 0.00121, not 0.0012132675491046139
        else:
            low, high = ranges[name]
            params[name] = trial.suggest_int(name, int(low), int(high), log=name in LOG_SCALE)
    return params


def _starting_point(config: ForecastConfig, search: tuple[str, ...],
                    ranges: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """The given settings that lie inside the searched ranges (tried first)."""
    point = {}
    for name in search:
        value = getattr(config, name)
        if name in CHOICE_SETTINGS:
            if value in choices(name):
                point[name] = value
        elif value is not None and ranges[name][0] <= value <= ranges[name][1]:
            point[name] = value
    return point


def _fold_score(config: ForecastConfig, train: SeriesData, origin: int, horizon: int,
                context: _TrialContext, covariates: Covariates | None = None) -> float:
    """MASE of one validation fold: fitted on the points before `origin`, one horizon ahead."""
    forecaster = RNNForecaster(config).fit(train.head(origin), context=context,
                                           covariates=covariates)
    forecast = forecaster.predict(horizon)
    actual = train.values[origin : origin + horizon]
    return metric_functions.mase(actual, forecast.mean, train.values[:origin], train.season)


def tune(series: Any, config: ForecastConfig, settings: TuningSettings,
         context: JobContext | None = None, covariates: Covariates | None = None
         ) -> TuningResult:
    """Search `settings.search` for the settings whose forecasts of the training part score
    best (see the module). `covariates`: the values of the covariates the settings name, read
    with the series.

    Raises:
        InputError: the training part is too short for the validation folds; covariates named
            in the settings but not given.
        JobStopped: Stop was pressed before the first trial finished.
    """
    optuna = _optuna()
    started = time.perf_counter()
    covariates = covariates_for(config, covariates, "the search", series)
    data = as_series(series)
    resolved = resolve_config(series, horizon_with_covariates(series, config, covariates))
    holdout, horizon, season = resolved.holdout, resolved.horizon, resolved.season
    # The holdout is cut off here, before anything else sees the series.
    train = dataclasses.replace(data.head(len(data) - holdout), season=season)
    origins = fold_origins(len(train), settings.folds, horizon)
    # Candidates are scored on the network's own forecasts: the classical members of the mix do
    # not depend on the settings searched, and would only dilute the differences (to a quarter).
    # A trial never trains longer than the model itself would.
    base = config.replace(horizon=horizon, season=season,
                          epochs=min(settings.epochs, config.epochs),
                          patience=settings.patience, refit=False, ensemble=1, combine="network")
    shortest = train.values[: origins[0]]
    if origins[0] < 4 or plan_for(shortest, base.replace(window=None), train.freq, season) is None:
        raise InputError(
            f"The training part ({len(train)} points, after the holdout of {holdout}) is too "
            f"short for {settings.folds} validation fold(s) of {horizon} steps with a network "
            "before them. Use fewer folds, a shorter horizon or holdout, or a longer series."
        )
    if "window" not in settings.search and plan_for(shortest, base, train.freq, season) is None:
        raise InputError(
            f"The window of {config.window} is too long for the first validation fold's "
            f"{origins[0]} training points. Leave the window automatic, or search it too."
        )
    ranges = {name: search_range(name) for name in settings.search if name not in CHOICE_SETTINGS}
    notes = []
    search = settings.search
    if "window" in ranges:
        longest = max_window(shortest, base.replace(window=None), train.freq, season)
        low, high = ranges["window"]
        if longest < low:
            search = tuple(name for name in search if name != "window")
            notes.append(f"The window was not searched: the first fold's training part allows "
                         f"at most {longest} points.")
        elif longest < high:
            ranges["window"] = (low, longest)
            notes.append(f"Windows searched from {low:g} to {longest} points (the most the "
                         "first fold's training part allows).")
    if not search:
        raise InputError("Nothing is left to search on this series: choose other settings.")

    trials_budget = settings.trials
    sampler = optuna.samplers.TPESampler(
        seed=settings.seed, n_startup_trials=max(2, min(10, (trials_budget or 12) // 3)))
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)
    study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)
    start = _starting_point(config, search, ranges)
    if start:
        study.enqueue_trial(start)
    rows: list[dict] = []
    if context is not None:
        context.set_total(trials_budget or 0)
        context.say("Trying the settings given first...")

    def objective(trial) -> float:
        params = suggest(trial, search, ranges)
        trial.set_user_attr("settings", params)  # as tried: rounded as the page shows them
        candidate = base.replace(**params)
        scores = []
        epochs = 0
        for index, origin in enumerate(origins):
            callback = pruning_callback(trial, offset=index * settings.epochs)
            fit_context = _TrialContext(context, callback)
            try:
                scores.append(_fold_score(candidate, train, origin, horizon, fit_context,
                                          covariates))
            except TrainingError as error:
                trial.set_user_attr("outcome", "diverged")
                trial.set_user_attr("why", str(error))
                raise optuna.TrialPruned(str(error)) from error
            except JobStopped as error:
                trial.set_user_attr("outcome", "stopped")
                raise optuna.TrialPruned(str(error)) from error
            except RNNLabError as error:
                trial.set_user_attr("outcome", "failed")
                trial.set_user_attr("why", str(error))
                raise optuna.TrialPruned(str(error)) from error
            finally:
                epochs += fit_context.epochs
                trial.set_user_attr("epochs", epochs)
            if fit_context.should_stop():
                trial.set_user_attr("outcome", "stopped")
                raise optuna.TrialPruned("stopped by the user")
        score = float(np.mean(scores))
        if not math.isfinite(score):
            trial.set_user_attr("outcome", "failed")
            trial.set_user_attr("why", "the score is not a number (a constant training part?)")
            raise optuna.TrialPruned("no finite score")
        trial.set_user_attr("fold_scores", [float(value) for value in scores])
        return score

    def after_trial(study, frozen) -> None:
        rows.append(_row(frozen, search))
        complete = [row for row in rows if row["state"] == "complete"]
        best = min((row["score"] for row in complete), default=None)
        rows[-1]["best"] = best
        if context is not None:
            context.report({"epoch": len(rows), **rows[-1]})
            if context.should_stop():
                study.stop()
            else:
                context.say(f"{len(rows)} trial(s) done; best mean MASE so far "
                            f"{'none yet' if best is None else format(best, '.3f')}.")

    study.optimize(objective, n_trials=trials_budget,
                   timeout=settings.minutes * 60 if settings.minutes else None,
                   callbacks=[after_trial], catch=())
    stopped = context is not None and context.should_stop()
    complete = [row for row in rows if row["state"] == "complete"]
    if not complete and stopped:
        raise JobStopped("Stopped before the first trial finished; no settings were scored.")
    best = min(complete, key=lambda row: row["score"]) if complete else None
    if best is None:
        notes.append("No trial finished with a score (each was pruned or failed): the "
                     "settings given are kept.")
    chosen = {name: best[name] for name in search} if best else {}
    return TuningResult(
        trials=rows, best=best, config=config.replace(**chosen),
        settings=dataclasses.replace(settings, search=search), holdout=holdout,
        horizon=horizon, season=season, origins=origins, train_points=len(train),
        seconds=time.perf_counter() - started, stopped=stopped, notes=notes,
    )


def _row(frozen, search: tuple[str, ...]) -> dict:
    """One trial as a table row: number (from 1), state, score, seconds, epochs, settings."""
    state = frozen.user_attrs.get("outcome") or frozen.state.name.lower()
    seconds = (frozen.datetime_complete - frozen.datetime_start).total_seconds() \
        if frozen.datetime_complete and frozen.datetime_start else None
    row = {
        "trial": frozen.number + 1,
        "state": state,
        "score": float(frozen.value) if state == "complete" and frozen.value is not None else None,
        "fold_scores": frozen.user_attrs.get("fold_scores"),
        "seconds": round(seconds, 2) if seconds is not None else None,
        "epochs": frozen.user_attrs.get("epochs", 0),
        "why": frozen.user_attrs.get("why", ""),
    }
    settings = frozen.user_attrs.get("settings") or frozen.params
    row.update({name: settings.get(name) for name in search})
    return row


def tuning_task(payload: dict, context: JobContext) -> TuningResult:
    """Job task: payload = {"series": Series, "config": ForecastConfig.to_dict(),
    "settings": TuningSettings fields}, and "covariates" (`Covariates` read with the series)
    when the settings name some."""
    config = ForecastConfig.from_dict(payload["config"])
    fields = dict(payload["settings"])
    fields["search"] = tuple(fields.get("search") or DEFAULT_SEARCH)
    return tune(payload["series"], config, TuningSettings(**fields), context,
                payload.get("covariates"))


def describe_settings(row: dict, search: tuple[str, ...]) -> str:
    """A trial's settings in words: 'cell GRU, units per layer 32, learning rate 0.003'."""
    parts = []
    for name in search:
        value = row.get(name)
        if value is None:
            continue
        if name == "cell":
            value = cell_names().get(value, value)
        elif isinstance(value, float):
            value = f"{value:.3g}"
        parts.append(f"{WORDS[name]} {value}")
    return ", ".join(parts)
