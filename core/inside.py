"""A small model to look inside, trained in a worker job (the Inside the cell page).

The job trains one to three stacked layers of a registered cell on the echo task of
`core.memory` or on a series, and returns the recurrent weights as plain arrays
(`core.cells.CellWeights`); the page recomputes the gates from them in numpy.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from core.cells import CELL_KEYS, get_cell, model_weights, run_stack
from core.config import Choices, Config
from core.errors import InputError
from core.jobs import JobContext
from core.memory import make_echo

INSIDE_TASK = "core.inside:inside_task"


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
