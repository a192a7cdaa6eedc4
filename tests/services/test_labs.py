"""Lab panel service (protocol section 8): units kept, limits refused, ranges flagged, history kept."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from assessments.models import LabResult, Visit
from assessments.services.labs import Measurement, lab_panel_save, supportive_care_record
from assessments.services.visits import visit_unscheduled_add
from tests.conftest import DAY0
from trial.versioning import ConcurrentEditError

pytestmark = pytest.mark.django_db

TODAY = DAY0 + timedelta(days=40)
UTC = ZoneInfo("UTC")


def at(day: int, hour: int = 8) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=day), time(hour), tzinfo=UTC)


def m(value, unit, day=7):
    return Measurement(value=Decimal(str(value)), unit=unit, sampled_at=at(day))


def visit(patient, code):
    return Visit.objects.get(patient=patient, definition__code=code)


def save(patient, code, values, *, day=7, user=None, **kwargs):
    return lab_panel_save(
        visit=visit(patient, code), sampled_at=at(day), values=values, panel_data={}, user=user, today=TODAY, **kwargs
    )


def test_values_are_stored_with_unit_and_flagged_against_the_reference_range(patient, clinician, all_ages_ranges_only):
    outcome = save(
        patient,
        "D7",
        {"FERRITIN": m(1800, "µg/L"), "FIBRINO": m("2.0", "g/L"), "ALT": m(41, "U/L"), "HGB": m("10.5", "g/dL")},
        user=clinician,
    )
    rows = {r.analyte: r for r in LabResult.objects.filter(panel=outcome.panel)}
    assert (rows["FERRITIN"].flag, rows["FERRITIN"].reference_high) == ("H", Decimal("500.000"))
    assert rows["FIBRINO"].flag == "N"  # 2.0 is the lower limit itself
    assert rows["ALT"].flag == "H"  # ALT <= 40 U/L
    # Hemoglobin stays in g/dL as reported; the 110-160 g/L range is converted to judge it.
    assert (rows["HGB"].value, rows["HGB"].unit, rows["HGB"].flag) == (Decimal("10.5000"), "g/dL", "L")
    assert rows["HGB"].reference_low == Decimal("11.000")
    assert {r.analyte for r in outcome.flagged} == {"FERRITIN", "ALT", "HGB"}


def test_scd25_in_u_per_ml_is_kept_unflagged_without_a_range_in_that_unit(patient, clinician):
    outcome = save(patient, "D7", {"SCD25": m(3000, "U/mL")}, user=clinician)
    result = outcome.panel.results.get()
    assert (result.unit, result.flag, result.reference_high) == ("U/mL", "", None)


@pytest.mark.parametrize(
    ("code", "value", "unit", "message"),
    [
        ("TEMP", 60, "°C", "Maximum temperature must be at most 45 °C"),
        ("PLAT", -1, "10^9/L", "Platelets must be at least 0 10^9/L"),
        ("HGB", 30, "g/dL", "Hemoglobin must be between 1 and 25 g/dL"),
        ("WEIGHT", 300, "kg", "Weight must be at most 150 kg"),
        ("SCD25", 5, "ng/mL", "unit ng/mL is not accepted"),
    ],
)
def test_impossible_values_are_refused_naming_field_and_limit(patient, clinician, code, value, unit, message):
    with pytest.raises(ValidationError) as caught:
        save(patient, "D7", {code: m(value, unit)}, user=clinician)
    assert message in " ".join(caught.value.message_dict[code])
    assert not LabResult.objects.exists()


def test_future_and_pre_enrollment_sampling_dates_are_refused(patient, clinician):
    with pytest.raises(ValidationError, match="cannot be in the future"):
        lab_panel_save(
            visit=visit(patient, "D7"), sampled_at=at(50), values={}, panel_data={}, user=clinician, today=TODAY
        )
    with pytest.raises(ValidationError, match="cannot be before"):
        lab_panel_save(
            visit=visit(patient, "D7"), sampled_at=at(-10), values={}, panel_data={}, user=clinician, today=TODAY
        )


def test_visit_outside_its_window_is_saved_and_flagged(patient, clinician):
    # Day 7 (+/-1): sampled on day 9, one day after the last day of the window (day 8).
    lab_panel_save(
        visit=visit(patient, "D7"),
        sampled_at=at(9),
        values={"TEMP": m("37.0", "°C", day=9)},
        panel_data={},
        user=clinician,
        today=TODAY,
    )
    v = visit(patient, "D7")
    assert v.visit_date == DAY0 + timedelta(days=9)
    assert v.out_of_window is True
    assert "1 day(s) after the window" in v.window_note


def test_each_new_value_and_the_planned_calendar_have_their_history_rows(patient, clinician):
    outcome = save(patient, "D7", {"FERRITIN": m(1800, "µg/L"), "PLAT": m(90, "10^9/L")}, user=clinician)
    rows = LabResult.history.filter(panel_id=outcome.panel.pk).values_list("analyte", "history_user", "history_type")
    assert sorted(rows) == [("FERRITIN", clinician.pk, "+"), ("PLAT", clinician.pk, "+")]
    assert {r.history_change_reason for r in LabResult.history.filter(panel_id=outcome.panel.pk)} == {
        "Lab value entered"
    }
    planned = Visit.history.filter(patient_id=patient.pk, history_type="+")
    assert planned.count() == Visit.objects.filter(patient=patient).count() == 17
    assert {h.history_change_reason for h in planned} == {"Planned at enrollment"}


def test_correction_needs_version_and_reason_and_keeps_value_history(patient, clinician, coordinator):
    first = save(patient, "D7", {"FERRITIN": m(1800, "µg/L")}, user=clinician)
    with pytest.raises(ValidationError, match="reason is required"):
        save(patient, "D7", {"FERRITIN": m(1600, "µg/L")}, user=coordinator, expected_version=1)
    save(
        patient,
        "D7",
        {"FERRITIN": m(1600, "µg/L")},
        user=coordinator,
        expected_version=first.panel.version,
        reason_for_change="Transcription error",
    )
    result = LabResult.objects.get(panel=first.panel, analyte="FERRITIN")
    history = list(result.history.order_by("history_date").values_list("value", "history_change_reason"))
    assert history == [(Decimal("1800.0000"), "Lab value entered"), (Decimal("1600.0000"), "Transcription error")]
    # A stale version is refused and nothing is overwritten.
    with pytest.raises(ConcurrentEditError):
        save(
            patient,
            "D7",
            {"FERRITIN": m(1500, "µg/L")},
            user=clinician,
            expected_version=1,
            reason_for_change="Late edit",
        )
    assert LabResult.objects.get(pk=result.pk).value == Decimal("1600")


def test_clearing_a_value_deletes_it_with_history(patient, clinician):
    first = save(patient, "D7", {"FERRITIN": m(1800, "µg/L"), "ALT": m(30, "U/L")}, user=clinician)
    save(
        patient,
        "D7",
        {"ALT": m(30, "U/L")},
        user=clinician,
        expected_version=first.panel.version,
        reason_for_change="Wrong row",
    )
    assert list(first.panel.results.values_list("analyte", flat=True)) == ["ALT"]
    assert LabResult.history.filter(analyte="FERRITIN", history_type="-").count() == 1


def test_supportive_care_validation(patient, clinician):
    with pytest.raises(ValidationError, match="Choose the transfused product"):
        supportive_care_record(
            patient=patient, kind="transfusion", product="", given_on=DAY0, detail="", user=clinician, today=TODAY
        )
    with pytest.raises(ValidationError, match="future"):
        supportive_care_record(
            patient=patient,
            kind="gcsf",
            product="",
            given_on=TODAY + timedelta(days=1),
            detail="",
            user=clinician,
            today=TODAY,
        )
    record = supportive_care_record(
        patient=patient,
        kind="transfusion",
        product="platelets",
        given_on=DAY0,
        detail="1 U",
        user=clinician,
        today=TODAY,
    )
    assert record.history.count() == 1


def test_unscheduled_visit_validation(patient, clinician):
    with pytest.raises(ValidationError, match="before enrollment"):
        visit_unscheduled_add(patient=patient, visit_date=date(2020, 1, 1), reason="fever", user=clinician, today=TODAY)
    visit_ = visit_unscheduled_add(
        patient=patient, visit_date=DAY0 + timedelta(days=10), reason="Fever", user=clinician, today=TODAY
    )
    assert (visit_.unscheduled, visit_.planned_day, visit_.name) == (True, 10, "Unscheduled (day 10)")


def test_a_visit_date_changed_by_a_lab_correction_keeps_the_users_reason(patient, clinician, coordinator):
    first = save(patient, "D7", {"FERRITIN": m(1800, "µg/L")}, user=clinician)
    save(
        patient,
        "D7",
        {"FERRITIN": m(1800, "µg/L", day=8)},
        day=8,
        user=coordinator,
        visit_date=DAY0 + timedelta(days=8),
        expected_version=first.panel.version,
        reason_for_change="Sample drawn the next morning",
    )
    rows = visit(patient, "D7").history.order_by("history_date", "history_id")
    assert [(r.visit_date, r.history_change_reason) for r in rows if r.visit_date] == [
        (DAY0 + timedelta(days=7), "Visit date recorded"),
        (DAY0 + timedelta(days=8), "Sample drawn the next morning"),
    ]
