"""The cell registry: every recurrent cell declared once, and its gates recomputed in numpy.

Each `Cell` says everything the rest of RNN Lab needs about one kind of recurrent cell: the
Keras layer that forecasting and next word build (`make_layer`), the name and colour the pages
show, its gates, the numpy step function that the teaching pages use to recompute its gates and
states from trained weights, and the words and diagram that explain it. Settings, controls,
charts, comparisons and the long-memory experiment all read this registry, so adding a cell is
one `register(Cell(...))` here.

Keras returns only a layer's outputs, not its gates. Here the cells are written out in numpy
from their trained weights, step by step, so that a page can draw the forget gate of an LSTM or
the update gate of a GRU for any input window, with no TensorFlow in the app process.
`tests/test_cells.py` checks that the recomputed hidden states equal Keras' own outputs.

Keras 3 layouts (the ones recomputed here):
- SimpleRNN: kernel (features, units), recurrent_kernel (units, units), bias (units,).
- LSTM: the four blocks of kernel / recurrent_kernel / bias are in the order input gate i,
  forget gate f, candidate c, output gate o.
- GRU: the three blocks are update gate z, reset gate r, candidate h. With `reset_after=True`
  (the Keras 3 default) the bias has two rows, one added to the input part and one to the
  recurrent part, and the reset gate multiplies the recurrent part after the matrix product.

This module imports neither Keras (only inside `make_layer`) nor Streamlit nor the job system.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from core.errors import ConfigError, InputError

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

    cell: str  # a registered cell's key: "rnn", "lstm", "gru", ...
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


StepFunction = Callable[[CellWeights, np.ndarray], dict[str, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Cell:
    """One kind of recurrent cell, declared once.

    `steps(weights, inputs)` reruns a layer of this cell in numpy over inputs (batch, time,
    features) from zero states and returns arrays (batch, time, units) by state name, "hidden"
    always among them; None means the teaching pages cannot look inside this cell.
    """

    key: str  # "gru": settings, files, addresses
    name: str  # "GRU": what the pages show
    layer: str  # the Keras class in keras.layers: "GRU"
    colour: str  # chart colour, "#2ca02c"
    gates: tuple[str, ...]  # states that are gates (between 0 and 1), e.g. ("update", "reset")
    blocks: int = 1  # weight blocks side by side in kernel, recurrent_kernel and bias
    steps: StepFunction | None = None
    states: tuple[str, ...] = ("hidden",)  # what the teaching page draws, in order
    titles: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False,
                                                  compare=False)  # state -> heading
    two_biases: bool = False  # a GRU with reset_after has a second bias row
    lesson: int = 100  # position on the teaching pages, simplest cell first
    explanation: str = ""  # a paragraph (Markdown) for the teaching page
    diagram: str = ""  # a Graphviz DOT drawing of one step
    hint: str = ""  # what to look for in the trained cell's gates
    build: Callable[..., Any] | None = dataclasses.field(default=None, hash=False,
                                                         compare=False)

    def make_layer(self, units: int, **options: Any) -> Any:
        """A new Keras layer of this cell: `keras.layers.<layer>(units, **options)`."""
        if self.build is not None:
            return self.build(units, **options)
        import keras

        return getattr(keras.layers, self.layer)(units, **options)

    def count_parameters(self, units: int, features: int, reset_after: bool = True) -> int:
        """Trainable parameters of one layer of this cell (as Keras counts them)."""
        bias_rows = 2 if self.two_biases and reset_after else 1
        return self.blocks * units * (features + units + bias_rows)


_REGISTRY: dict[str, Cell] = {}


def register(cell: Cell) -> None:
    """Add a cell to the registry (after the others in display order).

    Raises:
        ConfigError: the key is already taken or is not a plain lowercase word.
    """
    if not cell.key or not cell.key.replace("_", "").isalnum() or cell.key != cell.key.lower():
        raise ConfigError(
            f"A cell's key must be a lowercase word of letters, digits or '_'; "
            f"received {cell.key!r}."
        )
    if cell.key in _REGISTRY:
        raise ConfigError(
            f"A cell with the key '{cell.key}' is already registered ({_REGISTRY[cell.key].name}); "
            "choose another key or unregister the first one."
        )
    _REGISTRY[cell.key] = cell


def unregister(key: str) -> None:
    """Remove a cell from the registry (tests that registered one clean up with this)."""
    _REGISTRY.pop(key, None)


def get_cell(key: str) -> Cell:
    """The registered cell with this key.

    Raises:
        ConfigError: no cell has this key (the message lists the keys there are).
    """
    try:
        return _REGISTRY[key]
    except (KeyError, TypeError):
        choices = ", ".join(f"{cell.key} ({cell.name})" for cell in _REGISTRY.values())
        raise ConfigError(f"Unknown cell {key!r}; choose one of {choices}.") from None


def cell_keys() -> tuple[str, ...]:
    """The keys of the registered cells, in display order."""
    return tuple(_REGISTRY)


class _RegisteredKeys(Sequence):
    """The registered keys as a live, read-only sequence: `key in CELL_KEYS`, iterating and
    joining it always see the registry as it is now (a config's CHOICES holds this)."""

    def __getitem__(self, index):
        return cell_keys()[index]

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __iter__(self) -> Iterator[str]:
        return iter(cell_keys())

    def __contains__(self, key: object) -> bool:
        return key in _REGISTRY

    def __repr__(self) -> str:
        return f"CELL_KEYS{cell_keys()!r}"


CELL_KEYS: Sequence[str] = _RegisteredKeys()


def cell_names() -> dict[str, str]:
    """Key -> display name of every registered cell, in display order."""
    return {key: cell.name for key, cell in _REGISTRY.items()}


def lesson_keys() -> tuple[str, ...]:
    """The keys in teaching order: simplest cell first (SimpleRNN, LSTM, GRU, then others)."""
    return tuple(sorted(_REGISTRY, key=lambda key: _REGISTRY[key].lesson))


def cell_of_layer(layer: Any) -> Cell | None:
    """The registered cell a Keras layer is an instance of (None for other layers)."""
    kind = type(layer).__name__
    for cell in _REGISTRY.values():
        if cell.layer == kind and cell.build is None:
            return cell
    return None


# ---------------------------------------------------------------------------------------------
# Recomputing a trained layer in numpy


def _activation_name(activation: Any) -> str:
    name = getattr(activation, "__name__", str(activation))
    if name not in _ACTIVATIONS:
        raise ConfigError(
            f"Recomputing a cell with the activation '{name}' is not supported; use one of "
            f"{', '.join(sorted(_ACTIVATIONS))}."
        )
    return name


def _inside_names() -> str:
    """"SimpleRNN, LSTM or GRU": the layers that can be looked inside, simplest first."""
    names = [_REGISTRY[key].layer for key in lesson_keys()
             if _REGISTRY[key].steps is not None and _REGISTRY[key].build is None]
    names = list(dict.fromkeys(names))  # two cells may share a layer
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def layer_weights(layer: Any) -> CellWeights:
    """The weights of one Keras recurrent layer of a registered cell as a `CellWeights`."""
    cell = cell_of_layer(layer)
    if cell is None or cell.steps is None:
        raise ConfigError(
            f"Only {_inside_names()} layers can be looked inside; "
            f"received a {type(layer).__name__} layer."
        )
    keras_cell = layer.cell
    if not getattr(keras_cell, "use_bias", True):
        raise ConfigError("Recomputing a recurrent layer without a bias is not supported.")
    kernel, recurrent_kernel, bias = (np.asarray(w, dtype="float64") for w in layer.get_weights())
    return CellWeights(
        cell=cell.key,
        kernel=kernel,
        recurrent_kernel=recurrent_kernel,
        bias=bias,
        activation=_activation_name(keras_cell.activation),
        recurrent_activation=_activation_name(
            getattr(keras_cell, "recurrent_activation", "sigmoid")),
        reset_after=bool(getattr(keras_cell, "reset_after", True)),
    )


def model_weights(model: Any) -> list[CellWeights]:
    """The recurrent layers of a model, input side first (other layers are skipped)."""
    layers = [layer_weights(layer) for layer in model.layers if cell_of_layer(layer) is not None]
    if not layers:
        raise ConfigError(f"The model has no {_inside_names()} layer to look inside.")
    return layers


def run_layer(weights: CellWeights, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Run one layer over `inputs` (batch, time, features) from zero states.

    Returns arrays of shape (batch, time, units) by state name: "hidden" for every cell;
    "forget", "input", "output", "candidate" and "cell" for an LSTM; "update", "reset" and
    "candidate" for a GRU.
    """
    inputs = np.asarray(inputs, dtype="float64")
    if inputs.ndim == 2:
        inputs = inputs[None]
    if inputs.ndim != 3 or inputs.shape[2] != weights.features:
        raise InputError(
            f"The input window must have shape (batch, time, {weights.features}); "
            f"received an array of shape {inputs.shape}."
        )
    cell = get_cell(weights.cell)
    if cell.steps is None:
        raise ConfigError(f"The {cell.name} cell has no numpy recomputation to look inside.")
    return cell.steps(weights, inputs)


def run_stack(layers: list[CellWeights], inputs: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Run stacked layers (each fed the previous one's hidden states); one dict per layer."""
    results = []
    for weights in layers:
        states = run_layer(weights, inputs)
        results.append(states)
        inputs = states["hidden"]
    return results


def count_parameters(cell: str, units: int, features: int, reset_after: bool = True) -> int:
    """Trainable parameters of one recurrent layer of the cell with key `cell`."""
    return get_cell(cell).count_parameters(units, features, reset_after)


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


# ---------------------------------------------------------------------------------------------
# The cells

_DOT_STYLE = (
    'rankdir=LR; bgcolor="transparent"; node [fontname="Helvetica", fontsize=14]; '
    'edge [color="#555555", arrowsize=0.6, fontname="Helvetica", fontsize=14];'
)  # one label size for every cell (readable on a projector): the page never scales a diagram

register(Cell(
    key="lstm",
    name="LSTM",
    layer="LSTM",
    colour="#1f77b4",
    gates=("input", "forget", "output"),
    blocks=4,
    steps=_lstm_steps,
    states=("forget", "input", "output", "cell", "hidden"),
    titles={
        "hidden": "Hidden state h (what the cell outputs)",
        "cell": "Cell state c (the LSTM's long-term memory)",
        "forget": "Forget gate f (1 = keep the memory, 0 = erase it)",
        "input": "Input gate i (1 = write the new candidate)",
        "output": "Output gate o (1 = show the memory)",
        "candidate": "Candidate (new content proposed at each step)",
    },
    lesson=2,
    explanation=(
        "**LSTM.** Besides the hidden state, the LSTM carries a *cell state*, a memory lane that "
        "is changed only by multiplying and adding. The **forget gate** decides what to erase, "
        "the **input gate** what to write, the **output gate** what to show. When the forget gate "
        "stays near 1, information (and the gradient) travels many steps unchanged."
    ),
    diagram=f"""digraph {{ {_DOT_STYLE} rankdir=TB; nodesep=0.15; ranksep=0.3;
        x [label="input x(t) and h(t-1)", shape=plaintext];
        f [label="forget σ", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
        i [label="input σ", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
        g [label="candidate tanh", shape=box, style="rounded,filled", fillcolor="#fde0dc"];
        o [label="output σ", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
        {{ rank=same; f; i; g; o; }}
        cp [label="c(t-1)", shape=plaintext];
        keep [label="×", shape=circle, width=0.3, fixedsize=true];
        write [label="×", shape=circle, width=0.3, fixedsize=true];
        add [label="+", shape=circle, width=0.3, fixedsize=true];
        c [label="c(t)", shape=plaintext];
        show [label="× tanh(c)", shape=box, style=rounded];
        h [label="h(t)", shape=plaintext];
        x -> f; x -> i; x -> g; x -> o;
        cp -> keep; f -> keep; i -> write; g -> write; keep -> add; write -> add; add -> c;
        c -> show; o -> show; show -> h;
    }}""",
    hint="Look for units whose forget gate stays bright (near 1) after the marked step: they "
    "hold that number in the cell state until the end.",
))

register(Cell(
    key="gru",
    name="GRU",
    layer="GRU",
    colour="#2ca02c",
    gates=("update", "reset"),
    blocks=3,
    steps=_gru_steps,
    states=("update", "reset", "candidate", "hidden"),
    titles={
        "hidden": "Hidden state h (what the cell outputs)",
        "update": "Update gate z (1 = keep the previous state, 0 = take the candidate)",
        "reset": "Reset gate r (0 = ignore the previous state when proposing)",
        "candidate": "Candidate (new content proposed at each step)",
    },
    two_biases=True,
    lesson=3,
    explanation=(
        "**GRU.** A lighter LSTM with two gates and no separate memory lane. The **update gate** "
        "chooses, unit by unit, between keeping the previous state and taking the new candidate; "
        "the **reset gate** says how much of the past the candidate may use. Fewer weights than an "
        "LSTM, so it often trains a little faster."
    ),
    diagram=f"""digraph {{ {_DOT_STYLE} rankdir=TB; nodesep=0.2; ranksep=0.3;
        x [label="input x(t) and h(t-1)", shape=plaintext];
        z [label="update σ", shape=box, style="rounded,filled", fillcolor="#dff0d8"];
        r [label="reset σ", shape=box, style="rounded,filled", fillcolor="#dff0d8"];
        {{ rank=same; z; r; }}
        g [label="candidate tanh(x, r × h(t-1))", shape=box, style="rounded,filled",
           fillcolor="#fde0dc"];
        mix [label="h(t) = z × h(t-1) + (1 - z) × candidate", shape=box, style=rounded];
        h [label="h(t)", shape=plaintext];
        x -> z; x -> r; r -> g; x -> g; z -> mix; g -> mix; mix -> h;
    }}""",
    hint="Look for units whose update gate stays bright (near 1) after the marked step: they "
    "copy their state forward unchanged.",
))

register(Cell(
    key="rnn",
    name="SimpleRNN",
    layer="SimpleRNN",
    colour="#d62728",
    gates=(),
    blocks=1,
    steps=_rnn_steps,
    states=("hidden",),
    titles={"hidden": "Hidden state h (what the cell outputs)"},
    lesson=1,
    explanation=(
        "**SimpleRNN.** At each step the cell mixes the new input with its previous hidden state "
        "and squashes the result with tanh. That one vector is its whole memory, and it is "
        "rewritten at every step: what it saw long ago fades, and so does the learning signal "
        "that should reach back to it (the *vanishing gradient*)."
    ),
    diagram=f"""digraph {{ {_DOT_STYLE}
        x [label="input x(t)", shape=plaintext];
        hp [label="h(t-1)", shape=plaintext];
        tanh [label="tanh(W x + U h + b)", shape=box, style="rounded,filled", fillcolor="#fde0dc"];
        h [label="h(t)", shape=plaintext];
        x -> tanh; hp -> tanh; tanh -> h;
        h -> hp [style=dashed, label="next step", constraint=false];
    }}""",
))
