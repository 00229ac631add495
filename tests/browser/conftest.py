"""Browser tests: the real app served by `streamlit run`, driven by headless Chromium.

Fixtures:
    server   (session) `streamlit run app.py` on a free localhost port, in its own process group;
             yields the base URL, then kills the group (the server and its job workers).
    browser  (session) Debian's Chromium through Playwright. It FAILS, never skips, when
             /usr/bin/chromium is missing (Playwright's own browser download does not work here).
    page     (test)    a fresh browser context, so a new Streamlit session for every test. When
             the test fails, a screenshot and the page's text are saved as
             test-artifacts/<test name>.png and .txt (next to --junitxml's report when given).
    app      (test)    `StreamlitApp` helpers over that page: open a page, wait until idle, ...
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.driver import (
    ACTION_TIMEOUT_MS,
    Server,
    ServerFailed,
    StreamlitApp,
    chromium_launch_options,
    chromium_missing_message,
    save_artifacts,
)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of RNN Lab served by `streamlit run app.py` for this test session."""
    app_server = Server(tmp_path_factory.mktemp("streamlit") / "server.log")
    try:
        try:
            yield app_server.start()
        except ServerFailed as error:
            pytest.fail(str(error), pytrace=False)
    finally:
        app_server.stop()


@pytest.fixture(scope="session")
def browser():
    missing = chromium_missing_message()
    if missing:
        pytest.fail(missing, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**chromium_launch_options())
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so that `page` knows whether a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def artifacts_dir(config) -> Path:
    report = getattr(config.option, "xmlpath", None)
    base = Path(report).resolve().parent if report else Path(config.rootpath)
    return base / "test-artifacts"


@pytest.fixture
def page(request, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_artifacts(page, artifacts_dir(request.config), request.node.name)
    context.close()


@pytest.fixture
def app(page, server) -> StreamlitApp:
    return StreamlitApp(page, server)
