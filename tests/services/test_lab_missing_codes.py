"""Missing-data codes of a lab value through the one write path (assessments/services/labs.py):
a value XOR a code with its reason; refusals name the field with a stable code and store
nothing; the history keeps the code and the reason; the table refuses what the service would."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from assessments.models import LabPanel, LabResult, Visit
from assessments.models.labs import MissingCode
from assessments.services.labs import Measurement, lab_panel_save, missing_code_problem
from tests.conftest import DAY0
from tests.services.test_responses import NORMAL

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
TODAY = DAY0 + timedelta(days=40)
WHEN = datetime.combine(DAY0 + timedelta(days=7), time(8), tzinfo=UTC)
REASON = "Analyser out of order"


def coded(code="not_done", reason=REASON, value=None):
    return Measurement(value=value, unit="µg/L", sampled_at=WHEN, missing=code, missing_reason=reason)


def number(value):
    return Measurement(value=Decimal(str(value)), unit="µg/L", sampled_at=WHEN)


def save(patient, user, values, **kwargs):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    return lab_panel_save(visit=visit, sampled_at=WHEN, values=values, panel_data={}, user=user, today=TODAY, **kwargs)


@pytest.mark.parametrize("code", [c for c, _ in MissingCode.choices])
def test_each_code_is_stored_with_its_reason_and_no_value_no_flag(patient, clinician, code):
    outcome = save(patient, clinician, {"FERRITIN": coded(code=code, reason=f"  {REASON}  ")})
    result = LabResult.objects.get(panel=outcome.panel, analyte="FERRITIN")
    assert (result.value, result.missing, result.missing_reason) == (None, code, REASON)  # the reason trimmed
    assert (result.flag, result.reference_low, result.reference_high, result.reference_source) == ("", None, None, "")
    assert outcome.flagged == []


@pytest.mark.parametrize(
    ("measurement", "code", "message"),
    [
        (coded(reason=""), "reason_required", "Ferritin: a missing-data code needs its reason."),
        (coded(reason="   "), "reason_required", "Ferritin: a missing-data code needs its reason."),
        (coded(value=Decimal("300")), "value_and_code", "Ferritin: enter a value or a missing-data code, not both."),
        (
            coded(code="", reason=REASON),
            "reason_without_code",
            "Ferritin: a reason is kept only with a missing-data code.",
        ),
        (
            coded(code="lost"),
            "invalid_choice",
            "Ferritin: choose a missing-data code of not_done, not_applicable, unknown, sample_lost.",
        ),
        (coded(code="", reason=""), "required", "Ferritin: enter a value or a missing-data code."),
        (coded(reason="x" * 301), "max_length", "Ferritin: the reason has at most 300 characters."),
    ],
)
def test_a_refused_code_names_the_value_with_a_stable_code_and_stores_nothing(
    patient, clinician, measurement, code, message
):
    with pytest.raises(ValidationError) as caught:
        save(patient, clinician, {"NEUT": Measurement(Decimal("2.1"), "10^9/L", WHEN), "FERRITIN": measurement})
    [error] = caught.value.error_dict["FERRITIN"]
    assert (error.code, error.message) == (code, message)
    assert not LabPanel.objects.filter(patient=patient).exists()
    assert not LabResult.objects.filter(patient=patient).exists()


def test_the_reason_limit_is_inclusive():
    # 300 characters are kept, 301 refused (the boundary on both sides).
    assert missing_code_problem(label="Ferritin", has_value=False, missing="unknown", missing_reason="x" * 300) is None
    assert missing_code_problem(label="Ferritin", has_value=False, missing="unknown", missing_reason="x" * 301)


def test_a_value_can_be_corrected_to_a_code_and_back_each_change_in_the_history(patient, clinician):
    outcome = save(patient, clinician, {"FERRITIN": number(1800)})
    panel = outcome.panel
    save(patient, clinician, {"FERRITIN": coded()}, expected_version=panel.version, reason_for_change="Haemolysed")
    result = LabResult.objects.get(panel=panel, analyte="FERRITIN")
    assert (result.value, result.missing, result.missing_reason, result.flag) == (None, "not_done", REASON, "")
    panel.refresh_from_db()
    save(patient, clinician, {"FERRITIN": number(900)}, expected_version=panel.version, reason_for_change="Repeated")
    result.refresh_from_db()
    assert (result.value, result.missing, result.missing_reason) == (Decimal("900.0000"), "", "")
    history = list(result.history.order_by("history_date").values_list("value", "missing", "missing_reason"))
    assert history == [
        (Decimal("1800.0000"), "", ""),
        (None, "not_done", REASON),
        (Decimal("900.0000"), "", ""),
    ]


def test_an_unchanged_code_writes_no_new_history_row(patient, clinician):
    panel = save(patient, clinician, {"FERRITIN": coded()}).panel
    save(patient, clinician, {"FERRITIN": coded()}, expected_version=panel.version, reason_for_change="Notes only")
    assert LabResult.objects.get(panel=panel).history.count() == 1


@pytest.mark.parametrize(
    ("value", "missing", "reason"),
    [
        (Decimal("1"), "not_done", REASON),  # both
        (None, "", ""),  # neither
        (None, "not_done", ""),  # a code without its reason
        (Decimal("1"), "", REASON),  # a reason without a code
    ],
)
def test_the_table_refuses_what_the_service_refuses(patient, clinician, value, missing, reason):
    panel = save(patient, clinician, {"NEUT": Measurement(Decimal("2.1"), "10^9/L", WHEN)}).panel
    with pytest.raises(IntegrityError), transaction.atomic():
        LabResult.objects.create(
            panel=panel,
            patient=patient,
            analyte="FERRITIN",
            value=value,
            unit="µg/L",
            sampled_at=WHEN,
            missing=missing,
            missing_reason=reason,
        )


# The response rule through the service: the stored reasons (protocol section 9, decision 12.4).
SHANGHAI = ZoneInfo("Asia/Shanghai")


def record_day(patient, user, code, day, *, ferritin=None, blank=()):
    from assessments.services.labs import lab_panel_save as save_panel

    when = datetime.combine(DAY0 + timedelta(days=day), time(8), tzinfo=SHANGHAI)
    values = {k: Measurement(Decimal(v), unit, when) for k, (v, unit) in NORMAL.items() if k not in blank}
    if ferritin is not None:
        values["FERRITIN"] = Measurement(None, "µg/L", when, missing=ferritin, missing_reason=REASON)
    return save_panel(
        visit=Visit.objects.get(patient=patient, definition__code=code),
        sampled_at=when,
        values=values,
        panel_data={"cns_symptoms": False},
        user=user,
        today=TODAY,
    )


def test_a_coded_ferritin_is_missing_for_the_response_and_named_with_code_and_reason(patient, clinician):
    from assessments.models import ResponseAssessment
    from assessments.services.responses import response_assess_patient

    record_day(patient, clinician, "D7", 7, ferritin="sample_lost")
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=7))
    day7 = ResponseAssessment.objects.get(patient=patient, study_day=7)
    assert (day7.computed_status, day7.computed_detail["missing"]) == ("not_assessable", ["ferritin"])
    assert day7.computed_detail["decided_by"] == f"Missing at the assessment day: Ferritin (Sample lost: {REASON})."
    ferritin = next(m for m in day7.computed_detail["markers"] if m["marker"] == "ferritin")
    assert (ferritin["current"], ferritin["normal"]) == ("Sample lost", None)


def test_an_earlier_value_of_the_window_is_used_before_a_code_as_before_a_blank(patient, clinician):
    # Decision 12.4: "the one sampled that day, else the latest in the visit window before it" -
    # a code is not a value. Day 6 has every value; day 7 (window day 6 to 8) has ferritin coded.
    from assessments.models import ResponseAssessment
    from assessments.services.responses import response_assess_patient

    record_day(patient, clinician, "D6", 6)
    record_day(patient, clinician, "D7", 7, ferritin="not_done")
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=7))
    day7 = ResponseAssessment.objects.get(patient=patient, study_day=7)
    ferritin = next(m for m in day7.computed_detail["markers"] if m["marker"] == "ferritin")
    assert (ferritin["current"], ferritin["normal"]) == ("320 µg/L", True)


def test_a_coded_value_is_recorded_for_the_visits_completeness(patient, clinician):
    from assessments.selectors import visit_rows

    record_day(patient, clinician, "D7", 7, ferritin="not_done")
    record_day(patient, clinician, "D14", 14, blank=("FERRITIN",))
    rows = {r.visit.definition.code: r for r in visit_rows(patient=patient, today=TODAY)}
    assert "FERRITIN" not in rows["D7"].missing  # the site answered: recorded, though missing for the response
    assert "FERRITIN" in rows["D14"].missing  # a blank one is missing for both
