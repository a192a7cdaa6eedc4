"""The import as a Celery task: progress and the error list are kept on the ImportJob.

A CSV bundle is read into the JSON bundle before it is queued: the job keeps the bundle, where
each record came from (file and line) and the errors found in the CSV files, and the task reports
every error by file, line and column.
"""

from celery import shared_task
from django.utils import timezone

from api.csv_bundle import located_bundle_import
from api.importing import ImportFailed, bundle_size
from api.models import ImportJob


@shared_task(name="api.import_bundle")
def import_bundle_task(job_id: int) -> str:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status in {ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED}:
        return job.status  # safe to run twice
    job.status, job.total, job.done = ImportJob.Status.RUNNING, bundle_size(job.bundle), 0
    job.save(update_fields=["status", "total", "done"])

    def progress(done: int, total: int) -> None:
        # Every 10 records: enough for a progress bar, few writes (outside the import transaction's locks).
        if done % 10 == 0 or done == total:
            ImportJob.objects.filter(pk=job_id).update(done=done, total=total)

    try:
        result = located_bundle_import(
            bundle=job.bundle, locations=job.locations, errors=job.errors, user=job.created_by, progress=progress
        )
    except ImportFailed as exc:
        job.status, job.errors = ImportJob.Status.FAILED, exc.errors
        job.done = 0
    else:
        job.status, job.summary, job.done = ImportJob.Status.SUCCEEDED, result.as_dict(), job.total
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "summary", "done", "finished_at"])
    return job.status
