"""A changed password or a deactivated account ends the user's API token, whichever door changed it
(the admin, `manage.py changepassword`, a future page): sessions already end by Django's
session hash and by the inactive user no longer being authenticated."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_noop

from accounts.tokens import tokens_revoke

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="accounts.credentials_before")
def _credentials_before(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    instance._token_revoke_reason = ""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login at each sign-in: no read
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password:
        reason = gettext_noop("Password changed")
    elif before["is_active"] and not instance.is_active:
        reason = gettext_noop("Account deactivated")
    else:
        return
    instance._token_revoke_reason = reason


@receiver(post_save, sender=User, dispatch_uid="accounts.credentials_after")
def _credentials_after(sender, instance, raw=False, **kwargs) -> None:
    reason = getattr(instance, "_token_revoke_reason", "")
    if reason and not raw:
        tokens_revoke(user=instance, reason=reason)
