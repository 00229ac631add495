"""A forecast as the page and the command line run it: holdout, scores, verdict, future.

`forecast_task` (the job a worker runs) is a thin wrapper over the forecaster objects of
`core.forecast`:

1. `resolve_config` fills the automatic settings (season, horizon, holdout, window, transform)
   from the series' frequency and length, deciding on the training part only.
2. The last `holdout` points are set aside. `RNNForecaster(config).fit(train)` learns (with its
   own validation block at the end of the training part), then forecasts the whole holdout in
   one multi-step forecast: no holdout value is ever seen.
3. The baselines (naive, seasonal naive, drift, AutoETS, AutoTheta, AutoARIMA) fit the same
   training part and forecast the same holdout; everything is scored with the same metrics.
   (AutoETS, AutoTheta and AutoARIMA read at most the last
   `core.forecast.baselines.RECENT_POINTS` points, so a long series costs them a bounded time.)
4. Every forecaster then forecasts the future from the end of the data (the network without
   refitting; the baselines refitted on all the data), so whichever won can be used.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import metrics as metric_functions
from core.cells import get_cell
from core.config import ForecastConfig
from core.errors import ConfigError, InputError
from core.forecast.base import as_series
from core.forecast.baselines import label_of, make_baselines
from core.forecast.rnn import (
    DEFAULT_HORIZONS,
    RNNForecaster,
    classical_label,
    default_window,
    frequency_kind,
    mix_label,
    plan_for,
)
from core.jobs import JobContext, JobManager, run_inline
from core.limits import check_points

TASK = "core.forecasting:forecast_task"

# A forecast whose mean distance from the last value is below this share of the training part's
# typical one-step change is "the last value carried forward".
COPY_THRESHOLD = 0.25
# Fewer training points than this and no method can be fitted or checked honestly.
MIN_TRAINING_POINTS = 4

__all__ = ["DEFAULT_HORIZONS", "default_window", "frequency_kind"]


class SeriesTooShortError(InputError):
    """The series cannot hold the window, horizon and holdout asked for."""


def _label(name: str, config: ForecastConfig) -> str:
    return get_cell(config.cell).name if name == "model" else label_of(name)


# ---------------------------------------------------------------------------------------------
# Settings derived from the data


def resolve_config(series: Any, config: ForecastConfig) -> ForecastConfig:
    """`config` with every automatic (None / 'auto') setting decided from the series.

    Automatic values shrink to fit a short series; settings the user chose are kept and checked.
    A series too short for a network (but not for the classical methods) resolves fine: the
    forecaster then says it used the classical methods instead.

    Raises:
        TooManyPointsError: the series is longer than the server's limit (`core.limits`).
        SeriesTooShortError: the series is too short for any method with this holdout, or for the
            window the user chose; the message gives the lengths and what to change.
        ConfigError: the season or the transform does not fit the series.
    """
    values = np.asarray(series.values, dtype="float64")
    length = values.size
    check_points(length)
    freq = getattr(series, "freq", None)
    kind = frequency_kind(freq)
    season = config.season or int(getattr(series, "season", 1) or 1)
    if season >= length // 2:
        if config.season:
            raise ConfigError(
                f"The season ({season}) must be shorter than half the series ({length} points). "
                "Use a smaller season, or 1 for no seasonality."
            )
        season = 1
    horizon = config.horizon or DEFAULT_HORIZONS[kind]
    if config.horizon is None and kind == "unknown" and season > 1:
        horizon = season
    if config.horizon is None:
        horizon = max(1, min(horizon, length // 3))
    holdout = config.holdout or horizon
    if config.holdout is None:
        holdout = max(1, min(holdout, (length - MIN_TRAINING_POINTS) // 2))
    train_length = length - holdout
    if train_length < MIN_TRAINING_POINTS:
        raise SeriesTooShortError(
            f"The series has {length} points; a holdout of {holdout} leaves {train_length} to "
            f"learn from, and every method needs at least {MIN_TRAINING_POINTS}. Use a shorter "
            "holdout or a longer series."
        )
    train = values[:train_length]
    if config.transform in ("log", "log_difference") and np.any(train <= 0):
        raise ConfigError(
            f"The transform '{config.transform}' needs every value above 0, but the series' "
            f"smallest value is {train.min():g}. Choose 'none' or 'difference'."
        )
    resolved = config.replace(season=season, horizon=horizon, holdout=holdout)
    plan = plan_for(train, resolved, freq, season)
    if plan is None:
        if config.window is not None:
            raise SeriesTooShortError(
                f"The training part has {train_length} points: too few for a window of "
                f"{config.window} and enough training windows. Leave the window empty "
                "(automatic) or use a shorter one."
            )
        # No network fits: the forecaster will say it used the classical methods.
        window = config.window or 2
        transform = "none" if config.transform == "auto" else config.transform
    else:
        window, transform = plan.window, plan.transform
    return resolved.replace(window=window, transform=transform)


# ---------------------------------------------------------------------------------------------
# The result


@dataclasses.dataclass
class ForecastResult:
    """Everything a page or the command line shows after a forecast. Picklable: no Keras inside."""

    config: ForecastConfig  # resolved: rerunning it gives the same forecast
    forecast: pd.DataFrame  # time, actual, forecast, lower/upper 80/95, part
    baselines: pd.DataFrame  # time, part + one column per baseline (holdout and future rows)
    metrics: dict  # {"model": {...}, "network": {...} (when mixed), "baselines": {name: {...}}}
    history: list[dict]  # epoch, loss, val_loss, seconds
    epochs_run: int
    best_epoch: int  # 0 when no epoch beat the anchor and the network was reset to it
    seconds: float
    stopped_by_user: bool
    copies_last_value: bool
    warnings: list[str]
    model_path: str
    preprocessing: dict = dataclasses.field(default_factory=dict)
    choice: str = "network"  # network, hybrid or classical (the network could not be fitted)
    choice_text: str = ""  # one plain line: what was chosen and why
    network: pd.DataFrame | None = None  # time, part, network: the network alone, when mixed
    # With covariates: what they were, and the same model without them on the same holdout
    # ({"used", "with", "without", "helped", "text"}; see `compare_covariates`).
    covariates: dict = dataclasses.field(default_factory=dict)

    @property
    def cell_name(self) -> str:
        return get_cell(self.config.cell).name

    @property
    def model_label(self) -> str:
        """What the model's forecast is: 'GRU', 'GRU + AutoETS + AutoTheta + AutoARIMA', or the
        classical mean when no network could be fitted."""
        if self.choice == "hybrid":
            return mix_label(self.cell_name)
        if self.choice == "classical":
            return f"{classical_label()} (no network: series too short)"
        return self.cell_name

    @property
    def best(self) -> str:
        """'model' or the baseline with the lowest holdout MASE (MAE when MASE is undefined)."""
        return best_forecaster(self.metrics)

    def metrics_json(self) -> dict:
        """The flat metrics.json of the command line (NaN scores become null)."""
        config = self.config
        return _json_safe(
            {
                "cell": config.cell,
                "strategy": config.strategy,
                "window": config.window,
                "horizon": config.horizon,
                "holdout": config.holdout,
                "season": config.season,
                "transform": config.transform,
                "ensemble": config.ensemble,
                "combine": config.combine,
                "choice": self.choice,
                "choice_text": self.choice_text,
                "seconds": self.seconds,
                "epochs_run": self.epochs_run,
                "best_epoch": self.best_epoch,
                "stopped_by_user": self.stopped_by_user,
                "copies_last_value": self.copies_last_value,
                "model": self.metrics["model"],
                "network": self.metrics.get("network", self.metrics["model"]),
                "baselines": self.metrics["baselines"],
                "best": self.best,
                "verdict": verdict(self),
                "warnings": self.warnings,
                "preprocessing": self.preprocessing,
                **({"covariates": self.covariates} if self.covariates else {}),
            }
        )


def best_forecaster(metrics: dict) -> str:
    """The name of the forecaster with the lowest holdout MASE: 'model' or a baseline's."""
    scores = {"model": metrics["model"], **metrics["baselines"]}
    key = "mase" if all(math.isfinite(s["mase"]) for s in scores.values()) else "mae"
    finite = {name: s[key] for name, s in scores.items() if math.isfinite(s[key])}
    return min(finite, key=finite.get) if finite else "model"


def _json_safe(value):
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# ---------------------------------------------------------------------------------------------
# Running a forecast


def forecast_task(payload: dict, context: JobContext) -> ForecastResult:
    """Job task: payload = {"series": Series, "config": ForecastConfig.to_dict()}.

    Tests may add "debug": {"nan_at_epoch": k} (poison the weights so the loss turns NaN) or
    {"autoets": False} (score only the quick baselines).

    Raises:
        InputError, ConfigError: the series or settings do not fit.
        TrainingError: the loss became NaN/inf (the job ends in an error state).
        JobStopped: the user stopped the job before a single epoch finished.
    """
    started = time.perf_counter()
    series = as_series(payload["series"])
    asked = ForecastConfig.from_dict(payload["config"])
    covariates = payload.get("covariates")
    config = resolve_with_covariates(payload["series"], asked, covariates)
    covariates = covariates if uses_covariates(config) else None
    debug = payload.get("debug") or {}
    holdout, horizon, season = config.holdout, config.horizon, config.season
    train = series.head(len(series) - holdout)
    actual = series.values[len(train) :]

    context.say("Preparing windows...")
    forecaster = RNNForecaster(config).fit(train, context=context, debug=debug,
                                           covariates=covariates)
    holdout_forecast = forecaster.predict(holdout)
    future_forecast = forecaster.predict(horizon, series=series)

    context.say("Scoring the baselines...")
    names = ("naive", "seasonal_naive", "drift")
    if debug.get("autoets", True):
        names += ("autoets", "autotheta", "autoarima")
    holdout_time, future_times = series.time[len(train) :], future_forecast.time
    baseline_frame = pd.DataFrame({
        "time": list(holdout_time) + list(future_times),
        "part": ["holdout"] * holdout + ["future"] * horizon,
    })
    baseline_scores = {}
    for baseline in make_baselines(season, names):
        past = baseline.fit(train).predict(holdout).mean
        future = baseline.clone().fit(series).predict(horizon).mean
        baseline_frame[baseline.name] = np.concatenate([past, future])
        baseline_scores[baseline.name] = metric_functions.score(actual, past, train.values, season)
    scores = {
        "model": metric_functions.score(actual, holdout_forecast.mean, train.values, season),
        "baselines": baseline_scores,
    }
    network_frame = None
    if forecaster.choice_ == "hybrid":
        network_past = forecaster.parts(holdout)["network"]
        network_future = forecaster.parts(horizon, series=series)["network"]
        scores["network"] = metric_functions.score(actual, network_past, train.values, season)
        network_frame = pd.DataFrame({"time": baseline_frame["time"], "part": baseline_frame["part"],
                                      "network": np.concatenate([network_past, network_future])})

    frame = pd.concat([_rows(holdout_forecast, actual, "holdout"),
                       _rows(future_forecast, np.full(horizon, np.nan), "future")],
                      ignore_index=True)
    comparison = {}
    if covariates is not None:
        context.say("Training the same model without the covariates, to compare...")
        plain = RNNForecaster(without_covariates(config)).fit(train, debug=debug)
        comparison = compare_covariates(
            forecaster, scores["model"],
            metric_functions.score(actual, plain.predict(holdout).mean, train.values, season),
            plain.describe())
    model_path = Path(context.workdir) / "model.rnnlab"
    forecaster.save(model_path)
    result = ForecastResult(
        config=config,
        forecast=frame,
        baselines=baseline_frame,
        metrics=scores,
        history=forecaster.history_,
        epochs_run=len(forecaster.history_),
        best_epoch=forecaster.best_epoch_,
        seconds=0.0,
        stopped_by_user=forecaster.stopped_by_user_,
        copies_last_value=copies_last_value(frame["forecast"].to_numpy(), series.values, holdout),
        warnings=[],
        model_path=str(model_path),
        preprocessing=forecaster.summary(),
        choice=forecaster.choice_,
        choice_text=forecaster.describe(),
        network=network_frame,
        covariates=comparison,
    )
    result.warnings = _warnings(result)
    result.seconds = time.perf_counter() - started
    return result


def uses_covariates(config: ForecastConfig) -> bool:
    return bool(config.covariates or config.past_covariates or config.calendar)


def without_covariates(config: ForecastConfig) -> ForecastConfig:
    return config.replace(covariates="", past_covariates="", calendar=False)


def resolve_with_covariates(series: Any, config: ForecastConfig, covariates) -> ForecastConfig:
    """`resolve_config`, then checks that the covariates the settings name were read with the
    data and cover the forecast. With known-in-advance covariates and no horizon set, the
    horizon is at most the number of future rows the file gives.

    Raises:
        InputError: covariates named but not read, or too few future rows for the horizon.
    """
    from core.forecast.covariates import check_horizon, split_names

    resolved = resolve_config(series, config)
    if not uses_covariates(config):
        return resolved
    wanted = {"covariates": split_names(config.covariates),
              "past_covariates": split_names(config.past_covariates)}
    have = {"covariates": covariates.known if covariates is not None else (),
            "past_covariates": covariates.past if covariates is not None else ()}
    for field, names in wanted.items():
        missing = [name for name in names if name not in have[field]]
        if missing:
            raise InputError(
                f"The settings use the covariate(s) {', '.join(missing)}, but they were not "
                "read with the data. Choose them again with the data (they must be columns "
                "of the file), or remove them from the settings."
            )
    if covariates is not None and covariates.known and config.horizon is None \
            and 0 < covariates.future_rows < resolved.horizon:
        resolved = resolve_config(series, config.replace(horizon=covariates.future_rows))
    if covariates is not None:
        check_horizon(covariates, len(series), resolved.horizon)
    return resolved


def compare_covariates(forecaster: RNNForecaster, with_scores: dict, without_scores: dict,
                       without_text: str = "") -> dict:
    """Did the covariates help: the model's holdout scores with and without them, in words."""
    used = forecaster.describe_covariates() or "the covariates"
    key = "mase" if math.isfinite(with_scores["mase"]) and math.isfinite(without_scores["mase"]) \
        else "mae"
    with_value, without_value = with_scores[key], without_scores[key]
    change = (with_value - without_value) / without_value * 100 if without_value else math.nan
    name = key.upper()
    if not math.isfinite(change):
        text = (f"With {used} the holdout {name} is {with_value:.3g}; without them "
                f"{without_value:.3g}.")
        helped = bool(with_value < without_value)
    elif abs(change) < 2:
        text = (f"The covariates made no real difference: holdout {name} {with_value:.2f} with "
                f"{used}, {without_value:.2f} without them.")
        helped = False
    elif change < 0:
        text = (f"The covariates helped: with {used} the holdout {name} is {with_value:.2f}, "
                f"{-change:.0f}% lower than the same model without them ({without_value:.2f}).")
        helped = True
    else:
        text = (f"The covariates did not help: with {used} the holdout {name} is "
                f"{with_value:.2f}, {change:.0f}% higher than the same model without them "
                f"({without_value:.2f}); consider leaving them out.")
        helped = False
    return {"used": used, "metric": key, "with": with_scores, "without": without_scores,
            "helped": helped, "change_percent": change, "text": text,
            "without_choice": without_text}


def _rows(forecast, actual, part: str) -> pd.DataFrame:
    frame = forecast.to_frame()
    frame.insert(1, "actual", np.asarray(actual, dtype="float64")[: len(frame)])
    frame["part"] = part
    return frame


def copies_last_value(forecast, values, holdout: int) -> bool:
    """True when the forecast barely moves away from the last known value.

    Compares the holdout forecast with the training part's last value, and the future forecast
    with the data's last value, against the training part's typical one-step change.
    """
    forecast = np.asarray(forecast, dtype="float64")
    values = np.asarray(values, dtype="float64")
    train = values[: values.size - holdout]
    typical_change = float(np.mean(np.abs(np.diff(train)))) if train.size > 1 else 0.0
    if typical_change == 0:
        return False
    holdout_gap = np.mean(np.abs(forecast[:holdout] - train[-1]))
    future_gap = np.mean(np.abs(forecast[holdout:] - values[-1])) if forecast.size > holdout else 0
    return bool(max(holdout_gap, future_gap) < COPY_THRESHOLD * typical_change)


def _best_baseline(result: ForecastResult) -> tuple[str, float]:
    scores = {name: s["mase"] for name, s in result.metrics["baselines"].items()
              if math.isfinite(s["mase"])}
    if not scores:
        return "", math.nan
    name = min(scores, key=scores.get)
    return name, scores[name]


def verdict(result: ForecastResult) -> str:
    """One plain sentence: which forecast did best on the holdout, and by how much."""
    model_label = result.model_label
    model = result.metrics["model"]["mase"]
    name, best = _best_baseline(result)
    if not name or not math.isfinite(model):
        mae = result.metrics["model"]["mae"]
        return (f"{model_label}'s mean absolute error on the holdout is {mae:.4g} (MASE cannot be "
                "computed: the training part does not vary).")
    label = label_of(name)
    if best < 1e-6:
        return (f"{label} forecast the holdout almost exactly (MASE {best:.2g}); "
                f"{model_label}'s MASE is {model:.2f}: use {label}'s forecast here.")
    change = (model - best) / best * 100
    ets = result.metrics["baselines"].get("autoets", {}).get("mase", math.nan)
    against_ets = ""
    if name != "autoets" and math.isfinite(ets):
        against_ets = (f" It {'beat' if model < ets else 'did not beat'} AutoETS "
                       f"(MASE {ets:.2f}).")
    if abs(change) < 1:
        return (f"{model_label}'s error (MASE {model:.2f}) is about the same as {label}'s, the "
                f"best baseline.{against_ets}")
    if model < best:
        return (f"{model_label}'s error (MASE {model:.2f}) is {abs(change):.0f}% lower than "
                f"{label}'s ({best:.2f}), the best baseline: use this model's forecast."
                f"{against_ets}")
    return (f"{model_label}'s error (MASE {model:.2f}) is {change:.0f}% higher than {label}'s "
            f"({best:.2f}), the best baseline: use {label}'s forecast here (it is in the "
            f"download and on the chart).{against_ets}")


def covariates_verdict(result: ForecastResult) -> str:
    """One plain sentence on whether the covariates helped ('' without covariates)."""
    return result.covariates.get("text", "") if result.covariates else ""


def _warnings(result: ForecastResult) -> list[str]:
    warnings = []
    cell = result.cell_name
    if result.choice == "classical":
        warnings.append(result.choice_text)
    if result.copies_last_value:
        warnings.append(
            "The forecast is little more than the last value carried forward: no pattern was "
            "found that could be trusted. Check that the series has one (trend, season), or try "
            "a longer window."
        )
    if result.stopped_by_user:
        warnings.append(
            f"Training was stopped by hand after {result.epochs_run} epochs; the forecast uses "
            "the best weights reached by then."
        )
    if result.choice != "classical" and result.preprocessing.get("kept_anchor"):
        warnings.append(
            f"No epoch of {cell} beat its starting point (a seasonal or last-value forecast) on "
            "the validation points, so the network's part of the forecast is that starting "
            "point. Try more data, a longer window or another cell."
        )
    windows = result.preprocessing.get("training_windows")
    if windows is not None and windows < 30 and result.choice != "classical":
        warnings.append(
            f"Only {windows} training windows fit in this series: the network has little to "
            "learn from, so treat its forecast with care."
        )
    return warnings


def run_forecast(series: Any, config: ForecastConfig, context: JobContext | None = None,
                 covariates=None) -> ForecastResult:
    """Run a forecast in this process (command line, tests); errors propagate as raised.
    `covariates`: the `core.forecast.covariates.Covariates` the settings name, read with the
    series."""
    payload = {"series": series, "config": config.to_dict()}
    if covariates is not None:
        payload["covariates"] = covariates
    return run_inline(forecast_task, payload, context)


def start_forecast(manager: JobManager, series: Any, config: ForecastConfig, owner: str = "",
                   covariates=None):
    """Submit a forecast job; the settings are checked against the series here first, so that a
    mistake is reported at once rather than by a failed job."""
    resolve_with_covariates(series, config, covariates)
    payload = {"series": series, "config": config.to_dict()}
    if covariates is not None:
        payload["covariates"] = covariates
    return manager.submit(TASK, payload, owner=owner)


# ---------------------------------------------------------------------------------------------
# A saved model forecasting new data

SAVED_TASK = "core.forecasting:saved_model_task"


@dataclasses.dataclass
class SavedForecast:
    """What a saved model forecast from the end of the user's data (no training)."""

    forecast: pd.DataFrame  # time, forecast, lower/upper 80/95
    label: str  # what the model is ("GRU + AutoETS + AutoTheta + AutoARIMA")
    trained_on: dict  # name, freq, points, start, end of the data it learnt from
    created: str  # when the file was saved (ISO, UTC)
    seconds: float = 0.0


def forecast_with_saved_model(model_source: Any, series: Any, horizon: int | None = None,
                              covariates=None) -> SavedForecast:
    """Forecast `horizon` steps (default: the model's) after the end of `series` with a model
    file, without training; the series must have the frequency the model learnt. A model
    trained with covariates needs them (`covariates`, read from the same file by the names
    `saved_model_covariates` gives); without them it is refused in plain words.

    Raises:
        ModelFileError: the file is refused (not ours, tampered, another kind).
        InputError: the series' frequency differs from the model's, or it is too short.
    """
    from core.modelfile import ModelFileError

    started = time.perf_counter()
    try:
        forecaster = RNNForecaster.load(model_source)
    except ModelFileError:
        if model_file_kind(model_source) == "forecast_many":
            raise InputError(ALL_SERIES_FILE) from None
        raise
    data = as_series(series)
    trained = forecaster.data_
    if frequency_kind(trained.freq) != frequency_kind(data.freq):
        raise InputError(
            f"This model learnt a series with frequency '{trained.freq or 'none'}', but this "
            f"series' frequency is '{data.freq or 'none'}'. Use data of the same frequency, or "
            "train a new model on this series."
        )
    if covariates is not None and covariates.known and horizon is None \
            and 0 < covariates.future_rows < forecaster.horizon_:
        horizon = covariates.future_rows
    forecast = forecaster.predict(horizon, series=data, covariates=covariates)
    label = {"hybrid": mix_label(forecaster.label),
             "classical": classical_label()}.get(forecaster.choice_, forecaster.label)
    return SavedForecast(
        forecast=forecast.to_frame(),
        label=label,
        trained_on={"name": trained.name, "freq": trained.freq, "points": len(trained),
                    "start": trained.time[0], "end": trained.time[-1]},
        created=forecaster.created_,
        seconds=time.perf_counter() - started,
    )


# What a model file of the other kind is told, on the page and in the job (the command line's
# `predict` reads either kind).
ALL_SERIES_FILE = (
    "This model file forecasts every series of a file (it was saved with \"Forecast all "
    "series\" on), not one series. Switch \"Forecast all series\" on in step 1 (it is offered "
    "for a file of several series) and load the file in that mode's saved-model step."
)
ONE_SERIES_FILE = (
    "This model file forecasts one series (it was saved with \"Forecast all series\" off), "
    "not every series of a file. Switch \"Forecast all series\" off and choose the series it "
    "learnt, or load a file saved after training on all series."
)


def model_file_kind(model_source: Any) -> str | None:
    """The kind a model file says it is ("forecast", "forecast_many", ...); None when the file
    is refused (not ours, tampered: the loader that needs it says why)."""
    from core.modelfile import ModelFileError, load_model_file

    try:
        return load_model_file(model_source).kind
    except ModelFileError:
        return None


def saved_model_task(payload: dict, context: JobContext) -> SavedForecast:
    """Job task: payload = {"model": bytes of a .rnnlab file, "series": Series, "horizon": int|None}."""
    context.say("Checking the model file and forecasting...")
    return forecast_with_saved_model(payload["model"], payload["series"], payload.get("horizon"),
                                     payload.get("covariates"))


def saved_model_covariates(model_source: Any) -> dict:
    """The covariates a model file was trained with: {"known": [...], "past": [...],
    "calendar": bool} (empty lists and False for a model without).

    Raises:
        ModelFileError: the file is refused.
    """
    from core.modelfile import load_model_file

    description = load_model_file(model_source, kind="forecast").description
    found = description.get("covariates") or {}
    if not isinstance(found, dict):
        found = {}
    return {"known": [str(name) for name in found.get("known") or []],
            "past": [str(name) for name in found.get("past") or []],
            "calendar": bool(found.get("calendar"))}
