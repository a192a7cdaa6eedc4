"""Study drug, end of treatment, subsequent therapy, follow-up and death services on PostgreSQL (sections 6, 11)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crf.models import DataQuery
from patients.models import Death, DoseAdministration, FollowUp, Patient, SubsequentTherapy, TreatmentEnd
from patients.services import (
    DOSE_INTERVAL_SHORT,
    DoseAlreadyRecorded,
    death_record,
    dose_given_now,
    dose_record,
    doses_record_new,
    follow_up_record,
    patient_enroll,
    screening_create,
    subsequent_therapy_record,
    subsequent_therapy_update,
    treatment_end_record,
    weight_band_check,
)
from tests.conftest import SCREENING_DAY, eligible_data
from trial import clock
from trial.versioning import ConcurrentEditError

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")  # site BCH's time zone
DAY0 = SCREENING_DAY + timedelta(days=1)  # 2026-03-03, long past: all 28 days are history


def enroll(site, user, *, screening_day: date = SCREENING_DAY, day0: date = DAY0, weight="15.0", dose="5") -> Patient:
    data = eligible_data(
        screening_date=screening_day,
        consent_date=screening_day,
        date_of_birth=screening_day - timedelta(days=365 * 4 + 30),
        weight_kg=Decimal(weight),
    )
    screening = screening_create(site=site, data=data, user=user)
    return patient_enroll(
        screening_id=screening.pk,
        enrollment_date=screening_day,
        first_dose_date=day0,
        enrollment_weight_kg=Decimal(weight),
        prescribed_dose_mg=Decimal(dose),
        user=user,
    )


@pytest.fixture
def patient(site_a, clinician) -> Patient:
    return enroll(site_a, clinician)


def at(treatment_day: int, hour: int, minute: int = 0, *, day0: date = DAY0, plus_days: int = 0) -> datetime:
    """A time at the site on treatment day N (day 0 + N - 1 days)."""
    on = day0 + timedelta(days=treatment_day - 1 + plus_days)
    return datetime(on.year, on.month, on.day, hour, minute, tzinfo=SHANGHAI)


def give(patient, user, day=1, slot="am", amount="5", hour=None, **kwargs):
    return dose_record(
        patient=patient,
        treatment_day=day,
        slot=slot,
        status="given",
        administered_at=at(
            day, hour if hour is not None else (8 if slot == "am" else 20), day0=patient.first_dose_date
        ),
        amount_mg=Decimal(amount),
        reason=kwargs.pop("reason", ""),
        user=user,
        **kwargs,
    )


def errors_of(excinfo) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in excinfo.value.message_dict.items()}


# Doses (section 6: "Each administered, missed or held dose is recorded with date and time.")


def test_given_dose_keeps_the_band_dose_and_history(patient, clinician):
    dose = give(patient, clinician, day=1, slot="am")
    assert (dose.status, dose.amount_mg, dose.expected_mg, dose.deviation) == (
        "given",
        Decimal("5"),
        Decimal("5"),
        False,
    )
    assert dose.deviation_note == ""
    assert dose.history.count() == 1
    assert dose.history.first().history_user == clinician
    assert dose.history.first().history_change_reason == "Dose recorded: day 1 am given"


@pytest.mark.parametrize(
    ("amount", "deviation"),
    [("5", False), ("5.00", False), ("5.01", True), ("4.99", True), ("10", True)],
)
def test_a_different_amount_is_saved_and_flagged(patient, clinician, amount, deviation):
    dose = give(patient, clinician, amount=amount)
    assert dose.deviation is deviation
    assert DoseAdministration.objects.get().amount_mg == Decimal(amount)
    if deviation:
        assert dose.deviation_note == (
            f"Protocol deviation: given {Decimal(amount).normalize():f} mg, but the weight band's dose is 5 mg "
            "(protocol section 6)."
        )


def test_expected_dose_is_the_snapshot_taken_when_first_recorded(patient, clinician):
    dose = give(patient, clinician)
    Patient.objects.filter(pk=patient.pk).update(expected_dose_mg=Decimal("10"))
    patient.refresh_from_db()
    updated = give(patient, clinician, amount="5", hour=9, expected_version=1, reason_for_change="Time corrected")
    assert (updated.expected_mg, updated.deviation) == (Decimal("5"), False)
    assert give(patient, clinician, day=2).expected_mg == Decimal("10")
    assert dose.pk == updated.pk


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"administered_at": None}, "administered_at", "enter the date and time the dose was given"),
        ({"amount_mg": None}, "amount_mg", "enter the amount given"),
        ({"amount_mg": Decimal("0")}, "amount_mg", "Amount must be more than 0 mg"),
        ({"amount_mg": Decimal("50.01")}, "amount_mg", "Amount must be at most 50 mg for one dose"),
        ({"amount_mg": Decimal("5.001")}, "amount_mg", "at most 2 decimal places"),
        ({"treatment_day": 0}, "treatment_day", "Treatment day must be between 1 and 28."),
        ({"treatment_day": 29}, "treatment_day", "Treatment day must be between 1 and 28."),
        ({"slot": "noon"}, "slot", "Slot must be one of am, pm."),
        ({"status": "vomited"}, "status", "Status must be given, missed or held."),
        (
            {"administered_at": at(3, 23, 59, plus_days=-1)},
            "administered_at",
            "The morning dose of treatment day 3 must be given on 2026-03-05 (site time), not 2026-03-04 23:59.",
        ),
        (
            {"slot": "pm", "administered_at": at(3, 6, 0, plus_days=1)},
            "administered_at",
            "must be given on 2026-03-05 or before 06:00 on 2026-03-06 (site time)",
        ),
    ],
)
def test_a_dose_that_cannot_be_given_names_the_field_and_limit(patient, clinician, overrides, field, message):
    args = {
        "patient": patient,
        "treatment_day": 3,
        "slot": "am",
        "status": "given",
        "administered_at": at(3, 8),
        "amount_mg": Decimal("5"),
        "reason": "",
        "user": clinician,
    }
    args.update(overrides)
    with pytest.raises(ValidationError) as excinfo:
        dose_record(**args)
    assert message in errors_of(excinfo)[field]
    assert not DoseAdministration.objects.exists()


def test_evening_dose_just_after_midnight_is_that_evenings_dose(patient, clinician):
    dose = dose_record(
        patient=patient,
        treatment_day=3,
        slot="pm",
        status="given",
        administered_at=at(3, 0, 30, plus_days=1),  # 00:30 on 2026-03-06 in Shanghai
        amount_mg=Decimal("5"),
        reason="",
        user=clinician,
    )
    dose.refresh_from_db()
    assert dose.administered_at == datetime(2026, 3, 5, 16, 30, tzinfo=ZoneInfo("UTC"))
    assert dose.treatment_day == 3


def test_site_time_zone_decides_the_date(patient, clinician):
    # 07:30 in Shanghai on treatment day 1 is 23:30 UTC the day before: still day 1's morning dose.
    utc_time = datetime(2026, 3, 2, 23, 30, tzinfo=ZoneInfo("UTC"))
    dose = dose_record(
        patient=patient,
        treatment_day=1,
        slot="am",
        status="given",
        administered_at=utc_time,
        amount_mg=Decimal("5"),
        reason="",
        user=clinician,
    )
    assert dose.pk is not None


def test_a_dose_cannot_be_given_in_the_future(site_a, clinician):
    today = timezone.localdate(timezone=SHANGHAI)
    patient = enroll(site_a, clinician, screening_day=today - timedelta(days=1), day0=today)
    later = timezone.localtime(timezone.now(), SHANGHAI) + timedelta(minutes=30)
    with pytest.raises(ValidationError) as excinfo:
        dose_record(
            patient=patient,
            treatment_day=1,
            slot="pm",
            status="given",
            administered_at=later,
            amount_mg=Decimal("5"),
            reason="",
            user=clinician,
        )
    assert "Time given cannot be in the future" in errors_of(excinfo)["administered_at"]


@pytest.mark.parametrize("status", ["missed", "held"])
def test_missed_or_held_needs_a_reason_and_no_time_or_amount(patient, clinician, status):
    base = {"patient": patient, "treatment_day": 2, "slot": "pm", "status": status, "user": clinician}
    with pytest.raises(ValidationError) as excinfo:
        dose_record(**base, administered_at=at(2, 20), amount_mg=Decimal("5"), reason="")
    errors = errors_of(excinfo)
    assert errors["reason"] == f"A {status} dose needs its reason."
    assert errors["administered_at"] == f"A {status} dose has no time given; leave it empty."
    assert errors["amount_mg"] == f"A {status} dose has no amount; leave it empty."
    dose = dose_record(**base, administered_at=None, amount_mg=None, reason="Vomiting; platelets 8")
    assert (dose.status, dose.deviation, dose.amount_mg, dose.administered_at) == (status, False, None, None)


def test_missed_dose_on_a_future_date_is_refused(site_a, clinician):
    today = timezone.localdate(timezone=SHANGHAI)
    patient = enroll(site_a, clinician, screening_day=today - timedelta(days=1), day0=today)
    with pytest.raises(ValidationError) as excinfo:
        dose_record(
            patient=patient,
            treatment_day=2,
            slot="am",
            status="held",
            administered_at=None,
            amount_mg=None,
            reason="Planned procedure",
            user=clinician,
        )
    assert "is in the future; it cannot be recorded as held yet" in errors_of(excinfo)["treatment_day"]


def test_repeating_the_same_dose_is_harmless_and_a_different_one_is_refused(patient, clinician):
    first = give(patient, clinician)
    again = give(patient, clinician)
    assert again.pk == first.pk and again.version == 1 and first.history.count() == 1
    with pytest.raises(ValidationError) as excinfo:
        give(patient, clinician, hour=9)
    assert errors_of(excinfo)["slot"] == (
        "The morning dose of treatment day 1 (2026-03-03) is already recorded as given at 08:00; nothing changed. "
        "Open it to change it with a reason for change."
    )


def test_a_change_needs_the_version_and_a_reason_and_keeps_both_in_history(patient, clinician, coordinator):
    give(patient, clinician)
    with pytest.raises(ValidationError) as excinfo:
        give(patient, coordinator, amount="2.5", expected_version=1, reason_for_change=" ")
    assert "reason for change is required" in errors_of(excinfo)["reason_for_change"]
    updated = give(patient, coordinator, amount="2.5", expected_version=1, reason_for_change="Half tablet given")
    assert (updated.version, updated.deviation, updated.updated_by) == (2, True, coordinator)
    latest = updated.history.order_by("-history_date").first()
    assert (latest.history_change_reason, latest.amount_mg) == ("Half tablet given", Decimal("2.5"))


def test_a_given_dose_can_be_corrected_to_held(patient, clinician):
    give(patient, clinician, amount="6")
    held = dose_record(
        patient=patient,
        treatment_day=1,
        slot="am",
        status="held",
        administered_at=None,
        amount_mg=None,
        reason="Entered on the wrong patient",
        user=clinician,
        expected_version=1,
        reason_for_change="Correction",
    )
    assert (held.status, held.amount_mg, held.administered_at, held.deviation, held.deviation_note) == (
        "held",
        None,
        None,
        False,
        "",
    )


def test_a_stale_version_is_refused_with_what_changed(patient, clinician, coordinator):
    give(patient, clinician)
    give(patient, coordinator, amount="2.5", expected_version=1, reason_for_change="Half tablet")
    with pytest.raises(ConcurrentEditError) as excinfo:
        give(patient, clinician, hour=9, expected_version=1, reason_for_change="Time corrected")
    assert excinfo.value.changes["amount_mg"] == ("5.00", "2.50")
    assert DoseAdministration.objects.get().amount_mg == Decimal("2.5")


def test_given_now_records_the_prescribed_dose_at_this_minute(site_a, clinician, monkeypatch):
    today = timezone.localdate(timezone=SHANGHAI)
    patient = enroll(site_a, clinician, screening_day=today - timedelta(days=1), day0=today)
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    dose = dose_given_now(patient=patient, treatment_day=1, slot="am", user=clinician)
    assert (dose.status, dose.amount_mg, dose.deviation) == ("given", Decimal("5"), False)
    assert dose.administered_at == now.replace(second=0, microsecond=0)
    # A double click in the same minute is the same dose: nothing new is written.
    assert dose_given_now(patient=patient, treatment_day=1, slot="am", user=clinician).version == 1
    assert dose.history.count() == 1
    # A minute later it would be another time: refused, the first stays.
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(minutes=1))
    with pytest.raises(ValidationError, match="already recorded as given"):
        dose_given_now(patient=patient, treatment_day=1, slot="am", user=clinician)


def test_given_now_with_an_off_band_prescription_is_flagged(site_a, clinician):
    today = timezone.localdate(timezone=SHANGHAI)
    patient = enroll(site_a, clinician, screening_day=today - timedelta(days=1), day0=today, weight="10.0", dose="5")
    dose = dose_given_now(patient=patient, treatment_day=1, slot="am", user=clinician)
    assert (dose.amount_mg, dose.expected_mg, dose.deviation) == (Decimal("5"), Decimal("2.5"), True)


# The minimum interval between two given doses (section 1, twice daily; decision: 8 h by default)


def given_at(patient, user, day, slot, hour, minute=0, **kwargs):
    return dose_record(
        patient=patient,
        treatment_day=day,
        slot=slot,
        status="given",
        administered_at=at(day, hour, minute),
        amount_mg=Decimal("5"),
        reason="",
        user=user,
        **kwargs,
    )


def give_days(patient, user, days) -> None:
    """Both doses of each treatment day given, at 08:00 and 20:00."""
    for day in days:
        for slot, hour in (("am", 8), ("pm", 20)):
            given_at(patient, user, day, slot, hour)


def interval_error(excinfo):
    (error,) = excinfo.value.error_dict["administered_at"]
    return error


def test_the_trial_default_minimum_interval_is_8_hours(patient):
    assert patient.site.trial.min_dose_interval_hours == 8


def test_a_dose_13_minutes_after_the_previous_is_refused_naming_its_time_and_the_limit(patient, clinician):
    given_at(patient, clinician, 9, "am", 8, 2)
    with pytest.raises(ValidationError) as excinfo:
        given_at(patient, clinician, 9, "pm", 8, 15)
    error = interval_error(excinfo)
    assert error.code == DOSE_INTERVAL_SHORT == "dose_interval_short"
    assert error.message == (
        "Only 13 min after the previous dose (the morning dose of treatment day 9, given at 08:02 on 2026-03-11, "
        "site time); doses must be at least 8 h apart (twice daily, protocol section 6). To record it anyway, "
        "confirm the short interval."
    )
    assert list(DoseAdministration.objects.values_list("treatment_day", "slot")) == [(9, "am")]
    assert not DataQuery.objects.filter(check_code="dose.short_interval").exists()


@pytest.mark.parametrize(("hour", "minute", "refused"), [(16, 2, False), (16, 1, True)])
def test_exactly_the_interval_is_enough_one_minute_less_is_not(patient, clinician, hour, minute, refused):
    given_at(patient, clinician, 9, "am", 8, 2)
    if refused:
        with pytest.raises(ValidationError):
            given_at(patient, clinician, 9, "pm", hour, minute)
    else:
        assert given_at(patient, clinician, 9, "pm", hour, minute).short_interval is False


def test_a_dose_entered_late_is_checked_against_the_next_dose_too(patient, clinician):
    given_at(patient, clinician, 9, "pm", 12, 0)
    with pytest.raises(ValidationError) as excinfo:
        given_at(patient, clinician, 9, "am", 8, 0)
    assert "Only 4 h before the next dose (the evening dose of treatment day 9, given at 12:00" in (
        interval_error(excinfo).message
    )


def test_a_confirmed_short_interval_is_saved_flagged_queried_and_cleared_when_corrected(patient, clinician):
    given_at(patient, clinician, 9, "am", 8, 2)
    dose = given_at(patient, clinician, 9, "pm", 8, 15, confirm_short_interval=True)
    assert dose.short_interval is True
    assert dose.short_interval_note.startswith("Confirmed at entry: Only 13 min after the previous dose")
    query = DataQuery.objects.get(check_code="dose.short_interval", status="open")
    assert query.target == f"patients.doseadministration:{dose.pk}" and "Only 13 min after" in query.text
    corrected = given_at(
        patient, clinician, 9, "pm", 20, 0, expected_version=dose.version, reason_for_change="Time typed wrongly"
    )
    assert (corrected.short_interval, corrected.short_interval_note) == (False, "")
    query.refresh_from_db()
    assert query.status == "closed"


def test_a_confirmed_dose_can_be_corrected_without_confirming_again(patient, clinician):
    given_at(patient, clinician, 9, "am", 8, 2)
    dose = given_at(patient, clinician, 9, "pm", 8, 15, confirm_short_interval=True)
    changed = dose_record(
        patient=patient,
        treatment_day=9,
        slot="pm",
        status="given",
        administered_at=dose.administered_at,
        amount_mg=Decimal("2.5"),
        reason="",
        user=clinician,
        expected_version=dose.version,
        reason_for_change="Half dose given",
    )
    assert (changed.amount_mg, changed.short_interval) == (Decimal("2.5"), True)


def test_moving_the_neighbour_away_clears_the_other_doses_flag(patient, clinician):
    morning = given_at(patient, clinician, 9, "am", 8, 0)
    evening = given_at(patient, clinician, 9, "pm", 12, 0, confirm_short_interval=True)
    given_at(patient, clinician, 9, "am", 4, 0, expected_version=morning.version, reason_for_change="Given at 04:00")
    evening.refresh_from_db()
    assert (evening.short_interval, evening.short_interval_note) == (False, "")
    assert DataQuery.objects.get(check_code="dose.short_interval").status == "closed"


def test_the_minimum_interval_is_the_trials_setting(patient, clinician):
    trial = patient.site.trial
    trial.min_dose_interval_hours = 4
    trial.save()
    given_at(patient, clinician, 9, "am", 8, 0)
    assert given_at(patient, clinician, 9, "pm", 12, 0).short_interval is False
    trial.min_dose_interval_hours = 0
    trial.save()
    assert given_at(patient, clinician, 10, "am", 0, 5).short_interval is False


def test_a_missed_dose_has_no_interval(patient, clinician):
    given_at(patient, clinician, 9, "am", 8, 0)
    missed = {"status": "missed", "administered_at": None, "amount_mg": None, "reason": "Vomited"}
    assert dose_record(patient=patient, treatment_day=9, slot="pm", user=clinician, **missed).short_interval is False


# Idempotent per slot: a repeated or stale submit changes nothing and says so


def test_a_stale_submit_for_a_recorded_slot_changes_nothing_and_says_so(patient, clinician):
    first = given_at(patient, clinician, 9, "am", 8, 2)
    for minute in (2, 15):  # the same submit again, or a stale page a few minutes later
        with pytest.raises(DoseAlreadyRecorded) as excinfo:
            given_at(patient, clinician, 9, "am", 8, minute, expect_empty=True)
        assert excinfo.value.message_dict["slot"] == [
            "The morning dose of treatment day 9 (2026-03-11) is already recorded as given at 08:02; nothing "
            "changed. Open it to change it with a reason for change."
        ]
        assert excinfo.value.error_dict["slot"][0].code == "dose_already_recorded"
    first.refresh_from_db()
    assert (first.version, first.history.count(), DoseAdministration.objects.count()) == (1, 1, 1)


def test_given_now_twice_records_one_dose_and_says_the_second_changed_nothing(patient, clinician, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: at(9, 8, 2))
    dose = dose_given_now(patient=patient, treatment_day=9, slot="am", user=clinician, expect_empty=True)
    monkeypatch.setattr(clock, "now", lambda: at(9, 8, 3))
    with pytest.raises(DoseAlreadyRecorded, match="already recorded as given at 08:02; nothing changed"):
        dose_given_now(patient=patient, treatment_day=9, slot="am", user=clinician, expect_empty=True)
    assert DoseAdministration.objects.get().version == dose.version == 1


def test_given_now_for_the_evening_right_after_the_morning_is_refused(patient, clinician, monkeypatch):
    # The reported case: "Given now" for the morning, then a stale "Given now" for the evening.
    monkeypatch.setattr(clock, "now", lambda: at(9, 8, 2))
    dose_given_now(patient=patient, treatment_day=9, slot="am", user=clinician, expect_empty=True)
    monkeypatch.setattr(clock, "now", lambda: at(9, 8, 15))
    with pytest.raises(ValidationError) as excinfo:
        dose_given_now(patient=patient, treatment_day=9, slot="pm", user=clinician, expect_empty=True)
    assert interval_error(excinfo).code == "dose_interval_short"
    assert DoseAdministration.objects.count() == 1


# Dose off the band: one query per prescribing decision, not per dose (section 6)


def dose_queries(patient):
    return DataQuery.objects.filter(
        patient=patient, origin="auto", check_code__in=["dose.off_band", "patient.dose_off_band"]
    )


def test_an_off_band_prescription_is_one_query_however_many_doses(site_a, clinician):
    patient = enroll(site_a, clinician, weight="10.0", dose="5")  # band <= 10 kg: 2.5 mg
    for day in range(1, 4):
        for slot in ("am", "pm"):
            give(patient, clinician, day=day, slot=slot, amount="5")
    assert DoseAdministration.objects.filter(patient=patient, deviation=True).count() == 6
    (query,) = dose_queries(patient).exclude(status="closed")
    assert (query.check_code, query.target) == ("patient.dose_off_band", f"patients.patient:{patient.pk}")


def test_an_amount_never_prescribed_is_one_query_closed_when_the_doses_are_corrected(patient, clinician):
    doses = [give(patient, clinician, day=day, amount="7.5") for day in (4, 5, 6)]
    (query,) = dose_queries(patient).exclude(status="closed")
    assert query.check_code == "dose.off_band" and query.target == f"patients.doseadministration:{doses[0].pk}"
    assert query.text.startswith("Given 7.5 mg instead of the weight band's 5 mg, an amount never prescribed")
    for dose in doses[:2]:
        give(patient, clinician, day=dose.treatment_day, amount="5", expected_version=1, reason_for_change="Chart")
    assert dose_queries(patient).exclude(status="closed").get().target == f"patients.doseadministration:{doses[2].pk}"
    give(patient, clinician, day=6, amount="5", expected_version=1, reason_for_change="Chart")
    assert not dose_queries(patient).exclude(status="closed").exists()
    assert not DoseAdministration.objects.filter(patient=patient, deviation=True).exists()


def test_two_amounts_never_prescribed_are_two_decisions(patient, clinician):
    give(patient, clinician, day=4, amount="7.5")
    give(patient, clinician, day=5, amount="2.5")
    give(patient, clinician, day=6, amount="2.5")
    assert dose_queries(patient).exclude(status="closed").count() == 2


def test_older_queries_on_single_doses_are_closed_as_one_decision(site_a, clinician):
    patient = enroll(site_a, clinician, weight="10.0", dose="5")
    doses = [give(patient, clinician, day=day, amount="5") for day in (1, 2)]
    for dose in doses:  # as the per-dose check left them
        DataQuery.objects.create(
            patient=patient,
            target=f"patients.doseadministration:{dose.pk}",
            check_code="dose.off_band",
            origin="auto",
            text="old",
        )
    give(patient, clinician, day=3, amount="5")
    assert dose_queries(patient).exclude(status="closed").get().check_code == "patient.dose_off_band"


def test_no_dose_after_the_end_of_treatment_or_death(patient, clinician):
    give(patient, clinician, day=4, slot="pm")
    treatment_end_record(
        patient=patient, outcome="discontinued", reason="toxicity", last_dose_date=DAY0 + timedelta(3), user=clinician
    )
    give(patient, clinician, day=4, slot="am")  # the last dose date itself is still open
    with pytest.raises(ValidationError) as excinfo:
        give(patient, clinician, day=5)
    assert errors_of(excinfo)["treatment_day"] == (
        "The morning dose of treatment day 5 (2026-03-07) is after the end of treatment (last dose 2026-03-06); "
        "change the end of treatment first."
    )


def test_database_refuses_a_missed_dose_without_reason(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        DoseAdministration.objects.create(
            patient=patient, treatment_day=1, slot="am", status="missed", expected_mg=Decimal("5"), reason=""
        )


# Weight re-measured during treatment (section 6)


@pytest.mark.parametrize(
    ("weight", "warns"),
    [("20.0", False), ("20.01", True), ("10.01", False), ("10.0", True), (Decimal("15"), False)],
)
def test_weight_band_check(patient, weight, warns):
    # Enrolled at 15 kg: band > 10 and <= 20 kg, 5 mg.
    warning = weight_band_check(patient=patient, weight_kg=Decimal(weight))
    assert (warning is not None) is warns
    if warns:
        assert "Protocol section 6: a weight in another band raises a query" in warning


def test_weight_band_check_names_both_bands(patient):
    assert weight_band_check(patient=patient, weight_kg=Decimal("21.5")) == (
        "Weight 21.5 kg is in the band > 20 kg (10 mg twice daily); at enrollment 15 kg was in > 10 kg and ≤ 20 kg "
        "(5 mg). Protocol section 6: a weight in another band raises a query; the dose is not changed automatically."
    )


def test_weight_band_check_outside_the_treatment_period_says_nothing(patient, clinician):
    assert weight_band_check(patient=patient, weight_kg=Decimal("25"), measured_on=DAY0 + timedelta(27)) is not None
    assert weight_band_check(patient=patient, weight_kg=Decimal("25"), measured_on=DAY0 + timedelta(28)) is None
    assert weight_band_check(patient=patient, weight_kg=Decimal("25"), measured_on=DAY0 - timedelta(1)) is None
    treatment_end_record(
        patient=patient, outcome="discontinued", reason="relapse", last_dose_date=DAY0 + timedelta(9), user=clinician
    )
    assert weight_band_check(patient=patient, weight_kg=Decimal("25"), measured_on=DAY0 + timedelta(10)) is None


def test_weight_band_check_refuses_an_impossible_weight(patient):
    with pytest.raises(ValidationError) as excinfo:
        weight_band_check(patient=patient, weight_kg=Decimal("0"))
    assert "greater than 0 kg" in errors_of(excinfo)["weight_kg"]


# End of treatment (section 6: 28 consecutive days; reasons to stop)


def test_completed_on_treatment_day_28_moves_the_patient_to_follow_up(patient, clinician):
    end = treatment_end_record(
        patient=patient, outcome="completed", reason="", last_dose_date=DAY0 + timedelta(27), user=clinician
    )
    assert end.study_day == 27
    patient.refresh_from_db()
    assert patient.status == Patient.Status.FOLLOW_UP
    assert patient.history.order_by("-history_date").first().history_change_reason == (
        "Treatment end: Completed 28 days. Follow-up: treatment ended."
    )


def test_completed_on_treatment_day_27_is_refused(patient, clinician):
    with pytest.raises(ValidationError) as excinfo:
        treatment_end_record(
            patient=patient, outcome="completed", reason="", last_dose_date=DAY0 + timedelta(26), user=clinician
        )
    assert (
        "Completed needs the last dose on treatment day 28 (study day 27, 2026-03-30)" in errors_of(excinfo)["outcome"]
    )
    assert not TreatmentEnd.objects.exists()
    patient.refresh_from_db()
    assert patient.status == Patient.Status.ON_TREATMENT


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("no_response_day3", Patient.Status.FOLLOW_UP),
        ("toxicity", Patient.Status.FOLLOW_UP),
        ("death", Patient.Status.OFF_STUDY),
        ("consent_withdrawn", Patient.Status.OFF_STUDY),
    ],
)
def test_discontinuation_sets_the_status(patient, clinician, reason, status):
    treatment_end_record(
        patient=patient, outcome="discontinued", reason=reason, last_dose_date=DAY0 + timedelta(3), user=clinician
    )
    patient.refresh_from_db()
    assert patient.status == status


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"outcome": "discontinued", "reason": ""}, "reason", "A discontinuation needs its reason"),
        ({"outcome": "discontinued", "reason": "other"}, "reason_detail", "Describe the reason"),
        ({"reason": "toxicity"}, "reason", "A completed course has no discontinuation reason"),
        ({"outcome": "paused"}, "outcome", "Outcome must be completed or discontinued."),
        ({"outcome": "discontinued", "reason": "bored"}, "reason", "Unknown reason"),
        (
            {"outcome": "discontinued", "reason": "toxicity", "last_dose_date": DAY0 - timedelta(1)},
            "last_dose_date",
            "Last dose date cannot be before day 0, the first dose (2026-03-03).",
        ),
        (
            {"last_dose_date": DAY0 + timedelta(28)},
            "last_dose_date",
            "Last dose date cannot be after treatment day 28 (2026-03-30)",
        ),
        ({"last_dose_date": None}, "last_dose_date", "Enter the date of the last dose."),
    ],
)
def test_treatment_end_refusals_name_field_and_limit(patient, clinician, kwargs, field, message):
    args = {"outcome": "completed", "reason": "", "last_dose_date": DAY0 + timedelta(27)}
    args.update(kwargs)
    with pytest.raises(ValidationError) as excinfo:
        treatment_end_record(patient=patient, user=clinician, **args)
    assert message in errors_of(excinfo)[field]


def test_last_dose_cannot_be_in_the_future(site_a, clinician):
    today = timezone.localdate(timezone=SHANGHAI)
    patient = enroll(site_a, clinician, screening_day=today - timedelta(days=1), day0=today)
    with pytest.raises(ValidationError) as excinfo:
        treatment_end_record(
            patient=patient,
            outcome="discontinued",
            reason="progression",
            last_dose_date=today + timedelta(1),
            user=clinician,
        )
    assert f"cannot be in the future (after {today.isoformat()})" in errors_of(excinfo)["last_dose_date"]


def test_last_dose_cannot_be_before_a_recorded_given_dose(patient, clinician):
    give(patient, clinician, day=10)
    with pytest.raises(ValidationError) as excinfo:
        treatment_end_record(
            patient=patient,
            outcome="discontinued",
            reason="relapse",
            last_dose_date=DAY0 + timedelta(8),
            user=clinician,
        )
    assert (
        errors_of(excinfo)["last_dose_date"]
        == "Last dose date cannot be before a dose recorded as given on 2026-03-12."
    )


def test_treatment_end_correction_needs_version_and_reason_and_recomputes_status(patient, clinician):
    end = treatment_end_record(
        patient=patient,
        outcome="discontinued",
        reason="consent_withdrawn",
        last_dose_date=DAY0 + timedelta(5),
        user=clinician,
    )
    patient.refresh_from_db()
    assert patient.status == Patient.Status.OFF_STUDY
    with pytest.raises(ValidationError, match="already recorded"):
        treatment_end_record(
            patient=patient,
            outcome="discontinued",
            reason="toxicity",
            last_dose_date=DAY0 + timedelta(5),
            user=clinician,
        )
    # Same values again: harmless.
    same = treatment_end_record(
        patient=patient,
        outcome="discontinued",
        reason="consent_withdrawn",
        last_dose_date=DAY0 + timedelta(5),
        user=clinician,
    )
    assert same.version == 1
    fixed = treatment_end_record(
        patient=patient,
        outcome="discontinued",
        reason="toxicity",
        last_dose_date=DAY0 + timedelta(5),
        user=clinician,
        expected_version=end.version,
        reason_for_change="Wrong reason ticked",
    )
    assert (fixed.version, fixed.reason) == (2, "toxicity")
    patient.refresh_from_db()
    assert patient.status == Patient.Status.FOLLOW_UP


# Subsequent therapy (section 6)


def ended(patient, user, day=4):
    return treatment_end_record(
        patient=patient,
        outcome="discontinued",
        reason="no_response_day3",
        last_dose_date=DAY0 + timedelta(day),
        user=user,
    )


def test_subsequent_therapy_needs_the_end_of_treatment_first(patient, clinician):
    with pytest.raises(ValidationError) as excinfo:
        subsequent_therapy_record(
            patient=patient,
            regimen="hlh1994",
            start_date=DAY0 + timedelta(4),
            etoposide=True,
            dexamethasone=True,
            user=clinician,
        )
    assert "record the end of treatment first" in errors_of(excinfo)["start_date"]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"dexamethasone": False}, "regimen", "HLH-1994 is etoposide + dexamethasone"),
        (
            {"regimen": "other", "etoposide": False, "dexamethasone": False},
            "other_drugs",
            "Name the drugs of the other regimen.",
        ),
        ({"start_date": DAY0 + timedelta(3)}, "start_date", "cannot be before the last ruxolitinib dose (2026-03-07)"),
        ({"start_date": date(2999, 1, 1)}, "start_date", "cannot be in the future"),
        ({"response": "great"}, "response", "Unknown response"),
    ],
)
def test_subsequent_therapy_refusals(patient, clinician, kwargs, field, message):
    ended(patient, clinician)
    args = {"regimen": "hlh1994", "start_date": DAY0 + timedelta(4), "etoposide": True, "dexamethasone": True}
    args.update(kwargs)
    with pytest.raises(ValidationError) as excinfo:
        subsequent_therapy_record(patient=patient, user=clinician, **args)
    assert message in errors_of(excinfo)[field]


def test_subsequent_therapy_is_recorded_once_and_updated_with_a_reason(patient, clinician, coordinator):
    ended(patient, clinician)
    args = {
        "patient": patient,
        "regimen": "hlh1994",
        "start_date": DAY0 + timedelta(4),
        "etoposide": True,
        "dexamethasone": True,
        "cyclosporine": True,
    }
    therapy = subsequent_therapy_record(user=clinician, **args)
    assert subsequent_therapy_record(user=clinician, **args).pk == therapy.pk
    assert SubsequentTherapy.objects.count() == 1
    with pytest.raises(ValidationError, match="already recorded"):
        subsequent_therapy_record(user=clinician, **{**args, "cyclosporine": False})
    args.pop("patient")
    updated = subsequent_therapy_update(
        therapy=therapy,
        user=coordinator,
        expected_version=1,
        reason_for_change="Response at week 8",
        response="cr",
        outcome="CR at week 8; proceeded to HSCT",
        **args,
    )
    assert (updated.version, updated.response) == (2, "cr")
    assert updated.history.order_by("-history_date").first().history_change_reason == "Response at week 8"
    with pytest.raises(ConcurrentEditError):
        subsequent_therapy_update(
            therapy=therapy, user=clinician, expected_version=1, reason_for_change="Late", response="pr", **args
        )


# Death and follow-up (section 11: death is an EFS event; survival at follow-up)


def test_death_puts_the_patient_off_study(patient, clinician):
    death = death_record(
        patient=patient, date_of_death=DAY0 + timedelta(10), cause="Multi-organ failure", user=clinician
    )
    patient.refresh_from_db()
    assert patient.status == Patient.Status.OFF_STUDY
    assert death.history.first().history_change_reason == "Death recorded"


@pytest.mark.parametrize(
    ("on", "message"),
    [
        (SCREENING_DAY - timedelta(1), "Date of death cannot be before enrollment (2026-03-02)."),
        (date(2999, 1, 1), "Date of death cannot be in the future"),
    ],
)
def test_death_date_limits(patient, clinician, on, message):
    with pytest.raises(ValidationError) as excinfo:
        death_record(patient=patient, date_of_death=on, cause="Sepsis", user=clinician)
    assert message in errors_of(excinfo)["date_of_death"]


def test_death_on_enrollment_day_is_accepted(patient, clinician):
    assert death_record(patient=patient, date_of_death=SCREENING_DAY, cause="Bleeding", user=clinician).pk


def test_death_cannot_precede_a_recorded_dose_and_doses_cannot_follow_it(patient, clinician):
    give(patient, clinician, day=6)
    with pytest.raises(ValidationError) as excinfo:
        death_record(patient=patient, date_of_death=DAY0 + timedelta(4), cause="Sepsis", user=clinician)
    assert errors_of(excinfo)["date_of_death"] == "Date of death cannot be before a dose recorded for 2026-03-08."
    death_record(patient=patient, date_of_death=DAY0 + timedelta(5), cause="Sepsis", user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        give(patient, clinician, day=7)
    assert "is after the date of death (2026-03-08)" in errors_of(excinfo)["treatment_day"]


def test_death_needs_a_cause(patient, clinician):
    with pytest.raises(ValidationError) as excinfo:
        death_record(patient=patient, date_of_death=DAY0, cause=" ", user=clinician)
    assert errors_of(excinfo)["cause"] == "Enter the cause of death."


def test_follow_up_alive_keeps_follow_up_and_lost_goes_off_study_then_back(patient, clinician):
    ended(patient, clinician)
    follow_up_record(patient=patient, assessed_on=DAY0 + timedelta(56), vital_status="alive", user=clinician)
    patient.refresh_from_db()
    assert patient.status == Patient.Status.FOLLOW_UP
    follow_up_record(patient=patient, assessed_on=DAY0 + timedelta(84), vital_status="lost", user=clinician)
    patient.refresh_from_db()
    assert patient.status == Patient.Status.OFF_STUDY
    follow_up_record(patient=patient, assessed_on=DAY0 + timedelta(112), vital_status="alive", user=clinician)
    patient.refresh_from_db()
    assert patient.status == Patient.Status.FOLLOW_UP


def test_follow_up_dead_creates_the_death(patient, clinician):
    ended(patient, clinician)
    follow_up = follow_up_record(
        patient=patient,
        assessed_on=DAY0 + timedelta(60),
        vital_status="dead",
        date_of_death=DAY0 + timedelta(58),
        death_cause="HLH relapse",
        death_hlh_related=True,
        hlh_relapse=True,
        user=clinician,
    )
    death = Death.objects.get(patient=patient)
    assert (death.date_of_death, death.cause, death.hlh_related) == (DAY0 + timedelta(58), "HLH relapse", True)
    assert follow_up.vital_status == "dead"
    patient.refresh_from_db()
    assert patient.status == Patient.Status.OFF_STUDY


def test_follow_up_dead_without_a_death_needs_date_and_cause(patient, clinician):
    with pytest.raises(ValidationError) as excinfo:
        follow_up_record(patient=patient, assessed_on=DAY0 + timedelta(60), vital_status="dead", user=clinician)
    errors = errors_of(excinfo)
    assert errors["date_of_death"] == "Enter the date of death."
    assert errors["death_cause"] == "Enter the cause of death."
    assert not FollowUp.objects.exists() and not Death.objects.exists()


def test_follow_up_dead_uses_the_recorded_death(patient, clinician):
    death_record(patient=patient, date_of_death=DAY0 + timedelta(30), cause="Sepsis", user=clinician)
    follow_up_record(patient=patient, assessed_on=DAY0 + timedelta(56), vital_status="dead", user=clinician)
    assert Death.objects.count() == 1
    with pytest.raises(ValidationError) as excinfo:
        follow_up_record(
            patient=patient,
            assessed_on=DAY0 + timedelta(84),
            vital_status="dead",
            date_of_death=DAY0 + timedelta(31),
            user=clinician,
        )
    assert "A death on 2026-04-02 is already recorded" in errors_of(excinfo)["date_of_death"]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"assessed_on": DAY0 - timedelta(1)}, "assessed_on", "cannot be before day 0, the first dose (2026-03-03)"),
        ({"assessed_on": date(2999, 1, 1)}, "assessed_on", "cannot be in the future"),
        ({"vital_status": "unwell"}, "vital_status", "Vital status must be alive, dead or lost"),
        ({"date_of_death": DAY0 + timedelta(50)}, "date_of_death", "go with the vital status 'Dead'"),
        (
            {"vital_status": "dead", "date_of_death": DAY0 + timedelta(61), "death_cause": "Sepsis"},
            "assessed_on",
            "A follow-up on 2026-05-02 cannot report a death on 2026-05-03.",
        ),
    ],
)
def test_follow_up_refusals(patient, clinician, kwargs, field, message):
    args = {"assessed_on": DAY0 + timedelta(60), "vital_status": "alive"}
    args.update(kwargs)
    with pytest.raises(ValidationError) as excinfo:
        follow_up_record(patient=patient, user=clinician, **args)
    assert message in errors_of(excinfo)[field]


def test_alive_after_a_recorded_death_is_refused(patient, clinician):
    death_record(patient=patient, date_of_death=DAY0 + timedelta(30), cause="Sepsis", user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        follow_up_record(patient=patient, assessed_on=DAY0 + timedelta(56), vital_status="alive", user=clinician)
    assert "The patient's death on 2026-04-02 is recorded" in errors_of(excinfo)["vital_status"]


def test_follow_up_is_once_per_date_and_a_repeat_is_harmless(patient, clinician):
    args = {"patient": patient, "assessed_on": DAY0 + timedelta(56), "vital_status": "alive", "user": clinician}
    first = follow_up_record(**args)
    assert follow_up_record(**args).pk == first.pk
    with pytest.raises(ValidationError, match="A follow-up on 2026-04-28 is already recorded"):
        follow_up_record(**{**args, "hlh_relapse": True})


def test_death_cannot_predate_a_contact_alive(patient, clinician):
    follow_up_record(patient=patient, assessed_on=DAY0 + timedelta(56), vital_status="alive", user=clinician)
    with pytest.raises(ValidationError) as excinfo:
        death_record(patient=patient, date_of_death=DAY0 + timedelta(40), cause="Sepsis", user=clinician)
    assert "cannot be before the follow-up of 2026-04-28 (alive)" in errors_of(excinfo)["date_of_death"]


def test_follow_up_links_only_this_patients_visit(site_a, patient, clinician):
    other = enroll(site_a, clinician)
    visit = other.visits.first()
    with pytest.raises(ValidationError) as excinfo:
        follow_up_record(
            patient=patient, assessed_on=DAY0 + timedelta(56), vital_status="alive", visit=visit, user=clinician
        )
    assert errors_of(excinfo)["visit"] == "The visit belongs to another patient."
    own = patient.visits.get(definition__code="FU56")
    assert (
        follow_up_record(
            patient=patient, assessed_on=DAY0 + timedelta(56), vital_status="alive", visit=own, user=clinician
        ).visit
        == own
    )


# Many doses at once (the bulk import's path): the same checks, one statement.


def batch_item(day, slot="am", amount="5", **overrides):
    item = {
        "treatment_day": day,
        "slot": slot,
        "status": "given",
        "administered_at": at(day, 8 if slot == "am" else 20),
        "amount_mg": Decimal(amount),
        "reason": "",
    }
    item.update(overrides)
    return item


def test_a_dose_batch_is_written_with_history_and_flags(patient, clinician):
    outcome = doses_record_new(
        patient=patient, doses=[batch_item(1), batch_item(1, "pm"), batch_item(2, amount="7.5")], user=clinician
    )
    assert (len(outcome.created), outcome.existing, outcome.errors) == (3, 0, {})
    doses = {(d.treatment_day, d.slot): d for d in DoseAdministration.objects.filter(patient=patient)}
    assert set(doses) == {(1, "am"), (1, "pm"), (2, "am")}
    assert doses[(2, "am")].deviation is True
    assert doses[(2, "am")].expected_mg == Decimal("5")
    assert doses[(1, "am")].deviation is False
    history = doses[(1, "pm")].history.get()
    assert (history.history_user, history.history_change_reason, history.history_type) == (
        clinician,
        "Dose recorded (bulk import)",
        "+",
    )
    assert doses[(1, "am")].created_by == clinician
    query = DataQuery.objects.get(patient=patient, check_code="dose.off_band")
    assert query.target == f"patients.doseadministration:{doses[(2, 'am')].pk}"


def test_a_dose_batch_checks_the_interval_by_row_and_takes_the_confirmation(patient, clinician):
    rows = [batch_item(9), batch_item(9, "pm", administered_at=at(9, 8, 10))]
    outcome = doses_record_new(patient=patient, doses=rows, user=clinician)
    assert sorted(outcome.errors) == [1] and outcome.created == []
    (error,) = outcome.errors[1].error_dict["administered_at"]
    assert error.code == "dose_interval_short" and "Only 10 min after the previous dose" in error.message
    assert not DoseAdministration.objects.exists()
    rows[1]["confirm_short_interval"] = True
    outcome = doses_record_new(patient=patient, doses=rows, user=clinician)
    assert outcome.errors == {} and [d.short_interval for d in outcome.created] == [False, True]
    assert DataQuery.objects.filter(check_code="dose.short_interval", status="open").count() == 1


def test_a_dose_batch_checks_the_interval_against_recorded_doses(patient, clinician):
    give(patient, clinician, day=9, slot="pm", hour=12)
    outcome = doses_record_new(patient=patient, doses=[batch_item(9), batch_item(10)], user=clinician)
    assert sorted(outcome.errors) == [0]
    assert "Only 4 h before the next dose" in outcome.errors[0].messages[0]


def test_a_dose_batch_refuses_a_confirmation_that_is_not_true_or_false(patient, clinician):
    outcome = doses_record_new(patient=patient, doses=[batch_item(9, confirm_short_interval="yes")], user=clinician)
    assert outcome.errors[0].message_dict == {"confirm_short_interval": ["Confirm short interval: true or false."]}


def test_a_dose_batch_at_an_off_band_amount_raises_one_query(patient, clinician):
    outcome = doses_record_new(patient=patient, doses=[batch_item(d, amount="7.5") for d in (1, 2, 3)], user=clinician)
    assert len(outcome.created) == 3
    assert DataQuery.objects.filter(patient=patient, check_code="dose.off_band").count() == 1


def test_a_dose_batch_with_one_bad_dose_writes_nothing_and_names_it(patient, clinician):
    outcome = doses_record_new(
        patient=patient,
        doses=[
            batch_item(1),
            batch_item(2, administered_at=at(3, 8)),  # given on the wrong date
            batch_item(3, status="missed", amount_mg=None, administered_at=None),  # no reason
            batch_item(1),  # twice in the batch
        ],
        user=clinician,
    )
    assert outcome.created == []
    assert sorted(outcome.errors) == [1, 2, 3]
    assert "must be given on 2026-03-04" in " ".join(outcome.errors[1].message_dict["administered_at"])
    assert outcome.errors[2].message_dict["reason"] == ["A missed dose needs its reason."]
    assert "given twice in this batch" in outcome.errors[3].message_dict["slot"][0]
    assert not DoseAdministration.objects.filter(patient=patient).exists()


def test_a_dose_batch_leaves_recorded_doses_as_they_are(patient, clinician):
    give(patient, clinician, day=1, slot="am", amount="5")
    outcome = doses_record_new(patient=patient, doses=[batch_item(1, amount="10"), batch_item(2)], user=clinician)
    assert (len(outcome.created), outcome.existing, outcome.errors) == (1, 1, {})
    assert DoseAdministration.objects.get(patient=patient, treatment_day=1).amount_mg == Decimal("5")


def test_a_dose_batch_after_the_end_of_treatment_is_refused(patient, clinician):
    treatment_end_record(
        patient=patient, outcome="discontinued", reason="toxicity", last_dose_date=DAY0 + timedelta(1), user=clinician
    )
    outcome = doses_record_new(patient=patient, doses=[batch_item(2), batch_item(3)], user=clinician)
    assert sorted(outcome.errors) == [1]
    assert "after the end of treatment" in outcome.errors[1].message_dict["treatment_day"][0]
