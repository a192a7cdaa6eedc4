"""Optional two-factor sign-in: a time-based one-time password (TOTP, RFC 6238) from an
authenticator app, by django-otp.

- TWO_FACTOR_ROLES (settings, from the environment; empty by default) names the roles that must
  use it, e.g. "monitor,data_manager" for the roles that work remotely. Anyone else may turn it on.
- Set up at /account/two-factor/: the page shows a QR code, the secret as text and the otpauth
  URI; the first correct code confirms the authenticator. A user whose role requires it and
  who has none is sent there right after the password; until then nothing else opens.
- With an authenticator, a sign-in asks for its code after the password, and the API token
  endpoint wants it as "otp". A code is good once (django-otp keeps the last time step) and
  wrong codes are slowed down (1, 2, 4, 8 ... seconds: django-otp's throttling).
- Every code checked, right or wrong, is in the security log. An administrator who deletes a
  user's TOTP device (admin: "TOTP devices") lets them set up a new one at the next sign-in.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.events import auth_event_log
from audit.models import AuthEvent
from trial.models import Role

DEVICE_NAME = "Authenticator app"


def two_factor_roles() -> set[str]:
    return set(settings.TWO_FACTOR_ROLES)


def two_factor_required(user) -> bool:
    """Whether one of the user's roles must sign in with a second factor (TWO_FACTOR_ROLES)."""
    roles = two_factor_roles()
    return bool(roles) and user.groups.filter(name__in=roles).exists()


def required_roles_of(user) -> list[str]:
    return sorted(two_factor_roles() & set(user.groups.values_list("name", flat=True)))


def required_role_labels(user) -> list[str]:
    """The roles that require a second factor of this user, as the reader's language names them."""
    labels = dict(Role.choices)
    return [str(labels.get(role, role)) for role in required_roles_of(user)]


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def pending_device(user) -> TOTPDevice:
    """The authenticator being set up: the same secret until it is confirmed (a reload keeps it)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, as authenticator apps take it typed, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code (no image request, nothing inline to run)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def code_verify(*, user, device: TOTPDevice, code: str, request=None, field: str = "code", detail: str = "") -> None:
    """Raise ValidationError on `field` unless `code` is the device's current one; logged either way."""
    code = (code or "").replace(" ", "")
    if not (code.isdigit() and len(code) == device.digits):
        auth_event_log(kind=AuthEvent.Kind.OTP_FAILED, user=user, request=request, detail=detail or "not 6 digits")
        raise ValidationError(
            {field: _("Enter the %(digits)s digits of your authenticator app.") % {"digits": device.digits}},
            code="format",
        )
    with transaction.atomic():  # the throttle counter and the last time step are read and written together
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, why = device.verify_is_allowed()
        if allowed and device.verify_token(code):
            auth_event_log(kind=AuthEvent.Kind.OTP_VERIFIED, user=user, request=request, detail=detail)
            return
    auth_event_log(kind=AuthEvent.Kind.OTP_FAILED, user=user, request=request, detail=detail)
    if not allowed and why and why.get("locked_until"):
        message = _("Too many wrong codes: wait until %(time)s UTC and enter a new code.") % {
            "time": f"{why['locked_until']:%H:%M:%S}"
        }
        raise ValidationError({field: message}, code="throttled")
    raise ValidationError(
        {field: _("The code is not correct or was already used: enter the 6 digits your authenticator app shows now.")},
        code="wrong_code",
    )


def device_confirm(*, user, code: str, request=None) -> TOTPDevice:
    """Confirm the authenticator being set up with its first code; the user signs in with it from now on."""
    device = pending_device(user)
    code_verify(user=user, device=device, code=code, request=request, detail="setting up")
    device.refresh_from_db()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    auth_event_log(kind=AuthEvent.Kind.OTP_ENROLLED, user=user, request=request)
    return device


def device_remove(*, user, code: str, request=None) -> None:
    """Turn two-factor sign-in off with a current code; refused where the user's role requires it."""
    if two_factor_required(user):
        raise ValidationError(
            {
                "code": _("Your role (%(roles)s) must sign in with two factors in this trial.")
                % {"roles": ", ".join(required_role_labels(user))}
            },
            code="required",
        )
    device = confirmed_device(user)
    if device is None:
        return
    code_verify(user=user, device=device, code=code, request=request, detail="turning off")
    TOTPDevice.objects.filter(user=user).delete()
    auth_event_log(kind=AuthEvent.Kind.OTP_REMOVED, user=user, request=request)
