"""Journeys 2, 3 and 5 on the forecast page, as a new user takes them in the browser.

2. Upload a CSV through the real file chooser, pick the target, train, watch the learning curve
   grow, read the forecast chart and the scores, download the forecast and check its rows.
3. Upload a broken file: a plain error, no traceback, and the page still works with a sample.
5. Click elsewhere and visit another page during training: the training goes on.
"""

from __future__ import annotations

import csv
import math
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.driver import TRAINING_TIMEOUT_MS, StreamlitApp

pytestmark = pytest.mark.browser

TARGET_LABEL = "Value column (what to forecast)"
DOWNLOAD_CSV = "Download forecast (CSV)"


def write_monthly_csv(path: Path, points: int = 480) -> list[float]:
    """A monthly CSV with two numeric columns; returns the values of the second, `visitors`."""
    visitors = []
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", "temperature", "visitors"])
        for step in range(points):
            year, month = divmod(step, 12)
            season = math.sin(2 * math.pi * month / 12)
            value = round(500 + 3 * step + 60 * season + (step * 7919 % 17), 1)
            visitors.append(value)
            writer.writerow([f"{2000 + year}-{month + 1:02d}-01", f"{10 + 8 * season:.1f}", value])
    return visitors


def choose_upload(app: StreamlitApp, path: Path) -> None:
    app.main.get_by_text("My own CSV file", exact=True).click()
    app.wait_idle()
    app.upload(path)


def choose_sample(app: StreamlitApp, title: str) -> None:
    app.main.get_by_text("Bundled sample", exact=True).click()
    app.wait_idle()
    app.choose("Sample", title)


def set_training(app: StreamlitApp, epochs: int, batch_size: int | None = None) -> None:
    """A fixed number of epochs (early stopping off), so that the run's length is known."""
    app.set_number("Epochs", epochs)
    if batch_size is not None:
        app.set_number("Batch size", batch_size)
    early_stopping = app.main.get_by_role("checkbox", name="Early stopping")
    if early_stopping.is_checked():
        early_stopping.uncheck(force=True)  # the input is drawn over by Streamlit's own box
        app.wait_idle()


def progress_text(app: StreamlitApp) -> str:
    bars = app.main.locator('[data-testid="stProgress"]')
    if not bars.count():
        return ""
    try:
        # The bar can vanish between the two calls when training ends: that is "no bar".
        return bars.first.inner_text(timeout=1000)
    except PlaywrightTimeoutError:
        return ""


def epochs_shown(app: StreamlitApp) -> int | None:
    """The epoch the progress bar reports ("Epoch 7 of 40, ..."), or None without a bar."""
    match = re.search(r"Epoch (\d+) of", progress_text(app))
    return int(match.group(1)) if match else None


def watch_until_results(app: StreamlitApp, timeout_ms: int = TRAINING_TIMEOUT_MS) -> list[int]:
    """Wait for the results; return the learning curve's lengths seen while training ran."""
    lengths = []
    deadline = time.monotonic() + timeout_ms / 1000
    download = app.main.get_by_role("button", name=DOWNLOAD_CSV)
    while download.count() == 0:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no results {timeout_ms / 1000:.0f} s after Train; the page says:\n{app.text()}"
            )
        if progress_text(app):
            curve = app.chart("Learning curve")
            if curve and curve["traces"]:
                lengths.append(curve["traces"][0]["points"])
        app.page.wait_for_timeout(250)
    app.wait_idle()
    return lengths


def test_upload_train_and_download_a_forecast(app, tmp_path):
    data = tmp_path / "museum_visits.csv"
    visitors = write_monthly_csv(data)  # long enough that 40 epochs take a few seconds
    epochs = 40
    app.open("/Forecast")

    choose_upload(app, data)
    app.choose(TARGET_LABEL, "visitors")
    expect(app.main.get_by_text(re.compile(r"visitors: 480 points"))).to_be_visible()
    set_training(app, epochs, batch_size=8)
    app.main.get_by_role("button", name="Train model").click()
    lengths = watch_until_results(app)

    # The learning curve grew while training ran, one point per epoch, up to every epoch.
    partial = sorted({length for length in lengths if 0 < length < epochs})
    assert lengths == sorted(lengths), f"the learning curve shrank: {lengths}"
    assert len(partial) >= 2, f"the learning curve did not grow during training: {lengths}"
    curve = app.chart("Learning curve")
    assert curve is not None and curve["traces"][0]["points"] == epochs, curve
    expect(app.main.get_by_text(f"Trained {epochs} epochs in", exact=False)).to_be_visible()

    # The forecast chart and the scores against the baselines.
    results = app.chart("forecast of visitors")
    assert results is not None, f"no forecast chart of visitors; charts: {app.charts()}"
    names = [trace["name"] for trace in results["traces"]]
    assert any("forecast (future)" in name for name in names), names
    scores = app.main.locator('[data-testid="stDataFrame"]').last.locator("table")
    # The model is the network, or its mix with the classical methods (the default).
    expect(scores).to_contain_text(re.compile(r"GRU[^\n]*\(this model\)"))
    for label in ("naive", "seasonal naive", "drift", "AutoETS", "MAE", "MASE"):
        expect(scores).to_contain_text(label)

    # The forecast CSV: the holdout's true values are this file's last values, then the future.
    caption = app.main.get_by_text(re.compile(r"horizon \d+, holdout \d+")).first.inner_text()
    horizon = int(re.search(r"horizon (\d+)", caption).group(1))
    holdout = int(re.search(r"holdout (\d+)", caption).group(1))
    with app.page.expect_download() as download_info:
        app.main.get_by_role("button", name=DOWNLOAD_CSV).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(open(download.path(), newline="")))
    holdout_rows = [row for row in rows if row["part"] == "holdout"]
    future_rows = [row for row in rows if row["part"] == "future"]
    assert len(holdout_rows) == holdout and len(future_rows) == horizon, rows[:3]
    assert [float(row["actual"]) for row in holdout_rows] == pytest.approx(visitors[-holdout:])
    assert future_rows[0]["time"].startswith("2040-01"), future_rows[0]
    for row in rows:
        low, forecast, high = (float(row[k]) for k in ("lower_95", "forecast", "upper_95"))
        assert math.isfinite(forecast) and low <= forecast <= high, row
    app.assert_no_traceback()


BROKEN_FILES = {
    "binary": bytes(range(256)) * 40,
    "no_numbers": b"name,colour\nann,red\nbob,blue\ncid,green\ndee,white\n",
    "one_row": b"month,visitors\n2020-01-01,5\n",
}


@pytest.mark.parametrize("kind", list(BROKEN_FILES))
def test_broken_file_gets_a_plain_error_and_a_sample_still_works(app, tmp_path, kind):
    broken = tmp_path / f"{kind}.csv"
    broken.write_bytes(BROKEN_FILES[kind])
    app.open("/Forecast")

    choose_upload(app, broken)

    expect(app.page.locator('[data-testid="stAlertContentError"]').first).to_be_visible()
    for message in app.errors():
        assert len(message) > 40, f"too short to tell the user what to do: {message!r}"
    app.assert_no_traceback()
    expect(app.main.get_by_role("button", name="Train model")).to_be_disabled()

    choose_sample(app, "Canadian lynx (yearly)")
    expect(app.main.get_by_text(re.compile(r"trappings: \d+ points"))).to_be_visible()
    assert app.errors() == []
    expect(app.main.get_by_role("button", name="Train model")).to_be_enabled()
    app.assert_no_traceback()


def test_training_survives_clicks_and_a_visit_to_another_page(app):
    epochs = 40
    app.open("/Forecast")
    choose_sample(app, "Airline passengers (monthly)")
    set_training(app, epochs, batch_size=8)
    app.main.get_by_role("button", name="Train model").click()
    expect(app.main.get_by_text(re.compile(r"Epoch [1-9]\d* of"))).to_be_visible(
        timeout=TRAINING_TIMEOUT_MS
    )

    # Clicks elsewhere on the page, then a visit to the home page.
    app.main.get_by_text("How the file is read").click()
    app.main.get_by_text("More settings").click()
    app.wait_idle()
    before = epochs_shown(app) or 0
    app.go_to("Home")
    expect(app.main.get_by_role("button", name="Forecast airline passengers")).to_be_visible()
    app.page.wait_for_timeout(2000)

    # Back on the forecast page: the same training, further along (or finished), not restarted.
    app.main.get_by_role("link", name=re.compile("Forecast")).first.click()
    app.wait_idle()
    # The address holds the page's settings (lesson links) and the session's job token.
    expect(app.page).to_have_url(re.compile(r"/Forecast\?[^#]*session=[A-Za-z0-9_-]{20,}"))
    assert app.main.get_by_text("Press Train model to start").count() == 0, app.text()
    after = epochs_shown(app)
    if after is not None:
        assert after >= before, f"training went back from epoch {before} to {after}"
    watch_until_results(app)
    expect(app.main.get_by_text(f"Trained {epochs} epochs in", exact=False)).to_be_visible()
    assert app.chart("forecast of passengers") is not None, app.charts()
    app.assert_no_traceback()
