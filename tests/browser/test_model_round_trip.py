"""Issue 14's journey in a real browser: keep a trained model and the page's settings, and use
them again in a fresh session.

Train on a sample, download the model file, open a fresh session, upload it and get the same
forecast without training; then open the page's address in a fresh session and see the same
settings.
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect

from tests.browser.driver import ACTION_TIMEOUT_MS, TRAINING_TIMEOUT_MS, StreamlitApp
from tests.browser.test_forecast import DOWNLOAD_CSV, set_training, watch_until_results

pytestmark = pytest.mark.browser

EPOCHS = 3
SAVED_CSV = "Download this forecast (CSV)"


def future_forecast(path) -> list[float]:
    rows = list(csv.DictReader(open(path, newline="")))
    return [float(row["forecast"]) for row in rows if row.get("part", "future") == "future"]


def download(app: StreamlitApp, name: str):
    with app.page.expect_download() as info:
        app.main.get_by_role("button", name=name).click()
    return info.value


def test_a_downloaded_model_forecasts_the_same_in_a_fresh_session(app, browser, server,
                                                                  tmp_path):
    app.open("/Forecast")  # the default sample: airline passengers
    set_training(app, EPOCHS)
    app.main.get_by_role("button", name="Train model").click()
    watch_until_results(app)
    trained = future_forecast(download(app, DOWNLOAD_CSV).path())
    model = download(app, "Download model (.rnnlab)")
    assert model.suggested_filename.endswith(".rnnlab")
    model_path = tmp_path / model.suggested_filename  # the uploader checks the file's suffix
    model.save_as(model_path)
    # The page's settings are in its address; the session's job token is not for sharing.
    address = re.sub(r"[?&]session=[^&]*", "", app.page.url.removeprefix(server))
    address = address if "?" in address else address.replace("&", "?", 1)
    assert f"epochs={EPOCHS}" in address, address

    context = browser.new_context(viewport={"width": 1280, "height": 1000},
                                  accept_downloads=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        fresh = StreamlitApp(context.new_page(), server)
        fresh.open("/Forecast")
        fresh.main.get_by_text("Forecast with a saved model instead").click()
        fresh.wait_idle()
        chooser = fresh.main.locator('[data-testid="stFileUploader"]').filter(
            has_text="Model file")
        chooser.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            str(model_path))
        fresh.wait_idle()
        fresh.main.get_by_role("button", name="Forecast with this model").click()
        expect(fresh.main.get_by_role("button", name=SAVED_CSV)).to_be_visible(
            timeout=TRAINING_TIMEOUT_MS)
        fresh.wait_idle()
        expect(fresh.main.get_by_text(re.compile(r"without training"))).to_be_visible()
        assert fresh.main.get_by_role("button", name="Stop training").count() == 0
        saved = future_forecast(download(fresh, SAVED_CSV).path())
        assert saved == pytest.approx(trained, rel=1e-6), (saved, trained)
        fresh.assert_no_traceback()

        # The address of the first session reopens its settings in a fresh one.
        again = StreamlitApp(context.new_page(), server)
        again.open(address)
        expect(again.main.get_by_label("Epochs", exact=True)).to_have_value(str(EPOCHS))
        again.assert_no_traceback()
    finally:
        context.close()
