"""RNNLAB_JOB_LOG: one JSON line per finished job, on both backends (bench/load.py reads it to
time a job's end against the moment its page shows the result)."""

from __future__ import annotations

import json
import time

from core.jobs import JobState
from core.jobs.base import log_finished
from core.jobs.local import LocalJobManager
from core.jobs.redis_backend import RedisJobManager
from tests.redis_helpers import RedisServer, Worker, wait_for_workers

TINY = {"epochs": 2, "seconds": 0.01}


def lines(path, timeout: float = 10.0) -> list[dict]:
    """The log's lines, once there are some (the line follows the job's end by moments)."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_nothing_is_written_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNLAB_JOB_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    log_finished("j1", "owner", "forecast", JobState.DONE, {"finished": 1.0})
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_log_never_fails_the_caller(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_JOB_LOG", str(tmp_path / "no-such-folder" / "jobs.jsonl"))
    log_finished("j1", "owner", "forecast", JobState.DONE, {"finished": 1.0})


def check_line(line: dict, job, owner: str, before: float, after: float) -> None:
    assert (line["id"], line["owner"], line["tag"], line["state"]) == (
        job.id, owner, "forecast", "done")
    assert before <= line["submitted"] <= line["started"] <= line["finished"] <= after


def test_the_local_pool_logs_each_finished_job(tmp_path, monkeypatch):
    path = tmp_path / "jobs.jsonl"
    monkeypatch.setenv("RNNLAB_JOB_LOG", str(path))
    manager = LocalJobManager(workers=1, warm_modules=())
    try:
        before = time.time()
        job = manager.submit("core.demo:sleep_task", TINY, owner="token-a", tag="forecast")
        assert job.wait(60).state is JobState.DONE
        [line] = lines(path)
        check_line(line, job, "token-a", before, time.time())
    finally:
        manager.shutdown()


def test_a_redis_worker_logs_each_finished_job(tmp_path, monkeypatch):
    path = tmp_path / "jobs.jsonl"
    monkeypatch.setenv("RNNLAB_JOB_LOG", str(path))  # the worker inherits it
    server = RedisServer(tmp_path).start()
    worker = Worker(server.url, tmp_path / "worker.log", "--workers", "1", "--no-warm")
    try:
        app = RedisJobManager(server.url)
        wait_for_workers(app, 1)
        before = time.time()
        job = app.submit("core.demo:sleep_task", TINY, owner="token-b", tag="forecast")
        assert job.wait(60).state is JobState.DONE
        [line] = lines(path)
        check_line(line, job, "token-b", before, time.time())
        app.shutdown()
    finally:
        worker.stop()
        server.stop()
