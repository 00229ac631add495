"""Compiled networks a worker keeps between its jobs, so that a repeated network skips tracing.

The first epoch of a new Keras model spends most of its time tracing TensorFlow's training and
evaluation functions: 1.3 s of the 1.4 s before the first loss point of the airline sample's
default GRU, where a later epoch takes 0.07 s. A class trains the same few networks again and
again (the defaults, one sample, a second try). So a worker keeps, after each job, the compiled
models that job trained; a later job that builds a network of the same shape (same layers and
input shapes, same loss and optimizer settings) trains a kept one instead: its variables set to
the new network's (weights and dropout seeds) and its optimizer state zeroed (the learning rate
set to the new one's). It then trains exactly as the new network would (a test compares the
loss histories) without tracing again.

Only workers keep models (`enable()` runs in `core.jobs.base.warm_up`); the command line and
the tests in one process build afresh. A model is never handed to two users at once: a job's
models come back only when the job has ended (`give_back()` in `core.jobs.base.execute`), and
a job takes each kept model at most once.
"""

from __future__ import annotations

import collections
import json
from typing import Any

KEEP = 4  # models kept per worker (a few MB each; the oldest goes first)

_enabled = False
_kept: collections.OrderedDict[str, list[Any]] = collections.OrderedDict()
_taken: list[tuple[str, Any]] = []


def enable(on: bool = True) -> None:
    """Keep models in this process from now on (a worker), or stop and forget them."""
    global _enabled
    _enabled = on
    if not on:
        _kept.clear()
        _taken.clear()


def reuse(model: Any) -> Any:
    """`model` (compiled, untrained), or a kept model of the same shape set to its state."""
    if not _enabled:
        return model
    key = signature(model)
    spare = _kept.get(key)
    if not spare:
        _take(key, model)
        return model
    kept = spare.pop()
    if not spare:
        del _kept[key]
    for target, source in zip(kept.variables, model.variables, strict=True):
        target.assign(source)
    learning_rate = kept.optimizer.learning_rate
    for variable in kept.optimizer.variables:
        if variable is not learning_rate:
            variable.assign(_zeros(variable))
    learning_rate.assign(float(model.optimizer.learning_rate))
    kept.stop_training = False
    _take(key, kept)
    return kept


def _take(key: str, model: Any) -> None:
    """Note a model to keep after the job: at most KEEP per job, so that a search of fifty
    trainings does not hold fifty networks in memory until it ends."""
    if len(_taken) < KEEP:
        _taken.append((key, model))


def give_back() -> None:
    """The models of the job that just ended become free for the next jobs."""
    for key, model in _taken:
        _kept.setdefault(key, []).append(model)
        _kept.move_to_end(key)
    _taken.clear()
    while sum(len(models) for models in _kept.values()) > KEEP:
        key = next(iter(_kept))
        _kept[key].pop(0)
        if not _kept[key]:
            del _kept[key]


def kept_count() -> int:
    return sum(len(models) for models in _kept.values())


def signature(model: Any) -> str:
    """What must match for a kept model to stand in: architecture, loss, optimizer settings
    (all but the learning rate, a variable), compilation mode."""
    optimizer = model.optimizer.get_config()
    optimizer.pop("learning_rate", None)
    optimizer.pop("name", None)  # adam, adam_1, ...: numbered per process
    return json.dumps({
        "model": model.get_config(),
        "optimizer": [type(model.optimizer).__name__, optimizer],
        "loss": getattr(model.loss, "__qualname__", repr(model.loss)),
        "jit": model.jit_compile,
        "variables": [(tuple(v.shape), str(v.dtype)) for v in model.variables],
    }, sort_keys=True, default=str)


def _zeros(variable: Any):
    import numpy as np

    return np.zeros(tuple(variable.shape), dtype=str(variable.dtype))
