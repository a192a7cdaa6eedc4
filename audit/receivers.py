"""Sign-ins, failures (of a sign-in, a signature or an API token request) and role changes go to
the security log (no patient data is written)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from audit.models import AuthEvent, account_history_record


def _ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_logged_in, dispatch_uid="audit.login")
def _logged_in(sender, request, user, **kwargs) -> None:
    AuthEvent.objects.create(
        kind=AuthEvent.Kind.LOGIN, user=user, username=user.get_username(), ip_address=_ip(request)
    )


@receiver(user_logged_out, dispatch_uid="audit.logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        AuthEvent.objects.create(
            kind=AuthEvent.Kind.LOGOUT, user=user, username=user.get_username(), ip_address=_ip(request)
        )


# Where a password was checked other than the sign-in page (accounts/lockout.py names it).
PURPOSES = {"signature": (AuthEvent.Kind.SIGNATURE_FAILED, ""), "api_token": (AuthEvent.Kind.LOGIN_FAILED, "API token")}


@receiver(user_login_failed, dispatch_uid="audit.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    kind, detail = PURPOSES.get(credentials.get("purpose", ""), (AuthEvent.Kind.LOGIN_FAILED, ""))
    AuthEvent.objects.create(
        kind=kind, username=str(credentials.get("username", ""))[:150], ip_address=_ip(request), detail=detail
    )


@receiver(m2m_changed, sender=get_user_model().groups.through, dispatch_uid="audit.role_change")
def _roles_changed(sender, instance, action, pk_set, **kwargs) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    from trial.history import clear_roles_stamp

    if isinstance(instance, get_user_model()):
        clear_roles_stamp(instance)  # the next history row of this user object reads the new roles
    from django.contrib.auth.models import Group

    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    AuthEvent.objects.create(
        kind=AuthEvent.Kind.ROLE_CHANGE,
        user=instance if isinstance(instance, get_user_model()) else None,
        username=getattr(instance, "username", ""),
        detail=f"Roles {verb}: {', '.join(names) or 'all'}",
    )
    # The account's history keeps who changed its roles, old and new, and the reason. The
    # admin saves an account and its groups as one change and writes that row itself.
    users = (
        [instance] if isinstance(instance, get_user_model()) else get_user_model().objects.filter(pk__in=pk_set or [])
    )
    for user in users:
        if not getattr(user, "_roles_saved_with_account", False):
            account_history_record(user=user)
