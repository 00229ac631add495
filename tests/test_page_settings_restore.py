"""Restoring a settings file on the forecast page brings its data back, or asks for it (AppTest).

Issue 14: restoring beer's settings while the airline sample was shown kept the airline series
and applied beer's season (4), window (16) and horizon (8) to it, while saying "Settings
restored". Now the settings file names its data and restoring selects it.
"""

from __future__ import annotations

import datetime

import pytest
from app_helpers import page, texts

from core.config import ForecastConfig
from core.settingsfile import DataRef, fingerprint, settings_json

PAGE = "pages/1_Forecast.py"
BEER = ForecastConfig(cell="lstm", season=4, window=16, horizon=8)
SALES = b"week,sales\n" + b"".join(
    f"{datetime.date(2020, 1, 6) + datetime.timedelta(weeks=w)},{10 + w % 4 * 3 + w * 0.1:.1f}\n"
    .encode() for w in range(120))
OTHER = SALES.replace(b"sales", b"units")


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    from ui.jobs import job_manager

    job_manager().shutdown()
    job_manager.clear()


def restore(at, document: str):
    at.file_uploader(key="fc_settings_file").set_value(
        ("rnnlab-settings.json", document.encode(), "application/json"))
    at.run()
    return at


def test_settings_of_one_sample_restored_while_another_is_shown_bring_their_sample():
    at = page(PAGE)
    assert at.session_state["fc_sample"] == "air_passengers"
    restore(at, settings_json(BEER, DataRef(sample="australian_beer", target="megalitres")))
    assert not at.exception and not at.error
    assert at.session_state["fc_sample"] == "australian_beer"
    assert at.session_state["_fc_config"] == BEER
    said = " ".join(texts(at.success))
    assert "with the data they were made for: the sample Australian beer" in said
    assert any("season 4" in caption for caption in texts(at.caption))


def test_an_older_settings_file_leaves_the_series_own_settings_automatic():
    at = restore(page(PAGE), BEER.to_json())  # no data field: made before files named it
    assert not at.exception
    assert at.session_state["fc_sample"] == "air_passengers"
    config = at.session_state["_fc_config"]
    assert (config.cell, config.season, config.window, config.horizon) == ("lstm", None, None, None)
    assert "does not say which data it was made for" in " ".join(texts(at.warning))
    assert any("season 12" in caption for caption in texts(at.caption))  # the airline's own


def test_settings_of_an_uploaded_file_ask_for_it_and_check_its_fingerprint():
    settings = settings_json(BEER, DataRef(file="sales.csv", sha256=fingerprint(SALES),
                                           target="sales", time="week"))
    at = restore(page(PAGE), settings)
    assert not at.exception
    assert at.radio(key="fc_source").value == "My own CSV file"
    assert "upload that file" in " ".join(texts(at.info))
    # another file: refused for the series' own settings
    at.file_uploader(key="fc_upload").set_value(("other.csv", OTHER, "text/csv"))
    at.run()
    assert not at.exception
    assert "not the file the settings were made for" in " ".join(texts(at.warning))
    config = at.session_state["_fc_config"]
    assert config.cell == "lstm" and (config.season, config.window, config.horizon) == (
        None, None, None)
    # the same file: every setting applies
    at = restore(page(PAGE), settings)
    at.file_uploader(key="fc_upload").set_value(("renamed.csv", SALES, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    assert "its fingerprint matches" in " ".join(texts(at.success))
    assert at.session_state["_fc_config"] == BEER


def test_the_downloaded_settings_file_names_the_data_shown():
    import json
    from unittest import mock

    from ui import controls

    at = page(PAGE)
    at.selectbox(key="fc_sample").set_value("lynx").run()
    # controls.settings_file reads st.session_state: give it this session's state
    state = {key: at.session_state[key] for key in ("fc_source", "fc_sample", "_fc_columns")}
    with mock.patch.object(controls.st, "session_state", state):
        document = json.loads(controls.settings_file(ForecastConfig()))
    assert document["data"]["sample"] == "lynx"
    assert document["data"]["target"] == state["_fc_columns"]["target"]
