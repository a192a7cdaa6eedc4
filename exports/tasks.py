"""Celery interface of the exports: render one document."""

from celery import shared_task

from exports.documents import document_render


@shared_task(name="exports.render_document", acks_late=True, reject_on_worker_lost=True, long_job=True)
def render_document(document_id: int, language: str | None = None) -> str:
    """Render the document in `language` (the one recorded with it when the request queued it);
    running it again after success or a crash is harmless."""
    return document_render(document_id=document_id, language=language).status


@shared_task(name="exports.documents_recover", ignore_result=True)
def documents_recover_task() -> int:
    """Queue again the documents whose worker was lost (celery beat, every minute)."""
    from exports.documents import documents_recover

    return documents_recover()
