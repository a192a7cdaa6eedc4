"""The in-process task runner of the embedded default (no broker, `TASKS_IN_BACKGROUND`).

Without a broker there is no Celery worker, and a task run eagerly runs inside the request that
queued it: the browser waits for the whole PDF and its progress bar jumps to 100 %. Here the long
jobs go instead to one thread of the web process, started on first use, which runs the same
Celery task (`task.apply`, as a worker would) after the request's transaction has committed. The
request answers at once with the job queued, and its progress page sees it move.

One thread, as one Celery worker process with concurrency 1: on SQLite the writes are serialised
anyway, and a second render beside the first would only make both slower. Jobs still queued when
the process exits are finished first (concurrent.futures joins its threads at exit), so a
management command that queues one does not lose it; a process killed outright loses them, and
the jobs' own recovery (a job silent for JOB_STALE_SECONDS is queued again, crf.jobs) picks them
up, as after a lost worker.
"""

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connections

log = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _runner() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecrf-task")
        return _executor


def _run(task, args: list) -> None:
    try:
        task.apply(args=args, throw=True)
    except Exception:
        # Nobody waits on this thread: the job's own record (a document or an import marked
        # failed, or one lost and queued again) is what the user sees. Log the cause here.
        log.exception("Background task %s%s failed.", task.name, tuple(args))
    finally:
        connections.close_all()  # this thread's connections, not the request's


def background_submit(task, args: list) -> Future:
    """Run the Celery task with these arguments on the background thread; returns at once."""
    return _runner().submit(_run, task, list(args))


def background_idle(*, timeout: float) -> bool:
    """Wait until every job submitted so far has finished (for tests and orderly shutdown);
    False when the timeout passed first."""
    if _executor is None:
        return True
    marker = _executor.submit(lambda: None)  # one thread: done once everything before it is
    try:
        marker.result(timeout=timeout)
    except TimeoutError:
        return False
    return True
