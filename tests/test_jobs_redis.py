"""The Redis + RQ backend's own faults: the app restarted mid-job, Redis restarted, bad URLs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from core.errors import ConfigError
from core.jobs import JobManager, JobState, QueueUnavailable
from core.jobs.redis_backend import RedisJobManager, safe_url
from tests.redis_helpers import ROOT, RedisServer, Worker, wait_for_workers


@pytest.fixture
def server(tmp_path):
    server = RedisServer(tmp_path).start()
    worker = Worker(server.url, tmp_path / "worker.log", "--workers", "1", "--no-warm")
    yield server
    worker.stop()
    server.stop()


def test_a_job_goes_on_and_its_result_is_read_after_the_app_restarts(server):
    app = RedisJobManager(server.url)
    wait_for_workers(app, 1)
    job = app.submit("core.demo:sleep_task", {"epochs": 30, "seconds": 0.05}, owner="token-a",
                     tag="forecast", note={"series": "sales.csv"})
    app.shutdown()  # the app process goes away mid-job

    restarted = JobManager(redis_url=server.url)  # a new app process, same Redis
    assert isinstance(restarted, RedisJobManager)
    [found] = restarted.jobs("token-a")
    assert (found.id, found.tag, found.note) == (job.id, "forecast", {"series": "sales.csv"})
    snapshot = found.wait(60)
    assert snapshot.state is JobState.DONE
    assert [log["epoch"] for log in snapshot.logs] == list(range(1, 31))
    assert found.result["pid"] > 0
    assert restarted.jobs("token-b") == []  # another session's token finds nothing


def test_a_job_cancelled_in_the_queue_leaves_nothing_for_a_worker(server):
    app = RedisJobManager(server.url)
    wait_for_workers(app, 1)
    busy = app.submit("core.demo:sleep_task", {"epochs": 1000, "seconds": 0.02})
    while busy.snapshot().state is JobState.QUEUED:
        time.sleep(0.05)
    waiting = app.submit("core.demo:sleep_task", {"epochs": 1}, owner="token-c")
    assert waiting.snapshot().queue_position == 1
    waiting.stop()
    busy.stop()
    assert waiting.snapshot().state is JobState.CANCELLED
    assert not app._redis.exists(f"rq:job:{waiting.id}")  # RQ's copy of the payload is gone
    assert busy.wait(30).state is JobState.STOPPED
    assert waiting.snapshot().state is JobState.CANCELLED  # no worker ran it after all


def test_redis_down_says_the_queue_is_unavailable_and_recovers_when_it_is_back(server):
    app = RedisJobManager(server.url)
    wait_for_workers(app, 1)
    before = app.submit("core.demo:sleep_task", {"epochs": 1})
    assert before.wait(60).state is JobState.DONE
    server.stop()
    with pytest.raises(QueueUnavailable, match="cannot be reached") as error:
        app.submit("core.demo:sleep_task", {"epochs": 1})
    assert "test-password" not in str(error.value)  # the password never shows
    with pytest.raises(QueueUnavailable):
        app.worker_count()
    server.start()
    deadline = time.monotonic() + 60
    while True:  # the worker reconnects by itself
        try:
            if app.worker_count() >= 1:
                break
        except QueueUnavailable:
            pass
        assert time.monotonic() < deadline, "the worker did not come back"
        time.sleep(0.2)
    after = app.submit("core.demo:sleep_task", {"epochs": 2})
    assert after.wait(60).state is JobState.DONE


def test_a_job_runs_over_tls_with_a_password(tmp_path):
    server = RedisServer(tmp_path, tls=True).start()
    worker = Worker(server.url, tmp_path / "worker.log", "--workers", "1", "--no-warm")
    try:
        assert server.url.startswith("rediss://:test-password@")
        app = RedisJobManager(server.url)
        wait_for_workers(app, 1)
        job = app.submit("core.demo:files_task", {"text": "over TLS"})
        assert job.wait(60).state is JobState.DONE
        assert open(job.result["model_path"]).read() == "over TLS"
    finally:
        worker.stop()
        server.stop()


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", ""])
def test_a_url_that_is_not_redis_says_what_one_looks_like(url):
    with pytest.raises(ConfigError, match="redis://HOST:6379/0"):
        RedisJobManager(url)


def test_passwords_are_hidden_in_messages():
    assert safe_url("rediss://:s3cret@host:6380/0") == "rediss://:***@host:6380/0"
    assert safe_url("redis://host:6379/0") == "redis://host:6379/0"


def test_the_worker_command_rejects_a_bad_url_in_one_line():
    done = subprocess.run([sys.executable, "-m", "core", "worker", "--redis", "http://x"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "redis://" in done.stderr


def test_the_worker_command_says_when_redis_cannot_be_reached(tmp_path):
    url = RedisServer(tmp_path).url  # never started
    done = subprocess.run([sys.executable, "-m", "core", "worker", "--redis", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot be reached" in done.stderr and "test-password" not in done.stderr
