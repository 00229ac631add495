"""The forecast page for every series of a file at once: one global network (issue 13, item 2).

When the file holds several series, `all_series_option` offers "Forecast all series"; chosen,
`all_series_steps` draws the model, train and results steps for the whole panel: the same
model settings, one job (`core.forecasting_many.forecast_all_task`) with the live panel every
page uses, then a table of per-series scores against the baselines, the overall geometric-mean
MASE, a chart per series on demand and one CSV of every forecast with the id column(s).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.cells import get_cell
from core.data import Panel, Series
from core.errors import RNNLabError
from core.export import safe_csv
from core.forecast.baselines import label_of
from core.forecasting import ONE_SERIES_FILE, model_file_kind, uses_covariates
from core.forecasting_many import (
    SAVED_TASK,
    TASK,
    ManyForecastResult,
    SavedManyForecast,
    panel_with_covariates,
    with_covariate_horizon,
)
from ui import controls, loaders
from ui.controls import DataFile
from ui.forecast_view import COLOURS, time_format
from ui.jobs import finished_run, is_busy, start_job, training_panel
from ui.loaders import ReadOptions, SeriesOptions
from ui.model_files import model_upload, saved_at

JOB_KEY = "forecast_all"
RUN_KEY = "_fc_all_run"
PANEL_KEY = "_fc_all_panel"  # the panel of the file shown, when "all series" is chosen
READY_KEY = "_fc_all_ready"  # the panel, settings and covariates the Train button would use
SOURCE_KEY = "_fc_all_source"  # the file, read options and series choice the panel came from
SAVED_KEY = "forecast_all_saved"  # a saved all-series model forecasting every series, no training
SAVED_RUN_KEY = "_fc_all_saved_run"


def busy() -> bool:
    return is_busy(JOB_KEY)


def all_series_option(file: DataFile, options: ReadOptions, choice: SeriesOptions,
                      disabled: bool = False) -> Panel | None:
    """In a file of several series, a switch to forecast them all; when on, the file's panel
    (every usable series, with notes) is returned and kept for the steps below."""
    st.session_state[PANEL_KEY] = None
    if not choice.id_cols:
        return None
    wanted = st.toggle(
        "Forecast all series",
        key=f"fc_all_{file.token}",
        disabled=disabled,
        help="Train one network on the windows of every series of the file (each scaled on "
        "its own), forecast each, and compare each with the baselines on its own holdout.",
        **controls.PERSIST,
    )
    if not wanted:
        return None
    try:
        panel = loaders.load_panel(file.data, options, choice, file.name)
    except RNNLabError as error:
        st.error(f"**The series of this file cannot be forecast together.** {error}")
        return None
    st.caption(f"{len(panel)} series will be forecast with one network "
               f"({', '.join(list(panel)[:8])}{', ...' if len(panel) > 8 else ''}).")
    for note in panel.notes:
        st.caption(f":material/info: {note}")
    st.session_state[PANEL_KEY] = panel
    st.session_state[SOURCE_KEY] = (file.data, options, choice, file.name)
    return panel


def chosen_panel() -> Panel | None:
    """The panel `all_series_option` returned on this run (None: one series is forecast, or
    the data step stopped before offering the choice). Read once per run."""
    return st.session_state.pop(PANEL_KEY, None)


def _start() -> None:
    """The Train button's callback (before the page script runs, like the one-series page)."""
    ready = st.session_state.get(READY_KEY)
    if ready is None or busy():
        return
    panel, _, covariates = ready
    try:
        config = controls.config_from_state(st.session_state)
    except RNNLabError:
        return  # the model step shows what is wrong
    run = {"panel": panel, "config": config}
    payload = {"panel": panel, "config": config.to_dict()}
    if covariates:
        payload["covariates"] = covariates
    if start_job(JOB_KEY, TASK, payload, record=run):
        st.session_state[RUN_KEY] = run


def all_series_steps(panel: Panel, locked: bool) -> None:
    """Steps 2-4 for every series: settings, one training job, the results."""
    st.header("2. Model", anchor="model")
    config = None
    try:
        config = controls.forecast_settings(disabled=locked)
    except RNNLabError as error:
        st.error(f"**These settings do not fit together.** {error}")
    covariates = {}
    if config is not None and uses_covariates(config):
        try:
            panel, covariates = _covariates_of(config)
        except RNNLabError as error:
            st.error(f"**These covariates cannot be used for every series.** {error}")
            config = None
    if config is not None:
        try:
            usable, skipped, resolved = with_covariate_horizon(panel, config, covariates)
        except RNNLabError as error:
            st.error(f"**These settings do not fit these series.** {error}")
            config = None
    if config is not None:
        st.caption(
            f"One {get_cell(config.cell).name} network learns from the windows of all "
            f"{len(usable)} series; each keeps its own scale and seasonal starting point. "
            f"Horizon {resolved.horizon}, holdout {resolved.holdout} (the last points of each "
            f"series, hidden from training), season {resolved.season}."
            + (f" Too short for that holdout, left out: {', '.join(skipped)}." if skipped else "")
        )
        if covariates:
            used = next(iter(covariates.values())).describe()
            st.caption(f"Each series' own {used} are inputs of the network (scaled per "
                       "series); the same network without them is trained too, to say whether "
                       "they helped.")
    st.session_state[READY_KEY] = (panel, config, covariates) if config is not None else None
    saved_model_step(panel, locked)

    st.header("3. Train", anchor="train")
    st.button(
        f"Train one network on all {len(panel)} series",
        key="train-all",
        type="primary",
        disabled=locked or config is None,
        on_click=_start,
        help="Starts training in the background; the learning curve appears below.",
    )
    if training_panel(JOB_KEY) is None:
        st.caption("Press the button to start. The learning curve appears here.")

    st.header("4. Results", anchor="results")
    finished = finished_run(
        JOB_KEY, RUN_KEY, config,
        waiting="Each series' forecast, its scores against the baselines and one download of "
        "every forecast appear here when training has finished.",
        nothing="This run produced no forecast (see the message above). Change the settings "
        "and train again.",
    )
    if finished is not None:
        job, run = finished
        show_all_results(run["panel"], job.result, key=job.id)


def saved_model_step(panel: Panel, locked: bool) -> None:
    """Forecast every series of the file shown with an all-series model file saved earlier,
    without training (one job; a model with covariates reads them from the same file)."""
    with st.expander("Forecast with a saved model instead (no training)"):
        upload = model_upload("fc-all-model-file", disabled=locked)
        if st.button("Forecast every series with this model", key="fc-all-use-model",
                     disabled=locked or upload is None,
                     help="Forecasts past the end of every series above with the uploaded "
                     "model, without training. The file must have been saved with \"Forecast "
                     "all series\" on, from series of the same frequency."):
            payload = _saved_payload(upload.getvalue(), panel)
            if payload is not None:
                start_job(SAVED_KEY, SAVED_TASK, payload, record={"panel": panel, "config": None})
        training_panel(SAVED_KEY)
        finished = finished_run(
            SAVED_KEY, SAVED_RUN_KEY, None,
            waiting="Upload a model file downloaded from this page after training on all "
            "series, then press **Forecast every series with this model**.",
            nothing="The model file could not be used (see the message above).",
        )
        if finished is not None:
            job, run = finished
            show_saved_results(run["panel"], job.result, key=job.id)


def _saved_payload(model: bytes, panel: Panel) -> dict | None:
    """The saved-model job's payload: the panel, and the file it came from (a model trained
    with covariates reads them there). None, with a message, for a one-series model file."""
    if model_file_kind(model) == "forecast":
        st.error(f"**This model file is for one series.** {ONE_SERIES_FILE}")
        return None
    payload = {"model": model, "panel": panel}
    source = st.session_state.get(SOURCE_KEY)
    if source is not None:
        data, options, choice, name = source
        try:
            payload["table"] = loaders.load_table(data, options, name)
        except RNNLabError:
            return payload  # the data step says why; a model with covariates is refused in the job
        payload["read"] = {"target": choice.target, "date_col": choice.date_col,
                           "id_cols": choice.id_cols, "missing": choice.missing,
                           "freq": choice.freq}
    return payload


def _covariates_of(config):
    """The panel (without the future rows) and each series' covariates the settings name."""
    source = st.session_state.get(SOURCE_KEY)
    if source is None:
        raise RNNLabError("Choose the file again: its series were not read on this run.")
    data, options, choice, name = source
    return _panel_covariates(data, options, choice, name, config.covariates,
                             config.past_covariates, bool(config.calendar))


@st.cache_data(show_spinner="Reading the covariates of every series...", max_entries=8)
def _panel_covariates(data: bytes, options, choice, name: str, known: str, past: str,
                      calendar: bool):
    return panel_with_covariates(loaders.load_table(data, options, name), choice.target,
                                 choice.date_col, choice.id_cols, choice.missing, choice.freq,
                                 known, past, calendar)


# ---------------------------------------------------------------------------------------------
# Results


def show_all_results(panel: Panel, result: ManyForecastResult, key: str) -> None:
    """Verdict, overall gMASE, the per-series table, a chart per series, the CSV download."""
    model = result.overall.get("model", math.nan)
    wins = result.wins()
    (st.success if _beats_baselines(result) else st.info)(result.verdict())
    columns = st.columns(3)
    columns[0].metric("Series forecast", len(result.scores),
                      help="Series too short for the holdout are left out (see the notes).")
    columns[1].metric("Geometric-mean MASE (model)", f"{model:.3f}" if math.isfinite(model) else "n/a",
                      help="MASE below 1: better than copying last season inside the training "
                      "data. The geometric mean over the series keeps one series from "
                      "dominating.")
    columns[2].metric("Series where the model was best", f"{wins} of {len(result.scores)}")
    for note in result.notes:
        st.caption(f":material/info: {note}")
    if result.covariates:
        (st.success if result.covariates["helped"] else st.info)(result.covariates["text"])

    st.subheader("Scores per series (MASE on each holdout, lower is better)")
    st.dataframe(score_frame(result), hide_index=True, width="stretch", key=f"many-scores-{key}")
    st.dataframe(overall_frame(result), hide_index=True, key=f"many-overall-{key}")

    st.subheader("One series' forecast")
    keys = list(result.scores)
    shown = st.selectbox("Series to draw", keys, key=f"many-chart-{key}",
                         help="The chart of one series: its history, the holdout, the model's "
                         "forecast with its 95% interval and the best baseline.")
    if shown in panel:
        st.plotly_chart(series_chart(panel[shown], result, shown), key=f"many-fig-{key}-{shown}",
                        width="stretch")

    left, right = st.columns(2)
    left.download_button(
        "Download every forecast (CSV)",
        data=safe_csv(result.forecast),
        file_name="rnnlab-forecast-all-series.csv",
        mime="text/csv",
        key=f"many-download-{key}",
        on_click="ignore",
        help="One file: the id column(s), then for each series its holdout and future rows with "
        "the model's forecast, its intervals and each baseline's forecast.",
    )
    model_path = Path(result.model_path) if result.model_path else None
    if model_path is not None and model_path.is_file():
        right.download_button(
            "Download model (.rnnlab)",
            data=model_path.read_bytes(),
            file_name=f"rnnlab-forecast-all-series-{result.config.cell}.rnnlab",
            mime="application/octet-stream",
            key=f"many-download-model-{key}",
            on_click="ignore",
            help="The global network and what each series' forecast learnt, in one RNN Lab "
            "model file: upload it later under 'Forecast with a saved model' with 'Forecast all "
            "series' on (or use 'python -m core predict --model FILE --data YOUR_FILE') to "
            "forecast every series of new data without training.",
        )
    else:
        right.caption("The model file is gone (the server was restarted); train again.")


def show_saved_results(panel: Panel, saved: SavedManyForecast, key: str) -> None:
    """A saved model's forecast of every series: what it is, a chart per series on demand, the
    table and one CSV with the id column(s)."""
    st.success(f"{len(saved.ids)} series forecast {saved.horizon} steps after their end by the "
               f"saved {saved.label} (saved {saved_at(saved.created) or 'earlier'}) in "
               f"{saved.seconds:.1f} s, without training.")
    for note in saved.notes:
        st.caption(f":material/info: {note}")
    shown = st.selectbox("Series to draw", list(saved.ids), key=f"many-saved-chart-{key}",
                         help="One series' history and the saved model's forecast with its 95% "
                         "interval.")
    if shown in panel:
        st.plotly_chart(saved_chart(panel[shown], saved, shown),
                        key=f"many-saved-fig-{key}-{shown}", width="stretch")
    st.dataframe(saved.forecast, hide_index=True, width="stretch", key=f"many-saved-table-{key}")
    st.download_button(
        "Download forecasts (CSV)",
        data=safe_csv(saved.forecast),
        file_name="rnnlab-saved-model-forecast-all-series.csv",
        mime="text/csv",
        key=f"many-saved-download-{key}",
        on_click="ignore",
        help="One file: the id column(s), then each series' future rows with the forecast and "
        "its 80% and 95% intervals.",
    )


def saved_chart(series: Series, saved: SavedManyForecast, key: str) -> go.Figure:
    """One series: its history and the saved model's forecast with the 95% band."""
    rows = saved.rows_of(key)
    figure = go.Figure(go.Scatter(x=list(series.time), y=series.values, mode="lines",
                                  name="history", line={"color": COLOURS["history"], "width": 1.5}))
    figure.add_trace(go.Scatter(
        x=list(rows["time"]) + list(rows["time"])[::-1],
        y=list(rows["upper_95"]) + list(rows["lower_95"])[::-1],
        fill="toself", fillcolor=f"rgba({COLOURS['band']}, 0.15)", line={"width": 0},
        name="95% interval", hoverinfo="skip"))
    figure.add_trace(go.Scatter(x=list(rows["time"]), y=rows["forecast"], mode="lines+markers",
                                name=f"{saved.label} forecast", marker={"size": 4},
                                line={"color": COLOURS["model"], "width": 2.5}))
    figure.update_layout(height=420, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         hovermode="x unified", legend={"orientation": "h", "y": -0.2},
                         title={"text": f"Series {key}", "font": {"size": 15}})
    figure.update_xaxes(hoverformat=time_format(series.freq, series.time))
    return figure


def _beats_baselines(result: ManyForecastResult) -> bool:
    model = result.overall.get("model", math.nan)
    others = [v for name, v in result.overall.items() if name != "model" and math.isfinite(v)]
    return math.isfinite(model) and bool(others) and model < min(others)


def score_frame(result: ManyForecastResult) -> pd.DataFrame:
    """The per-series table as shown: ids, points, MASE of the model and each baseline, best."""
    frame = result.score_table().rename(columns={"model": "model (MASE)"})
    return frame.round(3)


def overall_frame(result: ManyForecastResult) -> pd.DataFrame:
    """Geometric-mean MASE over the series for the model and each baseline, best first."""
    rows = [{"forecaster": "model" if name == "model" else label_of(name),
             "geometric-mean MASE": round(value, 3) if math.isfinite(value) else None}
            for name, value in result.overall.items()]
    return pd.DataFrame(rows).sort_values("geometric-mean MASE", na_position="last")


def series_chart(series: Series, result: ManyForecastResult, key: str) -> go.Figure:
    """One series: history, holdout truth, the model's forecast and 95% band, the best baseline."""
    frame = result.forecast
    for name, value in zip(result.id_names, result.ids[key], strict=True):
        frame = frame[frame[name].astype(str) == str(value)]
    holdout, future = frame[frame["part"] == "holdout"], frame[frame["part"] == "future"]
    figure = go.Figure()
    shown = len(series.values) - len(holdout) + 1  # up to the first holdout point
    figure.add_trace(go.Scatter(x=list(series.time)[:shown], y=series.values[:shown],
                                mode="lines", name="history (training part)",
                                line={"color": COLOURS["history"], "width": 1.5}))
    figure.add_trace(go.Scatter(x=list(holdout["time"]), y=holdout["actual"], mode="lines+markers",
                                name="holdout truth", line={"color": COLOURS["truth"], "width": 2},
                                marker={"size": 4}))
    label = result.model_label(key)
    for part, dash in ((holdout, "solid"), (future, "dash")):
        name = part["part"].iloc[0] if len(part) else ""
        figure.add_trace(go.Scatter(
            x=list(part["time"]) + list(part["time"])[::-1],
            y=list(part["upper_95"]) + list(part["lower_95"])[::-1],
            fill="toself", fillcolor=f"rgba({COLOURS['band']}, 0.15)", line={"width": 0},
            name=f"95% interval ({name})", hoverinfo="skip"))
        figure.add_trace(go.Scatter(x=list(part["time"]), y=part["forecast"], mode="lines+markers",
                                    name=f"{label} ({name})", marker={"size": 4},
                                    line={"color": COLOURS["model"], "width": 2.5, "dash": dash}))
    best = result.scores[key]["best"]
    if best != "model" and f"baseline_{best}" in frame:
        figure.add_trace(go.Scatter(x=list(frame["time"]), y=frame[f"baseline_{best}"],
                                    mode="lines", name=f"{label_of(best)} (best here)",
                                    line={"color": COLOURS.get(best, "#999999"), "dash": "dot"}))
    figure.update_layout(height=420, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         hovermode="x unified", legend={"orientation": "h", "y": -0.2},
                         title={"text": f"Series {key}", "font": {"size": 15}})
    figure.update_xaxes(hoverformat=time_format(series.freq, series.time))
    return figure
