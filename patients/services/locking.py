"""The one lock every write of a patient's data takes first: the patient's row.

Writes of one patient (a page, the API, the import, the response recomputation) are
serialised on it, always taken first, and taken FOR NO KEY UPDATE of that row alone: rows
that merely refer to the patient (a new lab value, a new response assessment) are inserted
without waiting on it, and no screening, site or trial row is locked along with it. One
order everywhere is what keeps two writers from waiting on each other (a deadlock).
"""

from patients.models import Patient


def patient_lock(patient_id: int, *, related: tuple[str, ...] = ()) -> Patient:
    """Lock the patient's row until the transaction ends; `related` rows are read, not locked."""
    return Patient.objects.select_for_update(no_key=True, of=("self",)).select_related(*related).get(pk=patient_id)
