"""The all-series forecast's model file, wide files on the command line, and covariates refused
by the global network (issue 13): core/forecast/many.py's save/load, core/forecasting_many.py,
`python -m core forecast --all-series` and `predict` with the global model file."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from core.config import ForecastConfig
from core.data import read_csv, to_panel
from core.errors import InputError
from core.forecast.base import SeriesData
from core.forecast.many import GlobalRNNForecaster
from core.forecast.rnn import RNNForecaster
from core.forecasting_many import predict_all_series, run_forecast_all
from core.modelfile import ModelFileError
from tests.test_covariates import run_in_process
from tests.test_forecast_many import MONTHS, long_file, pattern, wide_file

QUICK = ForecastConfig(epochs=2, units=4, patience=0, horizon=6)


def error_line(capfd) -> str:
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def assert_same_forecasts(one: dict, other: dict) -> None:
    assert list(one) == list(other)
    for key in one:
        a, b = one[key].to_frame(), other[key].to_frame()
        assert list(a["time"]) == list(b["time"]), key
        for column in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95"):
            np.testing.assert_allclose(a[column], b[column], rtol=1e-9, atol=1e-9,
                                       err_msg=f"{key} {column}")


@pytest.mark.slow
def test_the_global_model_file_loads_back_and_forecasts_every_series_the_same(tmp_path):
    panel = to_panel(read_csv(wide_file()))
    datas = {key: panel[key] for key in panel}
    datas["tiny"] = SeriesData(pattern(14, 5), MONTHS[:14], "MS", 12, "tiny")  # classical only
    trains = {key: SeriesData(d.values[:-6], d.time[:-6], "MS", 12, key)
              for key, d in datas.items()}
    trained = GlobalRNNForecaster(QUICK.replace(combine="auto", seed=3)).fit(trains)
    assert trained.classical_only_ == ["tiny"]
    path = tmp_path / "all.rnnlab"
    data = trained.save(path, ids={"north": ("north",)}, id_names=("region",))
    assert path.read_bytes() == data

    loaded = GlobalRNNForecaster.load(path)
    assert list(loaded.members_) == ["north", "south", "tiny"]
    assert loaded.members_["north"].model_ is loaded.members_["south"].model_ is loaded.model_
    assert {k: m.choice_ for k, m in loaded.members_.items()} == {
        k: m.choice_ for k, m in trained.members_.items()}
    for mine, theirs in zip(loaded.model_.get_weights(), trained.model_.get_weights(),
                            strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert loaded.id_names_ == ("region",) and loaded.ids_["south"] == ("south",)
    assert loaded.window_ == trained.window_ and loaded.summary() == trained.summary()
    # From the end of the data it learnt, and from the end of the full series (new data).
    assert_same_forecasts(loaded.predict(), trained.predict())
    assert_same_forecasts(loaded.predict(9, panel=datas), trained.predict(9, panel=datas))
    assert loaded.predict(9, panel=datas)["north"].time[0] == MONTHS[48]


def test_a_model_file_of_another_kind_is_refused_in_words(tmp_path):
    single = RNNForecaster(QUICK).fit(SeriesData(pattern(12, 10), MONTHS[:12], "MS", 12))
    assert single.choice_ == "classical"  # too short for a network: no training needed here
    with pytest.raises(ModelFileError, match="This is a forecast model file; this needs a "
                                             "forecast_many model file"):
        GlobalRNNForecaster.load(single.save())
    with pytest.raises(ModelFileError):
        GlobalRNNForecaster.load(b"PK\x03\x04 not a model")


def long_demand(points: int = 150, future: int = 7, levels=(50, 300, 1000)) -> str:
    """Three stores' daily demand = level + 4 x temperature + a weekly swing + noise; each
    store's temperature wanders (AR(1)), so without it the demand cannot be foreseen. The last
    `future` rows of each store carry the temperature (a weather forecast) and no demand."""
    rows = ["date,store,demand,temperature"]
    dates = pd.date_range("2023-01-01", periods=points + future, freq="D")
    for index, level in enumerate(levels):
        rng = np.random.default_rng(index)
        wander = np.zeros(points + future)
        for step in range(1, points + future):
            wander[step] = 0.6 * wander[step - 1] + rng.normal(0, 3)
        temperature = 15 + wander
        demand = (level + 4 * temperature + 3 * np.sin(2 * np.pi * np.arange(points + future) / 7)
                  + rng.normal(0, 1, points + future))
        for step in range(points + future):
            value = f"{demand[step]:.2f}" if step < points else ""
            rows.append(f"{dates[step].date()},S{index},{value},{temperature[step]:.2f}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("settings", [{"covariates": "temperature"},
                                      {"past_covariates": "footfall"}])
def test_covariates_named_but_not_given_are_refused_in_words(settings):
    panel = to_panel(read_csv(long_file()))
    with pytest.raises(InputError, match="not given with the series, so the forecast of every "
                                         "series would not score"):
        run_forecast_all(panel, QUICK.replace(**settings))


def test_bad_covariates_of_every_series_are_one_error_line(tmp_path, capfd):
    path = tmp_path / "stores.csv"
    text = long_demand(points=40, future=3)
    path.write_text(text)
    code, _ = run_in_process("forecast", "--data", str(path), "--id-col", "store",
                             "--target", "demand", "--covariates", "demand",
                             "--out", str(tmp_path / "out"))
    line = error_line(capfd)
    assert code == 2 and "Series 'S0': Column 'demand' is the value forecast" in line
    lines = text.splitlines()
    lines[50] = lines[50].rsplit(",", 1)[0] + ",hot"  # S1's temperature on one day
    path.write_text("\n".join(lines) + "\n")
    code, _ = run_in_process("forecast", "--data", str(path), "--id-col", "store",
                             "--target", "demand", "--covariates", "temperature",
                             "--out", str(tmp_path / "out"))
    line = error_line(capfd)
    assert code == 2 and "Series 'S1': Column 'temperature' cannot be used as a covariate: it " \
                         "holds text, such as 'hot'" in line
    path.write_text(text)  # 3 future rows per store, and a horizon of 5
    code, _ = run_in_process("forecast", "--data", str(path), "--id-col", "store",
                             "--target", "demand", "--covariates", "temperature",
                             "--horizon", "5", "--out", str(tmp_path / "out"))
    line = error_line(capfd)
    assert code == 2 and "have values for 3 step(s) after the data, but 5 are forecast" in line


@pytest.fixture(scope="module")
def stores_run(tmp_path_factory):
    """`forecast --id-col store --covariates temperature` on three stores (one network, then
    the same network without the temperature)."""
    folder = tmp_path_factory.mktemp("stores")
    path = folder / "stores.csv"
    path.write_text(long_demand())
    code, out = run_in_process(
        "forecast", "--data", str(path), "--id-col", "store", "--target", "demand",
        "--covariates", "temperature", "--epochs", "8", "--units", "8", "--ensemble", "1",
        "--seed", "1", "--out", str(folder / "run"))
    assert code == 0, out
    return folder, out


@pytest.mark.slow
def test_one_network_reads_every_stores_temperature_and_it_helps(stores_run):
    folder, out = stores_run
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    assert metrics["horizon"] == 7  # the weather forecast's 7 future rows
    covariates = metrics["covariates"]
    assert covariates["used"] == "temperature (known in advance)"
    assert covariates["gmase_with"] == pytest.approx(metrics["overall"]["gmase"]["model"])
    ratio = covariates["gmase_with"] / covariates["gmase_without"]
    # Demand is 4 x temperature plus a weekly swing: the temperature should at least halve the
    # error (measured here: about a fifth; 0.131 against 0.614 at 8 epochs).
    assert ratio < 0.5, f"gMASE with {covariates['gmase_with']:.3f}, without " \
                        f"{covariates['gmase_without']:.3f}"
    assert covariates["helped"] and covariates["text"] in out
    for key in ("S0", "S1", "S2"):
        entry = metrics["series"][key]
        assert entry["model"]["mase"] < entry["without_covariates"]["mase"], key
    assert metrics["global_network"]["covariates"] == "temperature (known in advance)"
    forecast = pd.read_csv(folder / "run" / "forecast.csv")
    assert forecast.groupby(["store", "part"]).size().to_dict() == {
        (store, part): 7 for store in ("S0", "S1", "S2") for part in ("future", "holdout")}


@pytest.mark.slow
def test_predict_reads_every_stores_covariates_or_refuses(stores_run, tmp_path, capfd):
    folder, _ = stores_run
    code, out = run_in_process("predict", "--model", str(folder / "run"), "--data",
                               str(folder / "stores.csv"), "--out", str(tmp_path / "next"))
    assert code == 0, capfd.readouterr().err
    again = pd.read_csv(tmp_path / "next" / "forecast.csv")
    trained = pd.read_csv(folder / "run" / "forecast.csv")
    trained = trained[trained["part"] == "future"].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, trained[list(again.columns)], rtol=1e-9)
    lines = (folder / "stores.csv").read_text().splitlines()
    (tmp_path / "no_temperature.csv").write_text(
        "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    code, _ = run_in_process("predict", "--model", str(folder / "run"), "--data",
                             str(tmp_path / "no_temperature.csv"), "--out", str(tmp_path / "x"))
    assert code == 2 and "no column named 'temperature'" in error_line(capfd)


def test_an_id_column_of_a_wide_file_points_to_all_series(tmp_path, capfd):
    path = tmp_path / "regions.csv"
    path.write_bytes(wide_file())
    code, _ = run_in_process("forecast", "--data", str(path), "--id-col", "north",
                             "--out", str(tmp_path / "out"))
    line = error_line(capfd)
    assert code == 2 and "Column 'north' has a different value on each of its 48 rows" in line
    assert "use --all-series without --id-col" in line
    code, _ = run_in_process("forecast", "--data", str(path), "--all-series", "--series",
                             "north", "--out", str(tmp_path / "out"))
    assert code == 2 and "give one of the two" in error_line(capfd)


@pytest.fixture(scope="module")
def wide_run(tmp_path_factory):
    """`forecast --all-series` on a wide file of two regions (one global network)."""
    folder = tmp_path_factory.mktemp("wide")
    path = folder / "regions.csv"
    path.write_bytes(wide_file())
    code, out = run_in_process("forecast", "--data", str(path), "--all-series", "--horizon",
                               "6", "--epochs", "2", "--units", "4", "--out",
                               str(folder / "run"))
    assert code == 0, out
    return folder, out


@pytest.mark.slow
def test_all_series_of_a_wide_file_from_the_command_line(wide_run):
    folder, out = wide_run
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    assert metrics["id_columns"] == ["series"]
    assert set(metrics["series"]) == {"north", "south"}
    assert metrics["series"]["south"]["ids"] == {"series": "south"}
    assert metrics["overall"]["series"] == 2 and metrics["overall"]["gmase"]["model"] > 0
    forecast = pd.read_csv(folder / "run" / "forecast.csv")
    assert list(forecast.columns[:2]) == ["series", "time"]
    assert forecast.groupby("series").size().to_dict() == {"north": 12, "south": 12}
    assert (folder / "run" / "model.rnnlab").is_file() and "model.rnnlab" in out


@pytest.mark.slow
def test_predict_with_the_global_model_file_repeats_every_future_forecast(wide_run, tmp_path,
                                                                          capfd):
    folder, _ = wide_run
    code, out = run_in_process("predict", "--model", str(folder / "run"), "--data",
                               str(folder / "regions.csv"), "--out", str(tmp_path / "next"))
    assert code == 0, capfd.readouterr().err
    assert "2 series forecast 6 points ahead" in out
    again = pd.read_csv(tmp_path / "next" / "forecast.csv")
    trained = pd.read_csv(folder / "run" / "forecast.csv")
    trained = trained[trained["part"] == "future"].reset_index(drop=True)
    assert list(again.columns) == ["series", "time", "forecast", "lower_80", "upper_80",
                                   "lower_95", "upper_95"]
    pd.testing.assert_frame_equal(again, trained[list(again.columns)], rtol=1e-9)

    # Data without one of the model's series, or of another frequency: one plain line.
    frame = pd.read_csv(folder / "regions.csv")
    frame[["month", "north"]].to_csv(tmp_path / "north_only.csv", index=False)
    code, _ = run_in_process("predict", "--model", str(folder / "run"), "--data",
                             str(tmp_path / "north_only.csv"), "--out", str(tmp_path / "x"))
    assert code == 2 and "No data was given for series 'south'" in error_line(capfd)
    frame["month"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").strftime("%F")
    frame.to_csv(tmp_path / "daily.csv", index=False)
    code, _ = run_in_process("predict", "--model", str(folder / "run"), "--data",
                             str(tmp_path / "daily.csv"), "--out", str(tmp_path / "y"))
    assert code == 2 and "learnt series 'north' with frequency 'MS'" in error_line(capfd)


@pytest.mark.slow
def test_the_job_saves_the_model_file_its_forecasts_come_from():
    panel = to_panel(read_csv(long_file()))
    result = run_forecast_all(panel, QUICK, debug={"autoets": False})
    frame, loaded, notes = predict_all_series(result.model_path, panel)
    future = result.forecast[result.forecast["part"] == "future"].reset_index(drop=True)
    assert list(frame.columns[:2]) == ["store", "time"] and notes == []
    np.testing.assert_allclose(frame["forecast"], future["forecast"], rtol=1e-9)
    assert list(frame["store"]) == list(future["store"])
    assert set(loaded.members_) == set(result.scores) == {"A", "B"}


@pytest.mark.slow
def test_a_wide_file_keeps_its_covariate_column_out_of_the_series(tmp_path):
    """A wide file of two regions and the temperature (with 3 future rows): the temperature is
    an input of every region's forecast, not a series of its own."""
    frame = pd.read_csv(io.StringIO(long_demand(points=60, future=3, levels=(50, 400))))
    wide = frame.pivot(index="date", columns="store", values="demand").reset_index()
    wide["temperature"] = frame[frame["store"] == "S0"]["temperature"].to_numpy()
    path = tmp_path / "regions.csv"
    wide.rename(columns={"S0": "north", "S1": "south"}).to_csv(path, index=False)
    code, out = run_in_process("forecast", "--data", str(path), "--all-series", "--covariates",
                               "temperature", "--epochs", "1", "--units", "2",
                               "--out", str(tmp_path / "run"))
    assert code == 0, out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["series"]) == {"north", "south"} and metrics["horizon"] == 3
    assert metrics["covariates"]["used"] == "temperature (known in advance)"
    forecast = pd.read_csv(tmp_path / "run" / "forecast.csv")
    assert forecast.groupby(["series", "part"]).size().to_dict() == {
        (region, part): 3 for region in ("north", "south") for part in ("future", "holdout")}
