from django.db import models


class QueuedTask(models.Model):
    """Work that a save queued (a transactional outbox): written in the transaction of the data,
    delivered to the task queue after commit, and kept until the queue has taken it.

    A broker that is down when the data are saved loses nothing: the row stays pending and is
    delivered by the next delivery (after the next save, or the periodic flush) once it is back.
    """

    task = models.CharField(max_length=100)
    args = models.JSONField(default=list)
    # What the work is about (e.g. response:12): one row per key and transaction, and what a
    # page asks when it shows that a recomputation is pending.
    key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["sent_at", "id"], name="queued_task_pending"),
            models.Index(fields=["key", "sent_at"], name="queued_task_key"),
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "pending"
        return f"{self.task}{tuple(self.args)} [{state}]"
