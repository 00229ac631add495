"""Shared fixtures: one job manager per test session (workers are slow to start).

The suite runs in two pytest-xdist workers (`-n 2` in pyproject.toml), each its own test session
with its own job manager. Each session also gets its own job folder (RNNLAB_JOBS_DIR, inherited by
the app servers and `python -m core worker` processes it starts), and under xdist TensorFlow in
each worker gets its share of the cores rather than one thread per core each.
"""

import os
import shutil
import tempfile

import pytest

from core.jobs import JobManager

_OWN_JOBS_DIR = None


def pytest_configure(config):
    global _OWN_JOBS_DIR
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # xdist's controller runs no test; its workers inherit its environment, so it sets nothing.
    controller = worker is None and getattr(config.option, "tx", None)
    if not controller and not os.environ.get("RNNLAB_JOBS_DIR"):
        _OWN_JOBS_DIR = tempfile.mkdtemp(prefix=f"rnnlab-test-jobs-{worker or 'main'}-")
        os.environ["RNNLAB_JOBS_DIR"] = _OWN_JOBS_DIR
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:  # read by TensorFlow when it is first imported, here or in a subprocess
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", threads)
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", threads)


def pytest_unconfigure(config):
    if _OWN_JOBS_DIR:
        shutil.rmtree(_OWN_JOBS_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def job_manager():
    manager = JobManager(workers=2, jobs_per_worker=3)
    yield manager
    manager.shutdown()
