"""Comparing the cells: the plan of jobs, parameter counts against Keras, the summary table."""

import math
import tempfile
from pathlib import Path

import pytest

from core.compare import (
    display_table,
    forecast_parameters,
    nextword_parameters,
    plan_runs,
    result_row,
    summarise,
)
from core.config import ForecastConfig, NextWordConfig
from core.errors import ConfigError
from core.jobs import JobContext, run_inline

ROOT = Path(__file__).resolve().parents[1]


def test_plan_changes_only_the_cell_and_the_seed_and_compares_networks_alone():
    config = ForecastConfig(units=8, epochs=5, seed=7)
    runs = plan_runs("forecast", {"series": "data"}, config, seeds=2)
    assert [(run.cell, run.seed) for run in runs] == [
        ("lstm", 7), ("gru", 7), ("rnn", 7), ("lstm", 8), ("gru", 8), ("rnn", 8)]
    base = config.to_dict()
    for run in runs:
        assert run.task == "core.forecasting:forecast_task"
        assert run.payload["series"] == "data"
        changed = {k for k, v in run.payload["config"].items() if base[k] != v}
        assert changed <= {"cell", "seed", "combine"}
        assert run.payload["config"]["combine"] == "network"  # no classical mix to blur cells
    assert len({run.key for run in runs}) == 6


@pytest.mark.parametrize("kind,seeds,cells,match", [
    ("images", 1, ("gru",), "'forecast' or 'nextword'"),
    ("forecast", 0, ("gru",), "1 to 5 seeds"),
    ("forecast", 6, ("gru",), "1 to 5 seeds"),
    ("forecast", 1, ("cnn",), "cells among"),
])
def test_plan_refuses_bad_requests(kind, seeds, cells, match):
    with pytest.raises(ConfigError, match=match):
        plan_runs(kind, {}, ForecastConfig(), seeds=seeds, cells=cells)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("strategy,layers,ensemble", [("direct", 1, 1), ("recursive", 2, 2)])
def test_forecast_parameters_match_keras(cell, strategy, layers, ensemble):
    pytest.importorskip("keras")
    from core.forecast.rnn import build_network

    config = ForecastConfig(cell=cell, window=6, horizon=3, units=5, num_layers=layers,
                            strategy=strategy, ensemble=ensemble)
    steps = 3 if strategy == "direct" else 1
    # One Keras model: the members side by side, their outputs concatenated.
    network = build_network(config, config.window, steps)
    assert network.output.shape[-1] == ensemble * steps
    assert forecast_parameters(config) == network.count_params()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("shortcut,layers,ensemble", [(True, 1, 1), (False, 2, 2)])
def test_nextword_parameters_match_keras(cell, shortcut, layers, ensemble):
    pytest.importorskip("keras")
    from core.nextword import build_network

    config = NextWordConfig(cell=cell, context=4, embedding_dim=6, units=5, num_layers=layers,
                            shortcut=shortcut, ensemble=ensemble)
    assert nextword_parameters(config, 30) == build_network(config, 30).count_params()


ROWS = [
    {"cell": "gru", "seed": 1, "parameters": 100, "seconds_per_epoch": 0.2, "best_epoch": 4,
     "best_val_loss": 0.5, "score": 1.0, "epochs_run": 9},
    {"cell": "gru", "seed": 2, "parameters": 100, "seconds_per_epoch": 0.4, "best_epoch": 6,
     "best_val_loss": 0.7, "score": 2.0, "epochs_run": 9},
    {"cell": "rnn", "seed": 1, "parameters": 40, "seconds_per_epoch": 0.1, "best_epoch": 3,
     "best_val_loss": 0.9, "score": 1.5, "epochs_run": 9},
]


def test_summary_gives_mean_and_spread_per_cell_in_a_fixed_order():
    summary = summarise(ROWS)
    assert list(summary["cell"]) == ["SimpleRNN", "GRU"]
    gru = summary.iloc[1]
    assert gru["runs"] == 2
    assert gru["best_epoch"] == pytest.approx(5.0)
    assert gru["score"] == pytest.approx(1.5)
    assert gru["score_spread"] == pytest.approx(math.sqrt(0.5))  # sample standard deviation
    assert math.isnan(summary.iloc[0]["score_spread"])  # one run: no spread


def test_display_table_writes_mean_plus_minus_spread():
    table = display_table(summarise(ROWS), "forecast")
    gru = table[table["cell"] == "GRU"].iloc[0]
    assert gru["holdout MASE (lower is better)"] == "1.500 ± 0.707"
    assert gru["parameters"] == "100"
    rnn = table[table["cell"] == "SimpleRNN"].iloc[0]
    assert rnn["epochs to best val loss"] == "3.0"
    assert "top-1 accuracy (higher is better)" in " ".join(display_table(
        summarise(ROWS), "nextword").columns)


def test_no_rows_is_a_plain_error():
    with pytest.raises(ConfigError, match="no finished runs"):
        summarise([])


@pytest.mark.slow
def test_three_forecast_runs_give_a_table(tmp_path):
    from core.data import load_series

    series = load_series(ROOT / "sample_data" / "air_passengers.csv")
    config = ForecastConfig(units=4, epochs=2, patience=0, holdout=12, horizon=12)
    runs = plan_runs("forecast", {"series": series, "debug": {"autoets": False}}, config)
    rows = []
    for run in runs:
        (tmp_path / run.key).mkdir()
        result = run_inline(run.task, run.payload, JobContext(tmp_path / run.key))
        rows.append(result_row(run, result))
    assert [row["cell"] for row in rows] == ["lstm", "gru", "rnn"]
    for row in rows:
        assert row["epochs_run"] == 2 and row["best_epoch"] in (0, 1, 2)  # 0: the anchor kept
        assert row["score"] > 0 and row["best_val_loss"] > 0 and row["seconds_per_epoch"] > 0
    summary = summarise(rows)
    assert list(summary["cell"]) == ["SimpleRNN", "LSTM", "GRU"]
    parameters = dict(zip(summary["cell"], summary["parameters"], strict=True))
    assert parameters["SimpleRNN"] < parameters["GRU"] < parameters["LSTM"]


@pytest.mark.slow
def test_nextword_run_gives_a_row(tmp_path):
    text = (ROOT / "sample_data" / "corpus_class_reader.txt").read_text(encoding="utf-8")
    config = NextWordConfig(units=8, embedding_dim=8, epochs=1, context=4)
    run = plan_runs("nextword", {"text": text[:6000], "name": "reader"}, config,
                    cells=("gru",))[0]
    row = result_row(run, run_inline(run.task, run.payload, JobContext(tmp_path)))
    assert row["cell"] == "gru" and 0.0 <= row["score"] <= 1.0 and row["epochs_run"] == 1


def test_the_comparison_job_runs_each_training_in_turn_and_reports_it():
    from core.compare import compare_task

    sent, stop = [], []
    context = JobContext(Path(tempfile.mkdtemp()), lambda kind, data: sent.append((kind, data)),
                         lambda: bool(stop))
    runs = [{"cell": cell, "seed": 0, "task": "core.demo:sleep_task",
             "payload": {"epochs": 2, "seconds": 0.0}} for cell in ("rnn", "gru")]
    result = compare_task({"runs": runs}, context)
    assert len(result["results"]) == 2
    assert sent[0] == ("total", {"epochs": 2})  # the trainings, not their epochs
    logs = [data for kind, data in sent if kind == "epoch"]
    assert [(log["cell"], log["epoch"], log["run_epoch"], log["most_epochs_left"],
             log["starts_left"]) for log in logs] == [
        ("rnn", 1, 1, 3, 1), ("rnn", 1, 2, 2, 1), ("gru", 2, 1, 1, 0), ("gru", 2, 2, 0, 0)]
    messages = [data["message"] for kind, data in sent if kind == "message"]
    assert messages[0].startswith("SimpleRNN, seed 0 (training 1 of 2)")
    assert sorted(path.name for path in context.workdir.iterdir()) == ["run-1", "run-2"]
    stop.append(True)  # Stop before the next training: none starts
    assert compare_task({"runs": runs}, context) == {"results": []}
