"""Serve RNN Lab with `streamlit run` and drive it in Debian's Chromium (no pytest here).

Shared by the browser tests (tests/browser/conftest.py) and the load benchmark (bench/load.py).
Playwright cannot download its own browser on this machine: it launches /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INSTALL_CHROMIUM = "apt-get install -y chromium"
SERVER_START_SECONDS = 120  # importing Streamlit, pandas and Plotly on a busy 2-core machine
ACTION_TIMEOUT_MS = 30_000
# A tiny training, plus the workers' TensorFlow start-up on a busy machine (a minute at worst).
TRAINING_TIMEOUT_MS = 300_000

APP = '[data-testid="stApp"]'
MAIN = '[data-testid="stMain"]'
SKELETON = '[data-testid="stSkeleton"]'
# stApp's data-test-script-state: "initial" before the first run, "running" during a run
# (fragment reruns included), "notRunning" when idle. The status widget is no use here:
# toolbarMode = "minimal" hides it.
IDLE_STATE = "notRunning"


class ServerFailed(RuntimeError):
    """The app's server exited or never answered its health check (the message has its log)."""


def chromium_missing_message() -> str | None:
    if CHROMIUM.exists():
        return None
    return (
        f"Chromium is not installed at {CHROMIUM}; the browser tests and bench/load.py need "
        f"it. Install it with: {INSTALL_CHROMIUM}"
    )


def chromium_launch_options() -> dict:
    return {"executable_path": str(CHROMIUM), "args": list(CHROMIUM_ARGS)}


# --------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`streamlit run app.py` from the repo root, headless, in its own process group."""

    def __init__(self, log_path: Path, port: int | None = None, env: dict[str, str] | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self._env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = SERVER_START_SECONDS) -> str:
        """Start the server and wait for its health endpoint; returns the base URL."""
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            # Other people edit files in the checkout while the tests run: no reloads mid-test.
            "--server.fileWatcherType", "none",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self._env},
                start_new_session=True,
            )
        self._wait_healthy(timeout)
        return self.url

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(
                    f"`streamlit run app.py` exited with code {self.process.returncode} before "
                    f"it answered.\nIts output:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise ServerFailed(
            f"`streamlit run app.py` did not answer {self.url}/_stcore/health within "
            f"{timeout:.0f} s.\nIts output:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the server and its children (the job workers): the whole process group."""
        if self.process is None:
            return
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            # Workers can outlive a server that exited on SIGTERM: leave nothing behind.
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no output)"


# --------------------------------------------------------------------------------------------
# A page of the app


class StreamlitApp:
    """A page of the running app (Playwright sync API), with the waits Streamlit needs."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url

    def open(self, path: str = "/") -> None:
        """Load a page ("/" or "/Forecast") and wait until its script has run."""
        self.page.goto(self.base_url + path)
        self.page.locator(f"{APP}[data-test-script-state={IDLE_STATE}]").wait_for()
        self.wait_idle()

    def script_state(self) -> str | None:
        return self.page.locator(APP).get_attribute("data-test-script-state")

    def running(self) -> bool:
        return self.script_state() != IDLE_STATE

    def wait_idle(self, timeout_ms: int = ACTION_TIMEOUT_MS, quiet_ms: int = 700) -> None:
        """Wait until no script run has been in progress for `quiet_ms` in a row.

        A run starts a moment after a click, so one look could see the calm before it. The
        training panel's fragment reruns once a second, briefly: this returns between them.
        """
        deadline = time.monotonic() + timeout_ms / 1000
        quiet_since = None
        while time.monotonic() < deadline:
            busy = self.running() or self.page.locator(SKELETON).count() > 0
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
                return
            self.page.wait_for_timeout(100)
        raise AssertionError(f"the app was still running after {timeout_ms / 1000:.0f} s")

    @property
    def main(self):
        return self.page.locator(MAIN)

    def text(self) -> str:
        return self.main.inner_text()

    def go_to(self, link_text: str) -> None:
        """Click a page's link in the sidebar navigation, as a user would."""
        nav = self.page.locator('[data-testid="stSidebar"]')
        nav.get_by_role("link", name=re.compile(link_text, re.IGNORECASE)).first.click()
        self.wait_idle()

    def set_number(self, label: str | re.Pattern, value: float | int) -> None:
        """Type into a number input or a slider-less text field and confirm with Enter."""
        field = self.main.get_by_label(label, exact=isinstance(label, str)).first
        field.fill(str(value))
        field.press("Enter")
        self.wait_idle()

    def choose(self, label: str | re.Pattern, option: str | re.Pattern) -> None:
        """Pick `option` in the selectbox labelled `label`."""
        box = self.main.get_by_label(label, exact=isinstance(label, str)).first
        box.click()
        self.page.get_by_role("option", name=option).first.click()
        self.wait_idle()

    def upload(self, path: Path, index: int = 0) -> None:
        """Upload a file through a file uploader's real <input type=file>."""
        chooser = self.main.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(index)
        chooser.set_input_files(str(path))
        self.wait_idle()

    def click(self, name: str | re.Pattern) -> None:
        self.main.get_by_role("button", name=name).first.click()
        self.wait_idle()

    def charts(self) -> list[dict]:
        """Every Plotly chart on the page: its title, and each trace's name, length, x, y, text."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('.js-plotly-plot')].map(chart => ({
                title: String((chart.layout && chart.layout.title && chart.layout.title.text)
                              || '').replace(/<[^>]*>/g, ''),
                traces: (chart.data || []).map(trace => ({
                    name: trace.name || '', points: (trace.x || []).length,
                    x: Array.from(trace.x || []), y: Array.from(trace.y || []),
                    text: Array.from(trace.text || [])})),
            }))"""
        )

    def chart(self, title_part: str) -> dict | None:
        """The first Plotly chart whose title contains `title_part`, or None."""
        return next((c for c in self.charts() if title_part in c["title"]), None)

    def errors(self) -> list[str]:
        """The texts of the st.error boxes on the page."""
        return self.page.locator('[data-testid="stAlertContentError"]').all_inner_texts()

    def assert_no_traceback(self) -> None:
        body = self.page.locator("body").inner_text()
        assert "Traceback" not in body, f"a traceback is shown to the user:\n{body[-3000:]}"
        exceptions = self.page.locator('[data-testid="stException"]').count()
        assert exceptions == 0, f"{exceptions} exception box(es) shown to the user:\n{body[-3000:]}"


def save_artifacts(page, folder: Path, name: str) -> list[Path]:
    """Screenshot and text of `page` as folder/<name>.png and .txt; returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    written = []
    try:
        page.screenshot(path=str(folder / f"{stem}.png"), full_page=True, timeout=15_000)
        written.append(folder / f"{stem}.png")
    except Exception as error:  # noqa: BLE001 - a failed screenshot must not hide the test's error
        (folder / f"{stem}.png.error.txt").write_text(f"screenshot failed: {error}\n")
    try:
        text = page.locator("body").inner_text(timeout=10_000)
    except Exception as error:  # noqa: BLE001
        text = f"(could not read the page's text: {error})"
    (folder / f"{stem}.txt").write_text(f"URL: {page.url}\n\n{text}\n")
    written.append(folder / f"{stem}.txt")
    return written
