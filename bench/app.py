"""Benchmark of the app as a user meets it: home cold start, Train click to first loss point, and
the overhead of training through the page's job against a bare `model.fit`.

    python bench/app.py                 # everything (needs Debian's chromium for the browser part)
    python bench/app.py --no-browser    # the home page's first run and the job overhead
    python bench/app.py --home-only     # only the home page's first run (AppTest, seconds)
    python bench/app.py --epochs 20 --repeats 3

1. Home cold start: a fresh `streamlit run app.py` server; the time until its health endpoint
   answers, then the time from opening the home page in headless Chromium until the quick-start
   buttons are drawn (the first visit runs the script cold), and the same for a second visit.
2. Train click to first loss point: on the forecast page (airline sample, defaults, early stopping
   off), the time from clicking "Train model" until the learning curve shows its first point:
   once right after the page opened (the workers may still be loading TensorFlow), and once more
   when they are warm.
3. Home first run without a browser: in a fresh Python with Streamlit already imported (as in a
   server that has served nothing yet), the time of the home page's first run in AppTest (its
   imports, its drawing, the job manager it starts), and which heavy libraries it loaded; the
   median of a few runs. Goal: at most 1 s.
4. Job overhead: the same network (GRU, defaults) on the same windows of the same series, trained
   for the same epochs (early stopping off) (a) through the page's job: `JobManager.submit` of the
   forecast task, timed from the moment the job starts running until its last epoch is reported;
   (b) as a bare `model.fit` in a separate process with the worker's thread settings: the
   forecast task's own code up to its `fit` call, which is replaced by a plain `model.fit` (same
   model, windows, epochs, batch size, no callbacks); (c) in that same process with RNN Lab's
   own `fit` (its callbacks), which separates the callbacks' cost from the worker's. They are
   run in turn (job, bare, inline, job, ...) so that all see the same load; medians are printed.

Timings on a shared 2-core machine are noisy: compare the ratios measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


# ---------------------------------------------------------------------------------------------
# 1 and 2: the app in a browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> tuple[subprocess.Popen, float]:
    """`streamlit run app.py` in its own process group; returns it and the seconds to healthy."""
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = started + 120
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return server, time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    stop_server(server)
    raise RuntimeError("the streamlit server did not answer within 120 s")


def stop_server(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def browser_figures(epochs: int) -> list[tuple[str, float, str]]:
    from playwright.sync_api import sync_playwright

    rows = []
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server, healthy = start_server(port)
    rows.append(("server start until healthy", healthy, "fresh `streamlit run app.py`"))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            for visit in ("first (cold)", "second"):
                started = time.perf_counter()
                page.goto(url)
                page.get_by_role("button", name="Forecast airline passengers").wait_for(
                    timeout=120_000
                )
                rows.append((f"home page rendered, {visit} visit",
                             time.perf_counter() - started, "open URL -> quick-start buttons"))

            page.goto(url + "/Forecast")
            train = page.get_by_role("button", name="Train model")
            train.wait_for(timeout=120_000)
            epochs_box = page.get_by_label("Epochs", exact=True)
            epochs_box.fill(str(epochs))
            epochs_box.press("Enter")
            page.get_by_text("Early stopping", exact=True).click()
            time.sleep(2)  # let the reruns of those two changes finish
            for attempt in ("right after opening the page", "workers warm"):
                started = time.perf_counter()
                train.click()
                # The progress text reads "Epoch 1 of 20, ..." once the first epoch's loss is in.
                page.get_by_text(re.compile(r"^Epoch [1-9][0-9]* of")).wait_for(timeout=300_000)
                rows.append((f"Train click -> first loss point, {attempt}",
                             time.perf_counter() - started, f"airline sample, {epochs} epochs"))
                try:
                    page.get_by_text("Scores on the holdout").wait_for(timeout=600_000)
                    page.get_by_text(re.compile(r"^Trained [0-9]+ epochs")).wait_for(
                        timeout=60_000)
                except Exception:
                    shot = Path(tempfile.gettempdir()) / "bench-app-failure.png"
                    page.screenshot(path=str(shot), full_page=True)
                    print(f"no results within 10 min; screenshot: {shot}", file=sys.stderr)
                    raise
                rows.append((f"Train click -> results shown, {attempt}",
                             time.perf_counter() - started, "incl. baselines (AutoETS)"))
                time.sleep(1)
            browser.close()
    finally:
        stop_server(server)
    return rows


# ---------------------------------------------------------------------------------------------
# 3: the home page's first run, without a browser

HEAVY = ("tensorflow", "keras", "pandas", "numpy", "plotly.graph_objects", "scipy", "statsmodels")
HOME_FIRST_RUN = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
before = set(sys.modules)
at = AppTest.from_file({app!r}, default_timeout=120)
started = time.perf_counter()
at.run()
seconds = time.perf_counter() - started
loaded = set(sys.modules) - before
from ui.jobs import job_manager
job_manager().shutdown()
print(json.dumps({{"seconds": seconds, "failed": bool(at.exception),
                  "heavy": [name for name in {heavy!r} if name in loaded]}}))
"""


def home_first_run(repeats: int) -> list[tuple[str, float, str]]:
    script = HOME_FIRST_RUN.format(root=str(ROOT), app=str(ROOT / "app.py"), heavy=HEAVY)
    seconds, heavy = [], set()
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              cwd=ROOT, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"the home page's first run failed: {done.stderr[-1000:]}")
        run = json.loads(done.stdout.strip().splitlines()[-1])
        if run["failed"]:
            raise RuntimeError("the home page raised an exception in AppTest")
        seconds.append(run["seconds"])
        heavy.update(run["heavy"])
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return [("home page first run (AppTest, fresh process)", statistics.median(seconds),
             f"median of {repeats} ({', '.join(f'{s:.2f}' for s in seconds)}); heavy modules "
             f"loaded: {', '.join(sorted(heavy)) or 'none'}; load {load}")]


# ---------------------------------------------------------------------------------------------
# 4: the job against a bare fit

BARE_FIT = r"""
import json, pickle, sys, time
sys.path.insert(0, {root!r})
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads({threads})
tf.config.threading.set_inter_op_parallelism_threads({threads})
import core.training
from core.config import ForecastConfig
from core.forecasting import run_forecast

class Captured(Exception):
    pass

real_fit = core.training.fit
mode = "bare"

def captured_fit(model, x, y, validation, settings, context, extra_callbacks=None):
    if mode == "bare":  # the model and windows the task built, fitted with no callbacks
        model.fit(x, y, validation_data=validation, epochs=settings.epochs,
                  batch_size=settings.batch_size, shuffle=settings.shuffle, verbose=0)
    else:  # RNN Lab's fit with its callbacks, in this process
        real_fit(model, x, y, validation, settings, context, extra_callbacks)
    raise Captured(len(x))

core.training.fit = captured_fit
with open({series!r}, "rb") as file:
    series = pickle.load(file)
config = ForecastConfig.from_dict(json.loads({config!r}))
print("ready", flush=True)
for line in sys.stdin:  # one fit per line ("bare" or "inline"), interleaved with the jobs
    mode = line.strip()
    started = time.perf_counter()
    try:
        run_forecast(series, config)
    except Captured as done:
        windows = done.args[0]
    print(json.dumps({{"seconds": time.perf_counter() - started, "windows": windows}}),
          flush=True)
"""


def _timed_job(manager, series, config) -> tuple[float, float, float, object]:
    """One forecast job: seconds from running to its last epoch, sum of epoch seconds, seconds
    from submit to done, and the resolved settings."""
    from core.forecasting import TASK
    from core.jobs import JobState

    job = manager.submit(TASK, {"series": series, "config": config.to_dict(),
                                "debug": {"autoets": False}})
    submitted = time.perf_counter()
    while job.state is JobState.QUEUED:
        time.sleep(0.005)
    running = time.perf_counter()
    last_epoch = None
    while not job.state.finished:
        if last_epoch is None and job.snapshot().epoch >= config.epochs:
            last_epoch = time.perf_counter()
        time.sleep(0.005)
    done = time.perf_counter()
    snapshot = job.snapshot()
    if snapshot.state is not JobState.DONE:
        raise RuntimeError(f"the job ended {snapshot.state.value}: {snapshot.message}")
    result = job.result
    manager.discard(job)
    return ((last_epoch or done) - running, sum(log["seconds"] for log in snapshot.logs),
            done - submitted, result.config)


def job_overhead(epochs: int, repeats: int) -> list[tuple[str, float, str]]:
    import pickle

    from core.config import ForecastConfig
    from core.data import load_series
    from core.jobs import JobManager

    path, target = SHARED / "monthly-sunspots.csv", "Sunspots"
    if not path.exists():
        path, target = ROOT / "sample_data" / "air_passengers.csv", "passengers"
    series = load_series(path, target=target)
    config = ForecastConfig(epochs=epochs, patience=0)

    manager = JobManager(workers=1, jobs_per_worker=repeats + 1)
    threads = manager._threads  # the worker's TensorFlow thread setting, used for the bare fit too
    folder = tempfile.TemporaryDirectory()
    series_path = str(Path(folder.name) / "series.pickle")
    with open(series_path, "wb") as file:
        pickle.dump(series, file)
    script = BARE_FIT.format(root=str(ROOT), threads=threads, series=series_path,
                             config=json.dumps(config.to_dict()))
    bare_process = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    job_times, epoch_sums, totals, bare_times, inline_times = [], [], [], [], []
    resolved, windows = None, 0
    try:
        if bare_process.stdout.readline().strip() != "ready":
            raise RuntimeError("the bare-fit process did not start")
        while manager.warming_up:
            time.sleep(0.2)
        for _ in range(repeats):  # interleaved, so that both see the same machine load
            job_seconds, epoch_seconds, total, resolved = _timed_job(manager, series, config)
            job_times.append(job_seconds)
            epoch_sums.append(epoch_seconds)
            totals.append(total)
            for mode, times in (("bare", bare_times), ("inline", inline_times)):
                bare_process.stdin.write(mode + "\n")
                bare_process.stdin.flush()
                answer = bare_process.stdout.readline()
                if not answer:
                    raise RuntimeError("the bare-fit process ended early")
                run = json.loads(answer)
                times.append(run["seconds"])
                windows = run["windows"]
    finally:
        manager.shutdown()
        bare_process.stdin.close()
        bare_process.wait(30)
        folder.cleanup()
    what = (f"{path.name}, {len(series)} points, {windows} training windows, "
            f"{resolved.cell.upper()} {resolved.units} units, window {resolved.window}, "
            f"{epochs} epochs, median of {repeats}")

    bare = statistics.median(bare_times)
    job = statistics.median(job_times)
    return [
        ("bare: windows + build + model.fit, no callbacks", bare,
         f"{what}; {threads} TF thread(s); in-process, same task code"),
        ("inline: the same with RNN Lab's fit and callbacks", statistics.median(inline_times),
         "same process as the bare fit: the callbacks' share"),
        ("page job: running -> last epoch reported", job, "the same in a JobManager worker, "
         "with live logs, stop flag, best weights"),
        ("page job: sum of epoch times", statistics.median(epoch_sums), "as the job logs them"),
        ("page job: submit -> done (no AutoETS)", statistics.median(totals),
         "incl. windows, holdout/future forecasts, intervals, saving"),
        ("overhead of the job's training vs bare fit", 100 * (job - bare) / bare,
         "percent (target: under 10)"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--home-only", action="store_true",
                        help="only the home page's first run, without a browser")
    args = parser.parse_args()
    if args.epochs < 1 or args.repeats < 1:
        print("error: --epochs and --repeats take whole numbers of 1 or more", file=sys.stderr)
        sys.exit(2)

    rows = home_first_run(max(args.repeats, 3))
    if args.home_only:
        _print(rows)
        return
    if not args.no_browser:
        if Path(CHROMIUM).exists():
            rows += browser_figures(args.epochs)
        else:
            print(f"skipping the browser figures: {CHROMIUM} not found "
                  "(apt-get install chromium)", file=sys.stderr)
    rows += job_overhead(args.epochs, args.repeats)
    _print(rows)


def _print(rows: list[tuple[str, float, str]]) -> None:
    print("\n| measurement | value | what |\n|---|---:|---|")
    for name, value, what in rows:
        unit = " %" if name.startswith("overhead") else " s"
        print(f"| {name} | {value:.2f}{unit} | {what} |")


if __name__ == "__main__":
    main()
