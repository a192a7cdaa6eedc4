"""Celery tasks of the notifications app: each takes ids and calls one service."""

import smtplib

from celery import shared_task
from django.db import OperationalError

from notifications.services import notification_email_deliver


@shared_task(
    bind=True,
    acks_late=True,
    # SMTPException is an OSError; both cover a mail server that is down or refuses for now.
    autoretry_for=(smtplib.SMTPException, OSError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
    name="notifications.notification_email_send",
)
def notification_email_send(self, notification_id: int) -> bool:
    return notification_email_deliver(notification_id=notification_id)
