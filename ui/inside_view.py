"""Figures of the teaching pages: state heatmaps, memory plots. Each cell's name, colour,
gates, diagram and explanation come from the registry (`core.cells`).

Pure drawing: every function takes plain numbers (numpy arrays, lists of dicts) and returns a
Plotly figure; nothing here trains or imports TensorFlow.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.cells import get_cell, lesson_keys

_LEGEND = {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"}


def state_figure(values: np.ndarray, name: str, cell: str,
                 step_labels: list[str] | None = None) -> go.Figure:
    """Heatmap of one state of a cell over time: units down, steps across. `values` is
    (time, units); gates (between 0 and 1) get a colour scale of their own."""
    values = np.asarray(values)
    declared = get_cell(cell)
    steps, units = values.shape
    x = step_labels or [str(step + 1) for step in range(steps)]
    colour = {"colorscale": "Viridis", "zmin": 0.0, "zmax": 1.0} if name in declared.gates else {
        "colorscale": "RdBu", "zmid": 0.0, "reversescale": True}
    figure = go.Figure(go.Heatmap(
        z=values.T, x=x, y=[f"unit {unit + 1}" for unit in range(units)],
        hovertemplate="step %{x}<br>%{y}<br>value %{z:.3f}<extra></extra>",
        colorbar={"thickness": 10, "len": 0.9}, **colour,
    ))
    figure.update_layout(
        title={"text": declared.titles.get(name, name), "font": {"size": 13}},
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
    for cell in lesson_keys():
        points = sorted((run["k"], run["accuracy"]) for run in runs if run["cell"] == cell)
        if points:
            ks, accuracies = zip(*points, strict=True)
            figure.add_trace(go.Scatter(x=ks, y=accuracies, mode="lines+markers",
                                        name=get_cell(cell).name,
                                        line={"color": get_cell(cell).colour}))
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
    for cell in lesson_keys():
        if cell not in gradients:
            continue
        norms = np.asarray(gradients[cell][which], dtype=float)
        back = np.arange(len(norms))[::-1]
        shown = np.where(norms > 0, norms, np.nan)  # log axis: a zero gradient is not drawn
        figure.add_trace(go.Scatter(x=back, y=shown, mode="lines+markers",
                                    name=get_cell(cell).name,
                                    line={"color": get_cell(cell).colour}))
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
