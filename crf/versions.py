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


def _grouped(form: CaseReportForm, *, visit: bool, marks: str) -> str | None:
    """One UNION branch of history_digests: (label, owner id, count, newest history id) per owner,
    the owner being the visit or the patient; the same rows as history_digest's condition."""
    table = form.history_model._meta.db_table
    head = f"SELECT '{form.label}'"
    if visit:
        if form.visit_field is not None:
            key = "id" if form.visit_field == "id" else form.visit_field
            return (
                f"{head}, h.{key}, count(*), max(h.history_id) FROM {table} h "
                f"WHERE h.{key} IN ({marks}) GROUP BY h.{key}"
            )
        if form.part_of is not None:
            parent = BY_LABEL[form.part_of[0]]
            if parent.visit_field is not None:
                parent_table = parent.model._meta.db_table
                key = f"p.{parent.visit_field}"
                return (
                    f"{head}, {key}, count(*), max(h.history_id) FROM {table} h "
                    f"JOIN {parent_table} p ON h.{form.part_of[1]} = p.id WHERE {key} IN ({marks}) GROUP BY {key}"
                )
        return None
    if form.patient_field is None:  # the screening, through the patient row
        patient_table = BY_LABEL["patients.patient"].model._meta.db_table
        return (
            f"{head}, p.id, count(*), max(h.history_id) FROM {table} h "
            f"JOIN {patient_table} p ON h.id = p.screening_id WHERE p.id IN ({marks}) GROUP BY p.id"
        )
    key = f"h.{form.patient_field}"
    return f"{head}, {key}, count(*), max(h.history_id) FROM {table} h WHERE {key} IN ({marks}) GROUP BY {key}"


def history_digests(
    *, forms: Iterable[CaseReportForm], patient_ids: Iterable[int] | None = None, visit_ids: Iterable[int] | None = None
) -> dict[int, str]:
    """history_digest for many patients (or, given visit_ids, many visits) in one statement:
    {id: digest}, each equal to what history_digest gives for that patient or visit alone."""
    forms = tuple(forms)
    by_visit = visit_ids is not None
    ids = sorted(set(visit_ids if by_visit else patient_ids or ()))
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    parts, labels = [], []
    for form in forms:
        branch = _grouped(form, visit=by_visit, marks=marks)
        if branch is not None:
            parts.append(branch)
            labels.append(form.label)
    found: dict[tuple[str, int], tuple[int, int | None]] = {}
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), ids * len(parts))
            found = {(label, owner): (count, newest) for label, owner, count, newest in cursor.fetchall()}
    digests = {}
    for owner in ids:
        text = "|".join(f"{label}:{':'.join(map(str, found.get((label, owner), (0, None))))}" for label in labels)
        digests[owner] = hashlib.sha256(text.encode()).hexdigest()
    return digests
