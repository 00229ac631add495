"""What happens inside a recurrent cell: gates and states recomputed from a layer's weights.

Keras returns only a layer's outputs, not its gates. Here the three cells are written out in
numpy from their trained weights, step by step, so that a page can draw the forget gate of an
LSTM or the update gate of a GRU for any input window, with no TensorFlow in the app process.
`tests/test_cells.py` checks that the recomputed hidden states equal Keras' own outputs.

Keras 3 layouts (the ones recomputed here):
- SimpleRNN: kernel (features, units), recurrent_kernel (units, units), bias (units,).
- LSTM: the four blocks of kernel / recurrent_kernel / bias are in the order input gate i,
  forget gate f, candidate c, output gate o.
- GRU: the three blocks are update gate z, reset gate r, candidate h. With `reset_after=True`
  (the Keras 3 default) the bias has two rows, one added to the input part and one to the
  recurrent part, and the reset gate multiplies the recurrent part after the matrix product.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from core.config import CELLS, Config
from core.errors import ConfigError, InputError
from core.jobs import JobContext

CELL_OF_LAYER = {"SimpleRNN": "rnn", "LSTM": "lstm", "GRU": "gru"}

_ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
    "hard_sigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
}


@dataclasses.dataclass(frozen=True)
class CellWeights:
    """One recurrent layer as plain arrays: enough to rerun it without Keras."""

    cell: str  # "rnn", "lstm" or "gru"
    kernel: np.ndarray  # (features, blocks * units)
    recurrent_kernel: np.ndarray  # (units, blocks * units)
    bias: np.ndarray  # (blocks * units,), or (2, 3 * units) for a GRU with reset_after
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    reset_after: bool = True

    @property
    def units(self) -> int:
        return int(self.recurrent_kernel.shape[0])

    @property
    def features(self) -> int:
        return int(self.kernel.shape[0])


def _activation_name(activation: Any) -> str:
    name = getattr(activation, "__name__", str(activation))
    if name not in _ACTIVATIONS:
        raise ConfigError(
            f"Recomputing a cell with the activation '{name}' is not supported; use one of "
            f"{', '.join(sorted(_ACTIVATIONS))}."
        )
    return name


def layer_weights(layer: Any) -> CellWeights:
    """The weights of one Keras SimpleRNN / LSTM / GRU layer as a `CellWeights`."""
    kind = type(layer).__name__
    if kind not in CELL_OF_LAYER:
        raise ConfigError(
            f"Only SimpleRNN, LSTM and GRU layers can be looked inside; received a {kind} layer."
        )
    cell = layer.cell
    if not getattr(cell, "use_bias", True):
        raise ConfigError("Recomputing a recurrent layer without a bias is not supported.")
    kernel, recurrent_kernel, bias = (np.asarray(w, dtype="float64") for w in layer.get_weights())
    return CellWeights(
        cell=CELL_OF_LAYER[kind],
        kernel=kernel,
        recurrent_kernel=recurrent_kernel,
        bias=bias,
        activation=_activation_name(cell.activation),
        recurrent_activation=_activation_name(getattr(cell, "recurrent_activation", "sigmoid")),
        reset_after=bool(getattr(cell, "reset_after", True)),
    )


def model_weights(model: Any) -> list[CellWeights]:
    """The recurrent layers of a model, input side first (other layers are skipped)."""
    layers = [layer_weights(layer) for layer in model.layers
              if type(layer).__name__ in CELL_OF_LAYER]
    if not layers:
        raise ConfigError("The model has no SimpleRNN, LSTM or GRU layer to look inside.")
    return layers


def run_layer(weights: CellWeights, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Run one layer over `inputs` (batch, time, features) from zero states.

    Returns arrays of shape (batch, time, units): "hidden" for every cell; "forget", "input",
    "output", "candidate" and "cell" for an LSTM; "update", "reset" and "candidate" for a GRU.
    """
    inputs = np.asarray(inputs, dtype="float64")
    if inputs.ndim == 2:
        inputs = inputs[None]
    if inputs.ndim != 3 or inputs.shape[2] != weights.features:
        raise InputError(
            f"The input window must have shape (batch, time, {weights.features}); "
            f"received an array of shape {inputs.shape}."
        )
    step = {"rnn": _rnn_steps, "lstm": _lstm_steps, "gru": _gru_steps}[weights.cell]
    return step(weights, inputs)


def run_stack(layers: list[CellWeights], inputs: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Run stacked layers (each fed the previous one's hidden states); one dict per layer."""
    results = []
    for weights in layers:
        states = run_layer(weights, inputs)
        results.append(states)
        inputs = states["hidden"]
    return results


def _rnn_steps(weights: CellWeights, inputs: np.ndarray) -> dict[str, np.ndarray]:
    activation = _ACTIVATIONS[weights.activation]
    batch, steps, _ = inputs.shape
    projected = inputs @ weights.kernel + weights.bias
    hidden = np.zeros((batch, steps, weights.units))
    previous = np.zeros((batch, weights.units))
    for t in range(steps):
        previous = activation(projected[:, t] + previous @ weights.recurrent_kernel)
        hidden[:, t] = previous
    return {"hidden": hidden}


def _lstm_steps(weights: CellWeights, inputs: np.ndarray) -> dict[str, np.ndarray]:
    activation = _ACTIVATIONS[weights.activation]
    gate = _ACTIVATIONS[weights.recurrent_activation]
    units = weights.units
    batch, steps, _ = inputs.shape
    projected = inputs @ weights.kernel + weights.bias
    names = ("input", "forget", "candidate", "output", "cell", "hidden")
    out = {name: np.zeros((batch, steps, units)) for name in names}
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    for t in range(steps):
        z = projected[:, t] + h @ weights.recurrent_kernel
        i = gate(z[:, :units])
        f = gate(z[:, units : 2 * units])
        candidate = activation(z[:, 2 * units : 3 * units])
        o = gate(z[:, 3 * units :])
        c = f * c + i * candidate
        h = o * activation(c)
        for name, value in zip(names, (i, f, candidate, o, c, h), strict=True):
            out[name][:, t] = value
    return out


def _gru_steps(weights: CellWeights, inputs: np.ndarray) -> dict[str, np.ndarray]:
    activation = _ACTIVATIONS[weights.activation]
    gate = _ACTIVATIONS[weights.recurrent_activation]
    units = weights.units
    batch, steps, _ = inputs.shape
    bias = weights.bias
    if weights.reset_after:
        input_bias, recurrent_bias = bias[0], bias[1]
    else:
        input_bias, recurrent_bias = bias, np.zeros_like(bias)
    projected = inputs @ weights.kernel + input_bias
    kernel_zr = weights.recurrent_kernel[:, : 2 * units]
    kernel_h = weights.recurrent_kernel[:, 2 * units :]
    names = ("update", "reset", "candidate", "hidden")
    out = {name: np.zeros((batch, steps, units)) for name in names}
    h = np.zeros((batch, units))
    for t in range(steps):
        x = projected[:, t]
        recurrent_zr = h @ kernel_zr + recurrent_bias[: 2 * units]
        update = gate(x[:, :units] + recurrent_zr[:, :units])
        reset = gate(x[:, units : 2 * units] + recurrent_zr[:, units:])
        if weights.reset_after:
            recurrent_h = reset * (h @ kernel_h + recurrent_bias[2 * units :])
        else:
            recurrent_h = (reset * h) @ kernel_h
        candidate = activation(x[:, 2 * units :] + recurrent_h)
        h = update * h + (1.0 - update) * candidate
        for name, value in zip(names, (update, reset, candidate, h), strict=True):
            out[name][:, t] = value
    return out


def count_parameters(cell: str, units: int, features: int, reset_after: bool = True) -> int:
    """Trainable parameters of one recurrent layer (as Keras counts them)."""
    if cell == "rnn":
        return units * (features + units + 1)
    if cell == "lstm":
        return 4 * units * (features + units + 1)
    if cell == "gru":
        return 3 * units * (features + units + (2 if reset_after else 1))
    raise ConfigError(f"Unknown cell '{cell}': use rnn, lstm or gru.")


# ---------------------------------------------------------------------------------------------
# A small model to look inside, trained in a worker job

INSIDE_TASK = "core.cells:inside_task"


@dataclasses.dataclass(frozen=True)
class InsideConfig(Config):
    """A small model trained to be looked inside: on the echo task or on a series."""

    KIND: ClassVar[str] = "inside"
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "units": (1, 64),
        "num_layers": (1, 3),
        "epochs": (1, 300),
        "gap": (1, 100),
        "window": (2, 100),
        "seed": (0, 2**31 - 1),
    }
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"cell": CELLS, "source": ("echo", "series")}

    source: str = "echo"
    cell: str = "lstm"
    units: int = 8
    num_layers: int = 1
    epochs: int = 30
    gap: int = 6  # echo: remember the number marked this many steps before the last
    window: int = 12  # series: input steps per window
    path: str = ""  # series: a CSV that core.data.load_series reads
    seed: int = 0


def _series_windows(path: str, window: int) -> dict[str, Any]:
    """Standardised windows of a series -> next value; train on the first 80% of the windows."""
    from core.data import load_series

    if not path:
        raise InputError("Choose a series to train on (a sample or your own CSV file).")
    series = load_series(path)
    values = np.asarray(series.values, dtype="float64")
    count = values.size - window
    if count < 10:
        raise InputError(
            f"The series has {values.size} points; a window of {window} needs at least "
            f"{window + 10}. Use a shorter window or a longer series."
        )
    train_count = int(count * 0.8)
    scale_part = values[: train_count + window]
    mean, std = scale_part.mean(), scale_part.std() or 1.0
    scaled = (values - mean) / std
    windows = np.stack([scaled[i : i + window] for i in range(count)])[:, :, None]
    targets = scaled[window:]
    times = [str(t)[:10] for t in series.time]
    labels = [f"{times[i]} to {times[i + window - 1]} (next: {values[i + window]:g})"
              for i in range(count)]
    return {"windows": windows.astype("float32"), "targets": targets.astype("float32"),
            "train_count": train_count, "labels": labels, "input_names": [series.name],
            "step_labels": None}


def _echo_windows(gap: int, seed: int) -> dict[str, Any]:
    from core.memory import make_echo

    x, y = make_echo(512 + 64, gap, seed=seed)
    labels = [f"sequence {i + 1}: the marked number is {y[512 + i]:+.2f}" for i in range(64)]
    # Show the held-out sequences first: they are the ones worth looking at.
    order = np.r_[512 : 512 + 64, 0:512]
    return {"windows": x[order], "targets": y[order], "train_count": 512, "labels": labels,
            "input_names": ["number", "mark"], "train_slice": slice(64, 64 + 512)}


def inside_task(payload: dict, context: JobContext) -> dict[str, Any]:
    """Job: train a small model, return its recurrent weights as plain arrays and its windows.

    Payload: {"config": InsideConfig.to_dict()}. The result has no Keras object: "weights"
    (a list of CellWeights, input side first), "windows" (n, time, features), "labels",
    "predictions", "history", and "keras_gap": the largest difference between the numpy
    recomputation and Keras' own output of the last recurrent layer over every window.
    """
    import keras

    from core.training import FitSettings, fit, set_seed

    config = InsideConfig.from_dict(payload.get("config", {}))
    set_seed(config.seed)
    context.say("Preparing the data...")
    if config.source == "echo":
        data = _echo_windows(config.gap, config.seed)
        train = data.pop("train_slice")
        x_train, y_train = data["windows"][train], data["targets"][train]
        validation = (data["windows"][:64], data["targets"][:64])
        head = keras.layers.Dense(1)
        loss, metrics = "mse", []
    else:
        data = _series_windows(config.path, config.window)
        count = data["train_count"]
        x_train, y_train = data["windows"][:count], data["targets"][:count]
        validation = (data["windows"][count:], data["targets"][count:])
        head = keras.layers.Dense(1)
        loss, metrics = "mse", []
    layer = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM,
             "gru": keras.layers.GRU}[config.cell]
    model = keras.Sequential([keras.Input((None, x_train.shape[2]))])
    for index in range(config.num_layers):
        model.add(layer(config.units, return_sequences=index < config.num_layers - 1))
    model.add(head)
    model.compile(optimizer=keras.optimizers.Adam(0.01, clipnorm=1.0), loss=loss, metrics=metrics)
    settings = FitSettings(epochs=config.epochs, batch_size=32, patience=0)
    outcome = fit(model, x_train, y_train, validation, settings, context)
    context.say("Recomputing the gates from the weights...")
    shown = len(data["labels"])  # echo: the held-out sequences only
    windows = data["windows"][:shown]
    predictions = np.asarray(model(windows))
    last_layer = model.layers[config.num_layers - 1]
    keras_last = np.asarray(keras.Model(model.inputs[0], last_layer.output)(windows))
    weights = model_weights(model)
    recomputed = run_stack(weights, windows)[-1]["hidden"][:, -1]
    return {
        "config": config.to_dict(),
        "weights": weights,
        "windows": windows,
        "targets": data["targets"][:shown],
        "labels": data["labels"],
        "input_names": data["input_names"],
        "predictions": predictions,
        "history": outcome.history,
        "stopped_by_user": outcome.stopped_by_user,
        "keras_gap": float(np.max(np.abs(recomputed - keras_last))),
    }
