"""Writes of the patients app, one module per part of the CRF."""

from patients.services.enrollment import (
    EnrollmentRefused,
    derived_shown,
    eligibility_compute,
    eligibility_shown,
    patient_derived_recompute,
    patient_enroll,
    screening_create,
    screening_update,
)
from patients.services.treatment import (
    DOSE_INTERVAL_SHORT,
    DoseAlreadyRecorded,
    death_record,
    dose_given_now,
    dose_record,
    doses_record_new,
    follow_up_record,
    needs_interval_confirmation,
    subsequent_therapy_record,
    subsequent_therapy_update,
    treatment_end_record,
    weight_band_check,
)

__all__ = [
    "DOSE_INTERVAL_SHORT",
    "DoseAlreadyRecorded",
    "EnrollmentRefused",
    "death_record",
    "derived_shown",
    "dose_given_now",
    "dose_record",
    "doses_record_new",
    "eligibility_compute",
    "eligibility_shown",
    "follow_up_record",
    "needs_interval_confirmation",
    "patient_derived_recompute",
    "patient_enroll",
    "screening_create",
    "screening_update",
    "subsequent_therapy_record",
    "subsequent_therapy_update",
    "treatment_end_record",
    "weight_band_check",
]
