"""Training jobs seen from the pages: one shared job manager, per-session handles, a live panel.

Training never runs in a page's script: a page starts a core job (in a worker process) with
`start_job`, keeps only its id in `st.session_state`, and `training_panel` draws its progress from
a fragment that reruns every second. A click elsewhere, or a visit to another page, leaves the job
running; coming back shows it where it is.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.jobs import Job, JobManager, JobSnapshot, JobState
from ui.state import session_id

_REAP_EVERY_SECONDS = 30.0
_REAP_AFTER_GONE_SECONDS = 120.0  # a closed tab's jobs are stopped after this long


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """The server's one job manager (a bounded worker pool shared by every session)."""
    manager = JobManager()
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
    if owner == "local" or runtime.is_active_session(owner):
        last_seen[owner] = now
        return True
    return now - last_seen.setdefault(owner, now) < _REAP_AFTER_GONE_SECONDS


def _state_key(key: str) -> str:
    return f"_job_{key}"


def current_job(key: str) -> Job | None:
    """This session's job under `key` ("forecast", "nextword", ...), if any."""
    job_id = st.session_state.get(_state_key(key))
    return job_manager().get(job_id) if job_id else None


def is_busy(key: str) -> bool:
    """True while this session's job under `key` waits or runs (pages disable their controls)."""
    job = current_job(key)
    return job is not None and not job.state.finished


def start_job(key: str, task: str, payload: Any) -> Job:
    """Start `task` for this session under `key`, replacing (and forgetting) the previous one."""
    manager = job_manager()
    previous = current_job(key)
    if previous is not None:
        manager.discard(previous)
    job = manager.submit(task, payload, owner=session_id())
    st.session_state[_state_key(key)] = job.id
    st.session_state[f"{_state_key(key)}_shown"] = False
    return job


def forget_job(key: str) -> None:
    job = current_job(key)
    if job is not None:
        job_manager().discard(job)
    st.session_state.pop(_state_key(key), None)


def finished_run(
    key: str, run_key: str, config: Any, *, waiting: str, nothing: str
) -> tuple[Job, dict] | None:
    """The finished job under `key` and the page's record of its run (`st.session_state[run_key]`,
    holding the "config" it trained with), or None after saying why there is no result yet."""
    job = current_job(key)
    run = st.session_state.get(run_key)
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


def training_panel(
    key: str,
    *,
    metrics: tuple[str, ...] = ("loss", "val_loss"),
    labels: dict[str, str] | None = None,
) -> JobSnapshot | None:
    """Live progress of this session's job under `key`: status, progress bar, loss chart, Stop.

    Returns the latest snapshot (None when there is no job). When the job finishes, the whole
    page reruns once so that the results below the panel appear.
    """
    job = current_job(key)
    if job is None:
        return None
    if job.state.finished:
        snapshot = job.snapshot()
        _draw_panel(job, snapshot, metrics, labels or {})
        return snapshot
    _live_panel(key, metrics, labels or {})
    return job.snapshot()


@st.fragment(run_every=1.0)
def _live_panel(key: str, metrics: tuple[str, ...], labels: dict[str, str]) -> None:
    job = current_job(key)
    if job is None:
        return
    snapshot = job.snapshot()
    _draw_panel(job, snapshot, metrics, labels)
    if snapshot.finished and not st.session_state.get(f"{_state_key(key)}_shown"):
        st.session_state[f"{_state_key(key)}_shown"] = True
        st.rerun()  # the whole page, so the results appear


def _draw_panel(
    job: Job, snapshot: JobSnapshot, metrics: tuple[str, ...], labels: dict[str, str]
) -> None:
    if snapshot.state == JobState.QUEUED and job_manager().warming_up:
        st.info("Starting the training engine (loading TensorFlow takes a few seconds)...")
    elif snapshot.state == JobState.QUEUED:
        wait = snapshot.wait_seconds
        estimate = f" (about {_duration(wait)})" if wait is not None else ""
        st.info(
            f"Waiting for a free trainer: you are number {snapshot.queue_position} in the queue"
            f"{estimate}. Other people are training right now."
        )
    elif snapshot.state == JobState.RUNNING:
        fraction = snapshot.epoch / snapshot.epochs if snapshot.epochs else 0.0
        left = f", about {_duration(snapshot.eta_seconds)} left" if snapshot.eta_seconds else ""
        st.progress(
            min(fraction, 1.0),
            text=f"Epoch {snapshot.epoch} of {snapshot.epochs or '?'}{left}",
        )
        st.button(
            "Stop training",
            key=f"stop-{job.id}",
            on_click=job.stop,
            help="Ends training now and keeps the best model found so far.",
        )
    elif snapshot.state == JobState.FAILED:
        st.error(snapshot.message)
    elif snapshot.state == JobState.STOPPED:
        st.warning(
            f"Training was stopped after {snapshot.epoch} epochs; the best model so far is kept."
        )
    elif snapshot.state == JobState.CANCELLED:
        st.warning(snapshot.message)
    elif snapshot.state == JobState.DONE:
        st.success(
            f"Trained {snapshot.epoch} epochs in {_duration(snapshot.elapsed_seconds)}."
        )
    if snapshot.logs:
        st.plotly_chart(
            loss_figure(snapshot.logs, metrics, labels),
            key=f"loss-{job.id}-{snapshot.epoch}-{snapshot.state.value}",
            width="stretch",
        )


def loss_figure(
    logs: tuple[dict, ...] | list[dict],
    metrics: tuple[str, ...] = ("loss", "val_loss"),
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """Loss curves by epoch (training solid, validation dashed)."""
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
