"""The cell registry (core.cells): a cell registered once is everywhere a cell can be chosen."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from app_helpers import ROOT, page

from core import cells
from core.cells import Cell, cell_keys, cell_names, get_cell, register, unregister
from core.compare import plan_runs, summarise
from core.config import ForecastConfig, NextWordConfig
from core.errors import ConfigError
from core.memory import MemoryConfig

KEY = "simple2"


@pytest.fixture
def simple2():
    """SimpleRNN declared a second time under a new key, name and colour."""
    cell = dataclasses.replace(get_cell("rnn"), key=KEY, name="Simple two", colour="#9467bd",
                               lesson=4)
    register(cell)
    yield cell
    unregister(KEY)


def test_the_three_cells_are_declared_once_in_display_order():
    assert cell_keys()[:3] == ("lstm", "gru", "rnn")
    assert cell_names() == {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}
    assert [get_cell(key).layer for key in ("lstm", "gru", "rnn")] == ["LSTM", "GRU", "SimpleRNN"]
    assert cells.lesson_keys() == ("rnn", "lstm", "gru")  # simplest first on teaching pages
    assert len({get_cell(key).colour for key in cell_keys()}) == 3
    assert get_cell("lstm").gates == ("input", "forget", "output")
    assert get_cell("gru").gates == ("update", "reset")
    for key in cell_keys():  # every state drawn has a heading and is computed by the step
        cell = get_cell(key)
        assert set(cell.states) <= set(cell.titles)
        assert set(cell.gates) <= set(cell.titles)


def test_an_unknown_cell_names_the_choices():
    with pytest.raises(ConfigError, match=r"Unknown cell 'cnn'; choose one of lstm \(LSTM\), "
                                          r"gru \(GRU\), rnn \(SimpleRNN\)"):
        get_cell("cnn")
    with pytest.raises(ConfigError, match="must be one of lstm, gru, rnn; received cnn"):
        ForecastConfig(cell="cnn")


def test_a_key_is_registered_once():
    with pytest.raises(ConfigError, match="already registered"):
        register(dataclasses.replace(get_cell("gru"), name="Another GRU"))
    with pytest.raises(ConfigError, match="lowercase word"):
        register(dataclasses.replace(get_cell("gru"), key="My GRU"))
    assert cell_names()["gru"] == "GRU"


def test_a_registered_cell_is_a_choice_everywhere(simple2):
    assert cell_keys() == ("lstm", "gru", "rnn", KEY)
    assert cell_names()[KEY] == "Simple two"
    # configs validate against the registry when they are made, not when they were imported
    assert ForecastConfig(cell=KEY).cell == KEY
    assert KEY in ForecastConfig.CHOICES["cell"] and ForecastConfig.choices("cell")[-1] == KEY
    assert NextWordConfig.from_json(NextWordConfig(cell=KEY).to_json()).cell == KEY
    assert MemoryConfig().cell_list == ["rnn", "lstm", "gru", KEY]
    assert [run.cell for run in plan_runs("forecast", {}, ForecastConfig())] == list(cell_keys())
    rows = [{"cell": KEY, "seed": 0, "parameters": 1, "seconds_per_epoch": 1.0, "best_epoch": 1,
             "best_val_loss": 1.0, "score": 1.0}]
    assert list(summarise(rows)["cell"]) == ["Simple two"]


def test_an_unregistered_cell_is_refused_again(simple2):
    unregister(KEY)
    with pytest.raises(ConfigError, match=f"received {KEY}"):
        ForecastConfig(cell=KEY)
    register(simple2)  # the fixture unregisters it


def test_a_registered_cell_builds_a_working_layer(simple2):
    keras = pytest.importorskip("keras")

    layer = simple2.make_layer(4, activation="relu")
    assert type(layer) is keras.layers.SimpleRNN and layer.units == 4
    model = keras.Sequential([keras.Input((5, 2)), layer, keras.layers.Dense(1)])
    x = np.random.default_rng(0).normal(size=(3, 5, 2)).astype("float32")
    assert np.asarray(model(x)).shape == (3, 1)
    assert model.layers[0].count_params() == cells.count_parameters(KEY, 4, 2)
    # and the teaching pages can recompute it
    hidden = cells.run_layer(dataclasses.replace(cells.layer_weights(model.layers[0]), cell=KEY),
                             x)["hidden"][:, -1]
    expected = np.asarray(keras.Model(model.inputs[0], model.layers[0].output)(x))
    np.testing.assert_allclose(hidden, expected, atol=1e-5)


def test_a_cell_with_its_own_builder(simple2):
    """A cell that is not a plain keras.layers class: keras.layers.RNN around a cell object."""
    keras = pytest.importorskip("keras")

    def build(units, **options):
        return keras.layers.RNN(keras.layers.SimpleRNNCell(units), **options)

    register(Cell(key="wrapped", name="Wrapped", layer="RNN", colour="#8c564b", gates=(),
                  build=build))
    try:
        layer = get_cell("wrapped").make_layer(3, return_sequences=True)
        assert type(layer) is keras.layers.RNN
        assert ForecastConfig(cell="wrapped").cell == "wrapped"
    finally:
        unregister("wrapped")


def test_the_forecast_page_offers_a_registered_cell(simple2):
    at = page("pages/1_Forecast.py")
    radio = at.radio(key="fc_cell")
    assert "Simple two" in radio.options
    radio.set_value(KEY).run()
    assert not at.exception and not at.error
    assert at.radio(key="fc_cell").value == KEY


def test_the_next_word_and_compare_pages_offer_a_registered_cell(simple2):
    at = page("pages/2_Next_Word.py")
    assert "Simple two" in at.selectbox(key="nw_cell").options
    compare = page("pages/3_Compare.py")
    assert compare.button(key="cmp_train").label == "Train the four cells (4 trainings)"


def test_the_registry_imports_neither_keras_nor_jobs_nor_memory():
    """core.cells is at the bottom: no cycle with core.memory, no job system, no TensorFlow."""
    code = ("import sys, core.cells; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'streamlit', 'core.jobs', "
            "'core.memory', 'core.config') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
