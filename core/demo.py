"""Tiny tasks that exercise the job system: the seed's sum example, and failure cases for tests."""

from __future__ import annotations

import os
import signal
import time

import numpy as np

from core.errors import TrainingError
from core.jobs import JobContext
from core.training import FitSettings, fit, set_seed


def sum_task(payload: dict, context: JobContext) -> dict:
    """The seed's SimpleRNN: learn y = a + b from [[0,1],[1,2],...] and predict after [5,6]."""
    import keras

    set_seed(payload.get("seed", 0))
    x = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]], dtype="float32").reshape(5, 2, 1)
    y = np.array([1, 3, 5, 7, 9], dtype="float32")
    model = keras.Sequential(
        [keras.Input((2, 1)), keras.layers.SimpleRNN(10, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(payload.get("learning_rate", 0.01)), loss="mse")
    settings = FitSettings(epochs=payload.get("epochs", 200), batch_size=5, patience=0,
                           monitor="loss")
    outcome = fit(model, x, y, None, settings, context)
    prediction = float(model(np.array([5, 6], dtype="float32").reshape(1, 2, 1))[0, 0])
    return {"prediction": prediction, "history": outcome.history,
            "stopped_by_user": outcome.stopped_by_user}


def sleep_task(payload: dict, context: JobContext) -> dict:
    """Reports fake epochs every `seconds`; stops when asked. For job-system tests."""
    epochs = payload.get("epochs", 10)
    context.set_total(epochs)
    for epoch in range(epochs):
        if context.should_stop():
            break
        time.sleep(payload.get("seconds", 0.05))
        context.report({"epoch": epoch + 1, "loss": 1.0 / (epoch + 1)})
    if payload.get("fail"):
        raise TrainingError("failed on purpose")
    if payload.get("crash"):
        import os

        os._exit(3)
    return {"pid": __import__("os").getpid()}


def stubborn_task(payload: dict, context: JobContext) -> dict:
    """Reports epochs but never reads the stop flag: only a hard kill ends it early."""
    epochs = payload.get("epochs", 100)
    context.set_total(epochs)
    for epoch in range(epochs):
        time.sleep(payload.get("seconds", 0.1))
        context.report({"epoch": epoch + 1, "loss": 1.0})
    return {"epochs": epochs}


def dies_while_reporting_task(payload: dict, context: JobContext) -> dict:
    """Killed in the middle of sending progress, as a forced stop or the kernel's out-of-memory
    killer can catch a worker: a local worker first takes its progress queue's write lock."""
    from core.jobs import local

    lock = getattr(local._progress, "_wlock", None)
    if lock is not None:
        lock.acquire()
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def files_task(payload: dict, context: JobContext) -> dict:
    """Writes a file into the job's folder and returns its path (results that name files)."""
    path = context.workdir / "model.txt"
    path.write_text(payload.get("text", "weights"))
    context.say("Saved.")
    return {"model_path": str(path)}
