"""Celery tasks of the core: the periodic delivery of the task outbox."""

from celery import shared_task

from crf.outbox import outbox_deliver


@shared_task(name="crf.outbox_flush", ignore_result=True)
def outbox_flush() -> int:
    """Deliver what a save queued while the broker could not be reached (celery beat)."""
    return outbox_deliver()
