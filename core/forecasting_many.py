"""Forecast every series of a file with one global network: holdout, scores, forecasts.

`forecast_all_task` (the job a worker runs; the command line's `--id-col` without `--series`)
follows `core.forecasting.forecast_task` for many series at once:

1. One horizon and one season for the panel (the configured ones, else the most common
   frequency's); the holdout is the horizon. A series too short to keep that holdout and
   still learn from `MIN_TRAINING_POINTS` points is left out, with a note saying why.
2. `GlobalRNNForecaster` learns one network on the training parts of every series, then each
   series' holdout is forecast in one multi-step forecast (no holdout value is seen).
3. The baselines fit each series' training part and forecast its holdout; everything is
   scored with the same metrics, and the overall score is the geometric mean of the MASEs
   (the M4 competition's way of averaging a scaled error over series).
4. Every series is then forecast past its end (the network without refitting).
5. The global network and every series' part of it are saved in one model file
   (model.rnnlab, kind "forecast_many"): `python -m core predict` forecasts every series
   from it again, `GlobalRNNForecaster.load` rebuilds it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import metrics as metric_functions
from core.cells import get_cell
from core.config import ForecastConfig
from core.errors import InputError, JobStopped
from core.forecast.backtest import covariates_for
from core.forecast.base import as_series
from core.forecast.baselines import label_of, make_baselines
from core.forecast.covariates import Covariates, check_horizon, split_names
from core.forecast.many import GlobalRNNForecaster, common_horizon, common_season
from core.forecast.rnn import _Quiet, classical_label, mix_label
from core.forecasting import (
    MIN_TRAINING_POINTS,
    ONE_SERIES_FILE,
    _json_safe,
    best_forecaster,
    model_file_kind,
    uses_covariates,
    without_covariates,
)
from core.jobs import JobContext, run_inline

TASK = "core.forecasting_many:forecast_all_task"
QUICK_BASELINES = ("naive", "seasonal_naive", "drift")
SLOW_BASELINES = ("autoets", "autotheta", "autoarima")


# A MASE of exactly 0 (a perfect forecast) would make the geometric mean 0 whatever the other
# series do: it counts as this (bench/accuracy.py does the same).
MASE_FLOOR = 1e-6


def geometric_mean(values) -> float:
    """The geometric mean of the finite values, each floored at `MASE_FLOOR` (NaN when there
    are none)."""
    values = np.asarray([v for v in values if v is not None and math.isfinite(v)],
                        dtype="float64")
    if not values.size:
        return math.nan
    return float(np.exp(np.mean(np.log(np.maximum(values, MASE_FLOOR)))))


@dataclasses.dataclass
class ManyForecastResult:
    """What the page and the command line show after forecasting every series. Picklable."""

    config: ForecastConfig  # season, horizon, holdout and window as used for every series
    id_names: tuple[str, ...]  # the id column(s) written into the forecast table
    ids: dict[str, tuple[str, ...]]  # series key -> its id column values
    scores: dict[str, dict]  # key -> {"model": {...}, "baselines": {name: {...}}, "best", ...}
    overall: dict[str, float]  # "model" and each baseline -> geometric-mean MASE over series
    forecast: pd.DataFrame  # id column(s), time, actual, forecast, bounds, part, baseline_*
    history: list[dict]
    epochs_run: int
    best_epoch: int
    seconds: float
    stopped_by_user: bool
    skipped: dict[str, str]  # key -> why it was not forecast
    notes: list[str]
    summary: dict = dataclasses.field(default_factory=dict)
    model_path: str = ""  # the model file (.rnnlab) of the global network and every series
    # With covariates: what they were and the same network without them on the same holdouts
    # ({"used", "gmase_with", "gmase_without", "helped", "text"}).
    covariates: dict = dataclasses.field(default_factory=dict)

    @property
    def cell_name(self) -> str:
        return get_cell(self.config.cell).name

    def model_label(self, key: str) -> str:
        """What series `key`'s model forecast is (the network alone, the mix, or classical)."""
        choice = self.scores[key]["choice"]
        if choice == "hybrid":
            return mix_label(f"global {self.cell_name}")
        if choice == "classical":
            return f"{classical_label()} (series too short for a network)"
        return f"global {self.cell_name}"

    def score_table(self) -> pd.DataFrame:
        """One row per series: its id column(s), points, the model's MASE, each baseline's
        MASE, and which forecast did best."""
        rows = []
        for key, entry in self.scores.items():
            row = dict(zip(self.id_names, self.ids[key], strict=True))
            row["points"] = entry["points"]
            row["model"] = entry["model"]["mase"]
            row.update({label_of(name): s["mase"] for name, s in entry["baselines"].items()})
            row["best"] = "model" if entry["best"] == "model" else label_of(entry["best"])
            row["model is"] = {"hybrid": "mix", "network": "network",
                               "classical": "classical"}[entry["choice"]]
            rows.append(row)
        return pd.DataFrame(rows)

    def wins(self) -> int:
        """Series on which the model's MASE was the lowest."""
        return sum(1 for entry in self.scores.values() if entry["best"] == "model")

    def verdict(self) -> str:
        """One plain sentence: the model's overall gMASE against the best baseline's."""
        model = self.overall.get("model", math.nan)
        baselines = {n: v for n, v in self.overall.items() if n != "model" and math.isfinite(v)}
        count = len(self.scores)
        won = f"it was best on {self.wins()} of {count} series"
        if not baselines or not math.isfinite(model):
            return f"The geometric-mean MASE could not be computed; {won}."
        name = min(baselines, key=baselines.get)
        best, label = baselines[name], label_of(name)
        if best < 1e-3 < model:
            return (f"{label} forecast the holdouts almost exactly (geometric-mean MASE "
                    f"{best:.2g}); the model's is {model:.3f}: use {label}'s forecasts here; {won}.")
        change = (model - best) / best * 100
        if abs(change) < 1:
            how = f"about the same as {label}'s ({best:.3f}), the best baseline"
        elif model < best:
            how = f"{abs(change):.0f}% lower than {label}'s ({best:.3f}), the best baseline"
        elif change > 200:
            how = f"{model / best:.1f} times {label}'s ({best:.3f}), the best baseline"
        else:
            how = f"{change:.0f}% higher than {label}'s ({best:.3f}), the best baseline"
        return (f"Over {count} series, the model's geometric-mean MASE is {model:.3f}, {how}; "
                f"{won}.")

    def metrics_json(self) -> dict:
        """metrics.json of the command line: settings, an entry per series, the overall gMASE."""
        config = self.config
        return _json_safe({
            "cell": config.cell,
            "horizon": config.horizon,
            "holdout": config.holdout,
            "season": config.season,
            "window": config.window,
            "combine": config.combine,
            "id_columns": list(self.id_names),
            "seconds": self.seconds,
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "stopped_by_user": self.stopped_by_user,
            "overall": {"gmase": self.overall, "series": len(self.scores),
                        "model_best_on": self.wins(), "verdict": self.verdict()},
            "series": {key: {"ids": dict(zip(self.id_names, self.ids[key], strict=True)),
                             **entry} for key, entry in self.scores.items()},
            "skipped": self.skipped,
            "notes": self.notes,
            "global_network": self.summary,
            **({"covariates": self.covariates} if self.covariates else {}),
        })


def panel_covariates(panel: Mapping[str, Any], config: ForecastConfig,
                     given: Mapping[str, Covariates] | None) -> dict[str, Covariates]:
    """id -> the covariates each series reads ({} when the settings name none; calendar
    features alone are made from each series' dates).

    Raises:
        InputError: the settings name covariates whose values were not given for a series.
    """
    if not uses_covariates(config):
        return {}
    given = given or {}
    found = {key: covariates_for(config, given.get(key), "the forecast of every series",
                                 panel[key]) for key in panel}
    return {key: value for key, value in found.items() if value is not None and value.used}


def with_covariate_horizon(panel: Mapping[str, Any], config: ForecastConfig,
                           covariates: Mapping[str, Covariates]):
    """`usable_series`, with the horizon at most the future rows every series' known
    covariates give (when no horizon is set), and checked against them.

    Raises:
        InputError: as `usable_series`; a series' known covariates do not cover the horizon.
    """
    usable, skipped, resolved = usable_series(panel, config)
    known = [covariates[key] for key in usable if key in covariates and covariates[key].known]
    if known and config.horizon is None:
        rows = min(value.future_rows for value in known)
        if 0 < rows < resolved.horizon:
            usable, skipped, resolved = usable_series(panel, config.replace(horizon=rows))
    for key, data in usable.items():
        try:
            check_horizon(covariates.get(key), len(data), resolved.horizon)
        except InputError as error:
            raise InputError(f"Series '{key}': {error}") from error
    return usable, skipped, resolved


def compare_all_covariates(forecaster: GlobalRNNForecaster, scores: dict) -> dict:
    """Did the covariates help: the geometric-mean MASE over the series with and without them,
    in words."""
    used = next((member.describe_covariates() for member in forecaster.members_.values()
                 if member.describe_covariates()), "the covariates")
    with_them = geometric_mean(entry["model"]["mase"] for entry in scores.values()
                               if "without_covariates" in entry)
    without = geometric_mean(entry["without_covariates"]["mase"] for entry in scores.values()
                             if "without_covariates" in entry)
    change = (with_them - without) / without * 100 if without else math.nan
    count = sum(1 for entry in scores.values() if "without_covariates" in entry)
    if not math.isfinite(change):
        text = (f"With {used} the geometric-mean MASE over {count} series is {with_them:.3g}; "
                f"without them {without:.3g}.")
    elif abs(change) < 2:
        text = (f"The covariates made no real difference: geometric-mean MASE over {count} "
                f"series {with_them:.3f} with {used}, {without:.3f} without them.")
    elif change < 0:
        text = (f"The covariates helped: with {used} the geometric-mean MASE over {count} "
                f"series is {with_them:.3f}, {-change:.0f}% lower than the same network "
                f"without them ({without:.3f}).")
    else:
        text = (f"The covariates did not help: with {used} the geometric-mean MASE over "
                f"{count} series is {with_them:.3f}, {change:.0f}% higher than the same network "
                f"without them ({without:.3f}); consider leaving them out.")
    return {"used": used, "gmase_with": with_them, "gmase_without": without,
            "helped": bool(math.isfinite(change) and change <= -2), "change_percent": change,
            "text": text}


def usable_series(panel: Mapping[str, Any], config: ForecastConfig
                  ) -> tuple[dict[str, Any], dict[str, str], ForecastConfig]:
    """(id -> series long enough for the holdout, id -> why the others are not, `config` with
    the panel's season, horizon and holdout filled in).

    Raises:
        InputError: no series is long enough; the message says what each needs.
    """
    datas = {key: as_series(series, config.season) for key, series in panel.items()}
    season = common_season(datas, config)
    horizon = common_horizon(datas, config)
    holdout = int(config.holdout or horizon)
    usable, skipped = {}, {}
    for key, data in datas.items():
        if len(data) - holdout < MIN_TRAINING_POINTS:
            skipped[key] = (f"{len(data)} points: too few to keep {holdout} for the holdout and "
                            f"learn from at least {MIN_TRAINING_POINTS}")
        else:
            usable[key] = dataclasses.replace(data, season=season)
    if not usable:
        raise InputError(
            f"No series is long enough: each needs at least {holdout + MIN_TRAINING_POINTS} "
            f"points (a holdout of {holdout} and {MIN_TRAINING_POINTS} to learn from). "
            + "; ".join(f"'{key}': {why}" for key, why in list(skipped.items())[:5])
            + ". Use a shorter horizon or holdout, or longer series."
        )
    return usable, skipped, config.replace(season=season, horizon=horizon, holdout=holdout)


def forecast_all_task(payload: dict, context: JobContext) -> ManyForecastResult:
    """Job task: payload = {"panel": Panel or {id: series}, "config": ForecastConfig.to_dict()},
    optionally "ids" ({id: id values}), "id_names", "notes", "skipped" (when the panel is a plain
    mapping), and "covariates" ({id: Covariates}, read from the same file) when the settings
    name some. Tests may add "debug": {"autoets": False} (quick baselines only).

    Raises:
        InputError: no series is long enough for the holdout; covariates named in the
            settings but not given, or not covering the horizon.
        TrainingError: the loss became NaN/inf.
        JobStopped: Stop was pressed before the first epoch finished.
    """
    started = time.perf_counter()
    panel: Mapping[str, Any] = payload["panel"]
    config = ForecastConfig.from_dict(payload["config"])
    covariates = panel_covariates(panel, config, payload.get("covariates"))
    debug = payload.get("debug") or {}
    id_names = tuple(payload.get("id_names") or getattr(panel, "id_names", ("series",)))
    ids = dict(payload.get("ids") or getattr(panel, "ids", {}) or {})
    notes = list(payload.get("notes") or getattr(panel, "notes", ()))
    skipped = dict(payload.get("skipped") or getattr(panel, "dropped", {}) or {})

    usable, skipped_now, config = with_covariate_horizon(panel, config, covariates)
    covariates = {key: covariates[key] for key in usable if key in covariates}
    skipped.update(skipped_now)
    if skipped_now:
        left = list(skipped_now)
        notes.append(f"{len(left)} series not forecast (too short for a holdout of "
                     f"{config.holdout}): " + ", ".join(f"'{key}'" for key in left[:10])
                     + ("..." if len(left) > 10 else "") + ".")
    season, horizon, holdout = config.season, config.horizon, config.holdout

    trains = {key: data.head(len(data) - holdout) for key, data in usable.items()}
    context.say(f"Preparing the windows of {len(trains)} series...")
    forecaster = GlobalRNNForecaster(config).fit(trains, context=context, debug=debug,
                                                 covariates=covariates)
    config = config.replace(window=forecaster.window_ or None)
    holdout_forecasts = forecaster.predict(holdout)
    future_forecasts = forecaster.predict(horizon, panel=usable, covariates=covariates)
    without = {}
    if forecaster.uses_covariates and not context.should_stop():
        # Did they help: the same network without them, scored on the same holdouts.
        context.say("Training the same network without the covariates, to see whether they "
                    "helped...")
        try:
            plain = GlobalRNNForecaster(without_covariates(config)).fit(
                trains, context=_Quiet(context), debug=debug)
            without = plain.predict(holdout)
        except JobStopped:
            notes.append("Stopped before the same network without the covariates was "
                         "trained: whether they helped is not known.")

    context.say("Scoring the baselines on every series...")
    names = QUICK_BASELINES + (SLOW_BASELINES if debug.get("autoets", True) else ())
    scores, frames = {}, []
    for key, data in usable.items():
        train, actual = trains[key], data.values[len(trains[key]):]
        past, future = holdout_forecasts[key], future_forecasts[key]
        member = forecaster.members_[key]
        baseline_scores, baseline_paths = {}, {}
        for baseline in make_baselines(season, names):
            path = baseline.fit(train).predict(holdout).mean
            ahead = baseline.clone().fit(data).predict(horizon).mean
            baseline_paths[baseline.name] = np.concatenate([path, ahead])
            baseline_scores[baseline.name] = metric_functions.score(actual, path, train.values,
                                                                    season)
        entry = {
            "points": len(data),
            "model": metric_functions.score(actual, past.mean, train.values, season),
            "baselines": baseline_scores,
            "choice": member.choice_,
        }
        if member.choice_ == "hybrid":
            network = member.parts(holdout)["network"]
            entry["network"] = metric_functions.score(actual, network, train.values, season)
        if without:
            entry["without_covariates"] = metric_functions.score(
                actual, without[key].mean, train.values, season)
        entry["best"] = best_forecaster(entry)
        scores[key] = entry
        frames.append(_series_rows(key, ids.get(key, (key,)), id_names, past, future, actual,
                                   baseline_paths))
    overall = {"model": geometric_mean(e["model"]["mase"] for e in scores.values())}
    for name in names:
        overall[name] = geometric_mean(e["baselines"][name]["mase"] for e in scores.values())
    model_path = Path(context.workdir) / "model.rnnlab"
    forecaster.save(model_path, ids={key: tuple(ids.get(key, (key,))) for key in usable},
                    id_names=id_names)
    if forecaster.classical_only_:
        notes.append(
            f"{len(forecaster.classical_only_)} series too short for a network window got the "
            f"mean of {classical_label()}: "
            + ", ".join(f"'{key}'" for key in forecaster.classical_only_[:10]) + "."
        )
    return ManyForecastResult(
        config=config,
        id_names=id_names,
        ids={key: tuple(ids.get(key, (key,))) for key in usable},
        scores=scores,
        overall=overall,
        forecast=pd.concat(frames, ignore_index=True),
        history=forecaster.history_,
        epochs_run=len(forecaster.history_),
        best_epoch=forecaster.best_epoch_,
        seconds=time.perf_counter() - started,
        stopped_by_user=forecaster.stopped_by_user_,
        skipped=skipped,
        notes=notes,
        summary=forecaster.summary(),
        model_path=str(model_path),
        covariates=compare_all_covariates(forecaster, scores) if without else {},
    )


def _series_rows(key: str, id_values, id_names, past, future, actual,
                 baseline_paths: dict[str, np.ndarray]) -> pd.DataFrame:
    """One series' rows of the forecast table: holdout then future."""
    holdout = past.to_frame()
    holdout.insert(1, "actual", np.asarray(actual, dtype="float64"))
    holdout["part"] = "holdout"
    ahead = future.to_frame()
    ahead.insert(1, "actual", np.nan)
    ahead["part"] = "future"
    frame = pd.concat([holdout, ahead], ignore_index=True)
    for name, path in baseline_paths.items():
        frame[f"baseline_{name}"] = path
    for position, (name, value) in enumerate(zip(id_names, id_values, strict=True)):
        frame.insert(position, name, value)
    return frame


def run_forecast_all(panel: Mapping[str, Any], config: ForecastConfig,
                     context: JobContext | None = None, **extra) -> ManyForecastResult:
    """Forecast every series in this process (command line, tests); errors propagate."""
    return run_inline(forecast_all_task, {"panel": panel, "config": config.to_dict(), **extra},
                      context)


# ---------------------------------------------------------------------------------------------
# The command line: `python -m core forecast --data F --id-col COL --out DIR` (no --series)


def read_panel(args, missing: str, known=(), past=(), calendar: bool = False):
    """Every series of `--data` and the covariates each reads: (Panel, id -> Covariates).

    A long table's series are told apart by --id-col, else by the detected id columns; a wide
    table gives a series per column of numbers (the covariate columns left out). Rows after
    the last value (target empty) give the known covariates over the forecast.

    Raises:
        InputError: the file cannot be read, an id column holds a different value on every
            row (a wide table's series, or the time), no series can be made, or a covariate
            cannot be used (the message names the series).
    """
    from core.data import read_file
    from core.forecasting_cli import id_columns

    table = read_file(args.data, sheet=getattr(args, "sheet", None), sep=args.sep,
                      decimal=args.decimal, encoding=args.encoding)
    ids = id_columns(args)
    raw = table._raw if table._raw is not None else table.frame.astype(str)
    for name in ids or ():
        if name not in raw.columns:
            continue  # to_panel says which columns there are
        cells = raw[name].astype(str).str.strip()
        cells = cells[(cells != "") & ~cells.str.lower().isin(("nan", "none"))]
        if len(cells) >= 20 and cells.nunique() == len(cells):
            raise InputError(
                f"Column '{name}' has a different value on each of its {len(cells)} rows, so it "
                "cannot tell series apart: it looks like one series of a wide table (one column "
                "per series) or the time column. To forecast each column of numbers as its own "
                "series, use --all-series without --id-col."
            )
    return panel_with_covariates(table, args.target, args.date_col, ids, missing,
                                 getattr(args, "freq", None), known, past, calendar)


def panel_with_covariates(table, target: str | None, date_col: str | None, id_cols,
                          missing: str = "interpolate", freq: str | None = None, known=(),
                          past=(), calendar: bool = False):
    """A table's series and the covariates each reads: (Panel, id -> Covariates); see
    `read_panel` (the page calls this on the table it has read).

    Raises:
        InputError: no series can be made, or a covariate cannot be used (the message names
            the series).
    """
    from core.data import to_panel
    from core.forecast.covariates import read_covariates, split_future_rows

    panel = to_panel(table, target, date_col, id_cols, missing=missing, freq=freq)
    names = {*split_names(known), *split_names(past)}
    if not (names or calendar):
        return panel, {}
    long = bool(panel.id_cols)
    columns = None if long else [key for key in panel if key not in names]
    if not long and not columns:
        raise InputError("Every column of numbers is a covariate: no series is left to "
                         "forecast. Leave at least one column out of the covariates.")
    # Future rows (target empty, covariates filled): after the last value of any series.
    targets = [panel.target] if long else columns
    trimmed, rows = table, None
    for name in targets:
        kept, count = split_future_rows(table, name, panel.date_col)
        if rows is None or count < rows:
            trimmed, rows = kept, count
    panel = to_panel(trimmed, panel.target if long else None, panel.date_col,
                     list(panel.id_cols) if long else None, columns=columns, missing=missing,
                     freq=freq)
    found = {}
    for key in panel:
        try:
            found[key] = read_covariates(
                table, panel[key], split_names(known), split_names(past), calendar,
                series_id=key if long else None, id_cols=list(panel.id_cols) if long else None)
        except InputError as error:
            raise InputError(f"Series '{key}': {error}") from error
    return panel, found


def run_all_series_command(args, config: ForecastConfig) -> int:
    """Forecast every series of the file and write metrics.json, forecast.csv, history.csv and
    config.json to `args.out`; print one line per series and the overall verdict."""
    import json

    from core.export import safe_csv
    from core.forecasting_cli import _history_frame, _output_folder

    panel, covariates = read_panel(args, config.missing, config.covariates,
                                   config.past_covariates, config.calendar)
    notes = list(panel.notes)
    for key, value in covariates.items():
        notes += [f"Series '{key}': {note}" for note in value.notes]
    out = _output_folder(args.out)
    result = run_forecast_all(panel, config, JobContext(out), covariates=covariates,
                              notes=notes)
    metrics = result.metrics_json()
    metrics["data"] = {"file": str(args.data), "target": panel.target,
                       "date_col": panel.date_col, "freq": panel.freq}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "forecast.csv").write_text(safe_csv(result.forecast))
    history = _history_frame(result.history, ["epoch", "loss", "val_loss", "seconds"])
    (out / "history.csv").write_text(safe_csv(history))
    (out / "config.json").write_text(result.config.to_json())
    print(f"{len(result.scores)} series forecast with one {result.cell_name} network "
          f"({result.epochs_run} epochs, {result.seconds:.1f} s); holdout MASE per series:")
    for key, entry in result.scores.items():
        best = "model" if entry["best"] == "model" else label_of(entry["best"])
        print(f"  {key:<20} model {entry['model']['mase']:.3f}  best: {best}")
    for key, why in result.skipped.items():
        print(f"note: series '{key}' was not forecast: {why}")
    print(result.verdict())
    if result.covariates:
        print(result.covariates["text"])
    print(f"results in {out} (model file: {Path(result.model_path).name})")
    return 0


# ---------------------------------------------------------------------------------------------
# A saved global model forecasting every series again: `python -m core predict` with its file


def predict_all_series(model_source: Any, panel: Mapping[str, Any], horizon: int | None = None,
                       covariates: Mapping[str, Covariates] | None = None
                       ) -> tuple[pd.DataFrame, GlobalRNNForecaster, list[str]]:
    """Every series' forecast of `horizon` steps (default: the model's) after the end of its
    data in `panel`, by a model file the all-series forecast saved (or the forecaster loaded
    from it), without training: (the forecast table with the id column(s), the loaded
    forecaster, notes).

    Raises:
        ModelFileError: the file is refused (not ours, tampered, another kind).
        InputError: a series the model learnt is missing from the data, or has another
            frequency.
    """
    forecaster = (model_source if isinstance(model_source, GlobalRNNForecaster)
                  else GlobalRNNForecaster.load(model_source))
    forecaster.check_frequency(panel)
    known = [value for key, value in (covariates or {}).items()
             if key in forecaster.members_ and value.known]
    if known and horizon is None:  # the known covariates' future rows bound the horizon
        rows = min(value.future_rows for value in known)
        horizon = rows if 0 < rows < forecaster.horizon_ else None
    forecasts = forecaster.predict(horizon, panel=panel, covariates=covariates)
    id_names = tuple(getattr(panel, "id_names", None) or forecaster.id_names_)
    panel_ids = dict(getattr(panel, "ids", {}) or {})
    frames = []
    for key, forecast in forecasts.items():
        frame = forecast.to_frame()
        values = panel_ids.get(key) or forecaster.ids_.get(key) or (key,)
        if len(values) != len(id_names):
            values = (key,) * len(id_names)
        for position, (name, value) in enumerate(zip(id_names, values, strict=True)):
            frame.insert(position, name, value)
        frames.append(frame)
    unknown = [key for key in panel if key not in forecaster.members_]
    notes = []
    if unknown:
        notes.append(f"{len(unknown)} series of the data are not in the model and were not "
                     "forecast: " + ", ".join(f"'{key}'" for key in unknown[:10])
                     + ("..." if len(unknown) > 10 else "") + ".")
    return pd.concat(frames, ignore_index=True), forecaster, notes


def run_predict_all_command(args, model_source) -> int:
    """`python -m core predict --model F` with an all-series model file: read every series of
    `--data` and write forecast.csv (the id column(s), time, forecast, intervals)."""
    from core.export import safe_csv
    from core.forecasting_cli import _output_folder

    known, past, calendar = GlobalRNNForecaster.load(model_source).covariate_names()
    panel, covariates = read_panel(args, args.missing, known, past, calendar)
    frame, forecaster, notes = predict_all_series(model_source, panel, args.horizon,
                                                  covariates)
    out = _output_folder(args.out)
    (out / "forecast.csv").write_text(safe_csv(frame))
    print(f"{len(forecaster.members_)} series forecast {len(frame) // len(forecaster.members_)} "
          f"points ahead by the saved {forecaster.label} (saved {forecaster.created_})")
    for note in notes:
        print(f"note: {note}")
    print(f"results in {out}")
    return 0


# ---------------------------------------------------------------------------------------------
# The same on the page: a job forecasting every series of the file shown with an uploaded model

SAVED_TASK = "core.forecasting_many:saved_all_task"


@dataclasses.dataclass
class SavedManyForecast:
    """What a saved global model forecast after the end of every series (no training)."""

    forecast: pd.DataFrame  # the id column(s), time, forecast, lower/upper 80/95
    id_names: tuple[str, ...]
    ids: dict[str, tuple]  # series key -> its id column values
    label: str  # what the model is ("GRU network + AutoETS + ...")
    horizon: int  # steps forecast after each series' end
    created: str  # when the file was saved (ISO, UTC)
    notes: list[str]
    seconds: float = 0.0

    def rows_of(self, key: str) -> pd.DataFrame:
        """One series' rows of the forecast table."""
        frame = self.forecast
        for name, value in zip(self.id_names, self.ids[key], strict=True):
            frame = frame[frame[name].astype(str) == str(value)]
        return frame


def load_global_model(model_source: Any) -> GlobalRNNForecaster:
    """The global forecaster of an all-series model file; a one-series file is refused in
    plain words (the page's other mode loads it).

    Raises:
        InputError: a one-series model file.
        ModelFileError: the file is refused (not ours, tampered, another kind).
    """
    from core.modelfile import ModelFileError

    try:
        return GlobalRNNForecaster.load(model_source)
    except ModelFileError:
        if model_file_kind(model_source) == "forecast":
            raise InputError(ONE_SERIES_FILE) from None
        raise


def forecast_all_with_saved_model(model_source: Any, panel: Mapping[str, Any], table=None,
                                  read: Mapping[str, Any] | None = None,
                                  horizon: int | None = None) -> SavedManyForecast:
    """Every series of `panel` forecast after its end by an all-series model file, without
    training. A model trained with covariates reads the same columns from `table` (the file
    the panel came from; `read` names its "target", "date_col", "id_cols", "missing", "freq").

    Raises:
        InputError: a one-series model file; a series the model learnt is missing from the
            data, has another frequency, or lacks a covariate column the model reads.
        ModelFileError: the file is refused (not ours, tampered).
    """
    started = time.perf_counter()
    forecaster = load_global_model(model_source)
    known, past, calendar = forecaster.covariate_names()
    covariates = None
    if known or past or calendar:
        used = ", ".join([*known, *past] + (["calendar features"] if calendar else []))
        if table is None or read is None:
            raise InputError(f"This model reads covariates ({used}) from the data, but no "
                             "table was given to read them from.")
        try:
            panel, covariates = panel_with_covariates(
                table, read.get("target"), read.get("date_col"), read.get("id_cols"),
                read.get("missing", "interpolate"), read.get("freq"), known, past, calendar)
        except InputError as error:
            raise InputError(f"This model was trained with covariates ({used}) and reads them "
                             f"from this file: {error}") from error
    frame, forecaster, notes = predict_all_series(forecaster, panel, horizon, covariates)
    id_names = tuple(getattr(panel, "id_names", None) or forecaster.id_names_)
    panel_ids = dict(getattr(panel, "ids", {}) or {})
    ids = {}
    for key in forecaster.members_:
        values = tuple(panel_ids.get(key) or forecaster.ids_.get(key) or (key,))
        ids[key] = values if len(values) == len(id_names) else (key,) * len(id_names)
    steps = len(frame) // max(len(forecaster.members_), 1)
    return SavedManyForecast(forecast=frame, id_names=id_names, ids=ids, label=forecaster.label,
                             horizon=steps, created=forecaster.created_, notes=notes,
                             seconds=time.perf_counter() - started)


def saved_all_task(payload: dict, context: JobContext) -> SavedManyForecast:
    """Job task: payload = {"model": bytes of a forecast_many .rnnlab file, "panel": Panel},
    optionally "table" and "read" (the file the panel came from, for a model that reads
    covariates) and "horizon"."""
    context.say("Checking the model file and forecasting every series...")
    return forecast_all_with_saved_model(payload["model"], payload["panel"],
                                         payload.get("table"), payload.get("read"),
                                         payload.get("horizon"))
