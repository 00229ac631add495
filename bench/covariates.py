"""Benchmark of covariates: the network with and without them, against AutoETS, per series.

    python bench/covariates.py                    # made demand series + Melbourne (calendar)
    python bench/covariates.py --series 2 --epochs 40

Cases:

- **temperature**: made daily demand series, demand = 50 + 4 x temperature + a weekly swing +
  noise, the temperature wandering (AR(1) on a yearly curve) so that the demand cannot be
  foreseen from its own past. The temperature is a known-in-advance covariate (a weather
  forecast): the holdout is scored with its own temperatures.
- **footfall**: made daily sales driven by last week's footfall (sales_t = 20 + 0.5 x
  footfall_{t-7} + noise): a past-only covariate, the lag as long as the horizon.
- **melbourne**: the last 730 days of ../shared/data/daily-min-temperatures.csv with calendar
  features (day of week, time of year), the window (48 days at most) too short to see the year.

For each series one forecaster is fitted with the covariates (`combine="auto"`, the default
with covariates: the mix with AutoETS, AutoTheta and AutoARIMA only where it beats the network
on validation) and one without them (`combine="network"` and the default mix); the table gives
the holdout MAE of the network alone with and without covariates, of the hybrid (network with
covariates mixed with the classical three), of what `auto` chose, and of AutoETS, and the
seconds each fit took. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"


def demand_csv(points: int, future: int, seed: int) -> str:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    total = points + future
    wander = np.zeros(total)
    for index in range(1, total):
        wander[index] = 0.6 * wander[index - 1] + rng.normal(0, 3)
    steps = np.arange(total)
    temperature = 15 + 8 * np.sin(2 * np.pi * (steps + 40 * seed) / 365) + wander
    demand = 50 + 4 * temperature + 3 * np.sin(2 * np.pi * steps / 7) + rng.normal(0, 1, total)
    dates = pd.date_range("2023-01-01", periods=total, freq="D")
    lines = ["date,demand,temperature"]
    for index in range(total):
        value = f"{demand[index]:.2f}" if index < points else ""
        lines.append(f"{dates[index].date()},{value},{temperature[index]:.2f}")
    return "\n".join(lines) + "\n"


def footfall_csv(points: int, seed: int) -> str:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(100 + seed)
    footfall = 100 + np.cumsum(rng.normal(0, 4, points))
    footfall = footfall - footfall.min() + 50
    sales = 20 + 0.5 * np.concatenate([np.full(7, footfall[0]), footfall[:-7]]) \
        + rng.normal(0, 1, points)
    dates = pd.date_range("2023-01-01", periods=points, freq="D")
    lines = ["date,sales,footfall"] + [f"{d.date()},{s:.2f},{f:.2f}"
                                       for d, s, f in zip(dates, sales, footfall, strict=True)]
    return "\n".join(lines) + "\n"


def melbourne_csv() -> str:
    lines = (SHARED / "daily-min-temperatures.csv").read_text().splitlines()
    return "\n".join([lines[0], *lines[-730:]]) + "\n"


CASES = ("temperature", "footfall", "melbourne")


def cases(count: int, chosen=CASES):
    """(case, name, csv text, target, known, past, calendar)."""
    for seed in range(count if "temperature" in chosen else 0):
        yield ("temperature", f"demand {seed + 1}", demand_csv(400, 14, seed), "demand",
               ("temperature",), (), False)
    for seed in range(count if "footfall" in chosen else 0):
        yield ("footfall", f"sales {seed + 1}", footfall_csv(400, seed), "sales", (),
               ("footfall",), False)
    if "melbourne" in chosen and (SHARED / "daily-min-temperatures.csv").exists():
        yield ("melbourne", "Melbourne min. temp.", melbourne_csv(), None, (), (), True)


def measure(text: str, target, known, past, calendar, holdout: int, epochs: int) -> dict:
    import numpy as np

    from core import metrics
    from core.config import ForecastConfig
    from core.data import read_file
    from core.forecast.base import as_series
    from core.forecast.baselines import make_baselines
    from core.forecast.covariates import series_with_covariates
    from core.forecast.rnn import RNNForecaster

    table = read_file(io.BytesIO(text.encode()))
    series, covariates = series_with_covariates(table, target=target, known=known, past=past,
                                                calendar=calendar)
    data = as_series(series)
    train = data.head(len(data) - holdout)
    actual = data.values[len(train):]

    def mae(forecast) -> float:
        return float(metrics.score(actual, forecast, train.values, data.season)["mae"])

    base = ForecastConfig(horizon=holdout, epochs=epochs)
    row = {"points": len(data)}
    started = time.perf_counter()
    with_covariates = RNNForecaster(base.replace(combine="auto")).fit(train, covariates=covariates)
    row["seconds_with"] = time.perf_counter() - started
    parts = with_covariates.parts(holdout)
    row["network_with"] = mae(parts["network"])
    classical = parts.get("classical")
    if classical is None:
        members = [type(m)(data.season).fit(train) for m in with_covariates.classical_]
        classical = np.mean([m.predict(holdout).mean for m in members], axis=0)
    count = len(with_covariates.classical_)
    row["hybrid_with"] = mae((count * classical + parts["network"]) / (count + 1))
    row["auto_with"] = mae(with_covariates.predict(holdout).mean)
    row["auto_choice"] = with_covariates.choice_
    started = time.perf_counter()
    without = RNNForecaster(base).fit(train)
    row["seconds_without"] = time.perf_counter() - started
    row["network_without"] = mae(without.parts(holdout)["network"])
    row["default_without"] = mae(without.predict(holdout).mean)
    autoets = next(iter(make_baselines(data.season, ("autoets",))))
    row["autoets"] = mae(autoets.fit(train).predict(holdout).mean)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=3, help="made series per case")
    parser.add_argument("--epochs", type=int, default=150, help="most epochs (default 150)")
    parser.add_argument("--holdout", type=int, default=14)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    args = parser.parse_args()
    import os

    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    columns = ("network_with", "network_without", "hybrid_with", "auto_with", "default_without",
               "autoets")
    print("| case | series | points | net + cov | net alone | mix + cov | auto + cov (chose) | "
          "default mix, no cov | AutoETS | s with | s without |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for case, name, text, target, known, past, calendar in cases(args.series, args.cases):
        row = measure(text, target, known, past, calendar, args.holdout, args.epochs)
        rows.append((case, row))
        values = " | ".join(f"{row[c]:.2f}" for c in columns[:3])
        print(f"| {case} | {name} | {row['points']} | {values} | {row['auto_with']:.2f} "
              f"({row['auto_choice']}) | {row['default_without']:.2f} | {row['autoets']:.2f} | "
              f"{row['seconds_with']:.0f} | {row['seconds_without']:.0f} |", flush=True)
    print("\nholdout MAE; mean per case (and ratio of the network with covariates to without):")
    for case in dict.fromkeys(case for case, _ in rows):
        chosen = [row for name, row in rows if name == case]
        means = {c: sum(r[c] for r in chosen) / len(chosen) for c in columns}
        seconds = sum(r["seconds_with"] for r in chosen) / len(chosen)
        print(f"  {case}: " + ", ".join(f"{c} {means[c]:.2f}" for c in columns)
              + f"; ratio {means['network_with'] / means['network_without']:.2f}; "
              f"{seconds:.0f} s per series with covariates")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
