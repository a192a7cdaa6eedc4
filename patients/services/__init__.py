"""Writes of the patients app, one module per part of the CRF."""

from patients.services.enrollment import (
    EnrollmentRefused,
    eligibility_compute,
    patient_derived_recompute,
    patient_enroll,
    screening_create,
    screening_update,
)

__all__ = [
    "EnrollmentRefused",
    "eligibility_compute",
    "patient_derived_recompute",
    "patient_enroll",
    "screening_create",
    "screening_update",
]
