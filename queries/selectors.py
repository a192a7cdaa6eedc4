"""Reads for data queries: those a user may see, and the records a query can be raised on."""

from django.apps import apps
from django.db.models import QuerySet

from assessments.models import AdverseEvent, LabPanel
from crf.edit_checks import target_of
from crf.models import DataQuery
from patients.models import Patient
from trial.selectors import user_site_ids


def queries_visible(user) -> QuerySet[DataQuery]:
    """The queries of the user's sites (another site's query is not found)."""
    return DataQuery.objects.filter(patient__site_id__in=user_site_ids(user)).select_related("patient__site")


def query_targets(patient: Patient) -> list[tuple[str, str]]:
    """The patient's records a query can be raised on: (target, label)."""
    options = [
        (target_of(patient.screening), f"Screening {patient.screening.screening_number}"),
        (target_of(patient), f"Enrollment {patient.subject_number}"),
    ]
    for panel in LabPanel.objects.filter(patient=patient).select_related("visit"):
        options.append((target_of(panel), f"Labs — {panel.visit.name}"))
    for ae in AdverseEvent.objects.filter(patient=patient).select_related("term"):
        options.append((target_of(ae), f"Adverse event — {ae.term_label} (onset {ae.onset_date})"))
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
    return {
        target: f"{str(record._meta.verbose_name).capitalize()}: {record}"
        for target, record in records_by_target(targets).items()
    }


def with_target_labels(queries) -> list[DataQuery]:
    """The queries as a list, each with `target_label` set."""
    rows = list(queries)
    labels = target_labels(q.target for q in rows)
    for query in rows:
        query.target_label = labels.get(query.target, query.target)
    return rows


def form_name(model_label: str) -> str:
    """'assessments.labpanel' -> 'Lab panel' (the label itself for an unknown model)."""
    try:
        return str(apps.get_model(model_label)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return model_label
