"""A classroom at once: N browser sessions upload their own data and click Train together.

    python bench/load.py                    # N = 1, 10 and 30, each on both backends
    python bench/load.py --sessions 1 3 --epochs 5
    python bench/load.py --backend redis    # only Redis + RQ (`python -m core worker --workers 2`)

For each N it starts a fresh `streamlit run app.py` (headless, own process group), waits until
the job workers have loaded TensorFlow, then opens N sessions (one browser context each) in
one headless Chromium. Every session uploads its own CSV (a series with its own level and its
own column name: its only column of numbers, which the page takes as the value), sets the
epochs, and then all N click Train at the same moment. Measured per session:

    wait     the job's time in the queue (submitted -> started, as the backend logged it)
    train    the job's running time (started -> finished, as the backend logged it)
    delay    the job's end (the backend has its outcome) -> the page shows its results (the
             forecast's download button appears in the page, stamped in the browser by a
             MutationObserver): what the page itself adds, goal at most 2 s
    total    click on Train -> results shown

The backend's times come from RNNLAB_JOB_LOG (core.jobs.base.log_finished: one JSON line per
finished job, written by the app for the local pool and by the worker for Redis), matched to a
session by its token (`?session=` in its address); both clocks are this machine's wall clock.

and per N: whether every session finished with results; whether any page showed another
session's column name, or its downloaded forecast left its own data's range, or its job was
logged under another session's token (isolated); uploads lost (the first upload through the
file chooser that the page did not show within UPLOAD_SHOWN_SECONDS: the benchmark uploads
again, as a user would) and the seconds until an upload showed; the server log's "fragment ... does not exist" lines; the peak resident memory of the
server process plus its children (the job workers), sampled every 0.2 s with psutil, next to
the memory when idle before the clicks; the CPU the Streamlit process itself used over the
round (near 100% = one core: the app, not training, is the limit); and the machine's load
average at the round's end.

The browsers run on the same 2 cores as the server (in a real classroom they would not), and
the machine is shared: timings are noisy; compare the ratios between N within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import io
import json
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.driver import (  # noqa: E402
    APP,
    IDLE_STATE,
    MAIN,
    Server,
    chromium_launch_options,
    chromium_missing_message,
)

MIB = 2**20
POINTS = 96  # eight years of a monthly series: small, so that the benchmark measures the server
LEVEL_STEP = 1000.0  # session i's series lives around (i + 1) * 1000: ranges never overlap


# --------------------------------------------------------------------------------------------
# Data: one CSV per session, told apart by its level and its column name


def column_name(index: int) -> str:
    return f"visitors_class{index:02d}"


def series(index: int) -> list[float]:
    """Session `index`'s monthly series: trend and season around (index + 1) * LEVEL_STEP."""
    level = (index + 1) * LEVEL_STEP
    return [
        round(level + 2.0 * step + 80.0 * math.sin(2 * math.pi * (step % 12) / 12)
              + (step * 7919 % 13), 1)
        for step in range(POINTS)
    ]


def write_session_csv(folder: Path, index: int) -> Path:
    path = folder / f"class{index:02d}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", column_name(index)])
        for step, value in enumerate(series(index)):
            year, month = divmod(step, 12)
            writer.writerow([f"{2015 + year}-{month + 1:02d}-01", f"{value:.1f}"])
    return path


def own_range(index: int) -> tuple[float, float]:
    """Values a forecast of session `index` may take: its level +- half the gap to the next."""
    level = (index + 1) * LEVEL_STEP
    return level - LEVEL_STEP / 2, level + LEVEL_STEP / 2


# --------------------------------------------------------------------------------------------
# Memory of the server and its workers


class MemorySampler:
    """Peak resident memory (MiB) of a process plus all its children (and of `others`, such as
    the Redis backend's worker and redis-server, with theirs), sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.2, others: tuple[int, ...] = ()):
        self._process = psutil.Process(pid)
        self._others = [psutil.Process(other) for other in others]
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak = 0.0

    def current(self) -> float:
        total = 0
        roots = [self._process, *self._others]
        for process in [*roots, *(c for r in roots for c in r.children(recursive=True))]:
            try:
                total += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total / MIB

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            self._stop.wait(self._every)

    def __enter__(self) -> MemorySampler:
        self._cpu_start = sum(self._process.cpu_times()[:2])
        self._wall_start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        cpu = sum(self._process.cpu_times()[:2]) - self._cpu_start
        # The Streamlit process alone (not its workers): near 100% means it is the bottleneck.
        self.server_cpu_percent = 100.0 * cpu / max(time.monotonic() - self._wall_start, 1e-9)


def wait_for_quiet_workers(pid: int, timeout: float = 600.0) -> int:
    """Wait until the server has worker children and they have stopped using the CPU.

    The job manager starts its workers on the first page that needs it; each imports
    TensorFlow (seconds of CPU). Returns the number of children seen.
    """
    server = psutil.Process(pid)
    deadline = time.monotonic() + timeout
    known: dict[int, psutil.Process] = {}  # cpu_percent() measures since the previous call
    calm = 0
    while time.monotonic() < deadline:
        busy = 0.0
        for child in server.children(recursive=True):
            process = known.setdefault(child.pid, child)
            try:
                busy += process.cpu_percent(interval=None)
            except psutil.NoSuchProcess:
                pass
        calm = calm + 1 if len(known) >= 2 and busy < 10.0 else 0
        if calm >= 4:
            return len(server.children(recursive=True))
        time.sleep(0.5)
    raise RuntimeError(f"the job workers were still busy (or absent) after {timeout:.0f} s")


# --------------------------------------------------------------------------------------------
# One browser session

# When each session's websocket to the server closed (a dropped connection: the page reconnects,
# and what the server sent in between is lost until a new run redraws it).
DROPS: dict[int, list[float]] = {}


@dataclasses.dataclass
class SessionResult:
    index: int
    finished: bool = False
    error: str = ""
    waited: float | None = None  # total - trained: the queue, start-up and the page's delays
    trained: float | None = None  # the job's running time, as the page reports it when done
    total: float | None = None
    queue_position: int = 0  # the highest place in the queue the page showed (0: never queued)
    engine_starting: bool = False  # the page said the training engine was still starting
    upload_retries: int = 0  # uploads repeated because the page did not show the file
    upload_seconds: float | None = None  # the (last) upload -> the page shows the series
    dropped: int = 0  # the page's websocket to the server closed (Streamlit reconnects)
    rerun_at: float | None = None  # wall clock when the app saw the job finished and reran
    drawn_at: float | None = None  # wall clock when a page run began drawing the results
    token: str = ""  # the session's token, from its address once it has a job
    shown_at: float | None = None  # wall clock when the page showed the results
    job: dict | None = None  # the backend's log line of this session's job
    foreign_names: tuple[str, ...] = ()  # other sessions' column names seen on this page
    own_holdout: bool | None = None  # the forecast CSV's true values are this session's data
    forecast_in_own_range: bool | None = None

    @property
    def isolated(self) -> bool:
        return not self.foreign_names and bool(self.own_holdout) and bool(
            self.forecast_in_own_range
        ) and self.job is not None

    def _job_time(self, start: str, end: str) -> float | None:
        if self.job is None or self.job.get(start) is None or self.job.get(end) is None:
            return None
        return self.job[end] - self.job[start]

    @property
    def app_delay(self) -> float | None:
        """Job finished (backend) -> the page's panel saw it and asked for a page run: the
        app's own part of `delay` (the rest: that run, and the browser drawing it)."""
        if self.job is None or self.rerun_at is None:
            return None
        return self.rerun_at - self.job["finished"]

    @property
    def server_delay(self) -> float | None:
        """Job finished (backend) -> the server's run of the page reached the results (its
        panel drew the finished job): the server's part of `delay`; the rest is sending that
        run and the browser drawing it."""
        if self.job is None or self.drawn_at is None:
            return None
        return self.drawn_at - self.job["finished"]

    @property
    def delay(self) -> float | None:
        """Job finished (backend) -> results shown (page), seconds."""
        if self.job is None or self.shown_at is None:
            return None
        return self.shown_at - self.job["finished"]


async def wait_idle(page, timeout: float = 120.0, quiet: float = 0.7) -> None:
    """Wait until no script run has been in progress for `quiet` seconds in a row."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        state = await page.locator(APP).get_attribute("data-test-script-state")
        if state != IDLE_STATE:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the page was still running after {timeout:.0f} s")


async def open_session(browser, url: str, data: Path, index: int, sessions: int,
                       epochs: int, folder: Path):
    """A browser context on the forecast page, ready to train:
    (context, page, (retries, upload seconds), error)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000},
                                        accept_downloads=True)
    context.set_default_timeout(120_000)
    page = await context.new_page()
    DROPS[index] = []
    page.on("websocket", lambda socket: socket.on(
        "close", lambda _: DROPS[index].append(time.monotonic())))
    try:
        retries = await prepare(page, url, data, index, epochs)
        return context, page, retries, ""
    except Exception as error:  # noqa: BLE001 - one broken session is a finding, not a crash
        stem = folder / f"N{sessions}-setup-session{index:02d}"
        return context, page, (1, None), await failure(page, stem, error)


async def failure(page, stem: Path, error: Exception) -> str:
    """Save a screenshot and the page's text next to `stem`; return a one-line description."""
    try:
        await page.screenshot(path=f"{stem}.png", full_page=True, timeout=15_000)
        Path(f"{stem}.txt").write_text(await page.locator("body").inner_text(timeout=10_000))
    except Exception:  # noqa: BLE001 - the description below is what matters
        pass
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line[:200]} (see {stem}.png)"


async def prepare(page, url: str, data: Path, index: int, epochs: int) -> tuple[int, float]:
    """Open the forecast page, upload this session's CSV, set a fixed number of epochs.

    Returns how many times the upload had to be repeated before the page showed the series,
    and the seconds from the last upload to the series shown.
    """
    main = page.locator(MAIN)
    await page.goto(f"{url}/Forecast")
    await page.locator(f"{APP}[data-test-script-state={IDLE_STATE}]").wait_for()
    await wait_idle(page)
    await main.get_by_text("My own CSV file", exact=True).click()
    await wait_idle(page)
    # The file has one column of numbers: it is the value column without being picked.
    retries = await upload(page, data, index)
    epochs_field = main.get_by_label("Epochs", exact=True)
    await epochs_field.fill(str(epochs))
    await epochs_field.press("Enter")
    await wait_idle(page)
    early_stopping = main.get_by_role("checkbox", name="Early stopping")
    if await early_stopping.is_checked():
        await early_stopping.uncheck(force=True)
        await wait_idle(page)
    return retries


async def upload(page, data: Path, index: int) -> tuple[int, float]:
    """Upload through the file chooser until the page shows the series; returns the retries
    and the seconds from the (last) upload until the page showed it."""
    main = page.locator(MAIN)
    summary = main.get_by_text(re.compile(rf"{column_name(index)}: {POINTS} points"))
    for attempt in range(2):
        # The data step's chooser: once a file shows, the page has other choosers below it.
        chooser = main.locator('[data-testid="stFileUploaderDropzoneInput"]').first
        started = time.monotonic()
        await chooser.set_input_files(str(data))
        try:
            await summary.wait_for(timeout=UPLOAD_SHOWN_SECONDS * 1000)
            seconds = time.monotonic() - started
            await wait_idle(page)
            return attempt, seconds
        except Exception:  # noqa: BLE001 - the upload did not show: a user would try again
            if attempt:
                raise
    return 1, math.nan


async def train_and_check(page, index: int, sessions: int, go: asyncio.Event,
                          timeout: float, folder: Path) -> SessionResult:
    """Click Train when `go` is set; time the wait and the training; check what the page shows."""
    result = SessionResult(index)
    try:
        return await _train_and_check(page, result, sessions, go, timeout)
    except Exception as error:  # noqa: BLE001 - one broken session is a finding, not a crash
        result.error = await failure(page, folder / f"N{sessions}-session{index:02d}", error)
        return result


# Stamps (in the browser's wall clock, the same as time.time() here) the moment the forecast's
# download button, the last of the results, enters the page: exact, where polling from here
# would add its own interval.
STAMP_RESULTS = """() => {
  window.__rnnlabShown = null;
  const main = document.querySelector('[data-testid="stMain"]');
  const look = () => {
    if (window.__rnnlabShown) return;
    for (const button of main.querySelectorAll('button')) {
      if (button.innerText.includes('Download forecast (CSV)')) {
        window.__rnnlabShown = Date.now();
        observer.disconnect();
        return;
      }
    }
  };
  const observer = new MutationObserver(look);
  observer.observe(main, {childList: true, subtree: true});
}"""


def token_of(url: str) -> str:
    match = re.search(r"[?&]session=([A-Za-z0-9_-]+)", url)
    return match.group(1) if match else ""


def trained_seconds(text: str) -> float | None:
    """The running time in the page's "Trained 10 epochs in 12 s" (or "in 1 min 05 s")."""
    match = re.search(r"Trained \d+ epochs in (?:(\d+) min )?(\d+) s", text)
    if match is None:
        return None
    return 60.0 * int(match.group(1) or 0) + int(match.group(2))


async def _train_and_check(page, result: SessionResult, sessions: int, go: asyncio.Event,
                           timeout: float) -> SessionResult:
    index = result.index
    main = page.locator(MAIN)
    train = main.get_by_role("button", name="Train model")
    download = main.get_by_role("button", name="Download forecast (CSV)")
    await page.evaluate(STAMP_RESULTS)
    await go.wait()
    clicked = time.monotonic()
    await train.click()
    while True:
        now = time.monotonic()
        if now - clicked > timeout:
            # Raised, so that the page's screenshot and text are kept for a look.
            raise TimeoutError(f"no results after {timeout:.0f} s")
        if await download.count():
            break
        queue = await main.get_by_text(re.compile(r"you are number \d+")).all_inner_texts()
        for text in queue:
            position = int(re.search(r"you are number (\d+)", text).group(1))
            result.queue_position = max(result.queue_position, position)
        if await main.get_by_text("Starting the training engine").count():
            result.engine_starting = True
        errors = await main.locator('[data-testid="stAlertContentError"]').all_inner_texts()
        if errors:
            result.error = " | ".join(errors)[:300]
            return result
        await asyncio.sleep(0.25)
    result.total = time.monotonic() - clicked
    result.finished = True
    shown_ms = await page.evaluate("() => window.__rnnlabShown")
    result.shown_at = shown_ms / 1000 if shown_ms else time.time()
    await wait_idle(page)
    result.token = token_of(page.url)

    text = await main.inner_text()
    result.trained = trained_seconds(text)
    if result.trained is not None:
        result.waited = max(result.total - result.trained, 0.0)
    others = [column_name(other) for other in range(sessions) if other != index]
    result.foreign_names = tuple(name for name in others if name in text)
    async with page.expect_download() as download_info:
        await download.click()
    path = await (await download_info.value).path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    holdout = [row for row in rows if row["part"] == "holdout"]
    own = series(index)
    actual = [float(row["actual"]) for row in holdout]
    result.own_holdout = bool(holdout) and all(
        abs(a - b) < 1e-6 for a, b in zip(actual, own[-len(actual):], strict=True)
    )
    low, high = own_range(index)
    result.forecast_in_own_range = bool(rows) and all(
        low <= float(row["forecast"]) <= high for row in rows
    )
    return result


# --------------------------------------------------------------------------------------------
# One round: a fresh server, N sessions


# An upload not shown by then counts as lost. At N = 30 (all thirty browsers on the server's two
# cores) the first uploads took up to 90 s to show: slow, not lost.
UPLOAD_SHOWN_SECONDS = 180.0
FRAGMENT_WARNING = "does not exist"  # Streamlit's "The fragment with id ... does not exist anymore"


@dataclasses.dataclass
class Round:
    sessions: int
    backend: str
    results: list[SessionResult]
    idle_mib: float
    peak_mib: float
    workers: int
    seconds: float
    server_cpu_percent: float
    fragment_warnings: int
    load_after: float  # the machine's 1-minute load average at the round's end


def read_job_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def match_jobs(results: list[SessionResult], jobs: list[dict]) -> None:
    """Give each session the log line of its own job (by token; the newest forecast job)."""
    for result in results:
        own = [job for job in jobs if result.token and job["owner"] == result.token
               and job.get("tag") == "forecast" and "finished" in job]
        result.job = max(own, key=lambda job: job["finished"]) if own else None
        reruns = [line["at"] for line in jobs if result.job is not None
                  and line.get("event") == "page_rerun" and line["id"] == result.job["id"]]
        result.rerun_at = min(reruns) if reruns else None
        drawn = [line["at"] for line in jobs if result.job is not None
                 and line.get("event") == "page_drawn" and line["id"] == result.job["id"]]
        result.drawn_at = min(drawn) if drawn else None


async def run_round(sessions: int, epochs: int, timeout: float, folder: Path,
                    backend: str = "local") -> Round:
    from playwright.async_api import async_playwright

    from tests.redis_helpers import RedisServer, Worker

    paths = [write_session_csv(folder, index) for index in range(sessions)]
    job_log = folder / f"jobs-{sessions}-{backend}.jsonl"
    job_log.unlink(missing_ok=True)
    os.environ["RNNLAB_JOB_LOG"] = str(job_log)  # the server and the Redis worker inherit it
    env, redis, worker, others = {}, None, None, ()
    if backend == "redis":
        redis_folder = folder / f"redis-{sessions}"
        redis_folder.mkdir(exist_ok=True)
        redis = RedisServer(redis_folder).start()
        worker = Worker(redis.url, folder / f"worker-{sessions}.log", "--workers", "2")
        env = {"RNNLAB_REDIS_URL": redis.url}
        others = (worker.process.pid, redis.process.pid)
    server = Server(folder / f"server-{sessions}-{backend}.log", env=env)
    url = server.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(**chromium_launch_options())
            # The home page starts the job workers; wait until they have loaded TensorFlow.
            home = await browser.new_page()
            await home.goto(url)
            await wait_idle(home)
            await home.close()
            trainers = worker.process.pid if worker else server.process.pid
            workers = await asyncio.to_thread(wait_for_quiet_workers, trainers)
            opened = await asyncio.gather(
                *(open_session(browser, url, path, index, sessions, epochs, folder)
                  for index, path in enumerate(paths))
            )
            go = asyncio.Event()
            with MemorySampler(server.process.pid, others=others) as memory:
                idle = memory.current()
                began = time.monotonic()
                tasks = [
                    asyncio.create_task(
                        train_and_check(page, index, sessions, go, timeout, folder)
                    )
                    for index, (_, page, _, error) in enumerate(opened)
                    if not error
                ]
                go.set()  # every session that is ready clicks Train now
                results = await asyncio.gather(*tasks)
                seconds = time.monotonic() - began
                ended = time.monotonic()
            results += [
                SessionResult(index, error=f"setup: {error}")
                for index, (_, _, _, error) in enumerate(opened)
                if error
            ]
            results.sort(key=lambda result: result.index)
            for result, (_, _, (retries, upload_seconds), _) in zip(results, opened,
                                                                     strict=True):
                result.upload_retries = retries
                result.upload_seconds = upload_seconds
                result.dropped = sum(when <= ended for when in DROPS.get(result.index, ()))
            for context, _, _, _ in opened:
                await context.close()
            await browser.close()
    finally:
        server.stop()
        if worker is not None:
            worker.stop()
        if redis is not None:
            redis.stop()
        os.environ.pop("RNNLAB_JOB_LOG", None)
    match_jobs(results, read_job_log(job_log))
    warnings = server.log_path.read_text(errors="replace").count(FRAGMENT_WARNING)
    return Round(sessions, backend, list(results), idle, memory.peak, workers, seconds,
                 memory.server_cpu_percent, warnings, psutil.getloadavg()[0])


# --------------------------------------------------------------------------------------------
# Report


HEADER = ("backend", "N", "finished", "isolated", "upl. lost", "ws drops", "wait med",
          "wait max",
          "train med", "train max", "app med", "app max", "server med", "server max",
          "delay med", "delay max", "total max", "upload med", "upload max",
          "frag warn",
          "app CPU%", "idle MiB", "peak MiB", "load 1min")


def _seconds(values: list[float | None], pick) -> str:
    values = [value for value in values if value is not None]
    return f"{pick(values):.1f}" if values else "-"


def row(result: Round) -> tuple[str, ...]:
    done = [r for r in result.results if r.finished]
    waits = [r._job_time("submitted", "started") for r in done]
    trains = [r._job_time("started", "finished") for r in done]
    delays = [r.delay for r in done]
    app_delays = [r.app_delay for r in done]
    server_delays = [r.server_delay for r in done]
    uploads = [r.upload_seconds for r in result.results]
    totals = [r.total for r in done]
    return (
        result.backend,
        str(result.sessions),
        f"{len(done)}/{result.sessions}",
        f"{sum(r.isolated for r in done)}/{result.sessions}",
        str(sum(r.upload_retries > 0 for r in result.results)),
        str(sum(r.dropped for r in result.results)),
        _seconds(waits, statistics.median),
        _seconds(waits, max),
        _seconds(trains, statistics.median),
        _seconds(trains, max),
        _seconds(app_delays, statistics.median),
        _seconds(app_delays, max),
        _seconds(server_delays, statistics.median),
        _seconds(server_delays, max),
        _seconds(delays, statistics.median),
        _seconds(delays, max),
        _seconds(totals, max),
        _seconds(uploads, statistics.median),
        _seconds(uploads, max),
        str(result.fragment_warnings),
        f"{result.server_cpu_percent:.0f}",
        f"{result.idle_mib:.0f}",
        f"{result.peak_mib:.0f}",
        f"{result.load_after:.1f}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30],
                        help="numbers of simultaneous browser sessions (default: 1 10 30)")
    parser.add_argument("--epochs", type=int, default=10,
                        help="epochs each session trains, early stopping off (default: 10)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds a session may wait for its results (default: 1800)")
    parser.add_argument("--details", action="store_true", help="also print every session")
    parser.add_argument("--backend", choices=("local", "redis", "both"), default="both",
                        help="local: the app's own worker pool; redis: a redis-server "
                        "and `python -m core worker --workers 2`, started for each round; "
                        "both (default): each N on local, then on redis")
    args = parser.parse_args(argv)
    missing = chromium_missing_message()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    if min(args.sessions) < 1 or args.epochs < 1:
        print("error: --sessions and --epochs take numbers of 1 or more", file=sys.stderr)
        return 2

    folder = Path(tempfile.gettempdir()) / "rnnlab-load"
    folder.mkdir(exist_ok=True)
    backends = ("local", "redis") if args.backend == "both" else (args.backend,)
    print(f"{args.epochs} epochs per session, {POINTS}-point monthly series, early stopping "
          f"off; {psutil.cpu_count()} CPUs; load average before: "
          f"{' '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    print(" | ".join(f"{key:>9}" for key in HEADER), flush=True)
    rounds = []
    for sessions in args.sessions:
        for backend in backends:
            result = asyncio.run(run_round(sessions, args.epochs, args.timeout, folder, backend))
            rounds.append(result)
            print(" | ".join(f"{cell:>9}" for cell in row(result)), flush=True)
    print()
    print("wait / train: the job's time in the queue / running, from the backend's log; delay: "
          "the job's end (backend) -> its results in the page (goal: at most 2 s); app: the part "
          "of delay until the page's panel saw the job finished and asked for a page run; "
          "server: the part until the server's run of the page began drawing the results (the "
          "rest is sending that run and the browser drawing it); total: "
          "click on Train -> results shown. upl. lost: sessions whose first upload did not "
          f"show on the page within {UPLOAD_SHOWN_SECONDS:.0f} s (uploaded again); upload: the "
          "seconds from an upload to the page showing the series. isolated: the page named only its "
          "own column, its forecast CSV held its own data and stayed in its own range, and "
          "its job was logged under its own token. frag warn: 'fragment ... does not exist' "
          "lines in the server's log. ws drops: the pages' websockets to the server that closed "
          "before the round's end (each page reconnects). app CPU%: the Streamlit process alone (not its workers) "
          "over the round, 100 = one core. idle/peak MiB: resident memory of the server and "
          "its job workers (redis: plus the worker and redis-server) before the clicks / at "
          "its highest during the round. load 1min: the machine's load average at the "
          "round's end (2 cores: above 2, the machine is oversubscribed).")
    failures = [r for rnd in rounds for r in rnd.results if not r.finished or not r.isolated]
    if args.details or failures:
        print()
        print("backend    N  session  finished  wait  train  delay  total  uploads  "
              "upload s  drops  foreign names / error")
        for rnd in rounds:
            for r in rnd.results:
                cells = [_seconds([value], max) for value in (
                    r._job_time("submitted", "started"), r._job_time("started", "finished"),
                    r.delay, r.total)]
                note = r.error or ", ".join(r.foreign_names) or (
                    "" if r.isolated else f"own holdout {r.own_holdout}, "
                    f"in own range {r.forecast_in_own_range}, job logged {r.job is not None}")
                print(f"{rnd.backend:>7}  {rnd.sessions:>3}  {r.index:>7}  {str(r.finished):>8}  "
                      + "  ".join(f"{c:>5}" for c in cells)
                      + f"  {1 + r.upload_retries:>7}  {_seconds([r.upload_seconds], max):>8}"
                      f"  {r.dropped:>5}  {note}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
