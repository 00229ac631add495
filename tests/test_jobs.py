"""The job system: runs tasks in workers, reports epochs, stops, fails cleanly, recycles."""

import pytest

from core.jobs import JobContext, JobManager, JobState, run_inline


def test_a_job_reports_every_epoch_and_returns_its_result(job_manager):
    job = job_manager.submit("core.demo:sleep_task", {"epochs": 4, "seconds": 0.01})
    snapshot = job.wait(120)
    assert snapshot.state is JobState.DONE
    assert [log["epoch"] for log in snapshot.logs] == [1, 2, 3, 4]
    assert snapshot.epochs == 4
    assert job.result["pid"] in job_manager.worker_pids() or job.result["pid"] > 0


def test_stop_ends_a_running_job_early(job_manager):
    job = job_manager.submit("core.demo:sleep_task", {"epochs": 1000, "seconds": 0.02})
    for _ in range(600):
        if job.snapshot().epoch >= 3:
            break
        job.wait(0.1)
    job.stop()
    snapshot = job.wait(60)
    assert snapshot.state is JobState.STOPPED
    assert 3 <= snapshot.epoch < 1000


def test_a_task_error_becomes_a_failed_state_with_its_message(job_manager):
    snapshot = job_manager.submit("core.demo:sleep_task", {"epochs": 2, "fail": True}).wait(60)
    assert snapshot.state is JobState.FAILED
    assert "failed on purpose" in snapshot.message


def test_a_crashed_worker_fails_its_job_and_is_replaced(job_manager):
    snapshot = job_manager.submit("core.demo:sleep_task", {"epochs": 1, "crash": True}).wait(60)
    assert snapshot.state is JobState.FAILED
    assert "stopped unexpectedly" in snapshot.message
    after = job_manager.submit("core.demo:sleep_task", {"epochs": 1}).wait(120)
    assert after.state is JobState.DONE


def test_queued_jobs_know_their_place_and_can_be_cancelled():
    manager = JobManager(workers=1, warm_modules=())
    try:
        first = manager.submit("core.demo:sleep_task", {"epochs": 200, "seconds": 0.02}, owner="a")
        second = manager.submit("core.demo:sleep_task", {"epochs": 1}, owner="b")
        third = manager.submit("core.demo:sleep_task", {"epochs": 1}, owner="b")
        while first.snapshot().state is JobState.QUEUED:
            first.wait(0.05)
        assert second.snapshot().queue_position == 1
        assert third.snapshot().queue_position == 2
        assert manager.stop_owner("b") == 2
        assert third.snapshot().state is JobState.CANCELLED
        first.stop()
        assert first.wait(60).state in (JobState.STOPPED, JobState.CANCELLED)
    finally:
        manager.shutdown()


def test_workers_are_recycled_after_their_quota_of_jobs():
    manager = JobManager(workers=1, jobs_per_worker=2, warm_modules=())
    try:
        pids = [manager.submit("core.demo:sleep_task", {"epochs": 1}).wait(60) for _ in range(3)]
        assert all(s.state is JobState.DONE for s in pids)
        jobs = manager.jobs()
        worker_pids = [job.result["pid"] for job in jobs]
        assert worker_pids[0] == worker_pids[1] != worker_pids[2]
    finally:
        manager.shutdown()


def test_reap_discards_jobs_of_sessions_that_closed():
    manager = JobManager(workers=1, warm_modules=())
    try:
        job = manager.submit("core.demo:sleep_task", {"epochs": 500, "seconds": 0.02}, owner="gone")
        keep = manager.submit("core.demo:sleep_task", {"epochs": 1}, owner="alive")
        assert manager.reap(lambda owner: owner == "alive") == 1
        assert manager.get(job.id) is None and manager.get(keep.id) is keep
    finally:
        manager.shutdown()


def test_only_engine_tasks_may_run():
    manager = JobManager(workers=1, warm_modules=())
    try:
        with pytest.raises(ValueError, match="core/"):
            manager.submit("os:system", "echo hacked")
    finally:
        manager.shutdown()


@pytest.mark.slow
def test_the_seed_sum_example_learns_in_a_worker(job_manager):
    job = job_manager.submit("core.demo:sum_task", {"epochs": 300, "seed": 1})
    snapshot = job.wait(180)
    assert snapshot.state is JobState.DONE, snapshot.message
    assert abs(job.result["prediction"] - 11.0) < 1.5
    assert snapshot.logs[-1]["loss"] < snapshot.logs[0]["loss"]


def test_run_inline_runs_in_this_process(tmp_path):
    result = run_inline("core.demo:sleep_task", {"epochs": 2, "seconds": 0}, JobContext(tmp_path))
    import os

    assert result["pid"] == os.getpid()


def test_workers_do_not_rerun_the_script_that_started_them(tmp_path, monkeypatch):
    """Under Streamlit, `__main__` is the page script: a spawned worker must not run it again."""
    import sys
    import types

    marker = tmp_path / "ran.txt"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('ran')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    manager = JobManager(workers=1, warm_modules=())
    try:
        assert manager.submit("core.demo:sleep_task", {"epochs": 1}).wait(60).state is JobState.DONE
    finally:
        manager.shutdown()
    assert sys.modules["__main__"] is page
    assert not marker.exists()


def test_local_workers_yield_the_cpu_to_the_app_server():
    """Workers are niced: they share the server's scheduling group (Linux autogroup), and at the
    same priority their training starved the pages (bench/load.py)."""
    import os

    from core.jobs.local import WORKER_NICENESS

    manager = JobManager(workers=1, jobs_per_worker=5, warm_modules=())
    try:
        job = manager.submit("core.demo:sleep_task", {"epochs": 1, "seconds": 0.01})
        assert job.wait(120).state is JobState.DONE
        worker = job.result["pid"]
        assert worker != os.getpid()
        with open(f"/proc/{worker}/stat") as stat:  # the 19th field is the niceness
            niceness = int(stat.read().rsplit(")", 1)[1].split()[16])
        assert niceness >= min(19, os.nice(0) + WORKER_NICENESS)
    finally:
        manager.shutdown()
