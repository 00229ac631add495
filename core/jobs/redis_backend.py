"""The Redis + RQ backend: jobs on an RQ queue in Redis, run by `python -m core worker` anywhere.

What lives in Redis, per job (all with an expiry, `ttl`, one day by default):

    rnnlab:job:<id>            hash: task, owner, state, epochs, message, times, worker pid/host
    rnnlab:job:<id>:progress   stream: one entry per `set_total` / finished epoch (the logs)
    rnnlab:job:<id>:stop       the Stop flag the training callback reads (set by the app)
    rnnlab:job:<id>:result     the pickled result
    rnnlab:job:<id>:files      the job's folder (saved model...), as a .tar.gz
    rnnlab:owner:<token>       the ids of one session's jobs: a reloaded page finds them again

plus the RQ queue `rnnlab` (the jobs waiting, in order) and `rnnlab:workers:<host>:<pid>`, one
short-lived key per running `python -m core worker` saying how many trainers it runs.

A worker (`serve`) is a small supervisor: it keeps `workers` trainer processes, each importing
TensorFlow once and running up to `jobs_per_worker` jobs with RQ's `SimpleWorker` before it is
replaced. The supervisor notices a trainer that died (its job fails with a plain message and a
new trainer takes its place) and ends one that ignores a Stop for longer than `stop_grace`.

Results are pickled: Redis must be trusted (a password, and TLS off a single machine; README).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import secrets
import shutil
import signal
import socket
import sys
import tarfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import ConfigError
from core.jobs.base import (
    FORCED_STOP,
    Job,
    JobContext,
    JobManager,
    JobState,
    QueueFull,
    QueueUnavailable,
    crashed_message,
    estimate_wait,
    execute,
    jobs_root,
    log_finished,
    warm_up,
)

QUEUE_NAME = "rnnlab"
PREFIX = "rnnlab:"
DEFAULT_TTL = 24 * 3600
HEARTBEAT_SECONDS = 2.0
STALE_AFTER_SECONDS = 30.0  # a running job whose worker has not been heard of for this long died
MAX_FILES_BYTES = 200 * 2**20


def _job_key(job_id: str) -> str:
    return f"{PREFIX}job:{job_id}"


def _owner_key(owner: str) -> str:
    return f"{PREFIX}owner:{owner}"


_RUNNING = f"{PREFIX}running"
_DURATIONS = f"{PREFIX}durations"
_WORKERS = f"{PREFIX}workers:"


def check_url(url: str) -> str:
    """The Redis URL, or a ConfigError saying what a valid one looks like."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
        raise ConfigError(
            f"The Redis address {safe_url(url)!r} is not a Redis URL. Expected "
            "redis://HOST:6379/0, redis://:PASSWORD@HOST:6379/0 or (with TLS) "
            "rediss://:PASSWORD@HOST:6380/0. Set RNNLAB_REDIS_URL or --redis to one of these."
        )
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    parts = urlsplit(url or "")
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def connect(url: str):
    import redis

    return redis.Redis.from_url(
        check_url(url), socket_connect_timeout=3, socket_timeout=10, health_check_interval=15
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else ("" if value is None else str(value))


# ---------------------------------------------------------------------------------------------
# Worker side: what RQ runs, in a trainer process

_current_job: Any = None  # shared with the supervisor: the id of the job this trainer runs


def run_job(job_id: str, task: str, payload: Any, ttl: int = DEFAULT_TTL) -> None:
    """Run one RNN Lab job inside an RQ worker; its outcome goes to Redis, never raises."""
    import rq

    connection = rq.get_current_job().connection
    key = _job_key(job_id)
    # A Stop before the start claims the job first; then there is nothing to run.
    if not connection.hsetnx(key, "claimed", "worker"):
        return
    now = time.time()
    connection.hset(key, mapping={
        "state": JobState.RUNNING.value, "started": now, "heartbeat": now,
        "pid": os.getpid(), "host": socket.gethostname(), "message": "Starting...",
    })
    connection.sadd(_RUNNING, job_id)
    if _current_job is not None:
        _current_job.value = job_id.encode()
    workdir = jobs_root() / job_id
    workdir.mkdir(parents=True, exist_ok=True)
    epochs = [0, 0]  # planned, finished

    def send(kind: str, data: dict) -> None:
        if kind == "total":
            epochs[0] = data["epochs"]
            connection.hset(key, "epochs", epochs[0])
        elif kind == "epoch":
            epochs[1] += 1
            connection.hset(key, "message", f"Epoch {epochs[1]} of {epochs[0] or '?'}")
        else:
            connection.hset(key, "message", data["message"])
            return
        connection.xadd(f"{key}:progress", {"kind": kind, "data": json.dumps(data)})

    stop_seen = [False, 0.0]

    def should_stop() -> bool:
        # Read at most five times a second: the callback asks after every batch.
        if not stop_seen[0] and time.monotonic() - stop_seen[1] > 0.2:
            stop_seen[1] = time.monotonic()
            stop_seen[0] = bool(connection.exists(f"{key}:stop"))
        return stop_seen[0]

    kind, data = execute(task, payload, JobContext(workdir, send, should_stop))
    try:
        _store_outcome(connection, job_id, kind, data, workdir, ttl)
    finally:
        if _current_job is not None:
            _current_job.value = b""
        shutil.rmtree(workdir, ignore_errors=True)


def _store_outcome(connection, job_id: str, kind: str, data: dict, workdir: Path, ttl: int) -> None:
    key = _job_key(job_id)
    fields: dict[str, Any] = {"finished": time.time()}
    if kind == "done":
        try:
            blob = pickle.dumps(data["result"])
        except Exception as error:  # noqa: BLE001 - a result that does not pickle is our bug
            kind, data = "failed", {"message": (
                f"Training finished but its result could not be stored ({error}). "
                "Report it with the settings JSON.")}
        else:
            connection.set(f"{key}:result", blob, ex=ttl)
            files = _pack(workdir)
            if files is not None:
                connection.set(f"{key}:files", files, ex=ttl)
            stopped = data.get("stopped")
            fields["state"] = (JobState.STOPPED if stopped else JobState.DONE).value
            fields["message"] = "Finished."
    if kind == "cancelled":
        fields["state"] = JobState.CANCELLED.value
        fields["message"] = data.get("message") or "Stopped before it started."
    elif kind == "failed":
        fields["state"] = JobState.FAILED.value
        fields["message"] = data["message"]
        if data.get("traceback"):
            fields["error_details"] = data["traceback"]
    pipe = connection.pipeline()
    pipe.hset(key, mapping=fields)
    for suffix in ("", ":progress", ":stop"):
        pipe.expire(key + suffix, ttl)
    pipe.srem(_RUNNING, job_id)
    started = connection.hget(key, "started")
    if started:
        pipe.lpush(_DURATIONS, fields["finished"] - float(started))
        pipe.ltrim(_DURATIONS, 0, 19)
    pipe.execute()
    if os.environ.get("RNNLAB_JOB_LOG"):
        known = {_text(k): _text(v) for k, v in connection.hgetall(key).items()}
        log_finished(job_id, known.get("owner", ""), known.get("tag", ""),
                     JobState(fields["state"]), {
                         "submitted": float(known.get("submitted") or 0),
                         "started": float(started) if started else None,
                         "finished": fields["finished"]})


def _pack(workdir: Path) -> bytes | None:
    """The job's folder as a .tar.gz (None when it is empty or too big to keep in Redis)."""
    if not workdir.exists() or not any(workdir.iterdir()):
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(workdir.iterdir()):
            archive.add(path, arcname=path.name)
    blob = buffer.getvalue()
    return blob if len(blob) <= MAX_FILES_BYTES else None


def _unpack(blob: bytes, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as archive:
        archive.extractall(workdir, filter="data")


def _trainer_main(url: str, jobs_per_worker: int, warm: tuple[str, ...], threads: int,
                  current, log_path: str | None) -> None:
    """One trainer process: TensorFlow imported once, then up to `jobs_per_worker` jobs."""
    global _current_job
    _current_job = current
    warm_up(warm, threads, log_path)
    import logging

    import rq

    logging.basicConfig(level=logging.WARNING)
    worker = rq.SimpleWorker([QUEUE_NAME], connection=connect(url))
    worker.work(max_jobs=jobs_per_worker, logging_level="WARNING")


# ---------------------------------------------------------------------------------------------
# The supervisor: `python -m core worker --redis URL`


class _Trainer:
    def __init__(self, context, args: tuple):
        self.current = context.Array("c", 64)
        self.process = context.Process(
            target=_trainer_main, args=(*args[:4], self.current, args[4]),
            name="rnnlab-trainer", daemon=True,
        )
        self.process.start()
        self.started = time.monotonic()
        self.stop_seen: dict[str, float] = {}
        self.forced = False

    @property
    def job_id(self) -> str:
        return self.current.value.decode()


def serve(
    url: str,
    workers: int = 2,
    jobs_per_worker: int = 4,
    warm: tuple[str, ...] = ("tensorflow", "keras"),
    stop_grace: float = 30.0,
    log_path: str | None = None,
    say=print,
) -> None:
    """Run `workers` trainers on the RQ queue until SIGTERM/SIGINT; replace the ones that end."""
    import redis

    from core.jobs.local import _SpawnContext

    connection = connect(url)
    context = _SpawnContext()
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    args = (url, jobs_per_worker, tuple(warm), threads, log_path)
    trainers = [_Trainer(context, args) for _ in range(max(1, workers))]
    me = f"{_WORKERS}{socket.gethostname()}:{os.getpid()}"
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    say(f"worker: {len(trainers)} trainers on {safe_url(url)} (queue {QUEUE_NAME!r}); "
        "Ctrl+C to stop")
    unreachable_since = None
    while not stopping:
        try:
            connection.set(me, len(trainers), ex=10)
            for index, trainer in enumerate(trainers):
                trainers[index] = _look_after(connection, context, args, trainer, stop_grace)
            if unreachable_since is not None:
                say("worker: Redis is reachable again")
                unreachable_since = None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            if unreachable_since is None:
                unreachable_since = time.monotonic()
                say(f"worker: cannot reach Redis at {safe_url(url)}; retrying")
        time.sleep(0.5)
    say("worker: stopping (the trainers finish their current epoch's batch first)")
    for trainer in trainers:
        if trainer.process.is_alive():
            trainer.process.kill()
    with contextlib.suppress(Exception):
        connection.delete(me)


def _look_after(connection, context, args: tuple, trainer: _Trainer, stop_grace: float) -> _Trainer:
    """Heartbeat of the trainer's job; a dead trainer's job fails and a new trainer starts."""
    job_id = trainer.job_id
    if not trainer.process.is_alive():
        if job_id:
            key = _job_key(job_id)
            state = _text(connection.hget(key, "state"))
            if state == JobState.RUNNING.value:
                if trainer.forced:
                    fields = {"state": JobState.CANCELLED.value,
                              "message": FORCED_STOP.format(grace=stop_grace)}
                else:
                    fields = {"state": JobState.FAILED.value,
                              "message": crashed_message(trainer.process.exitcode)}
                connection.hset(key, mapping={**fields, "finished": time.time()})
                connection.srem(_RUNNING, job_id)
        if time.monotonic() - trainer.started < 5:
            time.sleep(1.0)  # a trainer that cannot even start: do not spin
        return _Trainer(context, args)
    if job_id:
        key = _job_key(job_id)
        connection.hset(key, "heartbeat", time.time())
        if connection.exists(f"{key}:stop"):
            first_seen = trainer.stop_seen.setdefault(job_id, time.monotonic())
            if time.monotonic() - first_seen > stop_grace and not trainer.forced:
                trainer.forced = True
                trainer.process.kill()
    return trainer


# ---------------------------------------------------------------------------------------------
# App side


@contextlib.contextmanager
def _reachable(url: str):
    import redis

    try:
        yield
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
        raise QueueUnavailable(
            f"The training queue (Redis at {safe_url(url)}) cannot be reached right now. Jobs "
            "already queued are kept; wait a moment and try again. If this lasts, whoever runs "
            "the server should check that redis-server is running."
        ) from error


class RedisJob(Job):
    def __init__(self, manager: RedisJobManager, job_id: str, task: str = "", owner: str = "",
                 tag: str = ""):
        super().__init__(job_id, task, owner, tag)
        self._note: Any = None
        self._note_loaded = False
        self._manager = manager
        self._last_entry = "-"
        self._refreshed = 0.0
        self._result: Any = None
        self._result_loaded = False
        self.worker_pid: int | None = None
        self.worker_host = ""

    def _refresh(self, force: bool = False) -> None:
        if self._state.finished and self._result_loaded:
            return
        if not force and time.monotonic() - self._refreshed < 0.1:
            return
        connection = self._manager._redis
        key = _job_key(self.id)
        with _reachable(self._manager.url):
            pipe = connection.pipeline()
            pipe.hgetall(key)
            start = "-" if self._last_entry == "-" else f"({self._last_entry}"
            pipe.xrange(f"{key}:progress", min=start)
            fields, entries = pipe.execute()
        self._refreshed = time.monotonic()
        fields = {_text(k): _text(v) for k, v in fields.items()}
        if not fields:
            if not self._state.finished:
                self._state = JobState.FAILED
                self._message = (
                    "This job is no longer on the server: results are kept for "
                    f"{self._manager.ttl // 3600} hours, and a Redis restarted without "
                    "persistence forgets them. Train again to see it."
                )
            return
        for entry_id, entry in entries:
            self._last_entry = _text(entry_id)
            data = json.loads(_text(entry[b"data"]))
            if _text(entry[b"kind"]) == "epoch":
                self._logs.append(data)
            else:
                self._epochs = data["epochs"]
        self.task = fields.get("task", self.task)
        self.owner = fields.get("owner", self.owner)
        self.tag = fields.get("tag", self.tag)
        self._state = JobState(fields.get("state", "queued"))
        self._epochs = int(fields.get("epochs") or self._epochs)
        self._message = fields.get("message", self._message)
        self._submitted = float(fields.get("submitted") or self._submitted)
        self._started = float(fields["started"]) if fields.get("started") else None
        self._finished = float(fields["finished"]) if fields.get("finished") else None
        self.error_details = fields.get("error_details") or None
        self.worker_pid = int(fields["pid"]) if fields.get("pid") else None
        self.worker_host = fields.get("host", "")
        self._stop_requested = fields.get("stop") == "1"
        heartbeat = float(fields.get("heartbeat") or 0)
        if self._state is JobState.RUNNING and time.time() - heartbeat > STALE_AFTER_SECONDS:
            # The whole worker machine went away: nobody else will end this job.
            self._state = JobState.FAILED
            self._message = crashed_message()
            with _reachable(self._manager.url):
                connection.hset(key, mapping={"state": self._state.value,
                                              "message": self._message,
                                              "finished": time.time()})

    def _queue_position(self) -> int:
        with _reachable(self._manager.url):
            index = self._manager._redis.lpos(self._manager._queue.key, self.id)
        return 0 if index is None else index + 1

    def _estimate_wait(self, position: int) -> float | None:
        return self._manager._estimate_wait(position)

    @property
    def state(self) -> JobState:
        """The last state known; when Redis cannot be reached, the one read before (the pages
        ask often; `snapshot()` is the call that says the queue is unavailable)."""
        with contextlib.suppress(QueueUnavailable):
            self._refresh()
        return self._state

    @property
    def result(self) -> Any:
        """The result once finished (None before, or while Redis cannot be reached)."""
        if self._result_loaded:
            return self._result
        if self.state not in (JobState.DONE, JobState.STOPPED):
            return None
        key = _job_key(self.id)
        try:
            with _reachable(self._manager.url):
                blob, files = self._manager._redis.mget(f"{key}:result", f"{key}:files")
        except QueueUnavailable:
            return None
        if blob is None:
            return None
        if files is not None and not (self.workdir.exists() and any(self.workdir.iterdir())):
            _unpack(files, self.workdir)
        self._result = pickle.loads(blob)
        self._result_loaded = True
        return self._result

    @property
    def note(self) -> Any:
        if not self._note_loaded:
            try:
                with _reachable(self._manager.url):
                    blob = self._manager._redis.get(f"{_job_key(self.id)}:note")
            except QueueUnavailable:
                return None
            self._note = pickle.loads(blob) if blob is not None else None
            self._note_loaded = True
        return self._note

    def stop(self) -> None:
        connection = self._manager._redis
        key = _job_key(self.id)
        with _reachable(self._manager.url):
            if connection.hsetnx(key, "claimed", "stop"):
                # It had not started: take it off the queue (and drop RQ's copy of the payload).
                self._manager._queue.remove(self.id)
                connection.delete(f"rq:job:{self.id}")
                connection.hset(key, mapping={"state": JobState.CANCELLED.value,
                                              "message": "Stopped before it started.",
                                              "finished": time.time(), "stop": "1"})
            else:
                connection.set(f"{key}:stop", time.time(), ex=self._manager.ttl)
                connection.hset(key, mapping={"stop": "1"})
                if _text(connection.hget(key, "state")) == JobState.RUNNING.value:
                    connection.hset(key, "message", "Stopping: keeping the best model so far...")
        self._refresh(force=True)


class RedisJobManager(JobManager):
    """Jobs on an RQ queue in Redis. Several app processes may share one Redis; the jobs outlive
    any of them (a reloaded page finds its jobs by the session's token, the `owner`)."""

    backend = "redis"

    def __init__(
        self,
        redis_url: str | None = None,
        max_queued: int | None = None,
        ttl: int = DEFAULT_TTL,
        job_timeout: int = 6 * 3600,
        **_ignored: Any,  # the local backend's settings (workers=...), meaningless here
    ):
        import rq

        self.url = check_url(redis_url or os.environ.get("RNNLAB_REDIS_URL", ""))
        self.max_queued = max_queued or int(os.environ.get("RNNLAB_MAX_QUEUED", "0")) or 100
        self.ttl = int(ttl)
        self.job_timeout = int(job_timeout)
        self._redis = connect(self.url)
        self._queue = rq.Queue(QUEUE_NAME, connection=self._redis)
        self._handles: dict[str, RedisJob] = {}

    def submit(self, task: str, payload: Any, owner: str = "", *, first: bool = False,
               tag: str = "", note: Any = None) -> RedisJob:
        self._check_task(task)
        job_id = f"j{secrets.token_hex(8)}"
        key = _job_key(job_id)
        with _reachable(self.url):
            if self._queue.count >= self.max_queued:
                raise QueueFull(self._full_message(self.max_queued))
            pipe = self._redis.pipeline()
            pipe.hset(key, mapping={
                "task": task, "owner": owner, "tag": tag, "state": JobState.QUEUED.value,
                "submitted": time.time(), "message": "Waiting for a free worker...",
            })
            pipe.expire(key, self.ttl)
            if note is not None:
                pipe.set(f"{key}:note", pickle.dumps(note), ex=self.ttl)
            if owner:
                pipe.sadd(_owner_key(owner), job_id)
                pipe.expire(_owner_key(owner), self.ttl)
            pipe.execute()
            self._queue.enqueue(
                "core.jobs.redis_backend.run_job", job_id, task, payload, self.ttl,
                job_id=job_id, job_timeout=self.job_timeout, result_ttl=0,
                failure_ttl=self.ttl, at_front=first, description=f"RNN Lab {task}",
            )
        job = RedisJob(self, job_id, task, owner, tag)
        job._note, job._note_loaded = note, True
        self._handles[job_id] = job
        return job

    def get(self, job_id: str) -> RedisJob | None:
        if job_id in self._handles:
            return self._handles[job_id]
        with _reachable(self.url):
            if not self._redis.exists(_job_key(job_id)):
                return None
        job = RedisJob(self, job_id)
        job._refresh(force=True)
        self._handles[job_id] = job
        return job

    def jobs(self, owner: str | None = None) -> list[RedisJob]:
        """The jobs of `owner` (found in Redis, whichever app process submitted them), oldest
        first; without an owner, the jobs this manager has handled."""
        if owner is None:
            return list(self._handles.values())
        with _reachable(self.url):
            ids = sorted(_text(i) for i in self._redis.smembers(_owner_key(owner)))
        found = [job for job in (self.get(i) for i in ids) if job is not None]
        return sorted((j for j in found if j.owner == owner), key=lambda j: j._submitted)

    def discard(self, job: Job) -> None:
        if not job.state.finished:
            job.stop()
        key = _job_key(job.id)
        with _reachable(self.url):
            self._redis.delete(
                key, *(key + s for s in (":progress", ":stop", ":result", ":files", ":note"))
            )
            if job.owner:
                self._redis.srem(_owner_key(job.owner), job.id)
        self._handles.pop(job.id, None)
        shutil.rmtree(job.workdir, ignore_errors=True)

    def reap(self, owner_alive) -> int:
        """Nothing: on Redis a job outlives its page (the reloaded page finds it again); its
        keys expire after `ttl` seconds."""
        return 0

    def worker_count(self) -> int:
        with _reachable(self.url):
            keys = list(self._redis.scan_iter(f"{_WORKERS}*", count=100))
            counts = self._redis.mget(keys) if keys else []
        return sum(int(_text(c) or 0) for c in counts)

    def ping(self) -> None:
        """Raises QueueUnavailable when Redis cannot be reached."""
        with _reachable(self.url):
            self._redis.ping()

    def _estimate_wait(self, position: int) -> float | None:
        with _reachable(self.url):
            durations = [float(d) for d in self._redis.lrange(_DURATIONS, 0, -1)]
            running = [_text(i) for i in self._redis.smembers(_RUNNING)]
            starts = self._redis.hmget  # one call per running job: there are few
            now = time.time()
            elapsed = []
            for job_id in running:
                started = starts(_job_key(job_id), "started")[0]
                if started:
                    elapsed.append(now - float(started))
        return estimate_wait(position, max(self.worker_count(), 1), durations, elapsed)

    def shutdown(self, wait: float = 5.0) -> None:
        """Close this app's connection; the jobs go on in the workers."""
        self._redis.close()


# ---------------------------------------------------------------------------------------------
# Command line


def add_worker_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="train jobs from a Redis queue (the app's Redis + RQ backend)",
        description="Run trainers that take RNN Lab's jobs from a Redis queue. Start as many as "
        "you like, on any machine that reaches the Redis server.",
    )
    parser.add_argument("--redis", default=os.environ.get("RNNLAB_REDIS_URL", ""),
                        metavar="URL", help="redis://[:PASSWORD@]HOST:6379/0 or rediss://... "
                        "(default: $RNNLAB_REDIS_URL)")
    parser.add_argument("--workers", type=int, default=2,
                        help="trainer processes to run (default 2: one per core)")
    parser.add_argument("--jobs-per-worker", type=int, default=4,
                        help="jobs a trainer runs before a fresh one replaces it (default 4)")
    parser.add_argument("--stop-grace", type=float, default=30.0,
                        help="seconds a stopped job may take to end before its trainer is "
                        "ended by force (default 30)")
    parser.add_argument("--no-warm", action="store_true",
                        help="do not import TensorFlow at start (tests with tiny tasks)")
    parser.set_defaults(run=_run_worker_command)


def _run_worker_command(args) -> int:
    if not args.redis:
        raise ConfigError(
            "No Redis server given. Pass --redis redis://HOST:6379/0 or set RNNLAB_REDIS_URL."
        )
    if args.workers < 1 or args.jobs_per_worker < 1:
        raise ConfigError(
            f"--workers and --jobs-per-worker must be 1 or more; received {args.workers} and "
            f"{args.jobs_per_worker}."
        )
    connection = connect(args.redis)
    with _reachable(args.redis):
        connection.ping()
    connection.close()
    log_path = str(jobs_root() / "workers.log")
    jobs_root().mkdir(parents=True, exist_ok=True)
    serve(args.redis, args.workers, args.jobs_per_worker,
          () if args.no_warm else ("tensorflow", "keras"), args.stop_grace, log_path,
          say=lambda line: print(line, file=sys.stdout, flush=True))
    return 0
