"""The data step's second row: which series of a file to forecast, and at what frequency.

Returns the `SeriesOptions` it was given with the series, its id columns and the frequency
filled in; core does the work (`core.data.find_id_columns`, `to_series(series=, freq=)`).
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.data import FREQUENCIES, Table
from ui import loaders
from ui.controls import AUTO, PERSIST, DataFile, current_read_options
from ui.loaders import SeriesOptions

FREQUENCY_WORDS = {AUTO: "automatic", **FREQUENCIES}


def series_choice(
    table: Table, file: DataFile, choice: SeriesOptions, disabled: bool = False,
    all_series: bool = False,
) -> SeriesOptions:
    """Ask which series when the file holds several (not when `all_series` are forecast:
    then the one chosen before is kept for when the switch goes off), offer a frequency
    override, and ask about the value column when the default one was a guess."""
    if table.target_question and choice.target == next(iter(table.numeric_candidates), None):
        st.info(f"**Which column should be forecast?** {table.target_question}")
    ids, labels = loaders.find_series(file.data, current_read_options(table.sheet), file.name)
    left, middle, _ = st.columns(3)
    series = None
    named = " and ".join(f"'{column}'" for column in ids)
    if ids and all_series:
        kept = st.session_state.get(f"fc_series_{file.token}")
        series = kept if kept in labels else labels[0]
    elif ids:
        series = left.selectbox(
            "Series",
            labels,
            key=f"fc_series_{file.token}",
            disabled=disabled,
            help=f"The file holds {len(labels)} series, told apart by {named}. Choose the one "
            "to forecast.",
            **PERSIST,
        )
        st.caption(f"{len(labels)} series in this file (column{'s' if len(ids) > 1 else ''} "
                   f"{named}); one is forecast at a time.")
    freq = middle.selectbox(
        "Frequency",
        list(FREQUENCY_WORDS),
        key=f"fc_freq_{file.token}",
        format_func=FREQUENCY_WORDS.get,
        disabled=disabled,
        help="How far apart the points are. Automatic finds it from the dates; choose one to "
        "override it: times move to the start of their period, and values in the same period "
        "are averaged (daily data seen weekly, say).",
        **PERSIST,
    )
    return dataclasses.replace(
        choice,
        freq=None if freq == AUTO else freq,
        series=series,
        id_cols=tuple(ids),
    )
