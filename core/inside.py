"""A small model to look inside, trained in a worker job (the Inside the cell page).

The job trains one to three stacked layers of a registered cell on the echo task of
`core.memory` or on a series, and returns the recurrent weights as plain arrays
(`core.cells.CellWeights`); the page recomputes the gates from them in numpy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.cells import CELL_KEYS, CellWeights, get_cell, model_weights, run_stack
from core.config import Choices, Config
from core.errors import ConfigError, InputError
from core.jobs import JobContext
from core.memory import make_echo

INSIDE_TASK = "core.inside:inside_task"
MODEL_KIND = "inside"  # its model files (core.modelfile)
MODEL_FILE = "inside.rnnlab"
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"


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
    CHOICES: ClassVar[dict[str, Choices]] = {"cell": CELL_KEYS, "source": ("echo", "series")}

    source: str = "echo"
    cell: str = "lstm"
    units: int = 8
    num_layers: int = 1
    epochs: int = 15  # the page's default: a few seconds each at most
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
    cell = get_cell(config.cell)
    model = keras.Sequential([keras.Input((None, x_train.shape[2]))])
    for index in range(config.num_layers):
        model.add(cell.make_layer(config.units,
                                  return_sequences=index < config.num_layers - 1))
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
    head_kernel, head_bias = (np.asarray(w, dtype="float64") for w in head.get_weights())
    model_file = Path(context.workdir) / MODEL_FILE
    save_inside_file(config, weights, (head_kernel, head_bias), model_file)
    return {
        "model_file": str(model_file),
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


# ---------------------------------------------------------------------------------------------
# Model files: the trained cell looked inside again, without training


def save_inside_file(config: InsideConfig, weights: list[CellWeights],
                     head: tuple[np.ndarray, np.ndarray], path: str | Path | None = None) -> bytes:
    """The trained cell as an RNN Lab model file (kind "inside"); its bytes."""
    from core.modelfile import save_model_file

    settings = config.to_dict()
    # Only a bundled sample's name, never a path: loading resolves it inside sample_data/.
    settings["path"] = Path(config.path).name if config.path else ""
    layers = [{"cell": layer.cell, "activation": layer.activation,
               "recurrent_activation": layer.recurrent_activation,
               "reset_after": layer.reset_after} for layer in weights]
    arrays = {"head_kernel": head[0], "head_bias": head[1]}
    for index, layer in enumerate(weights):
        arrays.update({f"layer{index}_kernel": layer.kernel,
                       f"layer{index}_recurrent_kernel": layer.recurrent_kernel,
                       f"layer{index}_bias": layer.bias})
    return save_model_file(MODEL_KIND, {"config": settings, "layers": layers}, arrays, path)


def load_inside_file(source: Any) -> dict[str, Any]:
    """A saved cell's model file as the result `inside_task` returns (no Keras, no training):
    its weights, and its windows made again from its settings.

    Raises:
        InputError: the file is refused (see core.modelfile), or its series is not bundled here.
    """
    from core.modelfile import ModelFileError, load_model_file

    loaded = load_model_file(source, kind=MODEL_KIND)
    settings = dict(loaded.field("config", dict))
    layers = loaded.field("layers", list)
    try:
        config = InsideConfig.from_dict(settings)
    except ConfigError as error:
        raise ModelFileError(f"This model file's settings cannot be used: {error}") from error
    if config.source == "series":
        sample = SAMPLE_DIR / Path(config.path).name
        if not config.path or not sample.is_file():
            raise ModelFileError(
                f"This model file was trained on a series this RNN Lab does not bundle "
                f"({Path(config.path).name!r}); train the cell again here.")
        config = config.replace(path=str(sample))
    if len(layers) != config.num_layers or not all(isinstance(layer, dict) for layer in layers):
        raise ModelFileError("This model file's layers do not match its settings; save it again.")
    weights = []
    for index, layer in enumerate(layers):
        cell = layer.get("cell")
        if cell not in CELL_KEYS or get_cell(cell).steps is None:
            raise ModelFileError(f"This model file names a cell that cannot be looked inside "
                                 f"({str(cell)[:30]!r}); save it again.")
        weights.append(CellWeights(
            cell=cell,
            kernel=loaded.array(f"layer{index}_kernel", "float64", (None, None)),
            recurrent_kernel=loaded.array(f"layer{index}_recurrent_kernel", "float64",
                                          (None, None)),
            bias=loaded.array(f"layer{index}_bias", "float64"),
            activation=str(layer.get("activation", "tanh")),
            recurrent_activation=str(layer.get("recurrent_activation", "sigmoid")),
            reset_after=bool(layer.get("reset_after", True)),
        ))
    head_kernel = loaded.array("head_kernel", "float64", (weights[-1].units, 1))
    head_bias = loaded.array("head_bias", "float64", (1,))
    if config.source == "echo":
        data = _echo_windows(config.gap, config.seed)
    else:
        data = _series_windows(config.path, config.window)
    shown = len(data["labels"])
    windows = data["windows"][:shown]
    if windows.shape[2] != weights[0].features:
        raise ModelFileError("This model file's first layer does not read the inputs of its "
                             "task; save it again.")
    try:
        hidden = run_stack(weights, windows)[-1]["hidden"][:, -1]
    except (ValueError, IndexError, KeyError) as error:  # KeyError: an unknown activation
        raise ModelFileError("This model file's weights do not fit together; save it "
                             "again.") from error
    return {
        "config": config.to_dict(),
        "weights": weights,
        "windows": windows,
        "targets": data["targets"][:shown],
        "labels": data["labels"],
        "input_names": data["input_names"],
        "predictions": hidden @ head_kernel + head_bias,
        "history": [],
        "keras_gap": None,
        "created": loaded.created,
    }

