"""Writes for notifications: in-app rows at once, e-mail queued after the commit.

One notification per recipient and source (the event that raised it), however often the
event is saved: `source_key` names the event, e.g. "sae:17".
"""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from crf.outbox import tasks_enqueue
from notifications.models import Notification
from trial.models import Site


def _supported(code: str | None) -> str | None:
    try:
        return translation.get_supported_language_variant(code.lower()) if code else None
    except LookupError:
        return None


def recipient_language(user) -> str:
    """The language of a message to `user` (an e-mail, a notification): their choice, else their
    sites' shared default language, else English.

    Not the language of whoever's request raised the message: a Chinese clinician's SAE tells an
    English-reading monitor in English. The choice is read through the user's `preference`
    relation (accounts.Preference), so the message layer does not import the accounts app.
    """
    chosen = type(user).objects.filter(pk=user.pk).values_list("preference__language", flat=True).first()
    sites = set(Site.objects.filter(memberships__user=user).values_list("default_language", flat=True))
    shared = sites.pop() if len(sites) == 1 else None
    return _supported(chosen) or _supported(shared) or settings.LANGUAGE_CODE


# A text of a notification: a string, a lazy translation, or a function writing it in the
# active language (for a text with values in it).
Text = str | Callable[[], str]


def _written(text: Text) -> str:
    return text() if callable(text) else str(text)


def notifications_send(*, recipients: Iterable, kind: str, title: Text, body: Text, link: str, source_key: str):
    """Notify each recipient once per source; e-mail the new ones after the transaction commits.

    Each recipient's title and body are written in their language (recipient_language: their
    choice, else their site's, else English): a lazy translation or a function is evaluated once
    per recipient under that language, so one event reaches a Chinese clinician in Chinese and an
    English monitor in English.

    Returns the notifications created by this call (none for a recipient already notified).
    """
    created: list[Notification] = []
    with transaction.atomic():
        for recipient in {user.pk: user for user in recipients}.values():
            if Notification.objects.filter(recipient=recipient, source_key=source_key).exists():
                continue
            with translation.override(recipient_language(recipient)):
                texts = {"title": _written(title)[:200], "body": _written(body)}
            notification, is_new = Notification.objects.get_or_create(
                recipient=recipient,
                source_key=source_key,
                defaults={"kind": kind, "link": link[:200], **texts},
            )
            if is_new:
                created.append(notification)
        if created:
            tasks_enqueue([("notifications.notification_email_send", (n.pk,)) for n in created])
    return created


def notification_email_deliver(*, notification_id: int) -> bool:
    """E-mail one notification to its recipient; safe to run twice (skips one already e-mailed).

    The row stays locked while the mail is handed over, so two workers never send it twice.
    Returns whether a mail was sent.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("recipient").filter(pk=notification_id).first()
        )
        if notification is None or notification.emailed_at is not None or not notification.recipient.email:
            return False
        body = notification.body
        if notification.link:
            with translation.override(recipient_language(notification.recipient)):
                opening = gettext("Open in the eCRF: %(link)s") % {"link": notification.link}
            body = f"{body}\n\n{opening}".strip()
        send_mail(
            subject=notification.title,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notifications_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read, or all of them; returns how many changed."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
    return rows.update(read_at=timezone.now())
