"""Models of the assessments app, one module per noun of the CRF."""

from assessments.models.adverse_events import AdverseEvent, CtcaeTerm, LabAESuggestion
from assessments.models.labs import LabPanel, LabResult, SupportiveCare
from assessments.models.responses import PatientEndpoints, ResponseAssessment
from assessments.models.visits import Visit

__all__ = [
    "AdverseEvent",
    "CtcaeTerm",
    "LabAESuggestion",
    "LabPanel",
    "LabResult",
    "PatientEndpoints",
    "ResponseAssessment",
    "SupportiveCare",
    "Visit",
]
