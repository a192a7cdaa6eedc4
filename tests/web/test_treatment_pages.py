"""Study drug and outcome pages: the dose grid, bedside entry, edits with reasons, conflicts, roles, scoping."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.models import Death, DoseAdministration, FollowUp, Patient, SubsequentTherapy, TreatmentEnd
from patients.services import dose_record, treatment_end_record
from tests.conftest import PASSWORD
from tests.services.test_treatment import DAY0, at, enroll, give_days, given_at
from trial import clock

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def patient(site_a, clinician) -> Patient:
    return enroll(site_a, clinician)


@pytest.fixture
def current_patient(site_a, clinician) -> Patient:
    """On treatment day 3 today (site time)."""
    today = timezone.localdate(timezone=SHANGHAI)
    return enroll(site_a, clinician, screening_day=today - timedelta(days=3), day0=today - timedelta(days=2))


def give(patient, user, day=1, slot="am", amount="5"):
    return dose_record(
        patient=patient,
        treatment_day=day,
        slot=slot,
        status="given",
        administered_at=at(day, 8 if slot == "am" else 20, day0=patient.first_dose_date),
        amount_mg=Decimal(amount),
        reason="",
        user=user,
    )


def dose_url(patient, day=1, slot="am"):
    return reverse("dose_record", args=[patient.pk, day, slot])


def dose_payload(**overrides):
    data = {
        "status": "given",
        "administered_date": DAY0.isoformat(),
        "administered_time": "08:15",
        "amount_mg": "5",
        "reason": "",
    }
    data.update(overrides)
    return data


def cell_status(page: str, day: int, slot: str) -> str:
    return re.search(rf'id="dose-{day}-{slot}" data-status="(\w+)"', page).group(1)


# The grid


def test_grid_has_56_slots_in_28_rows_with_the_expected_dose(client, clinician, patient):
    give(patient, clinician, day=2, slot="pm", amount="5.5")
    login(client, clinician)
    page = client.get(reverse("dose_log", args=[patient.pk])).content.decode()
    assert len(re.findall(r'id="dose-\d+-(am|pm)" data-status=', page)) == 56
    assert len(re.findall(r'<tr id="day-\d+"', page)) == 28
    assert cell_status(page, 2, "pm") == "given" and cell_status(page, 2, "am") == "none"
    assert 'id="expected-dose">5 mg BID' in page
    # The deviation is highlighted with the band's dose beside it.
    assert re.search(r'id="dose-2-pm" data-status="given" class="dose-cell dose-deviation"', page)
    assert "deviation: expected 5 mg" in page
    assert "1 dose deviation" in page
    assert f'class="nav-link active" href="/patients/{patient.pk}/doses/">Study drug' in page


def test_today_row_is_highlighted_and_offers_given_now(client, clinician, current_patient):
    login(client, clinician)
    page = client.get(reverse("dose_log", args=[current_patient.pk])).content.decode()
    assert '<tr id="day-3" class="dose-today">' in page
    assert 'id="given-now-top"' in page
    # Only the slots that would be on schedule now get the button (today's two, at most yesterday's evening).
    assert 1 <= page.count('name="given_now"') - 1 <= 3


def test_given_now_records_the_current_slot_in_one_post(client, clinician, current_patient):
    login(client, clinician)
    response = client.post(dose_url(current_patient, 3, "am"), {"given_now": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dose_log", args=[current_patient.pk]) + "#day-3"
    dose = DoseAdministration.objects.get(patient=current_patient)
    assert (dose.treatment_day, dose.slot, dose.status, dose.amount_mg) == (3, "am", "given", Decimal("5"))
    page = client.get(response["Location"]).content.decode()
    assert cell_status(page, 3, "am") == "given"
    assert "was recorded as given at" in page


def test_given_now_for_a_past_slot_is_refused_with_a_message_not_an_error(client, clinician, current_patient):
    login(client, clinician)
    response = client.post(dose_url(current_patient, 1, "am"), {"given_now": "1"}, follow=True)
    assert response.status_code == 200
    assert "must be given on" in response.content.decode()
    assert not DoseAdministration.objects.exists()


def test_given_now_twice_does_not_overwrite(client, clinician, current_patient):
    login(client, clinician)
    client.post(dose_url(current_patient, 3, "am"), {"given_now": "1"})
    DoseAdministration.objects.update(administered_at=timezone.now() - timedelta(minutes=5))
    response = client.post(dose_url(current_patient, 3, "am"), {"given_now": "1"}, follow=True)
    assert "already recorded as given" in response.content.decode()
    assert DoseAdministration.objects.get().version == 1


# Safe dosing at the bedside: the next dose, the minimum interval, stale pages


DAY9_0815 = datetime(2026, 3, 11, 8, 15, tzinfo=SHANGHAI)  # treatment day 9 of DAY0 2026-03-03


@pytest.fixture
def day9(monkeypatch, clinician, patient) -> Patient:
    """Treatment day 9, 08:15 at the site: days 1-8 given at 08:00 and 20:00, day 9's morning at 08:02."""
    monkeypatch.setattr(clock, "now", lambda: DAY9_0815)
    give_days(patient, clinician, range(1, 9))
    given_at(patient, clinician, 9, "am", 8, 2)
    return patient


def test_dose_log_and_dose_form_are_never_stored_for_back_and_forward(client, clinician, patient):
    login(client, clinician)
    for url in (reverse("dose_log", args=[patient.pk]), dose_url(patient)):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
    assert "no-store" in client.post(dose_url(patient), dose_payload(amount_mg="0"))["Cache-Control"]


def test_after_the_morning_dose_the_card_shows_when_the_evening_opens_not_the_end_of_treatment(client, clinician, day9):
    login(client, clinician)
    page = client.get(reverse("dose_log", args=[day9.pk])).content.decode()
    card = page[page.index('id="next-dose"') : page.index('id="dose-grid"')]
    assert 'id="given-now-top"' not in card
    assert "Next dose: treatment day 9, evening" in card
    assert "opens Wed 2026-03-11 16:02" in card  # 8 h after 08:02, site time
    assert "8 h after the latest dose, given at 08:02 on 2026-03-11" in card
    assert 'id="record-treatment-end"' not in card
    assert "Stopping ruxolitinib early? Record the end of treatment" in card
    # Nor does the evening's cell offer "Given now" 13 minutes after the morning dose.
    assert 'name="given_now"' not in page


def test_once_the_evening_opens_given_now_is_offered_for_it(client, clinician, day9, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 11, 16, 2, tzinfo=SHANGHAI))
    login(client, clinician)
    page = client.get(reverse("dose_log", args=[day9.pk])).content.decode()
    assert 'id="given-now-top"' in page and "Next dose: treatment day 9, evening" in page
    assert '<input type="hidden" name="dose" value="9-pm"><input type="hidden" name="seen" value="empty">' in page


def test_when_the_28_days_are_over_the_end_of_treatment_is_offered(client, clinician, patient, monkeypatch):
    # Treatment day 28 is 2026-03-30; its evening may be given until 06:00 on 2026-03-31.
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 31, 6, 0, tzinfo=SHANGHAI))
    login(client, clinician)
    page = client.get(reverse("dose_log", args=[patient.pk])).content.decode()
    assert "The 28 scheduled treatment days are over" in page
    assert 'id="record-treatment-end"' in page and 'id="stop-early"' not in page
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 31, 5, 59, tzinfo=SHANGHAI))
    page = client.get(reverse("dose_log", args=[patient.pk])).content.decode()
    assert 'id="record-treatment-end"' not in page and "Next dose: treatment day 28, evening" in page


def test_after_a_death_the_card_offers_the_end_of_treatment_without_calling_the_days_over(
    client, clinician, day9, monkeypatch
):
    Death.objects.create(patient=day9, date_of_death=DAY9_0815.date(), cause="Sepsis")
    monkeypatch.setattr(clock, "now", lambda: DAY9_0815 + timedelta(days=1))
    login(client, clinician)
    page = client.get(reverse("dose_log", args=[day9.pk])).content.decode()
    assert "No dose is given after 2026-03-11 (date of death)" in page
    assert 'id="record-treatment-end"' in page and "scheduled treatment days are over" not in page


def test_given_now_too_soon_after_the_previous_dose_asks_for_the_confirmation(client, clinician, day9):
    login(client, clinician)
    response = client.post(dose_url(day9, 9, "pm"), {"given_now": "1", "dose": "9-pm", "seen": "empty"})
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Only 13 min after the previous dose (the morning dose of treatment day 9, given at 08:02 on 2026-03-11, "
        "site time); doses must be at least 8 h apart" in page
    )
    assert 'name="confirm_short_interval"' in page and 'id="interval-confirmation"' in page
    assert 'name="administered_time" value="08:15"' in page
    assert not DoseAdministration.objects.filter(treatment_day=9, slot="pm").exists()
    confirmed = dose_payload(
        administered_date="2026-03-11", administered_time="08:15", seen="empty", confirm_short_interval="on"
    )
    response = client.post(dose_url(day9, 9, "pm"), confirmed)
    assert response.status_code == 302
    dose = DoseAdministration.objects.get(treatment_day=9, slot="pm")
    assert dose.short_interval and "Only 13 min after the previous dose" in dose.short_interval_note
    page = client.get(response["Location"]).content.decode()
    assert "Short interval confirmed; the dose is flagged and queried." in page
    assert re.search(r'id="dose-9-pm" data-status="given" class="dose-cell dose-deviation"', page)
    assert 'id="short-interval-count">1 short interval<' in page


def test_the_dose_form_shows_the_confirmation_with_the_interval_error(client, clinician, day9):
    login(client, clinician)
    page = client.get(dose_url(day9, 9, "pm")).content.decode()
    assert 'name="confirm_short_interval"' not in page
    response = client.post(
        dose_url(day9, 9, "pm"), dose_payload(administered_date="2026-03-11", administered_time="08:10", seen="empty")
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["administered_time"])
    assert "Only 8 min after the previous dose" in errors and "at least 8 h apart" in errors
    assert 'name="confirm_short_interval"' in response.content.decode()
    assert not DoseAdministration.objects.filter(treatment_day=9, slot="pm").exists()


def test_a_stale_new_dose_form_changes_nothing_and_says_so(client, clinician, patient):
    login(client, clinician)
    assert 'name="seen" value="empty"' in client.get(dose_url(patient)).content.decode()
    give(patient, clinician)  # recorded meanwhile, e.g. from another tab, at 08:00
    response = client.post(dose_url(patient), dose_payload(administered_time="08:15", seen="empty"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("dose_log", args=[patient.pk]) + "#day-1"
    assert (
        "The morning dose of treatment day 1 (2026-03-03) is already recorded as given at 08:00; nothing changed."
        in response.content.decode()
    )
    dose = DoseAdministration.objects.get()
    assert (dose.version, timezone.localtime(dose.administered_at, SHANGHAI).strftime("%H:%M")) == (1, "08:00")


def test_a_repeated_given_now_changes_nothing_and_says_so(client, clinician, day9):
    login(client, clinician)
    response = client.post(dose_url(day9, 9, "am"), {"given_now": "1", "dose": "9-am", "seen": "empty"}, follow=True)
    page = response.content.decode()
    assert 'class="alert alert-warning"' in page
    assert "already recorded as given at 08:02; nothing changed." in page
    assert DoseAdministration.objects.get(treatment_day=9, slot="am").version == 1


def test_a_given_now_button_records_only_the_slot_it_was_shown_for(client, clinician, patient, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 11, 20, 0, tzinfo=SHANGHAI))
    login(client, clinician)
    response = client.post(dose_url(patient, 9, "pm"), {"given_now": "1", "dose": "9-am", "seen": "empty"}, follow=True)
    assert "This button was for another dose (9-am)" in response.content.decode()
    assert not DoseAdministration.objects.exists()


# One dose


def test_dose_form_records_a_given_dose_in_site_time(client, clinician, patient):
    login(client, clinician)
    assert client.get(dose_url(patient)).status_code == 200
    response = client.post(dose_url(patient), dose_payload())
    assert response.status_code == 302
    dose = DoseAdministration.objects.get()
    assert timezone.localtime(dose.administered_at, SHANGHAI).strftime("%Y-%m-%d %H:%M") == "2026-03-03 08:15"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"status": "missed"}, "reason", "A missed dose needs its reason."),
        ({"amount_mg": "0"}, "amount_mg", "Amount must be more than 0 mg"),
        ({"amount_mg": "60"}, "amount_mg", "Amount must be at most 50 mg"),
        ({"administered_time": ""}, "administered_time", "Enter the time the dose was given."),
        (
            {"administered_date": (DAY0 + timedelta(1)).isoformat()},
            "administered_time",
            "The morning dose of treatment day 1 must be given on 2026-03-03 (site time), not 2026-03-04 08:15.",
        ),
        ({"status": "held", "reason": "Sepsis"}, "amount_mg", "A held dose has no amount (mg); leave it empty."),
    ],
)
def test_dose_form_names_field_and_limit(client, clinician, patient, overrides, field, message):
    login(client, clinician)
    response = client.post(dose_url(patient), dose_payload(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert not DoseAdministration.objects.exists()


def test_missed_dose_through_the_form(client, clinician, patient):
    login(client, clinician)
    response = client.post(dose_url(patient, 2, "pm"), {"status": "missed", "reason": "Child asleep, vomited"})
    assert response.status_code == 302
    assert DoseAdministration.objects.get().status == "missed"


def test_service_refusal_is_shown_on_the_form(client, clinician, patient):
    treatment_end_record(
        patient=patient, outcome="discontinued", reason="toxicity", last_dose_date=DAY0 + timedelta(2), user=clinician
    )
    login(client, clinician)
    response = client.post(dose_url(patient, 5), dose_payload(administered_date=(DAY0 + timedelta(4)).isoformat()))
    assert response.status_code == 200
    assert "is after the end of treatment (last dose 2026-03-05)" in response.content.decode()


def test_edit_needs_a_reason_and_keeps_it(client, clinician, patient):
    give(patient, clinician)
    login(client, clinician)
    page = client.get(dose_url(patient)).content.decode()
    assert 'name="version" value="1"' in page and 'name="reason_for_change"' in page
    response = client.post(dose_url(patient), dose_payload(amount_mg="2.5", version="1", reason_for_change=""))
    assert "reason_for_change" in response.context["form"].errors
    response = client.post(
        dose_url(patient), dose_payload(amount_mg="2.5", version="1", reason_for_change="Half tablet given")
    )
    assert response.status_code == 302
    dose = DoseAdministration.objects.get()
    assert (dose.amount_mg, dose.deviation, dose.version) == (Decimal("2.5"), True, 2)
    assert dose.history.order_by("-history_date").first().history_change_reason == "Half tablet given"


def test_concurrent_edit_answers_409_with_what_changed(client, clinician, coordinator, patient):
    give(patient, clinician)
    other = Client()
    login(other, coordinator)
    login(client, clinician)
    first = other.post(dose_url(patient), dose_payload(amount_mg="2.5", version="1", reason_for_change="Half"))
    assert first.status_code == 302
    second = client.post(dose_url(patient), dose_payload(administered_time="09:00", version="1", reason_for_change="x"))
    assert second.status_code == 409
    page = second.content.decode()
    assert "your changes were not saved" in page
    assert "<li>Amount (mg): 5 → 2.5</li>" in page  # the field's label, not amount_mg: 5.00 → 2.50
    assert DoseAdministration.objects.get().amount_mg == Decimal("2.5")


def test_unknown_day_or_slot_is_404(client, clinician, patient):
    login(client, clinician)
    assert client.get(dose_url(patient, 29, "am")).status_code == 404
    assert client.get(dose_url(patient, 1, "noon")).status_code == 404


# End of treatment and the rest


def test_treatment_end_page_refuses_day_27_and_saves_day_28(client, clinician, patient):
    login(client, clinician)
    url = reverse("treatment_end", args=[patient.pk])
    page = client.get(url).content.decode()
    assert 'id="last-treatment-day">2026-03-30<' in page
    response = client.post(url, {"outcome": "completed", "last_dose_date": "2026-03-29", "reason": ""})
    assert response.status_code == 200
    assert "Completed needs the last dose on treatment day 28" in " ".join(response.context["form"].errors["outcome"])
    response = client.post(url, {"outcome": "completed", "last_dose_date": "2026-03-30", "reason": ""})
    assert response.status_code == 302 and response["Location"] == reverse("treatment_summary", args=[patient.pk])
    patient.refresh_from_db()
    assert patient.status == Patient.Status.FOLLOW_UP
    summary = client.get(response["Location"]).content.decode()
    assert 'id="treatment-outcome">Completed 28 days<' in summary


def test_treatment_end_form_checks_reason_against_outcome(client, clinician, patient):
    login(client, clinician)
    url = reverse("treatment_end", args=[patient.pk])
    response = client.post(url, {"outcome": "discontinued", "last_dose_date": "2026-03-06", "reason": ""})
    assert "A discontinuation needs its reason" in " ".join(response.context["form"].errors["reason"])
    response = client.post(url, {"outcome": "completed", "last_dose_date": "2026-03-30", "reason": "toxicity"})
    assert "no discontinuation reason" in " ".join(response.context["form"].errors["reason"])
    response = client.post(url, {"outcome": "discontinued", "last_dose_date": "2999-01-01", "reason": "relapse"})
    assert "cannot be in the future" in " ".join(response.context["form"].errors["last_dose_date"])
    assert not TreatmentEnd.objects.exists()


def test_treatment_end_service_refusal_is_shown_on_the_form(client, clinician, patient):
    give(patient, clinician, day=10)
    login(client, clinician)
    response = client.post(
        reverse("treatment_end", args=[patient.pk]),
        {"outcome": "discontinued", "last_dose_date": "2026-03-08", "reason": "relapse"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["last_dose_date"] == [
        "Last dose date cannot be before a dose recorded as given on 2026-03-12."
    ]


def test_treatment_end_edit_with_reason_and_409(client, clinician, coordinator, patient):
    treatment_end_record(
        patient=patient, outcome="discontinued", reason="toxicity", last_dose_date=DAY0 + timedelta(5), user=clinician
    )
    login(client, clinician)
    url = reverse("treatment_end", args=[patient.pk])
    payload = {"outcome": "discontinued", "last_dose_date": "2026-03-08", "reason": "progression", "version": "1"}
    response = client.post(url, {**payload, "reason_for_change": "Progression confirmed"})
    assert response.status_code == 302
    response = client.post(url, {**payload, "reason": "relapse", "reason_for_change": "Stale"})
    assert response.status_code == 409
    assert "Reason: Progression → " not in response.content.decode()
    assert "Reason: Toxicity requiring discontinuation → Progression" in response.content.decode()


def test_subsequent_therapy_follow_up_and_death_pages(client, clinician, patient):
    treatment_end_record(
        patient=patient,
        outcome="discontinued",
        reason="no_response_day3",
        last_dose_date=DAY0 + timedelta(3),
        user=clinician,
    )
    login(client, clinician)
    add = reverse("subsequent_therapy_add", args=[patient.pk])
    assert client.get(add).status_code == 200
    response = client.post(
        add,
        {"regimen": "hlh1994", "start_date": "2026-03-07", "etoposide": "on", "dexamethasone": "on", "response": ""},
    )
    assert response.status_code == 302
    therapy = SubsequentTherapy.objects.get()
    edit = reverse("subsequent_therapy_edit", args=[patient.pk, therapy.pk])
    response = client.post(
        edit,
        {
            "regimen": "hlh1994",
            "start_date": "2026-03-07",
            "etoposide": "on",
            "dexamethasone": "on",
            "response": "cr",
            "outcome": "CR at week 8",
            "version": "1",
            "reason_for_change": "Response assessed",
        },
    )
    assert response.status_code == 302
    therapy.refresh_from_db()
    assert therapy.response == "cr"

    follow_up = reverse("follow_up_add", args=[patient.pk])
    response = client.post(follow_up, {"assessed_on": "2026-04-28", "vital_status": "dead", "hlh_relapse": "unknown"})
    assert response.status_code == 200
    assert "Enter the date of death." in " ".join(response.context["form"].errors["date_of_death"])
    response = client.post(
        follow_up,
        {
            "assessed_on": "2026-04-28",
            "vital_status": "dead",
            "hlh_relapse": "true",
            "date_of_death": "2026-04-20",
            "death_cause": "HLH relapse",
            "death_hlh_related": "true",
        },
    )
    assert response.status_code == 302
    assert FollowUp.objects.get().vital_status == "dead"
    assert Death.objects.get().cause == "HLH relapse"
    patient.refresh_from_db()
    assert patient.status == Patient.Status.OFF_STUDY

    death = reverse("death_record", args=[patient.pk])
    page = client.get(death).content.decode()
    assert 'name="reason_for_change"' in page
    response = client.post(
        death,
        {"date_of_death": "2026-04-21", "cause": "HLH relapse", "hlh_related": "true", "version": "1"},
    )
    assert "reason_for_change" in response.context["form"].errors
    assert "Death already recorded on 2026-04-20" in client.get(follow_up).content.decode()
    summary = client.get(reverse("treatment_summary", args=[patient.pk])).content.decode()
    assert "Died 2026-04-20" in summary and "HLH-1994" in summary and "Complete response" in summary


def test_summary_counts_doses(client, clinician, patient):
    give(patient, clinician, day=1)
    give(patient, clinician, day=1, slot="pm", amount="6")
    dose_record(
        patient=patient,
        treatment_day=2,
        slot="am",
        status="held",
        administered_at=None,
        amount_mg=None,
        reason="Platelets 5",
        user=clinician,
    )
    login(client, clinician)
    page = client.get(reverse("treatment_summary", args=[patient.pk])).content.decode()
    assert 'id="count-given">2 of 56<' in page
    assert 'id="count-held">1<' in page
    assert re.search(r'id="count-deviations">1<', page)


# Roles and sites


def test_monitor_reads_and_gets_403_on_every_write(client, monitor, clinician, current_patient):
    login(client, monitor)
    assert client.get(reverse("dose_log", args=[current_patient.pk])).status_code == 200
    assert 'name="given_now"' not in client.get(reverse("dose_log", args=[current_patient.pk])).content.decode()
    assert client.get(reverse("treatment_summary", args=[current_patient.pk])).status_code == 200
    assert client.post(dose_url(current_patient, 3, "am"), {"given_now": "1"}).status_code == 403
    assert client.get(dose_url(current_patient, 3, "am")).status_code == 403
    for name in ("treatment_end", "subsequent_therapy_add", "follow_up_add", "death_record"):
        assert client.post(reverse(name, args=[current_patient.pk]), {}).status_code == 403
    assert not DoseAdministration.objects.exists() and not TreatmentEnd.objects.exists()


def test_other_site_gets_404_everywhere(client, clinician_b, patient):
    login(client, clinician_b)
    for name in ("dose_log", "treatment_summary", "treatment_end", "subsequent_therapy_add", "follow_up_add"):
        assert client.get(reverse(name, args=[patient.pk])).status_code == 404
    assert client.get(reverse("death_record", args=[patient.pk])).status_code == 404
    assert client.post(dose_url(patient), {"given_now": "1"}).status_code == 404
    assert not DoseAdministration.objects.exists()
