"""Inside the cell: the three cells drawn, a trained cell's gates over time, and how far back
each cell can remember.

Training runs in worker jobs (core.inside:inside_task, core.memory:memory_task). The gates are
recomputed here, in numpy, from the trained weights the job returned (core.cells.run_stack), so
picking another input window redraws at once, with no TensorFlow in the app process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.cells import cell_names, get_cell, lesson_keys, run_stack
from core.errors import RNNLabError
from core.inside import INSIDE_TASK, InsideConfig, load_inside_file
from core.links import Choice, Link, link_fields
from core.memory import TASK as MEMORY_TASK
from core.memory import TOLERANCE, MemoryConfig, gaps_up_to
from core.modelfile import SUFFIX
from ui import inside_view, links
from ui.jobs import current_job, is_busy, start_job, training_panel
from ui.loaders import SAMPLE_DIR, SAMPLES
from ui.model_files import model_upload, saved_at
from ui.state import init

INSIDE_KEY, MEMORY_KEY = "inside", "memory"
SOURCES = {"echo": "Remember a marked number (synthetic task)",
           "series": "A sample time series"}
KEYS = {"source": "in_source", "cell": "in_cell", "units": "in_units", "num_layers": "in_layers",
        "epochs": "in_epochs", "gap": "in_gap", "window": "in_window"}


def defaults() -> dict[str, Any]:
    config = InsideConfig()
    state = {key: getattr(config, name) for name, key in KEYS.items()}
    state["in_sample"] = next(iter(SAMPLES))
    return state


# The page's address (ui.links): the trained cell's settings and its series, never a file path.
LINK_FIELDS = {name: choice for name, choice in link_fields(
    InsideConfig, sample=Choice(tuple(SAMPLES), "a bundled sample")).items()
    if name not in ("path", "seed")}
LINK_KEYS = {**{name: (key,) for name, key in KEYS.items()}, "sample": ("in_sample",)}


def link_state(link: Link) -> dict[str, Any]:
    state = {key: getattr(link.config, name) for name, key in KEYS.items()}
    if link.values.get("sample"):
        state["in_sample"] = link.values["sample"]
    return state


def shown_config() -> InsideConfig | None:
    """The settings the controls show now (for the address), or None when they do not fit."""
    state = st.session_state
    try:
        return InsideConfig(**{name: state[key] for name, key in KEYS.items() if key in state})
    except (RNNLabError, TypeError):
        return None


def diagrams() -> None:
    """One tab per cell, each diagram at its own size: side by side, the page would shrink the
    wider ones (LSTM's labels came out at half the size of GRU's)."""
    shown = [get_cell(key) for key in lesson_keys() if get_cell(key).explanation]
    tabs = st.tabs([cell.name for cell in shown])
    for tab, cell in zip(tabs, shown, strict=True):
        with tab:
            if cell.diagram:
                st.graphviz_chart(cell.diagram, width="content")
            st.markdown(cell.explanation)


# ---------------------------------------------------------------------------------------------
# A trained cell, looked inside


def inside_settings(busy: bool) -> InsideConfig | None:
    left, middle, right = st.columns(3)
    with left:
        source = st.radio("Train on", list(SOURCES), format_func=SOURCES.get, key="in_source",
                          disabled=busy,
                          help="The echo task: say which number was marked k steps before "
                          "the end. "
                          "A series: predict the next value from a window of past values.")
        choices = [key for key in lesson_keys() if get_cell(key).steps is not None]
        cell = st.selectbox("Cell", choices,
                            format_func=cell_names().get, key="in_cell", disabled=busy,
                            help="The kind of recurrent cell.")
    with middle:
        units = st.slider("Units", 1, 32, key="in_units", disabled=busy,
                          help="Size of the hidden state: one row per unit in the heatmaps.")
        layers = st.slider("Layers", 1, 2, key="in_layers", disabled=busy,
                           help="Stacked cells: the second reads the first one's hidden states.")
        epochs = st.slider("Epochs", 1, 100, key="in_epochs", disabled=busy,
                           help="Passes over the training data (a few seconds each at most).")
    with right:
        if source == "echo":
            gap = st.slider("Gap k", 1, 30, key="in_gap", disabled=busy,
                            help="The answer is the number marked this many steps before the "
                            "end.")
            return InsideConfig(source="echo", cell=cell, units=units, num_layers=layers,
                                epochs=epochs, gap=gap)
        sample = st.selectbox("Series", list(SAMPLES), format_func=lambda s: SAMPLES[s].title,
                              key="in_sample", disabled=busy, help="A bundled sample series.")
        window = st.slider("Window", 2, 48, key="in_window", disabled=busy,
                           help="How many past values the model reads to predict the next one.")
        return InsideConfig(source="series", cell=cell, units=units, num_layers=layers,
                            epochs=epochs, window=window,
                            path=str(SAMPLE_DIR / SAMPLES[sample].file))


def show_inside(result: dict, prefix: str = "in") -> None:
    config = InsideConfig.from_dict(result["config"])
    labels = result["labels"]
    check = ("" if result.get("keras_gap") is None else "; on every window the last hidden "
             f"state matches Keras' own output to {result['keras_gap']:.1e}")
    st.caption(
        f"{get_cell(config.cell).name}, {config.units} units, {config.num_layers} layer(s). The "
        f"gates below are recomputed from the trained weights{check}."
    )
    left, right = st.columns([3, 1])
    with left:
        index = st.selectbox("Input window", range(len(labels)), format_func=lambda i: labels[i],
                             key=f"{prefix}_window_pick",
                             help="Pick the input to follow through the cell, step by step.")
    with right:
        layer = 0
        if len(result["weights"]) > 1:
            layer = st.radio("Layer", range(len(result["weights"])),
                             format_func=lambda i: f"layer {i + 1}", horizontal=True,
                             key=f"{prefix}_layer_pick", help="Which stacked layer to look inside.")
    window = result["windows"][index]
    states = run_stack(result["weights"], window[None])[layer]
    target_step = None  # position (0-based) of the input the answer depends on
    if config.source == "echo":
        target_step = len(window) - 1 - config.gap
        predicted = float(result["predictions"][index][0])
        st.markdown(f"The answer is the number marked at step **{target_step + 1}** (dotted "
                    f"line), **{result['targets'][index]:+.2f}**; the model says "
                    f"**{predicted:+.2f}**.")
    st.plotly_chart(inside_view.input_figure(window, result["input_names"], target_step),
                    key=f"{prefix}-input-{index}", width="stretch")
    cell = get_cell(config.cell)
    columns = st.columns(2)
    for position, name in enumerate(cell.states):
        with columns[position % 2]:
            st.plotly_chart(inside_view.state_figure(states[name][0], name, cell.key),
                            key=f"{prefix}-{name}-{index}-{layer}", width="stretch")
    if cell.hint:
        st.caption(cell.hint)
    model_file = Path(result.get("model_file") or "")
    if result.get("model_file") and model_file.is_file():
        st.download_button(
            f"Model file ({SUFFIX})", model_file.read_bytes(),
            file_name=f"inside-{config.cell}{SUFFIX}", mime="application/octet-stream",
            key=f"{prefix}-model-file", on_click="ignore",
            help="This trained cell, signed by this server. Upload it under 'Look inside a "
            "saved cell' to see its gates again without training.")


@st.cache_data(show_spinner="Checking the model file...", max_entries=4)
def load_saved(data: bytes) -> dict:
    return load_inside_file(data)


def saved_cell() -> bool:
    """Look inside a cell saved earlier, without training; True when one is shown."""
    with st.expander(f"Look inside a saved cell ({SUFFIX}, no training)"):
        upload = model_upload("in_model_file")
    if upload is None:
        return False
    try:
        result = load_saved(upload.getvalue())
    except RNNLabError as error:
        st.error(f"**This model file cannot be used.** {error}")
        return False
    when = saved_at(result["created"])
    st.success(f"Looking inside the uploaded cell{f' (saved {when})' if when else ''}: no "
               "training needed.")
    show_inside(result, prefix="in_saved")
    return True


def inside_section() -> None:
    busy = is_busy(INSIDE_KEY)
    try:
        config = inside_settings(busy)
    except RNNLabError as error:
        st.error(f"**These settings do not fit together.** {error}")
        return
    if st.button("Train this cell", key="in_train", type="primary", disabled=busy,
                 help="Trains a small model in the background (seconds to a minute)."):
        start_job(INSIDE_KEY, INSIDE_TASK, {"config": config.to_dict()})
        st.rerun()
    metrics = ("loss", "val_loss")
    training_panel(INSIDE_KEY, metrics=metrics)
    if saved_cell():
        return
    job = current_job(INSIDE_KEY)
    if job is not None and job.result is not None:
        show_inside(job.result)
    elif job is None:
        st.caption("Press **Train this cell** to train it; the gates appear here.")


# ---------------------------------------------------------------------------------------------
# How far back can each cell remember?


def memory_settings(busy: bool) -> MemoryConfig | None:
    left, right = st.columns([2, 1])
    with left:
        longest = st.slider("Longest gap k", 2, 60, 24, key="mem_longest", disabled=busy,
                            help="The cells are trained on gaps from 1 up to this many steps.")
    with right:
        count = st.slider("How many gaps", 2, 6, 4, key="mem_count", disabled=busy,
                          help="Gaps tried between 1 and the longest (one training per cell "
                          "and gap).")
    with st.expander("Training budget (the same for every cell)"):
        b1, b2, b3 = st.columns(3)
        units = b1.slider("Units", 2, 64, 16, key="mem_units", disabled=busy,
                          help="Hidden state size of every cell.")
        epochs = b2.slider("Epochs", 1, 60, 20, key="mem_epochs", disabled=busy,
                           help="Passes over the training sequences, per cell and gap.")
        samples = b3.select_slider("Training sequences", [64, 128, 256, 512, 1024], 512,
                                   key="mem_samples", disabled=busy,
                                   help="Random sequences each cell learns from.")
    config = MemoryConfig(longest_gap=longest, gap_count=count, units=units, epochs=epochs,
                          samples=samples)
    runs = len(gaps_up_to(longest, count)) * len(config.cell_list)
    st.caption(f"{runs} small trainings: gaps {gaps_up_to(longest, count)} for each cell. "
               f"An answer counts as right within {TOLERANCE} of the marked number; always "
               f"answering 0 is right {TOLERANCE:.0%} of the time.")
    return config


def memory_figure(logs):
    """The memory job's live chart: accuracy against the gap, filled in as each training ends."""
    return inside_view.accuracy_figure(list(logs), TOLERANCE)


def memory_section() -> None:
    busy = is_busy(MEMORY_KEY)
    st.markdown(
        "Each sequence is made of random numbers between -1 and 1; one of them is marked. The "
        "question at the end: **what was the marked number, k steps ago?** The numbers around it "
        "only distract. The three cells get the same small budget; watch how the accuracy holds "
        "up as k grows, then see how far back the learning signal reaches."
    )
    config = memory_settings(busy)
    if st.button("Train the three cells", key="mem_train", type="primary", disabled=busy,
                 help="Trains SimpleRNN, LSTM and GRU on every gap, in the background."):
        start_job(MEMORY_KEY, MEMORY_TASK, {"config": config.to_dict()})
        st.rerun()
    if training_panel(MEMORY_KEY, figure=memory_figure, steps="Training") is None:
        st.caption("Press **Train the three cells**: the accuracy plot fills in as each "
                   "training ends.")
        return
    job = current_job(MEMORY_KEY)
    if job is None or job.result is None:
        return
    result = job.result
    st.dataframe(memory_table(result), hide_index=True)
    which = st.radio("Gradient", ["before", "after"], horizontal=True, key="mem_which",
                     format_func={"after": "after training", "before": "before training"}.get,
                     help="The gradient of the loss with respect to each input step, on new "
                     "sequences.")
    gap = result["gradient_gap"]
    st.plotly_chart(inside_view.gradient_figure(result["gradients"], which, marked_back=gap),
                    key=f"mem-gradient-{job.id}-{which}", width="stretch")
    st.caption(
        f"Gap k = {gap}. Each point says how much the error changes when one input changes, by "
        "how many steps before the end that input came (log scale: each grid line is 10 times "
        "more). **Before training**: how much learning signal reaches each input at the start. "
        "It fades with distance for every cell (the vanishing gradient); in our benchmark runs "
        "(bench/memory.py) it started weakest for GRU and LSTM, whose gates begin half-open, "
        "and they still learnt: a gate that learns to stay open carries the signal across the "
        "gap. **After training**: which inputs the answer depends on; a cell that has learnt the "
        "task peaks at the marked number. A peak is not enough, though: the number must also be "
        "kept precisely through the steps that follow, and the accuracy plot above shows which "
        "cells manage. Measured on this run; with another seed or budget the numbers move, so "
        "compare the shapes, not the decimals."
    )


def memory_table(result: dict):
    import pandas as pd

    rows = {}
    for run in result["runs"]:
        rows.setdefault(run["k"], {"gap k": run["k"]})[get_cell(run["cell"]).name] = (
            f"{run['accuracy']:.0%}")
    return pd.DataFrame(list(rows.values()))


def main() -> None:
    init(defaults(), title="Inside the cell · RNN Lab")
    st.title("Inside the cell")
    st.markdown(
        "Recurrent cells read a sequence one step at a time and keep a memory of it. Here you can "
        "see how each of the three cells does it, watch the gates of a cell you train yourself, "
        "and measure how far back each cell can remember."
    )
    links.follow_link("in", InsideConfig, LINK_FIELDS, link_state, LINK_KEYS)
    config = shown_config()
    source = st.session_state.get("in_source")
    params = links.publish_link(
        "in", config, {"sample": st.session_state.get("in_sample") if source == "series"
                       else None}, LINK_FIELDS, {"sample": next(iter(SAMPLES))})
    links.copy_link(params)
    st.header("1. Three cells", anchor="cells")
    diagrams()
    st.header("2. Watch a trained cell", anchor="watch")
    inside_section()
    st.header("3. How far back can it remember?", anchor="memory")
    memory_section()


if __name__ == "__main__":
    main()
