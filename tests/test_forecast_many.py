"""Every series of a file with one global network (issue 13, item 2): core/forecast/many.py and
core/forecasting_many.py on files written here (a long file of 3 stores of unequal length with a
duplicated date and a store of 5 points; a wide file)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from core.data import read_csv, to_panel
from core.errors import InputError
from core.forecast.base import SeriesData
from core.forecast.many import GlobalRNNForecaster, common_horizon, common_season
from core.forecasting_many import geometric_mean, run_forecast_all

QUICK = ForecastConfig(epochs=2, units=4, patience=0)
MONTHS = pd.date_range("2015-01-01", periods=60, freq="MS")


def pattern(length: int, level: float, phase: int = 0) -> np.ndarray:
    """A yearly season around `level` with a slow trend (no noise: exact, repeatable)."""
    steps = np.arange(length) + phase
    return level * (1 + 0.25 * np.sin(2 * np.pi * steps / 12) + 0.004 * steps)


def long_file() -> bytes:
    """Stores A (60 months, level 100), B (40, level 1000, 2017-03 given twice: 1500 and its
    own value, averaged) and C (5 months): a long table as an analyst exports it."""
    rows = [f"{t:%Y-%m},A,{v:.3f}" for t, v in zip(MONTHS, pattern(60, 100), strict=True)]
    rows += [f"{t:%Y-%m},B,{v:.3f}" for t, v in zip(MONTHS[20:], pattern(40, 1000, 3), strict=True)]
    rows.insert(70, "2017-03,B,1500")
    rows += [f"{t:%Y-%m},C,{v:.3f}" for t, v in zip(MONTHS[:5], pattern(5, 50), strict=True)]
    return ("month,store,sales\n" + "\n".join(rows)).encode()


def wide_file() -> bytes:
    """One column per region, 48 months each."""
    north, south = pattern(48, 20), pattern(48, 300, 6)
    rows = [f"{t:%Y-%m},{n:.3f},{s:.3f}" for t, n, s in zip(MONTHS, north, south, strict=False)]
    return ("month,north,south\n" + "\n".join(rows)).encode()


@pytest.mark.parametrize(("values", "expected"), [
    ([1.0, 4.0], 2.0),
    ([2.0, math.nan, 8.0], 4.0),  # a series whose MASE is undefined is left out
    ([0.5, 0.5, 0.5], 0.5),
    ([0.0, 1e-6], 1e-6),  # a perfect forecast counts as MASE 1e-6, not as 0
    ([], math.nan),
    ([math.inf, None], math.nan),
])
def test_geometric_mean(values, expected):
    result = geometric_mean(values)
    assert (math.isnan(result) and math.isnan(expected)) or result == pytest.approx(expected)


def test_the_panel_shares_the_most_common_season_and_frequency_horizon():
    monthly = SeriesData(np.ones(30), MONTHS[:30], "MS", 12)
    quarterly = SeriesData(np.ones(30), pd.date_range("2000", periods=30, freq="QS"), "QS", 4)
    datas = {"a": monthly, "b": monthly, "c": quarterly}
    assert common_season(datas, ForecastConfig()) == 12
    assert common_horizon(datas, ForecastConfig()) == 12
    assert common_season(datas, ForecastConfig(season=4)) == 4
    assert common_horizon(datas, ForecastConfig(horizon=5)) == 5


def test_an_empty_panel_is_refused_in_plain_words():
    with pytest.raises(InputError, match="no series"):
        GlobalRNNForecaster(QUICK).fit({})


def test_no_series_long_enough_for_the_holdout_is_one_plain_error():
    short = {key: SeriesData(pattern(12, 10), MONTHS[:12], "MS", 12) for key in ("x", "y")}
    with pytest.raises(InputError, match=r"No series is long enough: each needs at least 16"):
        run_forecast_all(short, QUICK)


@pytest.mark.slow
def test_one_network_forecasts_every_series_of_a_long_file():
    panel = to_panel(read_csv(long_file()))
    assert list(panel) == ["A", "B"] and "C" in panel.dropped  # 5 points: left out by the panel
    result = run_forecast_all(panel, QUICK.replace(horizon=6), debug={"autoets": False})

    # One network: every series' member holds the same Keras model, trained on both series.
    assert set(result.scores) == {"A", "B"}
    assert result.summary["series"] == 2 and result.summary["classical_only"] == []
    assert result.summary["training_windows"] >= 2 * 6  # at least MIN_WINDOWS from each
    assert result.epochs_run == 2
    for key, entry in result.scores.items():
        assert entry["points"] == {"A": 60, "B": 40}[key]
        assert set(entry["baselines"]) == {"naive", "seasonal_naive", "drift"}
        assert math.isfinite(entry["model"]["mase"])
    assert result.overall["model"] == pytest.approx(
        geometric_mean([result.scores["A"]["model"]["mase"], result.scores["B"]["model"]["mase"]]))

    # The forecast table: the id column first, 6 holdout + 6 future rows per series, actuals
    # on the holdout only, each series at its own level and its own dates.
    frame = result.forecast
    assert list(frame.columns[:4]) == ["store", "time", "actual", "forecast"]
    assert frame.groupby("store").size().to_dict() == {"A": 12, "B": 12}
    a_rows, b_rows = frame[frame.store == "A"], frame[frame.store == "B"]
    assert a_rows.time.iloc[6] == pd.Timestamp("2020-01-01")
    assert b_rows.time.iloc[6] == pd.Timestamp("2020-01-01")
    assert a_rows[a_rows.part == "holdout"].actual.notna().all()
    assert b_rows[b_rows.part == "future"].actual.isna().all()
    assert 50 < a_rows.forecast.mean() < 200 and 500 < b_rows.forecast.mean() < 2000
    assert (frame.lower_95 <= frame.forecast).all() and (frame.forecast <= frame.upper_95).all()

    notes = " ".join(result.notes)
    assert "'C' (5 usable point(s)" in notes and "duplicate" in notes.lower()
    assert result.skipped == {"C": panel.dropped["C"]}
    metrics = result.metrics_json()
    assert metrics["series"]["B"]["ids"] == {"store": "B"}
    assert metrics["overall"]["series"] == 2 and "geometric-mean MASE" in result.verdict()


@pytest.mark.slow
def test_a_wide_file_and_a_series_too_short_for_the_shared_window():
    panel = to_panel(read_csv(wide_file()))
    datas = {key: panel[key] for key in panel}
    datas["tiny"] = SeriesData(pattern(14, 5), MONTHS[:14], "MS", 12, "tiny")  # 8 to learn from
    forecaster = GlobalRNNForecaster(QUICK.replace(horizon=6)).fit(
        {key: SeriesData(d.values[:-6], d.time[:-6], "MS", 12, key) for key, d in datas.items()})
    assert forecaster.classical_only_ == ["tiny"]
    members = forecaster.members_
    assert list(members) == ["north", "south", "tiny"]
    assert members["north"].model_ is members["south"].model_ is forecaster.model_
    assert members["tiny"].choice_ == "classical"
    forecasts = forecaster.predict(panel=datas)
    assert {key: len(f) for key, f in forecasts.items()} == {"north": 6, "south": 6, "tiny": 6}
    assert forecasts["north"].time[0] == MONTHS[48]
    with pytest.raises(InputError, match="No data was given for series 'tiny'"):
        forecaster.predict(panel={key: datas[key] for key in ("north", "south")})


@pytest.mark.slow
def test_the_shared_network_learns_a_pattern_the_anchor_misses():
    """Series of very different levels sharing one shape that the last-value anchor cannot
    follow (a yearly season with the season switched off): the trained network beats the
    naive forecast on every series' holdout, which an untrained one (= the anchor) would not."""
    config = ForecastConfig(epochs=20, units=16, season=1, horizon=6, combine="network",
                            learning_rate=0.02, patience=10)
    panel = {f"s{k}": SeriesData(pattern(60, level, phase=k), MONTHS, "MS", 1, f"s{k}")
             for k, level in enumerate((3, 40, 500, 7000))}
    result = run_forecast_all(panel, config, debug={"autoets": False})
    assert result.best_epoch > 0
    for key, entry in result.scores.items():
        assert entry["model"]["mase"] < 0.5 * entry["baselines"]["naive"]["mase"], key


def verdict_of(model: float, baselines: dict[str, float], best_on: int = 0) -> str:
    from core.forecasting_many import ManyForecastResult

    scores = {f"s{k}": {"best": "model" if k < best_on else "naive"} for k in range(3)}
    return ManyForecastResult(
        config=ForecastConfig(), id_names=("series",), ids={}, scores=scores,
        overall={"model": model, **baselines}, forecast=pd.DataFrame(), history=[],
        epochs_run=0, best_epoch=0, seconds=0.0, stopped_by_user=False, skipped={}, notes=[],
    ).verdict()


@pytest.mark.parametrize(("model", "baselines", "best_on", "expected"), [
    (0.8, {"naive": 1.6, "autoets": 1.0}, 2,
     "Over 3 series, the model's geometric-mean MASE is 0.800, 20% lower than AutoETS's "
     "(1.000), the best baseline; it was best on 2 of 3 series."),
    (1.3, {"naive": 1.0}, 0, "30% higher than naive's (1.000)"),
    (1.004, {"naive": 1.0}, 1, "about the same as naive's (1.000)"),
    (0.9, {"seasonal_naive": 0.1}, 0, "9.0 times seasonal naive's (0.100)"),
    (0.4, {"autoarima": 1e-6}, 0,
     "AutoARIMA forecast the holdouts almost exactly (geometric-mean MASE 1e-06); the model's "
     "is 0.400: use AutoARIMA's forecasts here"),
    (math.nan, {"naive": 1.0}, 0, "could not be computed"),
])
def test_the_verdict_over_all_series(model, baselines, best_on, expected):
    assert expected in verdict_of(model, baselines, best_on)


@pytest.mark.slow
def test_two_id_columns_each_get_a_column_in_the_forecast_table():
    rows = [f"{t:%Y-%m},{region},{product},{v:.2f}"
            for region, product, level in (("east", "tea", 10), ("east", "milk", 200),
                                           ("west", "tea", 30))
            for t, v in zip(MONTHS[:36], pattern(36, level), strict=True)]
    table = read_csv(("month,region,product,units\n" + "\n".join(rows)).encode())
    panel = to_panel(table, id_cols="region,product")
    result = run_forecast_all(panel, ForecastConfig(epochs=1, units=2, horizon=4),
                              debug={"autoets": False})
    frame = result.forecast
    assert list(frame.columns[:3]) == ["region", "product", "time"]
    assert sorted(set(zip(frame.region, frame["product"], strict=True))) == [
        ("east", "milk"), ("east", "tea"), ("west", "tea")]
    assert set(result.metrics_json()["series"]["east / milk"]["ids"].items()) == {
        ("region", "east"), ("product", "milk")}
