"""Compare: SimpleRNN, LSTM and GRU trained on the same data, split, seed and budget.

One ordinary forecast or next-word job per cell (and per seed when repeating), with only the cell
and the seed changed (core.compare.plan_runs). The job manager runs two at once and queues the
rest; a fragment polls them all and draws their loss curves on one chart. When they have all
finished, a table gives the measured numbers, with mean and spread over seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core import compare
from core.cells import cell_keys, get_cell, lesson_keys
from core.compare import CompareConfig
from core.config import ForecastConfig, NextWordConfig
from core.errors import RNNLabError
from core.forecasting import resolve_config
from core.links import Choice, Link, link_fields
from core.modelfile import SUFFIX
from ui import links, loaders
from ui.jobs import current_job, is_busy, start_job, training_panel
from ui.state import init

ROOT = Path(__file__).resolve().parents[1]
TEXT_SAMPLES = {
    "corpus_class_reader.txt": "Class reader (a short text, about 5,500 words)",
}
KINDS = {"forecast": "Forecast a time series", "nextword": "Predict the next word"}
JOB_KEY = "compare"  # the whole comparison is one job (core.compare.compare_task)
COUNTS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
LEGEND = {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"}
FILE_IN_LINK = "file"
SHORT = {"forecast": "forecast", "nextword": "nextword"}  # widget keys: cmp_{kind}_units, ...


def defaults() -> dict[str, Any]:
    state: dict[str, Any] = {"cmp_kind": "forecast", "cmp_fc_source": "sample",
                             "cmp_fc_sample": next(iter(loaders.SAMPLES)),
                             "cmp_nw_source": "sample", "cmp_nw_sample": next(iter(TEXT_SAMPLES))}
    for kind in KINDS:
        state.update(_budget_state(CompareConfig(task=kind)))
    return state


def _budget_state(config: CompareConfig) -> dict[str, Any]:
    units, epochs = config.budget()
    kind = config.task
    return {f"cmp_{kind}_units": units, f"cmp_{kind}_epochs": epochs,
            f"cmp_{kind}_layers": config.num_layers, f"cmp_{kind}_seeds": config.seeds}


# The page's address (ui.links): the task, the data and the budget, so that it is a link to them.
LINK_FIELDS = link_fields(CompareConfig, data=Choice(
    (*loaders.SAMPLES, *TEXT_SAMPLES, FILE_IN_LINK), "a bundled sample or 'file'"))
LINK_KEYS = {
    "task": ("cmp_kind",),
    **{name: tuple(f"cmp_{kind}_{widget}" for kind in KINDS)
       for name, widget in (("units", "units"), ("epochs", "epochs"), ("num_layers", "layers"),
                            ("seeds", "seeds"))},
    "data": ("cmp_fc_source", "cmp_fc_sample", "cmp_fc_upload", "cmp_nw_source",
             "cmp_nw_sample", "cmp_nw_upload"),
}


def link_state(link: Link) -> dict[str, Any]:
    """The widget values that show a link's comparison."""
    config = link.config
    state = {"cmp_kind": config.task, **_budget_state(config)}
    data = link.values.get("data")
    prefix = "cmp_fc" if config.task == "forecast" else "cmp_nw"
    samples = loaders.SAMPLES if config.task == "forecast" else TEXT_SAMPLES
    if data == FILE_IN_LINK:
        state[f"{prefix}_source"] = "upload"
    elif data in samples:
        state.update({f"{prefix}_source": "sample", f"{prefix}_sample": data})
    return state


def shown_config() -> CompareConfig:
    """The comparison the controls show now (the task's default units and epochs as None)."""
    state = st.session_state
    kind = state.get("cmp_kind", "forecast")
    default_units, default_epochs = CompareConfig(task=kind).budget()
    units, epochs = state.get(f"cmp_{kind}_units"), state.get(f"cmp_{kind}_epochs")
    return CompareConfig(task=kind, units=None if units == default_units else units,
                         epochs=None if epochs == default_epochs else epochs,
                         num_layers=state.get(f"cmp_{kind}_layers", 1),
                         seeds=state.get(f"cmp_{kind}_seeds", 1))


def link_values() -> dict[str, str | None]:
    state = st.session_state
    prefix = "cmp_fc" if state.get("cmp_kind", "forecast") == "forecast" else "cmp_nw"
    own = state.get(f"{prefix}_source") == "upload"
    return {"data": FILE_IN_LINK if own else state.get(f"{prefix}_sample")}


def link_defaults() -> dict[str, str]:
    kind = st.session_state.get("cmp_kind", "forecast")
    return {"data": next(iter(loaders.SAMPLES if kind == "forecast" else TEXT_SAMPLES))}


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
    units = c1.select_slider("Units", CompareConfig.UNITS, key=f"cmp_{kind}_units",
                             disabled=busy,
                             help="Size of each cell's hidden state (the same for every cell).")
    epochs = c2.slider("Epochs (at most)", 1, 200, key=f"cmp_{kind}_epochs", disabled=busy,
                       help="Training stops earlier when the validation loss stops improving.")
    layers = c3.slider("Layers", 1, 2, key=f"cmp_{kind}_layers", disabled=busy,
                       help="Stacked recurrent layers.")
    seeds = c4.slider("Repeat over seeds", 1, compare.MAX_SEEDS, key=f"cmp_{kind}_seeds",
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


def start(kind: str, data: dict, config, seeds: int) -> None:
    runs = compare.plan_runs(kind, data, config, seeds)
    payload = {"runs": [{"cell": run.cell, "seed": run.seed, "task": run.task,
                         "payload": run.payload} for run in runs]}
    # The data stays in the job; the page keeps only what it needs to draw the results.
    record = {"kind": kind, "config": None,
              "runs": [compare.Run(run.kind, run.cell, run.seed, run.task,
                                   {"config": run.payload["config"]}) for run in runs]}
    start_job(JOB_KEY, compare.TASK, payload, record=record)


def curves_figure(logs: tuple[dict, ...] | list[dict]) -> go.Figure:
    """Each run's validation loss by epoch (the comparison job's logs carry cell and seed)."""
    figure = go.Figure()
    seeds = sorted({log.get("seed", 0) for log in logs})
    metric = "val_loss" if any("val_loss" in log for log in logs) else "loss"
    runs: dict[tuple[str, int], list[dict]] = {}
    for log in logs:
        runs.setdefault((log.get("cell", "?"), log.get("seed", 0)), []).append(log)
    for (cell_key, seed), run_logs in runs.items():
        cell = get_cell(cell_key)
        figure.add_trace(go.Scatter(
            x=[log.get("run_epoch") for log in run_logs],
            y=[log.get(metric) for log in run_logs],
            mode="lines", name=cell.name + (f" (seed {seed})" if len(seeds) > 1 else ""),
            line={"color": cell.colour,
                  "dash": ("solid", "dash", "dot", "dashdot", "longdash")[seeds.index(seed) % 5]},
            legendgroup=cell_key,
        ))
    figure.update_layout(
        title={"text": "Validation loss of each cell, epoch by epoch", "font": {"size": 14}},
        xaxis_title="epoch", yaxis_title="validation loss" if metric == "val_loss" else "loss",
        height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend=LEGEND,
    )
    return figure


# ---------------------------------------------------------------------------------------------
# 4. Results


def results() -> None:
    job = current_job(JOB_KEY)
    record = None if job is None else job.note
    if job is None or record is None or not job.state.finished:
        st.info("The table of measured numbers appears here when every training has finished.")
        return
    result = job.result or {"results": []}
    kind, runs = record["kind"], record["runs"]
    pairs = list(zip(runs, result["results"], strict=False))
    if not pairs:
        st.warning("No training finished with a result. Check the messages above, then start "
                   "again.")
        return
    if len(pairs) < len(runs):
        st.caption(f":material/warning: {len(pairs)} of {len(runs)} trainings ran before the "
                   "comparison was stopped: the table holds those.")
    rows = [compare.result_row(run, outcome) for run, outcome in pairs]
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
    model_downloads(pairs, job.id)


def model_downloads(pairs: list, job_id: str) -> None:
    """One model file (.rnnlab) per run: the Forecast or Next word page takes it back."""
    st.subheader("Model files")
    st.caption(f"Each trained network as an RNN Lab model file ({SUFFIX}, signed by this "
               "server). Upload a forecast model on the Forecast page (\"Forecast with a saved "
               "model instead\") and a next-word model on the Next word page, to use it "
               "without training.")
    columns = st.columns(min(len(pairs), 3))
    for position, (run, outcome) in enumerate(pairs):
        path = Path(outcome.model_path if run.kind == "forecast" else outcome["model_file"])
        name = f"{get_cell(run.cell).name}, seed {run.seed}"
        with columns[position % len(columns)]:
            if not path.is_file():
                st.caption(f"{name}: its model file is no longer kept on the server.")
                continue
            st.download_button(
                f"{name} ({SUFFIX})", path.read_bytes(),
                file_name=f"compare-{run.kind}-{run.cell}-seed{run.seed}{SUFFIX}",
                mime="application/octet-stream", key=f"cmp-model-{job_id}-{position}",
                on_click="ignore", help="The trained network, its settings and what it learnt "
                "from, signed by this server.")


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
    init(defaults(), title="Compare · RNN Lab")
    busy = is_busy(JOB_KEY)
    st.title("Compare the cells")
    st.markdown(
        f"Train {_listed(f'**{get_cell(key).name}**' for key in lesson_keys())} on the same "
        "data, with the same split, seed "
        "and budget, and measure them: how many weights each has, how fast it trains, how soon it "
        "is at its best and how well it does on data it never saw. The notes claim that GRU "
        "trains faster than LSTM with competitive accuracy; here you can check it on your data."
    )
    links.follow_link("cmp", CompareConfig, LINK_FIELDS, link_state, LINK_KEYS)
    link_spot = st.container()
    notice = st.container()  # always drawn, so the job panel's place (its fragment) never moves
    if busy:
        notice.info("The comparison is running: settings are locked until it ends (or press "
                    "**Stop training**).")
    st.header("1. Task and data", anchor="data")
    kind = st.radio("Task", list(KINDS), format_func=KINDS.get, horizontal=True, key="cmp_kind",
                    disabled=busy, help="Forecasting scores MASE on the last part of the series; "
                    "next word scores top-1 accuracy on the last 10% of the text.")
    data = forecast_data(busy) if kind == "forecast" else nextword_data(busy)

    cells = len(cell_keys())
    st.header(f"2. The same budget for all {COUNTS.get(cells, cells)}", anchor="budget")
    config, seeds = budget(kind, data, busy)
    params = links.publish_link("cmp", shown_config(), link_values(), LINK_FIELDS,
                                link_defaults())
    with link_spot:
        links.copy_link(params)

    st.header("3. Train", anchor="train")
    ready = data is not None and config is not None
    if st.button(f"Train the {COUNTS.get(cells, cells)} cells ({cells * seeds} trainings)",
                 key="cmp_train", type="primary", disabled=busy or not ready,
                 help="Starts the trainings in the background, one after the other, so that "
                 "none shares the processor with another of this comparison (fair seconds per "
                 "epoch)."):
        start(kind, data, config, seeds)
        st.rerun()
    if training_panel(JOB_KEY, figure=curves_figure, steps="Training") is None:
        st.caption(f"Press **Train the {COUNTS.get(cells, cells)} cells**: their loss curves "
                   "appear here, live.")

    st.header("4. Results", anchor="results")
    results()


if __name__ == "__main__":
    main()
