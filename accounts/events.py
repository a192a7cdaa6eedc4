"""The security log entries this app writes (audit.AuthEvent); no patient data goes in them."""

from audit.models import AuthEvent


def client_address(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def auth_event_log(*, kind: str, user=None, username: str = "", request=None, detail: str = "") -> AuthEvent:
    return AuthEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        ip_address=client_address(request),
        detail=detail[:300],
    )
