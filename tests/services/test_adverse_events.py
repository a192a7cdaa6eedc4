"""Adverse event services on PostgreSQL (protocol section 10): validation, lab-based suggestions,
accept/dismiss, and the at-once notification of a serious adverse event."""

import smtplib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError

from assessments.models import AdverseEvent, CtcaeTerm, LabAESuggestion, LabPanel, LabResult
from assessments.services.adverse_events import (
    adverse_event_record,
    adverse_event_update,
    lab_ae_suggestion_accept,
    lab_ae_suggestion_dismiss,
    lab_ae_suggestions_create,
    sae_recipients,
)
from notifications.models import Notification
from notifications.services import notification_email_deliver
from notifications.tasks import notification_email_send
from patients.models import Death, Screening
from patients.services import patient_enroll, screening_create
from tests.conftest import SCREENING_DAY, eligible_data, make_user
from trial.models import Role, SiteMembership
from trial.versioning import ConcurrentEditError

pytestmark = pytest.mark.django_db

ENROLLED = SCREENING_DAY  # 2026-03-02; day 0 is the next day


@pytest.fixture(autouse=True)
def _celery_eager():
    """E-mail tasks run in-process here, whatever the environment says."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def enroll(site, user, **screening):
    screening = screening_create(site=site, data=eligible_data(**screening), user=user)
    return patient_enroll(
        screening_id=screening.pk,
        enrollment_date=ENROLLED,
        first_dose_date=ENROLLED + timedelta(days=1),
        enrollment_weight_kg=Decimal("15.0"),
        prescribed_dose_mg=Decimal("5"),
        user=user,
    )


@pytest.fixture
def patient(site_a, clinician):
    # Baseline (screening): Hb 80 g/L, ANC 0.8, platelets 45 x10^9/L, ALT 90 U/L.
    return enroll(site_a, clinician)


def term(code: str) -> CtcaeTerm:
    return CtcaeTerm.objects.get(code=code)


def ae_data(**overrides) -> dict:
    data = {
        "term": term("IN102"),  # Febrile neutropenia
        "other_specify": "",
        "grade": 3,
        "onset_date": ENROLLED + timedelta(days=4),
        "resolution_date": None,
        "serious": False,
        "relationship": "possible",
        "action_taken": "none",
        "outcome": "recovering",
        "description": "",
    }
    data.update(overrides)
    return data


def refused(patient, user, **overrides) -> dict:
    with pytest.raises(ValidationError) as caught:
        adverse_event_record(patient=patient, data=ae_data(**overrides), user=user)
    return caught.value.message_dict


# Validation: what the database and any API must never accept.


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"grade": 0}, "grade", "Grade must be 1 to 5 (CTCAE v3.0: 1 mild to 5 death); entered 0."),
        ({"grade": 6}, "grade", "Grade must be 1 to 5 (CTCAE v3.0: 1 mild to 5 death); entered 6."),
        ({"onset_date": date(2026, 3, 1)}, "onset_date", "Onset date cannot be before enrollment (2026-03-02)."),
        ({"onset_date": date(2999, 1, 1)}, "onset_date", "Onset date cannot be in the future (after "),
        (
            {"resolution_date": date(2026, 3, 5)},
            "resolution_date",
            "Resolution date cannot be before the onset date (2026-03-06).",
        ),
        ({"term": None}, "term", "Choose a CTCAE v3.0 term, or describe the event under 'Other, specify'."),
        (
            {"term": "BL999"},
            "other_specify",
            "'Hematologic-other' (BL999) needs the event specified in 'Other, specify'.",
        ),
        (
            {"other_specify": "with rigors"},
            "other_specify",
            "'Other, specify' is for a CTCAE '-other' term; 'Febrile neutropenia' (IN102) is specific.",
        ),
        ({"serious": True}, "serious", "A serious adverse event needs at least one seriousness criterion"),
        (
            {"sae_hospitalisation": True},
            "serious",
            "Seriousness criteria are ticked (Hospitalisation (initial or prolonged)) but 'Serious' is No.",
        ),
        (
            {"grade": 5, "outcome": "fatal", "serious": True, "sae_death": True},
            "grade",
            "Grade 5 (death) needs the patient's death recorded first (date and cause of death).",
        ),
        ({"outcome": "fatal"}, "outcome", "Outcome 'Fatal' is a grade 5 event (death); the grade entered is 3."),
        ({"relationship": "maybe"}, "relationship", "Relationship to ruxolitinib: choose one of Unrelated, Unlikely"),
    ],
)
def test_invalid_event_is_refused_naming_field_and_limit(patient, clinician, overrides, field, message):
    if overrides.get("term") == "BL999":
        overrides["term"] = term("BL999")
    errors = refused(patient, clinician, **overrides)
    assert field in errors
    assert any(m.startswith(message) for m in errors[field]), errors[field]
    assert not AdverseEvent.objects.exists()


def test_grade_5_with_a_death_recorded_needs_fatal_outcome_and_death_criterion(patient, clinician):
    Death.objects.create(patient=patient, date_of_death=ENROLLED + timedelta(days=9), cause="Multi-organ failure")
    errors = refused(patient, clinician, grade=5, outcome="not_recovered")
    assert errors["outcome"] == ["A grade 5 event has the outcome 'Fatal'."]
    assert errors["sae_death"] == ["A grade 5 event is serious with the criterion 'Results in death'."]
    assert "grade" not in errors
    ae = adverse_event_record(
        patient=patient,
        data=ae_data(grade=5, outcome="fatal", serious=True, sae_death=True, onset_date=ENROLLED + timedelta(days=9)),
        user=clinician,
    )
    assert (ae.grade, ae.outcome, ae.serious) == (5, "fatal", True)


def test_term_may_be_given_as_an_id_and_unknown_ids_are_refused(patient, clinician):
    ae = adverse_event_record(patient=patient, data=ae_data(term=term("GI110").pk), user=clinician)
    assert ae.term.term == "Diarrhea w/o prior colostomy"
    errors = refused(patient, clinician, term=999999)
    assert errors == {"term": ["Unknown CTCAE term 999999."]}


def test_other_term_with_text_is_saved_with_both(patient, clinician):
    ae = adverse_event_record(
        patient=patient, data=ae_data(term=term("BL999"), other_specify="  Marrow hypoplasia "), user=clinician
    )
    assert ae.term_label == "Hematologic-other: Marrow hypoplasia"
    assert ae.source == AdverseEvent.Source.MANUAL
    assert ae.version == 1 and ae.created_by == clinician
    assert ae.history.first().history_change_reason == "Adverse event entered"


def test_update_needs_reason_and_version_and_keeps_history(patient, clinician, coordinator):
    ae = adverse_event_record(patient=patient, data=ae_data(), user=clinician)
    with pytest.raises(ValidationError) as caught:
        adverse_event_update(
            ae_id=ae.pk, data={"grade": 4}, expected_version=1, user=coordinator, reason_for_change="  "
        )
    assert caught.value.message_dict == {"reason_for_change": ["A reason is required to change a saved adverse event."]}
    ae = adverse_event_update(
        ae_id=ae.pk,
        data={"grade": 4, "resolution_date": ENROLLED + timedelta(days=8), "outcome": "recovered"},
        expected_version=1,
        user=coordinator,
        reason_for_change="Source document: ICU admission",
    )
    assert (ae.grade, ae.version, ae.outcome) == (4, 2, "recovered")
    latest = ae.history.order_by("-history_date").first()
    assert latest.history_change_reason == "Source document: ICU admission"
    assert latest.history_user == coordinator
    with pytest.raises(ConcurrentEditError) as conflict:
        adverse_event_update(
            ae_id=ae.pk, data={"grade": 2}, expected_version=1, user=clinician, reason_for_change="Typo"
        )
    assert conflict.value.changes["grade"] == ("3", "4")
    ae.refresh_from_db()
    assert ae.grade == 4


def test_update_is_validated_against_the_whole_record(patient, clinician):
    ae = adverse_event_record(patient=patient, data=ae_data(), user=clinician)
    with pytest.raises(ValidationError) as caught:
        adverse_event_update(
            ae_id=ae.pk, data={"resolution_date": ENROLLED}, expected_version=1, user=clinician, reason_for_change="Fix"
        )
    assert caught.value.message_dict == {
        "resolution_date": ["Resolution date cannot be before the onset date (2026-03-06)."]
    }
    ae.refresh_from_db()
    assert ae.resolution_date is None and ae.version == 1


# Serious adverse events notify at once (in-app and e-mail).


@pytest.fixture
def audience(site_a, site_b, coordinator, monitor, clinician, data_manager):
    """Who is told of an SAE at site A: its coordinators and its monitors, nobody of site B."""
    coordinator_b = make_user("coord_b", Role.COORDINATOR, site_b)
    monitor_b = make_user("mon_b", Role.MONITOR, site_b)
    retired = make_user("mon_old", Role.MONITOR, site_a)
    retired.is_active = False
    retired.save()
    for user in (coordinator, monitor, clinician, data_manager, coordinator_b, monitor_b, retired):
        user.email = f"{user.username}@example.org"
        user.save()
    return {"expected": {coordinator.username, monitor.username}}


def serious_data(**overrides):
    return ae_data(serious=True, sae_hospitalisation=True, sae_life_threatening=True, grade=4, **overrides)


def test_sae_notifies_site_coordinators_and_site_monitors_once_each(
    patient, clinician, audience, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ae = adverse_event_record(patient=patient, data=serious_data(), user=clinician)
    notes = Notification.objects.filter(source_key=f"sae:{ae.pk}")
    assert {n.recipient.username for n in notes} == audience["expected"]
    assert {n.kind for n in notes} == {"sae"}
    first = notes.first()
    assert first.title == f"Serious adverse event: {patient.subject_number}, Febrile neutropenia grade 4"
    assert "Seriousness: Life-threatening, Hospitalisation (initial or prolonged)." in first.body
    assert first.link == f"/patients/{patient.pk}/adverse-events/#ae-{ae.pk}"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"{u}@example.org" for u in audience["expected"])
    assert all(len(m.to) == 1 for m in mail.outbox)
    assert mail.outbox[0].subject == first.title
    assert all(n.emailed_at is not None for n in notes)


def test_sae_recipients_are_the_holders_of_the_alert_permission_not_a_role_name(site_a, site_b, patient, audience):
    """Who is alerted follows the permission: granted to one user directly, withdrawn from a role."""
    from django.contrib.auth.models import Group, Permission

    alert = Permission.objects.get(content_type__app_label="notifications", codename="receive_sae_alert")
    physician = User.objects.create_user(username="pi_direct", password="x")
    SiteMembership.objects.create(user=physician, site=site_a)
    physician.user_permissions.add(alert)
    outsider = User.objects.create_user(username="pi_site_b", password="x")
    SiteMembership.objects.create(user=outsider, site=site_b)
    outsider.user_permissions.add(alert)
    assert {u.username for u in sae_recipients(patient=patient)} == audience["expected"] | {"pi_direct"}
    Group.objects.get(name=Role.MONITOR.value).permissions.remove(alert)
    assert {u.username for u in sae_recipients(patient=patient)} == {"coord_a", "pi_direct"}


def test_saving_a_serious_event_again_does_not_notify_again(
    patient, clinician, audience, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ae = adverse_event_record(patient=patient, data=serious_data(), user=clinician)
    with django_capture_on_commit_callbacks(execute=True):
        adverse_event_update(
            ae_id=ae.pk,
            data={"description": "Now in ICU"},
            expected_version=1,
            user=clinician,
            reason_for_change="Detail",
        )
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 2


def test_an_event_that_becomes_serious_notifies_then(patient, clinician, audience, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ae = adverse_event_record(patient=patient, data=ae_data(), user=clinician)
    assert Notification.objects.count() == 0 and len(mail.outbox) == 0
    with django_capture_on_commit_callbacks(execute=True):
        adverse_event_update(
            ae_id=ae.pk,
            data={"serious": True, "sae_hospitalisation": True},
            expected_version=1,
            user=clinician,
            reason_for_change="Admitted to hospital",
        )
    assert {n.recipient.username for n in Notification.objects.all()} == audience["expected"]
    assert len(mail.outbox) == 2


def test_email_is_not_queued_before_the_commit(patient, clinician, audience, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        adverse_event_record(patient=patient, data=serious_data(), user=clinician)
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 0
    assert len(callbacks) == 1


def test_email_task_is_idempotent_and_retries_smtp_errors(
    patient, clinician, audience, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        adverse_event_record(patient=patient, data=serious_data(), user=clinician)
    note = Notification.objects.order_by("id").first()
    assert notification_email_deliver(notification_id=note.pk) is True
    assert notification_email_deliver(notification_id=note.pk) is False
    assert len(mail.outbox) == 1

    other = Notification.objects.order_by("id").last()
    real_send = mail.send_mail
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return real_send(*args, **kwargs)

    with mock.patch("notifications.services.send_mail", side_effect=flaky):
        result = notification_email_send.apply(args=[other.pk], throw=False)
    assert result.successful() and result.result is True
    assert len(calls) == 2
    assert len(mail.outbox) == 2
    other.refresh_from_db()
    assert other.emailed_at is not None
    assert notification_email_send.acks_late is True


def test_user_without_email_keeps_the_in_app_notification_only(
    patient, clinician, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        adverse_event_record(patient=patient, data=serious_data(), user=clinician)
    note = Notification.objects.get(recipient=coordinator)
    assert note.emailed_at is None
    assert len(mail.outbox) == 0


# Lab-based suggestions.


def sampled(day: int, hour: int = 2) -> datetime:
    """A sampling time on study day `day` (02:00 UTC is 10:00 in Beijing, the same date)."""
    return datetime.combine(ENROLLED + timedelta(days=1 + day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


REFERENCE = {"HGB": ("110", "160"), "NEUT": ("2.0", "7.0"), "PLAT": ("100", "300"), "ALT": (None, "40")}
UNITS = {"HGB": "g/L", "NEUT": "10^9/L", "PLAT": "10^9/L", "ALT": "U/L", "FERRITIN": "µg/L"}


def panel_with(patient, values: dict, *, day: int = 7, hour: int = 2, reference=REFERENCE) -> LabPanel:
    visit = patient.visits.filter(planned_day=day).first() or patient.visits.order_by("planned_day").last()
    panel = LabPanel.objects.create(patient=patient, visit=visit, sampled_at=sampled(day, hour))
    for code, value in values.items():
        low, high = reference.get(code, (None, None))
        LabResult.objects.create(
            panel=panel,
            patient=patient,
            analyte=code,
            value=Decimal(str(value)),
            unit=UNITS[code],
            sampled_at=sampled(day, hour),
            reference_low=low,
            reference_high=high,
        )
    return panel


def set_value(panel, code, value, unit=None):
    result = panel.results.get(analyte=code)
    result.value = Decimal(str(value))
    if unit:
        result.unit = unit
    result.save()


def pending(panel) -> set[tuple[str, str, int]]:
    return {
        (s.lab_result.analyte, s.term.code, s.grade)
        for s in LabAESuggestion.objects.filter(lab_result__panel=panel, status="pending")
    }


def test_only_grades_worse_than_baseline_are_suggested(patient):
    # Baseline Hb 80 (grade 2), ANC 0.8 (grade 3), platelets 45 (grade 3), ALT 90 (grade 1 with ULN 40).
    panel = panel_with(patient, {"HGB": 70, "NEUT": 0.9, "PLAT": 20, "ALT": 250, "FERRITIN": 9000})
    created = lab_ae_suggestions_create(panel=panel)
    assert len(created) == 3
    assert pending(panel) == {("HGB", "BL104", 3), ("PLAT", "BL111", 4), ("ALT", "ME105", 3)}
    hgb = LabAESuggestion.objects.get(lab_result__analyte="HGB")
    assert hgb.explanation == (
        "Hemoglobin 70 g/L is < 80-65 g/L (LLN 110 g/L): CTCAE v3.0 Hemoglobin grade 3. Baseline 80 g/L: grade 2."
    )
    assert hgb.patient == patient and hgb.status == "pending"


def test_suggestions_are_idempotent(patient):
    panel = panel_with(patient, {"HGB": 70, "PLAT": 20})
    first = lab_ae_suggestions_create(panel=panel)
    rows = {s.pk: s.history.count() for s in first}
    second = lab_ae_suggestions_create(panel=panel)
    assert {s.pk for s in second} == set(rows)
    assert {s.pk: s.history.count() for s in second} == rows
    assert LabAESuggestion.objects.count() == 2


def test_corrected_values_update_or_remove_pending_suggestions(patient):
    panel = panel_with(patient, {"HGB": 70, "PLAT": 20, "ALT": 250})
    lab_ae_suggestions_create(panel=panel)
    set_value(panel, "HGB", 85)  # grade 2, as at baseline: no longer a new event
    set_value(panel, "ALT", 900)  # > 20 x ULN: grade 4
    lab_ae_suggestions_create(panel=panel)
    assert pending(panel) == {("PLAT", "BL111", 4), ("ALT", "ME105", 4)}
    alt = LabAESuggestion.objects.get(lab_result__analyte="ALT")
    assert alt.explanation.startswith("ALT 900 U/L is > 20 x ULN (> 800 U/L) (ULN 40 U/L)")


def test_decided_suggestions_are_never_touched(patient, clinician):
    panel = panel_with(patient, {"PLAT": 20, "HGB": 70})
    lab_ae_suggestions_create(panel=panel)
    plat = LabAESuggestion.objects.get(lab_result__analyte="PLAT")
    hgb = LabAESuggestion.objects.get(lab_result__analyte="HGB")
    lab_ae_suggestion_dismiss(suggestion_id=plat.pk, user=clinician, reason="Known HLH thrombocytopenia")
    lab_ae_suggestion_accept(
        suggestion_id=hgb.pk,
        user=clinician,
        data={"relationship": "unlikely", "action_taken": "none", "outcome": "recovering"},
    )
    set_value(panel, "PLAT", 90)
    set_value(panel, "HGB", 20)
    lab_ae_suggestions_create(panel=panel)
    plat.refresh_from_db()
    hgb.refresh_from_db()
    assert (plat.status, plat.grade, plat.dismissed_reason) == ("dismissed", 4, "Known HLH thrombocytopenia")
    assert (hgb.status, hgb.grade) == ("accepted", 3)
    assert pending(panel) == set()


def test_missing_row_limits_fall_back_to_the_site_reference_range(patient):
    # The trial's default hemoglobin range is 110-160 g/L, ALT <= 40 U/L (trial seed).
    panel = panel_with(patient, {"HGB": 70, "ALT": 250}, reference={})
    lab_ae_suggestions_create(panel=panel)
    assert pending(panel) == {("HGB", "BL104", 3), ("ALT", "ME105", 3)}


def test_hemoglobin_in_g_per_dl_is_graded_in_g_per_l(patient):
    panel = panel_with(patient, {"HGB": 7.0}, reference={"HGB": ("11.0", "16.0")})
    set_value(panel, "HGB", "6.4", unit="g/dL")
    LabResult.objects.filter(panel=panel).update(unit="g/dL")
    lab_ae_suggestions_create(panel=panel)
    assert pending(panel) == {("HGB", "BL104", 4)}  # 64 g/L < 65


def test_no_baseline_value_counts_as_grade_0(patient):
    Screening.objects.filter(pk=patient.screening_id).update(hemoglobin_g_l=None)
    panel = panel_with(patient, {"HGB": 105})
    lab_ae_suggestions_create(panel=panel)
    suggestion = LabAESuggestion.objects.get()
    assert (suggestion.grade, suggestion.term.code) == (1, "BL104")
    assert suggestion.explanation.endswith("No baseline value: compared with grade 0.")


def test_values_sampled_before_enrollment_are_baseline_not_events(patient):
    panel = panel_with(patient, {"HGB": 40}, day=-2)
    assert lab_ae_suggestions_create(panel=panel) == []
    assert not LabAESuggestion.objects.exists()


def test_accepting_creates_the_lab_event_on_the_sampling_date_where_the_site_is(
    patient, clinician, audience, django_capture_on_commit_callbacks
):
    # 20:00 UTC on study day 7 is 04:00 the next morning in Beijing.
    panel = panel_with(patient, {"NEUT": 0.3}, hour=20)
    [suggestion] = lab_ae_suggestions_create(panel=panel)
    with django_capture_on_commit_callbacks(execute=True):
        ae = lab_ae_suggestion_accept(
            suggestion_id=suggestion.pk,
            user=clinician,
            data={
                "relationship": "possible",
                "action_taken": "interrupted",
                "outcome": "recovering",
                "serious": True,
                "sae_hospitalisation": True,
                # Term, grade and onset come from the lab value whatever is sent.
                "grade": 1,
                "term": term("GI110"),
            },
        )
    assert (ae.term.code, ae.grade, ae.source) == ("BL110", 4, "lab")
    assert ae.onset_date == ENROLLED + timedelta(days=9)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.adverse_event, suggestion.decided_by) == ("accepted", ae, clinician)
    assert len(mail.outbox) == 2  # a serious lab event notifies like any other: the site's coordinator and monitor
    with pytest.raises(ValidationError) as caught:
        lab_ae_suggestion_accept(suggestion_id=suggestion.pk, user=clinician, data={})
    assert caught.value.messages == ["This suggestion was already accepted."]
    assert AdverseEvent.objects.count() == 1


def test_accepting_checks_the_clinicians_answers(patient, clinician):
    panel = panel_with(patient, {"NEUT": 0.3})
    [suggestion] = lab_ae_suggestions_create(panel=panel)
    with pytest.raises(ValidationError) as caught:
        lab_ae_suggestion_accept(suggestion_id=suggestion.pk, user=clinician, data={"relationship": "possible"})
    assert set(caught.value.message_dict) == {"action_taken", "outcome"}
    suggestion.refresh_from_db()
    assert suggestion.status == "pending" and not AdverseEvent.objects.exists()


def test_dismissing_needs_a_reason_and_records_it(patient, clinician):
    panel = panel_with(patient, {"PLAT": 20})
    [suggestion] = lab_ae_suggestions_create(panel=panel)
    with pytest.raises(ValidationError) as caught:
        lab_ae_suggestion_dismiss(suggestion_id=suggestion.pk, user=clinician, reason="   ")
    assert caught.value.message_dict == {"reason": ["Give the reason for dismissing this suggestion."]}
    dismissed = lab_ae_suggestion_dismiss(
        suggestion_id=suggestion.pk, user=clinician, reason="Thrombocytopenia of HLH, improving"
    )
    assert (dismissed.status, dismissed.dismissed_reason, dismissed.decided_by) == (
        "dismissed",
        "Thrombocytopenia of HLH, improving",
        clinician,
    )
    assert dismissed.decided_at is not None
    assert dismissed.history.order_by("-history_date").first().history_change_reason.startswith("Dismissed: ")
    assert not AdverseEvent.objects.exists()


def test_text_values_from_an_api_are_read_or_refused_by_name(patient, clinician):
    ae = adverse_event_record(
        patient=patient,
        data=ae_data(term=str(term("GI110").pk), grade="2", onset_date="2026-03-07", resolution_date=""),
        user=clinician,
    )
    assert (ae.term.code, ae.grade, ae.onset_date, ae.resolution_date) == ("GI110", 2, date(2026, 3, 7), None)
    assert refused(patient, clinician, onset_date="07/03/2026") == {
        "onset_date": ["Onset date: enter a date as YYYY-MM-DD."]
    }
    assert refused(patient, clinician, term="")["term"] == [
        "Choose a CTCAE v3.0 term, or describe the event under 'Other, specify'."
    ]


def test_overlong_other_text_and_text_booleans_from_an_api(patient, clinician):
    errors = refused(patient, clinician, term=term("BL999"), other_specify="x" * 201)
    assert errors == {"other_specify": ["'Other, specify' must be at most 200 characters (entered 201)."]}
    ae = adverse_event_record(patient=patient, data=ae_data(serious="false", sae_death="false"), user=clinician)
    assert (ae.serious, ae.sae_death) == (False, False)
