"""The job interface every backend implements, and what a task sees of its job.

A task is a plain function `task(payload, context) -> result`, named by its dotted path
("core.forecasting:forecast_task") so that it is imported inside the worker. The context gives
the task its own folder, an epoch-log channel and a stop flag; `core.training` turns those into
Keras callbacks. The same task runs in-process through `run_inline` (the command line does).

A backend is a `JobManager` subclass (`core.jobs.local`, `core.jobs.redis_backend`) that hands out
`Job` handles; a page polls `Job.snapshot()`, calls `Job.stop()` and reads `Job.result`.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core import traced
from core.errors import JobStopped, RNNLabError


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"  # the user asked to stop; a result with the best weights so far exists
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped before it ever ran (or stopped by force: no result)

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.STOPPED, JobState.FAILED, JobState.CANCELLED)


class QueueFull(RNNLabError):
    """The server's queue of waiting jobs is at its limit."""


class QueueUnavailable(RNNLabError):
    """The job queue (Redis) cannot be reached."""


class JobBusy(RNNLabError):
    """The owner already has a job waiting or running."""


@dataclasses.dataclass(frozen=True)
class JobSnapshot:
    """What a poller sees of a job at one moment (a copy: safe to keep and to read)."""

    job_id: str
    state: JobState
    epoch: int  # epochs finished so far
    epochs: int  # planned epochs (0 until the task says)
    logs: tuple[dict, ...]  # one dict per finished epoch: epoch, loss, val_loss, seconds, ...
    message: str  # what the task is doing now, or why it failed
    queue_position: int  # 1 = next to start; 0 when not waiting
    wait_seconds: float | None  # estimated wait before it starts (queued jobs only)
    elapsed_seconds: float  # time spent running
    eta_seconds: float | None  # estimated time left while running

    @property
    def finished(self) -> bool:
        return self.state.finished


class JobContext:
    """What a running task may use: its folder, progress reporting and the stop flag."""

    def __init__(
        self,
        workdir: Path,
        send: Callable[[str, dict], None] | None = None,
        stop_requested: Callable[[], bool] | None = None,
    ):
        self.workdir = Path(workdir)
        self._send = send or (lambda kind, data: None)
        self._stop_requested = stop_requested or (lambda: False)

    def set_total(self, epochs: int) -> None:
        self._send("total", {"epochs": int(epochs)})

    def report(self, logs: dict) -> None:
        """Record one finished epoch's logs (loss, val_loss, seconds, ...)."""
        self._send("epoch", {k: _plain(v) for k, v in logs.items()})

    def say(self, message: str) -> None:
        """Tell the poller what the task is doing now ("Scoring the baselines...")."""
        self._send("message", {"message": message})

    def should_stop(self) -> bool:
        return self._stop_requested()


def _plain(value: Any) -> Any:
    """Numpy scalars to Python numbers, so logs pickle and serialise as JSON."""
    if hasattr(value, "item"):
        return value.item()
    return value


def resolve_task(path: str) -> Callable[[Any, JobContext], Any]:
    module_name, _, attr = path.partition(":")
    if not module_name.startswith("core."):
        # Payloads come from the app; only the engine's own functions may be run.
        raise ValueError(f"refusing to run task {path!r}: tasks must live in core/")
    return getattr(importlib.import_module(module_name), attr)


def run_inline(task: str | Callable, payload: Any, context: JobContext | None = None) -> Any:
    """Run a task in this process (the command line, tests). Errors propagate as raised."""
    function = resolve_task(task) if isinstance(task, str) else task
    if context is None:
        context = JobContext(Path(tempfile.mkdtemp(prefix="rnnlab-job-")))
    return function(payload, context)


def jobs_root() -> Path:
    """Where job folders live: the same path on the app's machine and on every worker's, so that
    paths inside a result (a saved model) stay valid once its files are copied back."""
    return Path(os.environ.get("RNNLAB_JOBS_DIR") or Path(tempfile.gettempdir()) / "rnnlab-jobs")


# ---------------------------------------------------------------------------------------------
# Worker side, shared by both backends

OUT_OF_MEMORY = (
    "The training process ran out of memory. Use fewer units or layers, a shorter window, "
    "a smaller batch or a smaller file, then train again."
)


def crashed_message(exit_code: int | None = None) -> str:
    """What a user reads when the process running their job died."""
    if exit_code in (-9, 137):
        return (
            "The training process was killed (often because the machine ran out of memory). "
            "Try again; with a large file or model, use smaller settings."
        )
    code = f" (exit code {exit_code})" if exit_code is not None else ""
    return (
        f"The training process stopped unexpectedly{code}. Try again; with a large file or "
        "model, use smaller settings."
    )


FORCED_STOP = (
    "Stopped by force: training did not stop within {grace:.0f} s of the Stop click, so its "
    "process was ended and no model was kept. Train again if you need one."
)


def execute(task_path: str, payload: Any, context: JobContext) -> tuple[str, dict]:
    """Run one task and turn its outcome into a message: ("done", {"result", "stopped"}),
    ("cancelled", {"message"}) or ("failed", {"message", "traceback"?}). Never raises."""
    try:
        result = resolve_task(task_path)(payload, context)
        return "done", {"result": result, "stopped": context.should_stop()}
    except JobStopped as error:
        return "cancelled", {"message": str(error)}
    except RNNLabError as error:
        return "failed", {"message": str(error)}
    except MemoryError:
        return "failed", {"message": OUT_OF_MEMORY}
    except Exception as error:  # noqa: BLE001 - the worker must report, never die silently
        return "failed", {
            "message": f"Training failed unexpectedly ({type(error).__name__}: {error}). "
            "Try again with other settings; if it keeps failing, report it with the "
            "settings JSON.",
            "traceback": traceback.format_exc(),
        }
    finally:
        traced.give_back()
        release_keras_state()


def log_finished(job_id: str, owner: str, tag: str, state: JobState, times: dict) -> None:
    """Append one JSON line about a finished job to the file named by RNNLAB_JOB_LOG, if set.

    `times` holds the wall-clock `submitted`, `started` and `finished` (time.time()). The load
    benchmark reads it to measure how long after a job's end its page shows the result.
    """
    path = os.environ.get("RNNLAB_JOB_LOG")
    if not path:
        return
    line = json.dumps({"id": job_id, "owner": owner, "tag": tag, "state": state.value, **times})
    try:
        with open(path, "a") as log:  # one short write per line: lines from processes stay whole
            log.write(line + "\n")
    except OSError:
        pass  # a measurement aid must never fail a job


def log_event(job_id: str, owner: str, event: str, when: float) -> None:
    """Append one JSON line about a moment in a job's life seen by the app (for instance
    "page_rerun": the page saw the job finished and reran to show its result) to RNNLAB_JOB_LOG,
    if set: the load benchmark splits a result's delay into the app's part and the browser's."""
    path = os.environ.get("RNNLAB_JOB_LOG")
    if not path:
        return
    try:
        with open(path, "a") as log:
            log.write(json.dumps({"id": job_id, "owner": owner, "event": event, "at": when}) + "\n")
    except OSError:
        pass  # a measurement aid must never fail a page


def release_keras_state() -> None:
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    import gc

    gc.collect()


def warm_up(warm_modules: tuple[str, ...], threads: int, log_path: str | None) -> None:
    """Start-up of a worker process: native logs to a file, TensorFlow imported once."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if log_path:
        # TensorFlow's native logs go to a file, not to the terminal of the app's server.
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(log, 2)
        os.close(log)
    for name in warm_modules:
        importlib.import_module(name)
    if "tensorflow" in warm_modules:
        import tensorflow as tf

        # Two workers on two cores: each keeps to its share instead of fighting for both.
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    if "keras" in warm_modules:
        _trace_once()
        traced.enable()


def _trace_once() -> None:
    """Fit a tiny recurrent network for one epoch. TensorFlow's first traced training pays
    one-time costs (0.36 s of the first job's first epoch here, 1.69 s against 1.33 s): paid now,
    before a job waits on them, and again after each recycle of the worker."""
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((8, 1)), keras.layers.GRU(4), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mae", jit_compile=False)
    x, y = np.zeros((16, 8, 1), "float32"), np.zeros((16, 1), "float32")
    model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=8, verbose=0)
    keras.backend.clear_session()


# ---------------------------------------------------------------------------------------------
# App side: the handle and the manager every backend provides


class Job:
    """Handle on one submitted job. Poll `snapshot()`; `stop()`; read `result` when finished.

    Backends fill the fields through `_update` (local) or by reading them back (Redis)."""

    def __init__(self, job_id: str, task: str, owner: str, tag: str = ""):
        self.id = job_id
        self.task = task
        self.owner = owner
        self.tag = tag  # what the submitter calls it ("forecast"): a reloaded page finds it again
        self.workdir = jobs_root() / job_id
        self._state = JobState.QUEUED
        self._epochs = 0
        self._logs: list[dict] = []
        self._message = "Waiting for a free worker..."
        self._submitted = time.time()
        self._started: float | None = None
        self._finished: float | None = None
        self._stop_requested = False
        self.error_details: str | None = None
        self.worker_pid: int | None = None  # the process running it, once it runs

    # -- reading (backends override `_refresh`, `_queue_position` and `_estimate_wait`)

    def _refresh(self) -> None:
        """Bring the fields up to date (a remote backend reads them here)."""

    def _queue_position(self) -> int:
        return 0

    def _estimate_wait(self, position: int) -> float | None:
        return None

    def snapshot(self) -> JobSnapshot:
        self._refresh()
        position = self._queue_position() if self._state is JobState.QUEUED else 0
        now = time.time()
        elapsed = 0.0
        if self._started is not None:
            elapsed = max((self._finished or now) - self._started, 0.0)
        eta = None
        if self._state is JobState.RUNNING and self._logs and self._epochs:
            per_epoch = elapsed / len(self._logs)
            eta = per_epoch * max(self._epochs - len(self._logs), 0)
        return JobSnapshot(
            job_id=self.id,
            state=self._state,
            epoch=len(self._logs),
            epochs=self._epochs,
            logs=tuple(dict(log) for log in self._logs),
            message=self._message,
            queue_position=position,
            wait_seconds=self._estimate_wait(position) if position else None,
            elapsed_seconds=elapsed,
            eta_seconds=eta,
        )

    @property
    def state(self) -> JobState:
        self._refresh()
        return self._state

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        """Block until the job finishes (or the timeout passes); return the last snapshot."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.state.finished:
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        return self.snapshot()

    def stop(self) -> None:
        """Ask the job to stop; a running one keeps its best weights so far and still returns."""
        raise NotImplementedError

    @property
    def stop_requested(self) -> bool:
        """Stop was pressed (as of the last snapshot); a running job ends at its next epoch."""
        return self._stop_requested

    @property
    def result(self) -> Any:
        raise NotImplementedError

    @property
    def note(self) -> Any:
        """What the submitter kept with the job (the page's record of the run), or None."""
        return None

    def _update(self, kind: str, data: dict) -> None:
        """Apply one progress message ("total", "epoch", "message") or outcome."""
        if kind == "total":
            self._epochs = data["epochs"]
        elif kind == "epoch":
            self._logs.append(data)
            self._message = f"Epoch {len(self._logs)} of {self._epochs or '?'}"
        elif kind == "message":
            self._message = data["message"]


def estimate_wait(
    position: int, workers: int, durations: list[float], running_elapsed: list[float]
) -> float | None:
    """Seconds until the job at `position` (1 = next) starts: the running jobs end after the mean
    duration so far, then the jobs ahead fill the workers round by round."""
    if not durations or workers < 1:
        return None
    mean = sum(durations) / len(durations)
    running_left = [max(mean - elapsed, 0.0) for elapsed in running_elapsed][:workers]
    free_at = sorted(running_left + [0.0] * (workers - len(running_left)))
    rounds, slot = divmod(position - 1, workers)
    return free_at[slot] + rounds * mean


class JobManager:
    """The job interface: submit tasks, find jobs again, stop them.

    `JobManager(...)` itself gives the backend this process is configured for: Redis + RQ when
    `redis_url=` is given or `RNNLAB_REDIS_URL` is set, else the local pool of worker processes.
    """

    backend = "abstract"

    def __new__(cls, *args, **kwargs):
        if cls is JobManager:
            # Python then runs the chosen class's __init__ with the same arguments.
            if kwargs.get("redis_url") or os.environ.get("RNNLAB_REDIS_URL"):
                from core.jobs.redis_backend import RedisJobManager as cls
            else:
                from core.jobs.local import LocalJobManager as cls
        return object.__new__(cls)

    def submit(
        self,
        task: str,
        payload: Any,
        owner: str = "",
        *,
        first: bool = False,
        tag: str = "",
        note: Any = None,
    ) -> Job:
        """Queue `task(payload, context)`; returns its handle at once.

        Args:
            owner: who may find the job again (a session's token).
            first: put the job at the head of the queue (the teacher's session).
            tag: the submitter's name for it ("forecast"), kept with the job.
            note: any small picklable record the submitter wants back with the job.

        Raises:
            QueueFull: too many jobs are waiting already.
            QueueUnavailable: the queue's server cannot be reached.
        """
        raise NotImplementedError

    def get(self, job_id: str) -> Job | None:
        raise NotImplementedError

    def jobs(self, owner: str | None = None) -> list[Job]:
        raise NotImplementedError

    def discard(self, job: Job) -> None:
        """Forget a job and delete what it left (stopping it first if it still runs)."""
        raise NotImplementedError

    def stop_owner(self, owner: str) -> int:
        """Stop every unfinished job of one owner; returns how many."""
        count = 0
        for job in self.jobs(owner):
            if not job.state.finished:
                job.stop()
                count += 1
        return count

    def reap(self, owner_alive: Callable[[str], bool]) -> int:
        """Stop and forget the jobs whose owner is gone; returns how many were reaped."""
        gone = [job for job in self.jobs() if job.owner and not owner_alive(job.owner)]
        for job in gone:
            self.discard(job)
        return len(gone)

    @property
    def warming_up(self) -> bool:
        """True while no worker has finished starting (importing TensorFlow takes a few seconds)."""
        return False

    def worker_count(self) -> int:
        """How many workers serve this queue now."""
        raise NotImplementedError

    def shutdown(self, wait: float = 5.0) -> None:
        raise NotImplementedError

    def _check_task(self, task: str) -> None:
        resolve_task(task)  # fail here, in the caller, for a task that does not exist

    def _full_message(self, limit: int) -> str:
        return (
            f"The training queue is full: {limit} jobs are already waiting. Wait a minute for "
            "some of them to finish, then press the button again."
        )
