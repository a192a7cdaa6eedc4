"""Credentials beyond the sign-in form: the signature password's lockout, API tokens (lifetime,
revocation, use) and the optional second factor (TOTP)."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and credentials"

    def ready(self) -> None:
        from accounts import checks, receivers  # noqa: F401 - the system checks; token revocation
