"""Helpers shared by the AppTest tests of the pages (not a test module)."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def page(path: str, timeout: float = 60) -> AppTest:
    """An AppTest of `path` (relative to the repository), run once."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    at.run()
    return at


def texts(elements) -> list[str]:
    return [str(element.value) for element in elements]


def job_of(at: AppTest, key: str = "forecast"):
    """The core Job the page started under `key` (None when there is none)."""
    from ui.jobs import job_manager

    job_id = at.session_state["_job_" + key] if "_job_" + key in at.session_state else None
    return job_manager().get(job_id) if job_id else None


def run_until_finished(at: AppTest, key: str = "forecast", timeout: float = 300) -> None:
    """Rerun the page until its job under `key` has finished (the job runs in a real worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_of(at, key)
        if job is None or job.state.finished:
            at.run()  # the run that draws the results
            return
        job.wait(1.0)
        at.run()
    raise AssertionError(f"the {key} job did not finish within {timeout} s")
