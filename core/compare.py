"""SimpleRNN vs LSTM vs GRU on the same data, split, seed and budget, with measured numbers.

A comparison is one ordinary job per (cell, seed): the forecast task or the next-word task with
only the cell (and the seed, when repeating) changed, so that every number comes from the very
code the other pages use. This module plans those runs and turns their results into the table:
parameters, seconds per epoch, epochs to the best validation loss, the best validation loss and
the holdout score (MASE for forecasts, top-1 accuracy for next words), with the mean and the
spread over seeds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from core.cells import cell_keys, count_parameters, get_cell, lesson_keys
from core.config import Choices, Config, ForecastConfig, NextWordConfig
from core.errors import ConfigError
from core.jobs import JobContext, resolve_task

TASKS = {"forecast": "core.forecasting:forecast_task", "nextword": "core.nextword:nextword_task"}
TASK = "core.compare:compare_task"  # the whole comparison as one job
SCORES = {"forecast": ("MASE", "lower"), "nextword": ("top-1 accuracy", "higher")}
MAX_SEEDS = 5


@dataclasses.dataclass(frozen=True)
class CompareConfig(Config):
    """What the Compare page shows: the task and the budget every cell gets (its address)."""

    KIND: ClassVar[str] = "compare"
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "units": (2, 128), "epochs": (1, 200), "num_layers": (1, 2), "seeds": (1, MAX_SEEDS)}
    CHOICES: ClassVar[dict[str, Choices]] = {"task": ("forecast", "nextword")}
    UNITS: ClassVar[tuple[int, ...]] = (2, 4, 8, 16, 32, 64, 128)

    task: str = "forecast"
    units: int | None = None  # None: the task's own default (32 for forecasts, 64 for words)
    epochs: int | None = None  # None: 60 for forecasts, 8 for next words
    num_layers: int = 1
    seeds: int = 1

    def budget(self) -> tuple[int, int]:
        """The units and epochs this comparison trains with (the task's defaults unless set)."""
        units = self.units if self.units is not None else (32 if self.task == "forecast" else 64)
        epochs = self.epochs if self.epochs is not None else (60 if self.task == "forecast" else 8)
        return units, epochs


@dataclasses.dataclass(frozen=True)
class Run:
    """One job of a comparison."""

    kind: str  # "forecast" or "nextword"
    cell: str
    seed: int
    task: str
    payload: dict

    @property
    def key(self) -> str:
        return f"compare-{self.cell}-{self.seed}"


def plan_runs(
    kind: str,
    data: dict,
    config: ForecastConfig | NextWordConfig,
    seeds: int = 1,
    cells: Sequence[str] | None = None,
) -> list[Run]:
    """The jobs of one comparison: every cell (all registered cells unless `cells` says which)
    for each of `seeds` seeds (config.seed, +1, ...).

    `data` is the part of the payload that holds the data ({"series": ...} for forecasts,
    {"text": ..., "name": ...} for next words); the config is the same for every run but the cell
    and the seed.

    Raises:
        ConfigError: an unknown kind or cell, or a number of seeds outside 1..MAX_SEEDS.
    """
    if kind not in TASKS:
        raise ConfigError(f"A comparison is of 'forecast' or 'nextword'; received {kind!r}.")
    if not 1 <= int(seeds) <= MAX_SEEDS:
        raise ConfigError(f"Repeat over 1 to {MAX_SEEDS} seeds; received {seeds}.")
    cells = cell_keys() if cells is None else tuple(cells)
    unknown = [cell for cell in cells if cell not in cell_keys()]
    if not cells or unknown:
        raise ConfigError(
            f"Compare cells among {', '.join(cell_keys())}; received {list(cells)}.")
    runs = []
    for offset in range(int(seeds)):
        for cell in cells:
            run_config = config.replace(cell=cell, seed=config.seed + offset)
            if kind == "forecast":
                # Cells are compared as networks alone: the classical part of the default mix
                # would be the same in every run and blur the differences between cells.
                run_config = run_config.replace(combine="network")
            runs.append(Run(kind, cell, run_config.seed, TASKS[kind],
                            {**data, "config": run_config.to_dict()}))
    return runs


# ---------------------------------------------------------------------------------------------
# The comparison as one job


def compare_task(payload: dict, context: JobContext) -> dict[str, Any]:
    """Job: every run of a comparison, one after the other (fair seconds per epoch).

    Payload: {"runs": [{"cell", "seed", "task", "payload"}, ...]}. Each run is the ordinary
    task of its kind, in a folder of its own (its model file stays there); its epochs are
    reported with its cell, seed and number ("epoch" counts the trainings, "run_epoch" the
    epochs of the current one). Stop ends the current run (it keeps its best weights) and
    starts no other. Returns {"results": [the task's result, ...]} for the runs that ran.
    """
    runs = payload["runs"]
    context.set_total(len(runs))
    results = []
    for index, run in enumerate(runs):
        if context.should_stop():
            break
        inner = _RunContext(context, index, run, len(runs))
        results.append(resolve_task(run["task"])(run["payload"], inner))
    return {"results": results}


class _RunContext(JobContext):
    """One run of a comparison, reported inside the comparison's own progress."""

    def __init__(self, outer: JobContext, index: int, run: dict, count: int):
        workdir = Path(outer.workdir) / f"run-{index + 1}"
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(workdir)
        self._outer, self._index, self._count = outer, index, count
        self._label = f"{get_cell(run['cell']).name}, seed {run['seed']}"
        self._run = {"cell": run["cell"], "seed": run["seed"]}
        self._epochs = int((run["payload"].get("config") or {}).get("epochs") or 1)

    def set_total(self, epochs: int) -> None:
        self._epochs = int(epochs)

    def report(self, logs: dict) -> None:
        later = self._count - self._index - 1
        left = max(self._epochs - int(logs.get("epoch", 0)), 0) + later * self._epochs
        self._outer.report({**logs, **self._run, "run_epoch": logs.get("epoch"),
                            "epoch": self._index + 1, "most_epochs_left": left,
                            "starts_left": later})
        self._outer.say(f"{self._label} (training {self._index + 1} of {self._count}): epoch "
                        f"{logs.get('epoch')} of at most {self._epochs}.")

    def say(self, message: str) -> None:
        self._outer.say(f"{self._label} (training {self._index + 1} of {self._count}): "
                        f"{message}")

    def should_stop(self) -> bool:
        return self._outer.should_stop()


# ---------------------------------------------------------------------------------------------
# Parameters


def forecast_parameters(config: ForecastConfig) -> int:
    """Trainable parameters of `core.forecast.rnn.build_network` for a resolved config (every
    ensemble member counted)."""
    steps = config.horizon if config.strategy == "direct" else 1
    total, features = 0, 1
    for _ in range(config.num_layers):
        total += count_parameters(config.cell, config.units, features)
        features = config.units
    return config.ensemble * (total + features * steps + steps)


def nextword_parameters(config: NextWordConfig, vocab_len: int) -> int:
    """Trainable parameters of `core.nextword.build_network` (vocab_len counts the padding id;
    every ensemble member counted)."""
    total = vocab_len * config.embedding_dim
    features = config.embedding_dim
    for _ in range(config.num_layers):
        total += count_parameters(config.cell, config.units, features)
        features = config.units
    if config.shortcut:
        features += config.embedding_dim
    return config.ensemble * (total + features * vocab_len + vocab_len)


# ---------------------------------------------------------------------------------------------
# Rows and the table


def _history_figures(history: list[dict]) -> dict[str, float]:
    seconds = [log["seconds"] for log in history if "seconds" in log]
    losses = [log.get("val_loss", log.get("loss")) for log in history]
    losses = [loss for loss in losses if loss is not None]
    return {
        "seconds_per_epoch": float(np.mean(seconds)) if seconds else math.nan,
        "epochs_run": len(history),
        "best_val_loss": float(min(losses)) if losses else math.nan,
    }


def forecast_row(result: Any) -> dict[str, Any]:
    """The comparison numbers of one `ForecastResult`."""
    config = result.config
    return {
        "cell": config.cell,
        "seed": config.seed,
        "parameters": forecast_parameters(config),
        **_history_figures(result.history),
        "best_epoch": result.best_epoch,
        "score": float(result.metrics["model"]["mase"]),
    }


def nextword_row(result: dict, config: NextWordConfig) -> dict[str, Any]:
    """The comparison numbers of one next-word job result (the task's returned dict)."""
    metrics = result["metrics"]
    return {
        "cell": config.cell,
        "seed": config.seed,
        "parameters": nextword_parameters(config, metrics["vocab_size"] + 1),
        **_history_figures(result["history"]),
        "best_epoch": metrics["best_epoch"],
        "score": float(metrics["top1"]),
    }


def result_row(run: Run, result: Any) -> dict[str, Any]:
    if run.kind == "forecast":
        return forecast_row(result)
    return nextword_row(result, NextWordConfig.from_dict(run.payload["config"]))


SUMMARY_COLUMNS = ("parameters", "seconds_per_epoch", "best_epoch", "best_val_loss", "score")


def summarise(rows: Sequence[dict]) -> pd.DataFrame:
    """One line per cell (simplest first: SimpleRNN, LSTM, GRU): runs, then the mean and the spread
    (sample standard deviation, NaN for a single run) of each number."""
    if not rows:
        raise ConfigError("There are no finished runs to compare yet.")
    frame = pd.DataFrame(list(rows))
    order = [cell for cell in lesson_keys() if cell in set(frame["cell"])]
    lines = []
    for cell in order:
        group = frame[frame["cell"] == cell]
        line: dict[str, Any] = {"cell": get_cell(cell).name, "runs": len(group)}
        for column in SUMMARY_COLUMNS:
            values = group[column].astype(float)
            line[column] = float(values.mean())
            line[f"{column}_spread"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
        lines.append(line)
    return pd.DataFrame(lines)


def display_table(summary: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The summary as text cells ("0.83 ± 0.05") with plain column names, for a page or a report."""
    score_name, better = SCORES[kind]
    names = {
        "parameters": "parameters",
        "seconds_per_epoch": "seconds per epoch",
        "best_epoch": "epochs to best val loss",
        "best_val_loss": "best val loss",
        "score": f"holdout {score_name} ({better} is better)",
    }
    formats = {"parameters": "{:,.0f}", "seconds_per_epoch": "{:.3f}", "best_epoch": "{:.1f}",
               "best_val_loss": "{:.4f}", "score": "{:.3f}"}
    table = pd.DataFrame({"cell": summary["cell"], "runs": summary["runs"]})
    for column, name in names.items():
        cells = []
        for mean, spread in zip(summary[column], summary[f"{column}_spread"], strict=True):
            text = formats[column].format(mean)
            if not math.isnan(spread) and column != "parameters":
                text += " ± " + formats[column].format(spread)
            cells.append(text)
        table[name] = cells
    return table
