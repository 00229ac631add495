"""Scaling benchmark: the default forecaster on 1,000 to 1,000,000 points, the next-word
defaults on 5,500 to 200,000 words.

    python bench/scale.py                       # both halves, every case
    python bench/scale.py --part series         # the series half only
    python bench/scale.py --cases 10k series-1m # some cases
    python bench/scale.py --set budget_seconds=120 --part text

Each case runs in a fresh process (so that its peak memory is its own).

Series: an hourly series made here (`make_series`: daily, weekly and yearly cycles, a slow
trend and AR(1) noise), season 24, forecast with `ForecastConfig()`'s defaults by the command
line's protocol (`core.forecasting.resolve_config`: the last horizon = 24 points held out, the
forecaster fitted on the rest, one 24-step forecast). Columns:
- training s: seconds inside Keras' `fit` (the validated fit and the refit on all the data),
  what `budget_seconds` bounds (`RNNForecaster.training_seconds_`; for code without it, the
  validated fit's epoch seconds only);
- fit s: the whole `RNNForecaster.fit` (windows, validation paths, the classical members);
- total s: from the process start (TensorFlow's import included) to the scores, the
  benchmark's own AutoETS included;
- estimate s: `core.forecast.windows.estimate_seconds` (what the page shows before Train, with
  how busy the machine is at the case's start), to compare with fit s;
- load start/end: the 1-minute load average (2 cores) when the case started and ended;
- peak MB: the process's maximum resident memory (getrusage);
- MASE (scaled by the training part's seasonal-naive MAE at lag 24) of the forecaster, of its
  network part alone, of seasonal naive and of AutoETS. AutoETS is fitted on the last
  ETS_POINTS points of the training part where the series is longer (on all of a 1,000,000-point
  series it takes longer than the whole table); the column says so.

Text: each case through `core.nextword.train_and_evaluate`, the protocol of
`python -m core nextword`: the last 10% of the words held out, the vocabulary from the rest.
- training s: from the vocabulary to the end of `NextWordModel.fit` (epochs, mix weighing, last
  pass, the final counts): what `budget_seconds` bounds, plus the counts;
- total s: the whole run from the process start to the scores, the Kneser-Ney trigram baseline
  included (the 4-gram column is computed after, not counted);
- estimate s: `core.nextword.estimate_seconds`, what the page shows before Train;
- peak MB: the process's maximum resident memory (getrusage) at the end of the run;
- top-5 and perplexity of the model (the network mixed with a Kneser-Ney 4-gram), of the
  Kneser-Ney trigram the CLI prints, and of a Kneser-Ney 4-gram alone, on the held-out words.

The machine is shared: wall seconds swing with other people's work; CPU s is given beside them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
READER = ROOT / "sample_data" / "corpus_class_reader.txt"
CASES = {"reader": (READER, None), "10k": (SHAKESPEARE, 10_000), "50k": (SHAKESPEARE, 50_000),
         "200k": (SHAKESPEARE, None)}
SERIES_CASES = {"series-1k": 1_000, "series-10k": 10_000, "series-100k": 100_000,
                "series-1m": 1_000_000}
ETS_POINTS = 20_000  # AutoETS on at most the last this many training points


def make_series(points: int, seed: int = 0):
    """An hourly series of `points` values: daily, weekly and yearly cycles, a slow trend and
    AR(1) noise (coefficient 0.7), as `core.forecast.base.SeriesData` with season 24."""
    import numpy as np
    import pandas as pd

    from core.forecast.base import SeriesData

    rng = np.random.default_rng([seed, points])
    hours = np.arange(points, dtype="float64")
    shocks = rng.normal(0.0, 2.0, points)
    noise = np.empty(points)
    level = 0.0
    for index, shock in enumerate(shocks):  # AR(1); a plain loop is fast enough at 1M
        level = 0.7 * level + shock
        noise[index] = level
    values = (100 + 10 * np.sin(2 * np.pi * hours / 24) + 6 * np.sin(2 * np.pi * hours / 168 + 1)
              + 4 * np.sin(2 * np.pi * hours / 8766) + 5 * hours / max(points, 1) + noise)
    time = pd.date_range("2000-01-01", periods=points, freq="h")
    return SeriesData(values, time, "h", 24, "load")


def run_series(name: str, overrides: dict) -> dict:
    """One series case in this process; returns the row's figures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from core.config import ForecastConfig
    from core.forecast.baselines import BASELINES
    from core.forecast.rnn import RNNForecaster
    from core.forecasting import resolve_config
    from core.metrics import mase

    points = SERIES_CASES[name]
    series = make_series(points)
    config = resolve_config(series, ForecastConfig(**overrides))
    train = series.head(len(series) - config.holdout)
    actual = series.values[len(train) :]
    load = os.getloadavg()[0]
    try:
        from core.forecast.windows import estimate_seconds, machine_busy
        estimate = estimate_seconds(len(train), config, machine_busy())
    except ImportError:  # the code before the budget: no estimate
        estimate = None
    started = time.perf_counter()
    forecaster = RNNForecaster(config).fit(train)
    fit_seconds = time.perf_counter() - started
    training = getattr(forecaster, "training_seconds_", None)
    if training is None:
        training = sum(log["seconds"] for log in forecaster.history_)
    forecast = forecaster.predict(config.holdout).mean
    network = forecaster.parts(config.holdout).get("network", forecast)
    season = config.season
    naive = BASELINES["seasonal_naive"](season).fit(train).predict(config.holdout).mean
    ets_part = train if len(train) <= ETS_POINTS else dataclasses.replace(
        train, values=train.values[-ETS_POINTS:], time=train.time[-ETS_POINTS:])
    ets = BASELINES["autoets"](season).fit(ets_part).predict(config.holdout).mean

    def score(values) -> float:
        return mase(actual, values, train.values, season)

    return {
        "case": name, "points": points, "epochs": len(forecaster.history_),
        "best_epoch": forecaster.best_epoch_, "choice": forecaster.choice_,
        "training_windows": getattr(forecaster, "training_windows_", None),
        "training_s": training, "fit_s": fit_seconds,
        "total_s": time.perf_counter() - STARTED, "cpu_s": time.process_time(),
        "estimate_s": estimate, "load": [load, os.getloadavg()[0]],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "mase": {"model": score(forecast), "network": score(network),
                 "seasonal_naive": score(naive), "autoets": score(ets)},
        "ets_points": len(ets_part),
    }


def case_tokens(name: str) -> list[str]:
    from bench.nextword import text_slice
    from core.text import tokenize

    path, words = CASES[name]
    text = path.read_text(encoding="utf-8")
    return tokenize(text_slice(text, 0, words) if words else text)


def run_one(name: str, overrides: dict) -> dict:
    """One case in this process; returns the row's figures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from core.config import NextWordConfig
    from core.jobs import JobContext
    from core.nextword import estimate_seconds, split_corpus, train_and_evaluate
    from core.ngram import KneserNey
    from core.training import set_seed

    tokens = case_tokens(name)
    config = NextWordConfig(**overrides)
    marks: dict[str, float] = {}

    def send(kind: str, data: dict) -> None:
        if kind == "message":
            marks.setdefault(data["message"].split()[0], time.perf_counter())

    set_seed(config.seed)
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    _, metrics = train_and_evaluate(tokens, config, JobContext(workdir, send))
    total = time.perf_counter() - STARTED
    cpu = time.process_time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    split = split_corpus(tokens, config.min_count, config.max_vocab)
    four = KneserNey(4).fit(split.ids[: split.test_start], len(split.vocab)).score(
        split.ids, split.test_start)
    return {
        "case": name, "words": len(tokens),
        "training_s": marks["Scoring"] - marks["Building"],
        "total_s": total, "cpu_s": cpu, "estimate_s": estimate_seconds(len(tokens), config),
        "peak_mb": peak_mb, "epochs": metrics["epochs_run"],
        "model": {key: metrics[key] for key in ("top1", "top5", "perplexity")},
        "kn3": {key: metrics["baseline"][key] for key in ("top1", "top5", "perplexity")},
        "kn4": {key: four[key] for key in ("top1", "top5", "perplexity")},
    }


def series_line(row: dict) -> str:
    scores = row["mase"]
    estimate = "n/a" if row["estimate_s"] is None else f"{row['estimate_s']:.0f}"
    ets = "" if row["ets_points"] >= row["points"] - 24 else f" (last {row['ets_points']:,})"
    load = "/".join(f"{value:.0f}" for value in row.get("load", []))
    return (f"| {row['points']:,} | {row['epochs']} ({row['best_epoch']}) | {row['training_s']:.0f} "
            f"| {row['fit_s']:.0f} | {row['total_s']:.0f} | {estimate} | {row['cpu_s']:.0f} "
            f"| {load} "
            f"| {row['peak_mb']:.0f} | {scores['model']:.3f} | {scores['network']:.3f} "
            f"| {scores['seasonal_naive']:.3f} | {scores['autoets']:.3f}{ets} |")


def text_line(row: dict) -> str:
    def pair(scores: dict) -> str:
        return f"{scores['top5']:.3f} / {scores['perplexity']:.1f}"

    return (f"| {row['case']} | {row['words']:,} | {row['epochs']} | {row['training_s']:.0f} "
            f"| {row['total_s']:.0f} | {row['estimate_s']:.0f} | {row['cpu_s']:.0f} "
            f"| {row['peak_mb']:.0f} | {pair(row['model'])} | {pair(row['kn3'])} "
            f"| {pair(row['kn4'])} |")


SERIES_HEADER = ("| points | epochs (best) | training s | fit s | total s | estimate s | CPU s "
                 "| load start/end | peak MB | MASE model | MASE network alone | MASE seasonal naive | MASE AutoETS |")
TEXT_HEADER = ("| text | words | epochs | training s | total s | estimate s | CPU s | peak MB "
               "| model top-5 / ppl | KN 3-gram top-5 / ppl | KN 4-gram top-5 / ppl |")


def run_table(header: str, cases: list[str], settings: list[str], make_line) -> list[str]:
    """Each case in a fresh process; prints and returns the table's lines."""
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    print(*lines, sep="\n", flush=True)
    for name in cases:
        command = [sys.executable, __file__, "--one", name, *sum((["--set", s] for s in settings), [])]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            line = f"| {name} | failed: {done.stderr.strip().splitlines()[-1:]} |"
        else:
            line = make_line(json.loads(done.stdout.strip().splitlines()[-1]))
        lines.append(line)
        print(line, flush=True)
    return lines


def main() -> None:
    every = [*SERIES_CASES, *CASES]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("series", "text", "both"), default="both")
    parser.add_argument("--cases", nargs="+", choices=every, help="default: every case of the part(s)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a ForecastConfig (series) or NextWordConfig (text) default "
                             "(JSON value)")
    parser.add_argument("--one", choices=every, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="also write the tables (Markdown) to this file")
    args = parser.parse_args()
    from bench.nextword import parse_overrides

    overrides = parse_overrides(args.set)
    if args.one:
        run = run_series if args.one in SERIES_CASES else run_one
        print(json.dumps(run(args.one, overrides)))
        return
    cases = args.cases or [*(SERIES_CASES if args.part != "text" else []),
                           *(CASES if args.part != "series" else [])]
    lines: list[str] = []
    series_cases = [name for name in cases if name in SERIES_CASES]
    text_cases = [name for name in cases if name in CASES]
    if series_cases:
        lines += run_table(SERIES_HEADER, series_cases, args.set, series_line)
    if text_cases:
        print(flush=True)
        lines += ["", *run_table(TEXT_HEADER, text_cases, args.set, text_line)]
    if overrides:
        print(f"Settings changed from the defaults: {overrides}")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
