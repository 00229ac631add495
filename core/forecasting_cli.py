"""`python -m core forecast|predict|backtest ...`: train a forecaster on a CSV and write its
results to a folder; forecast again from a saved model file; score from several origins.

Every option left out takes the same default as the forecast page: the `ForecastConfig`
defaults, then `resolve_config` for the settings derived from the data (season, horizon,
holdout, window, transform).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import CELLS, ForecastConfig

if TYPE_CHECKING:
    import pandas as pd

_DEFAULTS = ForecastConfig()

_DESCRIPTION = """\
Train a SimpleRNN, LSTM or GRU forecaster on one column of a CSV file.

The last HOLDOUT points are set aside: the model never sees them while training or validating,
and forecasts all of them in one multi-step forecast from the end of the training part. Its
errors (MAE, RMSE, sMAPE, MASE) are compared with the naive, seasonal-naive, drift, AutoETS and
AutoTheta baselines on the same points. Then the model forecasts HORIZON points past the end of
the data. A series too short for a network gets the mean of AutoETS and AutoTheta, and says so.

Writes to DIR: metrics.json (scores, settings, what was chosen and why, verdict), forecast.csv
(time, actual, forecast, 80% and 95% intervals, then each baseline's forecast as
baseline_naive, ...; holdout rows, then future rows), history.csv (one row per epoch),
config.json (every setting, resolved: a settings file the forecast page loads) and
model.rnnlab (the model file `predict` uses).
"""

_EPILOG = """\
example:
  python -m core forecast --data sample_data/air_passengers.csv --target passengers \\
      --holdout 24 --out runs/airline

Bad input (unreadable file, unknown column, series too short...) prints one line starting
with 'error:' and exits with code 2.
"""


def add_forecast_command(subparsers) -> None:
    """Register `forecast` on the `python -m core` parser."""
    parser = subparsers.add_parser(
        "forecast",
        help="train a forecaster on a CSV and score it against baselines",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(parser)
    _add_model_options(parser)
    _add_covariate_options(parser)
    parser.add_argument(
        "--all-series", action="store_true",
        help="forecast every series of the file with one global network, as --id-col does: "
        "a long table's id column(s) are detected, and a wide table (one column per series) "
        "gives a series per column of numbers, its name in the 'series' column of forecast.csv",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the results (created if needed)"
    )
    parser.set_defaults(run=run_forecast_command)
    add_predict_command(subparsers)
    add_backtest_command(subparsers)


def _add_data_options(parser) -> None:
    """The options that read the data (shared by forecast, predict and backtest)."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", required=True, metavar="FILE",
        help="CSV file, or .xlsx / .ods workbook, to read",
    )
    data.add_argument(
        "--sheet", metavar="NAME",
        help="workbook sheet to read (default: the first sheet that holds a table)",
    )
    data.add_argument(
        "--id-col", action="append", metavar="COL",
        help="column telling several series apart in a long table (store, product...): repeat "
        "the option or separate names with commas (default: detected); without --series, "
        "forecast writes every series (one global network, metrics.json with an entry per "
        "series and the overall geometric-mean MASE, forecast.csv with the id column)",
    )
    data.add_argument(
        "--series", metavar="ID",
        help="in a file holding several series (a long table), forecast this one: its value in "
        "the id column (with several id columns, the values joined by ' / ')",
    )
    data.add_argument(
        "--freq", metavar="F",
        help="frequency, to override the detected one: h, D, B, W, MS, QS or YS; times move to "
        "the start of their period and values in the same period are averaged (default: detected)",
    )
    data.add_argument(
        "--target", metavar="COL",
        help="column to forecast (default: the first numeric column that is not the time)",
    )
    data.add_argument(
        "--date-col", metavar="COL",
        help="time column: dates, months such as 1949-01, or years (default: detected)",
    )
    data.add_argument("--sep", metavar="S", help="delimiter: , ; tab or | (default: detected)")
    data.add_argument(
        "--decimal", metavar="D", help="decimal mark: . or , (default: detected)"
    )
    data.add_argument("--encoding", metavar="E", help="file encoding (default: detected)")
    data.add_argument(
        "--missing", choices=ForecastConfig.CHOICES["missing"], default=_DEFAULTS.missing,
        help="how gaps and missing values are filled (default: %(default)s)",
    )


def _add_covariate_options(parser) -> None:
    """Explanatory columns as inputs of the network (core/forecast/covariates.py)."""
    group = parser.add_argument_group(
        "covariates", "other columns of the file as inputs of the network; metrics.json then "
        "compares the model with the same model trained without them")
    group.add_argument(
        "--covariates", metavar="COL[,COL...]", default="",
        help="columns known in advance (planned prices, holidays, a weather forecast): their "
        "holdout values are used when scoring the holdout, and rows after the last value of "
        "the target (target empty) give their values over the forecast",
    )
    group.add_argument(
        "--past-covariates", metavar="COL[,COL...]", default="",
        help="columns known only up to now: the network reads them over its input window",
    )
    group.add_argument(
        "--calendar", action="store_true",
        help="calendar features (day of week, time of year, hour) as inputs; daily and finer "
        "data only",
    )


def _load_with_covariates(args: argparse.Namespace, missing: str, known, past, calendar: bool):
    """The series and its covariates the data options describe."""
    from core.forecast.covariates import load_with_covariates

    series_id = getattr(args, "series", None)
    return load_with_covariates(
        args.data, known=known, past=past, calendar=calendar, target=args.target,
        date_col=args.date_col, sep=args.sep, decimal=args.decimal, encoding=args.encoding,
        missing=missing, sheet=getattr(args, "sheet", None), freq=getattr(args, "freq", None),
        series=series_id, id_cols=id_columns(args) if series_id else None,
    )


def _add_model_options(parser) -> None:
    """The forecast and model options (shared by forecast and backtest)."""
    task = parser.add_argument_group("forecast")
    task.add_argument(
        "--horizon", type=int, metavar="H",
        help="points to forecast past the end of the data (default: from the frequency: yearly "
        "6, quarterly 8, monthly 12, weekly 13, daily 14, hourly 24; never above a sixth of "
        "the series)",
    )
    task.add_argument(
        "--holdout", type=int, metavar="N",
        help="last points kept out of training and forecast in one go to score the model "
        "(default: the horizon)",
    )
    task.add_argument(
        "--season", type=int, metavar="M",
        help="points per seasonal cycle (default: from the frequency: monthly 12, quarterly 4, "
        "weekly 52, daily 7, yearly 1, ...)",
    )
    task.add_argument(
        "--window", type=int, metavar="W",
        help="past points the network sees (default: two seasons or twice the horizon, "
        "whichever is longer, at least 8; for weekly data twice the horizon; shortened to fit "
        "a short series)",
    )
    task.add_argument(
        "--strategy", choices=ForecastConfig.CHOICES["strategy"], default=_DEFAULTS.strategy,
        help="direct: one output per future step; recursive: one step, fed back "
        "(default: %(default)s)",
    )
    task.add_argument(
        "--transform", choices=ForecastConfig.CHOICES["transform"], default=_DEFAULTS.transform,
        help="auto takes logs when the series is positive and its swings grow with its level "
        "(decided on the training part); difference feeds the network one-step changes "
        "(default: %(default)s)",
    )

    model = parser.add_argument_group("model and training")
    model.add_argument(
        "--cell", choices=CELLS, default=_DEFAULTS.cell,
        help="recurrent cell: lstm, gru or rnn (SimpleRNN) (default: %(default)s)",
    )
    _number(model, "--num-layers", int, "stacked recurrent layers")
    _number(model, "--units", int, "units per recurrent layer")
    _number(model, "--dropout", float, "dropout after each recurrent layer, 0 to 0.9")
    _number(model, "--learning-rate", float, "Adam's learning rate")
    _number(model, "--batch-size", int, "windows per training step")
    _number(model, "--epochs", int, "most passes over the training windows")
    _number(model, "--patience", int,
            "epochs without a better validation loss before stopping (0: never stop early); "
            "the best weights are kept either way")
    _number(model, "--clipnorm", float, "gradient clipping norm (0: no clipping)")
    _number(model, "--ensemble", int, "networks trained with consecutive seeds and averaged")
    _number(model, "--seed", int, "random seed; the same seed and settings give the same run")


def id_columns(args: argparse.Namespace) -> list[str] | None:
    """The --id-col names (repeated or comma-separated), or None when none was given."""
    names = [name.strip() for given in getattr(args, "id_col", None) or [] for name in given.split(",")]
    return [name for name in names if name] or None


def _number(group, flag: str, kind: type, text: str) -> None:
    name = flag[2:].replace("-", "_")
    group.add_argument(
        flag, type=kind, default=getattr(_DEFAULTS, name), metavar=name.split("_")[-1].upper(),
        help=f"{text} (default: %(default)s)",
    )


def config_from_args(args: argparse.Namespace) -> ForecastConfig:
    """The ForecastConfig the options describe (None where the data decides)."""
    fields = {name: getattr(args, name) for name in ForecastConfig.__dataclass_fields__
              if hasattr(args, name)}
    return ForecastConfig(**fields)


def load_series_and_covariates(args: argparse.Namespace, config: ForecastConfig):
    """(series, covariates the settings name or None): what forecast, backtest and tune read."""
    if config.covariates or config.past_covariates or config.calendar:
        _refuse_many_series(args)
        return _load_with_covariates(args, config.missing, config.covariates,
                                     config.past_covariates, config.calendar)
    return _load_series(args, config.missing), None


def _refuse_many_series(args: argparse.Namespace) -> None:
    """A long table without --series: say which series there are (one is forecast at a time)."""
    from core.data import read_file, series_labels
    from core.errors import InputError

    ids = id_columns(args)
    if ids and not getattr(args, "series", None):
        table = read_file(args.data, sheet=getattr(args, "sheet", None), sep=args.sep,
                          decimal=args.decimal, encoding=args.encoding)
        labels = series_labels(table, ids)
        shown = ", ".join(labels[:6]) + (", ..." if len(labels) > 6 else "")
        raise InputError(
            f"The file holds {len(labels)} series told apart by {', '.join(ids)} ({shown}); "
            f"this command forecasts one at a time: choose it with --series, for example "
            f"--series {labels[0] if labels else 'ID'}."
        )


def _load_series(args: argparse.Namespace, missing: str):
    """The series the data options describe."""
    from core.data import load_series

    _refuse_many_series(args)
    series = load_series(
        args.data, target=args.target, date_col=args.date_col, sep=args.sep,
        decimal=args.decimal, encoding=args.encoding, missing=missing,
        sheet=getattr(args, "sheet", None), freq=getattr(args, "freq", None),
        series=getattr(args, "series", None),
        id_cols=id_columns(args) if getattr(args, "series", None) else None,
    )
    return series


def _data_info(args: argparse.Namespace, series) -> dict:
    """What was read, for the JSON files."""
    return {
        "file": str(Path(args.data).resolve()),
        "target": series.name,
        "date_col": series.date_col,
        "points": int(len(series.values)),
        "freq": series.freq,
        "filled": int(series.filled),
        "notes": list(series.notes),
    }


def _output_folder(path: str) -> Path:
    from core.errors import InputError

    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"Cannot create the output folder '{out}' ({error.strerror}). Choose another --out."
        ) from error
    return out


def forecast_table(result) -> pd.DataFrame:
    """forecast.csv: time, actual, forecast and its intervals, then each baseline's forecast
    (`baseline_naive`, ...) and the network alone when it was mixed, holdout rows then future."""
    frame = result.forecast.drop(columns="part").reset_index(drop=True)
    baselines = result.baselines.reset_index(drop=True)
    for name in baselines.columns:
        if name not in ("time", "part"):
            frame[f"baseline_{name}"] = baselines[name].to_numpy()
    if result.network is not None:
        frame["network"] = result.network["network"].to_numpy()
    return frame


def run_forecast_command(args: argparse.Namespace) -> int:
    from core.export import safe_csv
    from core.forecasting import run_forecast, verdict
    from core.jobs import JobContext

    config = config_from_args(args)
    if args.all_series and getattr(args, "series", None):
        from core.errors import InputError

        raise InputError("--all-series forecasts every series and --series one of them: give "
                         "one of the two.")
    if (id_columns(args) or args.all_series) and not getattr(args, "series", None):
        from core.forecasting_many import run_all_series_command

        return run_all_series_command(args, config)  # every series, one global network
    series, covariates = load_series_and_covariates(args, config)
    out = _output_folder(args.out)
    result = run_forecast(series, config, JobContext(out), covariates=covariates)

    metrics = result.metrics_json()
    metrics["data"] = _data_info(args, series)
    if covariates is not None and covariates.notes:
        metrics["data"]["notes"] += list(covariates.notes)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "forecast.csv").write_text(safe_csv(forecast_table(result)))
    history = _history_frame(result.history, ["epoch", "loss", "val_loss", "seconds"])
    (out / "history.csv").write_text(safe_csv(history))
    # Exactly a settings file: it loads on the forecast page and through ForecastConfig.from_json.
    (out / "config.json").write_text(result.config.to_json())

    model = result.metrics["model"]
    print(f"{result.model_label} on '{series.name}': MASE {model['mase']:.3f}, "
          f"sMAPE {model['smape']:.1f}%, {result.epochs_run} epochs, {result.seconds:.1f} s")
    print(result.choice_text)
    print(verdict(result))
    if result.covariates:
        print(result.covariates["text"])
    for warning in result.warnings:
        print(f"warning: {warning}")
    print(f"results in {out} (model file: {Path(result.model_path).name})")
    return 0


# ---------------------------------------------------------------------------------------------
# predict: a saved model forecasts from the end of a series


_PREDICT_DESCRIPTION = """\
Forecast from the end of a CSV with a model file written by `forecast` (model.rnnlab), without
training again. The series must have the model's frequency (monthly data for a monthly model)
and at least as many points as the model's window needs.

Writes DIR/forecast.csv: time, forecast, lower_80, upper_80, lower_95, upper_95, one row per
point after the data's last one. A model file of every series of a file (`forecast` with
--id-col or --all-series and no --series) forecasts every series of --data again: forecast.csv
then starts with the id column(s).
"""

_PREDICT_EPILOG = """\
example:
  python -m core predict --model runs/airline/model.rnnlab \\
      --data sample_data/air_passengers.csv --out runs/airline-next

Bad input (unreadable file, damaged or foreign model file, another frequency...) prints one
line starting with 'error:' and exits with code 2.
"""


def add_predict_command(subparsers) -> None:
    """Register `predict` on the `python -m core` parser."""
    parser = subparsers.add_parser(
        "predict",
        help="forecast from the end of a CSV with a saved model file",
        description=_PREDICT_DESCRIPTION,
        epilog=_PREDICT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model", required=True, metavar="FILE",
        help="model file written by forecast (model.rnnlab), or the folder that holds it",
    )
    _add_data_options(parser)
    parser.add_argument(
        "--horizon", type=int, metavar="H",
        help="points to forecast past the end of the data (default: the model's horizon)",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder for forecast.csv (created if needed)"
    )
    parser.set_defaults(run=run_predict_command)


def _model_source(path: str) -> Path:
    source = Path(path)
    if source.is_dir() and (source / "model.rnnlab").is_file():
        return source / "model.rnnlab"
    return source


def _model_kind(source: Path) -> str:
    """The kind of network a model file holds ("forecast", "forecast_many", ...), checked."""
    from core.modelfile import load_model_file

    return load_model_file(source).kind


def run_predict_command(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from core.export import safe_csv
    from core.forecasting import forecast_with_saved_model, saved_model_covariates

    low, high = ForecastConfig.RANGES["horizon"]
    if args.horizon is not None and not low <= args.horizon <= high:
        raise InputError(f"--horizon must be {low} to {high} points; received {args.horizon}.")
    source = _model_source(args.model)
    if _model_kind(source) == "forecast_many":  # one network for every series of a file
        from core.forecasting_many import run_predict_all_command

        return run_predict_all_command(args, source)
    used = saved_model_covariates(source)
    covariates = None
    if used["known"] or used["past"] or used["calendar"]:
        # The model reads these columns: take them from the new data (or refuse, plainly).
        from core.data import ColumnNotFoundError

        try:
            series, covariates = _load_with_covariates(args, args.missing, used["known"],
                                                       used["past"], used["calendar"])
        except ColumnNotFoundError as error:
            names = ", ".join(f"'{name}'" for name in used["known"] + used["past"])
            raise InputError(
                f"This model was trained with the covariate(s) {names}, so the data must have "
                f"those columns: {error}"
            ) from error
    else:
        series = _load_series(args, args.missing)
    result = forecast_with_saved_model(source, series, args.horizon, covariates)
    out = _output_folder(args.out)
    (out / "forecast.csv").write_text(safe_csv(result.forecast))
    print(f"{len(result.forecast)} points forecast after {series.time[-1]} from '{series.name}' "
          f"by {result.label} (saved {result.created}, trained on "
          f"{result.trained_on['points']} points of '{result.trained_on['name']}')")
    print(f"results in {out}")
    return 0


# ---------------------------------------------------------------------------------------------
# backtest: the model and the baselines from several origins


_BACKTEST_DESCRIPTION = """\
Score the forecaster and the baselines from several origins (rolling-origin backtest).

The last origin is HORIZON points before the end of the data, the others HORIZON points apart
before it. At each origin every forecaster is fitted again on the data before it only and
forecasts the next HORIZON points in one go; its errors (MAE, RMSE, sMAPE, MASE) are averaged
over the folds. Takes the same data and model options as `forecast`.

Writes DIR/backtest.json: each fold's origin, time range and scores, the mean scores per
forecaster, and the best one by mean MASE.
"""

_BACKTEST_EPILOG = """\
example:
  python -m core backtest --data sample_data/air_passengers.csv --folds 3 \\
      --horizon 12 --out runs/airline-backtest

Bad input (too many folds for the series, unreadable file...) prints one line starting with
'error:' and exits with code 2.
"""


def add_backtest_command(subparsers) -> None:
    """Register `backtest` on the `python -m core` parser."""
    parser = subparsers.add_parser(
        "backtest",
        help="score the forecaster and the baselines from several origins",
        description=_BACKTEST_DESCRIPTION,
        epilog=_BACKTEST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(parser)
    _add_model_options(parser)
    _add_covariate_options(parser)
    parser.add_argument(
        "--folds", type=int, default=3, metavar="K",
        help="forecast origins, HORIZON points apart (default: %(default)s)",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder for backtest.json (created if needed)"
    )
    parser.set_defaults(run=run_backtest_command)


MAX_FOLDS = 20  # core.forecast.backtest.MAX_FOLDS, kept here for the option's check


def backtest_report(series, config: ForecastConfig, folds: int, covariates=None) -> dict:
    """Rolling-origin scores of the network and the baselines, as plain JSON-ready values
    (`core.forecast.backtest.run_backtest`'s report: what backtest.json holds); the network
    reads `covariates` when the settings name them.

    Raises:
        InputError: too few or too many folds for the series.
    """
    from core.errors import InputError
    from core.forecast.backtest import run_backtest

    if not 1 <= folds <= MAX_FOLDS:
        raise InputError(f"--folds must be 1 to {MAX_FOLDS}; received {folds}.")
    return run_backtest(series, config, folds, covariates=covariates).report


def run_backtest_command(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    series, covariates = load_series_and_covariates(args, config)
    report = backtest_report(series, config, args.folds, covariates)
    report["data"] = _data_info(args, series)
    if covariates is not None:
        report["data"]["notes"] += list(covariates.notes)
    out = _output_folder(args.out)
    (out / "backtest.json").write_text(json.dumps(report, indent=2))
    print(f"{len(report['folds'])} folds of {report['horizon']} steps on '{series.name}' "
          "(mean MASE, lower is better):")
    for name, scores in report["mean"].items():
        label = report["model"] if name == "model" else name
        mase = scores.get("mase")
        print(f"  {label:<15} {'n/a' if mase is None else format(mase, '.3f')}")
    if report.get("covariates"):
        print(f"the network read {report['covariates']}")
    print(f"best: {report['best']}; results in {out / 'backtest.json'}")
    return 0


def _history_frame(history: list[dict], columns: list[str]):
    import pandas as pd

    frame = pd.DataFrame(history)
    for column in columns:
        if column not in frame:
            frame[column] = float("nan")
    extra = [column for column in frame.columns if column not in columns]
    return frame[columns + extra]
