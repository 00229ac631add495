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
from typing import Any

import numpy as np

from core.errors import ConfigError, InputError

CELL_OF_LAYER = {"SimpleRNN": "rnn", "LSTM": "lstm", "GRU": "gru"}

# What each recomputed array means, for captions and tooltips.
STATE_DESCRIPTIONS = {
    "hidden": "hidden state h: what the cell outputs at each step",
    "cell": "cell state c: the LSTM's long-term memory",
    "forget": "forget gate f: 1 keeps the old memory, 0 erases it",
    "input": "input gate i: how much of the new candidate is written to memory",
    "output": "output gate o: how much of the memory is shown as the hidden state",
    "candidate": "candidate: the new content proposed at this step",
    "update": "update gate z: 1 keeps the previous hidden state, 0 replaces it",
    "reset": "reset gate r: how much of the previous state the candidate may use",
}

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
