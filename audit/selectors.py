"""Reading the audit trail back: per record, per patient and study-wide, each change with who (by
name), their role at the time of the change (stored with it), when, the old and new value of every
field as a person reads it, and the reason.

The patient and study trails are read a page at a time, newest first, by keyset: each history
table is asked for the rows before the cursor, ordered and limited in SQL, and the pages of the
tables are merged here, so a page costs the same number of statements whatever the size of the
trial. The names of the records and people a page mentions are read once per page, in one query
per kind of record; a row's record is named from the history row itself.
"""

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.apps import apps
from django.db import connection, models
from django.db.models import OuterRef, Q, Subquery, Value
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy
from simple_history.models import registered_models

from crf.catalogue import form_of
from crf.readable import (
    EMPTY,
    field_label,
    field_text,
    instant_text,
    json_items,
    json_leaves,
    person_name,
    sentence_case,
)
from trial.analytes import ANALYTES
from trial.clock import zone_of
from trial.history import roles_label
from trial.visit_names import visit_name

# Bookkeeping columns that change on every save and say nothing to a reader.
SILENT_FIELDS = {"version", "updated_at", "updated_by", "created_at", "created_by", "id"}
# The action words, translated where they are shown (the page compares the English word).
ACTIONS = {"+": gettext_noop("Created"), "~": gettext_noop("Changed"), "-": gettext_noop("Deleted")}
# Record types not in the catalogue of forms, as the reader's language names them ("auth.user":
# its own name would not tell a reader what changed).
LABELS = {
    "auth.user": gettext_lazy("User account"),
    "crf.datalock": gettext_lazy("Data lock"),
    "crf.dataquery": gettext_lazy("Data query"),
    "review.signature": gettext_lazy("Signature"),
    "review.sourceverification": gettext_lazy("Source verification"),
    "trial.doseband": gettext_lazy("Dose band"),
    "trial.referencerange": gettext_lazy("Reference range"),
    "trial.site": gettext_lazy("Site"),
    "trial.sitemembership": gettext_lazy("Site membership"),
    "trial.trial": gettext_lazy("Trial"),
    "trial.visitdefinition": gettext_lazy("Visit of the schedule"),
}
# The entries of the computed documents (an eligibility's, a response's, a derivation's reasons)
# as the reader's language names them; their values are shown as they were computed and stored.
JSON_KEYS = {
    "Label": pgettext_lazy("computed detail", "Label"),
    "Counts": pgettext_lazy("computed detail", "Counts"),
    "Markers": pgettext_lazy("computed detail", "Markers"),
    "Missing": pgettext_lazy("computed detail", "Missing"),
    "Decided by": pgettext_lazy("computed detail", "Decided by"),
    "Baseline source": pgettext_lazy("computed detail", "Baseline source"),
    "Sampled": pgettext_lazy("computed detail", "Sampled"),
    "Status": pgettext_lazy("computed detail", "Status"),
    "Hlh2004": pgettext_lazy("computed detail", "HLH-2004 criteria"),
    "Exclusion": pgettext_lazy("computed detail", "Exclusion criteria"),
    "Inclusion": pgettext_lazy("computed detail", "Inclusion criteria"),
    "Also checked": pgettext_lazy("computed detail", "Also checked"),
    "Schwartz egfr": pgettext_lazy("computed detail", "Schwartz eGFR"),
    "Dose": pgettext_lazy("computed detail", "Dose"),
    "Risk": pgettext_lazy("computed detail", "Risk"),
    "Etiology": pgettext_lazy("computed detail", "Etiology"),
    "Criteria": pgettext_lazy("computed detail", "Criteria"),
    "Explanation": pgettext_lazy("computed detail", "Explanation"),
}
# Values a history row keeps beside the record's fields (an account's roles), as shown.
HISTORY_ONLY_FIELDS = {"roles": roles_label}
PAGE_SIZE = 50
CURSOR_SEPARATOR = "~"


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str
    # The values are text as it was typed or computed and stored (free text, a computed
    # document's sentences): shown as recorded, in no reader's language.
    verbatim: bool = False


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
    history_id: int = 0
    reason_typed: bool = True  # typed by a person (shown as typed); False: the system's own, translated

    @property
    def name(self) -> str:
        """The record as named on its page: 'Lab panel, day 7 (2026-03-09) — patient BCH-003'."""
        return f"{self.model_label}, {self.record}" if self.record else self.model_label

    @property
    def cursor(self) -> str:
        return Cursor(self.when, self.model, self.history_id).token


@dataclass(frozen=True)
class Cursor:
    """A place in the trail: (time, record type, history row), the trail's total order."""

    when: datetime
    label: str
    history_id: int

    @property
    def key(self) -> tuple:
        return (self.when, self.label, self.history_id)

    @property
    def token(self) -> str:
        return CURSOR_SEPARATOR.join([self.when.isoformat(), self.label, str(self.history_id)])

    @classmethod
    def parse(cls, text: str | None) -> "Cursor | None":
        """A cursor from a link; anything else (edited, truncated, junk) is None: the first page."""
        parts = (text or "").split(CURSOR_SEPARATOR)
        ends = _cursor_ends(parts, 3)
        if ends is None or model_by_label(parts[1]) is None:
            return None
        return cls(ends[0], parts[1], ends[1])


def _cursor_ends(parts: list[str], count: int) -> tuple[datetime, int] | None:
    """A cursor's first part as an aware instant and its last as a row id, when it has `count`
    parts and both read; else None (the first page)."""
    if len(parts) != count:
        return None
    try:
        when = datetime.fromisoformat(parts[0].replace(" ", "+"))  # a '+' of the offset read as a space
        row_id = int(parts[-1])
    except ValueError:
        return None
    if when.tzinfo is None or row_id < 0:
        return None
    return when, row_id


@dataclass(frozen=True)
class TrailFilter:
    """What a reader narrowed the trail to; blank means everything in scope."""

    model_label: str = ""
    user: str = ""  # part of a username or a name
    patient_id: int | None = None
    since: datetime | None = None  # from this instant (inclusive)
    until: datetime | None = None  # to this instant (exclusive)


@dataclass
class TrailPage:
    entries: list[TrailEntry]
    older: str = ""  # the cursor of the page after this one, blank on the last page
    newer: str = ""  # the cursor of the page before this one, blank on the first page


def tracked_models() -> list[type[models.Model]]:
    return sorted(registered_models.values(), key=lambda m: m._meta.label_lower)


def model_by_label(label: str) -> type[models.Model] | None:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    return model if model in registered_models.values() else None


def model_label(model) -> str:
    form = form_of(model._meta.label_lower)
    if form is not None:
        return str(form.title)
    return str(LABELS.get(model._meta.label_lower) or sentence_case(model._meta.verbose_name))


@functools.cache
def _history_model(model) -> type[models.Model]:
    """A tracked model's history table (`model.history` builds a new manager class at each access)."""
    return model.history.model


@functools.cache
def _fields(model) -> tuple[models.Field, ...]:
    history = _history_model(model)
    kept = {f.attname for f in history._meta.concrete_fields}
    own = [
        f
        for f in model._meta.concrete_fields
        if f.attname in kept and f.attname not in SILENT_FIELDS and f.name not in SILENT_FIELDS
    ]
    return (*own, *(f for f in history._meta.concrete_fields if f.name in HISTORY_ONLY_FIELDS))


# Names of related records --------------------------------------------------------------------


def _visit_name(v: dict) -> str:
    when = v.get("visit_date") or v.get("planned_date")
    day = v.get("planned_day")
    name = _("day %(day)s") % {"day": day} if day is not None else v.get("name", "")
    if v.get("unscheduled"):
        name = _("unscheduled visit, %(name)s") % {"name": name}
    return f"{name} ({when.isoformat()})" if when else name


def _term_html(term) -> str:
    """A CTCAE v3.0 term as published (English, whatever the page's language), marked as such."""
    return format_html('<span lang="en">{}</span>', term)


def _safe_format(template: str, **values) -> str:
    """A translated sentence with values, some of them marked-up (a CTCAE term): each escaped once."""
    text = str(conditional_escape(template)).replace("{", "{{").replace("}", "}}")
    return format_html(re.sub(r"%\((\w+)\)s", r"{\1}", text), **values)


def _ae_name(v: dict) -> str:
    term = v.get("term__term")
    term = term if isinstance(term, SafeString) else _term_html(term) if term else _("Other")
    if v.get("other_specify"):
        term = format_html('{}: <span translate="no">{}</span>', term, v["other_specify"])
    return _safe_format(_("%(term)s, grade %(grade)s"), term=term, grade=v.get("grade"))


# label -> (columns read, how a record is named from them). Anything else is named by type and number.
RELATED_NAMES = {
    "auth.user": (("username", "first_name", "last_name"), None),
    "patients.patient": (("subject_number",), lambda v: v["subject_number"] or f"#{v['id']}"),
    "patients.screening": (("screening_number",), lambda v: v["screening_number"]),
    "assessments.visit": (("name", "planned_day", "planned_date", "visit_date", "unscheduled"), _visit_name),
    "assessments.labpanel": (
        ("visit__name", "visit__planned_day", "visit__planned_date", "visit__visit_date", "visit__unscheduled"),
        lambda v: (
            _("Lab panel, %(visit)s") % {"visit": _visit_name({k.removeprefix("visit__"): x for k, x in v.items()})}
        ),
    ),
    "assessments.labresult": (
        ("analyte", "value", "unit", "missing"),
        lambda v: (
            f"{_analyte(v['analyte'])} {_missing_label(v['missing'])}"
            if v["missing"]
            else f"{_analyte(v['analyte'])} {field_text(models.DecimalField(), v['value'])} {v['unit']}"
        ),
    ),
    "assessments.ctcaeterm": (("term",), lambda v: _term_html(v["term"])),
    "assessments.adverseevent": (("term__term", "other_specify", "grade"), _ae_name),
    "trial.site": (("code", "name"), lambda v: f"{v['code']} – {v['name']}"),
    "trial.trial": (("short_name",), lambda v: v["short_name"]),
    "trial.visitdefinition": (("name",), lambda v: visit_name(v["name"])),
}


def _analyte(code: str) -> str:
    analyte = ANALYTES.get(code)
    return _(analyte.label) if analyte is not None else code


def _missing_label(code: str) -> str:
    """A lab value's missing-data code by its label, from the model's own choices."""
    choices = dict(apps.get_model("assessments", "LabResult")._meta.get_field("missing").choices)
    return str(choices.get(code, code))


class Names:
    """The names of the records and people a page mentions: asked for first (`want`), then read
    in one query per kind of record (`load`), then looked up (`__call__`)."""

    def __init__(self):
        self.wanted: dict[type[models.Model], set] = {}
        self.found: dict[tuple[str, object], str] = {}

    def want(self, model: type[models.Model], pk) -> None:
        if pk is not None and pk != "":
            self.wanted.setdefault(model, set()).add(pk)

    def load(self) -> None:
        for model, ids in self.wanted.items():
            label = model._meta.label_lower
            if model is _user_model():
                columns, namer = RELATED_NAMES["auth.user"]
                for u in model._default_manager.filter(pk__in=ids).only("id", *columns):
                    self.found[(label, u.pk)] = person_name(u)
                continue
            if label not in RELATED_NAMES:
                continue
            columns, namer = RELATED_NAMES[label]
            for row in model._default_manager.filter(pk__in=ids).values("id", *columns):
                self.found[(label, row["id"])] = namer(row)
        self.wanted = {}

    def __call__(self, model: type[models.Model], pk) -> str:
        label = model._meta.label_lower
        found = self.found.get((label, pk))
        if found is not None:
            return found
        return f"{model_label(model)} #{pk}"

    def user(self, pk) -> str:
        return self(_user_model(), pk) if pk is not None else _("system")


def _user_model():
    from django.contrib.auth import get_user_model

    return get_user_model()


# Records named as on their page ------------------------------------------------------------


def _choice(model, name: str, value) -> str:
    f = model._meta.get_field(name)
    return str(dict(f.flatchoices).get(value, value)) if value not in (None, "") else EMPTY


def _record_detail(model, row, names: Names, zone) -> str:
    """What tells this record from the others of its form, from the history row's own columns."""
    label = model._meta.label_lower
    visit = None
    if hasattr(row, "visit_id") and row.visit_id:
        visit = names(apps.get_model("assessments.visit"), row.visit_id)
    if label == "patients.screening":
        return f"{row.screening_number} ({row.initials})"
    if label == "patients.patient":
        return row.subject_number or ""
    if label == "assessments.visit":
        return _visit_name(
            {
                "name": row.name,
                "planned_day": row.planned_day,
                "planned_date": row.planned_date,
                "visit_date": row.visit_date,
                "unscheduled": row.unscheduled,
            }
        )
    if label == "assessments.labresult":
        sampled = instant_text(row.sampled_at, zone)[:10] if row.sampled_at else ""
        return _("%(analyte)s, sampled %(date)s") % {"analyte": _analyte(row.analyte), "date": sampled}
    if label == "assessments.responseassessment":
        return _("day %(day)s (%(date)s)") % {"day": row.study_day, "date": row.assessment_date}
    if label == "assessments.supportivecare":
        return f"{_choice(model, 'kind', row.kind)}, {row.given_on}"
    if label == "patients.doseadministration":
        return _("day %(day)s, %(slot)s") % {"day": row.treatment_day, "slot": _choice(model, "slot", row.slot)}
    if label == "assessments.adverseevent":
        term = names(apps.get_model("assessments.ctcaeterm"), row.term_id) if row.term_id else _("Other")
        return _ae_name({"term__term": term, "other_specify": row.other_specify, "grade": row.grade})
    if label == "assessments.labaesuggestion":
        term = names(apps.get_model("assessments.ctcaeterm"), row.term_id)
        return _safe_format(_("%(term)s, grade %(grade)s"), term=term, grade=row.grade)
    if label == "patients.subsequenttherapy":
        return f"{_choice(model, 'regimen', row.regimen)}, {row.start_date}"
    if label == "patients.followup":
        return str(row.assessed_on)
    if label == "patients.death":
        return str(row.date_of_death)
    if label == "trial.referencerange":
        where = names(apps.get_model("trial.site"), row.site_id) if row.site_id else _("default")
        return f"{_analyte(row.analyte)} {field_text(model._meta.get_field('lower'), row.lower)}–" + (
            f"{field_text(model._meta.get_field('upper'), row.upper)} {row.unit} ({where})"
        )
    if label == "trial.sitemembership":
        return f"{names.user(row.user_id)} @ {names(apps.get_model('trial.site'), row.site_id)}"
    if label == "trial.visitdefinition":
        return _("%(name)s (day %(day)s)") % {"name": visit_name(row.name), "day": row.day}
    if label in {"trial.trial", "trial.site", "trial.doseband"}:
        return str(row.instance)  # these name themselves from their own columns
    if label == "auth.user":
        return row.username
    return visit or ""


def _record_name(model, row, names: Names, zone) -> str:
    """Which record of its form, and whose: 'day 7 (2026-03-09) — patient BCH-003'."""
    if model._meta.label_lower == "assessments.labpanel":
        detail = names(apps.get_model("assessments.visit"), row.visit_id) if row.visit_id else ""
    else:
        detail = _record_detail(model, row, names, zone)
    patient_id = getattr(row, "patient_id", None)
    if patient_id and model._meta.label_lower != "patients.patient":
        whose = _("patient %(subject)s") % {"subject": names(apps.get_model("patients.patient"), patient_id)}
        detail = format_html("{} — {}", detail, whose) if detail else whose
    return detail


def _want_names(model, rows, fields, names: Names) -> None:
    Visit, Term = apps.get_model("assessments.visit"), apps.get_model("assessments.ctcaeterm")
    Patient = apps.get_model("patients.patient")
    for row in rows:
        names.want(_user_model(), row.history_user_id)
        for f in fields:
            related = getattr(f, "related_model", None)
            if related is not None and f.is_relation:
                names.want(related, getattr(row, f.attname))
        for attname, related in (("visit_id", Visit), ("term_id", Term), ("patient_id", Patient)):
            names.want(related, getattr(row, attname, None))


# Entries -----------------------------------------------------------------------------------


def _shown(row, f: models.Field, names: Names, zone) -> str:
    value = getattr(row, f.attname)
    if f.name in HISTORY_ONLY_FIELDS and f.model is type(row):
        return HISTORY_ONLY_FIELDS[f.name](value or "") or EMPTY
    if f.name == "analyte" and value:
        return _analyte(value)
    return field_text(f, value, zone=zone, names=names)


def _changes(row, before, fields, names: Names, zone) -> list[Change]:
    if row.history_type == "-":
        return []
    changes = []
    for f in fields:
        if isinstance(f, models.JSONField):
            old_value = getattr(before, f.attname) if before is not None else None
            changes += _json_changes(f, getattr(row, f.attname), old_value, created=before is None)
            continue
        new = _shown(row, f, names, zone)
        old = _shown(before, f, names, zone) if before is not None else EMPTY
        if before is None and new == EMPTY:
            continue
        if before is None or old != new:
            changes.append(Change(field=f.name, label=field_label(f), old=old, new=new, verbatim=_typed(f)))
    return changes


def _json_changes(f, new_value, old_value, created: bool) -> list[Change]:
    """A JSON document by its entries: when created, each top-level key as a sentence; when
    changed, only what changed inside it, leaf by leaf ('Eligibility detail · Hlh2004 · ...')."""
    if created:
        return [
            Change(
                field=f.name,
                label=f"{field_label(f)} · {_key(key)}" if key else field_label(f),
                old=EMPTY,
                new=text,
                verbatim=True,
            )
            for key, text in json_items(new_value)
            if text != EMPTY
        ]
    old, new = json_leaves(old_value or {}), json_leaves(new_value or {})
    out = []
    for path in list(old) + [p for p in new if p not in old]:
        before, after = old.get(path, EMPTY), new.get(path, EMPTY)
        if before != after:
            label = " · ".join((field_label(f), *(_key(key) for key in path)))
            out.append(Change(field=f.name, label=label, old=before, new=after, verbatim=True))
    return out


def _key(text: str) -> str:
    """A computed document's entry by its name in the reader's language (a name not listed, e.g.
    a criterion's label inside the document, as stored)."""
    return str(JSON_KEYS.get(text, text))


def _typed(f: models.Field) -> bool:
    """A field of free text: its value is shown as it was typed (no choices to translate)."""
    if f.name in HISTORY_ONLY_FIELDS or f.name == "analyte":  # shown by their labels, translated
        return False
    return isinstance(f, models.CharField | models.TextField) and not f.choices and not f.is_relation


def _roles(row) -> str:
    """The author's roles stored with the change: what they were then, not what they are now."""
    if row.history_user_id is None:
        return _("system")
    # Rows written before roles were stored with each change have none to show.
    return roles_label(row.history_user_roles) or _("no role recorded")


def _reason(stored: str) -> tuple[str, bool]:
    """A change's reason in the reader's language when it is one the system writes (its services
    mark them for the catalogue), else as typed; and whether it was typed."""
    if not stored:
        return "", True
    shown = _(stored)
    return shown, shown == stored


def _entry(model, row, before, fields, names: Names, zone) -> TrailEntry:
    reason, typed = _reason(row.history_change_reason or "")
    return TrailEntry(
        when=row.history_date,
        user=names.user(row.history_user_id),
        roles=_roles(row),
        model=model._meta.label_lower,
        model_label=model_label(model),
        object_id=row.id,
        record=_record_name(model, row, names, zone),
        action=ACTIONS.get(row.history_type, row.history_type),
        reason=reason,
        reason_typed=typed,
        changes=_changes(row, before, fields, names, zone),
        history_id=row.history_id,
    )


def record_trail(*, model, pk: int, zone: tzinfo | None = None) -> list[TrailEntry]:
    """Every version of one record, newest first (a record's versions are few: read whole)."""
    rows = list(model.history.filter(id=pk).order_by("history_date", "history_id"))
    fields, names = _fields(model), Names()
    _want_names(model, rows, fields, names)
    names.load()
    out, before = [], None
    for row in rows:
        out.append(_entry(model, row, before, fields, names, zone))
        before = row
    return list(reversed(out))


# Pages -------------------------------------------------------------------------------------


def _before(cursor: Cursor, label: str) -> Q:
    """This table's rows strictly older than the cursor in the trail's order (time, type, row)."""
    if label < cursor.label:
        return Q(history_date__lte=cursor.when)
    if label > cursor.label:
        return Q(history_date__lt=cursor.when)
    return Q(history_date__lt=cursor.when) | Q(history_date=cursor.when, history_id__lt=cursor.history_id)


def _after(cursor: Cursor, label: str) -> Q:
    if label > cursor.label:
        return Q(history_date__gte=cursor.when)
    if label < cursor.label:
        return Q(history_date__gt=cursor.when)
    return Q(history_date__gt=cursor.when) | Q(history_date=cursor.when, history_id__gt=cursor.history_id)


def _rows(history) -> models.QuerySet:
    """A plain queryset of a history table: its managers are built anew at each access, which a
    page asking two dozen tables would pay for every time."""
    return models.QuerySet(model=history)


def _filtered(model, scope: Q, trail_filter: TrailFilter):
    rows = _rows(_history_model(model)).filter(scope)
    if trail_filter.user:
        text = trail_filter.user
        people = _user_model().objects.filter(
            Q(username__icontains=text) | Q(first_name__icontains=text) | Q(last_name__icontains=text)
        )
        rows = rows.filter(history_user_id__in=people.values("id"))
    if trail_filter.since is not None:
        rows = rows.filter(history_date__gte=trail_filter.since)
    if trail_filter.until is not None:
        rows = rows.filter(history_date__lt=trail_filter.until)
    return rows


def _keys(parts) -> list[tuple]:
    """(time, form, row) of each table's rows from the cursor: one UNION ALL of the tables' own
    ordered and limited selects where the database can (PostgreSQL), else one select a table."""
    if not parts:
        return []
    if connection.features.supports_slicing_ordering_in_compound and len(parts) > 1:
        return list(parts[0].union(*parts[1:], all=True))
    return [key for part in parts for key in part]


def _with_previous(history, history_ids: list[int]) -> dict[int, tuple]:
    """The page's rows of one history table, each with the version before it: the rows with the
    id of their previous version (a correlated subquery on the record's id), then those versions.
    Two statements, each by index (an OR of the two would read the whole table)."""
    previous = (
        _rows(history)
        .filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    rows = list(_rows(history).filter(history_id__in=history_ids).annotate(earlier_id=Subquery(previous)))
    earlier_ids = [r.earlier_id for r in rows if r.earlier_id is not None]
    earlier = {r.history_id: r for r in _rows(history).filter(history_id__in=earlier_ids)} if earlier_ids else {}
    return {r.history_id: (r, earlier.get(r.earlier_id)) for r in rows}


def _trail_page(
    scopes: list[tuple[type[models.Model], Q]],
    *,
    trail_filter: TrailFilter,
    before: Cursor | None,
    after: Cursor | None,
    page_size: int,
    zone,
) -> TrailPage:
    """One page of the merged trail of several tables: page_size + 1 keys from each table, in SQL
    order from the cursor; the page's rows, their previous versions and names in bulk."""
    newest_first = after is None
    order = ("-history_date", "-history_id") if newest_first else ("history_date", "history_id")
    parts = []
    for model, scope in scopes:
        label = model._meta.label_lower
        rows = _filtered(model, scope, trail_filter)
        if before is not None:
            rows = rows.filter(_before(before, label))
        if after is not None:
            rows = rows.filter(_after(after, label))
        rows = rows.annotate(form=Value(label, output_field=models.CharField())).order_by(*order)
        parts.append(rows.values_list("history_date", "form", "history_id")[: page_size + 1])
    keys = _keys(parts)
    keys.sort(reverse=newest_first)
    more = len(keys) > page_size
    chosen = keys[:page_size]
    if not newest_first:
        chosen.reverse()  # a page of newer entries is still shown newest first

    by_model: dict[str, list[int]] = {}
    for _when, label, history_id in chosen:
        by_model.setdefault(label, []).append(history_id)
    loaded, names = {}, Names()
    for label, history_ids in by_model.items():
        model = model_by_label(label)
        history = _history_model(model)
        versions = _with_previous(history, history_ids)
        fields = _fields(model)
        _want_names(model, [r for pair in versions.values() for r in pair if r is not None], fields, names)
        loaded[label] = (model, fields, versions)
    names.load()
    entries = []
    for _when, label, history_id in chosen:
        model, fields, versions = loaded[label]
        row, earlier = versions[history_id]
        entries.append(_entry(model, row, earlier, fields, names, zone))

    page = TrailPage(entries=entries)
    if entries:
        if newest_first:
            page.older = entries[-1].cursor if more else ""
            page.newer = entries[0].cursor if before is not None else ""
        else:
            page.older = entries[-1].cursor
            page.newer = entries[0].cursor if more else ""
    return page


def _patient_filter(model, patient_id: int, screening_id: int | None) -> Q | None:
    names = {f.name for f in model._meta.concrete_fields}
    if model._meta.label_lower == "patients.patient":
        return Q(id=patient_id)
    if model._meta.label_lower == "patients.screening":
        return Q(id=screening_id)
    if "patient" in names:
        return Q(patient_id=patient_id)
    return None


def patient_trail_page(
    *,
    patient,
    trail_filter: TrailFilter = TrailFilter(),
    before: Cursor | None = None,
    after: Cursor | None = None,
    page_size: int = PAGE_SIZE,
    zone: tzinfo | None = None,
) -> TrailPage:
    """A page of the patient's trail, newest first, times in the patient's site's zone."""
    scopes = []
    for model in tracked_models():
        if trail_filter.model_label and model._meta.label_lower != trail_filter.model_label:
            continue
        scope = _patient_filter(model, patient.pk, patient.screening_id)
        if scope is not None:
            scopes.append((model, scope))
    return _trail_page(
        scopes,
        trail_filter=trail_filter,
        before=before,
        after=after,
        page_size=page_size,
        zone=zone or zone_of(patient.site),
    )


def patient_trail(*, patient, limit: int = 1000) -> list[TrailEntry]:
    """The patient's newest `limit` entries at once (the casebook prints them)."""
    return patient_trail_page(patient=patient, page_size=limit).entries


def study_trail_page(
    *,
    site_ids: set[int],
    trail_filter: TrailFilter = TrailFilter(),
    before: Cursor | None = None,
    after: Cursor | None = None,
    page_size: int = PAGE_SIZE,
    zone: tzinfo | None = None,
) -> TrailPage:
    """A page of the study-wide log for data managers and monitors, newest first, scoped to their
    sites (and to one of their patients when the filter names one)."""
    wanted = trail_filter.model_label
    models_ = [m for m in tracked_models() if not wanted or m._meta.label_lower == wanted]
    scopes = []
    if trail_filter.patient_id is not None:
        # One patient of the reader's sites (else nothing): their rows, found by the patient's index.
        found = (
            apps.get_model("patients.patient")
            .objects.filter(pk=trail_filter.patient_id, site_id__in=site_ids)
            .values_list("screening_id", flat=True)
        )
        for screening_id in found:
            for model in models_:
                scope = _patient_filter(model, trail_filter.patient_id, screening_id)
                if scope is not None:
                    scopes.append((model, scope))
    else:
        for model in models_:
            scope = _study_scope(model, site_ids)
            if scope is not None:
                scopes.append((model, scope))
    return _trail_page(scopes, trail_filter=trail_filter, before=before, after=after, page_size=page_size, zone=zone)


def study_patient_find(*, site_ids: set[int], text: str):
    """The patient of the reader's sites a filter names by subject or screening number (or None)."""
    from patients.models import Patient

    text = text.strip()
    if not text:
        return None
    return (
        Patient.objects.filter(site_id__in=site_ids)
        .filter(Q(subject_number__iexact=text) | Q(screening__screening_number__iexact=text))
        .first()
    )


def record_in_study_scope(*, model, pk: int, site_ids: set[int]) -> bool:
    scope = _study_scope(model, site_ids)
    return scope is not None and model.history.filter(id=pk).filter(scope).exists()


def _study_scope(model, site_ids: set[int]) -> Q | None:
    """The history rows of a record type that belong to the reader's sites: their records, their
    patients' records, their trial's configuration, their staff's accounts."""
    from trial.models import Site, SiteMembership, Trial

    fields = {f.name: f for f in model._meta.concrete_fields}
    trial_ids = Site.objects.filter(id__in=site_ids).values("trial_id")
    if model is Site:
        return Q(id__in=site_ids)
    if model is Trial:
        return Q(id__in=trial_ids)
    if model is _user_model():
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


def _patient_ids(site_ids: set[int]):
    """The reader's patients, as a subquery (never a list of thousands of ids in every statement)."""
    from patients.models import Patient

    return Patient.objects.filter(site_id__in=site_ids).values("id")


def _security_scope(user):
    """Sign-ins, failures and role changes of the users of the reader's sites (all for a superuser):
    another site's staff, their addresses and sign-in times are not a monitor's to read."""
    from audit.models import AuthEvent
    from trial.selectors import user_site_ids

    events = AuthEvent.objects.all()  # the page shows the name stored with each event
    if not user.is_superuser:
        colleagues = _user_model().objects.filter(site_memberships__site_id__in=user_site_ids(user))
        names = colleagues.values_list("username", flat=True)
        events = events.filter(Q(user__in=colleagues) | Q(user__isnull=True, username__in=names))
    return events


@dataclass(frozen=True)
class SecurityCursor:
    """A place in the security log: (time, event id), its total order."""

    at: datetime
    event_id: int

    @property
    def token(self) -> str:
        return CURSOR_SEPARATOR.join([self.at.isoformat(), str(self.event_id)])

    @classmethod
    def parse(cls, text: str | None) -> "SecurityCursor | None":
        """A cursor from a link; anything else is None: the first page."""
        ends = _cursor_ends((text or "").split(CURSOR_SEPARATOR), 2)
        return cls(*ends) if ends is not None else None


@dataclass
class SecurityPage:
    events: list
    older: str = ""
    newer: str = ""


def security_page(
    *,
    user,
    before: SecurityCursor | None = None,
    after: SecurityCursor | None = None,
    page_size: int = PAGE_SIZE,
) -> SecurityPage:
    """A page of the security log, newest first, ordered and cut in SQL on (time, id): one query
    for the page (and one row more to know whether an older page exists)."""
    events = _security_scope(user)
    if after is not None:
        rows = list(
            events.filter(Q(at__gt=after.at) | Q(at=after.at, id__gt=after.event_id)).order_by("at", "id")[
                : page_size + 1
            ]
        )
        more_newer = len(rows) > page_size
        rows = rows[:page_size][::-1]
        more_older = True
    else:
        if before is not None:
            events = events.filter(Q(at__lt=before.at) | Q(at=before.at, id__lt=before.event_id))
        rows = list(events.order_by("-at", "-id")[: page_size + 1])
        more_older = len(rows) > page_size
        rows = rows[:page_size]
        more_newer = before is not None
    if not rows:
        return SecurityPage(events=[])
    first, last = rows[0], rows[-1]
    return SecurityPage(
        events=rows,
        older=SecurityCursor(last.at, last.id).token if more_older else "",
        newer=SecurityCursor(first.at, first.id).token if more_newer else "",
    )
