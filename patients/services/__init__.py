"""Writes of the patients app, one module per part of the CRF."""

from patients.services.enrollment import (
    EnrollmentRefused,
    eligibility_compute,
    patient_derived_recompute,
    patient_enroll,
    screening_create,
    screening_update,
)
from patients.services.treatment import (
    death_record,
    dose_given_now,
    dose_record,
    doses_record_new,
    follow_up_record,
    subsequent_therapy_record,
    subsequent_therapy_update,
    treatment_end_record,
    weight_band_check,
)

__all__ = [
    "EnrollmentRefused",
    "death_record",
    "dose_given_now",
    "dose_record",
    "doses_record_new",
    "eligibility_compute",
    "follow_up_record",
    "patient_derived_recompute",
    "patient_enroll",
    "screening_create",
    "screening_update",
    "subsequent_therapy_record",
    "subsequent_therapy_update",
    "treatment_end_record",
    "weight_band_check",
]
