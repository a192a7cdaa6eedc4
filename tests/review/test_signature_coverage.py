"""A signature covers everything it signs: a change to any form the casebook prints breaks the
investigator's casebook signature and clears that form's source data verification.

The writes are those of test_refused_writes (each shown there to be accepted when unlocked),
made here through their first door after the casebook was signed and the form verified.
"""

import pytest

from crf.catalogue import form_of
from review.models import Signature
from review.services import sdv_mark, sdv_status, signature_sign, signature_valid
from tests.conftest import PASSWORD
from tests.review.test_refused_writes import WRITES, build_world

pytestmark = pytest.mark.django_db

SIGNED_WRITES = [w for w in WRITES if w.name not in {"AE suggestion dismissed", "enrollment"}]


def test_every_signed_form_of_the_catalogue_has_a_write_here():
    """A signed form added to the catalogue without a write below fails this test."""
    from crf.catalogue import signed_forms

    changed_by = {
        "patients.screening": "screening change",
        "patients.patient": "end of treatment",  # the patient's status follows the end of treatment
        "assessments.visit": "visit not done",
        "assessments.labpanel": "lab correction",
        "assessments.labresult": "new lab panel",
        "assessments.supportivecare": "G-CSF correction",
        "patients.doseadministration": "dose correction",
        "assessments.adverseevent": "adverse event correction",
        "assessments.responseassessment": "response confirmation",
        "patients.treatmentend": "end of treatment correction",
        "patients.subsequenttherapy": "subsequent therapy correction",
        "patients.followup": "follow-up",
        "patients.death": "death correction",
    }
    assert {f.label for f in signed_forms()} == set(changed_by)
    assert set(changed_by.values()) <= {w.name for w in SIGNED_WRITES}


@pytest.mark.parametrize("write", SIGNED_WRITES, ids=[w.name for w in SIGNED_WRITES])
def test_a_change_to_a_printed_form_breaks_the_signature_and_clears_its_verification(
    write, clinician, data_manager, monitor
):
    world = build_world(clinician, data_manager, ended=write.ended, dead=write.dead)
    record = write.record(world) if write.record is not None else None
    signature = signature_sign(patient=world.patient, user=clinician, password=PASSWORD)
    form = form_of(record) if record is not None else None
    if form is not None and form.verified:
        sdv_mark(record=record, user=monitor)
        assert sdv_status(record=record) is not None
    assert signature_valid(signature)

    door, attempt = next(iter(write.doors.items()))
    outcome = attempt(world)
    assert outcome.accepted, f"{write.name} by {door}: {outcome.detail}"

    assert not signature_valid(Signature.objects.get(pk=signature.pk)), f"{write.name} left the signature valid"
    if form is not None and form.verified:
        record.refresh_from_db()
        assert sdv_status(record=record) is None, f"{write.name} left the source data verification holding"


def _newest_history_rows(since):
    """Every history row of a catalogued form written after `since`, newest first."""
    from crf.catalogue import FORMS

    rows = []
    for form in FORMS:
        rows += list(form.history_model.objects.filter(history_date__gt=since))
    return sorted(rows, key=lambda r: r.history_date, reverse=True)


@pytest.mark.parametrize("write", SIGNED_WRITES, ids=[w.name for w in SIGNED_WRITES])
def test_every_accepted_write_keeps_who_in_which_role_when_and_why(write, clinician, data_manager):
    """Walks the catalogue's writes: the history of what each changed names the author, the role
    the author held, the time and a reason (the user's, or what the system did)."""
    from django.utils import timezone

    world = build_world(clinician, data_manager, ended=write.ended, dead=write.dead)
    before = timezone.now()
    door, attempt = next(iter(write.doors.items()))
    outcome = attempt(world)
    assert outcome.accepted, f"{write.name} by {door}: {outcome.detail}"
    after = timezone.now()
    rows = [r for r in _newest_history_rows(before) if r.history_user_id == clinician.pk]
    assert rows, f"{write.name}: no history row by the clinician"
    for row in rows:
        assert before < row.history_date <= after
        assert "clinician" in row.history_user_roles.lower(), (write.name, row.history_user_roles)
        assert row.history_change_reason, f"{write.name}: {row._meta.label} {row.history_type} row without a reason"
