"""Shared fixtures: one job manager per test session (workers are slow to start)."""

import pytest

from core.jobs import JobManager


@pytest.fixture(scope="session")
def job_manager():
    manager = JobManager(workers=2, jobs_per_worker=3)
    yield manager
    manager.shutdown()
