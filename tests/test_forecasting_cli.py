"""`python -m core forecast` end to end: files written, help text, one-line errors with exit 2."""

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


def write_csv(path: Path, length: int = 72) -> Path:
    t = np.arange(length)
    values = 50 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12)
    frame = pd.DataFrame({"month": pd.date_range("2001-01", periods=length, freq="MS")
                          .strftime("%Y-%m"), "sales": values.round(2)})
    frame.to_csv(path, index=False)
    return path



def test_help_explains_every_option():
    result = run_cli("forecast", "--help")
    assert result.returncode == 0
    for option in ("--data", "--target", "--date-col", "--sep", "--decimal", "--cell",
                   "--horizon", "--holdout", "--season", "--epochs", "--seed", "--out",
                   "--window", "--strategy", "--transform", "--ensemble", "--missing"):
        assert option in result.stdout
    assert "metrics.json" in result.stdout and "exit" in result.stdout
    assert "forecast" in run_cli("--help").stdout


def test_a_missing_file_is_one_error_line(tmp_path):
    assert_one_error_line(run_cli("forecast", "--data", str(tmp_path / "nope.csv"),
                                  "--out", str(tmp_path / "out")), "nope.csv")


def test_an_unknown_column_is_one_error_line(tmp_path):
    data = write_csv(tmp_path / "sales.csv")
    assert_one_error_line(run_cli("forecast", "--data", str(data), "--target", "price",
                                  "--out", str(tmp_path / "out")), "price")


def test_a_series_too_short_is_one_error_line(tmp_path):
    data = write_csv(tmp_path / "short.csv", length=30)
    result = run_cli("forecast", "--data", str(data), "--window", "24",
                     "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "30 points", "window of 24")


@pytest.mark.parametrize("option", [["--cell", "transformer"], ["--epochs", "0"],
                                    ["--horizon", "many"]])
def test_bad_option_values_are_one_error_line(tmp_path, option):
    data = write_csv(tmp_path / "sales.csv")
    assert_one_error_line(run_cli("forecast", "--data", str(data), *option,
                                  "--out", str(tmp_path / "out")))


@pytest.mark.slow
def test_a_run_writes_every_result_file(tmp_path):
    data = write_csv(tmp_path / "sales.csv")
    out = tmp_path / "run"
    result = run_cli("forecast", "--data", str(data), "--target", "sales", "--holdout", "9",
                     "--horizon", "6", "--epochs", "2", "--units", "4", "--seed", "3",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "MASE" in result.stdout

    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("cell", "horizon", "holdout", "season", "seconds", "epochs_run", "model",
                "baselines"):
        assert key in metrics
    assert (metrics["cell"], metrics["horizon"], metrics["holdout"], metrics["season"]) == (
        "gru", 6, 9, 12)
    assert metrics["epochs_run"] == 2
    for scores in [metrics["model"], *(metrics["baselines"][name] for name in
                                       ("naive", "seasonal_naive", "drift"))]:
        assert set(scores) >= {"mae", "rmse", "smape", "mase"}

    forecast = pd.read_csv(out / "forecast.csv")
    assert list(forecast.columns) == ["time", "actual", "forecast", "lower_80", "upper_80",
                                      "lower_95", "upper_95"]
    assert len(forecast) == 9 + 6
    assert forecast["actual"][:9].notna().all() and forecast["actual"][9:].isna().all()
    assert forecast["time"].iloc[0] == "2006-04-01" and forecast["time"].iloc[-1] == "2007-06-01"

    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == [1, 2]
    assert {"loss", "val_loss", "seconds"} <= set(history.columns)

    config = ForecastConfig.from_json((out / "config.json").read_text())
    assert (config.holdout, config.horizon, config.seed, config.window) == (9, 6, 3, 24)
    assert (out / "model.keras").stat().st_size > 0
