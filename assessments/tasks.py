"""Celery tasks of the assessments app: each takes ids and calls one service."""

from celery import shared_task
from django.db import OperationalError, transaction

from assessments.services.responses import response_assess_patient, response_queue_for_patient, response_sweep_due


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
    name="assessments.response_assess_patient",
)
def response_assess_patient_task(patient_id: int) -> int:
    """Assess one patient's reached assessment days; returns how many results changed."""
    return len(response_assess_patient(patient_id=patient_id))


@shared_task(acks_late=True, name="assessments.response_sweep")
def response_sweep_task() -> int:
    """The daily sweep (celery beat): queue one assessment task per patient with a day reached."""
    patient_ids = response_sweep_due()
    with transaction.atomic():
        for patient_id in patient_ids:
            response_queue_for_patient(patient_id=patient_id)
    return len(patient_ids)
