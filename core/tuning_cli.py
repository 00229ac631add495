"""`python -m core tune ...`: search the forecaster's settings with Optuna and write the best.

The data and model options are `forecast`'s (the model options are where the search starts and
what it does not search); see `core.forecast.tuning` for how candidates are scored.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

_DESCRIPTION = """\
Search the forecaster's settings (cell, units, layers, window, learning rate, dropout, batch
size, strategy) with Optuna's TPE sampler, within a budget of trials or minutes.

The last HOLDOUT points are cut off first and never used: each candidate is scored by a
rolling-origin validation inside the training part (FOLDS origins one horizon apart; at each,
the network is fitted on the points before it and forecasts one horizon), as the mean MASE over
the folds. Trials train for few epochs (--trial-epochs); a trial whose validation loss falls
behind earlier trials' is pruned. The first trial is the settings given.

Writes to DIR: tuning.json (every trial's settings, state and score, and the best) and
config.json (the settings given with the best trial's applied: a settings file the forecast
page's "Restore settings" loads, and `forecast` reproduces with the same options).
"""

_EPILOG = """\
example:
  python -m core tune --data sample_data/air_passengers.csv --trials 10 \\
      --search cell,units,learning_rate --out runs/airline-tuning

Bad input (unknown setting to search, a series too short for the folds...) prints one line
starting with 'error:' and exits with code 2.
"""


def add_tune_command(subparsers) -> None:
    """Register `tune` on the `python -m core` parser."""
    from core.forecasting_cli import (
        _add_covariate_options,
        _add_data_options,
        _add_model_options,
    )

    parser = subparsers.add_parser(
        "tune",
        help="search the forecaster's settings (Optuna) on the training part",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(parser)
    _add_model_options(parser)
    _add_covariate_options(parser)
    search = parser.add_argument_group("search")
    search.add_argument("--trials", type=int, metavar="N",
                        help="settings to try (default: 10 when --minutes is not given)")
    search.add_argument("--minutes", type=float, metavar="M",
                        help="time budget; the search ends at the first of --trials and this")
    search.add_argument(
        "--search", metavar="NAMES",
        help="comma-separated settings to search, among cell, units, num_layers, window, "
        "learning_rate, dropout, batch_size, strategy (default: cell,units,window,"
        "learning_rate,dropout)",
    )
    search.add_argument("--folds", type=int, default=2, metavar="K",
                        help="validation origins inside the training part (default: %(default)s)")
    search.add_argument("--trial-epochs", type=int, default=15, metavar="E",
                        help="most epochs of each trial's fits (default: %(default)s)")
    search.add_argument("--search-seed", type=int, default=0, metavar="S",
                        help="the sampler's random seed (default: %(default)s)")
    parser.add_argument(
        "--out", required=True, metavar="DIR",
        help="folder for tuning.json and config.json (created if needed)",
    )
    parser.set_defaults(run=run_tune_command)


def settings_from_args(args: argparse.Namespace):
    """The TuningSettings the options describe.

    Raises:
        InputError: an unknown setting to search, or a budget out of range.
    """
    from core.forecast.tuning import DEFAULT_SEARCH, TuningSettings

    search = tuple(args.search.split(",")) if args.search is not None else DEFAULT_SEARCH
    trials = args.trials if args.trials is not None or args.minutes is not None else 10
    return TuningSettings(trials=trials, minutes=args.minutes, search=search, folds=args.folds,
                          epochs=args.trial_epochs, seed=args.search_seed)


def run_tune_command(args: argparse.Namespace) -> int:
    from core.forecast.tuning import describe_settings, tune
    from core.forecasting_cli import (
        _data_info,
        _output_folder,
        config_from_args,
        load_series_and_covariates,
    )
    from core.settingsfile import DataRef, fingerprint, settings_json

    settings = settings_from_args(args)  # before reading anything: a typo fails at once
    config = config_from_args(args)
    series, covariates = load_series_and_covariates(args, config)
    out = _output_folder(args.out)
    result = tune(series, config, settings, covariates=covariates)

    report = result.to_json()
    report["data"] = _data_info(args, series)
    if covariates is not None:
        report["data"]["notes"] += list(covariates.notes)
    (out / "tuning.json").write_text(json.dumps(report, indent=2))
    # The file's fingerprint lets the page apply the data's own settings (the window) too.
    data = DataRef(file=Path(args.data).name, sha256=fingerprint(Path(args.data).read_bytes()),
                   target=series.name, time=series.date_col)
    (out / "config.json").write_text(settings_json(result.config, data))

    counts = {}
    for row in result.trials:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    states = ", ".join(f"{count} {state}" for state, count in counts.items())
    print(f"{len(result.trials)} trials on '{series.name}' ({states}) in {result.seconds:.0f} s, "
          f"scored on the first {result.train_points} points (holdout of {result.holdout} "
          "left out)")
    if result.best is None:
        print("no trial finished with a score: config.json holds the settings given")
    else:
        print(f"best: trial {result.best['trial']}, mean MASE {result.best['score']:.3f} "
              f"({describe_settings(result.best, result.settings.search)})")
    for note in result.notes:
        print(f"note: {note}")
    print(f"results in {out} (tuning.json, config.json)")
    return 0
