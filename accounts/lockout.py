"""One lockout for the password, whichever door asks for it: the sign-in page, the signature
(re-entering the password, 21 CFR 11.200) and the API token endpoint.

Each door checks the password with `django.contrib.auth.authenticate`, so django-axes counts
every failure against the same username and address (AXES_FAILURE_LIMIT failures lock both
for AXES_COOLOFF_HOURS) and Django's `user_login_failed` signal logs it (audit/receivers.py,
which reads the door from the credentials' "purpose"). A locked-out signature or token request
is refused with its own message; the sign-in page answers 429 with the same words.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

SIGN_IN = "sign_in"
SIGNATURE = "signature"
API_TOKEN = "api_token"  # noqa: S105 - the name of a door, not a secret


def lockout_minutes() -> int:
    return round(float(settings.AXES_COOLOFF_TIME) * 60)


def lockout_message(username: str) -> str:
    return _(
        "%(limit)s wrong passwords for %(username)s from this address: sign-in, signing and "
        "API tokens are refused for %(minutes)s minutes from the last attempt."
    ) % {"limit": settings.AXES_FAILURE_LIMIT, "username": username, "minutes": lockout_minutes()}


def is_locked_out(request, username: str) -> bool:
    if not settings.AXES_ENABLED or request is None:
        return False
    return AxesProxyHandler.is_locked(request, {"username": username})


def password_confirm(*, request, user, password: str, purpose: str, field: str = "password") -> None:
    """Raise ValidationError on `field` unless `password` is the user's own and they are not locked out.

    `request` is the request the password came with: the lockout counts by its address. Without
    one (a test with django-axes off) the password is still checked and a failure still logged;
    with django-axes on, a missing request is refused by axes itself.
    """
    username = user.get_username()
    # While locked out, axes refuses before the password is looked at (and counts the try).
    confirmed = authenticate(request=request, username=username, password=password or "", purpose=purpose)
    if confirmed is not None and confirmed.pk == user.pk:
        return
    if is_locked_out(request, username):
        raise ValidationError({field: lockout_message(username)}, code="locked_out")
    raise ValidationError(
        {
            field: _(
                "The password is not correct. After %(limit)s wrong passwords sign-in and "
                "signing are locked for %(minutes)s minutes."
            )
            % {"limit": settings.AXES_FAILURE_LIMIT, "minutes": lockout_minutes()}
        },
        code="wrong_password",
    )


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout response (AXES_LOCKOUT_CALLABLE).

    A signature or an API token request has already answered with its own message, which is
    kept; a locked-out sign-in gets the sign-in page with the reason, as 429 Too Many Requests.
    """
    purpose = (credentials or {}).get("purpose", SIGN_IN)
    if purpose != SIGN_IN and original_response is not None:
        return original_response
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    return render(request, "registration/login.html", {"lockout": lockout_message(username)}, status=429)
