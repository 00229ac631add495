"""How far back can a cell remember? A synthetic long-memory task and the vanishing gradient.

The echo task: a sequence of random numbers between -1 and 1, one of which is marked (a second
input is 1 at that step and 0 elsewhere); the answer is the marked number, seen k steps before
the last one. A few numbers come before it and k after it, and all of them only distract. An
answer counts as right when it is within TOLERANCE of the marked number; always answering 0 is
right TOLERANCE of the time (the "guessing" level).

Each of SimpleRNN, LSTM and GRU is trained with the same small budget for several gaps k, and
scored on fresh sequences. Then, for the longest gap, the gradient of the loss with respect to
each input step shows how much learning signal reaches back k steps: for a SimpleRNN it shrinks
step after step (the vanishing gradient); the gates of LSTM and GRU let more of it through.

(A first version asked for the first of k + 1 random symbols: a SimpleRNN solved it at k = 24,
because the first symbol lands on an empty state. A continuous value that has to be kept
precisely, after distractions, is what separates the cells with a small budget.)
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, ClassVar

import numpy as np

from core.cells import cell_keys, get_cell, lesson_keys, model_weights
from core.config import Config
from core.errors import ConfigError, InputError, JobStopped
from core.jobs import JobContext

TASK = "core.memory:memory_task"


TOLERANCE = 0.1  # an answer within this of the marked number counts as right
LEAD = 5  # random numbers before the marked one


def make_echo(
    samples: int, k: int, lead: int = LEAD, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Echo data: x (samples, lead + k + 1, 2) with the numbers in channel 0 and the mark in
    channel 1 (at step `lead`); y (samples,) = the marked number, k steps before the last.

    Raises:
        InputError: samples < 1, k < 1 or lead < 0.
    """
    if samples < 1 or k < 1 or lead < 0:
        raise InputError(
            "The echo task needs at least 1 sample, a gap k of at least 1 and a lead of 0 or "
            f"more; received samples={samples}, k={k}, lead={lead}."
        )
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1.0, 1.0, size=(samples, lead + k + 1)).astype("float32")
    x = np.zeros((samples, lead + k + 1, 2), dtype="float32")
    x[:, :, 0] = values
    x[:, lead, 1] = 1.0
    return x, values[:, lead].copy()


def echo_accuracy(predictions: np.ndarray, targets: np.ndarray,
                  tolerance: float = TOLERANCE) -> float:
    """Share of answers within `tolerance` of the marked number."""
    predictions = np.asarray(predictions, dtype="float64").reshape(-1)
    return float(np.mean(np.abs(predictions - np.asarray(targets).reshape(-1)) < tolerance))


def gaps_up_to(longest: int, count: int = 5) -> list[int]:
    """`count` gaps from 1 to `longest`, roughly evenly spread (fewer when they coincide);
    a single gap is the longest one."""
    if longest < 1:
        raise InputError(f"The longest gap k must be at least 1; received {longest}.")
    if count <= 1:
        return [int(longest)]
    return sorted({int(round(k)) for k in np.linspace(1, longest, count)})


@dataclasses.dataclass(frozen=True)
class MemoryConfig(Config):
    """The same small budget for every cell and every gap."""

    KIND: ClassVar[str] = "memory"
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "longest_gap": (1, 200),
        "gap_count": (1, 10),
        "lead": (0, 100),
        "samples": (16, 20000),
        "units": (1, 256),
        "epochs": (1, 500),
        "batch_size": (1, 4096),
        "learning_rate": (1e-5, 1.0),
        "seed": (0, 2**31 - 1),
    }

    longest_gap: int = 30
    gap_count: int = 5
    lead: int = LEAD
    samples: int = 512
    units: int = 16
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 0.01
    seed: int = 0
    cells: str = ""  # comma-separated, in training order; empty: every cell, simplest first

    def validate(self) -> None:
        super().validate()
        unknown = [cell for cell in self.cell_list if cell not in cell_keys()]
        if unknown:
            raise ConfigError(
                f"Choose cells among {', '.join(cell_keys())}, separated by commas; "
                f"received '{self.cells}'."
            )

    @property
    def cell_list(self) -> list[str]:
        listed = [cell.strip() for cell in self.cells.split(",") if cell.strip()]
        return listed or list(lesson_keys())


class _Quiet(JobContext):
    """A context for one of many small fits: keeps Stop, drops the per-epoch logs."""

    def __init__(self, context: JobContext):
        super().__init__(context.workdir)
        self._outer = context

    def set_total(self, epochs: int) -> None:
        pass

    def report(self, logs: dict) -> None:
        pass

    def should_stop(self) -> bool:
        return self._outer.should_stop()


def build_model(cell: str, units: int, learning_rate: float):
    """One recurrent layer and a linear output: the number it remembers."""
    import keras

    model = keras.Sequential([keras.Input((None, 2)), get_cell(cell).make_layer(units),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0), loss="mse")
    return model


def input_gradient_norms(model: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean over the sequences of |d loss / d x_t| for each time step t (shape (time,))."""
    import tensorflow as tf

    inputs = tf.convert_to_tensor(x, dtype="float32")
    targets = tf.convert_to_tensor(np.asarray(y, dtype="float32").reshape(-1, 1))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        # the summed (not averaged) loss: each sequence's own gradient, not 1/batch of it
        loss = tf.reduce_sum(tf.square(model(inputs, training=False) - targets))
    gradients = tape.gradient(loss, inputs).numpy()
    return np.linalg.norm(gradients, axis=2).mean(axis=0)


def train_one(cell: str, k: int, config: MemoryConfig, context: JobContext) -> dict[str, Any]:
    """Train one cell on gap k; score it on fresh sequences. Returns the numbers and the model."""
    from core.training import FitSettings, fit, set_seed

    set_seed(config.seed)
    x, y = make_echo(config.samples, k, config.lead, seed=config.seed + k)
    x_test, y_test = make_echo(512, k, config.lead, seed=config.seed + 10_000 + k)
    model = build_model(cell, config.units, config.learning_rate)
    initial = model.get_weights()
    settings = FitSettings(epochs=config.epochs, batch_size=config.batch_size, patience=0,
                           monitor="loss")
    outcome = fit(model, x, y, None, settings, _Quiet(context))
    accuracy = echo_accuracy(np.asarray(model(x_test, training=False)), y_test)
    return {
        "cell": cell,
        "k": k,
        "accuracy": accuracy,
        "loss": outcome.history[-1]["loss"] if outcome.history else float("nan"),
        "epochs": len(outcome.history),
        "seconds": outcome.seconds,
        "stopped": outcome.stopped_by_user,
        "model": model,
        "initial_weights": initial,
        "test": (x_test, y_test),
    }


def memory_task(payload: dict, context: JobContext) -> dict[str, Any]:
    """Job: payload {"config": MemoryConfig.to_dict()}.

    Reports one log per (cell, gap) run: epoch (run number), cell, k, accuracy, loss.
    Returns {"runs": [...], "gradients": {cell: {"before": [...], "after": [...]}},
    "gradient_gap": k, "chance": TOLERANCE, "config": dict, "weights": {cell: [CellWeights]}}.
    """
    config = MemoryConfig.from_dict(payload.get("config", {}))
    gaps = gaps_up_to(config.longest_gap, config.gap_count)
    context.set_total(len(gaps) * len(config.cell_list))
    runs, gradients, weights = [], {}, {}
    for cell in config.cell_list:
        for k in gaps:
            if context.should_stop():
                break
            context.say(f"Training {get_cell(cell).name} to remember {k} steps back...")
            run = train_one(cell, k, config, context)
            model, initial, (x_test, y_test) = (
                run.pop("model"), run.pop("initial_weights"), run.pop("test"))
            runs.append(run)
            context.report({"epoch": len(runs), **{key: run[key] for key in (
                "cell", "k", "accuracy", "loss", "seconds")}})
            if k == gaps[-1]:
                trained = model.get_weights()
                after = input_gradient_norms(model, x_test[:256], y_test[:256])
                model.set_weights(initial)
                before = input_gradient_norms(model, x_test[:256], y_test[:256])
                model.set_weights(trained)
                gradients[cell] = {"before": before.tolist(), "after": after.tolist()}
                weights[cell] = model_weights(model)
            if run["stopped"]:
                break
    if not runs:
        raise JobStopped("Stopped before the first model finished; nothing was trained.")
    return {
        "runs": runs,
        "gradients": gradients,
        "gradient_gap": gaps[-1],
        "gaps": gaps,
        "chance": TOLERANCE,  # always answering 0 is right this often
        "config": config.to_dict(),
        "weights": weights,
    }


def run_memory(config: MemoryConfig, context: JobContext | None = None) -> dict[str, Any]:
    """The experiment in this process (benchmarks, tests)."""
    from core.jobs import run_inline

    started = time.perf_counter()
    result = run_inline(TASK, {"config": config.to_dict()}, context)
    result["seconds"] = time.perf_counter() - started
    return result


def steps_back(gradient: list[float] | np.ndarray) -> np.ndarray:
    """For a per-time-step gradient, how many steps before the last input each entry is."""
    return np.arange(len(gradient))[::-1]
