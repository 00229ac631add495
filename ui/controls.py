"""Control panels of the forecast page. Each draws its widgets and RETURNS plain data.

`data_source` returns the chosen file, `read_options` / `series_options` how to read it, and
`forecast_settings` a `ForecastConfig` that the page hands to core. Widget values live in
`st.session_state` under the keys in `KEYS` (kept across page switches), so that a settings file
or a quick start from the home page can set them all before the widgets are drawn
(`apply_settings`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from core.cells import cell_keys, cell_names
from core.config import ForecastConfig
from core.data import MISSING_POLICIES, Table
from core.errors import RNNLabError
from core.forecast.windows import BUDGET_WINDOWS, estimate_parts, machine_busy
from core.links import Choice, Link, link_fields
from core.settingsfile import (
    DATA_SETTINGS,
    DataRef,
    read_settings,
    settings_json,
    without_data_settings,
)
from core.settingsfile import fingerprint as data_fingerprint
from ui.loaders import SAMPLES, ReadOptions, SeriesOptions, fingerprint, sample_bytes

# ForecastConfig field -> widget key.
KEYS = {field.name: f"fc_{field.name}" for field in dataclasses.fields(ForecastConfig)}
EARLY_STOPPING_KEY = "fc_early_stopping"
SOURCE_KEY, SAMPLE_KEY, UPLOAD_KEY = "fc_source", "fc_sample", "fc_upload"
SETTINGS_UPLOAD_KEY = "fc_settings_file"
WAITING_KEY = "_fc_settings_waiting"  # a settings file's (config, data) waiting for its file
SOURCES = ("Bundled sample", "My own CSV file")
AUTO = "auto"

SEPARATORS = {AUTO: "automatic", ",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "pipe |"}
DECIMALS = {AUTO: "automatic", ".": "point  3.14", ",": "comma  3,14"}
ENCODINGS = (AUTO, "utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16")
MISSING_WORDS = {
    "interpolate": "interpolate between neighbours",
    "ffill": "repeat the last value",
    "zero": "set to 0",
    "drop": "drop those points",
}
STRATEGY_WORDS = {
    "direct": "direct: all steps at once",
    "recursive": "recursive: one step, fed back",
}
TRANSFORM_WORDS = {
    "auto": "automatic",
    "none": "none",
    "log": "logarithm",
    "difference": "differences",
    "log_difference": "differences of the logarithm",
}
PERSIST = {"persist_state": "session"}  # keep values when the user visits another page
COLUMNS_KEY = "_fc_columns"  # the value and time columns chosen now (for the page's link)
LINKED_COLUMNS_KEY = "_fc_linked_columns"  # columns a link asks for, applied once a file is read
FILE_IN_LINK = "file"
NO_TIME = "none"


def defaults() -> dict[str, Any]:
    """Session defaults of every control on the forecast page."""
    return {
        SOURCE_KEY: SOURCES[0],
        SAMPLE_KEY: next(iter(SAMPLES)),
        "fc_sep": AUTO,
        "fc_decimal": AUTO,
        "fc_encoding": AUTO,
        **settings_state(ForecastConfig()),
    }


def settings_state(config: ForecastConfig) -> dict[str, Any]:
    """The widget values that show `config`."""
    state = {KEYS[name]: value for name, value in dataclasses.asdict(config).items()}
    state[EARLY_STOPPING_KEY] = config.patience > 0
    if config.patience == 0:
        state[KEYS["patience"]] = ForecastConfig().patience
    return state


def apply_settings(config: ForecastConfig) -> None:
    """Set every model control to `config` (call before the widgets are drawn: a callback)."""
    st.session_state.update(settings_state(config))


def quick_start(sample: str) -> None:
    """Choose a bundled sample with default settings and ask the forecast page to train."""
    st.session_state[SOURCE_KEY] = SOURCES[0]
    st.session_state[SAMPLE_KEY] = sample
    apply_settings(ForecastConfig())
    st.session_state["fc_autostart"] = True


# ---------------------------------------------------------------------------------------------
# Step 1: data


@dataclasses.dataclass(frozen=True)
class DataFile:
    name: str
    data: bytes

    @property
    def token(self) -> str:
        return fingerprint(self.data)


def data_source(disabled: bool = False) -> DataFile | None:
    """Sample or upload; returns the chosen file (None while nothing is uploaded)."""
    st.session_state.pop(COLUMNS_KEY, None)  # series_options sets it again for this file
    source = st.radio(
        "Where does the data come from?",
        SOURCES,
        key=SOURCE_KEY,
        horizontal=True,
        disabled=disabled,
        help="Start with a bundled sample, or upload a CSV file or workbook with a time column "
        "and a column of numbers.",
        **PERSIST,
    )
    if source == SOURCES[0]:
        name = st.selectbox(
            "Sample",
            list(SAMPLES),
            key=SAMPLE_KEY,
            format_func=lambda key: SAMPLES[key].title,
            disabled=disabled,
            help="Small real (and one made-up) series bundled with RNN Lab.",
            **PERSIST,
        )
        st.caption(SAMPLES[name].about)
        return DataFile(SAMPLES[name].file, sample_bytes(name))
    upload = st.file_uploader(
        "CSV file or workbook",
        type=["csv", "txt", "tsv", "xlsx", "xlsm", "ods"],
        key=UPLOAD_KEY,
        disabled=disabled,
        on_change=_remember_upload,
        help="One row per time step: a date (or year) column and a column of numbers. "
        "A CSV (commas, semicolons or tabs between values, decimal points or commas: all are "
        "detected) or an Excel (.xlsx) or OpenDocument (.ods) workbook.",
    )
    if upload is not None:
        kept = DataFile(upload.name, upload.getvalue())
        st.session_state["_fc_upload_kept"] = kept
        _settings_for_upload(kept)
        return kept
    kept = st.session_state.get("_fc_upload_kept")
    waiting = st.session_state.get(WAITING_KEY)
    if waiting is not None:
        st.info(f"Restoring settings made for **{waiting[1].file}**: upload that file (it is "
                "checked by its fingerprint) and all its settings are applied.")
    if kept is not None:
        st.caption(f"Using **{kept.name}**, uploaded earlier in this session.")
    return kept


def _remember_upload() -> None:
    # The user removed the file (x): forget the copy kept across page visits too.
    if st.session_state.get(UPLOAD_KEY) is None:
        st.session_state.pop("_fc_upload_kept", None)


def sheet_choice(file: DataFile, sheets: list[str], disabled: bool = False) -> str | None:
    """The workbook's sheet to read (None: the first that holds a table); drawn for 2+ sheets."""
    if len(sheets) < 2:
        return None
    sheet = st.selectbox(
        "Sheet",
        [AUTO, *sheets],
        key=f"fc_sheet_{file.token}",
        format_func=lambda name: "automatic: the first sheet with a table" if name == AUTO else name,
        disabled=disabled,
        help="The workbook has several sheets: choose the one that holds the table.",
        **PERSIST,
    )
    return None if sheet == AUTO else sheet


def current_read_options(sheet: str | None = None) -> ReadOptions:
    """The reading options as the widgets hold them now (needed before they are drawn)."""
    values = [st.session_state.get(key, AUTO) for key in ("fc_sep", "fc_decimal", "fc_encoding")]
    sep, decimal, encoding = (None if value == AUTO else value for value in values)
    return ReadOptions(sep=sep, decimal=decimal, encoding=encoding, sheet=sheet)


def read_options(table: Table | None, disabled: bool = False) -> ReadOptions:
    """Delimiter, decimal mark and encoding: automatic (showing what was found) or chosen."""
    if table is not None and table.sheet is not None:
        st.caption(f"Read from sheet **{table.sheet}** of a workbook: cells keep their own "
                   "numbers and dates, so no delimiter, decimal mark or encoding applies.")
        return current_read_options(table.sheet)
    found = {"sep": None, "decimal": None, "encoding": None}
    if table is not None:
        found = {"sep": table.sep, "decimal": table.decimal, "encoding": table.encoding}

    left, middle, right = st.columns(3)
    sep = left.selectbox(
        "Delimiter",
        list(SEPARATORS),
        key="fc_sep",
        # Option labels stay fixed: Streamlit 1.67 keeps a select box's label text, and a label
        # that changed with the file (e.g. "automatic (found: ...)") came back as its value.
        format_func=SEPARATORS.get,
        disabled=disabled,
        help="The character between the values of a row. Change it if the columns look wrong.",
        **PERSIST,
    )
    decimal = middle.selectbox(
        "Decimal mark",
        list(DECIMALS),
        key="fc_decimal",
        format_func=DECIMALS.get,
        disabled=disabled,
        help="How numbers write their fraction: 3.14 (point) or 3,14 (comma, common in Europe).",
        **PERSIST,
    )
    encoding = right.selectbox(
        "Text encoding",
        ENCODINGS,
        key="fc_encoding",
        format_func=lambda option: "automatic" if option == AUTO else option,
        disabled=disabled,
        help="How the file stores letters. Change it only if accented letters look wrong.",
        **PERSIST,
    )
    if table is not None:
        st.caption(
            f"Found: values separated by {SEPARATORS[found['sep']].split()[0]}, "
            f"decimal {DECIMALS[found['decimal']].split()[0]}, encoding {found['encoding']}."
        )
    return ReadOptions(
        sep=None if sep == AUTO else sep,
        decimal=None if decimal == AUTO else decimal,
        encoding=None if encoding == AUTO else encoding,
    )


def series_options(table: Table, file: DataFile, disabled: bool = False) -> SeriesOptions:
    """Value column, time column and the missing-value policy."""
    columns = [str(column) for column in table.frame.columns]
    numeric = [column for column in table.numeric_candidates if column in columns]
    targets = numeric + [column for column in columns if column not in numeric]
    times: list[str | None] = [None, *columns]
    first_time = next((c for c in table.date_candidates if c in columns), None)
    _apply_linked_columns(file, targets, times)
    left, middle, right = st.columns(3)
    target = left.selectbox(
        "Value column (what to forecast)",
        targets,
        index=0,
        key=f"fc_target_{file.token}",
        disabled=disabled,
        help="The column of numbers to forecast. Columns that hold numbers are listed first.",
        **PERSIST,
    )
    date_col = middle.selectbox(
        "Time column",
        times,
        index=times.index(first_time),
        key=f"fc_date_{file.token}",
        format_func=lambda column: "none: use the row order" if column is None else column,
        disabled=disabled,
        help="The column with dates or years. Without one, the rows are taken in file order.",
        **PERSIST,
    )
    missing = right.selectbox(
        "Missing values and gaps",
        MISSING_POLICIES,
        key=KEYS["missing"],
        format_func=MISSING_WORDS.get,
        disabled=disabled,
        help="What to do with empty cells and with dates missing from the regular time grid.",
        **PERSIST,
    )
    st.session_state[COLUMNS_KEY] = {"target": target, "time": date_col or NO_TIME}
    return SeriesOptions(target=target, date_col=date_col, missing=missing)


COVARIATE_PICKS = {"covariates": "fc_known_pick", "past_covariates": "fc_past_pick"}


def covariate_options(table: Table, series, choice: SeriesOptions,
                      disabled: bool = False) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """Other numeric columns as covariates (known in advance, or past only) and calendar
    features for daily and finer data; returns (known, past, calendar).

    The choice lives in the config's fields (`covariates`, `past_covariates`, `calendar`), so a
    settings file or a link brings it back; the multiselects follow those fields.
    """
    from core.forecast.covariates import calendar_names, calendar_offered, split_names

    columns = [str(column) for column in table.frame.columns]
    taken = {choice.target, choice.date_col, *(choice.id_cols or ())}
    options = [c for c in table.numeric_candidates if c in columns and c not in taken]
    offered = calendar_offered(series.freq, series.time)
    state = st.session_state
    if not offered:
        state[KEYS["calendar"]] = False
    if not options and not offered:
        for field in COVARIATE_PICKS:
            state[KEYS[field]] = ""
        return (), (), False
    picks = {}
    for field, key in COVARIATE_PICKS.items():
        # The config field changed by a settings file or a link (not by this widget): follow it.
        if state.get(key) is None or state.get(KEYS[field]) != state.get(f"_{key}_written"):
            state[key] = [name for name in split_names(state.get(KEYS[field]) or "")
                          if name in options]
    chosen = any(state.get(key) for key in COVARIATE_PICKS.values()) or state.get(KEYS["calendar"])
    with st.expander("Explanatory columns (covariates)", expanded=bool(chosen)):
        left, right = st.columns(2)
        picks["covariates"] = left.multiselect(
            "Known in advance", options, key=COVARIATE_PICKS["covariates"], disabled=disabled,
            placeholder="none" if options else "no other columns of numbers",
            help="Columns whose future values you know (planned prices, holidays, a weather "
            "forecast). Their values over the forecast go in rows after the last value, with "
            "the value column left empty; the holdout is scored with its own values.",
        )
        past_options = [c for c in options if c not in picks["covariates"]]
        past_key = COVARIATE_PICKS["past_covariates"]
        if any(name not in past_options for name in state.get(past_key) or []):
            state[past_key] = [name for name in state[past_key] if name in past_options]
        picks["past_covariates"] = right.multiselect(
            "Known only up to now", past_options,
            key=COVARIATE_PICKS["past_covariates"], disabled=disabled,
            placeholder="none" if options else "no other columns of numbers",
            help="Columns known only until today (yesterday's visitors, say): the network reads "
            "their past values beside the series'.",
        )
        calendar = False
        if offered:
            words = ", ".join(name.replace("_", " ") for name in calendar_names(series.freq))
            calendar = st.checkbox(
                f"Calendar features ({words})",
                key=KEYS["calendar"], disabled=disabled,
                help="Tell the network where each point falls in the week and the year (as "
                "sine and cosine waves), for daily and finer data.",
            )
        st.caption("With covariates, the same model is also trained without them, and the "
                   "results say whether they helped (training takes about twice as long).")
    for field, key in COVARIATE_PICKS.items():
        state[KEYS[field]] = state[f"_{key}_written"] = ",".join(picks[field])
    return tuple(picks["covariates"]), tuple(picks["past_covariates"]), bool(calendar)


def _apply_linked_columns(file: DataFile, targets: list[str], times: list[str | None]) -> None:
    """Select the columns a link asked for, when this file has them (else say so)."""
    linked = st.session_state.pop(LINKED_COLUMNS_KEY, None)  # once (a locked link sets it again)
    if not linked:
        return
    missing = []
    if linked.get("target") in targets:
        st.session_state[f"fc_target_{file.token}"] = linked["target"]
    elif linked.get("target"):
        missing.append(f"value column '{linked['target']}'")
    time = None if linked.get("time") == NO_TIME else linked.get("time")
    if "time" in linked and time in times:
        st.session_state[f"fc_date_{file.token}"] = time
    elif "time" in linked:
        missing.append(f"time column '{linked['time']}'")
    if missing:
        st.warning(f"The link asks for the {' and the '.join(missing)}, which {file.name} does "
                   "not have; the columns found in the file are used instead.")


# ---------------------------------------------------------------------------------------------
# Links (ui.links): what the forecast page keeps in its address


LINK_FIELDS = link_fields(
    ForecastConfig,
    data=Choice((*SAMPLES, FILE_IN_LINK), "a bundled sample or 'file'"),
    target=Choice(description="a column name"),
    time=Choice(description="a column name or 'none'"),
)
# link name -> widget keys ("prefix*": every key that starts so), to hide or lock them
LINK_KEYS = {
    **{name: (key,) for name, key in KEYS.items()},
    "patience": (KEYS["patience"], EARLY_STOPPING_KEY),
    "data": (SOURCE_KEY, SAMPLE_KEY, UPLOAD_KEY),
    "target": ("fc_target_*", LINKED_COLUMNS_KEY),
    "time": ("fc_date_*", LINKED_COLUMNS_KEY),
}
LINK_DEFAULTS = {"data": next(iter(SAMPLES))}


def link_state(link: Link) -> dict[str, Any]:
    """The widget values that show a link's settings (columns wait for the file to be read)."""
    state = settings_state(link.config)
    data = link.values.get("data")
    if data == FILE_IN_LINK:
        state[SOURCE_KEY] = SOURCES[1]
    elif data:
        state.update({SOURCE_KEY: SOURCES[0], SAMPLE_KEY: data})
    columns = {name: link.values[name] for name in ("target", "time") if name in link.values}
    state[LINKED_COLUMNS_KEY] = columns or None
    return state


def link_values() -> dict[str, str | None]:
    """The data and columns the page shows now, as a link names them."""
    state = st.session_state
    uploaded = state.get(SOURCE_KEY) == SOURCES[1]
    columns = state.get(COLUMNS_KEY) or {}
    return {"data": FILE_IN_LINK if uploaded else state.get(SAMPLE_KEY), **columns}


def current_config() -> ForecastConfig | None:
    """The settings the controls hold now, or None while they do not make a valid config."""
    try:
        return config_from_state(st.session_state)
    except RNNLabError:
        return None


def season_setting(found: int, disabled: bool = False) -> None:
    """The season length (points per cycle); its value is read by `forecast_settings`."""
    st.number_input(
        "Season length (points per cycle)",
        min_value=1,
        max_value=400,
        value=None,
        step=1,
        key=KEYS["season"],
        placeholder=f"automatic: {found}",
        disabled=disabled,
        help="How many points make one repeating cycle: 12 for monthly data with a yearly "
        "pattern, 4 for quarterly, 1 for none. Leave empty to use the detected one.",
        **PERSIST,
    )


# ---------------------------------------------------------------------------------------------
# Step 2: model


def forecast_settings(disabled: bool = False) -> ForecastConfig:
    """The model and training controls; returns the settings as a `ForecastConfig`.

    Raises:
        ConfigError: a combination the config refuses (the page shows the message).
    """
    values: dict[str, Any] = {}
    first, second, third = st.columns(3)
    with first:
        values["cell"] = st.radio(
            "Recurrent cell",
            cell_keys(),
            key=KEYS["cell"],
            format_func=cell_names().get,
            horizontal=True,
            disabled=disabled,
            help="GRU and LSTM have gates that let them remember long patterns; SimpleRNN is "
            "the plain cell, which forgets quickly.",
            **PERSIST,
        )
        values["window"] = _auto_number(
            "Lookback window (points)", "window", 2, 1000, disabled,
            "How many past points the network reads to make one forecast. "
            "Empty: two seasons, chosen from the data.",
        )
        values["horizon"] = _auto_number(
            "Horizon (steps ahead)", "horizon", 1, 1000, disabled,
            "How many future points to forecast. Empty: a natural choice for the frequency "
            "(12 for monthly data).",
        )
        values["strategy"] = st.radio(
            "Forecast strategy",
            ("direct", "recursive"),
            key=KEYS["strategy"],
            format_func=STRATEGY_WORDS.get,
            disabled=disabled,
            help="Direct: the network outputs every step at once. Recursive: it predicts one "
            "step and reads its own prediction to make the next.",
            **PERSIST,
        )
    with second:
        values["num_layers"] = st.number_input(
            "Layers", min_value=1, max_value=4, step=1, key=KEYS["num_layers"],
            disabled=disabled, **PERSIST,
            help="Recurrent layers stacked on top of each other. One is enough for most series.",
        )
        values["units"] = st.number_input(
            "Units per layer", min_value=1, max_value=512, step=8, key=KEYS["units"],
            disabled=disabled, **PERSIST,
            help="The size of the cell's memory. More units learn more, but also memorise noise.",
        )
        values["dropout"] = st.number_input(
            "Dropout", min_value=0.0, max_value=0.9, step=0.05, format="%.2f",
            key=KEYS["dropout"], disabled=disabled, **PERSIST,
            help="Share of the layer's outputs switched off at random while training, so that "
            "the network cannot rely on any single one. 0 = off.",
        )
        values["learning_rate"] = st.select_slider(
            "Learning rate",
            _options_with((0.0003, 0.001, 0.003, 0.01, 0.03), KEYS["learning_rate"]),
            key=KEYS["learning_rate"],
            format_func=lambda rate: f"{rate:g}",
            disabled=disabled,
            help="How big a step the weights take after each batch. Too big: the loss jumps "
            "around; too small: learning is slow.",
            **PERSIST,
        )
    with third:
        values["epochs"] = st.number_input(
            "Epochs", min_value=1, max_value=2000, step=10, key=KEYS["epochs"],
            disabled=disabled, **PERSIST,
            help="How many times training goes through all the training windows (at most).",
        )
        low, high = ForecastConfig.RANGES["budget_seconds"]
        values["budget_seconds"] = st.number_input(
            "Training budget (seconds)", min_value=float(low), max_value=float(high), step=30.0,
            format="%.0f", key=KEYS["budget_seconds"], disabled=disabled, **PERSIST,
            help="A long series stops training when this much time is spent (the validated fit "
            "and the fit on all the data together); raise it to train longer. A short series "
            f"(up to {BUDGET_WINDOWS} training windows) trains until early stopping ends it.",
        )
        values["batch_size"] = st.number_input(
            "Batch size", min_value=1, max_value=4096, step=8, key=KEYS["batch_size"],
            disabled=disabled, **PERSIST,
            help="How many windows the network sees before each update of its weights.",
        )
        early = st.checkbox(
            "Early stopping", key=EARLY_STOPPING_KEY, disabled=disabled, **PERSIST,
            help="Stop when the validation loss has not improved for a while, and keep the best "
            "weights.",
        )
        patience = st.number_input(
            "Patience (epochs)", min_value=1, max_value=500, step=1, key=KEYS["patience"],
            disabled=disabled or not early, **PERSIST,
            help="How many epochs without improvement early stopping waits before it stops.",
        )
        values["patience"] = patience if early else 0
        values["seed"] = st.number_input(
            "Random seed", min_value=0, max_value=2**31 - 1, step=1, key=KEYS["seed"],
            disabled=disabled, **PERSIST,
            help="Fixes the random start of the weights: the same seed and settings give the "
            "same model.",
        )
    with st.expander("More settings"):
        left, middle, right = st.columns(3)
        values["holdout"] = _auto_number(
            "Holdout (last points kept for testing)", "holdout", 1, 5000, disabled,
            "The last points are hidden from training and used to score the forecast against "
            "the baselines. Empty: one horizon.",
            column=left,
        )
        values["transform"] = middle.selectbox(
            "Value transform",
            tuple(TRANSFORM_WORDS),
            key=KEYS["transform"],
            format_func=TRANSFORM_WORDS.get,
            disabled=disabled,
            help="Logarithm turns a season that grows with the level into one of constant "
            "size; differences remove a trend. Automatic picks one from the training part.",
            **PERSIST,
        )
        values["ensemble"] = right.number_input(
            "Networks averaged (ensemble)", min_value=1, max_value=10, step=1,
            key=KEYS["ensemble"], disabled=disabled, **PERSIST,
            help="Train several networks with different seeds and average them: steadier "
            "forecasts, but training takes that many times longer.",
        )
        values["clipnorm"] = left.number_input(
            "Gradient clipping", min_value=0.0, max_value=100.0, step=0.5, format="%.1f",
            key=KEYS["clipnorm"], disabled=disabled, **PERSIST,
            help="Caps the size of each weight update, which keeps a recurrent network from "
            "blowing up. 0 = off.",
        )
    values["season"] = st.session_state.get(KEYS["season"])
    values["missing"] = st.session_state.get(KEYS["missing"], "interpolate")
    for name in ("covariates", "past_covariates"):  # chosen in the data step
        values[name] = st.session_state.get(KEYS[name]) or ""
    values["calendar"] = bool(st.session_state.get(KEYS["calendar"]))
    values["dropout"] = round(float(values["dropout"]), 4)
    values["clipnorm"] = round(float(values["clipnorm"]), 4)
    return ForecastConfig(**values)


def training_estimate(points: int, config: ForecastConfig) -> None:
    """The caption under the settings: about how long training on `points` points takes
    (`config` resolved for the series), before Train is pressed."""
    estimate = estimate_parts(points, config, machine_busy())
    text = (f"Training takes about {_duration(estimate['training'])} on this series "
            f"(about {_duration(estimate['total'])} in all, with the classical methods and the "
            "scores)")
    if estimate["budgeted"]:
        text += (f"; it stops at the budget of {_duration(config.budget_seconds)}: raise the "
                 "budget to train longer.")
    else:
        text += "; a series this short trains until early stopping ends it."
    if estimate["busy"] > 1.5:
        text += (f" The machine is busy now: everything takes about {estimate['busy']:.1f} "
                 "times as long as when idle, which the estimate includes.")
    st.caption(text)


def _duration(seconds: float) -> str:
    """'40 s', '3 min', '1.5 h'."""
    if seconds < 90:
        return f"{max(5, round(seconds / 5) * 5):.0f} s"
    if seconds < 5400:
        return f"{round(seconds / 60):.0f} min"
    return f"{seconds / 3600:.1f} h"


def config_from_state(state: Any) -> ForecastConfig:
    """The settings the model controls hold in `state` now (what `forecast_settings` returns),
    for a callback that runs before the widgets are drawn again.

    Raises:
        ConfigError: a value out of range.
    """
    values = {name: state[key] if key in state else None for name, key in KEYS.items()}
    early_stopping = state[EARLY_STOPPING_KEY] if EARLY_STOPPING_KEY in state else True
    if not early_stopping:
        values["patience"] = 0
    values["missing"] = values["missing"] or "interpolate"
    for name in ("covariates", "past_covariates"):
        values[name] = values[name] or ""
    values["calendar"] = bool(values["calendar"])
    for name in ("dropout", "clipnorm"):
        if values[name] is not None:
            values[name] = round(float(values[name]), 4)
    return ForecastConfig(**values)


def _auto_number(label, name, low, high, disabled, help_text, column=None):
    target = column or st
    return target.number_input(
        label,
        min_value=low,
        max_value=high,
        value=None,
        step=1,
        key=KEYS[name],
        placeholder="automatic",
        disabled=disabled,
        help=help_text,
        **PERSIST,
    )


def _options_with(base: tuple, key: str) -> list:
    """`base`, plus the current value when a settings file brought one that is not in it."""
    value = st.session_state.get(key)
    return sorted({*base, value}) if isinstance(value, (int, float)) else list(base)


# ---------------------------------------------------------------------------------------------
# Settings files


def settings_upload(disabled: bool = False) -> None:
    """An uploader that restores the settings of an earlier run from its JSON file."""
    st.file_uploader(
        "Restore settings from a file",
        type=["json"],
        key=SETTINGS_UPLOAD_KEY,
        on_change=_load_settings,
        disabled=disabled,
        help="Upload a settings file downloaded after an earlier run (rnnlab-settings.json) to "
        "get exactly the same settings back.",
    )
    message = st.session_state.get("_fc_settings_message")
    if message:
        kind, text = message
        {"error": st.error, "warning": st.warning}.get(kind, st.success)(text)


def settings_file(config: ForecastConfig) -> str:
    """The settings file to download: `config` and the data shown now (sample, or file name
    and fingerprint, and the columns)."""
    return settings_json(config, current_data())


def current_data() -> DataRef | None:
    """The data the page shows now, as a settings file names it."""
    state = st.session_state
    columns = state.get(COLUMNS_KEY) or {}
    if state.get(SOURCE_KEY) == SOURCES[1]:
        kept = state.get("_fc_upload_kept")
        if kept is None:
            return None
        return DataRef(file=kept.name, sha256=data_fingerprint(kept.data), **columns)
    return DataRef(sample=state.get(SAMPLE_KEY), **columns)


def _load_settings() -> None:
    """Callback: restore an uploaded settings file, with its data or waiting for it."""
    upload = st.session_state.get(SETTINGS_UPLOAD_KEY)
    st.session_state.pop(WAITING_KEY, None)
    if upload is None:
        st.session_state.pop("_fc_settings_message", None)
        return
    try:
        config, data = read_settings(upload.getvalue(), ForecastConfig)
    except RNNLabError as error:
        _say("error", f"{upload.name} could not be used: {error}")
        return
    kept = st.session_state.get("_fc_upload_kept")
    shown_own_file = st.session_state.get(SOURCE_KEY) == SOURCES[1] and kept is not None
    automatic = ", ".join(DATA_SETTINGS)
    if data is None:
        apply_settings(without_data_settings(config))
        _say("warning", f"Settings restored from {upload.name}, except {automatic}: this file "
             "does not say which data it was made for (it is older), and those settings belong "
             "to one series. They are left automatic, found from the data shown.")
    elif data.sample is not None:
        if data.sample not in SAMPLES:
            _say("error", f"{upload.name} was made for a sample this RNN Lab does not have "
                 f"({data.sample!r}). Nothing was changed.")
            return
        apply_settings(config)
        st.session_state.update({SOURCE_KEY: SOURCES[0], SAMPLE_KEY: data.sample,
                                 LINKED_COLUMNS_KEY: _columns(data)})
        _say("success", f"Settings restored from {upload.name}, with the data they were made "
             f"for: the sample {SAMPLES[data.sample].title}.")
    elif shown_own_file and data.same_file(kept.data):
        apply_settings(config)
        st.session_state[LINKED_COLUMNS_KEY] = _columns(data)
        _say("success", f"Settings restored from {upload.name}, for {kept.name} (the same file: "
             "its fingerprint matches).")
    else:
        apply_settings(without_data_settings(config))
        st.session_state[SOURCE_KEY] = SOURCES[1]
        st.session_state[WAITING_KEY] = (config, data)
        _say("warning", f"{upload.name} was made for your file **{data.file}**. Upload it "
             f"above: its {automatic} are applied once the same file is read (checked by its "
             "fingerprint). Until then they stay automatic.")


def _columns(data: DataRef) -> dict[str, str] | None:
    columns = {name: value for name, value in (("target", data.target), ("time", data.time))
               if value is not None}
    return columns or None


def _say(kind: str, text: str) -> None:
    st.session_state["_fc_settings_message"] = (kind, text)


def _settings_for_upload(file: DataFile) -> None:
    """A settings file waits for its data file: apply it all when this is that file."""
    waiting = st.session_state.pop(WAITING_KEY, None)
    if waiting is None:
        return
    config, data = waiting
    if data.same_file(file.data):
        apply_settings(config)
        st.session_state[LINKED_COLUMNS_KEY] = _columns(data)
        _say("success", f"{file.name} is the file the settings were made for (its fingerprint "
             "matches): all its settings are applied.")
    else:
        _say("warning", f"{file.name} is not the file the settings were made for "
             f"({data.file}; the fingerprints differ), so its {', '.join(DATA_SETTINGS)} were "
             "not applied: they stay automatic.")
