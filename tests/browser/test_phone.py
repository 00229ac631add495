"""RNN Lab on a phone (390 x 844): the sidebar closes after choosing a page, and Plotly's tool
bar does not cover the charts' titles."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.driver import ACTION_TIMEOUT_MS, StreamlitApp

pytestmark = pytest.mark.browser


def test_on_a_phone_the_sidebar_closes_after_choosing_a_page(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        app = StreamlitApp(context.new_page(), server)
        app.open("/")
        sidebar = app.page.locator('[data-testid="stSidebar"]')
        app.page.locator('[data-testid="stExpandSidebarButton"]').first.click()
        expect(sidebar.get_by_role("link", name="Next word")).to_be_in_viewport()
        sidebar.get_by_role("link", name="Next word").click()
        expect(app.main.get_by_role("heading", name="Predict the next word")).to_be_visible()
        expect(sidebar.get_by_role("link", name="Next word")).not_to_be_in_viewport()
        app.wait_idle()
        chart = app.main.locator(".js-plotly-plot").first
        expect(chart.locator(".gtitle")).to_be_visible()
        expect(chart.locator(".modebar-container")).to_be_hidden()
        app.assert_no_traceback()
    finally:
        context.close()

