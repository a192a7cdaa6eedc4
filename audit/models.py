from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.signals import pre_create_historical_record

from trial.history import AuditedHistory, RoleStampedHistory, role_names


class AuthEvent(models.Model):
    """Security events that no record history holds: sign-ins, failures, role changes, signature
    passwords, API tokens and second factors."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LOGOUT = "logout", _("Signed out")
        LOGIN_FAILED = "login_failed", _("Failed sign-in")
        ROLE_CHANGE = "role_change", _("Roles changed")
        EXPORT = "export", _("Export")
        DOWNLOAD = "download", _("Download")
        # accounts/: the signature password, API tokens, the second factor.
        SIGNATURE = "signature", _("Signed (password re-entered)")
        SIGNATURE_FAILED = "sign_failed", _("Failed signature password")
        TOKEN_ISSUED = "token_issued", _("API token issued")
        TOKEN_USED = "token_used", _("API token used (first use of the day, UTC)")
        TOKEN_EXPIRED = "token_expired", _("API token expired")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        OTP_ENROLLED = "otp_enrolled", _("Two-factor sign-in set up")
        OTP_REMOVED = "otp_removed", _("Two-factor sign-in removed")
        OTP_VERIFIED = "otp_verified", _("Second factor accepted")
        OTP_FAILED = "otp_failed", _("Wrong second-factor code")

    kind = models.CharField(max_length=14, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    username = models.CharField(max_length=150, blank=True, help_text="As typed, for failed sign-ins.")
    at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        permissions = [("view_study_audit", "Can read the study-wide audit trail")]
        # The security log's keyset pages, newest first, read in this order from the index.
        indexes = [models.Index(fields=["at", "id"], name="audit_authevent_at_id")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.username}"


class AccountRoles(models.Model):
    """Base of the accounts' history rows: the account's own roles after the change."""

    roles = models.CharField(
        "roles",
        max_length=100,
        blank=True,
        default="",
        help_text="The account's trial roles after the change, comma-separated.",
    )

    class Meta:
        abstract = True


class AccountHistory(AuditedHistory):
    """History of a user account: activation, names, staff and superuser flags and the trial
    roles it holds. Never the password hash or sign-in times, and no row for a save that
    changes none of those (a sign-in, a new password)."""

    NOT_KEPT = ["password", "last_login", "date_joined"]

    def __init__(self, **kwargs):
        kwargs.setdefault("excluded_fields", self.NOT_KEPT)
        kwargs.setdefault("bases", [RoleStampedHistory, AccountRoles])
        super().__init__(**kwargs)

    def create_historical_record(self, instance, history_type, using=None):
        if history_type == "~" and not self._changed(instance):
            return
        super().create_historical_record(instance, history_type, using=using)

    def _changed(self, instance) -> bool:
        last = getattr(instance, self.manager_name).order_by("-history_date", "-history_id").first()
        if last is None:
            return True
        fields = self.fields_included(instance)
        if any(getattr(last, f.attname) != getattr(instance, f.attname) for f in fields):
            return True
        return last.roles != ",".join(role_names(instance))


def _register_account_history() -> AccountHistory:
    # simple_history.register() for a model of another app, keeping the records object, which
    # the role-change receiver calls to write a row for a change of groups.
    records = AccountHistory(app="audit")
    records.manager_name = "history"
    records.table_name = None
    records.module = __name__
    records.cls = User
    records.add_extra_methods(User)
    records.finalize(User)
    return records


ACCOUNT_HISTORY = _register_account_history()


@receiver(pre_create_historical_record, sender=User.history.model, dispatch_uid="audit.account_roles")
def _stamp_account_roles(sender, instance, history_instance, **kwargs) -> None:
    history_instance.roles = ",".join(role_names(instance))


def account_history_record(*, user, reason: str | None = None, created: bool = False) -> None:
    """One history row for the account as it is now (a change of its groups, or the admin's
    save of the account and its groups together), when anything the history keeps changed."""
    if reason is not None:
        user._change_reason = reason
    ACCOUNT_HISTORY.create_historical_record(user, "+" if created else "~")


class ChainLink(models.Model):
    """One link of an audit table's hash chain: the row it covers and sha256(previous link's
    hash + the row's canonical form). Written by the database (audit/chain.py), never by the
    application, and checked by `manage.py audit_verify`."""

    table_name = models.CharField(max_length=63)
    seq = models.BigIntegerField(help_text="Position in the table's chain, from 1.")
    row_pk = models.BigIntegerField(help_text="Primary key of the row covered.")
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table_name", "seq"], name="chain_link_position")]
        indexes = [models.Index(fields=["table_name", "row_pk"], name="chain_link_row")]

    def __str__(self) -> str:
        return f"{self.table_name} #{self.seq} row {self.row_pk}"


class ChainEpoch(models.Model):
    """The columns an audit table's rows are hashed with from one link on: a migration that adds
    a column to a history table starts a new epoch, and older rows keep their own columns."""

    table_name = models.CharField(max_length=63)
    first_seq = models.BigIntegerField()
    columns = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table_name", "first_seq"], name="chain_epoch_start")]

    def __str__(self) -> str:
        return f"{self.table_name} from #{self.first_seq}"
