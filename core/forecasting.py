"""Forecasting a series with SimpleRNN, LSTM or GRU, scored honestly against baselines.

The flow of one forecast (`run_forecast`, or `forecast_task` inside a job worker):

1. `resolve_config` fills the automatic settings (season, horizon, holdout, window, transform)
   from the series' frequency and length, deciding the transform on the training part only.
2. The last `holdout` points are set aside: never used to fit, validate or scale.
3. The training part becomes windows (`core.preprocessing`); the last fifth of them validate
   (early stopping, and the residuals that calibrate the prediction intervals).
4. `ensemble` networks side by side in one model are fitted through `core.training.fit` (live
   logs, stop flag, best weights, NaN -> error); the forecast is their average.
5. One multi-step forecast from the end of the training part covers the whole holdout (no true
   holdout value is fed back), then one from the end of the data covers the future horizon.
6. Naive, seasonal-naive, drift and AutoETS forecasts of the same holdout are scored with the
   same metrics, and the result says in plain words whether the network was worth it.
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
from core.baselines import make_baselines
from core.config import CELL_NAMES, ForecastConfig
from core.errors import ConfigError, InputError, JobStopped
from core.intervals import LEVELS, conformal_widths, extend_widths
from core.jobs import JobContext, JobManager, run_inline
from core.preprocessing import (
    ValueTransform,
    WindowEncoder,
    choose_anchor,
    choose_transform,
    make_windows,
)

TASK = "core.forecasting:forecast_task"

# Training windows a model needs at least (validation included) for a fit worth the name.
MIN_WINDOWS = 12
VALIDATION_SHARE = 0.2
BASELINE_NAMES = {
    "naive": "naive",
    "seasonal_naive": "seasonal naive",
    "drift": "drift",
    "autoets": "AutoETS",
}
# A forecast whose mean distance from the last value is below this share of the training part's
# typical one-step change is "the last value carried forward".
COPY_THRESHOLD = 0.25


class SeriesTooShortError(InputError):
    """The series cannot hold the window, horizon and holdout asked for."""


# ---------------------------------------------------------------------------------------------
# Settings derived from the data


def frequency_kind(freq: str | None) -> str:
    """'yearly', 'quarterly', 'monthly', 'weekly', 'daily', 'hourly', 'subhourly' or 'unknown'."""
    if not freq:
        return "unknown"
    try:
        code = pd.tseries.frequencies.to_offset(freq).rule_code
    except ValueError:
        return "unknown"
    code = code.split("-")[0].lstrip("0123456789")
    if code.startswith(("Y", "A", "BY", "BA")):
        return "yearly"
    if code.startswith(("Q", "BQ")):
        return "quarterly"
    if code in ("M", "MS", "ME", "BM", "BMS", "BME", "SM", "SMS", "SME", "CBM", "CBMS", "CBME"):
        return "monthly"
    if code.startswith("W"):
        return "weekly"
    if code in ("D", "B", "C"):
        return "daily"
    if code in ("h", "H", "bh", "BH", "cbh", "CBH"):
        return "hourly"
    if code in ("min", "T", "s", "S", "ms", "L", "us", "U", "ns", "N"):
        return "subhourly"
    return "unknown"


# The M4 competition's horizons, except monthly (one year ahead reads more naturally).
DEFAULT_HORIZONS = {
    "yearly": 6,
    "quarterly": 8,
    "monthly": 12,
    "weekly": 13,
    "daily": 14,
    "hourly": 24,
    "subhourly": 24,
    "unknown": 10,
}


def default_window(season: int, horizon: int) -> int:
    """Two seasons or twice the horizon, whichever is longer (at least 8); past 48 steps (weekly
    data), twice the horizon and at least 24: the seasonal anchor already carries the yearly
    pattern, and long windows make training slow."""
    window = max(2 * season, 2 * horizon, 8)
    if window > 48:
        window = min(max(2 * horizon, 24), 48)
    return window


def _needed_length(window: int, steps: int, holdout: int) -> int:
    return holdout + window + steps + MIN_WINDOWS


def resolve_config(series: Any, config: ForecastConfig) -> ForecastConfig:
    """`config` with every automatic (None / 'auto') setting decided from the series.

    Automatic values shrink to fit a short series; settings the user chose are kept and checked.

    Raises:
        SeriesTooShortError: the series cannot hold window + horizon + holdout plus a minimum of
            training windows; the message gives the lengths and what to change.
        ConfigError: the season does not fit the series.
    """
    values = np.asarray(series.values, dtype="float64")
    length = values.size
    kind = frequency_kind(getattr(series, "freq", None))
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
        horizon = max(1, min(horizon, length // 6))
    holdout = config.holdout or horizon
    steps = horizon if config.strategy == "direct" else 1
    window = config.window or default_window(season, horizon)
    if config.window is None:
        room = length - _needed_length(0, steps, holdout)
        window = max(2, min(window, room))
    needed = _needed_length(window, steps, holdout)
    if length < needed:
        raise SeriesTooShortError(
            f"The series has {length} points, but a window of {window}, a horizon of {horizon} "
            f"and a holdout of {holdout} need at least {needed} (the model also needs about "
            f"{MIN_WINDOWS} training windows). Use a shorter window, horizon or holdout, or a "
            "longer series."
        )
    transform = config.transform
    train = values[: length - holdout]
    if transform == "auto":
        transform = choose_transform(train, season)
    elif transform in ("log", "log_difference") and np.any(train <= 0):
        raise ConfigError(
            f"The transform '{transform}' needs every value above 0, but the series' smallest "
            f"value is {train.min():g}. Choose 'none' or 'difference'."
        )
    return config.replace(
        season=season, horizon=horizon, holdout=holdout, window=window, transform=transform
    )


# ---------------------------------------------------------------------------------------------
# The result


@dataclasses.dataclass
class ForecastResult:
    """Everything a page or the command line shows after a forecast. Picklable: no Keras inside."""

    config: ForecastConfig  # resolved: rerunning it gives the same forecast
    forecast: pd.DataFrame  # time, actual, forecast, lower/upper 80/95, part
    baselines: pd.DataFrame  # time + one column per baseline, holdout rows
    metrics: dict  # {"model": {mae, rmse, smape, mase}, "baselines": {name: {...}}}
    history: list[dict]  # epoch, loss, val_loss, seconds
    epochs_run: int
    best_epoch: int  # 0 when no epoch beat the anchor and the network was reset to it
    seconds: float
    stopped_by_user: bool
    copies_last_value: bool
    warnings: list[str]
    model_path: str
    preprocessing: dict = dataclasses.field(default_factory=dict)  # transform, anchor, scale

    @property
    def cell_name(self) -> str:
        return CELL_NAMES[self.config.cell]

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
                "seconds": self.seconds,
                "epochs_run": self.epochs_run,
                "best_epoch": self.best_epoch,
                "stopped_by_user": self.stopped_by_user,
                "copies_last_value": self.copies_last_value,
                "model": self.metrics["model"],
                "baselines": self.metrics["baselines"],
                "verdict": verdict(self),
                "warnings": self.warnings,
                "preprocessing": self.preprocessing,
            }
        )


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
# The network


def build_model(config: ForecastConfig, steps: int):
    """The network: `ensemble` members side by side, each a stack of `num_layers` recurrent
    layers and a dense head with `steps` outputs.

    Members share the input but no weights, and each is scored against the targets on its own
    (the training model concatenates their outputs and is fitted on the targets repeated once
    per member), so they learn independently from different initial weights, in one fit: on
    small series that costs little more than one member. The forecast is their average.

    Returns:
        (training model, forecasting model): the second averages the members' outputs.
    """
    import keras

    layer_class = {
        "lstm": keras.layers.LSTM,
        "gru": keras.layers.GRU,
        "rnn": keras.layers.SimpleRNN,
    }[config.cell]
    inputs = keras.Input((config.window, 1), name="window")
    outputs = []
    for member in range(1, config.ensemble + 1):
        hidden = inputs
        for index in range(1, config.num_layers + 1):
            hidden = layer_class(
                config.units,
                return_sequences=index < config.num_layers,
                name=f"{config.cell}_{member}_{index}",
            )(hidden)
            if config.dropout:
                hidden = keras.layers.Dropout(config.dropout, name=f"dropout_{member}_{index}")(
                    hidden
                )
        # Zero weights: before training every member forecasts the anchor exactly, so early
        # stopping can always fall back to (close to) the anchor when the data teach nothing.
        outputs.append(
            keras.layers.Dense(steps, kernel_initializer="zeros", name=f"forecast_{member}")(hidden)
        )
    if len(outputs) == 1:
        training = forecasting = keras.Model(inputs, outputs[0], name="forecaster")
    else:
        training = keras.Model(inputs, keras.layers.Concatenate(name="members")(outputs),
                               name="forecaster_training")
        forecasting = keras.Model(inputs, keras.layers.Average(name="average")(outputs),
                                  name="forecaster")
    optimizer = keras.optimizers.Adam(
        learning_rate=config.learning_rate, clipnorm=config.clipnorm or None
    )
    training.compile(optimizer=optimizer, loss="mae")
    return training, forecasting


def _predict_paths(predict, encoder: WindowEncoder, contexts: np.ndarray, length: int) -> np.ndarray:
    """Forecast `length` values after each context, feeding predictions (never true values)
    back when the model's outputs do not reach that far (recursive strategy, or a holdout
    longer than the horizon with the direct strategy)."""
    contexts = np.atleast_2d(contexts).copy()
    pieces = []
    produced = 0
    while produced < length:
        outputs = predict(encoder.inputs(contexts))
        values = encoder.decode(contexts, outputs)
        pieces.append(values)
        produced += values.shape[1]
        contexts = np.concatenate([contexts, values], axis=1)[:, -encoder.context_length :]
    return np.concatenate(pieces, axis=1)[:, :length]


def _future_time(time_index: pd.Index, freq: str | None, count: int) -> pd.Index:
    """The `count` timestamps (or positions) after the end of `time_index`."""
    if isinstance(time_index, pd.DatetimeIndex) and len(time_index):
        if not freq:
            freq = time_index.freqstr or (pd.infer_freq(time_index) if len(time_index) > 2 else None)
        if freq:
            return pd.date_range(time_index[-1], periods=count + 1, freq=freq)[1:]
        step = (time_index[-1] - time_index[0]) / max(len(time_index) - 1, 1)
        return pd.DatetimeIndex([time_index[-1] + step * (k + 1) for k in range(count)])
    if len(time_index) >= 2 and pd.api.types.is_numeric_dtype(time_index):
        step = time_index[-1] - time_index[-2]
        return pd.Index([time_index[-1] + step * (k + 1) for k in range(count)])
    start = len(time_index)
    return pd.RangeIndex(start, start + count)


def _time_index(series: Any, length: int) -> pd.Index:
    time_index = getattr(series, "time", None)
    if time_index is None or len(time_index) != length:
        return pd.RangeIndex(length)
    return pd.Index(time_index)


# ---------------------------------------------------------------------------------------------
# Running a forecast


def forecast_task(payload: dict, context: JobContext) -> ForecastResult:
    """Job task: payload = {"series": Series, "config": ForecastConfig.to_dict()}.

    Tests may add "debug": {"nan_at_epoch": k} (poison the weights so the loss turns NaN) or
    {"autoets": False} (skip the AutoETS baseline).

    Raises:
        InputError, ConfigError: the series or settings do not fit.
        TrainingError: the loss became NaN/inf (the job ends in an error state).
        JobStopped: the user stopped the job before a single epoch finished.
    """
    from core.training import FitSettings, fit, set_seed

    started = time.perf_counter()
    series = payload["series"]
    config = resolve_config(series, ForecastConfig.from_dict(payload["config"]))
    values = np.asarray(series.values, dtype="float64")
    length, holdout, horizon = values.size, config.holdout, config.horizon
    season, window = config.season, config.window
    steps = horizon if config.strategy == "direct" else 1
    train = values[: length - holdout]

    context.say("Preparing windows...")
    transform = ValueTransform(config.transform)
    transformed = transform.forward(values)
    transformed_train = transformed[: train.size]
    differenced = config.transform.endswith("difference")
    # As many seasons (up to 3) as leave MIN_WINDOWS training windows.
    seasons = min(3, (train.size - steps - MIN_WINDOWS + 1) // season) if season > 1 else 0
    anchor = "last" if differenced else choose_anchor(
        transformed_train, season, max(horizon, holdout), seasons
    )
    encoder = WindowEncoder(window, steps, season, anchor, differenced, seasons).fit(
        transformed_train
    )
    contexts, futures = make_windows(transformed_train, encoder.context_length, steps)
    pairs = len(contexts)
    validation_count = max(2, int(round(pairs * VALIDATION_SHARE)))
    fit_count = pairs - validation_count
    inputs, targets = encoder.inputs(contexts), encoder.targets(contexts, futures)
    validation = (inputs[fit_count:], targets[fit_count:])

    debug = payload.get("debug") or {}
    context.say(f"Training {CELL_NAMES[config.cell]}...")
    set_seed(config.seed)
    model, forecaster = build_model(config, steps)
    repeat = (1, config.ensemble)
    validation = (validation[0], np.tile(validation[1], repeat))
    # Before training the network forecasts the anchor exactly (zero heads): "epoch 0".
    initial_weights = model.get_weights()
    anchor_loss = float(np.mean(np.abs(validation[1])))
    outcome = fit(
        model,
        inputs[:fit_count],
        np.tile(targets[:fit_count], repeat),
        validation,
        FitSettings(epochs=config.epochs, batch_size=config.batch_size, patience=config.patience),
        context,
        extra_callbacks=[_NaNInjector(debug["nan_at_epoch"])] if "nan_at_epoch" in debug else None,
    )
    if not outcome.history:
        raise JobStopped("Stopped before the first epoch finished; nothing was trained.")
    best_loss = min(log.get("val_loss", np.inf) for log in outcome.history)
    kept_anchor = bool(best_loss >= anchor_loss)
    if kept_anchor:
        # Early stopping at epoch 0: no epoch beat the anchor on the validation windows.
        model.set_weights(initial_weights)

    def predict(batch: np.ndarray) -> np.ndarray:
        return np.asarray(forecaster(batch, training=False))

    context.say("Forecasting and calibrating the intervals...")
    # Holdout: one multi-step forecast from the end of the training part.
    origin_context = transformed_train[-encoder.context_length :]
    holdout_path = _predict_paths(predict, encoder, origin_context, holdout)[0]
    # Future: from the end of all the data (the holdout is known by then).
    future_path = _predict_paths(predict, encoder, transformed[-encoder.context_length :],
                                 horizon)[0]

    calibration_length = max(horizon, holdout)
    widths = _calibrate(predict, encoder, transformed_train, fit_count, calibration_length)

    time_index = _time_index(series, length)
    future_time = _future_time(time_index, getattr(series, "freq", None), horizon)
    frame = pd.concat(
        [
            _forecast_rows(time_index[train.size :], values[train.size :], holdout_path,
                           widths, transform, "holdout"),
            _forecast_rows(future_time, np.full(horizon, np.nan), future_path, widths,
                           transform, "future"),
        ],
        ignore_index=True,
    )

    context.say("Scoring the baselines...")
    actual = values[train.size :]
    model_forecast = frame["forecast"].to_numpy()[:holdout]
    baseline_frame = pd.DataFrame({"time": time_index[train.size :]})
    baseline_scores = {}
    for baseline in make_baselines(season, include_autoets=debug.get("autoets", True)):
        baseline_frame[baseline.name] = baseline.fit(train).predict(holdout)
        baseline_scores[baseline.name] = metric_functions.score(
            actual, baseline_frame[baseline.name], train, season
        )
    scores = {
        "model": metric_functions.score(actual, model_forecast, train, season),
        "baselines": baseline_scores,
    }

    model_path = Path(context.workdir) / "model.keras"
    forecaster.save(model_path)
    copies = copies_last_value(frame["forecast"].to_numpy(), values, holdout)
    result = ForecastResult(
        config=config,
        forecast=frame,
        baselines=baseline_frame,
        metrics=scores,
        history=outcome.history,
        epochs_run=len(outcome.history),
        best_epoch=0 if kept_anchor else outcome.best_epoch,
        seconds=0.0,
        stopped_by_user=outcome.stopped_by_user,
        copies_last_value=copies,
        warnings=[],
        model_path=str(model_path),
        preprocessing={
            "transform": transform.kind,
            "anchor": anchor,
            "seasons_averaged": encoder.seasons if anchor == "seasonal" else 0,
            "differenced": encoder.differenced,
            "scale": encoder.scale_,
            "training_windows": fit_count,
            "validation_windows": validation_count,
            "members": config.ensemble,
            "anchor_validation_loss": anchor_loss,
            "best_validation_loss": best_loss,
            "kept_anchor": kept_anchor,
        },
    )
    result.warnings = _warnings(result)
    result.seconds = time.perf_counter() - started
    return result


class _NaNInjector:
    """Test hook (payload {"debug": {"nan_at_epoch": k}}): poisons the weights at epoch k so that
    the loss becomes NaN, exercising the error path a diverging run takes."""

    def __new__(cls, epoch: int):
        import keras

        class Injector(keras.callbacks.Callback):
            def on_epoch_begin(self, index, logs=None):
                if index + 1 >= epoch:
                    head = next(layer for layer in self.model.layers
                                if isinstance(layer, keras.layers.Dense))
                    head.kernel.assign(np.full(head.kernel.shape, np.nan, dtype="float32"))

        return Injector()


def _calibrate(predict, encoder, transformed_train, fit_count, length) -> dict[float, np.ndarray]:
    """Conformal widths (in transformed units) from forecasts made at the validation origins,
    each path produced exactly as the holdout's is and ending inside the training part."""
    context_length = encoder.context_length
    contexts, _ = make_windows(transformed_train, context_length, 1)
    longest = transformed_train.size - context_length - fit_count  # from the first origin
    # Long enough to cover the model's outputs, short enough to leave about five origins.
    usable = min(length, longest, max(encoder.steps, longest - 4))
    origins = np.arange(fit_count, transformed_train.size - context_length - usable + 1)
    paths = _predict_paths(predict, encoder, contexts[origins], usable)
    truth = np.stack(
        [transformed_train[i + context_length : i + context_length + usable] for i in origins]
    )
    widths = conformal_widths(truth - paths)
    return {level: extend_widths(widths[level], length) for level in widths}


def _forecast_rows(time_index, actual, path, widths, transform, part) -> pd.DataFrame:
    count = len(path)
    frame = pd.DataFrame({"time": time_index[:count], "actual": actual[:count],
                          "forecast": transform.inverse(path)})
    for level in LEVELS:
        percent = int(round(level * 100))
        width = widths[level][:count]
        frame[f"lower_{percent}"] = transform.inverse(path - width)
        frame[f"upper_{percent}"] = transform.inverse(path + width)
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
    """One plain sentence: did the network beat the best baseline on the holdout, by how much?"""
    cell = CELL_NAMES[result.config.cell]
    model = result.metrics["model"]["mase"]
    name, best = _best_baseline(result)
    if not name or not math.isfinite(model):
        mae = result.metrics["model"]["mae"]
        return f"{cell}'s mean absolute error on the holdout is {mae:.4g} (MASE cannot be computed: the training part does not vary)."
    label = BASELINE_NAMES.get(name, name)
    change = (model - best) / best * 100 if best > 0 else math.inf
    if result.preprocessing.get("kept_anchor"):
        anchor = {"seasonal": "the smoothed seasonal forecast",
                  "last": "the last value carried forward"}[result.preprocessing["anchor"]]
        comparison = "lower than" if model < best else "higher than"
        if abs(change) < 1:
            return (f"{cell} did not improve on its starting point, {anchor}, whose error "
                    f"(MASE {model:.2f}) is about the same as {label}'s, the best baseline.")
        return (f"{cell} did not improve on its starting point, {anchor}, whose error "
                f"(MASE {model:.2f}) is {abs(change):.0f}% {comparison} {label}'s "
                f"({best:.2f}), the best baseline.")
    if model < best:
        return (f"{cell}'s error (MASE {model:.2f}) is {abs(change):.0f}% lower than {label}'s "
                f"({best:.2f}), the best baseline.")
    if abs(change) < 1:
        return f"{cell}'s error (MASE {model:.2f}) is about the same as {label}'s, the best baseline."
    return (f"{cell}'s error (MASE {model:.2f}) is {change:.0f}% higher than {label}'s "
            f"({best:.2f}), the best baseline: {label} is the better forecast here.")


def _warnings(result: ForecastResult) -> list[str]:
    warnings = []
    cell = CELL_NAMES[result.config.cell]
    name, best = _best_baseline(result)
    model = result.metrics["model"]["mase"]
    if name and math.isfinite(model) and model >= best:
        label = BASELINE_NAMES.get(name, name)
        warnings.append(
            f"The model lost to {label} on the holdout: MASE {model:.2f} against {best:.2f}. "
            f"Use {label}'s forecast, or try another window, cell or more epochs."
        )
    if result.copies_last_value:
        warnings.append(
            "The forecast is little more than the last value carried forward: the network found "
            "no pattern it trusts. Check that the series has one (trend, season), or try a "
            "longer window."
        )
    if result.stopped_by_user:
        warnings.append(
            f"Training was stopped by hand after {result.epochs_run} epochs; the forecast uses "
            "the best weights reached by then."
        )
    if result.preprocessing.get("kept_anchor"):
        anchor = {"seasonal": "the smoothed seasonal forecast",
                  "last": "the last value carried forward"}[result.preprocessing["anchor"]]
        warnings.append(
            f"No epoch of {cell} beat its starting point ({anchor}) on the validation windows, "
            "so the forecast is that starting point: the network learned nothing it could "
            "trust. Try more data, a longer window or another cell."
        )
    elif result.best_epoch <= 1 and result.epochs_run > 1:
        warnings.append(
            f"{cell}'s validation error was lowest after the very first epoch: the network "
            "barely learned. Try a lower learning rate or a longer series."
        )
    windows = result.preprocessing.get("training_windows", MIN_WINDOWS)
    if windows < 30:
        warnings.append(
            f"Only {windows} training windows fit in this series: the network has little to "
            "learn from, so treat its forecast with care."
        )
    return warnings


def run_forecast(series: Any, config: ForecastConfig, context: JobContext | None = None) -> ForecastResult:
    """Run a forecast in this process (command line, tests); errors propagate as raised."""
    return run_inline(forecast_task, {"series": series, "config": config.to_dict()}, context)


def start_forecast(manager: JobManager, series: Any, config: ForecastConfig, owner: str = ""):
    """Submit a forecast job; the settings are checked against the series here first, so that a
    mistake is reported at once rather than by a failed job."""
    resolve_config(series, config)
    return manager.submit(TASK, {"series": series, "config": config.to_dict()}, owner=owner)
