"""Reads for data queries: those a user may see, and the records a query can be raised on."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils.translation import gettext, gettext_lazy

from assessments.models import AdverseEvent, LabPanel
from crf.catalogue import day_of, field_labels, form_of, page_of, visit_id_of
from crf.edit_checks import target_of
from crf.models import DataQuery
from patients.models import Patient
from trial import clock
from trial.history import roles_label
from trial.models import Site
from trial.selectors import site_users_with_perm, user_site_ids
from trial.visit_names import visit_name

ANSWER_PERMISSION = "crf.answer_query"


def queries_visible(user) -> QuerySet[DataQuery]:
    """The queries of the user's sites (another site's query is not found)."""
    return DataQuery.objects.filter(patient__site_id__in=user_site_ids(user)).select_related("patient__site")


def query_targets(patient: Patient) -> list[tuple[str, str]]:
    """The patient's records a query can be raised on: (target, label)."""
    options = [
        (
            target_of(patient.screening),
            gettext("Screening %(number)s") % {"number": patient.screening.screening_number},
        ),
        (target_of(patient), gettext("Enrollment %(subject)s") % {"subject": patient.subject_number}),
    ]
    for panel in LabPanel.objects.filter(patient=patient).select_related("visit"):
        options.append((target_of(panel), gettext("Labs — %(visit)s") % {"visit": visit_name(panel.visit.name)}))
    for ae in AdverseEvent.objects.filter(patient=patient).select_related("term"):
        label = gettext("Adverse event — %(term)s (onset %(date)s)") % {"term": ae.term_label, "date": ae.onset_date}
        options.append((target_of(ae), label))
    return options


def records_by_target(targets) -> dict[str, object]:
    """The records named by targets ("app.model:id"), read with one query per kind of record;
    a target whose record no longer exists is left out."""
    by_model: dict[str, set[int]] = {}
    for target in targets:
        label, _, pk = target.partition(":")
        if pk.isdigit():
            by_model.setdefault(label, set()).add(int(pk))
    out: dict[str, object] = {}
    for label, ids in by_model.items():
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        names = {f.name for f in model._meta.get_fields()}
        related = [path for path in ("patient", "visit__patient", "term", "screening") if path.split("__")[0] in names]
        for pk, record in model.objects.select_related(*related).in_bulk(ids).items():
            out[f"{label}:{pk}"] = record
    return out


def target_labels(targets) -> dict[str, str]:
    """A reader's label for each query target: "Visit: BCH-001 – Day 28"; a record that no
    longer exists gets none (its target is shown)."""
    return {target: record_label(record) for target, record in records_by_target(targets).items()}


# The kinds of record a query names, as the reader's language names them (the model's own name
# where the catalogue's form title would name it otherwise: the enrollment record is the patient).
RECORD_NAMES = {
    "patients.patient": gettext_lazy("Patient"),
    "patients.screening": gettext_lazy("Screening"),
    "assessments.visit": gettext_lazy("Visit"),
    "assessments.labpanel": gettext_lazy("Lab panel"),
    "assessments.adverseevent": gettext_lazy("Adverse event"),
}


def record_text(record) -> str:
    """The record itself, named as its page names it: a visit of the schedule in the reader's language."""
    if record._meta.label_lower == "assessments.visit":
        return f"{record.patient} – {visit_name(record.name)}"
    return str(record)


def record_label(record) -> str:
    """A reader's label of a record: "Visit: BCH-001 – Day 28"."""
    return f"{form_name(record._meta.label_lower)}: {record_text(record)}"


def with_target_labels(queries) -> list[DataQuery]:
    """The queries as a list, each with `target_label`, `field_label` (the field named as on its
    form) and `record_url` (the page showing the record; blank when it no longer exists) set."""
    rows = list(queries)
    records = records_by_target({q.target for q in rows})
    for query in rows:
        record = records.get(query.target)
        query.target_label = record_label(record) if record is not None else query.target
        query.field_label = field_label(query.target, query.field)
        query.record_url = page_of(record) if record is not None else ""
        query.age_days = query_age_days(query)
        query.raised_by_role_label = roles_label(query.raised_by_role)
    return rows


def target_fields(target: str) -> dict[str, str]:
    """The fields of the form a target ("app.model:id") is, by name, with their labels."""
    return field_labels(target.partition(":")[0])


def field_label(target: str, field: str) -> str:
    """A query's field as its form names it ("Amount (mg)", not amount_mg)."""
    if not field:
        return ""
    return target_fields(target).get(field, field)


def query_assignees(*, patient: Patient) -> QuerySet:
    """Who a query on the patient can be assigned to: the active users of the patient's site
    whose role answers queries."""
    return site_users_with_perm(site_id=patient.site_id, perm=ANSWER_PERMISSION)


def live_queries_by_field(records) -> dict[str, dict[str, list[DataQuery]]]:
    """The open and answered queries on these records, by target and field ("" for a query on
    the whole record), read in one statement whatever the number of records and queries."""
    targets = {target_of(record) for record in records if record is not None and record.pk is not None}
    found: dict[str, dict[str, list[DataQuery]]] = defaultdict(lambda: defaultdict(list))
    if not targets:
        return {}
    rows = DataQuery.objects.filter(target__in=targets).exclude(status=DataQuery.Status.CLOSED)
    for query in rows.order_by("created_at", "id"):
        found[query.target][query.field].append(query)
    return {target: dict(by_field) for target, by_field in found.items()}


def queries_older_than(queries: QuerySet[DataQuery], *, days: int, at: datetime | None = None) -> QuerySet[DataQuery]:
    """The unresolved (open or answered) queries raised more than `days` days ago, counted in
    days of the patient's site: a query raised on the site's day D is `days` old on D + days."""
    moment = at or clock.now()
    older = Q(pk__in=[])
    for site in Site.objects.filter(pk__in=queries.values("patient__site_id")):
        zone = clock.zone_of(site)
        # Raised before the start of the site's day (today - days) means older than `days` days.
        cutoff = datetime.combine(clock.site_today(site, at=moment) - timedelta(days=days), time.min, tzinfo=zone)
        older |= Q(patient__site_id=site.pk, created_at__lt=cutoff)
    return queries.exclude(status=DataQuery.Status.CLOSED).filter(older)


def query_age_days(query: DataQuery, *, at: datetime | None = None) -> int:
    """Whole days of the patient's site since the query was raised (0 on the day it was raised)."""
    site = query.patient.site
    return (clock.site_today(site, at=at) - clock.local_date(site, query.created_at)).days


def form_name(model_label: str) -> str:
    """'assessments.labpanel' -> 'Lab panel', in the reader's language (the label itself for an unknown model)."""
    if model_label in RECORD_NAMES:
        return str(RECORD_NAMES[model_label])
    form = form_of(model_label)
    if form is not None:
        return str(form.title)
    try:
        return str(apps.get_model(model_label)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return model_label


def queries_unresolved_covered(*, trial=None, patient=None, visit=None, target: str = "") -> list[DataQuery]:
    """The open and answered queries on the records a lock, signature or verification covers:
    one form (`target`), a visit (its records and those dated in its window, as a lock of the
    visit covers them, crf.locks), a patient, or the whole study (`trial`); each with its labels."""
    rows = DataQuery.objects.exclude(status=DataQuery.Status.CLOSED).select_related("patient__site")
    if target:
        rows = rows.filter(target=target)
    elif patient is not None:
        rows = rows.filter(patient=patient)
    elif trial is not None:
        rows = rows.filter(patient__site__trial=trial)
    else:
        return []
    found = with_target_labels(rows.order_by("created_at", "id"))
    if visit is None or target:
        return found
    start = visit.window_start or visit.visit_date
    end = visit.window_end or visit.visit_date
    records = records_by_target({q.target for q in found})
    covered = []
    for query in found:
        record = records.get(query.target)
        if record is None:
            continue
        day = day_of(record)
        if visit_id_of(record) == visit.pk or (day is not None and start and end and start <= day <= end):
            covered.append(query)
    return covered
