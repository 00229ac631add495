"""The forecast page's backtest: the model and the baselines from several origins, as one job.

One good holdout can be luck. `backtest_step` runs K folds (`core.forecast.backtest`) in a
worker, then draws each fold's forecast against the truth (each fold its own colour, over the
history) and a table of each fold's MASE for every forecaster with their means.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.config import ForecastConfig
from core.data import Series
from core.errors import RNNLabError
from core.forecast.backtest import (
    MAX_FOLDS,
    MODEL,
    TASK,
    BacktestResult,
    check_folds,
    covariates_for,
    fold_winners,
    mase_range,
    resolved_for_backtest,
)
from core.forecast.baselines import label_of
from core.forecast.covariates import Covariates
from ui import controls
from ui.forecast_view import COLOURS, recent_view, time_format, zoom_buttons
from ui.jobs import current_job, is_busy, start_job, training_panel

JOB_KEY = "backtest"
FOLDS_KEY = "bt_folds"
READY_KEY = "_bt_ready"  # the series and settings the Start button would use now
# One colour per fold (Plotly's qualitative 'Bold'), distinct from the history's grey.
FOLD_COLOURS = ("#7F3C8D", "#11A579", "#3969AC", "#F2B701", "#E73F74", "#80BA5A", "#E68310",
                "#008695", "#CF1C90", "#f97b72")


def backtest_step(series: Series | None, config: ForecastConfig | None, busy: bool,
                  covariates: Covariates | None = None) -> None:
    """The section: folds, Start, the live panel, then the chart and the scores.
    `covariates`: the explanatory columns chosen with the data (each fold's network reads
    them; the baselines cannot)."""
    st.subheader("Check from several origins (backtest)", anchor="backtest")
    st.caption(
        "One good holdout can be luck. A backtest goes back in time: from each of K starting "
        "points (one horizon apart, the last one a horizon before the end), the model and every "
        "baseline are trained again on the data before it only, and forecast the next horizon. "
        "Similar scores in every fold mean the holdout's verdict can be trusted."
    )
    ready = series is not None and config is not None
    st.session_state[READY_KEY] = (series, config, covariates) if ready else None
    if ready and covariates is not None and covariates.used:
        st.info(f"Each fold's network reads the explanatory columns chosen with the data: "
                f"{covariates.describe()}. Over a fold's points, known-in-advance values come "
                "from the file, as they would be known then. The baselines read none.",
                icon=":material/insights:")
    running = is_busy(JOB_KEY)
    left, _ = st.columns([1, 3])
    left.number_input("Folds", min_value=1, max_value=MAX_FOLDS, value=3, step=1, key=FOLDS_KEY,
                      disabled=running,
                      help="How many starting points. Each fold trains the network again, so "
                      "3 folds take about three trainings.")
    st.button("Run backtest", key="bt-start", on_click=start_backtest,
              disabled=busy or running or not ready,
              help="Runs in the background, like training. The settings above are used.")
    if not ready and current_job(JOB_KEY) is None:
        st.caption("Choose data and settings above first.")
    elif busy and not running:
        st.caption("The model is training: the backtest can start when it has finished.")
    error = st.session_state.pop("_bt_error", None)
    if error:
        st.error(error)
    training_panel(JOB_KEY, figure=fold_progress_figure, steps="Fold")
    job = current_job(JOB_KEY)
    if job is None or not job.state.finished or job.result is None:
        return
    run = job.note or {}
    show_backtest(run.get("series", series), job.result, key=job.id)


def start_backtest() -> None:
    """The Start button's callback (before the page script runs: the panel shows at once)."""
    ready = st.session_state.get(READY_KEY)
    if ready is None or is_busy(JOB_KEY):
        return
    series, _, covariates = ready
    folds = int(st.session_state.get(FOLDS_KEY) or 3)
    try:
        # The model controls read again: a number typed just before the click arrives with the
        # click, after the run that kept `ready` (which would backtest the old settings).
        config = controls.config_from_state(st.session_state)
        resolved = resolved_for_backtest(series, config)
        check_folds(len(series.values), folds, resolved.horizon)
        covariates = covariates_for(config, covariates, "the backtest", series)
    except RNNLabError as error:
        st.session_state["_bt_error"] = f"**The backtest cannot run.** {error}"
        return
    payload = {"series": series, "config": config.to_dict(), "folds": folds}
    if covariates is not None:
        payload["covariates"] = covariates
    start_job(JOB_KEY, TASK, payload, record={"series": series, "config": config})


def fold_progress_figure(logs: tuple[dict, ...] | list[dict]) -> go.Figure:
    """The live panel's chart: each finished fold's MASE, the model against the baselines."""
    figure = go.Figure()
    folds = [log["epoch"] for log in logs]
    names = [key[5:] for key in (logs[0] if logs else {}) if key.startswith("mase_")]
    for name in names:
        model = name == MODEL
        figure.add_trace(go.Scatter(
            x=folds, y=[log.get(f"mase_{name}") for log in logs], mode="lines+markers",
            name="model" if model else label_of(name),
            line={"color": COLOURS["model"] if model else COLOURS.get(name, "#999999"),
                  "width": 3 if model else 1.5, "dash": "solid" if model else "dot"},
        ))
    figure.update_layout(height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         xaxis={"title": "fold", "dtick": 1}, yaxis_title="MASE",
                         legend={"orientation": "h", "y": 1.15},
                         title={"text": "Each fold's error so far", "font": {"size": 14}})
    return figure


def backtest_figure(series: Series, result: BacktestResult) -> go.Figure:
    """The history, then each fold's model forecast as its own coloured segment over the truth
    (the best baseline by mean MASE dotted in the same colour, the others a legend click away)."""
    report, frame = result.report, result.forecasts
    figure = go.Figure()
    time = list(series.time)
    figure.add_trace(go.Scatter(x=time, y=series.values, mode="lines", name="the series (truth)",
                                line={"color": COLOURS["history"], "width": 1.5}))
    baselines = [name for name in report["mean"] if name != MODEL]
    best = _best_baseline(report)
    first_fold = frame["fold"].min()
    for fold, part in frame.groupby("fold", sort=True):
        colour = FOLD_COLOURS[(int(fold) - 1) % len(FOLD_COLOURS)]
        row = report["folds"][int(fold) - 1]
        mase = row["scores"][MODEL]["mase"]
        score = f", MASE {mase:.2f}" if mase is not None else ""
        x = list(part["time"])
        figure.add_trace(go.Scatter(
            x=x, y=part["actual"], mode="markers", showlegend=False, hoverinfo="skip",
            marker={"color": COLOURS["truth"], "size": 5},
        ))
        figure.add_trace(go.Scatter(
            x=x, y=part[MODEL], mode="lines+markers",
            name=f"fold {fold}: {result.model_label} from {row['start']}{score}",
            line={"color": colour, "width": 3}, marker={"size": 5},
        ))
        for name in baselines:
            # One legend entry per baseline (it shows or hides that baseline in every fold):
            # one per fold and baseline made a legend of three lines for two folds.
            figure.add_trace(go.Scatter(
                x=x, y=part[name], mode="lines", name=label_of(name), legendgroup=name,
                showlegend=bool(fold == first_fold), hovertemplate=f"fold {fold}: %{{y}}",
                line={"color": colour, "width": 1.5, "dash": "dot"},
                visible=True if name == best else "legendonly",
            ))
        figure.add_vline(x=x[0], line={"color": "#ced4da", "dash": "dot"})
    figure.update_layout(
        height=480, margin={"l": 10, "r": 10, "t": 70, "b": 10}, yaxis_title=series.name,
        hovermode="x unified", legend={"orientation": "h", "y": -0.25},
        title={"text": f"{len(report['folds'])} folds of {report['horizon']} steps: each "
               "fold's forecast against the truth", "font": {"size": 16}, "y": 0.97},
    )
    figure.update_xaxes(hoverformat=time_format(series.freq, series.time))
    first = report["folds"][0]["origin"] if report["folds"] else len(time)
    start = recent_view(series.time, first, series.season)
    if start > 0:
        zoom_buttons(figure, [time[start], time[-1]], None)
    return figure


def scores_frame(result: BacktestResult) -> pd.DataFrame:
    """One row per forecaster: its MASE in each fold, then its mean MASE, sMAPE and MAE."""
    report = result.report
    rows = []
    for name, means in report["mean"].items():
        label = f"{result.model_label} (this model)" if name == MODEL else label_of(name)
        row = {"forecaster": label}
        for index, fold in enumerate(report["folds"], start=1):
            row[f"fold {index} MASE"] = _number(fold["scores"][name]["mase"])
        row["mean MASE"] = _number(means["mase"])
        row["mean sMAPE %"] = _number(means["smape"])
        row["mean MAE"] = _number(means["mae"])
        row["best"] = "best" if name == report["best"] else ""
        rows.append(row)
    return pd.DataFrame(rows)


def summary(result: BacktestResult) -> str:
    """One plain line: how much the model's error moved between folds, and who won where."""
    report = result.report
    folds = len(report["folds"])
    spread = mase_range(report)
    winners = fold_winners(report)
    model_wins = winners.count(MODEL)
    mean = report["mean"][MODEL]["mase"]
    best = report["best"]
    parts = []
    if spread is not None and mean is not None:
        low, high = spread
        parts.append(f"{result.model_label}'s MASE went from {low:.2f} to {high:.2f} over "
                     f"{folds} fold(s) (mean {mean:.2f}).")
    parts.append(f"It had the lowest error in {model_wins} of {folds} fold(s).")
    if best == MODEL:
        parts.append("On average it was the best forecaster.")
    else:
        best_mean = report["mean"][best]["mase"]
        best_text = f" ({best_mean:.2f})" if best_mean is not None else ""
        parts.append(f"On average {label_of(best)} was best{best_text}.")
    return " ".join(parts)


def show_backtest(series: Series, result: BacktestResult, key: str) -> None:
    """The chart, the summary line and the table of fold scores."""
    if result.stopped:
        st.warning(f"Stopped: these are the {len(result.report['folds'])} fold(s) finished "
                   "before the Stop click.")
    st.plotly_chart(backtest_figure(series, result), key=f"backtest-{key}", width="stretch")
    st.markdown(f"**Backtest.** {summary(result)}")
    if result.report.get("covariates"):
        st.caption(f"Each fold's network read {result.report['covariates']}; the baselines "
                   "read none.")
    st.dataframe(
        scores_frame(result), hide_index=True, width="stretch", key=f"backtest-scores-{key}",
        column_config={"best": st.column_config.TextColumn(
            "", help="The lowest mean MASE over the folds.")},
    )
    st.caption("MASE below 1: better than copying last season inside the training data. Each "
               "fold's forecasters saw only the data before its start.")


def _best_baseline(report: dict) -> str | None:
    scores = {name: means["mase"] for name, means in report["mean"].items()
              if name != MODEL and means["mase"] is not None}
    return min(scores, key=scores.get) if scores else None


def _number(value) -> float:
    return float(value) if value is not None and math.isfinite(value) else math.nan
