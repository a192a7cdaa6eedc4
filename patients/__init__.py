"""Screening, eligibility, consent, enrollment, etiology, risk and dosing."""
