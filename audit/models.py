from django.conf import settings
from django.db import models


class AuthEvent(models.Model):
    """Security events that no record history holds: sign-ins, failures, role changes, signature
    passwords, API tokens and second factors."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Signed in"
        LOGOUT = "logout", "Signed out"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        ROLE_CHANGE = "role_change", "Roles changed"
        EXPORT = "export", "Export"
        DOWNLOAD = "download", "Download"
        # accounts/: the signature password, API tokens, the second factor.
        SIGNATURE = "signature", "Signed (password re-entered)"
        SIGNATURE_FAILED = "sign_failed", "Failed signature password"
        TOKEN_ISSUED = "token_issued", "API token issued"
        TOKEN_USED = "token_used", "API token used (first use of the day, UTC)"
        TOKEN_EXPIRED = "token_expired", "API token expired"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        OTP_ENROLLED = "otp_enrolled", "Two-factor sign-in set up"
        OTP_REMOVED = "otp_removed", "Two-factor sign-in removed"
        OTP_VERIFIED = "otp_verified", "Second factor accepted"
        OTP_FAILED = "otp_failed", "Wrong second-factor code"

    kind = models.CharField(max_length=14, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    username = models.CharField(max_length=150, blank=True, help_text="As typed, for failed sign-ins.")
    at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        permissions = [("view_study_audit", "Can read the study-wide audit trail")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.username}"
