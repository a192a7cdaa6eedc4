"""Token authentication for the API that refuses expired tokens and notes each token's use."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.tokens import token_expire, token_expires_at, token_is_expired, token_lifetime, token_use_note
from trial import clock


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token <key>`, with the lifetime and use log of accounts/tokens.py."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        _, token = result
        now = clock.now()
        if token_is_expired(token, now=now):
            expired_at = token_expires_at(token)
            token_expire(token=token, request=request)
            hours = token_lifetime().total_seconds() / 3600
            raise exceptions.AuthenticationFailed(
                f"The token expired at {expired_at:%Y-%m-%d %H:%M} UTC (a token lasts {hours:g} hours); "
                "ask for a new one with POST /api/v1/auth/token/."
            )
        token_use_note(token=token, request=request, now=now)
        return result

    def authenticate_credentials(self, key):
        # As DRF's, with the token's last use read in the same query (noting this use needs no read).
        token = self.get_model().objects.select_related("user", "use").filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token
