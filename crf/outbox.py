"""The transactional outbox: tasks queued by a save are rows in the same transaction.

`task_enqueue` writes the row inside the caller's transaction (once per key and transaction)
and asks for that row's delivery after commit. `outbox_deliver` hands pending rows to the
task queue; a broker that cannot be reached leaves them pending, and never fails the save
that queued them. The periodic flush (celery beat, `crf.outbox_flush`) and every later
delivery retry them, so work queued while the broker was down is done when it is back.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, transaction

from crf.background import background_submit
from crf.models import QueuedTask
from trial import clock

log = logging.getLogger(__name__)

DELIVERY_BATCH = 200


def task_enqueue(task: str, *args, key: str = "") -> None:
    """Queue a task (by its Celery name) with JSON arguments, delivered after commit.

    With a key, once per key and transaction: an import or a form saving many records of one
    patient queues one recomputation. (Not across transactions: work queued by a transaction
    that commits later must run after it, so it is queued again.)"""
    connection = transaction.get_connection()
    if key and any(getattr(callback, "outbox_key", None) == key for _, callback, _ in connection.run_on_commit):
        return
    row = QueuedTask.objects.create(task=task, args=list(args), key=key)
    _deliver_after_commit([row.pk], key=key)


def tasks_enqueue(tasks: list[tuple[str, tuple]]) -> None:
    """Queue several tasks (name, args) at once: one statement, one delivery after commit."""
    if tasks:
        rows = QueuedTask.objects.bulk_create([QueuedTask(task=name, args=list(args)) for name, args in tasks])
        _deliver_after_commit([row.pk for row in rows])


def _deliver_after_commit(ids: list[int], *, key: str = "") -> None:
    """Deliver this transaction's rows once it commits (older pending rows are the periodic
    flush's: a broker that was down does not hold up what is queued now). The callback carries
    the key, which is how task_enqueue knows the key is queued in this transaction."""

    def deliver() -> None:
        outbox_deliver(ids=ids)

    deliver.outbox_key = key
    transaction.on_commit(deliver)


def _task(name: str):
    from celery import current_app as app  # the project's app: config/__init__.py loads it first

    task = app.tasks.get(name)
    if task is None:
        # A web process imports the apps' tasks modules only when asked (a worker does at start).
        app.loader.import_default_modules()
        task = app.tasks.get(name)
    if task is None:
        raise LookupError(f"No task named {name}.")
    return task, app.conf.task_always_eager


def _in_background(task) -> bool:
    """A long job (declared `long_job=True`) without a broker, when TASKS_IN_BACKGROUND is on."""
    return bool(getattr(task, "long_job", False)) and getattr(settings, "TASKS_IN_BACKGROUND", False)


def outbox_deliver(*, ids: list[int] | None = None, limit: int = DELIVERY_BATCH) -> int:
    """Hand pending tasks to the queue, oldest first; returns how many were delivered.

    Safe to run from several processes at once (rows are claimed with SKIP LOCKED where the
    database has it). A row is marked sent in the transaction that hands it to the broker, so
    a process that dies in between sends it again (tasks are safe to run twice). Stops at the
    first delivery the broker refuses: the rest wait for the next delivery. Never raises for
    a broker or database fault: a save must not fail because the queue is down. Run eagerly
    (tests), a task runs here, after its row is marked, and its own errors propagate; a long
    job on the embedded default (TASKS_IN_BACKGROUND) is handed to crf.background instead."""
    delivered = 0
    try:
        while delivered < limit:
            eager_run = None
            with transaction.atomic():
                rows = QueuedTask.objects.filter(sent_at__isnull=True)
                if ids is not None:
                    rows = rows.filter(pk__in=ids)
                row = rows.order_by("id").select_for_update(skip_locked=True).first()
                if row is None:
                    return delivered
                task, eager = _task(row.task)
                if eager:
                    eager_run = (task, row.args)
                else:
                    try:
                        task.apply_async(args=row.args)
                    except Exception as exc:  # the broker cannot be reached
                        row.attempts += 1
                        row.last_error = f"{type(exc).__name__}: {exc}"[:300]
                        row.save(update_fields=["attempts", "last_error"])
                        log.warning("Task %s not delivered (%s); it stays queued.", row.task, row.last_error)
                        return delivered
                row.sent_at = clock.now()
                row.attempts += 1
                row.save(update_fields=["sent_at", "attempts"])
            delivered += 1
            if eager_run is not None:
                task, args = eager_run
                if _in_background(task):
                    background_submit(task, args)  # the embedded default: after commit, off the request
                else:
                    task.apply(args=args).get()  # raises the task's own error, as an eager .delay() did
    except DatabaseError:
        log.exception("The task outbox could not be read; pending tasks wait for the next delivery.")
    return delivered


def tasks_pending(*, key_prefix: str = "", keys: list[str] | None = None) -> bool:
    """Whether work of these keys is queued and not yet handed to the task queue."""
    rows = QueuedTask.objects.filter(sent_at__isnull=True)
    if keys is not None:
        rows = rows.filter(key__in=keys)
    elif key_prefix:
        rows = rows.filter(key__startswith=key_prefix)
    return rows.exists()


# The patient's response assessments (protocol section 9) are recomputed after any save of the
# data they read: lab panels, supportive care, outcome records. Every app that saves such data
# queues it here, by the task's name (the engine is assessments', above the apps that call it).
RESPONSES_TASK = "assessments.response_assess_patient"


def responses_key(patient_id: int) -> str:
    return f"response:{patient_id}"


def responses_recompute_queue(*, patient_id: int) -> None:
    """Re-run the patient's assessments once the current transaction commits (idempotent task),
    once per patient and transaction: an import or a form saving many records queues one run."""
    task_enqueue(RESPONSES_TASK, patient_id, key=responses_key(patient_id))
