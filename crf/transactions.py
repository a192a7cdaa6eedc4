"""What a write does when the database says "not now": retry a deadlock, refuse a long wait.

- A deadlock or a serialization failure aborts the whole transaction; the outermost service
  call runs it again (`retried`), a few times with a short random pause, which is safe
  because nothing of the aborted attempt was kept (the work it queued was rolled back too).
- A row lock held too long (PostgreSQL's lock_timeout) or a statement running too long
  (statement_timeout) is a `busy` database: the door answers 503 with Retry-After (pages and
  API alike, crf.middleware and api.errors), and nothing was saved.
"""

import functools
import random
import time

from django.db import OperationalError, transaction

DEADLOCK = "40P01"
SERIALIZATION_FAILURE = "40001"
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout
QUERY_CANCELED = "57014"  # statement_timeout

ATTEMPTS = 4
RETRY_AFTER_SECONDS = 5


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (PostgreSQL), None for others."""
    cause = exc.__cause__ or exc
    return getattr(cause, "pgcode", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and sqlstate(exc) in {DEADLOCK, SERIALIZATION_FAILURE}


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and sqlstate(exc) in {LOCK_NOT_AVAILABLE, QUERY_CANCELED}


BUSY_MESSAGE = (
    "Not saved: the record is being changed by someone else (or the database is busy). "
    f"Nothing was changed; try again in {RETRY_AFTER_SECONDS} seconds."
)


def retried(func):
    """Run a service's transaction again when it lost a deadlock (outermost call only)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if transaction.get_connection().in_atomic_block:
            return func(*args, **kwargs)  # the outermost transaction is the one to run again
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if not is_conflict(exc) or attempt == ATTEMPTS:
                    raise
                time.sleep(random.uniform(0.02, 0.1) * attempt)  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")

    return wrapper
