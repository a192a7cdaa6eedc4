"""Reading the audit trail back: per record, per patient and study-wide, each change with who,
their role at the time of the change (stored with it), when (UTC), the old and new value of
every field and the reason."""

from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db import models
from django.db.models import Q
from simple_history.models import registered_models

from trial.history import roles_label

# Bookkeeping columns that change on every save and say nothing to a reader.
SILENT_FIELDS = {"version", "updated_at", "updated_by", "created_at", "created_by", "id"}
ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}
# Record types whose own name would not tell a reader what changed.
LABELS = {"auth.user": "User account"}
# Values a history row keeps beside the record's fields (an account's roles), as shown.
HISTORY_ONLY_FIELDS = {"roles": roles_label}
# Foreign keys shown by the record's name: configuration and accounts, few and often read.
NAMED_RELATIONS = {"trial.trial", "trial.site", "trial.visitdefinition", "auth.user"}


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


@dataclass
class TrailEntry:
    when: datetime
    user: str
    roles: str
    model: str
    model_label: str
    object_id: int
    record: str
    action: str
    reason: str
    changes: list[Change] = field(default_factory=list)


def tracked_models() -> list[type[models.Model]]:
    return sorted(registered_models.values(), key=lambda m: m._meta.label)


def model_by_label(label: str) -> type[models.Model] | None:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return model if model in registered_models.values() else None


def _sentence(text) -> str:
    """'upper limit (H above)' -> 'Upper limit (H above)': the first letter only (not str.capitalize)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def model_label(model) -> str:
    return LABELS.get(model._meta.label_lower) or str(model._meta.verbose_name).capitalize()


def _fields(model) -> list[models.Field]:
    history = model.history.model
    kept = {f.attname for f in history._meta.concrete_fields}
    own = [
        f
        for f in model._meta.concrete_fields
        if f.attname in kept and f.attname not in SILENT_FIELDS and f.name not in SILENT_FIELDS
    ]
    return own + [f for f in history._meta.concrete_fields if f.name in HISTORY_ONLY_FIELDS]


class _Names(dict):
    """The names of related configuration records, read once per trail."""

    def __missing__(self, key):
        model, pk = key
        found = model._default_manager.filter(pk=pk).first()
        self[key] = str(found) if found is not None else f"#{pk}"
        return self[key]


def _show(row, f: models.Field, names: _Names) -> str:
    value = getattr(row, f.attname)
    if value is None or value == "":
        return "—"
    if f.name in HISTORY_ONLY_FIELDS and f.model is type(row):
        return HISTORY_ONLY_FIELDS[f.name](value) or "—"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    related = getattr(f, "related_model", None)
    if related is not None and related._meta.label_lower in NAMED_RELATIONS:
        return names[(related, value)]
    return str(value)


def _roles(row) -> str:
    """The author's roles stored with the change: what they were then, not what they are now."""
    if row.history_user_id is None:
        return "system"
    # Rows written before roles were stored with each change have none to show.
    return roles_label(row.history_user_roles) or "no role recorded"


def _entries(model, rows) -> list[TrailEntry]:
    """Turn ordered history rows into entries with the fields each version changed."""
    out, previous, names = [], {}, _Names()
    fields = _fields(model)
    for row in rows:
        before = previous.get(row.id)
        changes = []
        if row.history_type != "-":
            for f in fields:
                new = _show(row, f, names)
                old = _show(before, f, names) if before is not None else "—"
                if before is None and new == "—":
                    continue
                if before is None or old != new:
                    changes.append(Change(field=f.name, label=_sentence(f.verbose_name), old=old, new=new))
        previous[row.id] = row
        user = row.history_user
        out.append(
            TrailEntry(
                when=row.history_date,
                user=user.get_username() if user is not None else "system",
                roles=_roles(row),
                model=model._meta.label_lower,
                model_label=model_label(model),
                object_id=row.id,
                record=str(row.instance) if row.history_type != "-" else f"#{row.id}",
                action=ACTIONS.get(row.history_type, row.history_type),
                reason=row.history_change_reason or "",
                changes=changes,
            )
        )
    return out


def _history_rows(model, **filters):
    return model.history.filter(**filters).select_related("history_user").order_by("history_date", "history_id")


def record_trail(*, model, pk: int) -> list[TrailEntry]:
    return list(reversed(_entries(model, _history_rows(model, id=pk))))


def _patient_filter(model, patient) -> dict | None:
    names = {f.name for f in model._meta.concrete_fields}
    if model._meta.label_lower == "patients.patient":
        return {"id": patient.pk}
    if model._meta.label_lower == "patients.screening":
        return {"id": patient.screening_id}
    if "patient" in names:
        return {"patient_id": patient.pk}
    return None


def patient_trail(*, patient, limit: int = 1000) -> list[TrailEntry]:
    entries: list[TrailEntry] = []
    for model in tracked_models():
        filters = _patient_filter(model, patient)
        if filters is not None:
            entries.extend(_entries(model, _history_rows(model, **filters)))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


def study_trail(*, site_ids: set[int], model_label: str = "", username: str = "", limit: int = 500) -> list[TrailEntry]:
    """The study-wide log for data managers and monitors, newest first, scoped to their sites."""
    entries: list[TrailEntry] = []
    for model in tracked_models():
        if model_label and model._meta.label_lower != model_label:
            continue
        scope = _study_scope(model, site_ids)
        if scope is None:
            continue
        rows = _history_rows(model).filter(scope)
        if username:
            rows = rows.filter(history_user__username__icontains=username)
        entries.extend(_entries(model, rows))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


def record_in_study_scope(*, model, pk: int, site_ids: set[int]) -> bool:
    scope = _study_scope(model, site_ids)
    return scope is not None and _history_rows(model, id=pk).filter(scope).exists()


def _study_scope(model, site_ids: set[int]) -> Q | None:
    """The history rows of a record type that belong to the reader's sites: their records, their
    patients' records, their trial's configuration, their staff's accounts."""
    from django.contrib.auth import get_user_model

    from trial.models import Site, SiteMembership, Trial

    fields = {f.name: f for f in model._meta.concrete_fields}
    trial_ids = Site.objects.filter(id__in=site_ids).values("trial_id")
    if model is Site:
        return Q(id__in=site_ids)
    if model is Trial:
        return Q(id__in=trial_ids)
    if model is get_user_model():
        return Q(id__in=SiteMembership.objects.filter(site_id__in=site_ids).values("user_id"))
    if "site" in fields:
        scope = Q(site_id__in=site_ids)
        if fields["site"].null and "trial" in fields:  # the trial's default, for every site
            scope |= Q(site_id__isnull=True, trial_id__in=trial_ids)
        return scope
    if "patient" in fields:
        return Q(patient_id__in=_patient_ids(site_ids))
    if "trial" in fields:
        return Q(trial_id__in=trial_ids)
    return None


def _patient_ids(site_ids: set[int]) -> list[int]:
    from patients.models import Patient

    return list(Patient.objects.filter(site_id__in=site_ids).values_list("id", flat=True))


def security_events(*, user, limit: int = 200):
    """Sign-ins, failures and role changes of the users of the reader's sites (all for a superuser):
    another site's staff, their addresses and sign-in times are not a monitor's to read."""
    from django.contrib.auth import get_user_model

    from audit.models import AuthEvent
    from trial.selectors import user_site_ids

    events = AuthEvent.objects.select_related("user")
    if not user.is_superuser:
        colleagues = get_user_model().objects.filter(site_memberships__site_id__in=user_site_ids(user))
        names = colleagues.values_list("username", flat=True)
        events = events.filter(Q(user__in=colleagues) | Q(user__isnull=True, username__in=names))
    return events.order_by("-at", "-id")[:limit]
