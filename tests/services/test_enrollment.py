"""Screening and enrollment services on PostgreSQL (protocol sections 3-7)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from assessments.models import Visit
from patients.models import Patient, Screening
from patients.services import EnrollmentRefused, patient_derived_recompute, patient_enroll, screening_create
from tests.conftest import SCREENING_DAY, eligible_data

pytestmark = pytest.mark.django_db


def enroll(screening, user, weight="15.0", dose="5", day0_offset=1, today=None):
    return patient_enroll(
        screening_id=screening.pk,
        enrollment_date=SCREENING_DAY,
        first_dose_date=SCREENING_DAY + timedelta(days=day0_offset),
        enrollment_weight_kg=Decimal(weight),
        prescribed_dose_mg=Decimal(dose),
        user=user,
        today=today,
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
    with pytest.raises(EnrollmentRefused, match="Incomplete: data missing"):
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


def stored() -> dict:
    """What an enrollment writes: the patient, its calendar, its queries, the history and the counters."""
    from crf.models import DataQuery
    from trial.models import Site

    return {
        "patients": Patient.objects.count(),
        "visits": Visit.objects.count(),
        "queries": DataQuery.objects.count(),
        "screening_history": Screening.history.count(),
        "subject_sequences": sorted(Site.objects.values_list("last_subject_sequence", flat=True)),
        "screening_statuses": sorted(Screening.objects.values_list("status", flat=True)),
    }


@pytest.mark.parametrize(
    ("change", "field", "code", "message"),
    [
        pytest.param(
            {"dose": "90"},
            "prescribed_dose_mg",
            "dose_above_maximum",
            "Prescribed dose must be at most 50 mg twice daily (entered 90 mg)",
            id="90 mg",
        ),
        pytest.param(
            {"weight": "400"},
            "enrollment_weight_kg",
            "weight_above_maximum",
            "Weight at enrollment must be at most 150 kg (entered 400 kg).",
            id="400 kg (was an IntegrityError)",
        ),
        pytest.param(
            {"day0_offset": 400},
            "first_dose_date",
            "first_dose_after_screening_window",
            "Day 0 must be within 7 days of screening (2026-03-02), i.e. on or before 2026-03-09",
            id="day 0 400 days after screening",
        ),
        pytest.param(
            {"dose": "0.001"},
            "prescribed_dose_mg",
            "max_decimal_places",
            "Prescribed dose (mg, twice daily): Ensure that there are no more than 2 decimal places.",
            id="0.001 mg would be stored as 0 (an IntegrityError)",
        ),
    ],
)
def test_impossible_enrollment_is_a_field_error_and_stores_nothing(site_a, clinician, change, field, code, message):
    from django.core.exceptions import ValidationError

    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    before = stored()
    with pytest.raises(ValidationError) as refused:
        enroll(screening, clinician, **change)
    (error,) = refused.value.error_dict[field]
    assert (error.code, list(refused.value.error_dict)) == (code, [field])
    assert error.message.startswith(message)
    assert stored() == before
    # Corrected, the same child enrolls: the refusal left nothing half-written behind.
    assert enroll(screening, clinician).subject_number == "BCH-001"


def test_day0_exactly_seven_days_after_screening_enrolls_and_eight_does_not(site_a, clinician):
    from django.core.exceptions import ValidationError

    # Section 7: "Screening / baseline | -7 to 0".
    late = screening_create(site=site_a, data=eligible_data(), user=clinician)
    with pytest.raises(ValidationError, match="within 7 days of screening"):
        enroll(late, clinician, day0_offset=8)
    assert enroll(late, clinician, day0_offset=7).first_dose_date == SCREENING_DAY + timedelta(days=7)


def test_enrollment_date_after_the_sites_today_is_refused(site_a, clinician):
    from django.core.exceptions import ValidationError

    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    with pytest.raises(ValidationError) as refused:
        enroll(screening, clinician, today=SCREENING_DAY - timedelta(days=1))
    assert [e.code for e in refused.value.error_dict["enrollment_date"]] == ["enrollment_date_in_future"]
    assert enroll(screening, clinician, today=SCREENING_DAY).enrollment_date == SCREENING_DAY


def test_aged_18_at_consent_is_refused_naming_the_limit(site_a, clinician):
    # Section 3, inclusion 4: "Age < 18 years at consent": the 18th birthday falls between
    # screening (aged 17) and the consent two days later.
    birth = SCREENING_DAY.replace(year=SCREENING_DAY.year - 18) + timedelta(days=1)
    data = eligible_data(date_of_birth=birth, consent_date=SCREENING_DAY + timedelta(days=1))
    screening = screening_create(site=site_a, data=data, user=clinician)
    before = stored()
    with pytest.raises(EnrollmentRefused, match=r"Age < 18 years at consent: Aged 18 or more at consent"):
        enroll(screening, clinician, day0_offset=2)
    assert stored() == before
