"""A patient with data up to a given study day, and a media root per test."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from assessments.models import CtcaeTerm, Visit
from assessments.services.adverse_events import adverse_event_record
from assessments.services.labs import Measurement, lab_panel_save
from assessments.services.responses import response_assess_patient
from patients.services.treatment import dose_record, follow_up_record, treatment_end_record
from tests.conftest import DAY0, enroll_child

SHANGHAI = ZoneInfo("Asia/Shanghai")

LABS = {
    "TEMP": ("36.8", "°C"),
    "NEUT": ("2.1", "10^9/L"),
    "PLAT": ("210", "10^9/L"),
    "HGB": ("112", "g/L"),
    "FIBRINO": ("2.4", "g/L"),
    "SCD25": ("3100", "pg/mL"),
    "FERRITIN": ("320", "µg/L"),
    "TRIG": ("1.3", "mmol/L"),
    "SPLEEN": ("0", "cm"),
    "ALT": ("48", "U/L"),
}


def record_labs(patient, visit: Visit, user, values=None):
    when = datetime.combine(DAY0 + timedelta(days=visit.planned_day), time(8), tzinfo=SHANGHAI)
    values = values or LABS
    measurements = {k: Measurement(Decimal(v), unit, when) for k, (v, unit) in values.items()}
    return lab_panel_save(
        visit=visit, sampled_at=when, values=measurements, panel_data={"cns_symptoms": False}, user=user
    )


def build_patient(site, user, *, through_day: int, doses: bool = True, **overrides):
    """An enrolled child with labs at every visit up to `through_day`, the dose log, an AE,
    the response assessments, the end of treatment and follow-up."""
    patient = enroll_child(site, user, **overrides)
    for visit in Visit.objects.filter(patient=patient, planned_day__gte=1, planned_day__lte=through_day):
        record_labs(patient, visit, user)
    if doses:
        for day in range(1, min(through_day, 28) + 1):
            for slot, hour in (("am", 8), ("pm", 20)):
                dose_record(
                    patient=patient,
                    treatment_day=day,
                    slot=slot,
                    status="given",
                    administered_at=datetime.combine(DAY0 + timedelta(days=day - 1), time(hour), tzinfo=SHANGHAI),
                    amount_mg=Decimal("5"),
                    reason="",
                    user=user,
                )
    adverse_event_record(
        patient=patient,
        data={
            "term": CtcaeTerm.objects.get(code="IN102"),
            "other_specify": "",
            "grade": 3,
            "onset_date": DAY0 + timedelta(days=3),
            "resolution_date": None,
            "serious": False,
            "relationship": "possible",
            "action_taken": "none",
            "outcome": "recovering",
            "description": "发热 febrile neutropenia",
        },
        user=user,
    )
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=through_day))
    if through_day >= 28:
        treatment_end_record(
            patient=patient, outcome="completed", reason="", last_dose_date=DAY0 + timedelta(days=27), user=user
        )
    if through_day >= 56:
        follow_up_record(
            patient=patient, assessed_on=DAY0 + timedelta(days=56), vital_status="alive", hlh_relapse=False, user=user
        )
    patient.refresh_from_db()
    return patient


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
