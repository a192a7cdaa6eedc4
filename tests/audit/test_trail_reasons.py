"""A change's reason on the trail: the reasons the system writes itself ("Enrolled", "Planned at
enrollment", "Raised by edit check") read in the reader's language; a reason a person typed is
shown as typed and marked not to be machine-translated. The stored reason stays as written."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import Preference
from assessments.models import SupportiveCare
from audit.selectors import patient_trail
from crf.writes import record_save
from tests.conftest import DAY0, PASSWORD

pytestmark = pytest.mark.django_db


def typed_change(patient, user) -> None:
    record_save(
        record=SupportiveCare(patient=patient, kind="gcsf", given_on=DAY0),
        user=user,
        reason="床旁补录 (entered at the bedside)",
        created=True,
    )


@pytest.mark.parametrize(
    ("language", "enrolled", "planned"),
    [
        ("en", "Enrolled", "Planned at enrollment"),
        ("zh-hans", "已入组", "入组时计划"),  # as the catalogue says, written out here
    ],
)
def test_system_reasons_read_in_the_readers_language(patient, language, enrolled, planned):
    with translation.override(language):
        reasons = {e.reason for e in patient_trail(patient=patient)}
    assert {enrolled, planned} <= reasons


def test_the_stored_reason_stays_as_written(patient):
    with translation.override("zh-hans"):
        patient_trail(patient=patient)
    assert patient.history.filter(history_type="+").get().history_change_reason == "Enrolled"


def test_a_typed_reason_is_shown_as_typed_and_marked_not_to_translate(client, patient, clinician, monitor):
    typed_change(patient, clinician)
    Preference.objects.update_or_create(user=monitor, defaults={"language": "zh-hans"})
    assert client.login(username=monitor.username, password=PASSWORD)
    html = client.get(reverse("audit_patient", args=[patient.pk])).content.decode()
    assert 'data-label="原因" translate="no">床旁补录 (entered at the bedside)</td>' in html
    assert 'data-label="原因">已入组</td>' in html  # the system's own, translated and translatable
    assert ">Enrolled<" not in html


def test_a_typed_reason_is_marked_typed_and_the_systems_fixed_reasons_are_not(patient, clinician):
    typed_change(patient, clinician)
    with translation.override("zh-hans"):
        entries = patient_trail(patient=patient)
    marks = {e.reason: e.reason_typed for e in entries}
    assert marks["床旁补录 (entered at the bedside)"] is True
    assert marks["已入组"] is False and marks["入组时计划"] is False and marks["筛选已录入"] is False
    # A reason the system composes with a value ("Enrolled as BCH-001") is stored and shown as written.
    assert marks[f"Enrolled as {patient.subject_number}"] is True
