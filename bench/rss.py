"""Does memory stay flat over many trainings? Prints resident memory (RSS, MiB) per scenario.

    python bench/rss.py [--jobs 20] [--epochs 100]

(a) The leak: N build-and-fits one after another in ONE long-lived process, each followed by
    `keras.backend.clear_session()` and `gc.collect()` (what a server that trained in-process
    would do at best). Run twice: the seed's SimpleRNN task (`core.demo:sum_task`, the same
    work as in (b)) and a small LSTM forecaster fitted on a sine wave.
(b) The fix: the same N `core.demo:sum_task` jobs through `core.jobs.JobManager`, one after
    another: the app process only submits and polls; workers are recycled every few jobs.
    Measured: the app process (this one, which never imports TensorFlow) and the workers.

Scenario (a) runs in a child process so that this process stays a clean "app process" for (b).
The machine is shared: timings are noisy; memory figures are what was measured in this run.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.jobs import JobContext, JobManager, JobState, run_inline  # noqa: E402

MIB = 2**20


def _rss(pid: int | None = None) -> float:
    return psutil.Process(pid).memory_info().rss / MIB


def _lstm_fit(epochs: int, context: JobContext) -> None:
    """Build and fit a small LSTM on windows of a sine wave (what one forecast training does)."""
    import keras
    import numpy as np

    from core.training import FitSettings, fit

    series = np.sin(np.arange(400, dtype="float32") / 8.0)
    window = 12
    x = np.stack([series[i : i + window] for i in range(len(series) - window)])[..., None]
    y = series[window:]
    model = keras.Sequential(
        [keras.Input((window, 1)), keras.layers.LSTM(16), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    settings = FitSettings(epochs=epochs, batch_size=32, patience=0, monitor="loss")
    fit(model, x, y, None, settings, context)


def _in_one_process(conn, workload: str, jobs: int, epochs: int) -> None:
    """Child of scenario (a): run `jobs` trainings here and send back RSS before and after each."""
    from core.cli import quiet_native_stderr

    with quiet_native_stderr():  # TensorFlow's C++ log lines would bury the table
        import keras  # noqa: F401  (imported before the baseline: not counted as growth)

        _run_and_measure(conn, workload, jobs, epochs)


def _run_and_measure(conn, workload: str, jobs: int, epochs: int) -> None:
    readings = [_rss()]
    folder = tempfile.TemporaryDirectory(prefix="rnnlab-bench-")
    for _ in range(jobs):
        context = JobContext(Path(folder.name))
        if workload == "sum_task":
            run_inline("core.demo:sum_task", {"epochs": epochs, "seed": 0}, context)
        else:
            _lstm_fit(max(1, epochs // 20), context)
        sys.modules["keras"].backend.clear_session()
        gc.collect()
        readings.append(_rss())
    folder.cleanup()
    conn.send(readings)
    conn.close()


def scenario_one_process(workload: str, jobs: int, epochs: int) -> tuple[list[float], float]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    started = time.perf_counter()
    process = context.Process(target=_in_one_process, args=(child, workload, jobs, epochs))
    process.start()
    child.close()
    readings = parent.recv()
    process.join()
    return readings, time.perf_counter() - started


def scenario_job_manager(jobs: int, epochs: int, workers: int, jobs_per_worker: int) -> dict:
    manager = JobManager(workers=workers, jobs_per_worker=jobs_per_worker)
    app, worker_total, worker_max, seen_pids = [_rss()], [], [], set()
    started = time.perf_counter()
    try:
        for number in range(1, jobs + 1):
            job = manager.submit("core.demo:sum_task", {"epochs": epochs, "seed": number})
            snapshot = job.wait(900)
            if snapshot.state is not JobState.DONE:
                raise SystemExit(f"job {number} ended {snapshot.state.value}: {snapshot.message}")
            gc.collect()
            app.append(_rss())
            sizes = []
            for pid in manager.worker_pids():
                seen_pids.add(pid)
                try:
                    sizes.append(_rss(pid))
                except psutil.NoSuchProcess:
                    pass  # a worker that just retired
            worker_total.append(sum(sizes))
            worker_max.append(max(sizes, default=0.0))
    finally:
        manager.shutdown()
    return {
        "app": app,
        "worker_total": worker_total,
        "worker_max": worker_max,
        "workers_started": len(seen_pids),
        "seconds": time.perf_counter() - started,
    }


def _row(label: str, before: float | None, after_each: list[float], steady: bool) -> str:
    """One table line. `after_each` holds the RSS after job 1, 2, ..., N."""
    first, last = after_each[0], after_each[-1]
    growth = last - first
    start = "" if before is None else f"{before:.0f}"
    # A recycled worker's memory saw-tooths: growth "per job" would depend on where job N fell.
    per_job = f"{growth / max(len(after_each) - 1, 1):+.2f}" if steady else "-"
    return (
        f"{label:<40}{start:>8}{first:>13.0f}{last:>14.0f}{max(after_each):>8.0f}"
        f"{growth:>+15.1f}{per_job:>9}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument(
        "--epochs",
        type=int,
        default=100,
        help="epochs of the seed task (the LSTM fit runs epochs/20)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--jobs-per-worker", type=int, default=4)
    args = parser.parse_args(argv)
    jobs = args.jobs

    print(
        f"Memory over {jobs} trainings, one after another (RSS in MiB; shared 2-core machine)",
        flush=True,
    )
    inline_sum, seconds_sum = scenario_one_process("sum_task", jobs, args.epochs)
    print(f"  (a) seed task in one process: {seconds_sum:.0f} s", flush=True)
    inline_lstm, seconds_lstm = scenario_one_process("lstm", jobs, args.epochs)
    print(f"  (a) LSTM in one process: {seconds_lstm:.0f} s", flush=True)
    managed = scenario_job_manager(jobs, args.epochs, args.workers, args.jobs_per_worker)
    print(f"  (b) JobManager: {managed['seconds']:.0f} s", flush=True)

    print()
    print(
        f"{'scenario':<40}{'before':>8}{'after job 1':>13}{f'after job {jobs}':>14}{'peak':>8}"
        f"{f'growth 1->{jobs}':>15}{'per job':>9}"
    )
    rows = [
        ("(a) one process: seed SimpleRNN task", inline_sum[0], inline_sum[1:], True),
        ("(a) one process: small LSTM fit", inline_lstm[0], inline_lstm[1:], True),
        ("(b) JobManager: app process", managed["app"][0], managed["app"][1:], True),
        ("(b) JobManager: largest worker", None, managed["worker_max"], False),
        ("(b) JobManager: all workers together", None, managed["worker_total"], False),
    ]
    for row in rows:
        print(_row(*row))
    print()
    print(
        f"(b) {args.workers} workers, recycled every {args.jobs_per_worker} jobs: "
        f"{managed['workers_started']} worker processes seen"
    )
    print("RSS after each job, (a) seed task:  " + " ".join(f"{v:.0f}" for v in inline_sum[1:]))
    print("RSS after each job, (a) LSTM:       " + " ".join(f"{v:.0f}" for v in inline_lstm[1:]))
    print("RSS after each job, (b) app:        " + " ".join(f"{v:.0f}" for v in managed["app"][1:]))
    print(
        "RSS after each job, (b) max worker: " + " ".join(f"{v:.0f}" for v in managed["worker_max"])
    )


if __name__ == "__main__":
    main()
