"""API tokens (rest_framework.authtoken): a lifetime, revocation when the password changes or the
account is deactivated, and a log of their issue and use.

- A token lasts API_TOKEN_HOURS (default 24) from its issue, however often it is used: a copied
  token is good for a day at most, and using it does not keep it alive. A request with an
  expired token gets 401 naming the expiry; the token endpoint then issues a new one.
- One token per user (DRF's model). Asking again while it lasts returns the same token and
  logs the request; a changed password or a deactivated account deletes it.
- Use: the first request of a token writes its TokenUse row, later ones rewrite it at most once
  a minute (not a write per request), and the first use of each UTC day is an AuthEvent.
"""

from datetime import datetime, timedelta

from django.conf import settings
from rest_framework.authtoken.models import Token

from accounts.events import auth_event_log
from accounts.models import TokenUse
from audit.models import AuthEvent
from trial import clock

# How stale TokenUse.last_used_at may get: at most one write per token and minute.
TOUCH_EVERY = timedelta(minutes=1)


def token_lifetime() -> timedelta:
    return timedelta(hours=float(settings.API_TOKEN_HOURS))


def token_expires_at(token: Token) -> datetime:
    return token.created + token_lifetime()


def token_is_expired(token: Token, *, now: datetime | None = None) -> bool:
    return token_expires_at(token) <= (now or clock.now())


def token_issue(*, user, request=None) -> Token:
    """The user's token: the one they hold while it lasts, else a new one. Logged either way."""
    now = clock.now()
    token = Token.objects.filter(user=user).first()
    if token is not None and token_is_expired(token, now=now):
        token_expire(token=token, request=request)
        token = None
    fresh = token is None
    if fresh:
        token = Token.objects.create(user=user)
    auth_event_log(
        kind=AuthEvent.Kind.TOKEN_ISSUED,
        user=user,
        request=request,
        detail=f"{'New token' if fresh else 'Token held'}, expires {token_expires_at(token):%Y-%m-%d %H:%M} UTC",
    )
    return token


def token_expire(*, token: Token, request=None) -> None:
    auth_event_log(
        kind=AuthEvent.Kind.TOKEN_EXPIRED,
        user=token.user,
        request=request,
        detail=f"Issued {token.created:%Y-%m-%d %H:%M} UTC, expired {token_expires_at(token):%Y-%m-%d %H:%M} UTC",
    )
    token.delete()


def tokens_revoke(*, user, reason: str) -> int:
    """Delete the user's API token (a changed password, a deactivated account); returns how many."""
    count, _ = Token.objects.filter(user=user).delete()
    if count:
        auth_event_log(kind=AuthEvent.Kind.TOKEN_REVOKED, user=user, detail=reason)
    return count


def token_use_note(*, token: Token, request=None, now: datetime | None = None) -> None:
    """Record that `token` authenticated a request: last use to the minute, first use of the day logged."""
    now = now or clock.now()
    try:
        use = token.use
    except TokenUse.DoesNotExist:
        use = None
    first_today = use is None or clock.utc(use.last_used_at).date() < clock.utc(now).date()
    if use is None:
        TokenUse.objects.get_or_create(token=token, defaults={"last_used_at": now})
    elif first_today or now - use.last_used_at >= TOUCH_EVERY:
        TokenUse.objects.filter(pk=use.pk).update(last_used_at=now)
    if first_today:
        auth_event_log(
            kind=AuthEvent.Kind.TOKEN_USED,
            user=token.user,
            request=request,
            detail=f"{request.method} {request.path}"[:300] if request is not None else "",
        )
