"""The UI side of jobs: closed sessions are reaped after a grace period; durations read well."""

import time
from types import SimpleNamespace

from ui import jobs


class FakeRuntime:
    def __init__(self, active):
        self.active = set(active)

    def is_active_session(self, session_id):
        return session_id in self.active


def test_an_active_session_is_alive_and_a_gone_one_only_after_the_grace_period(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    runtime, seen = FakeRuntime({"a"}), {}
    assert jobs._owner_alive("a", runtime, seen)
    runtime.active.clear()
    clock[0] += jobs._REAP_AFTER_GONE_SECONDS - 1
    assert jobs._owner_alive("a", runtime, seen)
    clock[0] += 2
    assert not jobs._owner_alive("a", runtime, seen)


def test_a_session_never_seen_gets_the_grace_period_too(monkeypatch):
    clock = [50.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    seen = {}
    assert jobs._owner_alive("new", FakeRuntime(()), seen)
    clock[0] += jobs._REAP_AFTER_GONE_SECONDS + 1
    assert not jobs._owner_alive("new", FakeRuntime(()), seen)


def test_durations_read_as_seconds_or_minutes():
    assert jobs._duration(None) == "unknown"
    assert jobs._duration(4.4) == "4 s"
    assert jobs._duration(125) == "2 min 05 s"


def test_the_loss_figure_draws_validation_dashed():
    logs = [{"epoch": 1, "loss": 2.0, "val_loss": 3.0}, {"epoch": 2, "loss": 1.0, "val_loss": 2.5}]
    figure = jobs.loss_figure(logs)
    assert [trace.name for trace in figure.data] == ["training loss", "validation loss"]
    assert figure.data[1].line.dash == "dash"
    assert list(figure.data[0].y) == [2.0, 1.0]


# ---------------------------------------------------------------------------------------------
# The pages' side, through AppTest on the Inside the cell page (a real local worker pool)

import pytest  # noqa: E402
from app_helpers import page  # noqa: E402

from core.jobs import JobState  # noqa: E402

PAGE = "pages/4_Inside_the_Cell.py"
LONG = {"epochs": 2000, "seconds": 0.05}


@pytest.fixture(scope="module")
def manager():
    manager = jobs.job_manager()
    yield manager
    manager.shutdown()
    jobs.job_manager.clear()


def test_a_session_gets_a_random_token_in_the_address_once_it_has_a_job(manager):
    first, second = page(PAGE), page(PAGE)
    assert jobs.SESSION_PARAM not in first.query_params  # no job yet: a short address
    tokens = [at.session_state["_session_token"] for at in (first, second)]
    assert tokens[0] != tokens[1]
    assert all(jobs._TOKEN.fullmatch(token) and len(token) >= 20 for token in tokens)
    first.button(key="in_train").click().run()
    try:
        assert first.query_params[jobs.SESSION_PARAM] == tokens[0]
        assert [job.owner for job in manager.jobs(tokens[0])] == [tokens[0]]
    finally:
        manager.stop_owner(tokens[0])


def test_a_reloaded_page_finds_its_running_job_and_no_other_token_does(manager):
    token = "reload-test-token-0123456789"
    job = manager.submit("core.demo:sleep_task", LONG, owner=token, tag="inside")
    try:
        at = page(PAGE)  # a fresh session: nothing to find without the token
        assert "_job_inside" not in at.session_state
        reloaded = AppTest_with_token(token)
        assert reloaded.session_state["_job_inside"] == job.id
        assert "Stop training" in [button.label for button in reloaded.button]
        other = AppTest_with_token("someone-else-token-0123456789")
        assert "_job_inside" not in other.session_state
        assert "Stop training" not in [button.label for button in other.button]
    finally:
        job.stop()


def test_a_second_training_of_the_same_session_is_refused_with_a_reason(manager):
    token = "busy-test-token-0123456789ab"
    forecast = manager.submit("core.demo:sleep_task", LONG, owner=token, tag="forecast")
    try:
        at = AppTest_with_token(token)
        at.button(key="in_train").click().run()
        assert not at.exception
        assert "_job_inside" not in at.session_state
        warnings = " ".join(str(w.value) for w in at.warning)
        assert "already training a forecast" in warnings
        assert [job.id for job in manager.jobs(token)] == [forecast.id]
    finally:
        forecast.stop()
    assert forecast.wait(30).state in (JobState.STOPPED, JobState.CANCELLED)


def test_a_comparison_is_refused_too_while_the_session_trains_something_else(manager):
    token = "busy-compare-token-0123456789"
    other = manager.submit("core.demo:sleep_task", LONG, owner=token, tag="memory")
    try:
        at = AppTest_with_token(token, "pages/3_Compare.py")
        at.button(key="cmp_train").click().run()
        assert not at.exception
        assert "already training the memory test" in " ".join(str(w.value) for w in at.warning)
        assert [job.id for job in manager.jobs(token)] == [other.id]
    finally:
        other.stop()


def test_the_token_stays_in_a_page_with_lesson_links_but_is_no_setting_of_it(manager):
    token = "links-test-token-0123456789ab"
    job = manager.submit("core.demo:sleep_task", LONG, owner=token, tag="forecast")
    try:
        at = AppTest_with_token(token, "pages/1_Forecast.py")
        assert not at.exception
        assert at.query_params[jobs.SESSION_PARAM] == token
        assert "not a setting" not in " ".join(str(w.value) for w in at.warning)
        assert at.session_state["_job_forecast"] == job.id
    finally:
        job.stop()


def test_a_full_queue_is_said_plainly(manager):
    limit, manager.max_queued = manager.max_queued, 0
    try:
        at = page(PAGE)
        at.button(key="in_train").click().run()
    finally:
        manager.max_queued = limit
    assert not at.exception
    assert "queue is full" in " ".join(str(w.value) for w in at.warning)
    assert "_job_inside" not in at.session_state


def test_a_token_that_is_not_ours_is_replaced_by_a_fresh_one(manager):
    at = AppTest_with_token("not a token!")
    token = at.session_state["_session_token"]
    assert token != "not a token!" and jobs._TOKEN.fullmatch(token)


def test_an_unreachable_redis_is_said_plainly(manager, monkeypatch):
    from tests.redis_helpers import free_port

    monkeypatch.setenv("RNNLAB_REDIS_URL", f"redis://:secret@127.0.0.1:{free_port()}/0")
    jobs.job_manager.clear()  # the next page run builds a Redis manager
    try:
        at = page(PAGE)
        assert jobs.job_manager().backend == "redis"
        at.button(key="in_train").click().run()
        assert not at.exception
        warnings = " ".join(str(w.value) for w in at.warning)
        assert "cannot be reached" in warnings and "secret" not in warnings
    finally:
        jobs.job_manager().shutdown()
        jobs.job_manager.clear()


def AppTest_with_token(token: str, path: str = PAGE):  # noqa: N802 - reads as what it builds
    from app_helpers import ROOT
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    at.query_params[jobs.SESSION_PARAM] = token
    at.run()
    return at


def test_every_job_group_has_a_name_for_the_one_job_notice():
    """ "You are already training X": every key a page starts a job under names its activity."""
    import re
    from pathlib import Path

    from ui.jobs import ACTIVITIES, _group

    root = Path(__file__).resolve().parents[1]
    keys = set()
    for path in [*root.glob("pages/*.py"), *root.glob("ui/*.py")]:
        source = path.read_text()
        constants = dict(re.findall(r'^(\w+_KEY) = "([^"]+)"', source, re.M))
        for first, second, one, two in re.findall(
                r'^(\w+_KEY), (\w+_KEY) = "([^"]+)", "([^"]+)"', source, re.M):
            constants.update({first: one, second: two})
        for name in re.findall(r"start_job\((\w+_KEY)", source):
            keys.add(constants[name])
    assert len(keys) >= 9, keys
    assert {key for key in keys if _group(key) not in ACTIVITIES} == set()


def _one_panel_page():
    """A page with one job panel; it notes the fragments each run registered."""
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from ui.jobs import training_panel

    training_panel("inside")
    registered = sorted(get_script_run_ctx().shared.new_fragment_ids.snapshot())
    st.session_state.setdefault("fragments", []).append(registered)


def test_the_panel_keeps_its_fragment_once_the_job_has_finished(manager, tmp_path, monkeypatch):
    """A tick the browser sent for the panel just before its job ended must find the fragment
    in the run that shows the result (it used to be dropped there: 'fragment ... does not
    exist' in the server's log, hundreds of times under load)."""
    import json

    from streamlit.testing.v1 import AppTest

    log = tmp_path / "jobs.jsonl"
    monkeypatch.setenv("RNNLAB_JOB_LOG", str(log))
    token = "fragment-test-token-0123456789"
    # The page's own manager: a test above swaps the cached one (for Redis) and builds a new
    # one, so the module's `manager` may not be the page's. 6 s, so the first run sees it running.
    live = jobs.job_manager()
    job = live.submit("core.demo:sleep_task", {"epochs": 4, "seconds": 1.5}, owner=token,
                         tag="inside")
    at = AppTest.from_function(_one_panel_page, default_timeout=60)
    at.query_params[jobs.SESSION_PARAM] = token
    at.session_state["_job_inside"] = job.id
    at.run()
    assert not live.get(job.id).state.finished, "the job ended before the first run"
    assert job.wait(300).state is JobState.DONE  # the workers may still be loading TensorFlow
    at.run()
    assert not at.exception
    running, finished = at.session_state["fragments"][0], at.session_state["fragments"][-1]
    assert len(running) == 1
    assert finished == running
    assert "Trained 4 epochs" in " ".join(str(s.value) for s in at.success)
    # A full run that draws the finished job shows its results itself: no second run asked.
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    assert [e for e in events if e.get("event") == "page_rerun"] == []


def _ticks_page():
    """A tick of the panel's fragment alone (as the browser sends them), or a full run."""
    import streamlit as st

    from ui import jobs

    if st.session_state.get("full"):
        jobs.training_panel("inside")
    else:
        jobs._panel("inside", jobs.loss_figure, "Epoch")


def test_a_finished_panel_asks_for_the_whole_page_until_a_full_run_shows_it(
        manager, tmp_path, monkeypatch):
    """Under load, a page's rerun asked once was sometimes never run: that page kept a finished
    panel without results for good (1 of 30 sessions of bench/load.py). Every tick now asks
    again until a full run has drawn the finished job; from then on none asks."""
    import json

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    log = tmp_path / "jobs.jsonl"
    monkeypatch.setenv("RNNLAB_JOB_LOG", str(log))
    asked = []
    monkeypatch.setattr(st, "rerun", lambda *args, **kwargs: asked.append(1))
    token = "ticks-test-token-0123456789abc"
    live = jobs.job_manager()
    job = live.submit("core.demo:sleep_task", {"epochs": 1}, owner=token, tag="inside")
    assert job.wait(300).state is JobState.DONE
    at = AppTest.from_function(_ticks_page, default_timeout=60)
    at.query_params[jobs.SESSION_PARAM] = token
    at.session_state["_job_inside"] = job.id
    at.session_state["_job_inside_shown"] = False  # as `start_job` leaves it
    for _ in range(2):  # two ticks whose page runs were lost
        at.run()
    assert not at.exception and len(asked) == 2
    at.session_state["full"] = True
    at.run()  # its panel ticks once inside the run too
    assert not at.exception and len(asked) == 2  # the full run showed it: nothing more asked
    at.session_state["full"] = False
    at.run()  # the panel drawn in a full run (not a tick): the page shows the results
    assert not at.exception and len(asked) == 2
    # A tick run by a new script thread (AppTest gives each run a thread of its own): the
    # thread that ran the page had ended before the tick came, and what it had not yet handed
    # to the browser may be lost. The page is asked for again at once.
    monkeypatch.setattr(jobs, "_is_tick", lambda: True)
    at.run()
    assert not at.exception and len(asked) == 3
    # A tick right after the full run, run by the page's thread (one shared namespace stands
    # for it here), was sent before the browser got that run: nothing to do. One that comes
    # later means the browser never showed that run (a full run that shows a finished job
    # stops the ticks), so the page is asked for again.
    monkeypatch.setattr(jobs, "_RUNNER", SimpleNamespace(shown={job.id}))
    at.run()
    assert not at.exception and len(asked) == 3
    monkeypatch.setattr(jobs, "STALE_TICK_SECONDS", 0.0)
    at.run()
    assert not at.exception and len(asked) == 4
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["id"] for e in events if e.get("event") == "page_rerun"] == [job.id] * 4


def test_a_job_behind_others_redraws_slowly_until_it_is_next_in_line(manager, monkeypatch):
    """Thirty pages waiting in the queue, each redrawn every second, kept the machine busy
    (bench/load.py). A job with another job ahead of it redraws every QUEUED_POLL_SECONDS, and
    the tick that sees it next in line sets the panel's timer to every second."""
    from streamlit.testing.v1 import AppTest

    live = jobs.job_manager()
    busy = [live.submit("core.demo:sleep_task", LONG, owner=f"busy-token-{n:020d}", tag="inside")
            for n in range(live.workers)]
    ahead = live.submit("core.demo:sleep_task", LONG, owner="ahead-token-0123456789ab",
                        tag="inside")
    token = "behind-token-0123456789abcd"
    job = live.submit("core.demo:sleep_task", {"epochs": 1}, owner=token, tag="inside")
    registered, told = [], []
    real_fragment = jobs.st.fragment

    def fragment(function, run_every=None):
        registered.append(run_every)
        return real_fragment(function, run_every=run_every)

    monkeypatch.setattr(jobs.st, "fragment", fragment)
    monkeypatch.setattr(jobs, "_tick_every", told.append)
    try:
        deadline = time.monotonic() + 300  # the workers may still be loading TensorFlow
        while ((live.warming_up or any(b.snapshot().state is not JobState.RUNNING for b in busy))
               and time.monotonic() < deadline):
            time.sleep(0.1)
        assert job.snapshot().queue_position == 2
        at = AppTest.from_function(_one_panel_page, default_timeout=60)
        at.query_params[jobs.SESSION_PARAM] = token
        at.session_state["_job_inside"] = job.id
        at.run()
        assert not at.exception
        assert registered == [jobs.QUEUED_POLL_SECONDS] and told == []
        assert any("number 2 in the queue" in i.value for i in at.info), [i.value for i in at.info]
        monkeypatch.setattr(jobs, "_is_tick", lambda: True)
        at.run()  # a tick while still behind: the same slow timer
        assert not at.exception and told == [jobs.QUEUED_POLL_SECONDS]
        ahead.stop()  # taken off the queue: the job is next in line
        assert ahead.wait(60).state is JobState.CANCELLED
        assert job.snapshot().queue_position == 1
        at.run()  # the tick that sees it next: every second from now on
        assert not at.exception and told[-1] == jobs.POLL_SECONDS
        monkeypatch.setattr(jobs, "_is_tick", lambda: False)
        at.run()  # a full run of the page draws it ticking every second too
        assert not at.exception and registered[-1] == jobs.POLL_SECONDS
    finally:
        for other in (*busy, ahead, job):
            other.stop()
        for other in (*busy, ahead, job):
            other.wait(60)


def test_a_tick_tells_the_browser_its_new_interval(monkeypatch):
    """The message `st.fragment(run_every=...)` sends, for the fragment of the running tick."""
    from streamlit.runtime import scriptrunner

    sent = []
    tick = SimpleNamespace(fragment_ids_this_run=["panel-fragment"], enqueue=sent.append)
    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: tick)
    jobs._tick_every(1.0)
    assert [(m.WhichOneof("type"), m.auto_rerun.interval, m.auto_rerun.fragment_id)
            for m in sent] == [("auto_rerun", 1.0, "panel-fragment")]
    full_run = SimpleNamespace(fragment_ids_this_run=[], enqueue=sent.append)
    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: full_run)
    jobs._tick_every(4.0)  # not a tick: nothing sent
    assert len(sent) == 1


def test_after_stop_the_panel_says_it_is_stopping_until_the_job_ends(manager):
    """A search stops at the end of its current trial: until then the panel said "Stop
    training" as if the click had done nothing."""
    from streamlit.testing.v1 import AppTest

    token = "stopping-test-token-0123456789"
    live = jobs.job_manager()
    job = live.submit("core.demo:sleep_task", {"epochs": 3, "seconds": 6}, owner=token,
                      tag="inside")
    deadline = time.monotonic() + 300
    while job.snapshot().epoch < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    job.stop()
    at = AppTest.from_function(_one_panel_page, default_timeout=60)
    at.query_params[jobs.SESSION_PARAM] = token
    at.session_state["_job_inside"] = job.id
    at.run()
    assert live.get(job.id).state is JobState.RUNNING, "the job stopped before the page ran"
    button = next(b for b in at.button if b.key == f"stop-{job.id}")
    assert button.label == "Stopping..." and button.disabled
    assert any("Stopping: the current epoch ends first" in c.value for c in at.caption)
    assert job.wait(60).state is JobState.STOPPED
    at.run()
    assert not [b for b in at.button if b.key == f"stop-{job.id}"]
    assert any("the best model so far is kept" in w.value for w in at.warning)
