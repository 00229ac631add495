"""What the forecast page shows: the series plot, the results chart, the scores, the downloads.

Pure drawing: every function takes data (a `Series`, a `ForecastResult`) and calls `st.*`;
the figures are built by separate functions so that tests and the benchmark can use them.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data import Series, describe
from core.export import safe_csv
from core.forecast.baselines import label_of
from core.forecasting import ForecastResult, verdict
from ui.controls import settings_file

COLOURS = {
    "history": "#4c566a",
    "truth": "#111111",
    "model": "#d9480f",
    "future": "#d9480f",
    "band": "217, 72, 15",
    "naive": "#868e96",
    "seasonal_naive": "#1c7ed6",
    "drift": "#37b24d",
    "autoets": "#ae3ec9",
    "autotheta": "#f08c00",
    "network": "#c2255c",
}
METRIC_HELP = {
    "MAE": "Mean absolute error: the typical size of a miss, in the series' own units.",
    "RMSE": "Root mean squared error: like MAE, but large misses count more.",
    "sMAPE %": "Symmetric mean absolute percentage error: the typical miss in percent.",
    "MASE": "Error relative to copying last season inside the training data: below 1 is good. "
    "The verdict compares this one.",
}


# ---------------------------------------------------------------------------------------------
# Step 1: the data


def series_summary(series: Series) -> None:
    """Length, time span, frequency, season and what was filled, in one line."""
    facts = describe(series)
    span = (f"from {time_text(facts['start'], series.freq)} to "
            f"{time_text(facts['end'], series.freq)}")
    frequency = facts["frequency"] or "no regular frequency"
    filled = facts["missing_filled"]
    filled_text = f", {filled} missing value(s) filled" if filled else ", no missing values"
    st.markdown(
        f"**{facts['name']}**: {facts['length']} points {span}, frequency **{frequency}**, "
        f"season {facts['season']}{filled_text}."
    )
    for note in series.notes:
        st.caption(f":material/info: {note}")


def series_figure(series: Series) -> go.Figure:
    figure = go.Figure(
        go.Scatter(
            x=list(series.time),
            y=series.values,
            mode="lines",
            name=series.name,
            line={"color": COLOURS["history"]},
        )
    )
    figure.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis_title=series.name,
        hovermode="x unified",
    )
    figure.update_xaxes(hoverformat=time_format(series.freq, series.time))
    if len(series) > 500:  # a long history: a slider to look closer
        figure.update_layout(height=340)
        figure.update_xaxes(rangeslider={"visible": True, "thickness": 0.1})
    return figure


def time_format(freq: str | None, time: pd.Index | None = None) -> str:
    """The strftime pattern that shows a time at the series' own precision: a month as
    2024-03, a day as 2024-03-01, an hour as 2024-03-01 13:00 (plotly reads it too)."""
    base = (freq or "").split("-")[0].lstrip("0123456789")
    if base in ("YS", "YE", "Y", "A", "AS"):
        return "%Y"
    if base in ("MS", "ME", "M", "QS", "QE", "Q", "BMS", "BME", "BQS", "BQE", "SMS", "SME"):
        return "%Y-%m"
    if base in ("h", "min", "s", "ms", "us", "ns", "T", "S", "H"):
        return "%Y-%m-%d %H:%M"
    if base in ("D", "B", "W", "C"):
        return "%Y-%m-%d"
    # Irregular or unknown: as precise as the times themselves.
    if isinstance(time, pd.DatetimeIndex) and len(time) and (time != time.normalize()).any():
        return "%Y-%m-%d %H:%M"
    return "%Y-%m-%d"


def time_text(value, freq: str | None = None) -> str:
    """A time as a person reads it at the series' precision; row numbers as they are."""
    if isinstance(value, pd.Timestamp):
        fmt = time_format(freq, pd.DatetimeIndex([value]))
        if fmt == "%Y-%m" and (freq or "").startswith("Q"):
            return f"{value.year} Q{value.quarter}"
        return value.strftime(fmt)
    return str(value)


def recent_view(time: pd.Index, first_forecast: int, season: int) -> int:
    """Where a forecast chart opens: the index of the first history point shown.

    A few seasons (or, with no season, a few forecast lengths) before the first forecast
    point, so the forecast is not squeezed into the last pixels of a long history; 0 when the
    whole history is short enough to show.
    """
    ahead = max(len(time) - first_forecast, 1)
    shown = max(3 * season if season > 1 else 0, 4 * ahead, 36)
    if first_forecast <= 2 * shown:
        return 0
    return first_forecast - shown


def zoom_buttons(figure: go.Figure, x_range: list, y_range: list | None) -> None:
    """Open zoomed on `x_range`, with a range slider and buttons for the full history."""
    recent = {"xaxis.range": x_range, "xaxis.autorange": False}
    if y_range is not None:
        recent.update({"yaxis.range": y_range, "yaxis.autorange": False})
    figure.update_layout(
        xaxis={"range": x_range, "rangeslider": {"visible": True, "thickness": 0.08}},
        yaxis={"range": y_range} if y_range is not None else {},
        updatemenus=[{
            "type": "buttons",
            "direction": "right",
            "x": 0,
            "y": 1.0,
            "xanchor": "left",
            "yanchor": "bottom",
            "pad": {"b": 4},
            "showactive": True,
            "buttons": [
                {"label": "Recent", "method": "relayout", "args": [recent]},
                {"label": "All history", "method": "relayout",
                 "args": [{"xaxis.autorange": True, "yaxis.autorange": True}]},
            ],
        }],
    )


# ---------------------------------------------------------------------------------------------
# Step 4: results


def results_figure(series: Series, result: ForecastResult) -> go.Figure:
    """History, holdout truth, the model's forecast with 80%/95% bands, baselines, future."""
    frame = result.forecast
    holdout = frame[frame["part"] == "holdout"]
    future = frame[frame["part"] == "future"]
    train_length = len(series.values) - len(holdout)
    time = list(series.time)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=time[: train_length + 1],
            y=series.values[: train_length + 1],
            mode="lines",
            name="history (training part)",
            line={"color": COLOURS["history"], "width": 1.5},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=list(holdout["time"]),
            y=holdout["actual"],
            mode="lines+markers",
            name="holdout truth (hidden from training)",
            line={"color": COLOURS["truth"], "width": 2},
            marker={"size": 5},
        )
    )
    for part, label, dash in ((holdout, "holdout", "solid"), (future, "future", "dash")):
        _add_bands(figure, part, label)
        figure.add_trace(
            go.Scatter(
                x=list(part["time"]),
                y=part["forecast"],
                mode="lines+markers",
                name=f"{result.model_label} forecast ({label})",
                line={"color": COLOURS["model"], "width": 2.5, "dash": dash},
                marker={"size": 5},
            )
        )
    if result.network is not None:
        figure.add_trace(
            go.Scatter(
                x=list(result.network["time"]),
                y=result.network["network"],
                mode="lines",
                name=f"{result.cell_name} alone (the network's part)",
                line={"color": COLOURS["network"], "width": 1.5, "dash": "dashdot"},
                visible="legendonly",
            )
        )
    best = _best_baseline_name(result)
    for name in result.baselines.columns:
        if name in ("time", "part"):
            continue
        figure.add_trace(
            go.Scatter(
                x=list(result.baselines["time"]),
                y=result.baselines[name],
                mode="lines",
                name=f"{label_of(name)} (baseline)",
                line={"color": COLOURS.get(name, "#999999"), "width": 1.5, "dash": "dot"},
                visible=True if name == best else "legendonly",
            )
        )
    if len(holdout):
        figure.add_vline(x=holdout["time"].iloc[0], line={"color": "#adb5bd", "dash": "dot"})
    figure.update_layout(
        height=500,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        yaxis_title=series.name,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.25},
        title={"text": f"{result.model_label} forecast of {series.name}", "font": {"size": 16},
               "y": 0.97},
    )
    figure.update_xaxes(hoverformat=time_format(series.freq, series.time))
    start = recent_view(series.time, train_length, series.season)
    if start > 0:
        shown_from = time[start]
        last = future["time"].iloc[-1] if len(future) else time[-1]
        zoom_buttons(figure, [shown_from, last], _visible_range(figure, shown_from))
    return figure


def _visible_range(figure: go.Figure, shown_from) -> list[float] | None:
    """The y range of everything drawn from `shown_from` on (hidden baselines left out)."""
    low, high = math.inf, -math.inf
    for trace in figure.data:
        if trace.visible == "legendonly" or trace.x is None or trace.y is None:
            continue
        for x, y in zip(trace.x, trace.y, strict=False):
            if y is None or x is None or not _at_or_after(x, shown_from):
                continue
            value = float(y)
            if math.isfinite(value):
                low, high = min(low, value), max(high, value)
    if not math.isfinite(low):
        return None
    pad = 0.05 * (high - low) or abs(high) * 0.05 or 1.0
    return [low - pad, high + pad]


def _at_or_after(x, start) -> bool:
    if isinstance(start, pd.Timestamp):
        return pd.Timestamp(x) >= start
    return x >= start


def _add_bands(figure: go.Figure, part: pd.DataFrame, label: str) -> None:
    for percent, alpha in ((95, 0.12), (80, 0.25)):
        x = list(part["time"])
        figure.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=list(part[f"upper_{percent}"]) + list(part[f"lower_{percent}"])[::-1],
                mode="lines",  # Plotly's default adds a marker dot per point below 20 points
                fill="toself",
                fillcolor=f"rgba({COLOURS['band']}, {alpha})",
                line={"width": 0},
                hoverinfo="skip",
                name=f"{percent}% interval",
                legendgroup=f"band{percent}",
                showlegend=label == "holdout",
            )
        )


def metrics_frame(result: ForecastResult) -> pd.DataFrame:
    """One row per forecaster (the model first, then the network alone when the model mixes it
    with classical methods), columns MAE, RMSE, sMAPE %, MASE, and which one did best."""
    rows = [("model", f"{result.model_label} (this model)", result.metrics["model"])]
    if "network" in result.metrics:
        rows.append(("network", f"{result.cell_name} alone (the network's part)",
                     result.metrics["network"]))
    rows += [(name, label_of(name), scores) for name, scores in result.metrics["baselines"].items()]
    best = result.best
    return pd.DataFrame(
        [
            {
                "forecaster": label,
                "MAE": scores["mae"],
                "RMSE": scores["rmse"],
                "sMAPE %": scores["smape"],
                "MASE": scores["mase"],
                "best": "best" if name == best else "",
            }
            for name, label, scores in rows
        ]
    )


def _best_baseline_name(result: ForecastResult) -> str | None:
    scores = {
        name: values["mase"]
        for name, values in result.metrics["baselines"].items()
        if math.isfinite(values["mase"])
    }
    return min(scores, key=scores.get) if scores else None


def model_wins(result: ForecastResult) -> bool:
    """True when the model's holdout error is the lowest of all the forecasts scored."""
    return result.best == "model"


def show_results(series: Series, result: ForecastResult, key: str) -> None:
    """The chart, the verdict and warnings, the metrics table and the downloads."""
    st.plotly_chart(results_figure(series, result), key=f"results-{key}", width="stretch")
    st.caption(
        "Shaded: where the true values should fall 80% and 95% of the time. The dotted line "
        "marks the start of the holdout. Click a name in the legend to show or hide a line "
        "(the other baselines are hidden at first). A long history opens on its recent part: "
        "**All history** (above the chart) or the slider below it shows the rest."
    )
    if result.choice_text:
        st.caption(f":material/info: **What was chosen.** {result.choice_text}")
    text = verdict(result)
    if model_wins(result) and not result.copies_last_value:
        st.success(f"**Verdict.** {text}")
    else:
        st.warning(f"**Verdict.** {text}")
    if result.covariates:
        show = st.success if result.covariates["helped"] else st.info
        show(f"**Did the covariates help?** {result.covariates['text']}")
    for warning in result.warnings:
        st.warning(warning)

    st.markdown("**Scores on the holdout** (lower is better)")
    table = metrics_frame(result)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "forecaster": st.column_config.TextColumn("forecaster"),
            "best": st.column_config.TextColumn(
                "", help="The lowest MASE on the holdout: the forecast to use."),
            **{
                name: st.column_config.NumberColumn(name, help=help_text, format="%.3f")
                for name, help_text in METRIC_HELP.items()
            },
        },
        key=f"metrics-{key}",
    )
    config = result.config
    st.caption(
        f"{result.epochs_run} epochs in {result.seconds:.1f} s, best at epoch "
        f"{result.best_epoch}. Window {config.window}, horizon {config.horizon}, holdout "
        f"{config.holdout}, season {config.season}, transform {config.transform}."
    )
    downloads(result, key)


def forecast_table(result: ForecastResult) -> pd.DataFrame:
    """The model's holdout and future rows with every other forecast alongside (the network
    alone when the model mixes it, and each baseline), so whichever won can be used."""
    frame = result.forecast.copy()
    others = [result.baselines]
    if result.network is not None:
        others.insert(0, result.network)
    for other in others:
        extra = [column for column in ("time", "part") if column in other.columns]
        columns = other.drop(columns=extra)
        if other is not result.network:
            columns = columns.add_prefix("baseline_")
        columns.index = frame.index[: len(columns)]
        frame = frame.join(columns)
    return frame


def downloads(result: ForecastResult, key: str) -> None:
    left, middle, right = st.columns(3)
    left.download_button(
        "Download forecast (CSV)",
        data=safe_csv(forecast_table(result)),
        file_name="rnnlab-forecast.csv",
        mime="text/csv",
        key=f"download-csv-{key}",
        on_click="ignore",
        help="Holdout and future forecasts with their intervals, and every baseline's forecast "
        "of the same rows.",
    )
    model_path = Path(result.model_path)
    if model_path.is_file():
        middle.download_button(
            "Download model (.rnnlab)",
            data=model_path.read_bytes(),
            file_name=f"rnnlab-forecast-{result.config.cell}.rnnlab",
            mime="application/octet-stream",
            key=f"download-model-{key}",
            on_click="ignore",
            help="The trained model as an RNN Lab model file: upload it later under 'Forecast "
            "with a saved model' (or use 'python -m core predict --model FILE') to forecast "
            "new data without training.",
        )
    else:
        middle.caption("The model file is gone (the server was restarted); train again.")
    right.download_button(
        "Download settings (JSON)",
        data=settings_file(result.config),  # names its data: sample, or file and fingerprint
        file_name="rnnlab-settings.json",
        mime="application/json",
        key=f"download-settings-{key}",
        on_click="ignore",
        help="Upload this file later under 'Restore settings from a file' to get the same "
        "settings back.",
    )


def show_saved_forecast(series: Series, saved, key: str) -> None:
    """A saved model's forecast of the data: what it learnt from, the chart, the download."""
    from ui.model_files import saved_at

    trained = saved.trained_on
    st.markdown(
        f"**{saved.label}**, trained on **{trained['name']}** ({trained['points']} points from "
        f"{time_text(trained['start'], trained['freq'])} to "
        f"{time_text(trained['end'], trained['freq'])}) "
        f"and saved {saved_at(saved.created) or 'earlier'}. It forecast "
        f"{len(saved.forecast)} steps after the end of this data in {saved.seconds:.1f} s, "
        "without training."
    )
    figure = go.Figure(go.Scatter(x=list(series.time), y=series.values, mode="lines",
                                  name=series.name, line={"color": COLOURS["history"]}))
    frame = saved.forecast.assign(part="future")
    _add_bands(figure, frame, "holdout")
    figure.add_trace(go.Scatter(x=list(frame["time"]), y=frame["forecast"], mode="lines+markers",
                                name=f"{saved.label} forecast",
                                line={"color": COLOURS["model"], "width": 2.5},
                                marker={"size": 5}))
    figure.update_layout(height=400, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                         hovermode="x unified", legend={"orientation": "h", "y": -0.2})
    figure.update_xaxes(hoverformat=time_format(series.freq, series.time))
    st.plotly_chart(figure, key=f"saved-{key}", width="stretch")
    st.download_button(
        "Download this forecast (CSV)", data=safe_csv(saved.forecast),
        file_name="rnnlab-saved-model-forecast.csv", mime="text/csv",
        key=f"download-saved-{key}", on_click="ignore",
    )
