"""Covariates (core/forecast/covariates.py): reading them from files made here, laying them out
as network inputs, the command line's bad cases, and a demand series whose temperature
covariate the network must use."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data import read_file
from core.errors import InputError
from core.forecast.covariates import (
    CovariateEncoder,
    calendar_features,
    calendar_offered,
    read_covariates,
    series_with_covariates,
    split_names,
)
from core.preprocessing import WindowEncoder
from tests.cli_helpers import assert_one_error_line

ROOT = Path(__file__).resolve().parents[1]


def demand_csv(points: int = 240, future: int = 14, seed: int = 0) -> str:
    """Daily demand = 50 + 4 x temperature + a weekly swing + small noise; the temperature
    wanders (AR(1) noise on a yearly curve), so without it the demand cannot be foreseen.
    The last `future` rows carry the temperature (a weather forecast) and no demand."""
    rng = np.random.default_rng(seed)
    total = points + future
    wander = np.zeros(total)
    for index in range(1, total):
        wander[index] = 0.6 * wander[index - 1] + rng.normal(0, 3)
    steps = np.arange(total)
    temperature = 15 + 8 * np.sin(2 * np.pi * steps / 365) + wander
    demand = 50 + 4 * temperature + 3 * np.sin(2 * np.pi * steps / 7) + rng.normal(0, 1, total)
    dates = pd.date_range("2023-01-01", periods=total, freq="D")
    lines = ["date,demand,temperature"]
    for index in range(total):
        value = f"{demand[index]:.2f}" if index < points else ""
        lines.append(f"{dates[index].date()},{value},{temperature[index]:.2f}")
    return "\n".join(lines) + "\n"


def table_of(text: str):
    return read_file(io.BytesIO(text.encode()))


# --------------------------------------------------------------------------------- reading


def test_split_names():
    assert split_names(" price, temperature ,,price") == ("price", "temperature")
    assert split_names(["a", " b "]) == ("a", "b")
    assert split_names(None) == ()


def test_future_rows_carry_covariates_only():
    text = demand_csv(points=40, future=7)
    series, covariates = series_with_covariates(table_of(text), target="demand",
                                                known=["temperature"])
    assert len(series) == 40 and series.time[-1] == pd.Timestamp("2023-02-09")
    assert not any("dropped" in note for note in series.notes)
    assert covariates.history == 40 and covariates.future_rows == 7
    assert covariates.time[-1] == pd.Timestamp("2023-02-16")
    expected = [float(line.split(",")[2]) for line in text.splitlines()[1:]]
    np.testing.assert_allclose(covariates.values["temperature"].to_numpy(), expected)


def test_past_covariate_is_unknown_in_future_rows_and_gaps_are_filled():
    rows = [f"2024-01-{day:02d},{day},{'' if day == 2 else 10 * day},{5 + day // 10}"
            for day in range(1, 13)]
    text = "date,sales,footfall,price\n" + "\n".join(rows) + "\n2024-01-13,,,7\n"
    series, covariates = series_with_covariates(table_of(text), target="sales", known=["price"],
                                                past=["footfall"])
    assert len(series) == 12 and covariates.future_rows == 1
    np.testing.assert_allclose(covariates.values["footfall"].to_numpy()[:3], [10, 20, 30])
    assert np.isnan(covariates.values["footfall"].to_numpy()[12])
    assert covariates.values["price"].to_numpy()[12] == 7
    assert any("interpolation" in note for note in covariates.notes)


@pytest.mark.parametrize(("known", "past", "fragment"), [
    (["weather"], [], "no column named 'weather'"),
    (["note"], [], "holds text, such as 'hot' on line"),
    (["demand"], [], "is the value forecast"),
    (["temperature"], ["temperature"], "both as known in advance and as past-only"),
])
def test_bad_covariates_are_refused_in_words(known, past, fragment):
    text = "date,demand,temperature,note\n" + "".join(
        f"2024-01-{day:02d},{day},{day % 5},{'hot' if day == 3 else day}\n" for day in range(1, 21))
    table = table_of(text)
    series = series_with_covariates(table, target="demand")[0]
    with pytest.raises(InputError, match=fragment):
        read_covariates(table, series, known, past)


def test_known_covariate_missing_in_a_future_row_is_refused():
    text = demand_csv(points=30, future=3)
    lines = text.splitlines()
    lines[-2] = lines[-2].rsplit(",", 1)[0] + ","  # a future row without its temperature
    with pytest.raises(InputError, match="missing in the future rows .at 2023-02-01"):
        series_with_covariates(table_of("\n".join(lines) + "\n"), target="demand",
                               known=["temperature"])


# ----------------------------------------------------------------------------- as inputs


def test_calendar_features_are_sin_cos_pairs():
    monday_noon = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-03 12:00"])
    features = calendar_features(monday_noon, ("hour_of_day", "day_of_week"))
    np.testing.assert_allclose(features[0], [0, 1, 0, 1], atol=1e-12)
    np.testing.assert_allclose(features[1, :2], [0, -1], atol=1e-12)  # noon: half a day
    np.testing.assert_allclose(features[1, 2:], [np.sin(4 * np.pi / 7), np.cos(4 * np.pi / 7)])
    days = pd.date_range("2024-01-01", periods=3, freq="D")
    assert calendar_offered("D", days) and not calendar_offered("MS", days)
    assert not calendar_offered(None, pd.RangeIndex(3))


def test_encoder_scales_on_the_fit_part_and_cuts_windows():
    from core.forecast.covariates import Covariates

    values = pd.DataFrame({"price": np.arange(10.0), "footfall": np.arange(10.0) * 2})
    covariates = Covariates(values, pd.RangeIndex(10), 8, ("price",), ("footfall",))
    encoder = CovariateEncoder(("price",), ("footfall",)).fit(covariates, fit_part=5)
    assert encoder.mean_ == {"price": 2.0, "footfall": 4.0}  # rows 0-4 only
    known, past = encoder.matrices(covariates, covariates.time, None, 10)
    window = WindowEncoder(window=2, steps=2, season=1, anchor="last", differenced=False)
    channels, future = encoder.inputs(known, past, np.array([4]), window)
    std = np.std(np.arange(5.0))
    # Window rows 2 and 3: price then footfall, each scaled by its own mean and spread, then
    # both relative to their value in row 3.
    np.testing.assert_allclose(channels[0], [[0, 0, -1 / std, -1 / std],
                                             [1 / std, 1 / std, 0, 0]], rtol=1e-6, atol=1e-7)
    # Forecast rows 4 and 5: the price, then the price minus its last value (the anchor).
    np.testing.assert_allclose(future[0], [[2 / std, 1 / std], [3 / std, 2 / std]], rtol=1e-6)
    # Recursive steps past the origin (4): the past covariate holds its last known value (row 3).
    channels, _ = encoder.inputs(known, past, np.array([6]), window, known_until=np.array([4]))
    np.testing.assert_allclose(channels[0, :, 1], [1 / std, 1 / std], rtol=1e-6)
    np.testing.assert_allclose(channels[0, :, 3], [0, 0], atol=1e-7)


@pytest.mark.parametrize(("known", "past", "calendar", "width"), [
    ((), ("footfall",), (), 2), (("price",), (), (), 2), ((), (), ("day_of_week",), 2),
    (("price",), ("footfall",), ("day_of_week",), 6),
])
def test_channels_match_the_width_the_network_is_built_for(known, past, calendar, width):
    from core.forecast.covariates import Covariates

    values = pd.DataFrame({"price": np.arange(20.0), "footfall": np.arange(20.0) ** 2})
    time = pd.date_range("2024-01-01", periods=20, freq="D")
    covariates = Covariates(values[[*known, *past]], time, 20, known, past, bool(calendar))
    encoder = CovariateEncoder(known, past, calendar).fit(covariates, fit_part=15)
    matrices = encoder.matrices(covariates, time, "D", 22)
    window = WindowEncoder(window=4, steps=2, season=1, anchor="last", differenced=False)
    channels, future = encoder.inputs(*matrices, np.array([10, 12]), window)
    assert channels.shape == (2, 4, encoder.channel_width) and encoder.channel_width == width
    assert future.shape == (2, 2, encoder.future_width)


# ----------------------------------------------------------------------------- command line


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def run_in_process(*args: str) -> tuple[int, str]:
    """`python -m core ARGS` in this process (TensorFlow is imported once for every test): the
    exit code and what it printed (its error line goes to file descriptor 2: use capfd)."""
    from core.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


def demand_with_note(points: int = 60, future: int = 5, edit: str | None = None) -> str:
    """The demand file with a 'note' column holding one word, optionally damaged."""
    lines = demand_csv(points=points, future=future).splitlines()
    lines[0] += ",note"
    lines[1:] = [line + f",{'warm' if index == 3 else index}" for index, line in
                 enumerate(lines[1:])]
    if edit == "blank_future":
        parts = lines[-1].split(",")
        parts[2] = ""
        lines[-1] = ",".join(parts)
    if edit == "no_future":
        lines = lines[:-future]
    return "\n".join(lines) + "\n"


def test_cli_refuses_a_covariate_with_text_with_one_error_line(tmp_path):
    path = tmp_path / "demand.csv"
    path.write_text(demand_with_note())
    result = run_cli("forecast", "--data", str(path), "--target", "demand",
                     "--past-covariates", "note", "--out", str(tmp_path / "out"))
    assert_one_error_line(result, "Column 'note' cannot be used as a covariate: it holds text")


@pytest.mark.parametrize(("option", "edit", "fragment"), [
    ("--covariates=weather", None, "no column named 'weather'"),
    ("--covariates=temperature", "blank_future", "missing in the future rows"),
    ("--covariates=temperature", "no_future", "have values for 0 step(s) after the data"),
])
def test_cli_refuses_bad_covariates(tmp_path, capfd, option, edit, fragment):
    path = tmp_path / "demand.csv"
    path.write_text(demand_with_note(edit=edit))
    code, _ = run_in_process("forecast", "--data", str(path), "--target", "demand", option,
                             "--epochs", "1", "--out", str(tmp_path / "out"))
    lines = capfd.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert fragment in lines[0]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One `forecast` run with the temperature covariate; it trains the model with the
    covariate and the same model without it."""
    folder = tmp_path_factory.mktemp("covariates")
    path = folder / "demand.csv"
    path.write_text(demand_csv(points=200, future=14))
    code, out = run_in_process(
        "forecast", "--data", str(path), "--target", "demand", "--covariates", "temperature",
        "--epochs", "10", "--units", "16", "--seed", "1", "--out", str(folder / "run"))
    assert code == 0, out
    return folder, out


@pytest.mark.slow
def test_temperature_covariate_makes_the_demand_forecast_much_better(trained_run):
    folder, out = trained_run
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    covariates = metrics["covariates"]
    assert covariates["used"] == "temperature (known in advance)"
    assert set(covariates["with"]) == set(covariates["without"]) == {"mae", "rmse", "smape",
                                                                     "mase"}
    assert covariates["with"]["mase"] == pytest.approx(metrics["model"]["mase"])
    with_mae, without_mae = covariates["with"]["mae"], covariates["without"]["mae"]
    assert with_mae / without_mae < 0.5, (
        f"with the temperature the holdout MAE should be under half of the MAE without it; it "
        f"is {with_mae:.2f} against {without_mae:.2f} (ratio {with_mae / without_mae:.2f})")
    assert covariates["helped"] and covariates["text"] in out
    assert json.loads((folder / "run" / "config.json").read_text())["covariates"] == "temperature"


@pytest.mark.slow
def test_cli_predict_reads_the_models_covariates_or_refuses(trained_run, tmp_path, capfd):
    folder, _ = trained_run
    model = folder / "run" / "model.rnnlab"
    code, _ = run_in_process("predict", "--model", str(model), "--data",
                             str(folder / "demand.csv"), "--out", str(tmp_path / "next"))
    assert code == 0, capfd.readouterr().err
    forecast = pd.read_csv(tmp_path / "next" / "forecast.csv")
    assert len(forecast) == 14 and forecast["forecast"].notna().all()
    without = tmp_path / "no_temperature.csv"
    lines = (folder / "demand.csv").read_text().splitlines()
    without.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    code, _ = run_in_process("predict", "--model", str(model), "--data", str(without),
                             "--out", str(tmp_path / "refused"))
    err = capfd.readouterr().err
    assert code == 2 and "trained with the covariate(s) 'temperature'" in err, err
    # Without its covariates, the saved model refuses in words (the page's path).
    from core.forecasting import forecast_with_saved_model

    series = series_with_covariates(table_of((folder / "demand.csv").read_text()),
                                    target="demand")[0]
    with pytest.raises(InputError, match="trained with covariates .temperature"):
        forecast_with_saved_model(model, series)
