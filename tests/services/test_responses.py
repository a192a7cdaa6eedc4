"""Response service: assessment days reached, stored with reasons, idempotent, alerts, endpoints."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import PatientEndpoints, ResponseAssessment, Visit
from assessments.services.labs import Measurement, lab_panel_save, supportive_care_record
from assessments.services.responses import response_assess_patient, response_confirm, response_sweep_due
from notifications.models import Notification
from tests.conftest import DAY0, enroll_child

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")

NORMAL = {
    "TEMP": ("36.8", "°C"),
    "NEUT": ("2.1", "10^9/L"),
    "PLAT": ("210", "10^9/L"),
    "FIBRINO": ("2.4", "g/L"),
    "SCD25": ("3100", "pg/mL"),
    "FERRITIN": ("320", "µg/L"),
    "TRIG": ("1.3", "mmol/L"),
    "SPLEEN": ("0", "cm"),
}
# Abnormal but within 50 % of the eligible_data() baseline: no response.
UNCHANGED = {
    "TEMP": ("39.0", "°C"),
    "NEUT": ("0.9", "10^9/L"),
    "PLAT": ("50", "10^9/L"),
    "FIBRINO": ("1.3", "g/L"),
    "SCD25": ("28000", "pg/mL"),
    "FERRITIN": ("3000", "µg/L"),
    "TRIG": ("3.4", "mmol/L"),
    "SPLEEN": ("3", "cm"),
}


def record(patient, code, values, *, day, cns=False, user=None, **kwargs):
    visit = Visit.objects.get(patient=patient, definition__code=code)
    when = datetime.combine(DAY0 + timedelta(days=day), time(8), tzinfo=SHANGHAI)
    measurements = {k: Measurement(Decimal(v), unit, when) for k, (v, unit) in values.items()}
    return lab_panel_save(
        visit=visit,
        sampled_at=when,
        values=measurements,
        panel_data={"cns_symptoms": cns},
        user=user,
        today=DAY0 + timedelta(days=200),
        **kwargs,
    )


def stop_for_no_response(patient, user, *, last_dose_day: int):
    """Section 6: RUX "stopped and therapy changed when: no response after 3 days"."""
    from patients.services.treatment import treatment_end_record

    return treatment_end_record(
        patient=patient,
        outcome="discontinued",
        reason="no_response_day3",
        last_dose_date=DAY0 + timedelta(days=last_dose_day),
        user=user,
    )


def statuses(patient):
    return {a.study_day: a.status for a in ResponseAssessment.objects.filter(patient=patient)}


@pytest.fixture
def child(site_a, clinician):
    return enroll_child(site_a, clinician)


def test_assessment_days_reached_are_computed_with_reasons(child, clinician):
    record(child, "D3", UNCHANGED, day=3, user=clinician)
    record(child, "D7", NORMAL, day=7, user=clinician)
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=10))
    assert statuses(child) == {3: "nr", 7: "cr"}
    day7 = ResponseAssessment.objects.get(patient=child, study_day=7)
    ferritin = next(m for m in day7.computed_detail["markers"] if m["marker"] == "ferritin")
    assert (ferritin["baseline"], ferritin["current"], ferritin["normal"]) == ("3200 µg/L", "320 µg/L", True)
    endpoints = PatientEndpoints.objects.get(patient=child)
    assert (endpoints.best_response, endpoints.best_response_day, endpoints.overall_response) == ("cr", 7, True)


def test_day_not_reached_is_not_assessed_and_missing_markers_are_listed(child, clinician):
    values = dict(NORMAL)
    values.pop("SCD25")
    record(child, "D3", values, day=3, user=clinician)
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=3))
    day3 = ResponseAssessment.objects.get(patient=child)
    assert (day3.study_day, day3.computed_status, day3.computed_detail["missing"]) == (3, "not_assessable", ["scd25"])


def test_running_twice_stores_one_result(child, clinician):
    record(child, "D3", UNCHANGED, day=3, user=clinician)
    today = DAY0 + timedelta(days=4)
    assert len(response_assess_patient(patient_id=child.pk, today=today)) == 1
    rows = ResponseAssessment.history.count()
    assert response_assess_patient(patient_id=child.pk, today=today) == []
    assert ResponseAssessment.objects.count() == 1 and ResponseAssessment.history.count() == rows


def test_day3_no_response_alerts_clinicians_and_coordinators(child, clinician, coordinator, monitor, mailoutbox):
    record(child, "D3", UNCHANGED, day=3, user=clinician)
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=3))
    alerts = Notification.objects.filter(kind="response")
    assert {n.recipient.username for n in alerts} == {clinician.username, coordinator.username}
    assert "protocol says change therapy" in alerts.first().title
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=3))
    assert Notification.objects.filter(kind="response").count() == 2  # never twice for the same result


def test_confirmed_result_is_never_overwritten_and_a_change_is_flagged(child, clinician, coordinator):
    outcome = record(child, "D7", NORMAL, day=7, user=clinician)
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=8))
    day7 = ResponseAssessment.objects.get(patient=child, study_day=7)
    response_confirm(assessment_id=day7.pk, status="cr", reason="", expected_version=day7.version, user=clinician)
    # A corrected platelet count (transfusion-supported) changes the computation.
    supportive_care_record(
        patient=child,
        kind="transfusion",
        product="platelets",
        given_on=DAY0 + timedelta(days=6),
        detail="",
        user=coordinator,
        today=DAY0 + timedelta(days=8),
    )
    assert outcome.panel.pk
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=8))
    day7.refresh_from_db()
    assert (day7.confirmed_status, day7.computed_status, day7.recomputed_status) == ("cr", "cr", "pr")
    assert day7.needs_review is True
    assert day7.status == "cr"


def test_recording_another_response_needs_a_reason(child, clinician):
    record(child, "D7", NORMAL, day=7, user=clinician)
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=8))
    day7 = ResponseAssessment.objects.get(patient=child, study_day=7)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="reason"):
        response_confirm(assessment_id=day7.pk, status="pr", reason="", expected_version=day7.version, user=clinician)
    response_confirm(
        assessment_id=day7.pk,
        status="pr",
        reason="Spleen still palpable on exam",
        expected_version=day7.version,
        user=clinician,
    )
    day7.refresh_from_db()
    assert (day7.computed_status, day7.confirmed_status, day7.status) == ("cr", "pr", "pr")
    assert PatientEndpoints.objects.get(patient=child).best_response == "pr"


def test_sweep_finds_patients_with_a_day_reached_and_no_assessment(child, site_a, clinician):
    other = enroll_child(site_a, clinician, initials="AB")
    assert response_sweep_due(today=DAY0 + timedelta(days=2)) == []
    assert response_sweep_due(today=DAY0 + timedelta(days=3)) == sorted([child.pk, other.pk])
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=3))
    assert response_sweep_due(today=DAY0 + timedelta(days=3)) == [other.pk]


def test_queries_per_patient_assessment_do_not_grow_with_the_data(site_a, clinician):
    small = enroll_child(site_a, clinician, initials="SM")
    large = enroll_child(site_a, clinician, initials="LG")
    record(small, "D3", NORMAL, day=3, user=clinician)
    record(small, "D7", NORMAL, day=7, user=clinician)
    for code, day in (("BASE", 0), ("D1", 1), ("D2", 2), ("D3", 3), ("D4", 4), ("D5", 5), ("D6", 6), ("D7", 7)):
        record(large, code, NORMAL, day=day, user=clinician)
    today = DAY0 + timedelta(days=8)

    def count(patient):
        ResponseAssessment.objects.filter(patient=patient).delete()
        with CaptureQueriesContext(connection) as ctx:
            response_assess_patient(patient_id=patient.pk, today=today)
        return len(ctx.captured_queries)

    assert count(small) == count(large)


def test_a_transaction_queues_one_assessment_run_per_patient(child, clinician, django_capture_on_commit_callbacks):
    from django.db import transaction

    from crf.models import QueuedTask

    before = QueuedTask.objects.filter(key=f"response:{child.pk}").count()
    with django_capture_on_commit_callbacks(), transaction.atomic():
        record(child, "D3", UNCHANGED, day=3, user=clinician)
        record(child, "D7", NORMAL, day=7, user=clinician)
        record(child, "D14", NORMAL, day=14, user=clinician)
    # The run is queued in the transaction's outbox (crf.outbox): once, whatever the transaction saved.
    queued = QueuedTask.objects.filter(key=f"response:{child.pk}").count() - before
    assert queued == 1


@pytest.mark.parametrize(("last_dose_day", "days"), [(2, "treatment day 3"), (3, "treatment day 4")])
def test_day3_non_responder_keeps_nr_once_the_end_of_treatment_is_recorded(child, clinician, last_dose_day, days):
    # Protocol 6: "RUX is stopped and therapy changed when: no response after 3 days"; 11: the best
    # response up to day 28 counts NR, and a never-responder whose therapy changed has EFS = 1 day.
    record(child, "D3", UNCHANGED, day=3, user=clinician)
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=3))
    assert PatientEndpoints.objects.get(patient=child).best_response == "nr"
    stop_for_no_response(child, clinician, last_dose_day=last_dose_day)
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=4))
    endpoints = PatientEndpoints.objects.get(patient=child)
    assert (endpoints.best_response, endpoints.best_response_day) == ("nr", 3), days
    assert (endpoints.efs_event, endpoints.efs_days) == ("no_response", 1)


def test_cutoff_before_the_first_dose_leaves_the_patient_outside_and_every_save_works(
    child, clinician, trial, django_capture_on_commit_callbacks
):
    # Protocol 11: censoring "at last follow-up or the data cutoff date (a study setting)". An
    # interim cutoff while enrollment goes on is normal; this child is outside that analysis.
    trial.data_cutoff_date = DAY0 - timedelta(days=1)
    trial.save()
    from crf.models import QueuedTask

    with django_capture_on_commit_callbacks(execute=True):
        record(child, "D3", UNCHANGED, day=3, user=clinician)
    ran = QueuedTask.objects.filter(key=f"response:{child.pk}", sent_at__isnull=False)
    assert ran.exists()  # the assessment ran
    assert statuses(child)[3] == "nr"  # the visit's response is still computed for the clinic
    endpoints = PatientEndpoints.objects.get(patient=child)
    assert (endpoints.best_response, endpoints.efs_days, endpoints.efs_censored_on) == ("", None, None)
    assert endpoints.detail["outside_analysis"].startswith("First dose after the data cutoff")


def test_baseline_visit_before_the_first_dose_saves(child, clinician, django_capture_on_commit_callbacks):
    # Section 7: the baseline visit falls on days -7 to 0; a contact before day 0 is not follow-up.
    with django_capture_on_commit_callbacks(execute=True):
        record(child, "BASE", UNCHANGED, day=-1, user=clinician)
    endpoints = PatientEndpoints.objects.get(patient=child)
    assert (endpoints.efs_days, endpoints.efs_censored_on) == (None, None)


def test_efs_is_censored_at_the_last_contact_before_lost_to_follow_up(child, clinician):
    # Section 11: censored "at last follow-up"; a follow-up recorded as lost is not a contact.
    from patients.services.treatment import follow_up_record

    record(child, "D7", NORMAL, day=7, user=clinician)
    follow_up_record(patient=child, assessed_on=DAY0 + timedelta(days=56), vital_status="alive", user=clinician)
    follow_up_record(patient=child, assessed_on=DAY0 + timedelta(days=84), vital_status="lost", user=clinician)
    response_assess_patient(patient_id=child.pk, today=DAY0 + timedelta(days=90))
    endpoints = PatientEndpoints.objects.get(patient=child)
    assert (endpoints.efs_event, endpoints.efs_censored_on, endpoints.efs_days) == ("", DAY0 + timedelta(days=56), 56)
