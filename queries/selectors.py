"""Reads for data queries: those a user may see, and the records a query can be raised on."""

from django.db.models import QuerySet

from assessments.models import AdverseEvent, LabPanel
from patients.models import Patient
from queries.models import DataQuery
from queries.services import target_of
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
