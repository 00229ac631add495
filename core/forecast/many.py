"""One network for many series: `GlobalRNNForecaster(config).fit(panel).predict(horizon)`.

A global model (the M4/M5 lesson, and DeepAR's): the windows of every series train one
recurrent network, so a short series borrows the patterns the others show. What makes windows
of series of different levels comparable is already in the single-series forecaster
(`core.forecast.rnn`): each window is taken relative to its own last value and divided by its
series' scale, and the network learns what that series' own seasonal anchor gets wrong. So each
series keeps its own transform (logs or not), anchor and scale; only the weights are shared.

After the shared fit, each series gets an `RNNForecaster` whose `model_` is the shared network:
its validation block, its choice between the network alone and the mix with AutoETS, AutoTheta
and AutoARIMA, its intervals, `predict`, `parts` and `describe` are the single-series ones.
A series too short for a network window gets the classical mean, as the single forecaster does.

`save` writes one RNN Lab model file (kind "forecast_many") holding the shared network's
weights once and, per series, what its member decided (plan, choice, scale, interval widths)
and the data it learnt from; `load` rebuilds every member around one network, so the loaded
model forecasts each series as the trained one did.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.config import ForecastConfig
from core.errors import InputError, JobStopped
from core.forecast.base import LEVELS, Forecast, SeriesData, as_series
from core.forecast.baselines import BASELINES
from core.forecast.covariates import CovariateEncoder, Covariates
from core.forecast.rnn import (
    CLASSICAL,
    DEFAULT_HORIZONS,
    Plan,
    RNNForecaster,
    _NoContext,
    _Quiet,
    build_network,
    frequency_kind,
    masked_windows,
    plan_for,
)
from core.preprocessing import ValueTransform, WindowEncoder

MODEL_KIND = "forecast_many"


def common_season(datas: Mapping[str, SeriesData], config: ForecastConfig) -> int:
    """The season every series shares: the configured one, else the most common found one."""
    if config.season:
        return int(config.season)
    counts = Counter(int(data.season or 1) for data in datas.values())
    return counts.most_common(1)[0][0] if counts else 1


def common_horizon(datas: Mapping[str, SeriesData], config: ForecastConfig) -> int:
    """The configured horizon, else the default of the most common frequency."""
    if config.horizon:
        return int(config.horizon)
    kinds = Counter(frequency_kind(data.freq) for data in datas.values())
    return DEFAULT_HORIZONS[kinds.most_common(1)[0][0] if kinds else "unknown"]


class GlobalRNNForecaster:
    """One SimpleRNN / LSTM / GRU network fitted on the windows of every series of a panel.

    Learned state: `members_` (id -> a fitted `RNNForecaster` sharing `model_`), `model_`,
    `window_`, `season_`, `horizon_`, `history_`, `best_epoch_`, `stopped_by_user_`,
    `kept_anchor_`, `training_windows_` (id -> windows it gave), `classical_only_` (ids too
    short for a network window: they get the classical mean).
    """

    name = "global_network"

    def __init__(self, config: ForecastConfig | None = None):
        self.config = config or ForecastConfig()

    @property
    def label(self) -> str:
        from core.cells import get_cell

        return f"global {get_cell(self.config.cell).name}"

    def fit(self, panel: Mapping[str, Any], context=None, debug: dict | None = None,
            covariates: Mapping[str, Covariates] | None = None) -> GlobalRNNForecaster:
        """Fit one network on the windows of every series of `panel` (id -> series), with each
        series' covariates (id -> `Covariates` read from the same file, the same columns for
        every series) as extra inputs when given: each series scales its own.

        Raises:
            InputError: the panel is empty, or a series is not finite numbers; covariates
                missing for a series or with other columns than the others'.
            TrainingError: the loss became NaN/inf.
            JobStopped: Stop was pressed before the first epoch finished.
        """
        if not panel:
            raise InputError("There are no series to forecast.")
        context = context or _NoContext()
        datas = {key: as_series(series, self.config.season) for key, series in panel.items()}
        self.covariates_ = _checked_covariates(covariates, datas)
        season = common_season(datas, self.config)
        horizon = common_horizon(datas, self.config)
        config = self.config.replace(season=season, horizon=horizon)
        self.season_, self.horizon_ = season, horizon
        self.history_: list[dict] = []
        self.best_epoch_ = 0
        self.stopped_by_user_ = False
        self.kept_anchor_ = False
        self.members_: dict[str, RNNForecaster] = {}
        self.classical_only_: list[str] = []
        self.training_windows_: dict[str, int] = {}
        for key, data in datas.items():
            datas[key] = dataclasses.replace(data, season=season)
        # One input length for the shared network: the window most series would get alone (the
        # median), so that one short series does not shorten every other's view.
        own = [plan_for(data.values, config, data.freq, season) for data in datas.values()]
        windows = sorted(plan.window for plan in own if plan is not None)
        self.window_ = int(config.window or (windows[(len(windows) - 1) // 2] if windows else 0))
        shared = config.replace(window=self.window_ or None)
        plans = {}
        for key, data in datas.items():
            plan = plan_for(data.values, shared, data.freq, season) if self.window_ else None
            if plan is None:
                # Too short for that window: the single forecaster's classical fallback (it
                # finds the same plan_for answer, so it trains no network of its own).
                self.members_[key] = RNNForecaster(shared).fit(
                    data, covariates=self.covariates_.get(key))
                self.classical_only_.append(key)
            else:
                plans[key] = plan
        self.model_ = None
        if plans:
            self._fit_shared(shared, datas, plans, context, debug or {})
        self.members_ = {key: self.members_[key] for key in datas}  # the panel's order
        return self

    def _fit_shared(self, config: ForecastConfig, datas: dict[str, SeriesData], plans: dict,
                    context, debug: dict) -> None:
        from core.forecast.rnn import _nan_injector
        from core.training import FitSettings, fit, set_seed

        steps = self.horizon_ if config.strategy == "direct" else 1
        parts = {}  # id -> (member, values, fit_part)
        inputs, targets, check_inputs, check_targets = [], [], [], []
        for key, plan in plans.items():
            data = datas[key]
            transform = ValueTransform(plan.transform)
            values = transform.forward(data.values)
            fit_part = values.size - plan.validation
            encoder = self._encoder(plan, steps, values[:fit_part])
            if len(masked_windows(values[:fit_part], encoder.context_length, steps)[0]) < 1:
                # A long seasonal context leaves no window: the last value is its anchor.
                plan = dataclasses.replace(plan, anchor="last", seasons=1)
                encoder = self._encoder(plan, steps, values[:fit_part])
            member = RNNForecaster(config)
            member.data_, member.plan_, member.horizon_ = data, plan, plan.horizon
            member.transform_, member.encoder_ = transform, encoder
            member.classical_ = [BASELINES[name](data.season) for name in CLASSICAL]
            member.fallback_, member.stopped_by_user_ = "", False
            member.covariates_ = self.covariates_.get(key)
            member.covariate_encoder_ = None
            # Each series scales its own covariates on its own fit part.
            member._fit_covariates(data, fit_part, plan.window, steps)
            length = encoder.context_length
            contexts, futures = masked_windows(values[:fit_part], length, steps)
            inputs.append(member._network_inputs(encoder, contexts, np.arange(length, fit_part)))
            targets.append(encoder.targets(contexts, futures))
            held, held_futures = masked_windows(values, length, steps, first_origin=fit_part)
            check_inputs.append(member._network_inputs(encoder, held,
                                                       np.arange(fit_part, values.size)))
            check_targets.append(encoder.targets(held, held_futures))
            self.training_windows_[key] = len(contexts)
            member.training_windows_ = len(contexts)
            parts[key] = (member, values, fit_part)
        ensemble = config.ensemble
        x, y = _joined(inputs), np.tile(np.concatenate(targets), (1, ensemble))
        validation = (_joined(check_inputs),
                      np.tile(np.concatenate(check_targets), (1, ensemble)))
        settings = FitSettings(epochs=config.epochs, batch_size=config.batch_size,
                               patience=config.patience)
        context.say(f"Training one {self.label[7:]} on {len(x)} windows of {len(parts)} series...")
        set_seed(config.seed)
        widths = _covariate_widths(member for member, _, _ in parts.values())
        model = build_network(config, self.window_, steps, *widths)
        initial = model.get_weights()
        anchor_loss = float(np.nanmean(np.abs(validation[1])))
        extra = [_nan_injector(debug["nan_at_epoch"])] if "nan_at_epoch" in debug else None
        outcome = fit(model, x, y, validation, settings, context, extra_callbacks=extra)
        if not outcome.history:
            raise JobStopped("Stopped before the first epoch finished; nothing was trained.")
        self.history_ = outcome.history
        self.stopped_by_user_ = outcome.stopped_by_user
        best_loss = min(log.get("val_loss", np.inf) for log in outcome.history)
        self.kept_anchor_ = bool(best_loss >= anchor_loss)
        self.best_epoch_ = 0 if self.kept_anchor_ else outcome.best_epoch
        if self.kept_anchor_:
            model.set_weights(initial)
        self.model_ = model
        self.anchor_validation_loss_, self.best_validation_loss_ = anchor_loss, best_loss

        # Per series: the network's validation paths, its choice of the network or the mix,
        # and its intervals, exactly as the single-series forecaster decides them.
        context.say("Comparing with AutoETS, AutoTheta and AutoARIMA on each series...")
        for key, (member, values, fit_part) in parts.items():
            member.model_ = model
            member.history_, member.best_epoch_ = self.history_, self.best_epoch_
            member.stopped_by_user_ = self.stopped_by_user_
            member.kept_anchor_ = self.kept_anchor_
            member.anchor_validation_loss_ = anchor_loss
            member.best_validation_loss_ = best_loss
            paths = member._validation_paths(values, fit_part, member.plan_.validation)
            member._choose(member.data_, values, fit_part, paths)
            self.members_[key] = member

        if config.refit and self.best_epoch_ > 0 and not self.stopped_by_user_:
            context.say(f"Fitting the {self.label} again on all the data...")
            model.set_weights(initial)
            # A fresh optimizer state, but not a zero learning rate (one of its variables in
            # Keras 3: zeroed, the second fit would train nothing and forecast the anchor).
            learning_rate = model.optimizer.learning_rate
            for variable in model.optimizer.variables:
                if variable is not learning_rate:
                    variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
            all_inputs, all_targets = [], []
            for member, values, _ in parts.values():
                encoder = member.encoder_.fit(values)
                length = encoder.context_length
                contexts, futures = masked_windows(values, length, steps)
                all_inputs.append(member._network_inputs(encoder, contexts,
                                                         np.arange(length, values.size)))
                all_targets.append(encoder.targets(contexts, futures))
            fit(model, _joined(all_inputs),
                np.tile(np.concatenate(all_targets), (1, ensemble)), None,
                dataclasses.replace(settings, epochs=self.best_epoch_, patience=0),
                _Quiet(context))
        for member, _, _ in parts.values():
            for classical in member.classical_:
                classical.fit(member.data_)

    @property
    def uses_covariates(self) -> bool:
        return bool(self.covariates_)

    @staticmethod
    def _encoder(plan, steps: int, train: np.ndarray) -> WindowEncoder:
        encoder = WindowEncoder(plan.window, steps, plan.season, plan.anchor,
                                plan.transform.endswith("difference"), plan.seasons)
        return encoder.fit(train)

    def predict(self, horizon: int | None = None, panel: Mapping[str, Any] | None = None,
                covariates: Mapping[str, Covariates] | None = None) -> dict[str, Forecast]:
        """id -> `Forecast` of `horizon` steps (default: the fitted horizon) after the end of each
        series it was fitted on, or after the end of each series of `panel` (the same ids;
        the network is not fitted again, the classical members of a mix are). A model fitted
        with covariates reads each series' from `covariates` (id -> `Covariates` starting
        where that series starts, the known ones covering the forecast); without `panel`,
        the ones given to `fit`."""
        horizon = int(horizon or self.horizon_)
        if panel is None:
            return {key: member.predict(horizon) for key, member in self.members_.items()}
        covariates = covariates or {}
        missing = [key for key in self.members_ if key not in panel]
        if missing:
            raise InputError(
                f"No data was given for series {', '.join(map(repr, missing[:5]))}, which the "
                "model was fitted on. Give every series the model learnt."
            )
        return {key: member.predict(horizon, series=panel[key], covariates=covariates.get(key))
                for key, member in self.members_.items()}

    # ------------------------------------------------------------------------------------------
    # Model files

    def _shared_config(self) -> ForecastConfig:
        """The settings every member was fitted with (the panel's season, horizon, window)."""
        return self.config.replace(season=self.season_, horizon=self.horizon_,
                                   window=self.window_ or None)

    def save(self, path: str | Path | None = None, ids: dict | None = None,
             id_names: tuple[str, ...] | None = None) -> bytes:
        """Save as one RNN Lab model file (signed; see `core.modelfile`); returns its bytes.
        `ids` (key -> id column values) and `id_names` are kept to label the series."""
        from core.modelfile import save_model_file

        members, values, times, widths = [], [], [], {level: [] for level in LEVELS}
        for key, member in self.members_.items():
            data = member.data_
            is_dates = isinstance(data.time, pd.DatetimeIndex)
            numbers = not is_dates and pd.api.types.is_integer_dtype(data.time)
            members.append({
                "key": key,
                "ids": [str(value) for value in (ids or {}).get(key, (key,))],
                "plan": member.plan_.to_dict() if member.plan_ is not None else None,
                "choice": member.choice_,
                "fallback": member.fallback_,
                "horizon": member.horizon_,
                "transform": member.transform_.kind,
                "scale": member.encoder_.scale_ if member.plan_ is not None else None,
                "validation_scores": member.validation_scores_,
                "widths": {str(int(level * 100)): len(member.widths_[level]) for level in LEVELS},
                "covariates": member.covariate_encoder_.to_dict()
                if getattr(member, "covariate_encoder_", None) is not None else None,
                "data": {"name": data.name, "freq": data.freq, "season": data.season,
                         "points": len(data),
                         "time": "dates" if is_dates else "numbers" if numbers else "positions",
                         "start": str(data.time[0]), "end": str(data.time[-1])},
            })
            values.append(data.values.astype("float64"))
            times.append(data.time.asi8 if is_dates else np.asarray(data.time, "int64") if numbers
                         else np.arange(len(data), dtype="int64"))
            for level in LEVELS:
                widths[level].append(np.asarray(member.widths_[level], "float64"))
        description = {
            "config": self.config.to_dict(),
            "window": self.window_,
            "season": self.season_,
            "horizon": self.horizon_,
            "steps": (self.horizon_ if self.config.strategy == "direct" else 1)
            if self.model_ is not None else None,
            "best_epoch": self.best_epoch_,
            "kept_anchor": self.kept_anchor_,
            "classical_only": list(self.classical_only_),
            "training_windows": {key: int(count) for key, count in self.training_windows_.items()},
            "id_names": list(id_names or ("series",)),
            "members": members,
        }
        arrays = {"values": np.concatenate(values), "time": np.concatenate(times).astype("int64")}
        for level in LEVELS:
            arrays[f"widths_{int(level * 100)}"] = np.concatenate(widths[level])
        if self.model_ is not None:
            for index, weight in enumerate(self.model_.get_weights()):
                arrays[f"weight_{index:03d}"] = np.asarray(weight, dtype="float32")
        return save_model_file(MODEL_KIND, description, arrays, path)

    @classmethod
    def load(cls, source: Any) -> GlobalRNNForecaster:
        """The global forecaster of a model file `save` wrote (bytes, a path, or an upload),
        rebuilt by our own code: one network, and each series' member around it.

        Raises:
            ModelFileError: the file is not a forecast_many model file this server signed, or
                its contents do not match what it describes.
        """
        from core.modelfile import ModelFileError, load_model_file

        model_file = load_model_file(source, kind=MODEL_KIND)
        try:
            return cls._from_file(model_file)
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            # A signed file from another version of RNN Lab: say so plainly.
            raise ModelFileError(
                f"This model file cannot be read by this version of RNN Lab ({error}). Train "
                "the model again."
            ) from error

    @classmethod
    def _from_file(cls, model_file) -> GlobalRNNForecaster:
        from core.modelfile import ModelFileError

        self = cls(ForecastConfig.from_dict(model_file.field("config", dict)))
        self.window_ = model_file.field("window", int)
        self.season_ = model_file.field("season", int)
        self.horizon_ = model_file.field("horizon", int)
        self.best_epoch_ = model_file.field("best_epoch", int)
        self.kept_anchor_ = model_file.field("kept_anchor", bool)
        self.classical_only_ = [str(key) for key in model_file.field("classical_only", list)]
        self.training_windows_ = {str(key): int(count) for key, count
                                  in model_file.field("training_windows", dict).items()}
        self.id_names_ = tuple(str(name) for name in model_file.field("id_names", list))
        self.history_, self.stopped_by_user_ = [], False
        self.created_ = model_file.created
        shared = self._shared_config()
        described = model_file.field("members", list)
        total = sum(int(entry["data"]["points"]) for entry in described)
        values = model_file.array("values", "float64", (total,))
        times = model_file.array("time", "int64", (total,))
        widths = {level: model_file.array(f"widths_{int(level * 100)}", "float64", (None,))
                  for level in LEVELS}
        steps = model_file.description.get("steps")
        encoders = {str(entry["key"]): CovariateEncoder.from_dict(entry["covariates"])
                    for entry in described if entry.get("covariates") is not None}
        self.covariates_ = {}  # the data's own are given to `predict`
        self.model_ = None
        if steps is not None:
            self.model_ = build_network(shared, self.window_, int(steps),
                                        *_covariate_widths(encoders.values(), encoders=True))
            weights = [model_file.array(f"weight_{index:03d}", "float32", weight.shape)
                       for index, weight in enumerate(self.model_.get_weights())]
            self.model_.set_weights(weights)
        self.members_, self.ids_ = {}, {}
        start, width_start = 0, {level: 0 for level in LEVELS}
        for entry in described:
            key, info = str(entry["key"]), entry["data"]
            points = int(info["points"])
            stamps = times[start : start + points]
            if info["time"] == "dates":
                time = pd.DatetimeIndex(stamps)
            elif info["time"] == "numbers":
                time = pd.Index(stamps)
            else:
                time = pd.RangeIndex(points)
            data = SeriesData(values[start : start + points], time, info["freq"],
                              int(info["season"] or 1), str(info["name"]))
            start += points
            member = RNNForecaster(shared)
            member.data_, member.created_ = data, self.created_
            member.choice_ = str(entry["choice"])
            if member.choice_ not in ("network", "hybrid", "classical"):
                raise ModelFileError(f"This model file's choice '{member.choice_}' is unknown.")
            member.fallback_ = str(entry["fallback"])
            member.horizon_ = int(entry["horizon"])
            member.validation_scores_ = dict(entry["validation_scores"])
            member.history_, member.stopped_by_user_ = [], False
            member.best_epoch_, member.kept_anchor_ = self.best_epoch_, self.kept_anchor_
            member.transform_ = ValueTransform(str(entry["transform"]))
            member.covariates_ = None
            member.covariate_encoder_ = encoders.get(key)
            member.widths_ = {}
            for level in LEVELS:
                count = int(entry["widths"][str(int(level * 100))])
                member.widths_[level] = widths[level][width_start[level] :
                                                      width_start[level] + count]
                width_start[level] += count
            member.plan_ = Plan(**entry["plan"]) if entry["plan"] is not None else None
            if member.plan_ is not None:
                if self.model_ is None:
                    raise ModelFileError("This model file's series use a network it does not "
                                         "hold. Train the model again.")
                plan = member.plan_
                member.encoder_ = WindowEncoder(plan.window, int(steps), plan.season, plan.anchor,
                                                plan.transform.endswith("difference"),
                                                plan.seasons)
                member.encoder_.scale_ = float(entry["scale"])
                member.model_ = self.model_
                member.training_windows_ = self.training_windows_.get(key, 0)
            member.classical_ = [BASELINES[name](data.season) for name in CLASSICAL]
            if member.choice_ in ("classical", "hybrid"):
                for classical in member.classical_:  # as `fit` fits them: on the series
                    classical.fit(data)
            self.members_[key] = member
            self.ids_[key] = tuple(str(value) for value in entry["ids"])
        return self

    def covariate_names(self) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        """(known-in-advance columns, past-only columns, calendar features?) the network reads."""
        for member in self.members_.values():
            encoder = getattr(member, "covariate_encoder_", None)
            if encoder is not None:
                return encoder.known, encoder.past, bool(encoder.calendar)
        return (), (), False

    def check_frequency(self, panel: Mapping[str, Any]) -> None:
        """Refuse, in plain words, series of another frequency than the ones learnt.

        Raises:
            InputError: a series of `panel` has another frequency than its member learnt.
        """
        for key, member in self.members_.items():
            if key not in panel:
                continue
            freq = as_series(panel[key]).freq
            learnt = member.data_.freq
            if frequency_kind(learnt) != frequency_kind(freq):
                raise InputError(
                    f"This model learnt series '{key}' with frequency '{learnt or 'none'}', but "
                    f"the data gives it frequency '{freq or 'none'}'. Use data of the same "
                    "frequency, or train a new model on these series."
                )

    def summary(self) -> dict:
        """What the fit decided, as plain JSON-ready values."""
        return {
            "window": self.window_,
            "season": self.season_,
            "horizon": self.horizon_,
            "series": len(self.members_),
            "training_windows": int(sum(self.training_windows_.values())),
            "classical_only": list(self.classical_only_),
            "best_epoch": self.best_epoch_,
            "kept_anchor": self.kept_anchor_,
            "covariates": next((member.describe_covariates() for member in self.members_.values()
                                if member.describe_covariates()), ""),
        }


def _checked_covariates(covariates: Mapping[str, Covariates] | None,
                        datas: Mapping[str, SeriesData]) -> dict[str, Covariates]:
    """id -> covariates for every series, or {} when none are used.

    Raises:
        InputError: a series has none, or other columns than the first series'.
    """
    used = {key: value for key, value in (covariates or {}).items()
            if value is not None and value.used}
    if not used:
        return {}
    missing = [key for key in datas if key not in used]
    if missing:
        raise InputError(
            f"No covariates were given for series {', '.join(map(repr, missing[:5]))}: with "
            "covariates, every series needs their values. Read them from the same file.")
    first = next(iter(used.values()))
    shape = (first.known, first.past, first.calendar)
    for key in datas:
        if (used[key].known, used[key].past, used[key].calendar) != shape:
            raise InputError(
                f"Series '{key}' has other covariates ({used[key].describe() or 'none'}) than "
                f"the others ({first.describe()}): one network needs the same inputs for "
                "every series.")
    return {key: used[key] for key in datas}


def _covariate_widths(members, encoders: bool = False) -> tuple[int, int]:
    """(channels, future width) of the network's covariate inputs: the same for every series
    (the same columns and calendar features); (0, 0) without covariates."""
    for member in members:
        encoder = member if encoders else getattr(member, "covariate_encoder_", None)
        if encoder is not None:
            return encoder.channel_width, encoder.future_width
    return 0, 0


def _joined(parts: list):
    """The network inputs of several series as one batch (a list of two arrays when the
    network also reads known-in-advance covariates)."""
    if parts and isinstance(parts[0], list):
        return [np.concatenate([part[index] for part in parts]) for index in range(len(parts[0]))]
    return np.concatenate(parts)
