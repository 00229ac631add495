"""AppTest of the Inside the cell page (pages/4_Inside_the_Cell.py) on tiny settings."""

from __future__ import annotations

import pytest
from app_helpers import ROOT, job_of, page, run_until_finished, texts
from streamlit.testing.v1 import AppTest

from ui.jobs import job_manager

PAGE = "pages/4_Inside_the_Cell.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def test_page_draws_the_three_cells_without_training():
    at = page(PAGE)
    assert not at.exception and not at.error
    assert [header.value for header in at.header] == [
        "1. Three cells", "2. Watch a trained cell", "3. How far back can it remember?"]
    assert len(at.get("graphviz_chart")) == 3
    assert [tab.label for tab in at.tabs] == ["SimpleRNN", "LSTM", "GRU"]  # one at its own size
    words = " ".join(texts(at.markdown))
    assert "forget gate" in words and "update gate" in words
    assert job_of(at, "inside") is None and job_of(at, "memory") is None


def test_every_control_has_a_help_text():
    at = page(PAGE)
    widgets = [*at.radio, *at.selectbox, *at.slider, *at.select_slider, *at.button]
    assert [widget.label for widget in widgets if not widget.help] == []


@pytest.mark.slow
@pytest.mark.parametrize("cell,gates", [("lstm", 5), ("gru", 4)])
def test_a_tiny_trained_cell_shows_its_gates(cell, gates):
    at = page(PAGE)
    at.selectbox(key="in_cell").set_value(cell)
    at.slider(key="in_units").set_value(2)
    at.slider(key="in_epochs").set_value(1)
    at.slider(key="in_gap").set_value(2)
    at.run()
    at.button(key="in_train").click().run()
    run_until_finished(at, "inside", timeout=300)
    assert not at.exception and not at.error
    assert "matches Keras' own output" in " ".join(texts(at.caption))
    # 5 numbers, then the marked one, then 2 more: the answer is at step 6
    assert "The answer is the number marked at step **6**" in " ".join(texts(at.markdown))
    charts = at.get("plotly_chart")
    # the loss curve, the input window, and one heatmap per state
    assert len(charts) == 2 + gates
    # another window: redrawn in-process from the weights, no new job
    job = job_of(at, "inside")
    at.selectbox(key="in_window_pick").set_value(5).run()
    assert not at.exception and job_of(at, "inside") is job
    assert "sequence 6: the marked number is" in at.selectbox(key="in_window_pick").format_func(5)
    assert len(at.get("download_button")) == 1  # the trained cell's model file


@pytest.mark.slow
def test_a_tiny_series_model_with_two_layers():
    at = page(PAGE)
    at.radio(key="in_source").set_value("series").run()
    at.selectbox(key="in_sample").set_value("lynx")
    at.selectbox(key="in_cell").set_value("rnn")
    at.slider(key="in_units").set_value(2)
    at.slider(key="in_layers").set_value(2)
    at.slider(key="in_epochs").set_value(1)
    at.slider(key="in_window").set_value(4)
    at.run()
    at.button(key="in_train").click().run()
    run_until_finished(at, "inside", timeout=300)
    assert not at.exception and not at.error
    at.radio(key="in_layer_pick").set_value(1).run()
    assert not at.exception
    assert at.selectbox(key="in_window_pick").format_func(0).startswith("1821")


@pytest.mark.slow
def test_memory_experiment_on_a_tiny_budget():
    at = page(PAGE)
    at.slider(key="mem_longest").set_value(2)
    at.slider(key="mem_count").set_value(2)
    at.slider(key="mem_units").set_value(2)
    at.slider(key="mem_epochs").set_value(1)
    at.select_slider(key="mem_samples").set_value(64)
    at.run()
    at.button(key="mem_train").click().run()
    run_until_finished(at, "memory", timeout=300)
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table.columns) == ["gap k", "SimpleRNN", "LSTM", "GRU"]
    assert list(table["gap k"]) == [1, 2]
    at.radio(key="mem_which").set_value("after").run()
    assert not at.exception
    assert "vanishing gradient" in " ".join(texts(at.caption))


def test_a_saved_cell_is_looked_inside_without_training(monkeypatch):
    import numpy as np

    from core.cells import CellWeights
    from core.inside import InsideConfig, save_inside_file

    generator = np.random.default_rng(1)
    weights = [CellWeights("gru", generator.normal(size=(2, 9)), generator.normal(size=(3, 9)),
                           generator.normal(size=(2, 9)))]
    data = save_inside_file(InsideConfig(cell="gru", units=3, gap=3), weights,
                            (generator.normal(size=(3, 1)), np.zeros(1)))
    at = page(PAGE)
    at.file_uploader(key="in_model_file").set_value(("cell.rnnlab", data, "application/zip"))
    at.run()
    assert not at.exception and not at.error
    assert job_of(at, "inside") is None  # nothing trained
    assert "no training needed" in " ".join(texts(at.success))
    assert "The answer is the number marked at step **6**" in " ".join(texts(at.markdown))
    assert len(at.get("plotly_chart")) == 1 + 4  # the input window, the GRU's four states
    at.file_uploader(key="in_model_file").set_value(("cell.rnnlab", b"PK not a model",
                                                     "application/zip"))
    at.run()
    assert "This model file cannot be used" in " ".join(texts(at.error))


def test_the_address_holds_the_cells_settings_and_reopens_them():
    at = page(PAGE)
    at.radio(key="in_source").set_value("series").run()
    at.selectbox(key="in_cell").set_value("gru")
    at.slider(key="in_units").set_value(4)
    at.selectbox(key="in_sample").set_value("lynx")
    at.run()
    params = dict(at.query_params)
    assert params == {"source": "series", "cell": "gru", "units": "4", "sample": "lynx"}
    fresh = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    fresh.query_params.update({**params, "path": "/etc/passwd", "units": "99"})
    fresh.run()
    assert not fresh.exception
    warning = " ".join(texts(fresh.warning))
    assert "path: not a setting of this page" in warning and "units=99" in warning
    assert fresh.session_state["in_cell"] == "gru" and fresh.session_state["in_sample"] == "lynx"
    assert fresh.session_state["in_units"] == 8  # the default, for the bad value
