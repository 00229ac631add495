"""The bridge from Keras training to a job: progress, stop flag, best weights, NaN checks.

Every model in RNN Lab (forecasting, next word, the teaching pages) is fitted through
`fit(...)`, so that live logs, Stop, early stopping and errors behave the same everywhere.
Keras is imported lazily: importing this module costs nothing.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Any

from core.errors import TrainingError
from core.jobs import JobContext


@dataclasses.dataclass(frozen=True)
class FitSettings:
    epochs: int = 100
    batch_size: int = 32
    patience: int = 10  # epochs without a better validation loss before stopping; 0 = never
    monitor: str = "val_loss"
    shuffle: bool = True
    verbose: int = 0
    budget_seconds: float | None = None  # stop (between batches) when this much time is spent


@dataclasses.dataclass
class FitOutcome:
    history: list[dict]  # one dict per epoch: epoch (1-based), loss, val_loss, ..., seconds
    best_epoch: int  # 1-based epoch whose weights the model holds now
    stopped_by_user: bool
    stopped_early: bool
    seconds: float
    budget_spent: bool = False  # training stopped because `budget_seconds` ran out


def set_seed(seed: int) -> None:
    """Seed Python, numpy and the backend. Process-wide: call it only inside a worker's job."""
    import keras

    keras.utils.set_random_seed(int(seed))


def seconds_left(logs: Sequence[dict], total: int) -> float | None:
    """At most how long training has left, from the epochs' own times; None while unknown.

    The first epoch also builds and traces the network (6.6 s against 0.25 s for the next ones
    on a 300-point series), so it is never the measure: no estimate before a second epoch has
    ended. The epochs left are the planned ones (`total`), or a log's own `most_epochs_left`
    (a task of several trainings counts them all); early stopping may end sooner.
    """
    if len(logs) < 2:
        return None
    # Seconds per step of the log's count ("epoch" may count ten steps per Keras epoch).
    rates = [float(log["seconds"]) / max(float(log["epoch"]) - float(before["epoch"]), 1.0)
             for before, log in zip(logs, logs[1:], strict=False)
             if "seconds" in log and "epoch" in log and "epoch" in before]
    if not rates:
        return None
    recent = sorted(rates[-3:])[len(rates[-3:]) // 2]  # the median of the last three
    last = logs[-1]
    left = last.get("most_epochs_left")
    if left is None:
        if not total:
            return None
        left = max(float(total) - float(last.get("epoch", len(logs))), 0.0)
    # A task of several trainings: each one still to start pays its first epoch's extra time.
    first_extra = max(float(logs[0].get("seconds", recent)) - recent, 0.0)
    return recent * float(left) + first_extra * float(last.get("starts_left", 0))


def make_callbacks(context: JobContext, settings: FitSettings) -> list:
    """The callbacks every fit uses: progress + stop + NaN check, and best-weights keeping."""
    import keras
    import numpy as np

    class Progress(keras.callbacks.Callback):
        """Sends each epoch's logs to the job and honours the stop flag between batches."""

        def __init__(self):
            super().__init__()
            self.stopped_by_user = False
            self.history: list[dict] = []
            self._epoch_start = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if context.should_stop():
                self.stopped_by_user = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            for name, value in logs.items():
                if value is not None and not math.isfinite(float(value)):
                    raise TrainingError(
                        f"Training diverged: the {name.replace('_', ' ')} became {value} at epoch "
                        f"{epoch + 1}. Lower the learning rate (for example by 10x), use fewer "
                        "units, or check the data for extreme values, then train again."
                    )
            entry = {"epoch": epoch + 1}
            entry.update({k: float(v) for k, v in logs.items() if v is not None})
            entry["seconds"] = time.perf_counter() - self._epoch_start
            self.history.append(entry)
            context.report(entry)
            if context.should_stop():
                self.stopped_by_user = True
                self.model.stop_training = True

    class KeepBest(keras.callbacks.Callback):
        """Early stopping that restores the best weights however training ends (Stop included)."""

        def __init__(self, monitor: str, patience: int):
            super().__init__()
            self.monitor = monitor
            self.patience = patience
            self.best = np.inf
            self.best_epoch = 0
            self.best_weights = None
            self.wait = 0
            self.stopped_early = False

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            current = logs.get(self.monitor, logs.get("loss"))
            if current is None:
                return
            if current < self.best:
                self.best = float(current)
                self.best_epoch = epoch + 1
                self.best_weights = self.model.get_weights()
                self.wait = 0
            else:
                self.wait += 1
                if self.patience and self.wait >= self.patience:
                    self.stopped_early = True
                    self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return [Progress(), KeepBest(settings.monitor, settings.patience)]


def time_budget_callback(seconds: float, epochs: int, context: JobContext,
                         clock=time.perf_counter):
    """Stops training between batches once `seconds` have passed since training began; after
    each epoch, tells the job how many epochs fit in what is left and about how long that is.
    An epoch cut short still counts (its weights are kept if they are the best)."""
    import keras

    class TimeBudget(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.start = clock()
            self.epoch_start = self.start
            self.spent = False

        def seconds_left(self) -> float:
            return seconds - (clock() - self.start)

        def on_train_begin(self, logs=None):
            self.start = clock()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = clock()

        def on_train_batch_end(self, batch, logs=None):
            if clock() - self.start >= seconds:
                self.spent = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if self.model.stop_training:
                return
            epoch_seconds = max(clock() - self.epoch_start, 1e-6)
            total, left = epochs_within(seconds, clock() - self.start, epoch_seconds, epoch + 1,
                                        epochs)
            context.set_total(total)
            context.say(f"About {left:.0f} s of training left "
                        f"(at most {total} epochs within the {seconds:.0f} s budget).")

    return TimeBudget()


def epochs_within(budget: float, spent: float, epoch_seconds: float, done: int,
                  epochs: int) -> tuple[int, float]:
    """(epochs in all, seconds left) when `done` epochs took `spent` seconds of a `budget`, the
    last one `epoch_seconds`: as many more epochs as fit in the rest, at most `epochs` in all,
    and at least the next one (which the budget may cut short)."""
    fits = int(max(budget - spent, 0.0) // max(epoch_seconds, 1e-6))
    total = min(epochs, done + max(fits, 1))
    left = min((total - done) * epoch_seconds, max(budget - spent, 0.0))
    return total, left


def fit(
    model: Any,
    x: Any,
    y: Any,
    validation: tuple[Any, Any] | None,
    settings: FitSettings,
    context: JobContext,
    extra_callbacks: list | None = None,
) -> FitOutcome:
    """Fit `model` with RNN Lab's callbacks; the model ends holding its best weights.

    Raises:
        TrainingError: the loss became NaN/inf, or the backend failed in a way a user can fix.
    """
    import tensorflow as tf

    context.set_total(settings.epochs)
    progress, keep_best = make_callbacks(context, settings)
    budget = []
    if settings.budget_seconds is not None:
        budget = [time_budget_callback(settings.budget_seconds, settings.epochs, context)]
    if validation is None and settings.monitor.startswith("val_"):
        keep_best.monitor = settings.monitor[4:]
    start = time.perf_counter()
    try:
        model.fit(
            x,
            y,
            validation_data=validation,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            shuffle=settings.shuffle,
            verbose=settings.verbose,
            callbacks=[progress, keep_best, *budget, *(extra_callbacks or [])],
        )
    except tf.errors.ResourceExhaustedError as error:
        raise TrainingError(
            "Training ran out of memory. Use fewer units or layers, a smaller batch or a "
            "shorter window, then train again."
        ) from error
    return FitOutcome(
        history=progress.history,
        best_epoch=keep_best.best_epoch or len(progress.history),
        stopped_by_user=progress.stopped_by_user,
        stopped_early=keep_best.stopped_early,
        seconds=time.perf_counter() - start,
        budget_spent=bool(budget and budget[0].spent),
    )

