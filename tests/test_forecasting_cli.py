"""`python -m core forecast|predict|backtest` end to end: files written, help text, one-line
errors with exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from tests.cli_helpers import assert_one_error_line

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout,
    )


def write_csv(path: Path, length: int = 72, freq: str = "MS", seed: int = 0) -> Path:
    t = np.arange(length)
    noise = np.random.default_rng(seed).normal(0, 0.5, length)
    values = 50 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12) + noise
    frame = pd.DataFrame({"month": pd.date_range("2001-01", periods=length, freq=freq)
                          .strftime("%Y-%m-%d"), "sales": values.round(2)})
    frame.to_csv(path, index=False)
    return path


QUICK = ("--epochs", "2", "--units", "4", "--ensemble", "1", "--patience", "0")
BASELINE_COLUMNS = ["baseline_naive", "baseline_seasonal_naive", "baseline_drift",
                    "baseline_autoets", "baseline_autotheta", "baseline_autoarima"]


@pytest.fixture(scope="module")
def classical_model(tmp_path_factory) -> Path:
    """A model file made without training a network: 12 yearly points get the classical mean."""
    from core.forecast import RNNForecaster, SeriesData

    values = 100 + 2.0 * np.arange(12) + np.sin(np.arange(12))
    series = SeriesData(values, pd.date_range("1990-01-01", periods=12, freq="YS"), "YS", 1)
    path = tmp_path_factory.mktemp("model") / "model.rnnlab"
    forecaster = RNNForecaster(ForecastConfig(horizon=4)).fit(series)
    assert forecaster.choice_ == "classical"
    forecaster.save(path)
    return path



def test_help_explains_every_option():
    result = run_cli("forecast", "--help")
    assert result.returncode == 0
    for option in ("--data", "--target", "--date-col", "--sep", "--decimal", "--cell",
                   "--horizon", "--holdout", "--season", "--epochs", "--seed", "--out",
                   "--window", "--strategy", "--transform", "--ensemble", "--missing"):
        assert option in result.stdout
    assert "metrics.json" in result.stdout and "exit" in result.stdout
    assert "model.rnnlab" in result.stdout and "baseline_naive" in result.stdout
    overview = run_cli("--help").stdout
    assert "forecast" in overview and "predict" in overview and "backtest" in overview


def test_predict_and_backtest_help_explain_their_options():
    predict = run_cli("predict", "--help")
    assert predict.returncode == 0
    for option in ("--model", "--data", "--target", "--date-col", "--sep", "--horizon", "--out"):
        assert option in predict.stdout
    assert "forecast.csv" in predict.stdout and "frequency" in predict.stdout
    backtest = run_cli("backtest", "--help")
    assert backtest.returncode == 0
    for option in ("--folds", "--data", "--target", "--cell", "--horizon", "--epochs", "--out"):
        assert option in backtest.stdout
    assert "backtest.json" in backtest.stdout


def test_a_missing_file_is_one_error_line(tmp_path):
    assert_one_error_line(run_cli("forecast", "--data", str(tmp_path / "nope.csv"),
                                  "--out", str(tmp_path / "out")), "nope.csv")


def test_an_unknown_column_is_one_error_line(tmp_path):
    data = write_csv(tmp_path / "sales.csv")
    assert_one_error_line(run_cli("forecast", "--data", str(data), "--target", "price",
                                  "--out", str(tmp_path / "out")), "price")


def test_a_window_too_long_for_a_short_series_is_one_error_line(tmp_path):
    data = write_csv(tmp_path / "short.csv", length=30)
    result = run_cli("forecast", "--data", str(data), "--window", "24",
                     "--out", str(tmp_path / "out"))
    # 30 points less a holdout of 10 leave 20 to train on.
    assert_one_error_line(result, "20 points", "window of 24")


def test_a_series_of_three_points_is_one_error_line(tmp_path):
    data = write_csv(tmp_path / "tiny.csv", length=3, freq="YS")
    result = run_cli("forecast", "--data", str(data), "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "3", "longer series")


@pytest.mark.parametrize("option", [["--cell", "transformer"], ["--epochs", "0"],
                                    ["--horizon", "many"]])
def test_bad_option_values_are_one_error_line(tmp_path, option):
    data = write_csv(tmp_path / "sales.csv")
    assert_one_error_line(run_cli("forecast", "--data", str(data), *option,
                                  "--out", str(tmp_path / "out")))


@pytest.mark.parametrize("model_args", [
    ("--model", "{tmp}/missing.rnnlab"),
    ("--model", "{tmp}/damaged.rnnlab"),
    ("--model", "{tmp}/model.keras"),
])
def test_predict_with_a_bad_model_file_is_one_error_line(tmp_path, classical_model, model_args):
    data = write_csv(tmp_path / "sales.csv", length=20, freq="YS")
    damaged = bytearray(classical_model.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "damaged.rnnlab").write_bytes(bytes(damaged))
    (tmp_path / "model.keras").write_bytes(b"PK\x03\x04 a Keras file")
    model = model_args[1].format(tmp=tmp_path)
    result = run_cli("predict", "--model", model, "--data", str(data),
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result)
    assert not (tmp_path / "out" / "forecast.csv").exists()


def test_predict_on_a_series_of_another_frequency_is_one_error_line(tmp_path, classical_model):
    data = write_csv(tmp_path / "monthly.csv", length=30, freq="MS")
    result = run_cli("predict", "--model", str(classical_model), "--data", str(data),
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "'YS'", "'MS'", "same frequency")


def test_predict_with_a_classical_model_writes_the_forecast(tmp_path, classical_model):
    from core.forecast import RNNForecaster

    data = write_csv(tmp_path / "yearly.csv", length=15, freq="YS")
    out = tmp_path / "next"
    # The folder that holds model.rnnlab is accepted too.
    result = run_cli("predict", "--model", str(classical_model.parent), "--data", str(data),
                     "--horizon", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    forecast = pd.read_csv(out / "forecast.csv")
    assert list(forecast.columns) == ["time", "forecast", "lower_80", "upper_80", "lower_95",
                                      "upper_95"]
    assert forecast["time"].tolist() == ["2016-01-01", "2017-01-01", "2018-01-01"]
    values = pd.read_csv(data)["sales"].to_numpy()
    expected = RNNForecaster.load(classical_model).predict(3, series=values)
    np.testing.assert_allclose(forecast["forecast"], expected.mean, rtol=1e-6)
    assert (forecast["lower_95"] <= forecast["forecast"]).all()
    assert (forecast["forecast"] <= forecast["upper_95"]).all()
    bad = run_cli("predict", "--model", str(classical_model), "--data", str(data),
                  "--horizon", "0", "--out", str(out))
    assert_one_error_line(bad, "horizon")


@pytest.mark.parametrize("folds,fragments", [("9", ("9 folds", "fewer folds")),
                                             ("0", ("--folds", "1 to"))])
def test_backtest_with_a_bad_number_of_folds_is_one_error_line(tmp_path, folds, fragments):
    data = write_csv(tmp_path / "sales.csv", length=40)
    result = run_cli("backtest", "--data", str(data), "--horizon", "6", "--folds", folds,
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, *fragments)
    assert not (tmp_path / "out" / "backtest.json").exists()


@pytest.mark.slow
def test_a_run_writes_every_result_file_and_predict_reproduces_its_future(tmp_path):
    data = write_csv(tmp_path / "sales.csv")
    out = tmp_path / "run"
    result = run_cli("forecast", "--data", str(data), "--target", "sales", "--holdout", "9",
                     "--horizon", "6", *QUICK, "--seed", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "MASE" in result.stdout

    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("cell", "horizon", "holdout", "season", "seconds", "epochs_run", "model",
                "baselines", "choice", "choice_text", "network", "best", "verdict", "data"):
        assert key in metrics
    assert metrics["choice"] in ("network", "hybrid", "classical") and metrics["choice_text"]
    assert metrics["best"] in ("model", "naive", "seasonal_naive", "drift", "autoets",
                               "autotheta", "autoarima")
    assert set(metrics["network"]) >= {"mae", "rmse", "smape", "mase"}
    assert (metrics["cell"], metrics["horizon"], metrics["holdout"], metrics["season"]) == (
        "gru", 6, 9, 12)
    assert metrics["epochs_run"] == 2
    for scores in [metrics["model"], *(metrics["baselines"][name] for name in
                                       ("naive", "seasonal_naive", "drift"))]:
        assert set(scores) >= {"mae", "rmse", "smape", "mase"}

    forecast = pd.read_csv(out / "forecast.csv")
    columns = ["time", "actual", "forecast", "lower_80", "upper_80", "lower_95", "upper_95",
               *BASELINE_COLUMNS]
    if metrics["choice"] == "hybrid":
        columns.append("network")
    assert list(forecast.columns) == columns
    assert len(forecast) == 9 + 6
    assert forecast[BASELINE_COLUMNS].notna().all().all()
    sales = pd.read_csv(data)["sales"].to_numpy()
    np.testing.assert_allclose(forecast["baseline_naive"][:9], sales[-10])
    np.testing.assert_allclose(forecast["baseline_naive"][9:], sales[-1])
    assert forecast["actual"][:9].notna().all() and forecast["actual"][9:].isna().all()
    assert forecast["time"].iloc[0] == "2006-04-01" and forecast["time"].iloc[-1] == "2007-06-01"

    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == [1, 2]
    assert {"loss", "val_loss", "seconds"} <= set(history.columns)

    config = ForecastConfig.from_json((out / "config.json").read_text())
    assert (config.holdout, config.horizon, config.seed, config.window) == (9, 6, 3, 24)
    assert (out / "model.rnnlab").stat().st_size > 0
    assert not (out / "model.keras").exists()

    # The saved model forecasts the same future from the same CSV, without training.
    again = tmp_path / "again"
    predicted = run_cli("predict", "--model", str(out / "model.rnnlab"), "--data", str(data),
                        "--target", "sales", "--date-col", "month", "--sep", ",",
                        "--out", str(again))
    assert predicted.returncode == 0, predicted.stderr
    future = forecast.iloc[9:].reset_index(drop=True)
    rows = pd.read_csv(again / "forecast.csv")
    assert rows["time"].tolist() == future["time"].tolist()
    for column in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95"):
        np.testing.assert_allclose(rows[column], future[column], rtol=1e-6)


@pytest.mark.slow
def test_backtest_writes_each_folds_scores_and_their_means(tmp_path):
    data = write_csv(tmp_path / "sales.csv", length=48)
    out = tmp_path / "backtest"
    result = run_cli("backtest", "--data", str(data), "--horizon", "4", "--folds", "2",
                     *QUICK, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "best:" in result.stdout
    report = json.loads((out / "backtest.json").read_text())
    names = ["model", "naive", "seasonal_naive", "drift", "autoets", "autotheta", "autoarima"]
    assert [fold["origin"] for fold in report["folds"]] == [40, 44]
    assert [fold["start"] for fold in report["folds"]] == ["2004-05-01", "2004-09-01"]
    assert [fold["end"] for fold in report["folds"]] == ["2004-08-01", "2004-12-01"]
    for fold in report["folds"]:
        assert list(fold["scores"]) == names
        for scores in fold["scores"].values():
            assert set(scores) == {"mae", "rmse", "smape", "mase"}
    assert list(report["mean"]) == names
    for name in names:
        folds = [fold["scores"][name]["mase"] for fold in report["folds"]]
        assert report["mean"][name]["mase"] == pytest.approx(np.mean(folds))
    assert report["best"] in names
    assert (report["horizon"], report["season"], report["model"]) == (4, 12, "GRU")
    assert report["data"]["points"] == 48
    # Naive's first fold is fitted on the 40 points before its origin only.
    sales = pd.read_csv(data)["sales"].to_numpy()
    naive_mae = np.mean(np.abs(sales[40:44] - sales[39]))
    assert report["folds"][0]["scores"]["naive"]["mae"] == pytest.approx(naive_mae)
