"""The forecast page's "Find settings for me": an Optuna search as one job, trials live, and the
best settings applied to the controls in one click.

The search (`core.forecast.tuning`) scores candidates on the training part only, so the holdout
score of the model trained afterwards stays an honest check of what it found.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.config import ForecastConfig
from core.data import Series
from core.errors import RNNLabError
from core.forecast.backtest import covariates_for
from core.forecast.covariates import Covariates
from core.forecast.tuning import (
    DEFAULT_SEARCH,
    LIMITS,
    SEARCHABLE,
    TASK,
    WORDS,
    TuningResult,
    TuningSettings,
    describe_settings,
)
from ui import controls
from ui.jobs import current_job, is_busy, start_job, training_panel

JOB_KEY = "tuning"
BUDGET_KEY = "tn_budget"
TRIALS_KEY = "tn_trials"
MINUTES_KEY = "tn_minutes"
SEARCH_KEY = "tn_search"
READY_KEY = "_tn_ready"
APPLIED_KEY = "_tn_applied"
BUDGETS = ("trials", "minutes")
STATE_WORDS = {"complete": "scored", "pruned": "pruned (fell behind)", "diverged": "diverged",
               "stopped": "stopped", "failed": "failed"}


def tuning_step(series: Series | None, config: ForecastConfig | None, busy: bool,
                covariates: Covariates | None = None) -> None:
    """The section: budget, what to search, Start, the live trials, then Apply best settings.
    `covariates`: the explanatory columns chosen with the data (every trial's network reads
    them, as the model trained afterwards does)."""
    job = current_job(JOB_KEY)
    with st.expander("Find settings for me (hyperparameter search)", expanded=job is not None):
        st.caption(
            "Tries settings one after another (Optuna's TPE sampler picks each from the scores "
            "of the earlier ones) and scores each by forecasting the **training part** from a "
            "few starting points: the holdout stays hidden, so the score of the model you "
            "train afterwards is still an honest check. Trials train briefly (15 epochs at "
            "most), and one that falls behind the earlier ones is stopped early. The first "
            "trial is your settings now."
        )
        ready = series is not None and config is not None
        st.session_state[READY_KEY] = (series, config, covariates) if ready else None
        if ready and covariates is not None and covariates.used:
            st.info(f"Every trial's network reads the explanatory columns chosen with the data: "
                    f"{covariates.describe()}. Clear them there to search without them.",
                    icon=":material/insights:")
        running = job is not None and not job.state.finished
        left, middle, right = st.columns([1, 1, 2])
        budget = left.radio("Budget", BUDGETS, key=BUDGET_KEY, disabled=running,
                            format_func={"trials": "number of trials", "minutes": "minutes"}.get,
                            help="The search ends when this is spent (or at Stop, keeping the "
                            "best so far).")
        if budget == "trials":
            low, high = LIMITS["trials"]
            middle.number_input("Trials", min_value=int(low), max_value=int(high), value=10,
                                step=1, key=TRIALS_KEY, disabled=running,
                                help="Settings to try. 10 take a minute or two on a small "
                                "series.")
        else:
            middle.number_input("Minutes", min_value=1.0, max_value=float(LIMITS["minutes"][1]),
                                value=2.0, step=1.0, key=MINUTES_KEY, disabled=running,
                                help="Time to spend searching; the trial running then finishes.")
        right.multiselect("Settings to search", SEARCHABLE, default=list(DEFAULT_SEARCH),
                          key=SEARCH_KEY, format_func=WORDS.get, disabled=running,
                          help="The others keep the values set above. Ranges: units 8-128, "
                          "layers 1-3, window 4-72 (less on a short series), learning rate "
                          "0.0001-0.03, dropout 0-0.5, batch size 8-128.")
        st.button("Start search", key="tn-start", on_click=start_search,
                  disabled=busy or running or not ready,
                  help="Runs in the background, like training.")
        if busy and not running:
            st.caption("The model is training: the search can start when it has finished.")
        error = st.session_state.pop("_tn_error", None)
        if error:
            st.error(error)
        training_panel(JOB_KEY, figure=trials_figure, steps="Trial")
        job = current_job(JOB_KEY)
        if job is not None and job.state.finished and job.result is not None:
            show_result(job.result, busy)


def start_search() -> None:
    """The Start button's callback (before the page script runs: the panel shows at once)."""
    ready = st.session_state.get(READY_KEY)
    if ready is None or is_busy(JOB_KEY):
        return
    series, _, covariates = ready
    state = st.session_state
    by_trials = state.get(BUDGET_KEY, "trials") == "trials"
    try:
        # The model controls read again: a number typed just before the click arrives with the
        # click, after the run that kept `ready` (which would search from the old settings).
        config = controls.config_from_state(state)
        settings = TuningSettings(
            trials=int(state.get(TRIALS_KEY) or 10) if by_trials else None,
            minutes=None if by_trials else float(state.get(MINUTES_KEY) or 2.0),
            search=tuple(state.get(SEARCH_KEY) or ()),
        )
        covariates = covariates_for(config, covariates, "the search", series)
    except RNNLabError as error:
        state["_tn_error"] = f"**The search cannot start.** {error}"
        return
    state.pop(APPLIED_KEY, None)
    payload = {"series": series, "config": config.to_dict(), "settings": settings.to_dict()}
    if covariates is not None:
        payload["covariates"] = covariates
    start_job(JOB_KEY, TASK, payload, record={"series": series, "config": config})


def apply_best(best: dict) -> None:
    """Callback: the best trial's settings into the model controls (the rest stay as they are)."""
    try:
        current = controls.config_from_state(st.session_state)
        config = current.replace(**best)
    except RNNLabError as error:
        st.session_state["_tn_error"] = f"**The best settings could not be applied.** {error}"
        return
    controls.apply_settings(config)
    st.session_state[APPLIED_KEY] = best


def trials_figure(logs: tuple[dict, ...] | list[dict]) -> go.Figure:
    """The live panel's view of the search: each trial's score and the best so far, over a
    table of every trial's settings."""
    search = [name for name in SEARCHABLE if logs and name in logs[0]]
    figure = make_subplots(rows=2, cols=1, row_heights=[0.45, 0.55], vertical_spacing=0.13,
                           specs=[[{"type": "xy"}], [{"type": "table"}]])
    scored = [log for log in logs if log.get("score") is not None]
    figure.add_trace(go.Scatter(
        x=[log["trial"] for log in scored], y=[log["score"] for log in scored],
        mode="markers", name="trial's score", marker={"size": 9, "color": "#1c7ed6"},
    ), row=1, col=1)
    others = [log for log in logs if log.get("score") is None]
    if others:
        floor = min((log["score"] for log in scored), default=1.0)
        figure.add_trace(go.Scatter(
            x=[log["trial"] for log in others], y=[floor] * len(others), mode="markers",
            name="pruned or failed (no score)", marker={"symbol": "x", "size": 9,
                                                        "color": "#adb5bd"},
        ), row=1, col=1)
    figure.add_trace(go.Scatter(
        x=[log["trial"] for log in logs], y=[log.get("best") for log in logs],
        mode="lines", line={"shape": "hv", "color": "#d9480f", "width": 2},
        name="best so far",
    ), row=1, col=1)
    header = ["trial", "result", "mean MASE", *(WORDS[name] for name in search)]
    columns = [
        [log["trial"] for log in logs],
        [STATE_WORDS.get(log["state"], log["state"]) for log in logs],
        ["" if log.get("score") is None else f"{log['score']:.3f}" for log in logs],
        *([_cell(log.get(name)) for log in logs] for name in search),
    ]
    figure.add_trace(go.Table(header={"values": header, "fill_color": "#f1f3f5"},
                              cells={"values": columns}), row=2, col=1)
    # The title at the top, the legend between it and the chart (they overlapped in Chromium).
    figure.update_layout(height=560, margin={"l": 10, "r": 10, "t": 75, "b": 10},
                         legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
                         title={"text": "Trials (mean MASE on the training part's folds, lower "
                                "is better)", "font": {"size": 14}, "x": 0.01, "y": 0.985,
                                "yanchor": "top"})
    figure.update_xaxes(title_text="trial", dtick=1, row=1, col=1)
    figure.update_yaxes(title_text="MASE", row=1, col=1)
    return figure


def show_result(result: TuningResult, busy: bool) -> None:
    """The best trial in words, every trial in a table, and Apply best settings."""
    search = result.settings.search
    for note in result.notes:
        st.caption(note)
    if result.best is None:
        st.warning("No trial finished with a score (each was pruned or failed). Try a bigger "
                   "budget or other settings to search.")
        return
    best = result.best_settings
    st.success(
        f"**Best: trial {result.best['trial']}** of {len(result.trials)}, mean MASE "
        f"{result.best['score']:.3f} on the training part's {len(result.origins)} fold(s): "
        f"{describe_settings(result.best, search)}."
    )
    st.button("Apply best settings", key="tn-apply", type="primary", on_click=apply_best,
              args=(best,), disabled=busy,
              help="Sets the model controls above to these settings (the others stay as they "
              "are). Then press Train model.")
    applied = st.session_state.get(APPLIED_KEY)
    if applied == best:
        st.info("Applied to the model settings above: press **Train model** to train with "
                "them (its epochs and early stopping are yours, not the trials' short ones).")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
