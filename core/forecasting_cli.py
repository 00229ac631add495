"""`python -m core forecast ...`: train a forecaster on a CSV and write its results to a folder.

Every option left out takes the same default as the forecast page: the `ForecastConfig`
defaults, then `resolve_config` for the settings derived from the data (season, horizon,
holdout, window, transform).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.config import CELLS, ForecastConfig

_DEFAULTS = ForecastConfig()

_DESCRIPTION = """\
Train a SimpleRNN, LSTM or GRU forecaster on one column of a CSV file.

The last HOLDOUT points are set aside: the model never sees them while training or validating,
and forecasts all of them in one multi-step forecast from the end of the training part. Its
errors (MAE, RMSE, sMAPE, MASE) are compared with the naive, seasonal-naive, drift and AutoETS
baselines on the same points. Then the model forecasts HORIZON points past the end of the data.

Writes to DIR: metrics.json (scores, settings, verdict), forecast.csv (time, actual, forecast,
80% and 95% intervals; holdout rows, then future rows), history.csv (one row per epoch),
config.json (every setting, resolved: a settings file the forecast page loads) and model.keras.
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
        "the option or separate names with commas; every series is forecast",
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

    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the results (created if needed)"
    )
    parser.set_defaults(run=run_forecast_command)


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


def run_forecast_command(args: argparse.Namespace) -> int:
    from core.data import load_series
    from core.errors import InputError
    from core.export import safe_csv
    from core.forecasting import run_forecast, verdict
    from core.jobs import JobContext

    config = config_from_args(args)
    series = load_series(
        args.data, target=args.target, date_col=args.date_col, sep=args.sep,
        decimal=args.decimal, encoding=args.encoding, missing=config.missing,
        sheet=getattr(args, "sheet", None),
    )
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"Cannot create the output folder '{out}' ({error.strerror}). Choose another --out."
        ) from error
    result = run_forecast(series, config, JobContext(out))

    metrics = result.metrics_json()
    metrics["data"] = {
        "file": str(Path(args.data).resolve()),
        "target": series.name,
        "date_col": series.date_col,
        "points": int(len(series.values)),
        "freq": series.freq,
        "filled": int(series.filled),
        "notes": list(series.notes),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "forecast.csv").write_text(safe_csv(result.forecast.drop(columns="part")))
    history = _history_frame(result.history, ["epoch", "loss", "val_loss", "seconds"])
    (out / "history.csv").write_text(safe_csv(history))
    # Exactly a settings file: it loads on the forecast page and through ForecastConfig.from_json.
    (out / "config.json").write_text(result.config.to_json())

    model = result.metrics["model"]
    print(f"{result.cell_name} on '{series.name}': MASE {model['mase']:.3f}, "
          f"sMAPE {model['smape']:.1f}%, {result.epochs_run} epochs, {result.seconds:.1f} s")
    print(verdict(result))
    for warning in result.warnings:
        print(f"warning: {warning}")
    print(f"results in {out}")
    return 0


def _history_frame(history: list[dict], columns: list[str]):
    import pandas as pd

    frame = pd.DataFrame(history)
    for column in columns:
        if column not in frame:
            frame[column] = float("nan")
    extra = [column for column in frame.columns if column not in columns]
    return frame[columns + extra]
