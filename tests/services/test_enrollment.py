"""Screening and enrollment services on PostgreSQL (protocol sections 3-7)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from assessments.models import Visit
from patients.models import Patient, Screening
from patients.services import EnrollmentRefused, patient_derived_recompute, patient_enroll, screening_create
from tests.conftest import SCREENING_DAY, eligible_data

pytestmark = pytest.mark.django_db


def enroll(screening, user, weight="15.0", dose="5", day0_offset=1):
    return patient_enroll(
        screening_id=screening.pk,
        enrollment_date=SCREENING_DAY,
        first_dose_date=SCREENING_DAY + timedelta(days=day0_offset),
        weight_kg=Decimal(weight),
        prescribed_dose_mg=Decimal(dose),
        user=user,
    )


def test_eligible_screening_is_numbered_and_kept_with_reasons(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    assert screening.screening_number == "BCH-S001"
    assert screening.eligibility == "eligible"
    assert screening.status == Screening.Status.SCREENING
    codes = [c["code"] for c in screening.eligibility_detail["hlh2004"]["criteria"]]
    assert len(codes) == 9  # the molecular criterion, then the 8 clinical ones
    assert screening.eligibility_detail["hlh2004"]["criteria_met"] == 7
    assert screening.history.count() == 1
    assert screening.history.first().history_user == clinician


def test_prior_etoposide_is_a_screen_failure_naming_the_criterion(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(prior_hlh_chemotherapy=True), user=clinician)
    assert screening.status == Screening.Status.SCREEN_FAILURE
    assert screening.eligibility == "ineligible"
    failed = [c["label"] for c in screening.eligibility_detail["failed"]]
    assert len(failed) == 1 and "chemotherapy" in failed[0]


def test_enrollment_assigns_subject_number_derived_values_and_calendar(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    patient = enroll(screening, clinician)
    assert patient.subject_number == "BCH-001"
    assert patient.expected_dose_mg == Decimal("5.00")
    assert patient.dose_deviation is False
    # ANC 0.8 (not < 0.5), sCD25 30,000 > 25,000, ferritin 3,200 > 2,000, IFN-gamma 150 <= 10 x 8? no: 150 > 80.
    assert patient.risk_group == "high"
    assert patient.etiology == "ebv"
    assert patient.ebv_subtype == "first_infection"
    visits = Visit.objects.filter(patient=patient).order_by("planned_day")
    assert visits.count() == 17
    day7 = visits.get(definition__code="D7")
    assert day7.planned_date == patient.first_dose_date + timedelta(days=7)
    assert (day7.window_start, day7.window_end) == (
        patient.first_dose_date + timedelta(days=6),
        patient.first_dose_date + timedelta(days=8),
    )
    screening.refresh_from_db()
    assert screening.status == Screening.Status.ENROLLED


def test_ineligible_child_cannot_be_enrolled_by_the_service(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(malignancy=True), user=clinician)
    with pytest.raises(EnrollmentRefused, match="Malignancy"):
        enroll(screening, clinician)
    assert not Patient.objects.exists()


def test_incomplete_screening_cannot_be_enrolled(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(new_diagnosis=None), user=clinician)
    assert screening.eligibility == "incomplete"
    with pytest.raises(EnrollmentRefused, match="incomplete"):
        enroll(screening, clinician)


def test_database_refuses_a_patient_row_for_an_ineligible_screening(site_a, clinician):
    from django.db import IntegrityError, transaction

    screening = screening_create(site=site_a, data=eligible_data(malignancy=True), user=clinician)
    with pytest.raises(IntegrityError, match="ineligible child cannot be enrolled"), transaction.atomic():
        Patient.objects.create(
            screening=screening,
            site=site_a,
            subject_number="BCH-999",
            enrollment_date=SCREENING_DAY,
            first_dose_date=SCREENING_DAY,
            enrollment_weight_kg=Decimal("15"),
            prescribed_dose_mg=Decimal("5"),
            expected_dose_mg=Decimal("5"),
            dose_band_label="x",
            etiology="ebv",
            ebv_subtype="first_infection",
            risk_group="high",
        )


def test_subject_numbers_are_never_reused(site_a, clinician):
    first = enroll(screening_create(site=site_a, data=eligible_data(), user=clinician), clinician)
    first.screening.site.refresh_from_db()
    second = enroll(screening_create(site=site_a, data=eligible_data(initials="AB"), user=clinician), clinician)
    assert (first.subject_number, second.subject_number) == ("BCH-001", "BCH-002")


def test_prescribed_dose_off_band_is_saved_and_flagged(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(weight_kg=Decimal("10.0")), user=clinician)
    patient = enroll(screening, clinician, weight="10.0", dose="5")
    assert patient.expected_dose_mg == Decimal("2.50")
    assert patient.prescribed_dose_mg == Decimal("5.00")
    assert patient.dose_deviation is True


def test_recompute_is_idempotent_and_follows_baseline_changes(site_a, clinician):
    patient = enroll(screening_create(site=site_a, data=eligible_data(), user=clinician), clinician)
    rows = patient.history.count()
    assert patient_derived_recompute(patient_id=patient.pk) is False
    assert patient.history.count() == rows
    # A correction of baseline data that drops three risk items moves the child to low risk.
    Screening.objects.filter(pk=patient.screening_id).update(
        scd25_value=Decimal("9000"), ferritin_ug_l=Decimal("1500"), ifn_gamma_pg_ml=Decimal("20")
    )
    assert patient_derived_recompute(patient_id=patient.pk) is True
    assert patient_derived_recompute(patient_id=patient.pk) is False
    patient.refresh_from_db()
    assert patient.risk_group == "low"
    assert patient.history.count() == rows + 1
