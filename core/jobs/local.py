"""The local backend: a bounded pool of worker processes on this machine, built on the standard
library's `concurrent.futures.ProcessPoolExecutor`.

Why worker processes: every Keras build-and-fit leaves memory behind in a long-lived process
that `clear_session()` does not free; Keras seeds and `clear_session()` are process-wide; and a
Streamlit rerun must not be able to kill or orphan a training. The app process only submits
jobs, polls snapshots and receives results.

Each worker slot is a one-process executor (`spawn` context, `max_tasks_per_child` to recycle a
worker after a few jobs, an initializer that imports TensorFlow once). One executor per slot,
rather than one for all, because a process that dies breaks its whole executor: this way a
worker killed mid-training fails its own job only, and the slot gets a fresh executor. Jobs
wait in our own queue (bounded, FIFO, with place and estimate), so a waiting job can be
cancelled and a snapshot can tell its place.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import dataclasses
import multiprocessing
import multiprocessing.context
import os
import queue
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import types
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from core.jobs.base import (
    FORCED_STOP,
    Job,
    JobContext,
    JobManager,
    JobState,
    QueueFull,
    crashed_message,
    estimate_wait,
    execute,
    log_finished,
    warm_up,
)

STOP_FILE = ".stop"  # its presence in a job's folder is the stop flag the task reads

# ---------------------------------------------------------------------------------------------
# Worker side

_progress: Any = None  # the worker's end of the progress queue, set by _init_worker


WORKER_NICENESS = 10


def _init_worker(progress, warm_modules: tuple[str, ...], threads: int, log_path: str) -> None:
    global _progress
    _progress = progress
    # The workers are the app server's children: with Linux's autogroup scheduling they share
    # the server's CPU share, and training at the same priority starved the server (15% of a
    # core with 10 sessions in bench/load.py, results minutes late). Niced, they yield to it.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    warm_up(warm_modules, threads, log_path)
    progress.put((None, "ready", {"pid": os.getpid()}))


def _run_job(job_id: str, task_path: str, payload: Any, workdir: str) -> tuple[str, dict, list]:
    """One job in a worker. Returns its outcome and every progress message it sent (the queue
    may deliver its last epochs after the outcome; the returned copy is complete)."""
    sent: list[tuple[str, dict]] = []

    def send(kind: str, data: dict) -> None:
        if kind in ("total", "epoch"):
            sent.append((kind, data))
        _progress.put((job_id, kind, data))

    stop_file = Path(workdir) / STOP_FILE
    _progress.put((job_id, "started", {"pid": os.getpid()}))
    kind, data = execute(task_path, payload, JobContext(Path(workdir), send, stop_file.exists))
    return kind, data, sent


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


class _WorkerProcess(multiprocessing.context.SpawnProcess):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A worker never outlives the app: at exit, multiprocessing ends daemonic children
        # instead of waiting for them (a training may have minutes to go).
        self.daemon = True

    def start(self) -> None:
        with _plain_main_module():
            super().start()


class _SpawnContext(multiprocessing.context.SpawnContext):
    """`spawn`, with workers (including the executor's replacements) started as above."""

    Process = _WorkerProcess


class LocalJob(Job):
    def __init__(self, manager: LocalJobManager, job_id: str, task: str, payload: Any, owner: str,
                 tag: str = "", note: Any = None):
        super().__init__(job_id, task, owner, tag)
        self._note = note
        self._manager = manager
        self.workdir = manager.root / job_id
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._payload = payload
        self._result: Any = None
        self._done = threading.Event()
        self._stop_deadline: float | None = None
        self._forced = False

    def snapshot(self):
        with self._manager._lock:
            return super().snapshot()

    def _queue_position(self) -> int:
        return self._manager._queue_position(self)

    def _estimate_wait(self, position: int) -> float | None:
        return self._manager._estimate_wait(position)

    @property
    def state(self) -> JobState:
        return self._state

    @property
    def result(self) -> Any:
        return self._result

    @property
    def note(self) -> Any:
        return self._note

    def wait(self, timeout: float | None = None):
        self._done.wait(timeout)
        return self.snapshot()

    def stop(self) -> None:
        self._manager._stop(self)

    def _finish(self, state: JobState, message: str) -> None:
        self._state = state
        self._message = message
        self._finished = time.time()
        self._payload = None
        self._done.set()


@dataclasses.dataclass
class _Slot:
    executor: concurrent.futures.ProcessPoolExecutor
    # This worker's own progress queue. A worker killed while writing to a queue (a forced stop,
    # a crash) leaves the queue's lock taken, or half a message in its pipe: shared by every
    # worker, one kill would silence the live progress of every later job.
    progress: Any
    job: LocalJob | None = None
    broken: bool = False


class LocalJobManager(JobManager):
    """A bounded pool of worker processes with a bounded FIFO queue of jobs.

    One manager serves a whole app process (the UI keeps it in `st.cache_resource`); every
    job carries the `owner` that submitted it so that a closed session's jobs can be stopped.
    """

    backend = "local"

    def __init__(
        self,
        workers: int | None = None,
        jobs_per_worker: int = 4,
        warm_modules: tuple[str, ...] = ("tensorflow", "keras"),
        root: str | Path | None = None,
        max_queued: int | None = None,
        stop_grace: float = 30.0,
    ):
        cpus = os.cpu_count() or 1
        if workers is None:
            workers = int(os.environ.get("RNNLAB_WORKERS", "0")) or min(2, cpus)
        self.workers = max(1, workers)
        self.jobs_per_worker = max(1, jobs_per_worker)
        self.max_queued = max_queued or int(os.environ.get("RNNLAB_MAX_QUEUED", "0")) or 100
        self.stop_grace = stop_grace
        self.root = Path(root or tempfile.mkdtemp(prefix="rnnlab-jobs-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self._warm_modules = tuple(warm_modules)
        self._threads = max(1, cpus // self.workers)
        self._context = _SpawnContext()
        self._live_queues: set[int] = set()
        self._lock = threading.RLock()
        self._queue: collections.deque[LocalJob] = collections.deque()
        self._jobs: dict[str, LocalJob] = {}
        self._durations: collections.deque[float] = collections.deque(maxlen=20)
        self._ready_pids: set[int] = set()
        self._closed = False
        self._wakeup = threading.Event()
        self._threads_running: list[threading.Thread] = []
        self._slots = [_Slot(*self._new_executor()) for _ in range(self.workers)]
        dispatcher = threading.Thread(target=self._dispatch_loop, name="rnnlab-jobs", daemon=True)
        dispatcher.start()
        self._threads_running.append(dispatcher)
        # At interpreter exit, concurrent.futures joins its executors, which would wait for the
        # running jobs to end: stop them first (this hook runs before that one).
        register = getattr(threading, "_register_atexit", None)
        with contextlib.suppress(RuntimeError):
            (register or atexit.register)(self._shutdown_at_exit)

    # -- public API

    def submit(self, task: str, payload: Any, owner: str = "", *, first: bool = False,
               tag: str = "", note: Any = None) -> LocalJob:
        self._check_task(task)
        with self._lock:
            if self._closed:
                raise RuntimeError("the job manager is shut down")
            if len(self._queue) >= self.max_queued:
                raise QueueFull(self._full_message(self.max_queued))
            job = LocalJob(self, f"j{secrets.token_hex(8)}", task, payload, owner, tag, note)
            self._jobs[job.id] = job
            if first:
                self._queue.appendleft(job)
            else:
                self._queue.append(job)
        self._wakeup.set()
        return job

    def get(self, job_id: str) -> LocalJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self, owner: str | None = None) -> list[LocalJob]:
        with self._lock:
            return [job for job in self._jobs.values() if owner is None or job.owner == owner]

    def discard(self, job: Job) -> None:
        self._stop(job)
        with self._lock:
            self._jobs.pop(job.id, None)
        if job.state.finished:
            shutil.rmtree(job.workdir, ignore_errors=True)

    @property
    def warming_up(self) -> bool:
        with self._lock:
            return not self._ready_pids

    def worker_count(self) -> int:
        return self.workers

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [pid for slot in self._slots for pid in _processes(slot.executor)]

    def shutdown(self, wait: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            for job in list(self._queue):
                job._finish(JobState.CANCELLED, "The server is shutting down.")
            self._queue.clear()
            for slot in self._slots:
                if slot.job is not None:
                    (slot.job.workdir / STOP_FILE).touch()
            slots = list(self._slots)
        self._wakeup.set()
        processes = []
        for slot in slots:
            processes += list(_process_objects(slot.executor))
            slot.executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + wait
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1)
        with self._lock:
            self._live_queues.clear()
        for thread in self._threads_running:
            thread.join(2)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- internals

    def _shutdown_at_exit(self) -> None:
        if not self._closed:
            self.shutdown(wait=2.0)

    def _new_executor(self) -> tuple[concurrent.futures.ProcessPoolExecutor, Any]:
        """A one-process executor and its own progress queue, with a thread reading it."""
        progress = self._context.Queue()
        self._live_queues.add(id(progress))
        reader = threading.Thread(target=self._read_progress, args=(progress,),
                                  name="rnnlab-progress", daemon=True)
        reader.start()
        self._threads_running.append(reader)
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context,
            initializer=_init_worker,
            initargs=(
                progress,
                self._warm_modules,
                self._threads,
                str(self.root / "workers.log"),
            ),
            max_tasks_per_child=self.jobs_per_worker,
        )
        # Spawn executors start their process at the first submit; start it now instead, so that
        # TensorFlow is loaded before the first Train click. (Replacements after a recycle are
        # started by the executor itself as soon as the old process exits.)
        with executor._shutdown_lock:
            executor._adjust_process_count()
        return executor, progress

    def _queue_position(self, job: LocalJob) -> int:
        if job._state is not JobState.QUEUED:
            return 0
        try:
            return self._queue.index(job) + 1
        except ValueError:
            return 0

    def _estimate_wait(self, position: int) -> float | None:
        now = time.time()
        running = [now - s.job._started for s in self._slots if s.job and s.job._started]
        return estimate_wait(position, self.workers, list(self._durations), running)

    def _stop(self, job: Job) -> None:
        with self._lock:
            if job.state.finished:
                return
            job._stop_requested = True
            if job._state is JobState.QUEUED:
                if job in self._queue:
                    self._queue.remove(job)
                job._finish(JobState.CANCELLED, "Stopped before it started.")
                return
            (job.workdir / STOP_FILE).touch()
            job._stop_deadline = time.monotonic() + self.stop_grace
            job._message = "Stopping: keeping the best model so far..."

    def _read_progress(self, progress: Any) -> None:
        """Apply one worker's messages until its slot gets a new worker or the manager closes."""
        while id(progress) in self._live_queues:
            try:
                item = progress.get(timeout=0.5)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            job_id, kind, data = item
            with self._lock:
                if kind == "ready":
                    self._ready_pids.add(data["pid"])
                    continue
                job = self._jobs.get(job_id)
                if job is None or job.state.finished:
                    continue
                if kind == "started":
                    job.worker_pid = data["pid"]
                else:
                    job._update(kind, data)

    def _dispatch_loop(self) -> None:
        while True:
            self._wakeup.wait(0.2)
            self._wakeup.clear()
            with self._lock:
                if self._closed:
                    return
                for slot in self._slots:
                    if slot.broken:
                        slot.executor.shutdown(wait=False, cancel_futures=True)
                        self._live_queues.discard(id(slot.progress))
                        self._threads_running = [
                            thread for thread in self._threads_running if thread.is_alive()]
                        slot.executor, slot.progress = self._new_executor()
                        slot.broken = False
                    self._force_stop_if_late(slot)
                    if slot.job is None and self._queue:
                        self._start(slot, self._queue.popleft())

    def _start(self, slot: _Slot, job: LocalJob) -> None:
        job._state = JobState.RUNNING
        job._started = time.time()
        job._message = "Starting..."
        slot.job = job
        future = slot.executor.submit(_run_job, job.id, job.task, job._payload, str(job.workdir))
        future.add_done_callback(lambda future: self._on_done(slot, job, future))

    def _force_stop_if_late(self, slot: _Slot) -> None:
        job = slot.job
        if job is None or job._stop_deadline is None or job._forced or job.worker_pid is None:
            return
        if time.monotonic() >= job._stop_deadline:
            job._forced = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(job.worker_pid, signal.SIGKILL)

    def _on_done(self, slot: _Slot, job: LocalJob, future: concurrent.futures.Future) -> None:
        with self._lock:
            try:
                kind, data, sent = future.result()
            except BrokenProcessPool:
                slot.broken = True
                if job._forced:
                    kind, data, sent = "cancelled", {"message": FORCED_STOP.format(
                        grace=self.stop_grace)}, None
                else:
                    kind, data, sent = "failed", {"message": crashed_message()}, None
            except concurrent.futures.CancelledError:
                kind, data, sent = "cancelled", {"message": "The server is shutting down."}, None
            except Exception as error:  # noqa: BLE001 - e.g. a result that does not pickle
                kind, data, sent = "failed", {"message": (
                    f"Training finished but its result could not be returned ({error}). "
                    "Report it with the settings JSON.")}, None
            if sent is not None:
                # The complete progress, whatever the queue has delivered so far.
                job._logs = []
                for message_kind, message in sent:
                    job._update(message_kind, message)
            if kind == "done":
                job._result = data["result"]
                stopped = data.get("stopped") or job._stop_requested
                job._finish(JobState.STOPPED if stopped else JobState.DONE, "Finished.")
            elif kind == "cancelled":
                job._finish(JobState.CANCELLED, data["message"] or "Stopped before it started.")
            else:
                job.error_details = data.get("traceback")
                job._finish(JobState.FAILED, data["message"])
            if job._started is not None:
                self._durations.append(time.time() - job._started)
            log_finished(job.id, job.owner, job.tag, job._state, {
                "submitted": job._submitted, "started": job._started, "finished": job._finished})
            if slot.job is job:
                slot.job = None
        self._wakeup.set()


def _process_objects(executor: concurrent.futures.ProcessPoolExecutor) -> list:
    return list((getattr(executor, "_processes", None) or {}).values())


def _processes(executor: concurrent.futures.ProcessPoolExecutor) -> list[int]:
    return [p.pid for p in _process_objects(executor) if p.pid is not None]


