"""The browser suite needs Debian's Chromium: say how to install it, never skip silently."""

import pytest

from tests.browser.driver import chromium_missing_message

pytestmark = pytest.mark.browser


def test_chromium_is_installed():
    missing = chromium_missing_message()
    assert missing is None, missing
