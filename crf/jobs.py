"""Long jobs (a PDF, an import) that a worker may die in the middle of.

A job beats while it runs (`heartbeat`: a thread writes its heartbeat every few seconds, even
while the work itself holds the CPU); a job whose last beat is older than JOB_STALE_SECONDS was
lost with its worker (a `kill -9`, a machine restart) and is queued again by whoever notices
first: the next request for it, its progress page, or the periodic recovery task.
"""

import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection

from trial import clock

HEARTBEAT_SECONDS = 5


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "JOB_STALE_SECONDS", 60))


def is_stale(heartbeat_at: datetime | None, *, now: datetime | None = None) -> bool:
    """No sign of life for longer than the stale limit (a job that never beat is not stale here)."""
    return heartbeat_at is not None and (now or clock.now()) - heartbeat_at > stale_after()


@contextmanager
def heartbeat(beat: Callable[[datetime], None], *, every: float = HEARTBEAT_SECONDS):
    """Call beat(now) now and every `every` seconds, from a thread of its own, until the block ends.

    The thread has its own database connection (autocommit), so a beat is seen at once by
    other processes whatever transaction the job itself is in."""
    stop = threading.Event()
    beat(clock.now())
    in_memory = connection.vendor == "sqlite" and connection.settings_dict["NAME"] in ("", ":memory:")

    def run() -> None:
        try:
            while not stop.wait(every):
                beat(clock.now())
        finally:
            close_old_connections()
            connection.close()

    thread = None if in_memory else threading.Thread(target=run, name="job-heartbeat", daemon=True)
    if thread is not None:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=every + 5)
