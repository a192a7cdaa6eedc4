"""Writes of the assessments app, one module per part of the CRF."""

from assessments.services.visits import visits_plan_for_patient

__all__ = ["visits_plan_for_patient"]
