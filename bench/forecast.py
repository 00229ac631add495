"""Benchmark of the forecasting engine with default settings: MASE of each cell and baseline.

    python bench/forecast.py                       # every dataset, every cell
    python bench/forecast.py --cells gru --datasets airline lynx --out bench/results.md

For each dataset and cell type it runs `core.forecasting.run_forecast` with the default
`ForecastConfig` (only the holdout is fixed where a reference figure exists: airline, last 24
months) and prints the MASE of the model and of every baseline on the same holdout, the
prediction intervals' coverage of the holdout, and the seconds the whole run took (TensorFlow
import excluded; it is measured once and printed above the table). Timings on a shared
machine are noisy: compare the ratios measured in one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

# name -> (file, target column, holdout or None for the default, note)
DATASETS = {
    "airline": (ROOT / "sample_data" / "air_passengers.csv", "passengers", 24,
                "monthly, 144 points, last 24 held out"),
    "beer": (ROOT / "sample_data" / "australian_beer.csv", "megalitres", None, "quarterly"),
    "lynx": (ROOT / "sample_data" / "lynx.csv", "trappings", None, "yearly"),
    "synthetic": (ROOT / "sample_data" / "synthetic.csv", "sales", None, "weekly"),
    "sunspots": (SHARED / "monthly-sunspots.csv", "Sunspots", None, "monthly, 2,820 points"),
    "melbourne": (SHARED / "daily-min-temperatures.csv", "Daily minimum temperatures", None,
                  "daily, 3,650 points"),
}
BASELINES = ("naive", "seasonal_naive", "drift", "autoets")


def run(datasets: list[str], cells: list[str], overrides: dict) -> list[dict]:
    import tempfile

    import numpy as np

    from core.config import ForecastConfig
    from core.data import load_series
    from core.forecasting import run_forecast
    from core.intervals import coverage
    from core.jobs import JobContext

    rows = []
    for name in datasets:
        path, target, holdout, _ = DATASETS[name]
        if not path.exists():
            print(f"skipping {name}: {path} not found", file=sys.stderr)
            continue
        series = load_series(path, target=target)
        for cell in cells:
            config = ForecastConfig(cell=cell, holdout=holdout, **overrides)
            started = time.perf_counter()
            with tempfile.TemporaryDirectory() as workdir:
                result = run_forecast(series, config, JobContext(Path(workdir)))
            seconds = time.perf_counter() - started
            holdout_rows = result.forecast[result.forecast["part"] == "holdout"]
            actual = holdout_rows["actual"].to_numpy()
            row = {
                "dataset": name,
                "points": len(series.values),
                "cell": cell,
                "window": result.config.window,
                "horizon": result.config.horizon,
                "holdout": result.config.holdout,
                "model": result.metrics["model"]["mase"],
                **{b: result.metrics["baselines"][b]["mase"] for b in BASELINES},
                "cover80": coverage(actual, holdout_rows["lower_80"], holdout_rows["upper_80"]),
                "cover95": coverage(actual, holdout_rows["lower_95"], holdout_rows["upper_95"]),
                "epochs": result.epochs_run,
                "seconds": seconds,
                "copies": result.copies_last_value,
            }
            best = min(row[b] for b in BASELINES if np.isfinite(row[b]))
            row["beats_best"] = row["model"] < best
            rows.append(row)
            print(_line(row), flush=True)
            _release()
    return rows


def _release() -> None:
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()


HEADER = ("dataset", "points", "cell", "window", "horizon", "holdout", "model", *BASELINES,
          "cover80", "cover95", "epochs", "seconds", "beats_best")


def _format(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if not value.is_integer() or abs(value) < 100 else f"{value:.0f}"
    return str(value)


def _line(row: dict) -> str:
    return " | ".join(f"{_format(row[key]):>10}" for key in HEADER)


def markdown(rows: list[dict], import_seconds: float) -> str:
    lines = [
        f"TensorFlow + Keras import: {import_seconds:.1f} s (not included in `seconds`).",
        "MASE: lower is better; `model` is the network with default settings.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(_format(row[key]) for key in HEADER) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    from core.cells import cell_keys  # no TensorFlow: the import timed below stays honest

    parser.add_argument("--cells", nargs="+", choices=cell_keys(), default=list(cell_keys()))
    parser.add_argument("--epochs", type=int, help="override the default epochs (for quick runs)")
    parser.add_argument("--ensemble", type=int, help="override the default ensemble size")
    parser.add_argument("--out", type=Path, help="also write the table as markdown here")
    args = parser.parse_args(argv)
    overrides = {key: value for key, value in
                 (("epochs", args.epochs), ("ensemble", args.ensemble)) if value is not None}

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    import_seconds = time.perf_counter() - started
    print(f"TensorFlow + Keras import: {import_seconds:.1f} s")
    print(" | ".join(f"{key:>10}" for key in HEADER))
    rows = run(args.datasets, args.cells, overrides)
    table = markdown(rows, import_seconds)
    print()
    print(table)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
