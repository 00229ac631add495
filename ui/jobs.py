"""Training jobs seen from the pages: one job manager, one way to start a job, one live panel.

Training never runs in a page's script: a page starts a core job (in a worker process, here or on
another machine) with `start_job`, keeps only its id in `st.session_state`, and `training_panel`
draws its progress from a fragment that reruns every second. A click elsewhere, or a visit to
another page, leaves the job running; coming back shows it where it is.

A session's jobs belong to its token, a random string kept in the page's address
(`?session=...`): a reloaded page (or, on Redis, a restarted app) finds its jobs again by it, and
no other token can read them. One person trains one thing at a time (a comparison counts as
one), so that a class shares the queue fairly; the teacher's token (`RNNLAB_TEACHER_TOKEN`)
goes first in line.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from core.jobs import Job, JobManager, JobSnapshot, JobState, QueueFull, QueueUnavailable
from core.jobs.base import log_event
from core.training import seconds_left
from ui import links
from ui.state import session_id

if TYPE_CHECKING:  # plotly.graph_objects loads with the first learning curve, not the home page
    import plotly.graph_objects as go

STALE_TICK_SECONDS = 10.0  # a panel tick this long after the page showed the end: not shown
POLL_SECONDS = 1.0  # the live panel's redraws: a result shows within this (plus a page run)
# A job with others ahead of it in the queue redraws less often: its place changes only when a
# job ends, and thirty such pages ticking every second kept the machine busy (bench/load.py).
QUEUED_POLL_SECONDS = 4.0
_REAP_EVERY_SECONDS = 30.0
_REAP_AFTER_GONE_SECONDS = 120.0  # a closed tab's jobs are stopped after this long (local)
SESSION_PARAM = links.SESSION_PARAM  # ui.links keeps it out of the links people copy
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
_TOKEN_KEY = "_session_token"
_PUBLISHED_KEY = "_session_token_published"
_NOTICE_KEY = "_job_notice"
_RECOVERED_KEY = "_jobs_recovered"
_FIGURES_KEY = "_job_figures"
# The browser sessions (tabs, reloads) seen with each token, for the reaper.
_SESSIONS_OF_TOKEN: dict[str, set[str]] = {}
# Per Streamlit script thread (one per ScriptRunner): the jobs whose end a full run there drew.
_RUNNER = threading.local()
ACTIVITIES = {  # what a job's group is called in "you already have ... running"
    "forecast": "a forecast", "nextword": "a next-word model", "compare": "a comparison",
    "inside": "a cell on Inside the cell", "memory": "the memory test on Inside the cell",
    "seed": "an example on the home page", "forecast_all": "a forecast of every series",
    "forecast_saved": "a forecast with a saved model", "backtest": "a backtest",
    "tuning": "a settings search", "forecast_all_saved": "a saved model's forecast of every series",
}


def redis_url() -> str:
    """The Redis URL the app was given (`streamlit run app.py -- --redis URL`, or
    RNNLAB_REDIS_URL); empty for the local pool."""
    argv = sys.argv
    for index, arg in enumerate(argv):
        if arg == "--redis" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--redis="):
            return arg.split("=", 1)[1]
    return os.environ.get("RNNLAB_REDIS_URL", "")


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """The server's one job manager: a local worker pool, or the Redis queue when configured."""
    url = redis_url()
    manager = JobManager(redis_url=url) if url else JobManager()
    if manager.backend == "local":
        # On Redis, jobs outlive their page (a reload finds them); they expire there instead.
        threading.Thread(target=_reap_closed_sessions, args=(manager,), daemon=True).start()
    return manager


def _reap_closed_sessions(manager: JobManager) -> None:
    """Stop and forget the jobs of browser sessions that have been gone for a while."""
    from streamlit.runtime import Runtime

    last_seen: dict[str, float] = {}
    while True:
        time.sleep(_REAP_EVERY_SECONDS)
        if not Runtime.exists():
            continue
        try:
            runtime = Runtime.instance()
        except RuntimeError:  # the server is shutting down between the two calls
            continue
        manager.reap(lambda owner, runtime=runtime: _owner_alive(owner, runtime, last_seen))


def _owner_alive(owner: str, runtime: Any, last_seen: dict[str, float]) -> bool:
    now = time.monotonic()
    sessions = {owner, *_SESSIONS_OF_TOKEN.get(owner, ())}
    if owner == "local" or any(runtime.is_active_session(s) for s in sessions):
        last_seen[owner] = now
        return True
    return now - last_seen.setdefault(owner, now) < _REAP_AFTER_GONE_SECONDS


def session_token(publish: bool = False) -> str:
    """This browser session's token, the owner of its jobs, kept in the page's address once the
    session has a job (`publish`): an address without jobs stays short."""
    token = st.session_state.get(_TOKEN_KEY)
    if token is None:
        given = st.query_params.get(SESSION_PARAM, "")
        token = given if _TOKEN.fullmatch(given) else secrets.token_urlsafe(16)
        st.session_state[_TOKEN_KEY] = token
        st.session_state[_PUBLISHED_KEY] = token == given
    if publish:
        st.session_state[_PUBLISHED_KEY] = True
    if st.session_state.get(_PUBLISHED_KEY) and st.query_params.get(SESSION_PARAM) != token:
        st.query_params[SESSION_PARAM] = token  # a page switch drops it from the address
    _SESSIONS_OF_TOKEN.setdefault(token, set()).add(session_id())
    return token


def _state_key(key: str) -> str:
    return f"_job_{key}"


def _group(key: str) -> str:
    return key.split("-", 1)[0]


def _recover() -> None:
    """Once per browser session: find the jobs of this token again (after a reload)."""
    if st.session_state.get(_RECOVERED_KEY):
        return
    st.session_state[_RECOVERED_KEY] = True
    try:
        jobs = job_manager().jobs(session_token())
    except QueueUnavailable:
        st.session_state[_RECOVERED_KEY] = False  # try again on the next run
        return
    if jobs:
        session_token(publish=True)
    for job in jobs:  # oldest first: the newest of each tag wins
        if job.tag and _state_key(job.tag) not in st.session_state:
            st.session_state[_state_key(job.tag)] = job.id
            st.session_state[f"{_state_key(job.tag)}_shown"] = job.state.finished


def current_job(key: str) -> Job | None:
    """This session's job under `key` ("forecast", "nextword", ...), if any."""
    session_token()  # back into the address after a page switch dropped it
    if _state_key(key) not in st.session_state:
        _recover()
    job_id = st.session_state.get(_state_key(key))
    if not job_id:
        return None
    try:
        return job_manager().get(job_id)
    except QueueUnavailable:
        return None


def is_busy(key: str) -> bool:
    """True while this session's job under `key` waits or runs (pages disable their controls)."""
    job = current_job(key)
    return job is not None and not job.state.finished


def busy_elsewhere(key: str) -> Job | None:
    """This session's unfinished job of another activity than `key`'s, if any."""
    try:
        jobs = job_manager().jobs(session_token())
    except QueueUnavailable:
        return None
    for job in jobs:
        if _group(job.tag) != _group(key) and not job.state.finished:
            return job
    return None


def busy_notice(key: str) -> bool:
    """True, with the reason kept for `show_notice`, when this session is already training
    another activity than `key`'s (one training per person keeps the queue fair)."""
    other = busy_elsewhere(key)
    if other is None:
        return False
    activity = ACTIVITIES.get(_group(other.tag), "something else")
    st.session_state[_NOTICE_KEY] = key, (
        f"You are already training {activity}. One training per person at a time keeps the "
        "queue fair for the whole class: wait for it to finish (or stop it on its page), "
        "then press the button again."
    )
    return True


def start_job(key: str, task: str, payload: Any, *, record: Any = None) -> Job | None:
    """Start `task` for this session under `key`, replacing (and forgetting) the previous one.

    `record` is the page's own note of the run (its settings): it stays with the job, so that a
    reloaded page can show the result (`job_record`). Returns None, with the reason kept for
    `training_panel` to show, when this session is already training something else, the queue
    is full or unreachable.
    """
    manager = job_manager()
    if busy_notice(key):
        return None
    teacher = os.environ.get("RNNLAB_TEACHER_TOKEN")
    token = session_token(publish=True)
    # The job this one replaces, looked up before submitting: afterwards the lookup could
    # recover the new job itself (same tag) and discard it.
    previous = current_job(key)
    try:
        job = manager.submit(task, payload, owner=token, tag=key, note=record,
                             first=bool(teacher) and token == teacher)
    except (QueueFull, QueueUnavailable) as error:
        st.session_state[_NOTICE_KEY] = key, str(error)
        return None
    if previous is not None and previous.id != job.id:
        try:
            manager.discard(previous)
        except QueueUnavailable:
            pass  # it expires on its own
    st.session_state[_state_key(key)] = job.id
    st.session_state[f"{_state_key(key)}_shown"] = False
    st.session_state.pop(_NOTICE_KEY, None)
    return job


def forget_job(key: str) -> None:
    job = current_job(key)
    if job is not None:
        try:
            job_manager().discard(job)
        except QueueUnavailable:
            pass
    st.session_state.pop(_state_key(key), None)


def job_record(key: str) -> Any:
    """The `record` the page gave `start_job` for this session's job under `key`, or None."""
    job = current_job(key)
    return None if job is None else job.note


def show_notice(key: str) -> None:
    """Say why the last click that would start a job under `key` started nothing (busy, queue
    full, queue unreachable). Only `key`'s panel says it: a page with several panels (one in a
    closed expander) would otherwise show it in the first, out of sight of the button."""
    notice = st.session_state.get(_NOTICE_KEY)
    if notice is None or notice[0] != key:
        return
    del st.session_state[_NOTICE_KEY]
    st.warning(notice[1], icon=":material/hourglass_top:")


def finished_run(
    key: str, run_key: str, config: Any, *, waiting: str, nothing: str
) -> tuple[Job, dict] | None:
    """The finished job under `key` and the page's record of its run (the `record` given to
    `start_job`, else `st.session_state[run_key]`, holding the "config" it trained with), or
    None after saying why there is no result yet."""
    job = current_job(key)
    run = None
    if job is not None:
        run = job.note if job.note is not None else st.session_state.get(run_key)
    if job is None or run is None or not job.state.finished:
        st.info(waiting)
        return None
    if job.result is None:
        st.info(nothing)
        return None
    if config is not None and config != run["config"]:
        st.caption(
            ":material/warning: The settings above have changed since this run: press "
            "**Train model** to see their effect."
        )
    return job, run


Figure = Callable[[tuple[dict, ...]], "go.Figure"]


def training_panel(
    key: str,
    *,
    metrics: tuple[str, ...] = ("loss", "val_loss"),
    labels: dict[str, str] | None = None,
    figure: Figure | None = None,
    steps: str = "Epoch",
) -> JobSnapshot | None:
    """The live job panel every page uses: queue place and wait, progress, learning curve, Stop.

    `figure(logs)` replaces the loss curve (for jobs that log something else) and `steps` names
    what the job counts ("Epoch", or "Training" for a job of several trainings). Returns the latest
    snapshot (None when there is no job). When the job finishes, the whole page reruns once so
    that the results below the panel appear.
    """
    show_notice(key)
    job = current_job(key)
    if job is None:
        return None
    draw = figure or (lambda logs: loss_figure(logs, metrics, labels or {}))
    # The same fragment (same function, same place: the same id) in every run that shows the job,
    # ticking only while the job is unfinished. Drawing a finished job outside the fragment, as
    # before, removed the fragment in the full run that showed the results, and the ticks the
    # browser had already sent for it were refused ("fragment ... does not exist"), hundreds of
    # times under load. Now such a tick finds the fragment and redraws the finished panel.
    snapshot = _snapshot(job)
    finished = snapshot.finished if snapshot is not None else job.state.finished
    if finished:
        # This full run draws the job's results below: the panel's ticks may stop asking for one.
        st.session_state[f"{_state_key(key)}_shown"] = time.monotonic()
        _RUNNER.shown = getattr(_RUNNER, "shown", set()) | {job.id}
        log_event(job.id, job.owner, "page_drawn", time.time())  # for bench/load.py
    every = None if finished else QUEUED_POLL_SECONDS if _behind(snapshot) else POLL_SECONDS
    st.fragment(_panel, run_every=every)(key, draw, steps)
    return _snapshot(job)


def _behind(snapshot: JobSnapshot | None) -> bool:
    """Waiting behind another job: it cannot start before a job ends."""
    return (snapshot is not None and snapshot.state is JobState.QUEUED
            and snapshot.queue_position > 1)


def _snapshot(job: Job) -> JobSnapshot | None:
    try:
        return job.snapshot()
    except QueueUnavailable:
        return None


def _panel(key: str, draw: Figure, steps: str) -> None:
    """The panel's fragment: while the job runs it redraws every POLL_SECONDS (every
    QUEUED_POLL_SECONDS while other jobs are ahead of it in the queue, until a tick sees it next
    in line), and when it sees the job finished it reruns the whole page, so that the results
    below appear.

    It asks until a full run has drawn the finished job (`training_panel` marks when). After
    that, a tick asks again in two cases where the browser may never have shown that run:

    - The tick runs in a new script thread. Streamlit hands a tick to the thread that ran the
      page if that thread is still there; a tick that came just after it ended starts a new
      one, and the events the old thread had not yet handed to the browser are then dropped
      (AppSession ignores a replaced ScriptRunner's events). Under load (2 of 30 sessions of
      bench/load.py) such pages kept the panel saying "Trained" and the page from before,
      with no results, for good: the full run had stopped the browser's ticks.
    - The tick comes STALE_TICK_SECONDS after that run: a full run that shows a finished job
      stops the browser's ticks, so such a late tick means the browser never showed it.

    Ticks sent before the browser got the full run arrive for a few seconds under load and
    run in the page's thread: asking at each of them restarted the page's run 4 to 6 times."""
    job = current_job(key)
    if job is None:
        return
    snapshot = _draw_panel(job, draw, steps)
    if snapshot is None:
        return
    if not snapshot.finished:
        if _is_tick():
            # The interval for where the job stands: every 4 s while behind others, every
            # second once next in line. Said at every tick (the browser keeps its timer when
            # told the interval it has), so a message lost on the way is said again.
            _tick_every(QUEUED_POLL_SECONDS if _behind(snapshot) else POLL_SECONDS)
        return
    shown_at = st.session_state.get(f"{_state_key(key)}_shown")
    tick = _is_tick()
    late = tick and time.monotonic() - float(shown_at or 0) > STALE_TICK_SECONDS
    orphaned = tick and bool(shown_at) and job.id not in getattr(_RUNNER, "shown", set())
    if not shown_at or late or orphaned:
        log_event(job.id, job.owner, "page_rerun", time.time())  # for bench/load.py
        st.rerun()  # the whole page, so the results appear


def _tick_every(seconds: float) -> None:
    """In a tick of the panel's fragment: the browser ticks it every `seconds` from now on.

    What `st.fragment(run_every=...)` sends when a full run draws the fragment; Streamlit's
    browser side (1.67) replaces a fragment's timer when told another interval and keeps it
    when told the same one. Sending it from the tick saves a full run of the page, and a
    message lost on the way is sent again by the next tick."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    fragments = list(ctx.fragment_ids_this_run or ()) if ctx is not None else []
    if len(fragments) != 1:
        return
    message = ForwardMsg()
    message.auto_rerun.interval = seconds
    message.auto_rerun.fragment_id = fragments[0]
    ctx.enqueue(message)


def _is_tick() -> bool:
    """True in a run of the panel's fragment alone (a tick of the browser's timer), False in
    a full run of the page (where the fragment runs inline)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def _draw_panel(job: Job, draw: Figure, steps: str = "Epoch") -> JobSnapshot | None:
    try:
        snapshot = job.snapshot()
    except QueueUnavailable as error:
        st.warning(str(error), icon=":material/cloud_off:")
        return None
    manager = job_manager()
    if snapshot.state is JobState.QUEUED:
        if manager.warming_up:
            st.info("Starting the training engine (loading TensorFlow takes a few seconds)...")
        elif manager.backend != "local" and _no_workers(manager):
            st.warning(
                "No trainer is connected to the queue, so this job waits. Whoever runs the "
                "server should start one: `python -m core worker --redis URL`."
            )
        else:
            wait = snapshot.wait_seconds
            estimate = f" (about {_duration(wait)})" if wait is not None else ""
            st.info(
                f"Waiting for a free trainer: you are number {snapshot.queue_position} in the "
                f"queue{estimate}. Other people are training right now."
            )
        st.button("Cancel", key=f"stop-{job.id}", on_click=job.stop,
                  help="Takes this job off the queue.")
    # Epochs as the task counts them (the seed's examples log ten of theirs per Keras epoch).
    done = snapshot.logs[-1].get("epoch", snapshot.epoch) if snapshot.logs else 0
    if snapshot.state is JobState.RUNNING:
        fraction = done / snapshot.epochs if snapshot.epochs else 0.0
        # From the later epochs' own times (core.training.seconds_left): none before a second
        # epoch has ended, since the first one also builds the network. What follows the last
        # epoch (a forecast's refit, the baselines) is said by the task's caption instead.
        estimate = seconds_left(snapshot.logs, snapshot.epochs)
        left = (f" · at most {_duration(estimate)} to the last epoch"
                if estimate is not None else "")
        st.progress(
            min(fraction, 1.0),
            text=f"{steps} {done} of {snapshot.epochs}{left}" if done and snapshot.epochs
            else "Starting: preparing the data and building the network...",
        )
        if snapshot.message and not snapshot.message.startswith(("Epoch ", "Starting")):
            st.caption(snapshot.message)  # what the task says it does ("Scoring the baselines")
        stopping = job.stop_requested
        if stopping:
            # A search or a comparison ends its current training first: say so, or the page
            # looks as if Stop did nothing.
            st.caption(f"Stopping: the current {steps.lower()} ends first, then the best "
                       "model so far is kept.")
        st.button(
            "Stopping..." if stopping else "Stop training",
            key=f"stop-{job.id}",
            on_click=job.stop,
            disabled=stopping,
            help="Ends training now and keeps the best model found so far.",
        )
    elif snapshot.state is JobState.FAILED:
        st.error(snapshot.message)
    elif snapshot.state is JobState.STOPPED:
        st.warning(
            f"Training was stopped after {done} {steps.lower()}s; the best model so far is kept."
        )
    elif snapshot.state is JobState.CANCELLED:
        st.warning(snapshot.message)
    elif snapshot.state is JobState.DONE:
        st.success(
            f"{'Trained' if steps == 'Epoch' else 'Finished'} {done} {steps.lower()}s in "
            f"{_duration(snapshot.elapsed_seconds)}."
        )
    if snapshot.logs:
        st.plotly_chart(
            _figure(job.id, snapshot.logs, draw),
            key=f"loss-{job.id}-{snapshot.epoch}-{snapshot.state.value}",
            width="stretch",
        )
    return snapshot


def _figure(job_id: str, logs: tuple[dict, ...], draw: Figure) -> go.Figure:
    """The learning curve, built again only when an epoch was added: the panel redraws every
    second, and building a Plotly figure costs tens of milliseconds of the server's CPU per
    session (more than the rest of the panel), which a class of thirty pays thirty times."""
    cache = st.session_state.setdefault(_FIGURES_KEY, {})
    cached = cache.get(job_id)
    if cached is None or cached[0] != len(logs):
        if job_id not in cache and len(cache) >= 4:  # a page shows one or two panels
            cache.pop(next(iter(cache)))
        cached = cache[job_id] = (len(logs), draw(logs))
    return cached[1]


def _no_workers(manager: JobManager) -> bool:
    try:
        return manager.worker_count() == 0
    except QueueUnavailable:
        return False


def loss_figure(
    logs: tuple[dict, ...] | list[dict],
    metrics: tuple[str, ...] = ("loss", "val_loss"),
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """Loss curves by epoch (training solid, validation dashed)."""
    import plotly.graph_objects as go

    labels = {"loss": "training loss", "val_loss": "validation loss", **(labels or {})}
    figure = go.Figure()
    epochs = [log["epoch"] for log in logs]
    for metric in metrics:
        values = [log.get(metric) for log in logs]
        if all(value is None for value in values):
            continue
        figure.add_trace(
            go.Scatter(
                x=epochs,
                y=values,
                mode="lines+markers" if len(epochs) < 30 else "lines",
                name=labels.get(metric, metric),
                line={"dash": "dash" if metric.startswith("val_") else "solid"},
            )
        )
    figure.update_layout(
        height=280,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="epoch",
        yaxis_title="loss",
        legend={"orientation": "h", "y": 1.12},
        title={"text": "Learning curve", "font": {"size": 14}},
    )
    return figure


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s"
