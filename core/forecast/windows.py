"""Training windows of a series at a bounded cost: views instead of copies, a fixed number per
epoch, and the time a fit will take.

A series of n points holds about n training windows. Stacking copies of them costs
n * (context + steps) numbers, and sweeping all of them each epoch makes an epoch's time grow
with n. Here:

- `window_views` gives every window as a read-only view of the series (numpy's
  `sliding_window_view`): the only copy is the series padded with `steps` NaNs at its end.
  A series may carry several channels (an array of shape (time, channels)); the windows then
  have shape (windows, context, channels).
- `training_data` hands Keras the windows of a short series as arrays, exactly as before
  (every window every epoch, shuffled by Keras), and those of a long one as a `PyDataset` that
  encodes WINDOWS_PER_EPOCH windows per epoch, batch by batch, drawn by
  `core.sampling.sample_positions` (every window reached in turn, reproducible with the seed),
  as global forecasting models train.
- A series of more than BUDGET_WINDOWS training windows trains within `budget_seconds`
  (`core.training.time_budget_callback`, between batches; the first epoch's tracing cannot be
  cut short); shorter ones train as they always have, until early stopping.
- `estimate_parts` / `estimate_seconds` say before training about how long a default forecast
  takes (the page's "Training takes about 40 s"), from the length, the settings and how busy
  the machine is now (`machine_busy`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.sampling import sample_positions

# An epoch of a long series trains on this many windows (64 batches of 32). Below it, every
# window is seen every epoch (the short series of bench/accuracy.py train exactly as before).
WINDOWS_PER_EPOCH = 2048
# The first (validated) fit may spend this share of the budget; the refit on all the data runs
# at most as many epochs as were validated, so it takes about as long at most.
FIRST_FIT_SHARE = 0.5
# A series with more training windows than this trains within `budget_seconds`; below it (every
# series of bench/accuracy.py: monthly, quarterly and yearly, under 500 points) the epochs and
# early stopping alone bound training, as before, so a busy machine cannot change its forecast.
BUDGET_WINDOWS = 500

Encode = Callable[[np.ndarray | slice], tuple]


def window_views(values: np.ndarray, context_length: int, steps: int,
                 first_origin: int | None = None, last_origin: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Contexts and targets at every origin from `first_origin` to `last_origin` (inclusive), as
    views: the `context_length` values before each origin, and the `steps` values from it, NaN
    past the end of the series.

    `window_views(np.arange(6.), 3, 2)` gives contexts [0,1,2], [1,2,3], [2,3,4] and targets
    [3,4], [4,5], [5,nan]. For values of shape (time, channels) the contexts have shape
    (windows, context_length, channels) and the targets (windows, steps, channels).
    """
    values = np.asarray(values, dtype="float64")
    first = context_length if first_origin is None else int(first_origin)
    last = values.shape[0] - 1 if last_origin is None else int(last_origin)
    if first < context_length:
        raise ValueError(f"first_origin must be at least the context length {context_length}; "
                         f"received {first}.")
    count = max(last - first + 1, 0)
    tail = np.full((steps, *values.shape[1:]), np.nan)
    padded = np.concatenate([values, tail])
    contexts = _sliding(values, context_length)[first - context_length :][:count]
    targets = _sliding(padded, steps)[first:][:count]
    return contexts, targets


def _sliding(values: np.ndarray, width: int) -> np.ndarray:
    """Windows of `width` consecutive rows (time first, channels last), as a read-only view."""
    if values.shape[0] < width:
        return np.empty((0, width, *values.shape[1:]))
    view = np.lib.stride_tricks.sliding_window_view(values, width, axis=0)
    return np.moveaxis(view, -1, 1) if values.ndim > 1 else view


def training_data(count: int, encode: Encode, batch_size: int, seed: int,
                  per_epoch: int = WINDOWS_PER_EPOCH):
    """`(x, y)` for `core.training.fit` from `count` windows: with at most `per_epoch`, the
    encoded arrays of all of them (`encode(slice(None))`: every window every epoch, shuffled by
    Keras); beyond, `(WindowBatches, None)` streaming `per_epoch` windows an epoch.
    `encode(rows)` turns the windows at `rows` (an index array or a slice) into network inputs
    and targets, so the caller decides what a window carries (channels, covariates)."""
    if count <= per_epoch:
        return encode(slice(None))
    return window_batches(count, encode, batch_size, seed, per_epoch), None


def window_batches(count: int, encode: Encode, batch_size: int, seed: int,
                   per_epoch: int = WINDOWS_PER_EPOCH):
    """A Keras `PyDataset` of `per_epoch` of `count` windows an epoch, drawn by
    `core.sampling.sample_positions` and encoded one batch at a time; `.drawn` lists the
    positions each epoch drew (in the order trained)."""
    import keras

    per_epoch = min(int(per_epoch), int(count))

    class WindowBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self.order = sample_positions(count, per_epoch, 0, seed)
            self.drawn = [self.order]

        def __len__(self) -> int:
            return -(-per_epoch // batch_size)

        def __getitem__(self, index: int):
            return encode(self.order[index * batch_size : (index + 1) * batch_size])

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = sample_positions(count, per_epoch, self.epoch, seed)
            self.drawn.append(self.order)

    return WindowBatches()


# Measured with bench/scale.py and a profile of `RNNForecaster.fit` on the shared 2-core machine
# (other people's work beside it, divided by how busy it was), the default GRU of 32 units: a
# 10,000-point hourly fit spent about 5 s building and tracing the network, 4 s on the
# validation paths and 16 s on the classical members (six fits on 1,000 points, 600 forwards)
# beside its training. They only size the estimate shown before training; the budget is what
# bounds training. Refitted on 2026-12-03 on a quiet machine (load 1): the 4,000-point case of
# tests/test_scale_limits.py took 20.9 s, 7.5 s of them training; the constants before (10 s
# and 1.5e-2 s a point, fitted under a load of 9-20) said 35 s, and 50 s against 17 s in CI.
START_SECONDS = 6.0  # building the network, the first epoch's tracing, the validation paths
SECONDS_PER_WINDOW = 4e-4  # one training window (window 48, 32 units), validation included
TYPICAL_EPOCHS = 30  # where early stopping usually ends (patience 10)
# The classical members of the mix (fitted, and carried over the validation block), per point
# they read (at most `core.forecast.baselines.RECENT_POINTS`).
CLASSICAL_SECONDS_PER_POINT = 6e-3


def machine_busy() -> float:
    """About how many times longer work takes now than on an idle machine: the square root of
    the last minute's load average over the cores (at least 1; 1 when unknown).

    Measured here: with a load of 21 on 2 cores a 4,000-point fit took 2.8 times its idle
    estimate (the square root of 10.5 is 3.2), not 10.5 times: the load average also counts
    TensorFlow's threads, which mostly wait on one another.
    """
    import os

    try:
        load = os.getloadavg()[0]
    except OSError:
        return 1.0
    return max(1.0, load / (os.cpu_count() or 1)) ** 0.5


def estimate_parts(points: int, config, busy: float = 1.0) -> dict:
    """About how long a forecast of a series of `points` training points takes, in seconds, on
    a machine `busy` times over (`machine_busy()`): {"training": the network's two fits (at
    most `config.budget_seconds` for a series of more than BUDGET_WINDOWS windows), "total":
    with the fixed costs and the classical methods, "budgeted": whether the budget applies,
    "busy": busy}. Shown before training ("about 40 s"); the job tells the time left as it
    trains.
    """
    from core.forecast.baselines import RECENT_POINTS

    points = max(int(points), 0)
    busy = max(float(busy), 1.0)
    windows = min(points, WINDOWS_PER_EPOCH)
    per_window = (SECONDS_PER_WINDOW * config.ensemble * config.num_layers
                  * max(config.units, 16) / 32 * (config.window or 48) / 48)
    epochs = min(config.epochs, TYPICAL_EPOCHS)
    refit = 2 if config.refit else 1
    training = refit * epochs * windows * per_window * busy
    budgeted = points > BUDGET_WINDOWS
    if budgeted:
        training = min(config.budget_seconds, training)
    others = (START_SECONDS + min(points, RECENT_POINTS) * CLASSICAL_SECONDS_PER_POINT) * busy
    return {"training": training, "total": training + others, "budgeted": budgeted,
            "busy": busy}


def estimate_seconds(points: int, config, busy: float = 1.0) -> float:
    """About how long a forecast of a series of `points` training points takes, in seconds
    (`estimate_parts`' total)."""
    return estimate_parts(points, config, busy)["total"]
