"""Edit checks raise data queries that close themselves when the data are fixed."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from assessments.models import Visit
from assessments.services.labs import Measurement, lab_panel_save
from assessments.services.responses import response_assess_patient
from crf.models import DataQuery
from patients.services import screening_update
from patients.services.treatment import dose_record
from tests.conftest import DAY0, enroll_child

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Shanghai")
LATER = DAY0 + timedelta(days=60)


def at(day: int) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=day), time(9), tzinfo=ZONE)


def save_labs(patient, code, day, values, user, **kwargs):
    return lab_panel_save(
        visit=Visit.objects.get(patient=patient, definition__code=code),
        sampled_at=at(day),
        values={k: Measurement(Decimal(v), u, at(day)) for k, (v, u) in values.items()},
        panel_data={},
        user=user,
        today=LATER,
        **kwargs,
    )


def live(check_code):
    return DataQuery.objects.filter(check_code=check_code).exclude(status="closed")


def test_out_of_window_visit_raises_a_query_that_closes_when_the_date_is_corrected(site_a, clinician):
    patient = enroll_child(site_a, clinician)
    first = save_labs(patient, "D14", 20, {"TEMP": ("37", "°C")}, clinician)
    query = live("visit.out_of_window").get()
    assert "Day 14 (week 2) done on" in query.text and query.origin == "auto"
    save_labs(
        patient,
        "D14",
        14,
        {"TEMP": ("37", "°C")},
        clinician,
        visit_date=DAY0 + timedelta(days=14),
        expected_version=first.panel.version,
        reason_for_change="Wrong date typed",
    )
    assert not live("visit.out_of_window").exists()
    closed = DataQuery.objects.get(check_code="visit.out_of_window")
    assert closed.status == "closed" and closed.messages.last().action == "close"


def test_prescribed_dose_off_band_is_queried_at_enrollment(site_a, clinician):
    patient = enroll_child(site_a, clinician, weight="10.0", dose="5")
    query = live("patient.dose_off_band").get()
    assert query.patient == patient
    assert "differs from the weight band's 2.5 mg" in query.text


def test_dose_given_off_band_is_queried(site_a, clinician):
    patient = enroll_child(site_a, clinician)
    dose_record(
        patient=patient,
        treatment_day=1,
        slot="am",
        status="given",
        administered_at=datetime.combine(DAY0, time(8), tzinfo=ZONE),
        amount_mg=Decimal("10"),
        reason="",
        user=clinician,
    )
    assert live("dose.off_band").count() == 1


def test_weight_measured_in_another_band_is_queried(site_a, clinician):
    patient = enroll_child(site_a, clinician, weight="19.5")
    outcome = save_labs(patient, "D7", 7, {"WEIGHT": ("20.5", "kg")}, clinician)
    assert live("weight.band_change").count() == 1
    assert any("band" in w for w in outcome.warnings)


def test_assessment_day_passed_with_markers_missing_raises_a_query_on_the_visit(site_a, clinician):
    patient = enroll_child(site_a, clinician)
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=4))
    query = live("response.missing_markers").get()
    day3 = Visit.objects.get(patient=patient, definition__code="D3")
    assert query.target == f"assessments.visit:{day3.pk}"
    assert "cannot be assessed: missing Fever" in query.text
    # Not raised for a day that is today: the data may still come in.
    assert live("response.missing_markers").count() == 1


def test_eligibility_lost_after_enrollment_is_queried(site_a, clinician):
    patient = enroll_child(site_a, clinician)
    screening = patient.screening
    screening.refresh_from_db()
    screening_update(
        screening_id=screening.pk,
        data={"malignancy": True},
        expected_version=screening.version,
        user=clinician,
        reason_for_change="Pathology report",
    )
    assert live("screening.eligibility_after_enrollment").count() == 1


def missing_on(patient) -> set[str]:
    """The visits (codes) with an open missing-markers query."""
    targets = set(live("response.missing_markers").filter(patient=patient).values_list("target", flat=True))
    return {v.definition.code for v in Visit.objects.filter(patient=patient) if f"assessments.visit:{v.pk}" in targets}


def test_missing_markers_query_closes_when_the_visit_is_recorded_not_done(
    site_a, clinician, django_capture_on_commit_callbacks
):
    from assessments.services.visits import visit_not_done_record

    patient = enroll_child(site_a, clinician)
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=4))
    assert missing_on(patient) == {"D3"}
    day3 = Visit.objects.get(patient=patient, definition__code="D3")
    with django_capture_on_commit_callbacks(execute=True):
        visit_not_done_record(
            visit_id=day3.pk, reason="Child transferred", expected_version=day3.version, user=clinician
        )
    assert "D3" not in missing_on(patient)  # the re-run queued by the not-done record closed it
    closed = DataQuery.objects.get(check_code="response.missing_markers", target=f"assessments.visit:{day3.pk}")
    assert closed.status == "closed" and closed.messages.last().action == "close"


def test_no_missing_markers_query_for_a_visit_recorded_not_done(site_a, clinician):
    from assessments.services.visits import visit_not_done_record

    patient = enroll_child(site_a, clinician)
    day7 = Visit.objects.get(patient=patient, definition__code="D7")
    visit_not_done_record(visit_id=day7.pk, reason="Child transferred", expected_version=day7.version, user=clinician)
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=10))
    assert missing_on(patient) == {"D3"}


def test_missing_markers_queries_stop_after_ruxolitinib_stopped_and_after_death_not_at_follow_up(site_a, clinician):
    # Section 6: stopped for "no response after 3 days" (last dose study day 2). Section 9: response
    # is assessed "at follow-up visits" too, so the follow-up relapse check still wants its markers.
    from patients.services.treatment import death_record
    from tests.services.test_responses import stop_for_no_response

    patient = enroll_child(site_a, clinician)
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=20))
    assert missing_on(patient) == {"D3", "D7", "D14"}
    stop_for_no_response(patient, clinician, last_dose_day=2)
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=20))
    assert missing_on(patient) == {"D3"}  # the day-3 check came the day after the last dose
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=60))
    assert missing_on(patient) == {"D3", "FU56"}  # no D28 query; the follow-up visit still counts
    death_record(patient=patient, date_of_death=DAY0 + timedelta(days=70), cause="HLH", user=clinician)
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=120))
    assert missing_on(patient) == {"D3", "FU56"}  # none for the visits after death
