"""One data-version digest over the catalogue's forms, read from their history tables.

Every create, change and deletion of a record writes a history row (django-simple-history),
so the number of a patient's history rows and the newest row's id, per form, move with any
change to that patient's data. A signature stores the digest of what it signs; a document
stores the digest of what it prints; both compare it later. One statement whatever the
number of forms.
"""

import hashlib
from collections.abc import Iterable

from django.db import connection

from crf.catalogue import BY_LABEL, CaseReportForm


def _condition(form: CaseReportForm, *, visit: bool) -> tuple[str, str] | None:
    """(SQL condition on the form's history table, the parameter name it takes), or None when
    the form has no rows in that scope."""
    if visit:
        if form.visit_field is not None:
            return f"{'id' if form.visit_field == 'id' else form.visit_field} = %(visit)s", "visit"
        if form.part_of is not None:
            parent = BY_LABEL[form.part_of[0]]
            if parent.visit_field is not None:
                table = parent.model._meta.db_table
                sql = f"{form.part_of[1]} IN (SELECT id FROM {table} WHERE {parent.visit_field} = %(visit)s)"  # noqa: S608
                return sql, "visit"
        return None
    if form.patient_field is None:  # the screening, through the patient row
        patient_table = BY_LABEL["patients.patient"].model._meta.db_table
        return f"id = (SELECT screening_id FROM {patient_table} WHERE id = %(patient)s)", "patient"  # noqa: S608
    return f"{form.patient_field} = %(patient)s", "patient"


def history_digest(*, forms: Iterable[CaseReportForm], patient_id: int, visit_id: int | None = None) -> str:
    """A digest of the history of the patient's (or one visit's) records of these forms."""
    parts, labels = [], []
    for form in forms:
        found = _condition(form, visit=visit_id is not None)
        if found is None:
            continue
        condition, _ = found
        table = form.history_model._meta.db_table
        # The label is a constant column: UNION ALL promises no order of its branches.
        parts.append(f"SELECT '{form.label}', count(*), max(history_id) FROM {table} WHERE {condition}")  # noqa: S608
        labels.append(form.label)
    if not parts:
        return hashlib.sha256(b"").hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), {"patient": patient_id, "visit": visit_id})
        found = {label: (count, newest) for label, count, newest in cursor.fetchall()}
    text = "|".join(f"{label}:{found[label][0]}:{found[label][1]}" for label in labels)
    return hashlib.sha256(text.encode()).hexdigest()
