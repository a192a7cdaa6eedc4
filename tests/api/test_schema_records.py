"""Responses of the resources that hold records conform to the schema: the fuzz test's random ids
seldom find one, so each kind of record is created here and read back through the schema."""

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import response_schema_conformance

from assessments.services.labs import supportive_care_record
from crf.catalogue import target_of
from crf.edit_checks import auto_query_sync
from patients.services import death_record, subsequent_therapy_record, treatment_end_record
from queries.services import query_answer, query_raise
from tests.api.test_schema_fuzz import live_schema  # noqa: F401 - the fixture
from tests.conftest import DAY0

pytestmark = pytest.mark.django_db


def test_records_read_back_conform(live_schema, clinician, monitor, patient):  # noqa: F811
    token = Token.objects.get_or_create(user=clinician)[0].key
    care = supportive_care_record(
        patient=patient, kind="transfusion", product="platelets", given_on=DAY0, detail="", user=clinician
    )
    treatment_end_record(
        patient=patient,
        outcome="discontinued",
        reason="progression",
        reason_detail="",
        last_dose_date=DAY0 + timedelta(days=3),
        user=clinician,
    )
    therapy = subsequent_therapy_record(
        patient=patient,
        regimen="hlh1994",
        start_date=DAY0 + timedelta(days=4),
        etoposide=True,
        dexamethasone=True,
        user=clinician,
    )
    death = death_record(patient=patient, date_of_death=DAY0 + timedelta(days=5), cause="Sepsis", user=clinician)
    manual = query_raise(patient=patient, target=target_of(patient), field="", text="Why?", user=monitor)
    query_answer(query_id=manual.pk, user=clinician, text="Because.")
    automatic = auto_query_sync(
        patient=patient, record=patient.screening, check_code="test.check", failing=True, text="Check this."
    )

    headers = {"Authorization": f"Token {token}"}
    for path, pk in (
        ("/api/v1/supportive-care/{id}/", care.pk),
        ("/api/v1/subsequent-therapies/{id}/", therapy.pk),
        ("/api/v1/deaths/{id}/", death.pk),
        ("/api/v1/queries/{id}/", manual.pk),
        ("/api/v1/queries/{id}/", automatic.pk),
        ("/api/v1/supportive-care/", None),
        ("/api/v1/subsequent-therapies/", None),
        ("/api/v1/deaths/", None),
        ("/api/v1/queries/", None),
        ("/api/v1/report/", None),
    ):
        case = live_schema[path]["GET"].Case(path_parameters={"id": pk} if pk else {})
        response = case.call(headers=headers)
        assert response.status_code == 200, (path, response.text[:300])
        case.validate_response(response, checks=[response_schema_conformance])

    comment = live_schema["/api/v1/queries/{id}/messages/"]["POST"].Case(
        path_parameters={"id": manual.pk}, body={"text": "More detail."}, media_type="application/json"
    )
    response = comment.call(headers=headers)
    assert response.status_code == 200, response.text[:300]
    comment.validate_response(response, checks=[response_schema_conformance])
