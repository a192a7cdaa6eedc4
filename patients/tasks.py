"""Celery tasks of the patients app: each takes ids and calls one service."""

from celery import shared_task
from django.db import OperationalError

from patients.services import patient_derived_recompute


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    name="patients.patient_derived_recompute",
)
def patient_derived_recompute_task(self, patient_id: int) -> bool:
    return patient_derived_recompute(patient_id=patient_id)
