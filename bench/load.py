"""A classroom at once: N browser sessions upload their own data and click Train together.

    python bench/load.py                    # N = 1, 4 and 10
    python bench/load.py --sessions 1 4 10 20 --epochs 5
    python bench/load.py --backend redis    # jobs on Redis + RQ, two `python -m core worker`s

For each N it starts a fresh `streamlit run app.py` (headless, own process group), waits until
the job workers have loaded TensorFlow, then opens N sessions (one browser context each) in
one headless Chromium. Every session uploads its own CSV (a series with its own level and its
own column name: its only column of numbers, which the page takes as the value), sets the
epochs, and then all N click Train at the same moment. Measured per session, as its page shows it (polled every 0.25 s):

    total    click on Train -> the page shows the results
    trained  the job's running time, as the page reports it ("Trained 10 epochs in 12 s",
             measured by the server from the job's start to its end; whole seconds)
    waited   total - trained: the time in the queue behind other sessions' jobs, plus the
             page's own delays (its progress panel refreshes once a second)

and per N: whether every session finished with results, whether any page showed another
session's column name or its downloaded forecast left its own data's range, and the peak
resident memory of the server process plus its children (the job workers), sampled every
0.2 s with psutil, next to the memory when idle before the clicks; and the CPU the Streamlit
process itself used over the round (near 100% = one core: the app, not training, is the limit).

The browsers run on the same 2 cores as the server (in a real classroom they would not), and
the machine is shared: timings are noisy; compare the ratios between N within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import io
import math
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


def wait_for_quiet_workers(pid: int, timeout: float = 180.0) -> int:
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
    foreign_names: tuple[str, ...] = ()  # other sessions' column names seen on this page
    own_holdout: bool | None = None  # the forecast CSV's true values are this session's data
    forecast_in_own_range: bool | None = None

    @property
    def isolated(self) -> bool:
        return not self.foreign_names and bool(self.own_holdout) and bool(
            self.forecast_in_own_range
        )


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
    """A browser context on the forecast page, ready to train: (context, page, retries, error)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 1000},
                                        accept_downloads=True)
    context.set_default_timeout(120_000)
    page = await context.new_page()
    try:
        retries = await prepare(page, url, data, index, epochs)
        return context, page, retries, ""
    except Exception as error:  # noqa: BLE001 - one broken session is a finding, not a crash
        stem = folder / f"N{sessions}-setup-session{index:02d}"
        return context, page, 1, await failure(page, stem, error)


async def failure(page, stem: Path, error: Exception) -> str:
    """Save a screenshot and the page's text next to `stem`; return a one-line description."""
    try:
        await page.screenshot(path=f"{stem}.png", full_page=True, timeout=15_000)
        Path(f"{stem}.txt").write_text(await page.locator("body").inner_text(timeout=10_000))
    except Exception:  # noqa: BLE001 - the description below is what matters
        pass
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line[:200]} (see {stem}.png)"


async def prepare(page, url: str, data: Path, index: int, epochs: int) -> int:
    """Open the forecast page, upload this session's CSV, set a fixed number of epochs.

    Returns how many times the upload had to be repeated before the page showed the series.
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


async def upload(page, data: Path, index: int) -> int:
    """Upload through the file chooser until the page shows the series; returns the retries."""
    main = page.locator(MAIN)
    summary = main.get_by_text(re.compile(rf"{column_name(index)}: {POINTS} points"))
    for attempt in range(2):
        chooser = main.locator('[data-testid="stFileUploaderDropzoneInput"]')
        await chooser.set_input_files(str(data))
        await wait_idle(page)
        try:
            await summary.wait_for(timeout=60_000)
            return attempt
        except Exception:  # noqa: BLE001 - the upload did not show: a user would try again
            if attempt:
                raise
    return 1


async def train_and_check(page, index: int, sessions: int, go: asyncio.Event,
                          timeout: float, folder: Path) -> SessionResult:
    """Click Train when `go` is set; time the wait and the training; check what the page shows."""
    result = SessionResult(index)
    try:
        return await _train_and_check(page, result, sessions, go, timeout)
    except Exception as error:  # noqa: BLE001 - one broken session is a finding, not a crash
        result.error = await failure(page, folder / f"N{sessions}-session{index:02d}", error)
        return result


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
    await go.wait()
    clicked = time.monotonic()
    await train.click()
    while True:
        now = time.monotonic()
        if now - clicked > timeout:
            result.error = f"no results after {timeout:.0f} s"
            return result
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
    await wait_idle(page)

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


@dataclasses.dataclass
class Round:
    sessions: int
    results: list[SessionResult]
    idle_mib: float
    peak_mib: float
    workers: int
    seconds: float
    server_cpu_percent: float


async def run_round(sessions: int, epochs: int, timeout: float, folder: Path,
                    backend: str = "local") -> Round:
    from playwright.async_api import async_playwright

    from tests.redis_helpers import RedisServer, Worker

    paths = [write_session_csv(folder, index) for index in range(sessions)]
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
            results += [
                SessionResult(index, error=f"setup: {error}")
                for index, (_, _, _, error) in enumerate(opened)
                if error
            ]
            results.sort(key=lambda result: result.index)
            for result, (_, _, retries, _) in zip(results, opened, strict=True):
                result.upload_retries = retries
            for context, _, _, _ in opened:
                await context.close()
            await browser.close()
    finally:
        server.stop()
        if worker is not None:
            worker.stop()
        if redis is not None:
            redis.stop()
    return Round(sessions, list(results), idle, memory.peak, workers, seconds,
                 memory.server_cpu_percent)


# --------------------------------------------------------------------------------------------
# Report


HEADER = ("N", "finished", "isolated", "queued", "starting", "re-upload", "wait med", "wait max", "train med",
          "train max", "total max", "round s", "app CPU%", "idle MiB", "peak MiB")


def _seconds(values: list[float], pick) -> str:
    return f"{pick(values):.1f}" if values else "-"


def row(result: Round) -> tuple[str, ...]:
    done = [r for r in result.results if r.finished]
    waits = [r.waited for r in done]
    trains = [r.trained for r in done]
    totals = [r.total for r in done]
    return (
        str(result.sessions),
        f"{len(done)}/{result.sessions}",
        f"{sum(r.isolated for r in done)}/{result.sessions}",
        str(sum(r.queue_position > 0 for r in result.results)),
        str(sum(r.engine_starting for r in result.results)),
        str(sum(r.upload_retries > 0 for r in result.results)),
        _seconds(waits, statistics.median),
        _seconds(waits, max),
        _seconds(trains, statistics.median),
        _seconds(trains, max),
        _seconds(totals, max),
        f"{result.seconds:.1f}",
        f"{result.server_cpu_percent:.0f}",
        f"{result.idle_mib:.0f}",
        f"{result.peak_mib:.0f}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 10],
                        help="numbers of simultaneous browser sessions (default: 1 4 10)")
    parser.add_argument("--epochs", type=int, default=10,
                        help="epochs each session trains, early stopping off (default: 10)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds a session may wait for its results (default: 900)")
    parser.add_argument("--details", action="store_true", help="also print every session")
    parser.add_argument("--backend", choices=("local", "redis"), default="local",
                        help="local: the app's own worker pool (default); redis: a redis-server "
                        "and `python -m core worker --workers 2`, started for each round")
    args = parser.parse_args(argv)
    missing = chromium_missing_message()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2

    folder = Path(tempfile.gettempdir()) / "rnnlab-load"
    folder.mkdir(exist_ok=True)
    print(f"backend {args.backend}; {args.epochs} epochs per session, {POINTS}-point monthly "
          "series, early stopping "
          f"off; {psutil.cpu_count()} CPUs; load average before: "
          f"{' '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    print(" | ".join(f"{key:>9}" for key in HEADER), flush=True)
    rounds = []
    for sessions in args.sessions:
        result = asyncio.run(run_round(sessions, args.epochs, args.timeout, folder, args.backend))
        rounds.append(result)
        print(" | ".join(f"{cell:>9}" for cell in row(result)), flush=True)
    print()
    print("train: the job's running time as its page reports it; wait: click on Train -> "
          "results shown, minus train (queue, start-up and page refresh). queued / starting: "
          "sessions whose page showed a place in the queue / 'starting the training engine'; "
          "re-upload: sessions whose first upload did not show on the page (uploaded again). "
          "isolated: the page named only its own column, and its forecast CSV held its "
          "own data and stayed in its own range. app CPU%: the Streamlit process alone (not "
          "its workers) over the round, 100 = one core. idle/peak MiB: resident memory of the "
          "server and its job workers before the clicks / at its highest during the round.")
    failures = [r for rnd in rounds for r in rnd.results if not r.finished or not r.isolated]
    if args.details or failures:
        print()
        print("  N  session  finished  waited  trained  queue#  uploads  foreign names / error")
        for rnd in rounds:
            for r in rnd.results:
                wait = f"{r.waited:.1f}" if r.waited is not None else "-"
                train = f"{r.trained:.1f}" if r.trained is not None else "-"
                note = r.error or ", ".join(r.foreign_names) or (
                    "" if r.isolated else f"own holdout {r.own_holdout}, "
                    f"in own range {r.forecast_in_own_range}")
                print(f"{rnd.sessions:>3}  {r.index:>7}  {str(r.finished):>8}  {wait:>6}  "
                      f"{train:>7}  {r.queue_position:>6}  {1 + r.upload_retries:>7}  {note}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
