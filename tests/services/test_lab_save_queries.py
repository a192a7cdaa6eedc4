"""A lab panel save costs the same SQL statements whatever the number of values (no per-value queries)."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import LabResult, Visit
from assessments.services.labs import Measurement, lab_panel_save
from tests.conftest import DAY0

pytestmark = pytest.mark.django_db

TODAY = DAY0 + timedelta(days=40)

# Thirty values a bedside panel holds, inside their reference ranges where the site has one.
THIRTY = {
    "TEMP": ("37.0", "°C"),
    "WEIGHT": ("15.0", "kg"),
    "HGB": ("120", "g/L"),
    "WBC": ("6.0", "10^9/L"),
    "NEUT": ("3.0", "10^9/L"),
    "PLAT": ("250", "10^9/L"),
    "TRIG": ("1.2", "mmol/L"),
    "FIBRINO": ("3.0", "g/L"),
    "FERRITIN": ("100", "µg/L"),
    "SCD25": ("1500", "pg/mL"),
    "NKACT": ("20", "%"),
    "CD107A": ("15", "%"),
    "IFNG": ("5", "pg/mL"),
    "IL6": ("4", "pg/mL"),
    "IL10": ("3", "pg/mL"),
    "TNFA": ("6", "pg/mL"),
    "IL18": ("200", "pg/mL"),
    "ALT": ("25", "U/L"),
    "AST": ("30", "U/L"),
    "GGT": ("20", "U/L"),
    "ALB": ("40", "g/L"),
    "BILI": ("8", "µmol/L"),
    "BILIND": ("5", "µmol/L"),
    "BILDIR": ("3", "µmol/L"),
    "CREAT": ("35", "µmol/L"),
    "UREA": ("4", "mmol/L"),
    "CRCL": ("110", "mL/min"),
    "GFR": ("110", "mL/min/1.73m²"),
    "INR": ("1.0", "ratio"),
    "SPLEEN": ("0", "cm"),
}
FIVE = ("TEMP", "WEIGHT", "HGB", "NEUT", "PLAT")


def _values(codes, day: int, *, bump: str = "0") -> dict[str, Measurement]:
    when = datetime.combine(DAY0 + timedelta(days=day), time(8), tzinfo=ZoneInfo("UTC"))
    return {
        code: Measurement(value=Decimal(THIRTY[code][0]) + Decimal(bump), unit=THIRTY[code][1], sampled_at=when)
        for code in codes
    }


def _statements(patient, user, code: str, day: int, codes, **kwargs) -> int:
    visit = Visit.objects.get(patient=patient, definition__code=code)
    values = _values(codes, day, bump=kwargs.pop("bump", "0"))
    with CaptureQueriesContext(connection) as captured:
        lab_panel_save(
            visit=visit,
            sampled_at=next(iter(values.values())).sampled_at,
            values=values,
            panel_data={},
            user=user,
            today=TODAY,
            **kwargs,
        )
    return len(captured)


def test_a_new_panel_of_30_values_costs_the_statements_of_5(patient, clinician):
    _statements(patient, clinician, "D5", 5, FIVE)  # the first save queues the patient's response assessment
    five = _statements(patient, clinician, "D6", 6, FIVE)
    thirty = _statements(patient, clinician, "D7", 7, tuple(THIRTY))
    assert LabResult.objects.filter(panel__visit__definition__code="D7").count() == 30
    assert thirty == five, (five, thirty)


def test_a_correction_of_30_values_costs_the_statements_of_5(patient, clinician):
    _statements(patient, clinician, "D6", 6, FIVE)
    _statements(patient, clinician, "D7", 7, tuple(THIRTY))
    kwargs = {"expected_version": 1, "reason_for_change": "Re-read the lab report", "bump": "0.1"}
    five = _statements(patient, clinician, "D6", 6, FIVE, **dict(kwargs))
    thirty = _statements(patient, clinician, "D7", 7, tuple(THIRTY), **dict(kwargs))
    alt = LabResult.objects.get(panel__visit__definition__code="D7", analyte="ALT")
    assert alt.value == Decimal("25.1")
    assert thirty == five, (five, thirty)
    # Each corrected value still has its own history row, with the author and the reason.
    latest = alt.history.order_by("-history_id").first()
    assert (latest.history_type, latest.value, latest.history_user_id) == ("~", Decimal("25.1"), clinician.pk)
    assert latest.history_change_reason == "Re-read the lab report"
    assert latest.history_user_roles
