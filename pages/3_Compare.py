"""Compare: SimpleRNN, LSTM and GRU trained on the same data, split, seed and budget.

One ordinary forecast or next-word job per cell (and per seed when repeating), with only the cell
and the seed changed (core.compare.plan_runs). The job manager runs two at once and queues the
rest; a fragment polls them all and draws their loss curves on one chart. When they have all
finished, a table gives the measured numbers, with mean and spread over seeds.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from core import compare
from core.cells import cell_keys, get_cell, lesson_keys
from core.config import ForecastConfig, NextWordConfig
from core.errors import RNNLabError
from core.forecasting import resolve_config
from core.jobs import Job, JobState
from ui import loaders
from ui.jobs import busy_notice, current_job, forget_job, show_notice, start_job
from ui.state import init

ROOT = Path(__file__).resolve().parents[1]
TEXT_SAMPLES = {
    "corpus_class_reader.txt": "Class reader (a short text, about 5,500 words)",
}
KINDS = {"forecast": "Forecast a time series", "nextword": "Predict the next word"}
RUNS_KEY = "_cmp_runs"  # the comparison shown: {"kind": ..., "runs": [Run, ...]}
PENDING_KEY = "_cmp_pending"  # runs not started yet (one at a time), with their payloads
SHOWN_KEY = "_cmp_shown"
COUNTS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
LEGEND = {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"}


# ---------------------------------------------------------------------------------------------
# 1. Data


def forecast_data(busy: bool) -> dict | None:
    source = st.radio("Series", ["sample", "upload"], horizontal=True, key="cmp_fc_source",
                      disabled=busy,
                      format_func={"sample": "Bundled sample", "upload": "My own CSV file"}.get,
                      help="A bundled series, or a CSV file of your own (time column optional).")
    if source == "sample":
        name = st.selectbox("Sample", list(loaders.SAMPLES), key="cmp_fc_sample", disabled=busy,
                            format_func=lambda s: loaders.SAMPLES[s].title,
                            help="A bundled series; the Forecast page says what each is and where it comes from.")
        data, label = loaders.sample_bytes(name), loaders.SAMPLES[name].title
    else:
        upload = st.file_uploader("CSV file", type=["csv", "txt"], key="cmp_fc_upload",
                                  disabled=busy, help="A table with one numeric column to "
                                  "forecast; the time and value columns are detected.")
        if upload is None:
            st.info("Upload a CSV file, or choose a bundled sample.")
            return None
        data, label = upload.getvalue(), upload.name
    try:
        series = loaders.load_series(data, loaders.ReadOptions(), loaders.SeriesOptions())
    except RNNLabError as error:
        st.error(f"**{label} cannot be used.** {error} For more reading options, open it on "
                 "the Forecast page.")
        return None
    st.caption(f"{label}: {len(series)} points.")
    return {"series": series}


def nextword_data(busy: bool) -> dict | None:
    source = st.radio("Text", ["sample", "upload"], horizontal=True, key="cmp_nw_source",
                      disabled=busy,
                      format_func={"sample": "Bundled text", "upload": "My own text file"}.get,
                      help="A bundled text, or a plain-text file of your own.")
    if source == "sample":
        name = st.selectbox("Sample", list(TEXT_SAMPLES), format_func=TEXT_SAMPLES.get,
                            key="cmp_nw_sample", disabled=busy, help="A bundled text.")
        text = (loaders.SAMPLE_DIR / name).read_text(encoding="utf-8")
        return {"text": text, "name": name}
    upload = st.file_uploader("Text file", type=["txt", "md"], key="cmp_nw_upload",
                              disabled=busy, help="Plain text; a few thousand words or more.")
    if upload is None:
        st.info("Upload a text file, or choose the bundled text.")
        return None
    return {"text": upload.getvalue(), "name": upload.name}


# ---------------------------------------------------------------------------------------------
# 2. Budget


def budget(kind: str, data: dict | None, busy: bool):
    c1, c2, c3, c4 = st.columns(4)
    units = c1.select_slider("Units", [2, 4, 8, 16, 32, 64, 128], 32 if kind == "forecast" else 64,
                             key=f"cmp_{kind}_units", disabled=busy,
                             help="Size of each cell's hidden state (the same for every cell).")
    epochs = c2.slider("Epochs (at most)", 1, 200, 60 if kind == "forecast" else 8,
                       key=f"cmp_{kind}_epochs", disabled=busy,
                       help="Training stops earlier when the validation loss stops improving.")
    layers = c3.slider("Layers", 1, 2, 1, key=f"cmp_{kind}_layers", disabled=busy,
                       help="Stacked recurrent layers.")
    seeds = c4.slider("Repeat over seeds", 1, compare.MAX_SEEDS, 1, key=f"cmp_{kind}_seeds",
                      disabled=busy, help="Train each cell with several random starts and show "
                      "the mean and the spread: differences smaller than the spread are noise.")
    try:
        if kind == "forecast":
            config = ForecastConfig(units=units, epochs=epochs, num_layers=layers)
            if data is not None:
                config = resolve_config(data["series"], config)
                st.caption(f"Window {config.window}, horizon {config.horizon}, holdout "
                           f"{config.holdout} (scored by MASE), seed {config.seed}.")
        else:
            # the networks alone: counts mixed in would make the cells look more alike
            config = NextWordConfig(units=units, epochs=epochs, num_layers=layers,
                                    embedding_dim=min(64, max(8, units)), mix_counts=False)
            st.caption(f"Context of {config.context} words; the last 10% of the text is held "
                       f"out and scored by top-1 accuracy of the network alone (no word "
                       f"counts mixed in); seed {config.seed}.")
    except RNNLabError as error:
        st.error(f"**These settings do not fit this data.** {error}")
        return None, seeds
    return config, seeds


# ---------------------------------------------------------------------------------------------
# 3. Train and watch


def shown_runs() -> tuple[str | None, list[compare.Run]]:
    saved = st.session_state.get(RUNS_KEY) or {}
    return saved.get("kind"), saved.get("runs", [])


def jobs_of(runs: list[compare.Run]) -> list[tuple[compare.Run, Job | None]]:
    return [(run, current_job(run.key)) for run in runs]


def pending() -> list[compare.Run]:
    return st.session_state.get(PENDING_KEY) or []


def running() -> bool:
    _, runs = shown_runs()
    return any(job is not None and not job.state.finished for _, job in jobs_of(runs))


def any_busy() -> bool:
    return bool(pending()) or running()


def advance() -> None:
    """One at a time: start the next run once the previous one has finished."""
    waiting = pending()
    if waiting and not running():
        run = waiting[0]
        if start_job(run.key, run.task, run.payload) is not None:
            st.session_state[PENDING_KEY] = waiting[1:]


def start(kind: str, data: dict, config, seeds: int, one_at_a_time: bool) -> None:
    if busy_notice("compare"):
        return  # this session trains something else: show_notice says so
    _, previous = shown_runs()
    for run in previous:
        forget_job(run.key)
    runs = compare.plan_runs(kind, data, config, seeds)
    st.session_state[PENDING_KEY] = list(runs) if one_at_a_time else []
    if not one_at_a_time:
        for run in runs:
            start_job(run.key, run.task, run.payload)
    # The payloads (the data) stay in the jobs; the page keeps only what it needs to draw.
    st.session_state[RUNS_KEY] = {
        "kind": kind,
        "runs": [compare.Run(run.kind, run.cell, run.seed, run.task,
                             {"config": run.payload["config"]}) for run in runs],
    }
    st.session_state[SHOWN_KEY] = False


def stop_all() -> None:
    st.session_state[PENDING_KEY] = []
    _, runs = shown_runs()
    for _, job in jobs_of(runs):
        if job is not None:
            job.stop()


def curves_figure(pairs: list[tuple[compare.Run, Job | None]]) -> go.Figure:
    figure = go.Figure()
    seeds = sorted({run.seed for run, _ in pairs})
    for run, job in pairs:
        if job is None:
            continue
        logs = job.snapshot().logs
        metric = "val_loss" if any("val_loss" in log for log in logs) else "loss"
        figure.add_trace(go.Scatter(
            x=[log["epoch"] for log in logs], y=[log.get(metric) for log in logs],
            mode="lines", name=f"{get_cell(run.cell).name}" + (
                f" (seed {run.seed})" if len(seeds) > 1 else ""),
            line={"color": get_cell(run.cell).colour,
                  "dash": ("solid", "dash", "dot", "dashdot", "longdash")[seeds.index(run.seed)]},
            legendgroup=run.cell,
        ))
    figure.update_layout(
        title={"text": "Validation loss of each cell, epoch by epoch", "font": {"size": 14}},
        xaxis_title="epoch", yaxis_title="validation loss", height=340,
        margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend=LEGEND,
    )
    return figure


def status_line(run: compare.Run, job: Job | None) -> str:
    name = f"{get_cell(run.cell).name}, seed {run.seed}"
    if job is None and any(waiting.key == run.key for waiting in pending()):
        return f"{name}: waits its turn"
    if job is None:
        return f"{name}: not trained (stopped, or start the comparison again)"
    snapshot = job.snapshot()
    if snapshot.state.value == JobState.QUEUED.value:
        return f"{name}: waiting for a free trainer"
    if snapshot.state.value == JobState.RUNNING.value:
        return f"{name}: epoch {snapshot.epoch} of {snapshot.epochs or '?'}"
    if snapshot.state.value == JobState.FAILED.value:
        return f"{name}: failed. {snapshot.message}"
    if snapshot.state.value == JobState.DONE.value:
        return f"{name}: done, {snapshot.epoch} epochs in {snapshot.elapsed_seconds:.0f} s"
    return f"{name}: {snapshot.state.value}. {snapshot.message}"


def draw_progress() -> None:
    _, runs = shown_runs()
    pairs = jobs_of(runs)
    finished = sum(1 for _, job in pairs if job is None or job.state.finished)
    if finished < len(pairs):
        st.progress(finished / len(pairs), text=f"{finished} of {len(pairs)} trainings finished")
        st.button("Stop all", key="cmp_stop", on_click=stop_all,
                  help="Stops every training now; each keeps its best model so far.")
    st.markdown("\n".join(f"- {status_line(run, job)}" for run, job in pairs))
    epochs = sum(job.snapshot().epoch for _, job in pairs if job is not None)
    st.plotly_chart(curves_figure(pairs), key=f"cmp-curves-{epochs}-{finished}", width="stretch")


@st.fragment(run_every=1.0)
def live_progress() -> None:
    advance()
    draw_progress()
    if not any_busy() and not st.session_state.get(SHOWN_KEY):
        st.session_state[SHOWN_KEY] = True
        st.rerun()


# ---------------------------------------------------------------------------------------------
# 4. Results


def results() -> None:
    kind, runs = shown_runs()
    pairs = [(run, job) for run, job in jobs_of(runs) if job is not None and job.result is not None]
    if not runs or any_busy():
        st.info("The table of measured numbers appears here when every training has finished.")
        return
    if not pairs:
        st.warning("No training finished with a result. Check the messages above, then start "
                   "again.")
        return
    rows = [compare.result_row(run, job.result) for run, job in pairs]
    summary = compare.summarise(rows)
    st.dataframe(compare.display_table(summary, kind), hide_index=True, key="cmp-table")
    score_name, better = compare.SCORES[kind]
    st.plotly_chart(score_figure(summary, score_name), key="cmp-scores", width="stretch")
    best = (summary.loc[summary["score"].idxmin()] if better == "lower"
            else summary.loc[summary["score"].idxmax()])
    notes = [f"Best holdout {score_name} in this run: **{best['cell']}** ({best['score']:.3f})."]
    if summary["runs"].max() > 1:
        notes.append("The ± figures are the spread (standard deviation) over seeds: when two "
                     "cells' ranges overlap, this data cannot tell them apart.")
    else:
        notes.append("One seed only: repeat over a few seeds to see which differences are real.")
    notes.append("Seconds per epoch are measured on a shared machine: compare them with each "
                 "other, within this run.")
    st.markdown(" ".join(notes))
    with st.expander("Every run"):
        st.dataframe(rows, hide_index=True, key="cmp-rows")


def score_figure(summary, score_name: str) -> go.Figure:
    colours = {get_cell(key).name: get_cell(key).colour for key in cell_keys()}
    spread = summary["score_spread"].fillna(0.0)
    figure = go.Figure(go.Bar(
        x=summary["cell"], y=summary["score"],
        error_y={"type": "data", "array": spread, "visible": bool((spread > 0).any())},
        marker_color=[colours[name] for name in summary["cell"]],
    ))
    figure.update_layout(title={"text": f"Holdout {score_name}", "font": {"size": 14}},
                         height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


def _listed(words) -> str:
    """"a, b and c"."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def main() -> None:
    init(title="Compare · RNN Lab")
    advance()
    busy = any_busy()
    st.title("Compare the cells")
    st.markdown(
        f"Train {_listed(f'**{get_cell(key).name}**' for key in lesson_keys())} on the same "
        "data, with the same split, seed "
        "and budget, and measure them: how many weights each has, how fast it trains, how soon it "
        "is at its best and how well it does on data it never saw. The notes claim that GRU "
        "trains faster than LSTM with competitive accuracy; here you can check it on your data."
    )
    if busy:
        st.info("The comparison is running: settings are locked until it ends (or press "
                "**Stop all**).")
    st.header("1. Task and data", anchor="data")
    kind = st.radio("Task", list(KINDS), format_func=KINDS.get, horizontal=True, key="cmp_kind",
                    disabled=busy, help="Forecasting scores MASE on the last part of the series; "
                    "next word scores top-1 accuracy on the last 10% of the text.")
    data = forecast_data(busy) if kind == "forecast" else nextword_data(busy)

    cells = len(cell_keys())
    st.header(f"2. The same budget for all {COUNTS.get(cells, cells)}", anchor="budget")
    config, seeds = budget(kind, data, busy)

    st.header("3. Train", anchor="train")
    ready = data is not None and config is not None
    one_at_a_time = st.checkbox(
        "One at a time (fair seconds per epoch)", value=True, key="cmp_one_at_a_time",
        disabled=busy, help="Trains the cells one after another, so that none shares the "
        "processor with another of this comparison. Off: two at a time, sooner done, but the "
        "seconds per epoch then include the sharing.")
    if st.button(f"Train the {COUNTS.get(cells, cells)} cells ({cells * seeds} trainings)",
                 key="cmp_train",
                 type="primary", disabled=busy or not ready,
                 help="Starts the trainings in the background."):
        start(kind, data, config, seeds, one_at_a_time)
        st.rerun()
    show_notice()
    _, runs = shown_runs()
    if not runs:
        st.caption(f"Press **Train the {COUNTS.get(cells, cells)} cells**: their loss curves "
                   "appear here, live.")
    elif busy:
        live_progress()
    else:
        draw_progress()

    st.header("4. Results", anchor="results")
    results()


if __name__ == "__main__":
    main()
