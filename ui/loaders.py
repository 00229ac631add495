"""Cached loaders of the bundled samples and of uploaded CSV files and workbooks.

Both paths go through the same two cached functions keyed by the file's bytes and the reading
options, so a rerun (every click) does not parse the file again. Errors are `InputError` /
`ConfigError` from `core.data`; the page shows them. Streamlit does not cache a call that raised.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from core.data import Panel, Series, Table

# core.data (pandas) is imported by the loaders that need it, not here: the home page imports
# SAMPLES from this module, and pandas would add a quarter of a second to its first run.

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
MAX_UPLOAD_BYTES = 20_000_000  # same as server.maxUploadSize in .streamlit/config.toml


@dataclasses.dataclass(frozen=True)
class Sample:
    file: str
    title: str
    about: str


# Bundled series (sample_data/README.md says where each comes from), in the order shown.
SAMPLES = {
    "air_passengers": Sample(
        "air_passengers.csv",
        "Airline passengers (monthly)",
        "International airline passengers per month, 1949-1960: a trend and a yearly season "
        "that grows with the level.",
    ),
    "australian_beer": Sample(
        "australian_beer.csv",
        "Australian beer (quarterly)",
        "Beer production in Australia per quarter, 1956-2008: a strong season, a level that "
        "rises then falls.",
    ),
    "lynx": Sample(
        "lynx.csv",
        "Canadian lynx (yearly)",
        "Lynx skins traded per year, 1821-1934: a roughly 10-year cycle; a hard case where "
        "simple baselines are strong.",
    ),
    "synthetic": Sample(
        "synthetic.csv",
        "Made-up weekly sales",
        "Weekly sales with a trend, a yearly season and noise, with 6 missing values: a known "
        "pattern for teaching.",
    ),
}


@dataclasses.dataclass(frozen=True)
class ReadOptions:
    """How to read a file: None means "detect it" (the sheet applies to workbooks only)."""

    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    sheet: str | None = None


@dataclasses.dataclass(frozen=True)
class SeriesOptions:
    """Which columns make the series, and how gaps are filled. None means "detect it"."""

    target: str | None = None
    date_col: str | None = None
    missing: str = "interpolate"
    freq: str | None = None  # a frequency alias overriding the detected one
    series: str | None = None  # in a file of several series: the one to keep
    id_cols: tuple[str, ...] | None = None  # the columns telling series apart (None: detect)


def sample_bytes(name: str) -> bytes:
    """The bytes of one bundled sample file."""
    return _sample_bytes(SAMPLES[name].file)


@st.cache_data(show_spinner=False)
def _sample_bytes(file: str) -> bytes:
    return (SAMPLE_DIR / file).read_bytes()


def fingerprint(data: bytes) -> str:
    """A short stable id for a file's content (widget keys that belong to one file)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


# A large workbook takes seconds to read (openpyxl: about 4 s per 50,000 cells): say so.
@st.cache_data(show_spinner="Reading the file...", max_entries=32)
def load_table(data: bytes, options: ReadOptions, name: str = "") -> Table:
    """`core.data.read_file` on the file's bytes (a CSV or a workbook's sheet), cached by
    content and options; `name` (the uploaded file's) is used in messages."""
    from core.data import read_file

    source = io.BytesIO(data)
    source.name = name
    return read_file(
        source if name else data,
        sheet=options.sheet,
        sep=options.sep,
        decimal=options.decimal,
        encoding=options.encoding,
        max_bytes=MAX_UPLOAD_BYTES,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def workbook_sheets(data: bytes) -> list[str]:
    """The sheet names of a workbook's bytes ([] for a CSV), cached."""
    from core.data import sheet_names

    return sheet_names(data)


@st.cache_data(show_spinner=False, max_entries=32)
def load_with_covariates(data: bytes, options: ReadOptions, choice: SeriesOptions,
                         known: tuple[str, ...], past: tuple[str, ...], calendar: bool,
                         name: str = ""):
    """The series without its future rows, and its covariates
    (`core.forecast.covariates.series_with_covariates`), cached."""
    from core.forecast.covariates import series_with_covariates

    table = load_table(data, options, name)
    return series_with_covariates(
        table, known=known, past=past, calendar=calendar, target=choice.target,
        date_col=choice.date_col, missing=choice.missing, freq=choice.freq,
        series=choice.series, id_cols=choice.id_cols,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def load_series(data: bytes, options: ReadOptions, choice: SeriesOptions, name: str = "") -> Series:
    """The clean series of a file (read, then `core.data.to_series`), cached."""
    from core.data import to_series

    table = load_table(data, options, name)
    return to_series(
        table, target=choice.target, date_col=choice.date_col, missing=choice.missing,
        freq=choice.freq, series=choice.series, id_cols=choice.id_cols,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def load_panel(data: bytes, options: ReadOptions, choice: SeriesOptions, name: str = "") -> Panel:
    """Every series of a file with several (a long or wide table), cached (`core.data.to_panel`)."""
    from core.data import to_panel

    table = load_table(data, options, name)
    return to_panel(
        table, target=choice.target, date_col=choice.date_col, id_cols=choice.id_cols,
        missing=choice.missing, freq=choice.freq,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def find_series(data: bytes, options: ReadOptions, name: str = "") -> tuple[list[str], list[str]]:
    """The id columns of a long table and its series' ids, in file order (([], []) for one)."""
    from core.data import find_id_columns, series_labels

    table = load_table(data, options, name)
    ids = find_id_columns(table)
    return ids, series_labels(table, ids) if ids else []
