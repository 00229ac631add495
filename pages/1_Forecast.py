"""Forecast: pick data, set up a recurrent network, watch it learn, read an honest forecast.

Four steps that read top to bottom. Training runs as a core job in a worker process; this page
only starts it, draws its progress (ui.jobs.training_panel) and shows its result.
"""

from __future__ import annotations

import streamlit as st

import ui.many_view as many_view
from core.config import ForecastConfig
from core.data import Series
from core.errors import RNNLabError
from core.forecasting import (
    ALL_SERIES_FILE,
    SAVED_TASK,
    TASK,
    model_file_kind,
    resolve_with_covariates,
    saved_model_covariates,
)
from core.modelfile import ModelFileError
from ui import backtest_view, controls, forecast_view, links, loaders, tuning_view
from ui.jobs import current_job, finished_run, is_busy, job_manager, start_job, training_panel
from ui.model_files import model_upload
from ui.series_controls import series_choice
from ui.state import init

JOB_KEY = "forecast"
SAVED_KEY = "forecast_saved"  # a saved model forecasting the data, no training
RUN_KEY = "_fc_run"  # the series and settings of the job shown below
CONFIG_KEY = "_fc_config"  # the settings the controls show now (read by tests)
READY_KEY = "_fc_ready"  # the series and settings the Train button would use now
COVARIATES_KEY = "_fc_covariates"  # the covariates read with the series (None: none chosen)
SOURCE_DATA_KEY = "_fc_source_data"  # (file bytes, read options, series choice, name) shown now


def data_step(busy: bool) -> Series | None:
    file = controls.data_source(disabled=busy)
    if file is None:
        st.info("Upload a CSV file or an Excel (.xlsx) or OpenDocument (.ods) workbook, or "
                "choose a bundled sample above.")
        return None
    sheet = controls.sheet_choice(file, loaders.workbook_sheets(file.data), disabled=busy)
    options = controls.current_read_options(sheet)
    table = None
    try:
        table = loaders.load_table(file.data, options, file.name)
    except RNNLabError as error:
        st.error(f"**{file.name} cannot be read.** {error}")
    with st.expander("How the file is read", expanded=table is None):
        controls.read_options(table, disabled=busy)
    if table is None:
        return None
    choice = controls.series_options(table, file, disabled=busy)
    every = all_series_wanted(file)
    choice = series_choice(table, file, choice, disabled=busy, all_series=every)
    every = many_view.all_series_option(file, options, choice, disabled=busy) is not None
    series = None
    try:
        series = loaders.load_series(file.data, options, choice, file.name)
    except RNNLabError as error:
        st.error(f"**This column cannot be used as a series.** {error}")
    st.session_state[SOURCE_DATA_KEY] = (file.data, options, choice, file.name)
    if series is not None:
        series = covariate_step(table, series, busy)
    preview, plot = st.columns([1, 2])
    with preview:
        st.caption(f"First rows of {file.name}")
        st.dataframe(table.frame.head(200), height=300, width="stretch", key="fc-preview")
    if series is None:
        return None
    if not every:  # all series: each one's chart comes with the results
        with plot:
            st.plotly_chart(forecast_view.series_figure(series), key="fc-series",
                            width="stretch")
        forecast_view.series_summary(series)
    with st.columns(3)[0]:
        controls.season_setting(found=series.season, disabled=busy)
    return series


def all_series_wanted(file) -> bool:
    """Whether "Forecast all series" (ui.many_view's switch) is on for this file. Its switch is
    drawn below the series choice, which must know it first: with every series forecast, there
    is no one series to pick."""
    return bool(st.session_state.get(f"fc_all_{file.token}"))


def covariate_step(table, series: Series, busy: bool) -> Series | None:
    """Other columns of the file as inputs; returns the series (without the future rows that
    carry the known covariates' values over the forecast)."""
    data, options, choice, name = st.session_state[SOURCE_DATA_KEY]
    known, past, calendar = controls.covariate_options(table, series, choice, disabled=busy)
    st.session_state[COVARIATES_KEY] = None
    if not (known or past or calendar):
        return series
    try:
        series, covariates = loaders.load_with_covariates(data, options, choice, known, past,
                                                          calendar, name)
    except RNNLabError as error:
        st.error(f"**These covariates cannot be used.** {error}")
        return None
    for note in covariates.notes:
        st.caption(note)
    st.session_state[COVARIATES_KEY] = covariates
    return series


def model_step(series: Series, busy: bool) -> ForecastConfig | None:
    try:
        config = controls.forecast_settings(disabled=busy)
    except RNNLabError as error:
        st.error(f"**These settings do not fit together.** {error}")
        return None
    with st.expander("Restore settings from an earlier run"):
        controls.settings_upload(disabled=busy)
    try:
        resolved = resolve_with_covariates(series, config, st.session_state.get(COVARIATES_KEY))
    except RNNLabError as error:
        st.error(f"**These settings do not fit this series.** {error}")
        return None
    st.session_state[CONFIG_KEY] = config
    st.caption(
        f"For this series: lookback window {resolved.window}, horizon {resolved.horizon}, "
        f"holdout {resolved.holdout}, season {resolved.season}, transform "
        f"{controls.TRANSFORM_WORDS[resolved.transform]}."
    )
    controls.training_estimate(len(series) - resolved.holdout, resolved)
    return config


def saved_model_step(series: Series, busy: bool) -> None:
    """Forecast the data above with a model file saved earlier, without training."""
    with st.expander("Forecast with a saved model instead (no training)"):
        upload = model_upload("fc-model-file", disabled=busy)
        if st.button("Forecast with this model", key="fc-use-model",
                     disabled=busy or upload is None,
                     help="Forecasts past the end of the data above with the uploaded model, "
                     "without training. The data must have the frequency the model learnt."):
            payload = saved_model_payload(upload.getvalue(), series)
            if payload is not None:
                start_job(SAVED_KEY, SAVED_TASK, payload,
                          record={"series": payload["series"], "config": None})
        training_panel(SAVED_KEY)
        finished = finished_run(
            SAVED_KEY, RUN_KEY, None,
            waiting="Upload a model file downloaded from this page after training, then press "
            "**Forecast with this model**.",
            nothing="The model file could not be used (see the message above).",
        )
        if finished is not None:
            job, run = finished
            forecast_view.show_saved_forecast(run["series"], job.result, key=job.id)


def saved_model_payload(model: bytes, series: Series) -> dict | None:
    """The saved-model job's payload: a model trained with covariates reads the same columns
    from the data shown (None, with a message, when they cannot be read)."""
    try:
        used = saved_model_covariates(model)
    except ModelFileError:
        if model_file_kind(model) == "forecast_many":
            st.error(f"**This model file is for every series of a file.** {ALL_SERIES_FILE}")
            return None
        return {"model": model, "series": series}  # the job refuses it and says why, in the panel
    try:
        if not (used["known"] or used["past"] or used["calendar"]):
            return {"model": model, "series": series}
        data, options, choice, name = st.session_state[SOURCE_DATA_KEY]
        series, covariates = loaders.load_with_covariates(
            data, options, choice, tuple(used["known"]), tuple(used["past"]), used["calendar"],
            name)
    except RNNLabError as error:
        st.error(f"**This model cannot forecast this data.** It was trained with covariates "
                 f"and reads them from the data: {error}")
        return None
    return {"model": model, "series": series, "covariates": covariates}


def start_training() -> None:
    """The Train button's callback. It runs before the page script, so that this very run draws
    the controls locked and the live panel (no extra rerun, which could race the panel)."""
    ready = st.session_state.get(READY_KEY)
    if ready is None or is_busy(JOB_KEY):
        return
    series, _ = ready
    try:
        # Read the controls again: a number typed just before the click arrives with the click.
        config = controls.config_from_state(st.session_state)
        covariates = st.session_state.get(COVARIATES_KEY)
        resolve_with_covariates(series, config, covariates)
    except RNNLabError:
        return  # the model step shows what is wrong with these settings
    run = {"series": series, "config": config}
    payload = {"series": series, "config": config.to_dict()}
    if covariates is not None:
        payload["covariates"] = covariates
    if start_job(JOB_KEY, TASK, payload, record=run):
        st.session_state[RUN_KEY] = run


def train_step(series: Series | None, config: ForecastConfig | None, busy: bool) -> None:
    ready = series is not None and config is not None
    st.session_state[READY_KEY] = (series, config) if ready else None
    if st.session_state.pop("fc_autostart", False) and ready and not busy:
        start_training()  # a quick start from the home page
        st.rerun()  # draw the controls above locked
    st.button(
        "Train model",
        key="train",
        type="primary",
        disabled=busy or not ready,
        on_click=start_training,
        help="Starts training in the background. You can keep using the app, even other "
        "pages, while it trains.",
    )
    if not ready and current_job(JOB_KEY) is None:
        st.caption("Choose data and settings above first.")
    if training_panel(JOB_KEY) is None and ready:
        st.caption("Press **Train model** to start. The learning curve appears here.")


def results_step(config: ForecastConfig | None) -> None:
    finished = finished_run(
        JOB_KEY,
        RUN_KEY,
        config,
        waiting="The forecast, its scores against simple baselines and the downloads appear "
        "here when training has finished.",
        nothing="This run produced no forecast (see the message above). Change the settings "
        "and train again.",
    )
    if finished is None:
        return
    job, run = finished
    forecast_view.show_results(run["series"], job.result, key=job.id)


def main() -> None:
    init(controls.defaults(), title="Forecast · RNN Lab")
    busy = is_busy(JOB_KEY) or many_view.busy()
    st.title("Forecast a time series")
    st.markdown(
        "Four steps, top to bottom: choose the **data**, set up the **model**, **train** it and "
        "watch it learn, then read the **results**: the forecast and how it compares with "
        "simple baselines."
    )
    links.follow_link("fc", ForecastConfig, controls.LINK_FIELDS, controls.link_state,
                      controls.LINK_KEYS)
    link_spot = st.container()
    notice = st.container()  # always drawn, so the job panel's place (its fragment) never moves
    if busy:
        notice.info("Training is running: the data and model settings are locked until it ends "
                    "(or press **Stop training** below).")

    st.header("1. Data", anchor="data")
    series = data_step(busy)
    panel = many_view.chosen_panel()
    if panel is not None:  # every series of the file, one network: steps 2-4 for them all
        many_view.all_series_steps(panel, busy)
        job_manager()
        return

    st.header("2. Model", anchor="model")
    config = model_step(series, busy) if series is not None else None
    if series is None:
        st.caption("The model settings appear once the data is ready.")
    else:
        saved_model_step(series, busy)
        tuning_view.tuning_step(series, config, busy, st.session_state.get(COVARIATES_KEY))

    params = links.publish_link("fc", config or controls.current_config(),
                                controls.link_values(), controls.LINK_FIELDS,
                                controls.LINK_DEFAULTS)
    with link_spot:
        links.copy_link(params)

    st.header("3. Train", anchor="train")
    train_step(series, config, busy)

    st.header("4. Results", anchor="results")
    results_step(config)
    backtest_view.backtest_step(series, config, busy, st.session_state.get(COVARIATES_KEY))
    job_manager()  # start the workers (they load TensorFlow) before the first Train click


# Streamlit runs this file as "__main__"; training workers started with `spawn` import it again
# as "__mp_main__", and must not draw (or start) anything.
if __name__ == "__main__":
    main()
