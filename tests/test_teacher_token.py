"""The teacher's session goes first in line (RNNLAB_TEACHER_TOKEN), through the pages (AppTest).

One trainer, busy with a student's long job, and another student's job waiting: the teacher
presses Train on a page and is told they are next; when the trainer is free, the teacher's job
starts while the student who clicked earlier still waits. A student's click goes to the back.
"""

from __future__ import annotations

import time

import pytest
from app_helpers import ROOT
from streamlit.testing.v1 import AppTest

from core.jobs import JobState
from core.jobs.local import LocalJobManager
from ui import jobs

PAGE = "pages/4_Inside_the_Cell.py"
TEACHER = "teacher-token-0123456789abcdef"
LONG = {"epochs": 2000, "seconds": 0.05}


@pytest.fixture
def manager(monkeypatch):
    """The pages' job manager, with one trainer that needs no TensorFlow to start."""
    monkeypatch.setenv("RNNLAB_TEACHER_TOKEN", TEACHER)
    monkeypatch.setattr(jobs, "JobManager", lambda **_: LocalJobManager(workers=1,
                                                                          warm_modules=()))
    jobs.job_manager.clear()
    manager = jobs.job_manager()
    deadline = time.monotonic() + 60
    while manager.warming_up and time.monotonic() < deadline:
        time.sleep(0.05)
    yield manager
    manager.shutdown(wait=1.0)
    jobs.job_manager.clear()


def session(token: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    at.query_params[jobs.SESSION_PARAM] = token
    at.run()
    return at


def infos(at: AppTest) -> str:
    return " ".join(str(info.value) for info in at.info)


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_teacher_goes_first_in_line_and_a_student_goes_to_the_back(manager):
    running = manager.submit("core.demo:sleep_task", LONG, owner="student-a-token-0123456789")
    wait_for(lambda: running.state is JobState.RUNNING)
    waiting = manager.submit("core.demo:sleep_task", LONG, owner="student-b-token-0123456789")

    teacher = session(TEACHER)
    teacher.button(key="in_train").click().run()
    assert not teacher.exception
    mine = manager.get(teacher.session_state["_job_inside"])
    assert mine.owner == TEACHER
    assert "you are number 1 in the queue" in infos(teacher)
    assert waiting.snapshot().queue_position == 2

    student = session("student-c-token-0123456789ab")
    student.button(key="in_train").click().run()
    assert "you are number 3 in the queue" in infos(student)

    running.stop()  # the trainer is free: the teacher's job is next, not the earlier student's
    wait_for(lambda: mine.state is not JobState.QUEUED)
    assert mine.state is JobState.RUNNING
    assert waiting.snapshot().queue_position == 1
    teacher.run()
    assert "you are number" not in infos(teacher)


def test_without_the_teacher_token_the_same_click_waits_its_turn(manager, monkeypatch):
    monkeypatch.delenv("RNNLAB_TEACHER_TOKEN")
    running = manager.submit("core.demo:sleep_task", LONG, owner="student-a-token-0123456789")
    wait_for(lambda: running.state is JobState.RUNNING)
    manager.submit("core.demo:sleep_task", LONG, owner="student-b-token-0123456789")
    teacher = session(TEACHER)
    teacher.button(key="in_train").click().run()
    assert "you are number 2 in the queue" in infos(teacher)
