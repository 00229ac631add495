"""The next-word page shows the time estimate before Train and lets the user raise the budget."""

from __future__ import annotations

from app_helpers import page, texts

from core.config import NextWordConfig
from core.nextword import estimate_seconds

PAGE = "pages/2_Next_Word.py"


def test_the_estimate_is_shown_before_training_and_follows_the_budget():
    at = page(PAGE)
    assert not at.exception and not at.error
    expected = f"About {estimate_seconds(5526, NextWordConfig()):.0f} s on this text"
    assert any(expected in text for text in texts(at.caption))
    at.number_input(key="nw_budget_seconds").set_value(300.0).run()
    assert not at.exception
    assert at.session_state["_nw_config"].budget_seconds == 300.0
    assert any("at most 300 s of training" in text for text in texts(at.caption))
