"""SimpleRNN vs LSTM vs GRU on one sample series: the Compare page's table, measured here.

Runs the forecast task once per (cell, seed) in this process, one after another, with the same
data, split and budget, and prints the summary (mean ± spread over seeds).
Usage: python bench/compare.py [--sample air_passengers.csv] [--seeds 3] [--units 32]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.compare import display_table, plan_runs, result_row, summarise  # noqa: E402
from core.config import ForecastConfig  # noqa: E402
from core.data import load_series  # noqa: E402
from core.forecasting import resolve_config  # noqa: E402
from core.jobs import JobContext, run_inline  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default="air_passengers.csv")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()
    series = load_series(ROOT / "sample_data" / args.sample)
    config = resolve_config(series, ForecastConfig(units=args.units, epochs=args.epochs))
    runs = plan_runs("forecast", {"series": series}, config, seeds=args.seeds)
    rows, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for run in runs:
            workdir = Path(folder) / run.key
            workdir.mkdir()
            rows.append(result_row(run, run_inline(run.task, run.payload, JobContext(workdir))))
    print(f"{args.sample}: window {config.window}, horizon {config.horizon}, holdout "
          f"{config.holdout}, {args.units} units, at most {args.epochs} epochs (patience "
          f"{config.patience}), seeds {config.seed}..{config.seed + args.seeds - 1}; "
          f"{time.perf_counter() - started:.0f} s in all, one training at a time "
          "(shared 2-core machine: seconds are noisy, compare them within this run)")
    print(display_table(summarise(rows), "forecast").to_string(index=False))


if __name__ == "__main__":
    main()
