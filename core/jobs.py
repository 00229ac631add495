"""Training jobs that run in worker processes, for a UI that polls them.

Why worker processes: every Keras build-and-fit leaves memory behind in a long-lived process
that `clear_session()` does not free; Keras seeds and `clear_session()` are process-wide; and a
Streamlit rerun must not be able to kill or orphan a training. The app process only submits
jobs, polls snapshots and receives results.

A task is a plain function `task(payload, context) -> result`, named by its dotted path
("core.forecasting:forecast_task") so that it is imported inside the worker. The context gives
the task its own folder, an epoch-log channel and a stop flag; `core.training` turns those into
Keras callbacks. The same task runs in-process through `run_inline` (the command line does).

Workers are started with `spawn`, import TensorFlow once at start-up (so a job does not pay for
it) and are recycled after a few jobs so that memory stays flat. Jobs wait in a FIFO queue; a
snapshot tells a waiting user their place and an estimate of the wait.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import enum
import importlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import JobStopped, RNNLabError


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"  # the user asked to stop; a result with the best weights so far exists
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped before it ever ran

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.STOPPED, JobState.FAILED, JobState.CANCELLED)


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


# ---------------------------------------------------------------------------------------------
# Worker side


def _worker_main(
    conn, stop_event, threads: int, warm_modules: tuple[str, ...], log_path: str
) -> None:
    """Loop of one worker process: receive a job, run it, send back the outcome."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
    conn.send(("ready", None, None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job_id, task_path, payload, workdir = message
        stop_event.clear()

        def send(kind: str, data: dict, job_id=job_id) -> None:
            conn.send((kind, job_id, data))

        context = JobContext(Path(workdir), send, stop_event.is_set)
        try:
            result = resolve_task(task_path)(payload, context)
            conn.send(("done", job_id, {"result": result, "stopped": stop_event.is_set()}))
        except JobStopped as error:
            conn.send(("cancelled", job_id, {"message": str(error)}))
        except RNNLabError as error:
            conn.send(("failed", job_id, {"message": str(error)}))
        except MemoryError:
            conn.send(("failed", job_id, {"message": _OUT_OF_MEMORY}))
        except Exception as error:  # noqa: BLE001 - the worker must report, never die silently
            conn.send(
                (
                    "failed",
                    job_id,
                    {
                        "message": f"Training failed unexpectedly ({type(error).__name__}: {error}). "
                        "Try again with other settings; if it keeps failing, report it with the "
                        "settings JSON.",
                        "traceback": traceback.format_exc(),
                    },
                )
            )
        finally:
            _release_keras_state()


_OUT_OF_MEMORY = (
    "The training process ran out of memory. Use fewer units or layers, a shorter window, "
    "a smaller batch or a smaller file, then train again."
)


def _release_keras_state() -> None:
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    import gc

    gc.collect()


# ---------------------------------------------------------------------------------------------
# App side


_MAIN_SWAP = threading.Lock()


@contextlib.contextmanager
def _plain_main_module():
    """Hide the parent's `__main__` while a worker starts: `spawn` would re-import it in the
    worker, and under Streamlit that is the page script being run (not what a worker must run)."""
    with _MAIN_SWAP:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


class Job:
    """Handle on one submitted job. Poll `snapshot()`; `stop()`; read `result` when finished."""

    def __init__(self, manager: JobManager, job_id: str, task: str, payload: Any, owner: str):
        self._manager = manager
        self.id = job_id
        self.task = task
        self.owner = owner
        self.workdir = Path(tempfile.mkdtemp(prefix=f"rnnlab-{job_id}-", dir=manager.root))
        self._payload = payload
        self._state = JobState.QUEUED
        self._epochs = 0
        self._logs: list[dict] = []
        self._message = "Waiting for a free worker..."
        self._submitted = time.monotonic()
        self._started: float | None = None
        self._finished: float | None = None
        self._stop_requested = False
        self.result: Any = None
        self.error_details: str | None = None
        self._done = threading.Event()

    # -- reading

    def snapshot(self) -> JobSnapshot:
        with self._manager._lock:
            position = self._manager._queue_position(self)
            now = time.monotonic()
            elapsed = 0.0
            if self._started is not None:
                elapsed = (self._finished or now) - self._started
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
                wait_seconds=self._manager._estimate_wait(position) if position else None,
                elapsed_seconds=elapsed,
                eta_seconds=eta,
            )

    @property
    def state(self) -> JobState:
        return self._state

    def wait(self, timeout: float | None = None) -> JobSnapshot:
        """Block until the job finishes (or the timeout passes); return the last snapshot."""
        self._done.wait(timeout)
        return self.snapshot()

    # -- acting

    def stop(self) -> None:
        """Ask the job to stop; a running one keeps its best weights so far and still returns."""
        self._manager._stop(self)

    # -- updates from the manager (under its lock)

    def _update(self, kind: str, data: dict) -> None:
        if kind == "total":
            self._epochs = data["epochs"]
        elif kind == "epoch":
            self._logs.append(data)
            self._message = f"Epoch {len(self._logs)} of {self._epochs or '?'}"
        elif kind == "message":
            self._message = data["message"]
        elif kind == "done":
            self.result = data["result"]
            stopped = data.get("stopped") or self._stop_requested
            self._finish(JobState.STOPPED if stopped else JobState.DONE, "Finished.")
        elif kind == "cancelled":
            self._finish(JobState.CANCELLED, data["message"] or "Stopped before it started.")
        elif kind == "failed":
            self.error_details = data.get("traceback")
            self._finish(JobState.FAILED, data["message"])

    def _finish(self, state: JobState, message: str) -> None:
        self._state = state
        self._message = message
        self._finished = time.monotonic()
        self._payload = None
        self._done.set()


@dataclasses.dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    stop_event: Any
    ready: bool = False
    job: Job | None = None
    jobs_run: int = 0
    retiring: bool = False


class JobManager:
    """A bounded pool of worker processes with a FIFO queue of jobs.

    One manager serves a whole app process (the UI keeps it in `st.cache_resource`); every
    job carries the `owner` that submitted it so that a closed session's jobs can be stopped.
    """

    def __init__(
        self,
        workers: int | None = None,
        jobs_per_worker: int = 4,
        warm_modules: tuple[str, ...] = ("tensorflow", "keras"),
        root: str | Path | None = None,
    ):
        cpus = os.cpu_count() or 1
        if workers is None:
            workers = int(os.environ.get("RNNLAB_WORKERS", "0")) or min(2, cpus)
        self.workers = max(1, workers)
        self.jobs_per_worker = max(1, jobs_per_worker)
        self.root = Path(root or tempfile.mkdtemp(prefix="rnnlab-jobs-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self._warm_modules = warm_modules
        self._threads = max(1, cpus // self.workers)
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.RLock()
        self._queue: collections.deque[Job] = collections.deque()
        self._jobs: dict[str, Job] = {}
        self._pool: list[_Worker] = []
        self._durations: collections.deque[float] = collections.deque(maxlen=20)
        self._ids = itertools.count(1)
        self._closed = False
        self._wake_reader, self._wake_writer = multiprocessing.Pipe(duplex=False)
        for _ in range(self.workers):
            self._spawn()
        self._thread = threading.Thread(target=self._dispatch_loop, name="rnnlab-jobs", daemon=True)
        self._thread.start()

    # -- public API

    def submit(self, task: str, payload: Any, owner: str = "") -> Job:
        """Queue `task(payload, context)` to run in a worker; returns its handle at once."""
        resolve_task(task)  # fail here, in the caller, for a task that does not exist
        with self._lock:
            if self._closed:
                raise RuntimeError("the job manager is shut down")
            job = Job(self, f"j{next(self._ids)}-{os.getpid()}", task, payload, owner)
            self._jobs[job.id] = job
            self._queue.append(job)
        self._wake()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self, owner: str | None = None) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if owner is None or job.owner == owner]

    def discard(self, job: Job) -> None:
        """Forget a job and delete its folder (stopping it first if it still runs)."""
        self._stop(job)
        with self._lock:
            self._jobs.pop(job.id, None)
        if job.state.finished:
            shutil.rmtree(job.workdir, ignore_errors=True)

    def stop_owner(self, owner: str) -> int:
        """Stop every unfinished job of one owner (a closed browser session); returns how many."""
        count = 0
        for job in self.jobs(owner):
            if not job.state.finished:
                self._stop(job)
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
        with self._lock:
            return not any(worker.ready for worker in self._pool)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._pool if w.process.pid is not None]

    def shutdown(self, wait: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            for job in list(self._queue):
                job._finish(JobState.CANCELLED, "The server is shutting down.")
            self._queue.clear()
            pool = list(self._pool)
        self._wake()
        for worker in pool:
            worker.stop_event.set()
            try:
                worker.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        deadline = time.monotonic() + wait
        for worker in pool:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)
        self._thread.join(2)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- internals

    def _wake(self) -> None:
        try:
            self._wake_writer.send_bytes(b"!")
        except (OSError, BrokenPipeError):
            pass

    def _spawn(self) -> None:
        parent_conn, child_conn = self._context.Pipe()
        stop_event = self._context.Event()
        process = self._context.Process(
            target=_worker_main,
            args=(
                child_conn,
                stop_event,
                self._threads,
                self._warm_modules,
                str(self.root / "workers.log"),
            ),
            name="rnnlab-worker",
            daemon=True,
        )
        with _plain_main_module():
            process.start()
        child_conn.close()
        self._pool.append(_Worker(process, parent_conn, stop_event))

    def _queue_position(self, job: Job) -> int:
        if job.state is not JobState.QUEUED:
            return 0
        try:
            return self._queue.index(job) + 1
        except ValueError:
            return 0

    def _estimate_wait(self, position: int) -> float | None:
        if not self._durations:
            return None
        mean = sum(self._durations) / len(self._durations)
        now = time.monotonic()
        running_left = [
            max(mean - (now - w.job._started), 0.0)
            for w in self._pool
            if w.job is not None and w.job._started is not None
        ]
        free_at = sorted(running_left + [0.0] * (self.workers - len(running_left)))
        # Jobs ahead fill the workers round by round.
        rounds, slot = divmod(position - 1, self.workers)
        return free_at[slot] + rounds * mean

    def _stop(self, job: Job) -> None:
        with self._lock:
            job._stop_requested = True
            if job.state is JobState.QUEUED:
                if job in self._queue:
                    self._queue.remove(job)
                job._finish(JobState.CANCELLED, "Stopped before it started.")
                return
            for worker in self._pool:
                if worker.job is job:
                    worker.stop_event.set()
                    job._message = "Stopping: keeping the best model so far..."

    def _dispatch_loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                self._replace_dead_workers()
                self._start_queued()
                conns = [w.conn for w in self._pool]
            ready = multiprocessing.connection.wait(conns + [self._wake_reader], timeout=0.5)
            for conn in ready:
                if conn is self._wake_reader:
                    while self._wake_reader.poll():
                        self._wake_reader.recv_bytes()
                    continue
                self._receive(conn)

    def _receive(self, conn) -> bool:
        """Apply one message from a worker; False when its pipe is closed."""
        try:
            kind, job_id, data = conn.recv()
        except (EOFError, OSError):
            return False  # the worker died; _replace_dead_workers reports it
        with self._lock:
            worker = next((w for w in self._pool if w.conn is conn), None)
            if worker is None:
                return True
            if kind == "ready":
                worker.ready = True
                return True
            job = worker.job
            if job is None or job.id != job_id:
                return True
            job._update(kind, data)
            if job.state.finished:
                if job._started is not None:
                    self._durations.append(time.monotonic() - job._started)
                worker.job = None
                worker.jobs_run += 1
                if worker.jobs_run >= self.jobs_per_worker:
                    worker.retiring = True
                    try:
                        worker.conn.send(None)
                    except (OSError, BrokenPipeError):
                        pass
            return True

    def _replace_dead_workers(self) -> None:
        for worker in list(self._pool):
            if worker.process.is_alive():
                continue
            # Read what the worker sent before it exited (its last epoch or its result).
            while True:
                try:
                    if not worker.conn.poll():
                        break
                except (EOFError, OSError):
                    break
                if not self._receive(worker.conn):
                    break
            if worker.job is not None and not worker.job.state.finished:
                code = worker.process.exitcode
                message = _OUT_OF_MEMORY if code in (-9, 137) else (
                    f"The training process stopped unexpectedly (exit code {code}). "
                    "Try again; with a large file or model, use smaller settings."
                )
                worker.job._update("failed", {"message": message})
            worker.conn.close()
            self._pool.remove(worker)
            if not self._closed:
                self._spawn()

    def _start_queued(self) -> None:
        for worker in self._pool:
            if not self._queue:
                return
            if worker.job is not None or not worker.ready or worker.retiring:
                continue
            job = self._queue.popleft()
            job._state = JobState.RUNNING
            job._started = time.monotonic()
            job._message = "Starting..."
            worker.job = job
            worker.conn.send((job.id, job.task, job._payload, str(job.workdir)))
