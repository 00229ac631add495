"""Lesson links on the pages (AppTest): the address holds the settings and reopens them."""

from __future__ import annotations

import pytest
from app_helpers import page, texts
from streamlit.testing.v1 import AppTest

from core.config import NextWordConfig
from tests.app_helpers import ROOT
from tests.test_links import EVERY_FORECAST_SETTING, EVERY_NEXTWORD_SETTING

NEXT_WORD = "pages/2_Next_Word.py"
FORECAST = "pages/1_Forecast.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    from ui.jobs import job_manager

    job_manager().shutdown()
    job_manager.clear()


def link_warnings(at: AppTest) -> list[str]:
    return [text for text in texts(at.warning) if "this link" in text]


def opened(path: str, params: dict[str, str]) -> AppTest:
    """A fresh session of `path` opened from an address with `params`."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    at.query_params.update(params)
    at.run()
    return at


def test_the_address_follows_the_settings_and_reopens_them_in_a_fresh_session():
    at = page(NEXT_WORD)
    assert at.query_params == {}  # the defaults: a short address
    at.selectbox(key="nw_cell").set_value("rnn")
    at.number_input(key="nw_units").set_value(48)
    at.run()
    assert not at.exception
    address = dict(at.query_params)
    assert address == {"cell": "rnn", "units": "48"}
    again = opened(NEXT_WORD, address)
    assert not again.exception and not link_warnings(again)
    assert again.session_state["_nw_config"] == NextWordConfig(cell="rnn", units=48)
    assert dict(again.query_params) == address


def _with_controls_only(at: AppTest, config, prefix: str):
    """`config` with the settings this page has no control for (yet) at their defaults."""
    keys = {widget.key for kind in ("number_input", "selectbox", "checkbox", "radio",
                                    "select_slider") for widget in at.get(kind)}
    default = type(config)()
    return config.replace(**{name: getattr(default, name) for name in config.to_dict()
                             if name != "kind" and f"{prefix}{name}" not in keys})


def test_a_next_word_link_with_every_setting_round_trips():
    from pages_loader import next_word_page

    from core.links import link_params

    module = next_word_page()
    expected = _with_controls_only(page(NEXT_WORD), EVERY_NEXTWORD_SETTING, "nw_")
    assert expected.cell == "rnn" and expected.units == EVERY_NEXTWORD_SETTING.units
    params = link_params(expected, {"text": "seed_sentences.txt"}, module.LINK_FIELDS)
    at = opened(NEXT_WORD, params)
    assert not at.exception and not link_warnings(at)
    assert at.session_state["_nw_config"] == expected
    assert at.selectbox(key="nw_sample").value == "seed_sentences.txt"
    assert dict(at.query_params) == params


def test_a_forecast_link_with_every_setting_round_trips():
    from core.links import link_params
    from ui import controls

    expected = _with_controls_only(page(FORECAST), EVERY_FORECAST_SETTING, "fc_")
    # season and missing are drawn once the data is read: the page has controls for them too
    expected = expected.replace(season=EVERY_FORECAST_SETTING.season,
                                missing=EVERY_FORECAST_SETTING.missing)
    assert expected.cell == "lstm" and expected.window == 24
    params = link_params(expected,
                         {"data": "australian_beer", "target": "megalitres", "time": "quarter"},
                         controls.LINK_FIELDS)
    at = opened(FORECAST, params)
    assert not at.exception, at.exception
    assert not link_warnings(at)
    assert at.session_state["_fc_config"] == expected
    assert at.session_state["fc_sample"] == "australian_beer"
    assert dict(at.query_params) == params


def test_a_hand_edited_link_opens_with_defaults_and_says_what_was_ignored():
    at = opened(NEXT_WORD, {"cell": "transformer", "units": "lots", "context": "5",
                            "text": "../../etc/passwd", "colour": "red", "hide": "nonsense"})
    assert not at.exception
    warning = " ".join(texts(at.warning))
    for fragment in ("could not be used", "cell=transformer", "units=lots", "text=../../etc/passwd",
                     "colour: not a setting of this page", "hide=nonsense"):
        assert fragment in warning, warning
    assert at.session_state["_nw_config"] == NextWordConfig(context=5)
    assert dict(at.query_params) == {"context": "5"}  # the address now says what is shown


def test_a_lesson_link_hides_and_locks_controls():
    at = opened(NEXT_WORD, {"cell": "lstm", "hide": "units,dropout", "lock": "cell"})
    assert not at.exception and not link_warnings(at)
    style = " ".join(str(element.proto.body) for element in at.get("html"))
    assert ".st-key-nw_units, .st-key-nw_dropout { display: none; }" in style
    assert ".st-key-nw_cell { pointer-events: none" in style
    assert any("This lesson link fixes: cell" in caption for caption in texts(at.caption))
    at.selectbox(key="nw_cell").set_value("rnn").run()  # a keyboard could still reach it
    at.run()
    assert at.session_state["_nw_config"].cell == "lstm"
    assert dict(at.query_params) == {"cell": "lstm", "hide": "units,dropout", "lock": "cell"}


def test_a_forecast_link_asking_for_a_missing_column_says_so():
    at = opened(FORECAST, {"data": "lynx", "target": "no such column", "cell": "lstm"})
    assert not at.exception
    assert "value column 'no such column'" in " ".join(texts(at.warning))
    assert at.session_state["_fc_config"].cell == "lstm"


@pytest.mark.parametrize("params", [{"window": "1"}, {"units": "1e999"}, {"lock": "x" * 1000},
                                    {"data": "file", "target": "x"}])
def test_odd_forecast_links_never_raise(params):
    at = opened(FORECAST, params)
    assert not at.exception
