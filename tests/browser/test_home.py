"""Journey 1: the home page renders, and a quick start takes a new user to a trained forecast."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.driver import TRAINING_TIMEOUT_MS

pytestmark = pytest.mark.browser


def test_home_page_renders_with_its_quick_starts_and_pages(app):
    app.open("/")

    expect(app.main.get_by_role("heading", name=re.compile("RNN Lab"))).to_be_visible()
    for quick_start in ("Forecast airline passengers", "Forecast Australian beer"):
        expect(app.main.get_by_role("button", name=quick_start)).to_be_enabled()
    nav = app.page.locator('[data-testid="stSidebar"]')
    for page in ("Home", "Forecast", "Next word", "Compare the cells", "Inside the cell"):
        expect(nav.get_by_role("link", name=re.compile(page))).to_be_visible()
    expect(nav.get_by_role("link", name="app")).to_have_count(0)
    app.assert_no_traceback()


def test_sample_quick_start_leads_to_a_trained_forecast(app):
    app.open("/")

    app.main.get_by_role("button", name="Forecast airline passengers").click()

    # The address may carry the session token and the settings (lesson links) too.
    expect(app.page).to_have_url(re.compile(r"/Forecast(\?.*)?$"))
    download = app.main.get_by_role("button", name="Download forecast (CSV)")
    expect(download).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    app.wait_idle()
    results = app.chart("forecast of passengers")
    assert results is not None, f"no forecast chart; charts: {app.charts()}"
    assert any(t["name"].endswith("forecast (future)") and t["points"] > 0
               for t in results["traces"]), results
    expect(app.main.get_by_text(re.compile(r"^Trained \d+ epochs in"))).to_be_visible()
    expect(app.main.get_by_text("Verdict.")).to_be_visible()
    app.assert_no_traceback()
