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
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.config import ForecastConfig
from core.errors import InputError, JobStopped
from core.forecast.base import Forecast, SeriesData, as_series
from core.forecast.baselines import BASELINES
from core.forecast.rnn import (
    CLASSICAL,
    DEFAULT_HORIZONS,
    RNNForecaster,
    _NoContext,
    _Quiet,
    build_network,
    frequency_kind,
    masked_windows,
    plan_for,
)
from core.preprocessing import ValueTransform, WindowEncoder


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

    def fit(self, panel: Mapping[str, Any], context=None, debug: dict | None = None
            ) -> GlobalRNNForecaster:
        """Fit one network on the windows of every series of `panel` (id -> series).

        Raises:
            InputError: the panel is empty, or a series is not finite numbers.
            TrainingError: the loss became NaN/inf.
            JobStopped: Stop was pressed before the first epoch finished.
        """
        if not panel:
            raise InputError("There are no series to forecast.")
        context = context or _NoContext()
        datas = {key: as_series(series, self.config.season) for key, series in panel.items()}
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
                self.members_[key] = RNNForecaster(shared).fit(data)
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
            contexts, futures = masked_windows(values[:fit_part], encoder.context_length, steps)
            inputs.append(encoder.inputs(contexts))
            targets.append(encoder.targets(contexts, futures))
            held, held_futures = masked_windows(values, encoder.context_length, steps,
                                                first_origin=fit_part)
            check_inputs.append(encoder.inputs(held))
            check_targets.append(encoder.targets(held, held_futures))
            self.training_windows_[key] = len(contexts)
            member = RNNForecaster(config)
            member.data_, member.plan_, member.horizon_ = data, plan, plan.horizon
            member.transform_, member.encoder_ = transform, encoder
            member.classical_ = [BASELINES[name](data.season) for name in CLASSICAL]
            member.fallback_, member.stopped_by_user_ = "", False
            member.covariates_ = member.covariate_encoder_ = None  # the global network reads none
            member.training_windows_ = len(contexts)
            parts[key] = (member, values, fit_part)
        ensemble = config.ensemble
        x, y = np.concatenate(inputs), np.tile(np.concatenate(targets), (1, ensemble))
        validation = (np.concatenate(check_inputs),
                      np.tile(np.concatenate(check_targets), (1, ensemble)))
        settings = FitSettings(epochs=config.epochs, batch_size=config.batch_size,
                               patience=config.patience)
        context.say(f"Training one {self.label[7:]} on {len(x)} windows of {len(parts)} series...")
        set_seed(config.seed)
        model = build_network(config, self.window_, steps)
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
                contexts, futures = masked_windows(values, encoder.context_length, steps)
                all_inputs.append(encoder.inputs(contexts))
                all_targets.append(encoder.targets(contexts, futures))
            fit(model, np.concatenate(all_inputs),
                np.tile(np.concatenate(all_targets), (1, ensemble)), None,
                dataclasses.replace(settings, epochs=self.best_epoch_, patience=0),
                _Quiet(context))
        for member, _, _ in parts.values():
            for classical in member.classical_:
                classical.fit(member.data_)

    @staticmethod
    def _encoder(plan, steps: int, train: np.ndarray) -> WindowEncoder:
        encoder = WindowEncoder(plan.window, steps, plan.season, plan.anchor,
                                plan.transform.endswith("difference"), plan.seasons)
        return encoder.fit(train)

    def predict(self, horizon: int | None = None,
                panel: Mapping[str, Any] | None = None) -> dict[str, Forecast]:
        """id -> `Forecast` of `horizon` steps (default: the fitted horizon) after the end of each
        series it was fitted on, or after the end of each series of `panel` (the same ids;
        the network is not fitted again, the classical members of a mix are)."""
        horizon = int(horizon or self.horizon_)
        if panel is None:
            return {key: member.predict(horizon) for key, member in self.members_.items()}
        missing = [key for key in self.members_ if key not in panel]
        if missing:
            raise InputError(
                f"No data was given for series {', '.join(map(repr, missing[:5]))}, which the "
                "model was fitted on. Give every series the model learnt."
            )
        return {key: member.predict(horizon, series=panel[key])
                for key, member in self.members_.items()}

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
        }
