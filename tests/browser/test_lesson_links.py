"""Lesson links in a real browser: the address follows the settings and reopens them; a lesson
link hides and greys out chosen controls."""

import pytest
from playwright.sync_api import expect

from tests.browser.driver import ACTION_TIMEOUT_MS, StreamlitApp

pytestmark = pytest.mark.browser


def test_the_address_reopens_the_same_settings_in_a_fresh_session(app, browser, server):
    app.open("/Next_Word")
    app.set_number("Units", 48)
    app.page.wait_for_function("() => location.search.includes('units=48')",
                               timeout=ACTION_TIMEOUT_MS)
    address = app.page.url
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        fresh = StreamlitApp(context.new_page(), server)
        fresh.open(address.removeprefix(server))
        expect(fresh.main.get_by_label("Units", exact=True)).to_have_value("48")
        fresh.assert_no_traceback()
    finally:
        context.close()


def test_a_lesson_link_hides_and_locks_controls(app):
    app.open("/Next_Word?cell=lstm&hide=units&lock=cell")
    expect(app.main.get_by_label("Units", exact=True)).to_be_hidden()
    expect(app.main.get_by_label("Context (words)", exact=True)).to_be_visible()
    expect(app.main.get_by_text("This lesson link fixes: cell")).to_be_visible()
    app.assert_no_traceback()
