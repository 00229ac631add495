"""Training jobs that run in worker processes, for a UI that polls them.

One interface (`JobManager`, `Job`, `JobSnapshot`, `JobState`), two backends:

- `core.jobs.local`: a bounded pool of worker processes on this machine (the default);
- `core.jobs.redis_backend`: an RQ queue in Redis, served by `python -m core worker --redis URL`
  on any number of machines (chosen by `RNNLAB_REDIS_URL` or `JobManager(redis_url=...)`).

Tasks see only `JobContext` (`say`, `report`, `set_total`, `should_stop`, `workdir`) and run
in-process through `run_inline` too. `core.training` holds the Keras callback that bridges a fit
to the context.
"""

from core.jobs.base import (
    Job,
    JobBusy,
    JobContext,
    JobManager,
    JobSnapshot,
    JobState,
    QueueFull,
    QueueUnavailable,
    jobs_root,
    resolve_task,
    run_inline,
)

__all__ = [
    "Job",
    "JobBusy",
    "JobContext",
    "JobManager",
    "JobSnapshot",
    "JobState",
    "LocalJobManager",
    "QueueFull",
    "QueueUnavailable",
    "RedisJobManager",
    "jobs_root",
    "resolve_task",
    "run_inline",
]


def __getattr__(name: str):
    # The backends load on first use: importing core.jobs (every task module does) stays cheap,
    # and the redis/rq libraries are needed only by the Redis backend.
    if name == "LocalJobManager":
        from core.jobs.local import LocalJobManager

        return LocalJobManager
    if name == "RedisJobManager":
        from core.jobs.redis_backend import RedisJobManager

        return RedisJobManager
    raise AttributeError(f"module 'core.jobs' has no attribute {name!r}")
