"""History rows that keep their author's roles as they were at the moment of the change.

A user's groups change over a trial (a coordinator becomes a monitor, a clinician leaves),
so the audit trail cannot read the author's role from their current groups: each history
row stores it when it is written, by a single save (the `pre_create_historical_record`
signal) or in bulk (`bulk_create_with_history` and `bulk_history_create`, through the
manager below). Changes made by the system (tasks, imports without a user) keep it blank.
"""

from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_noop
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

# Stored for a superuser who holds none of the trial's roles.
ADMINISTRATOR = "administrator"


# Memo on the user object: a request, task or import loads its user once, and a bulk import
# writes hundreds of history rows as that user. Cleared when that object's groups change
# (clear_roles_stamp, connected in audit.receivers).
_STAMP = "_audit_roles_stamp"


def role_names(user) -> list[str]:
    """The trial roles among the user's groups now, sorted (read from the database, never memoised)."""
    from trial.models import Role  # here, not at the top: trial.models imports this module

    return sorted(name for name in user.groups.values_list("name", flat=True) if name in Role.values)


def roles_stamp(user) -> str:
    """The user's role names now, sorted and comma-separated; blank for no user (the system)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    memo = user.__dict__.get(_STAMP)
    if memo is not None:
        return memo
    names = role_names(user)
    if not names and user.is_superuser:
        names = [ADMINISTRATOR]
    user.__dict__[_STAMP] = ",".join(names)
    return user.__dict__[_STAMP]


def clear_roles_stamp(user) -> None:
    user.__dict__.pop(_STAMP, None)


def roles_label(stamp: str) -> str:
    """The stored role names as a reader sees them: 'Study coordinator, Monitor'."""
    from trial.models import Role

    labels = dict(Role.choices) | {ADMINISTRATOR: "administrator"}
    return ", ".join(str(labels.get(name, name)) for name in stamp.split(",") if name)


class RoleStampedHistory(models.Model):
    """Base of every historical model: the author's roles when the row was written."""

    history_user_roles = models.CharField(
        "roles of the author",
        max_length=100,
        blank=True,
        default="",
        help_text="The author's role names at the moment of the change, comma-separated; blank for the system.",
    )

    class Meta:
        abstract = True


class RoleStampingHistoryManager(HistoryManager):
    """Bulk-created history rows get each author's roles too (no signal is sent for them)."""

    def bulk_history_create(
        self,
        objs,
        batch_size=None,
        update=False,
        default_user=None,
        default_change_reason="",
        default_date=None,
        custom_historical_attrs=None,
    ):
        extra = dict(custom_historical_attrs or {})
        if "history_user_roles" in extra:
            return super().bulk_history_create(
                objs,
                batch_size=batch_size,
                update=update,
                default_user=default_user,
                default_change_reason=default_change_reason,
                default_date=default_date,
                custom_historical_attrs=extra,
            )
        # The same choice of author as simple-history makes for each row, grouped by author.
        by_author: dict[object, tuple[object, list]] = {}
        for obj in objs:
            user = getattr(obj, "_history_user", default_user or self.model.get_default_history_user(obj))
            by_author.setdefault(getattr(user, "pk", None), (user, []))[1].append(obj)
        created = []
        for user, group in by_author.values():
            created += (
                super().bulk_history_create(
                    group,
                    batch_size=batch_size,
                    update=update,
                    default_user=default_user,
                    default_change_reason=default_change_reason,
                    default_date=default_date,
                    custom_historical_attrs={**extra, "history_user_roles": roles_stamp(user)},
                )
                or []
            )
        return created


class AuditedHistory(HistoricalRecords):
    """`HistoricalRecords` whose rows carry the author's roles (use it for every tracked model)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("bases", [RoleStampedHistory])
        kwargs.setdefault("history_manager", RoleStampingHistoryManager)
        super().__init__(**kwargs)

    def post_save(self, instance, created, using=None, **kwargs):
        # A save of nothing but what the history leaves out (a site's subject counter, a
        # sign-in time) changes nothing a reader could see: no row.
        update_fields = kwargs.get("update_fields")
        if not created and update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)


@receiver(pre_create_historical_record, dispatch_uid="trial.history_user_roles")
def _stamp_roles(sender, history_instance, history_user, **kwargs) -> None:
    if hasattr(history_instance, "history_user_roles") and not history_instance.history_user_roles:
        history_instance.history_user_roles = roles_stamp(history_user)


BASELINE_REASON = gettext_noop("As it stood when its history began")


def history_baseline(apps, label: str, *, history_label: str = "", extra=None) -> None:
    """For a migration that starts the history of a model: one 'created' row for each existing
    record, so the first change of it reads old → new. `extra(obj)` gives more fields of the row."""
    from trial.clock import now

    model = apps.get_model(label)
    history = apps.get_model(history_label or f"{model._meta.app_label}.Historical{model._meta.object_name}")
    kept = {f.attname for f in history._meta.concrete_fields}
    # Whole seconds: Django's JSON serializer keeps milliseconds only, and the test runner's
    # serialized rollback writes rows back from it (the guard lets an unchanged row pass).
    at = now().replace(microsecond=0)
    rows = [
        history(
            **{f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields if f.attname in kept},
            **(extra(obj) if extra else {}),
            history_date=at,
            history_type="+",
            history_change_reason=BASELINE_REASON,
        )
        for obj in model.objects.all()
    ]
    history.objects.bulk_create(rows)
