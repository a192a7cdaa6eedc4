"""The import as a Celery task: progress and the error list are kept on the ImportJob."""

from celery import shared_task
from django.utils import timezone

from api.importing import ImportFailed, bundle_import, bundle_size
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
        result = bundle_import(bundle=job.bundle, user=job.created_by, progress=progress)
    except ImportFailed as exc:
        job.status, job.errors = ImportJob.Status.FAILED, exc.errors
        job.done = 0
    else:
        job.status, job.summary, job.done = ImportJob.Status.SUCCEEDED, result.as_dict(), job.total
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "summary", "done", "finished_at"])
    return job.status
