"""The numpy recomputation of SimpleRNN / LSTM / GRU against Keras' own outputs, and the
Inside the cell job."""

import numpy as np
import pytest

from core import cells, inside
from core.errors import ConfigError, InputError

keras = pytest.importorskip("keras")


def _randomise(model, seed=0):
    """Non-trivial weights everywhere (biases too), so that every term of the maths matters."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])


def _layer(kind, units, **options):
    return cells.get_cell(kind).make_layer(units, return_sequences=True, **options)


@pytest.mark.parametrize("kind,layer", [("rnn", "SimpleRNN"), ("lstm", "LSTM"), ("gru", "GRU")])
def test_each_cell_builds_its_keras_layer(kind, layer):
    built = _layer(kind, 3, activation="relu")
    assert type(built) is getattr(keras.layers, layer)
    assert built.units == 3 and built.return_sequences


CASES = [
    ("rnn", {}),
    ("rnn", {"activation": "relu"}),  # the seed's SimpleRNN
    ("lstm", {}),
    ("gru", {}),  # reset_after=True, Keras 3's default
    ("gru", {"reset_after": False}),
]


@pytest.mark.parametrize("kind,options", CASES)
def test_hidden_states_match_keras(kind, options):
    model = keras.Sequential([keras.Input((7, 3)), _layer(kind, 5, **options)])
    _randomise(model)
    x = np.random.default_rng(1).normal(size=(4, 7, 3)).astype("float32")
    expected = np.asarray(model(x))
    states = cells.run_layer(cells.layer_weights(model.layers[0]), x)
    np.testing.assert_allclose(states["hidden"], expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_stacked_layers_match_keras(kind):
    model = keras.Sequential(
        [keras.Input((6, 2)), _layer(kind, 4), _layer(kind, 3), keras.layers.Dense(1)]
    )
    _randomise(model, seed=2)
    x = np.random.default_rng(3).normal(size=(2, 6, 2)).astype("float32")
    first = keras.Model(model.inputs[0], model.layers[0].output)
    second = keras.Model(model.inputs[0], model.layers[1].output)
    layers = cells.model_weights(model)
    assert [layer.cell for layer in layers] == [kind, kind]
    states = cells.run_stack(layers, x)
    np.testing.assert_allclose(states[0]["hidden"], np.asarray(first(x)), atol=1e-5)
    np.testing.assert_allclose(states[1]["hidden"], np.asarray(second(x)), atol=1e-5)


def test_lstm_cell_state_and_gates_are_consistent():
    model = keras.Sequential([keras.Input((5, 2)), _layer("lstm", 3)])
    _randomise(model, seed=4)
    x = np.random.default_rng(5).normal(size=(1, 5, 2))
    s = cells.run_layer(cells.layer_weights(model.layers[0]), x)
    for name in ("input", "forget", "output"):
        assert s[name].shape == (1, 5, 3)
        assert np.all((s[name] > 0) & (s[name] < 1))
    # c_t = f c_{t-1} + i g and h_t = o tanh(c_t), step by step
    previous = np.vstack([np.zeros((1, 3)), s["cell"][0, :-1]])
    np.testing.assert_allclose(
        s["cell"][0], s["forget"][0] * previous + s["input"][0] * s["candidate"][0]
    )
    np.testing.assert_allclose(s["hidden"], s["output"] * np.tanh(s["cell"]))


def test_lstm_forget_bias_matches_the_keras_gate_order():
    """A huge bias on the forget block only: f is 1 everywhere, i / o are not."""
    layer = cells.CellWeights(
        cell="lstm", kernel=np.zeros((1, 8)), recurrent_kernel=np.zeros((2, 8)),
        bias=np.array([0, 0, 50, 50, 0, 0, 0, 0], dtype=float),
    )
    s = cells.run_layer(layer, np.ones((1, 3, 1)))
    np.testing.assert_allclose(s["forget"], 1.0)
    np.testing.assert_allclose(s["input"], 0.5)
    np.testing.assert_allclose(s["output"], 0.5)


def test_gru_exposes_update_and_reset_gates():
    model = keras.Sequential([keras.Input((4, 1)), _layer("gru", 2)])
    _randomise(model, seed=6)
    s = cells.run_layer(cells.layer_weights(model.layers[0]), np.ones((4, 1)))
    assert set(s) == {"update", "reset", "candidate", "hidden"}
    assert s["update"].shape == (1, 4, 2)


@pytest.mark.parametrize("kind,features,units", [("rnn", 1, 8), ("lstm", 3, 5), ("gru", 2, 4)])
def test_count_parameters_matches_keras(kind, features, units):
    model = keras.Sequential([keras.Input((3, features)), _layer(kind, units)])
    assert cells.count_parameters(kind, units, features) == model.count_params()


def test_weights_are_plain_arrays_that_pickle():
    import pickle

    model = keras.Sequential([keras.Input((3, 1)), _layer("lstm", 2)])
    weights = cells.model_weights(model)
    again = pickle.loads(pickle.dumps(weights))
    np.testing.assert_array_equal(again[0].kernel, weights[0].kernel)
    assert type(again[0].kernel) is np.ndarray


def test_wrong_window_shape_says_what_was_expected():
    model = keras.Sequential([keras.Input((3, 2)), _layer("rnn", 2)])
    weights = cells.layer_weights(model.layers[0])
    with pytest.raises(InputError, match=r"shape \(batch, time, 2\)"):
        cells.run_layer(weights, np.zeros((1, 3, 5)))


def test_a_model_without_recurrent_layers_is_refused():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ConfigError, match="no SimpleRNN, LSTM or GRU"):
        cells.model_weights(model)


@pytest.mark.slow
def test_inside_task_on_the_echo_task_returns_plain_arrays(tmp_path):
    import pickle

    from core.jobs import JobContext, run_inline

    config = inside.InsideConfig(cell="gru", units=3, epochs=2, gap=3)
    result = run_inline(inside.INSIDE_TASK, {"config": config.to_dict()}, JobContext(tmp_path))
    assert result["keras_gap"] < 1e-5  # numpy and Keras agree on every held-out window
    assert result["windows"].shape == (64, 5 + 3 + 1, 2) and len(result["labels"]) == 64
    assert result["predictions"].shape == (64, 1)
    assert len(result["history"]) == 2
    states = cells.run_stack(result["weights"], result["windows"][:1])
    assert set(states[0]) == {"update", "reset", "candidate", "hidden"}
    pickled = pickle.dumps(result)
    assert b"keras." not in pickled and b"tensorflow" not in pickled  # unpickles without them


@pytest.mark.slow
def test_inside_task_on_a_series_with_two_layers(tmp_path):
    from pathlib import Path

    from core.jobs import JobContext, run_inline

    path = Path(__file__).resolve().parents[1] / "sample_data" / "lynx.csv"
    config = inside.InsideConfig(cell="lstm", source="series", path=str(path), units=3,
                                 num_layers=2, epochs=1, window=5)
    result = run_inline(inside.INSIDE_TASK, {"config": config.to_dict()}, JobContext(tmp_path))
    assert result["keras_gap"] < 1e-5
    assert result["windows"].shape == (114 - 5, 5, 1)
    assert [layer.cell for layer in result["weights"]] == ["lstm", "lstm"]
    assert result["labels"][0].startswith("1821")


def test_inside_task_without_a_series_says_what_to_do(tmp_path):
    from core.jobs import JobContext, run_inline

    config = inside.InsideConfig(source="series", path="")
    with pytest.raises(InputError, match="Choose a series"):
        run_inline(inside.INSIDE_TASK, {"config": config.to_dict()}, JobContext(tmp_path))


def test_every_diagram_has_one_label_size():
    # Readable on a projector, and the same for every cell: no label sizes of their own.
    from core.cells import _DOT_STYLE, cell_keys, get_cell

    drawn = [get_cell(key) for key in cell_keys() if get_cell(key).diagram]
    assert drawn
    for cell in drawn:
        assert _DOT_STYLE in cell.diagram
        assert cell.diagram.count("fontsize") == _DOT_STYLE.count("fontsize") == 2
    assert "fontsize=14" in _DOT_STYLE
