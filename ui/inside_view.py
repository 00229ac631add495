"""Figures and diagrams of the teaching pages: cell diagrams, state heatmaps, memory plots.

Pure drawing: every function takes plain numbers (numpy arrays, lists of dicts) and returns a
Plotly figure or a DOT string; nothing here trains or imports TensorFlow.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.config import CELL_NAMES

CELL_COLOURS = {"rnn": "#d62728", "lstm": "#1f77b4", "gru": "#2ca02c"}

# What each state is called on the page, and how to colour it.
STATE_TITLES = {
    "hidden": "Hidden state h (what the cell outputs)",
    "cell": "Cell state c (the LSTM's long-term memory)",
    "forget": "Forget gate f (1 = keep the memory, 0 = erase it)",
    "input": "Input gate i (1 = write the new candidate)",
    "output": "Output gate o (1 = show the memory)",
    "candidate": "Candidate (new content proposed at each step)",
    "update": "Update gate z (1 = keep the previous state, 0 = take the candidate)",
    "reset": "Reset gate r (0 = ignore the previous state when proposing)",
}
_LEGEND = {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"}
GATES = ("forget", "input", "output", "update", "reset")
STATES_SHOWN = {
    "rnn": ("hidden",),
    "lstm": ("forget", "input", "output", "cell", "hidden"),
    "gru": ("update", "reset", "candidate", "hidden"),
}

EXPLANATIONS = {
    "rnn": (
        "**SimpleRNN.** At each step the cell mixes the new input with its previous hidden state "
        "and squashes the result with tanh. That one vector is its whole memory, and it is "
        "rewritten at every step: what it saw long ago fades, and so does the learning signal "
        "that should reach back to it (the *vanishing gradient*)."
    ),
    "lstm": (
        "**LSTM.** Besides the hidden state, the LSTM carries a *cell state*, a memory lane that "
        "is changed only by multiplying and adding. The **forget gate** decides what to erase, "
        "the **input gate** what to write, the **output gate** what to show. When the forget gate "
        "stays near 1, information (and the gradient) travels many steps unchanged."
    ),
    "gru": (
        "**GRU.** A lighter LSTM with two gates and no separate memory lane. The **update gate** "
        "chooses, unit by unit, between keeping the previous state and taking the new candidate; "
        "the **reset gate** says how much of the past the candidate may use. Fewer weights than an "
        "LSTM, so it often trains a little faster."
    ),
}

_DOT_STYLE = (
    'rankdir=LR; bgcolor="transparent"; node [fontname="Helvetica", fontsize=11]; '
    'edge [color="#555555", arrowsize=0.6];'
)
DIAGRAMS = {
    "rnn": f"""digraph {{ {_DOT_STYLE}
        x [label="input x(t)", shape=plaintext];
        hp [label="h(t-1)", shape=plaintext];
        tanh [label="tanh(W x + U h + b)", shape=box, style="rounded,filled", fillcolor="#fde0dc"];
        h [label="h(t)", shape=plaintext];
        x -> tanh; hp -> tanh; tanh -> h;
        h -> hp [style=dashed, label="next step", fontsize=9, constraint=false];
    }}""",
    "lstm": f"""digraph {{ {_DOT_STYLE} rankdir=TB; nodesep=0.15; ranksep=0.3;
        x [label="input x(t) and h(t-1)", shape=plaintext];
        f [label="forget σ", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
        i [label="input σ", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
        g [label="candidate tanh", shape=box, style="rounded,filled", fillcolor="#fde0dc"];
        o [label="output σ", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
        {{ rank=same; f; i; g; o; }}
        cp [label="c(t-1)", shape=plaintext];
        keep [label="×", shape=circle, width=0.3, fixedsize=true];
        write [label="×", shape=circle, width=0.3, fixedsize=true];
        add [label="+", shape=circle, width=0.3, fixedsize=true];
        c [label="c(t)", shape=plaintext];
        show [label="× tanh(c)", shape=box, style=rounded];
        h [label="h(t)", shape=plaintext];
        x -> f; x -> i; x -> g; x -> o;
        cp -> keep; f -> keep; i -> write; g -> write; keep -> add; write -> add; add -> c;
        c -> show; o -> show; show -> h;
    }}""",
    "gru": f"""digraph {{ {_DOT_STYLE} rankdir=TB; nodesep=0.2; ranksep=0.3;
        x [label="input x(t) and h(t-1)", shape=plaintext];
        z [label="update σ", shape=box, style="rounded,filled", fillcolor="#dff0d8"];
        r [label="reset σ", shape=box, style="rounded,filled", fillcolor="#dff0d8"];
        {{ rank=same; z; r; }}
        g [label="candidate tanh(x, r × h(t-1))", shape=box, style="rounded,filled",
           fillcolor="#fde0dc"];
        mix [label="h(t) = z × h(t-1) + (1 - z) × candidate", shape=box, style=rounded];
        h [label="h(t)", shape=plaintext];
        x -> z; x -> r; r -> g; x -> g; z -> mix; g -> mix; mix -> h;
    }}""",
}


def state_figure(values: np.ndarray, name: str, step_labels: list[str] | None = None) -> go.Figure:
    """Heatmap of one state over time: units down, steps across. `values` is (time, units)."""
    values = np.asarray(values)
    steps, units = values.shape
    x = step_labels or [str(step + 1) for step in range(steps)]
    colour = {"colorscale": "Viridis", "zmin": 0.0, "zmax": 1.0} if name in GATES else {
        "colorscale": "RdBu", "zmid": 0.0, "reversescale": True}
    figure = go.Figure(go.Heatmap(
        z=values.T, x=x, y=[f"unit {unit + 1}" for unit in range(units)],
        hovertemplate="step %{x}<br>%{y}<br>value %{z:.3f}<extra></extra>",
        colorbar={"thickness": 10, "len": 0.9}, **colour,
    ))
    figure.update_layout(
        title={"text": STATE_TITLES.get(name, name), "font": {"size": 13}},
        height=max(150, 70 + 16 * units), margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": None, "type": "category"}, yaxis={"autorange": "reversed"},
    )
    return figure


def input_figure(window: np.ndarray, input_names: list[str], target_step: int | None = None,
                 step_labels: list[str] | None = None) -> go.Figure:
    """The input window: the first input as a line, any other input (the echo task's mark) as
    bars; a dotted line marks the step at 0-based position `target_step`."""
    window = np.asarray(window)
    x = step_labels or [str(step + 1) for step in range(len(window))]
    figure = go.Figure(go.Scatter(x=x, y=window[:, 0], mode="lines+markers",
                                  name=input_names[0]))
    for feature in range(1, window.shape[1]):
        figure.add_trace(go.Bar(x=x, y=window[:, feature], name=input_names[feature],
                                opacity=0.3, marker_color="#d62728"))
    if target_step is not None:
        # steps are categories: a shape placed by the category's index
        figure.add_vline(x=target_step, line={"color": "#d62728", "width": 2, "dash": "dot"})
    figure.update_layout(title={"text": "Input window", "font": {"size": 13}}, height=220,
                         margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend=_LEGEND,
                         xaxis={"title": "step", "type": "category"})
    return figure


def accuracy_figure(runs: list[dict], chance: float) -> go.Figure:
    """Accuracy on fresh sequences against the gap k, one line per cell, with the chance level."""
    figure = go.Figure()
    for cell in ("rnn", "lstm", "gru"):
        points = sorted((run["k"], run["accuracy"]) for run in runs if run["cell"] == cell)
        if points:
            ks, accuracies = zip(*points, strict=True)
            figure.add_trace(go.Scatter(x=ks, y=accuracies, mode="lines+markers",
                                        name=CELL_NAMES[cell],
                                        line={"color": CELL_COLOURS[cell]}))
    figure.add_hline(y=chance, line={"dash": "dash", "color": "grey"},
                     annotation_text="guessing", annotation_position="bottom right")
    figure.update_layout(
        title={"text": "Accuracy on new sequences", "font": {"size": 14}},
        xaxis_title="gap k (steps between the marked number and the end)",
        yaxis={"title": "accuracy", "range": [0, 1.05]}, height=340,
        margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend=_LEGEND,
    )
    return figure


def gradient_figure(gradients: dict[str, dict], which: str,
                    marked_back: int | None = None) -> go.Figure:
    """|d loss / d input| against steps back from the end, log scale, one line per cell; a
    dotted line at the marked input (`marked_back` steps back)."""
    figure = go.Figure()
    for cell in ("rnn", "lstm", "gru"):
        if cell not in gradients:
            continue
        norms = np.asarray(gradients[cell][which], dtype=float)
        back = np.arange(len(norms))[::-1]
        shown = np.where(norms > 0, norms, np.nan)  # log axis: a zero gradient is not drawn
        figure.add_trace(go.Scatter(x=back, y=shown, mode="lines+markers", name=CELL_NAMES[cell],
                                    line={"color": CELL_COLOURS[cell]}))
    if marked_back is not None:
        figure.add_vline(x=marked_back, line={"color": "grey", "width": 2, "dash": "dot"},
                         annotation_text="marked number", annotation_position="top")
    figure.update_layout(
        title={"text": "How much learning signal reaches each past input", "font": {"size": 14}},
        xaxis={"title": "steps back from the last input", "autorange": "reversed"},
        yaxis={"title": "gradient size (log scale)", "type": "log", "exponentformat": "power"},
        height=340, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend=_LEGEND,
    )
    return figure
