"""The import as a Celery task: progress and the error list are kept on the ImportJob.

A CSV bundle is read into the JSON bundle before it is queued: the job keeps the bundle, where
each record came from (file and line) and the errors found in the CSV files, and the task reports
every error by file, line and column.
"""

from celery import shared_task
from django.db import transaction

from api.csv_bundle import located_bundle_import
from api.importing import ImportFailed, bundle_size
from api.models import ImportJob
from crf.jobs import heartbeat, is_stale
from crf.outbox import task_enqueue
from trial import clock


@shared_task(name="api.import_bundle", acks_late=True, reject_on_worker_lost=True)
def import_bundle_task(job_id: int) -> str:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status in {ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED}:
        return job.status  # safe to run twice
    if job.status == ImportJob.Status.RUNNING and not is_stale(job.heartbeat_at):
        return job.status  # another worker runs it (a message delivered twice)
    job.status, job.total, job.done = ImportJob.Status.RUNNING, bundle_size(job.bundle), 0
    job.attempts += 1
    job.save(update_fields=["status", "total", "done", "attempts"])

    def progress(done: int, total: int) -> None:
        # Every 10 records: enough for a progress bar, few writes (outside the import transaction's locks).
        if done % 10 == 0 or done == total:
            ImportJob.objects.filter(pk=job_id).update(done=done, total=total)

    def beat(now) -> None:
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING).update(heartbeat_at=now)

    with heartbeat(beat):
        try:
            result = located_bundle_import(
                bundle=job.bundle, locations=job.locations, errors=job.errors, user=job.created_by, progress=progress
            )
        except ImportFailed as exc:
            job.status, job.errors = ImportJob.Status.FAILED, exc.errors
            job.done = 0
        else:
            job.status, job.summary, job.done = ImportJob.Status.SUCCEEDED, result.as_dict(), job.total
    job.finished_at = clock.now()
    job.save(update_fields=["status", "errors", "summary", "done", "finished_at"])
    return job.status


IMPORT_ATTEMPTS = 3


def import_key(job_id: int) -> str:
    return f"import:{job_id}"


def import_job_check(job: ImportJob) -> ImportJob:
    """The job as it stands; one whose worker stopped while it ran (the import is all or nothing,
    so nothing of it was kept) is queued again, or failed after IMPORT_ATTEMPTS, with a note."""
    if job.status != ImportJob.Status.RUNNING or not is_stale(job.heartbeat_at):
        return job
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.RUNNING or not is_stale(job.heartbeat_at):
            return job
        if job.attempts >= IMPORT_ATTEMPTS:
            job.status, job.finished_at = ImportJob.Status.FAILED, clock.now()
            job.errors = [
                {
                    "row": "",
                    "field": None,
                    "code": "worker_stopped",
                    "message": "The worker stopped while importing; not tried again.",
                }
            ]
        else:
            job.status, job.done, job.heartbeat_at = ImportJob.Status.PENDING, 0, None
            job.note = (
                f"The worker running the import stopped; nothing of it was kept. Importing again (attempt "
                f"{job.attempts + 1} of {IMPORT_ATTEMPTS})."
            )
            task_enqueue("api.import_bundle", job.pk, key=import_key(job.pk))
        job.save(update_fields=["status", "done", "heartbeat_at", "note", "errors", "finished_at"])
    return job


@shared_task(name="api.imports_recover", ignore_result=True)
def imports_recover_task() -> int:
    """Queue again the imports whose worker was lost (celery beat, every minute)."""
    running = ImportJob.objects.filter(status=ImportJob.Status.RUNNING)
    return sum(import_job_check(job).status != ImportJob.Status.RUNNING for job in running)
