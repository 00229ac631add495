"""Journey 4: train on the sample corpus, type a prompt, see next words with probabilities."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.driver import TRAINING_TIMEOUT_MS

pytestmark = pytest.mark.browser


def test_train_on_the_sample_corpus_and_get_suggestions(app):
    app.open("/Next_Word")
    expect(app.main.get_by_text("Words", exact=True)).to_be_visible()  # the corpus is read

    app.set_number("Epochs (most)", 3)
    app.main.get_by_role("button", name="Train model").click()
    expect(app.main.get_by_role("heading", name="Suggest the next word")).to_be_visible(
        timeout=TRAINING_TIMEOUT_MS
    )
    app.wait_idle()
    expect(app.main.get_by_text("Top-1 accuracy", exact=False).first).to_be_visible()

    prompt = app.main.get_by_role("textbox", name="Start of a sentence")
    prompt.fill("the children")
    prompt.press("Enter")
    app.wait_idle()

    chart = app.chart("After \u201cthe children\u201d")
    assert chart is not None, f"no suggestions for the prompt; charts: {app.charts()}"
    bars = chart["traces"][0]
    words, probabilities = bars["y"], bars["x"]
    assert len(words) == 5 and all(isinstance(word, str) and word for word in words), bars
    assert all(0 < p <= 1 for p in probabilities), probabilities
    assert probabilities == sorted(probabilities, reverse=True), probabilities
    assert sum(probabilities) <= 1 + 1e-6, probabilities
    assert all(re.fullmatch(r"\d+(\.\d)?%", label) for label in bars["text"]), bars["text"]
    app.assert_no_traceback()
