"""The audit trail reads as a person writes, a page at a time, at a cost that does not grow with
the trial: values as shown on the forms, people by name, records as named on their pages, times
in the page's zone; keyset pages with older/newer links and filters."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.models import registered_models

from assessments.models import LabPanel, LabResult, ResponseAssessment, SupportiveCare, Visit
from assessments.services.labs import Measurement, lab_panel_save
from audit.selectors import Cursor, TrailFilter, patient_trail_page, record_trail, study_trail_page
from crf.writes import record_save
from patients.models import Patient, Screening
from tests.conftest import DAY0, PASSWORD, enroll_child

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def day7(patient) -> Visit:
    return Visit.objects.get(patient=patient, definition__code="D7")


def labs_with_temperature(patient, user, *, sampled_at: datetime):
    lab_panel_save(
        visit=day7(patient),
        sampled_at=sampled_at,
        values={"TEMP": Measurement(Decimal("38.2"), "°C", sampled_at)},
        panel_data={},
        user=user,
        visit_date=sampled_at.astimezone(ZoneInfo(patient.site.time_zone)).date(),
    )
    return LabPanel.objects.get(visit=day7(patient))


def response_with_detail(patient, user) -> ResponseAssessment:
    visit = day7(patient)
    assessment = ResponseAssessment(
        patient=patient,
        visit=visit,
        study_day=7,
        assessment_date=DAY0 + timedelta(days=7),
        computed_status="cr",
        computed_detail={"status": "cr", "label": "Complete response", "decided_by": "All markers normal."},
        inputs_digest="0" * 64,
        computed_at=datetime(2026, 3, 10, 1, 2, 3, 456789, tzinfo=UTC),
    )
    record_save(record=assessment, user=None, reason="Computed", created=True)
    return assessment


def supportive_care(patient, user, n: int) -> None:
    for day in range(n):
        record_save(
            record=SupportiveCare(patient=patient, kind="gcsf", given_on=DAY0 + timedelta(days=day % 28)),
            user=user,
            reason="Entered",
            created=True,
        )


# Readable values --------------------------------------------------------------------------


def test_a_json_detail_reads_as_key_value_sentences_and_a_user_by_name(patient, clinician, coordinator):
    assessment = response_with_detail(patient, clinician)
    assessment.confirmed_status = "cr"
    assessment.confirmed_by = coordinator
    assessment.confirmed_at = datetime(2026, 3, 11, 2, 0, 0, 123456, tzinfo=UTC)
    record_save(record=assessment, user=coordinator, reason="Confirmed")
    zone = ZoneInfo(patient.site.time_zone)

    confirmed, created = record_trail(model=ResponseAssessment, pk=assessment.pk, zone=zone)
    created_lines = {c.label: c.new for c in created.changes}
    assert created_lines["Computed detail · Label"] == "Complete response"
    assert created_lines["Computed detail · Decided by"] == "All markers normal."
    assert not any("{" in c.new for c in created.changes)
    expected_at = datetime(2026, 3, 10, 1, 2, 3, tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    assert created_lines["Computed at"] == expected_at  # the site's zone, no microseconds
    assert created.user == "system"
    changed = {c.label: (c.old, c.new) for c in confirmed.changes}
    assert changed["Confirmed by"] == ("—", f"{coordinator.first_name} ({coordinator.username})")
    assert changed["Confirmed status"] == ("—", "Complete response")
    assert confirmed.user == f"{coordinator.first_name} ({coordinator.username})"


def test_a_decimal_reads_without_trailing_zeros_and_a_record_as_named_on_its_page(client, patient, clinician):
    zone = ZoneInfo(patient.site.time_zone)
    sampled = datetime.combine(DAY0 + timedelta(days=7), time(8, 30), tzinfo=zone)
    panel = labs_with_temperature(patient, clinician, sampled_at=sampled)
    result = LabResult.objects.get(panel=panel, analyte="TEMP")
    assert str(result.value) == "38.2000"  # what the column keeps
    login(client, clinician)
    page = client.get(reverse("audit_patient", args=[patient.pk])).content.decode()
    assert "38.2000" not in page
    assert "Value:</span> <strong>38.2</strong>" in page
    visit_date = (DAY0 + timedelta(days=7)).isoformat()
    assert f"day 7 ({visit_date}) — patient {patient.subject_number}" in page  # the lab panel
    assert f"Maximum temperature, sampled {visit_date} — patient {patient.subject_number}" in page
    assert "assessments.labpanel:" not in page and "Labs " not in page


def test_trail_times_are_in_the_patients_site_zone_to_the_second(client, patient, clinician):
    zone = ZoneInfo(patient.site.time_zone)
    labs_with_temperature(
        patient, clinician, sampled_at=datetime.combine(DAY0 + timedelta(days=7), time(8, 30), tzinfo=zone)
    )
    row = LabResult.history.filter(analyte="TEMP").get()
    login(client, clinician)
    page = client.get(reverse("audit_patient", args=[patient.pk])).content.decode()
    local = row.history_date.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    assert f">{local}</time>" in page
    assert " UTC</td>" not in page
    assert f"{row.history_date.microsecond:06d}" not in page


# Keyset pages -----------------------------------------------------------------------------


def _walk(fetch) -> list:
    """Every entry, following the older links from the first page."""
    seen, page = [], fetch(None)
    while True:
        seen += page.entries
        if not page.older:
            return seen
        page = fetch(Cursor.parse(page.older))


def test_pages_of_the_patient_trail_cover_every_entry_once_newest_first(patient, clinician):
    supportive_care(patient, clinician, 12)
    everything = patient_trail_page(patient=patient, page_size=10_000).entries
    walked = _walk(lambda before: patient_trail_page(patient=patient, before=before, page_size=7))
    assert [(e.model, e.history_id) for e in walked] == [(e.model, e.history_id) for e in everything]
    keys = [(e.when, e.model, e.history_id) for e in walked]
    assert keys == sorted(keys, reverse=True)
    assert len(walked) == len({(e.model, e.history_id) for e in walked})  # none twice
    rows = 0
    for model in registered_models.values():
        columns = {f.name for f in model._meta.concrete_fields}
        if model is Patient:
            rows += model.history.filter(id=patient.pk).count()
        elif model is Screening:
            rows += model.history.filter(id=patient.screening_id).count()
        elif "patient" in columns:
            rows += model.history.filter(patient_id=patient.pk).count()
    assert len(walked) == rows


def test_the_newer_link_leads_back_to_the_page_before(patient, clinician):
    supportive_care(patient, clinician, 9)
    first = patient_trail_page(patient=patient, page_size=4)
    second = patient_trail_page(patient=patient, before=Cursor.parse(first.older), page_size=4)
    back = patient_trail_page(patient=patient, after=Cursor.parse(second.newer), page_size=4)
    assert [e.history_id for e in back.entries] == [e.history_id for e in first.entries]
    assert back.newer == ""  # the newest page has nothing newer


def test_the_study_trail_filters_by_form_user_date_and_patient(client, monitor, clinician, coordinator, site_a):
    first = enroll_child(site_a, clinician)
    second = enroll_child(site_a, clinician, initials="ABC")
    supportive_care(first, clinician, 2)
    supportive_care(second, coordinator, 3)
    login(client, monitor)
    url = reverse("audit_study")
    page = client.get(url, {"model": "assessments.supportivecare"})
    trail = page.context["trail"]
    assert len(trail) == 5 and {e.model for e in trail} == {"assessments.supportivecare"}
    by_user = client.get(url, {"model": "assessments.supportivecare", "user": "coord"}).context["trail"]
    assert len(by_user) == 3
    by_patient = client.get(url, {"patient": first.subject_number}).context["trail"]
    own = SupportiveCare.history.filter(patient_id=first.pk).count() + Visit.history.filter(patient_id=first.pk).count()
    assert len([e for e in by_patient if e.model in {"assessments.supportivecare", "assessments.visit"}]) == own
    assert all(second.subject_number not in e.record for e in by_patient)
    zone = ZoneInfo(site_a.time_zone)
    today = SupportiveCare.history.latest("history_date").history_date.astimezone(zone).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert client.get(url, {"since": tomorrow}).context["trail"] == []
    until_today = {"model": "assessments.supportivecare", "until": today.isoformat()}
    assert len(client.get(url, until_today).context["trail"]) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"before": "junk"},
        {"after": "2026-13-45T00:00:00+00:00~patients.patient~1"},
        {"before": "2026-03-01T00:00:00+00:00~nope.nothing~1"},
        {"since": "yesterday"},
        {"until": "2026-02-30"},
        {"model": "auth.permission"},
        {"since": "2026-03-09", "until": "2026-03-01"},
        {"patient": "BCH-999"},
    ],
)
def test_junk_cursors_and_filters_never_fail_the_page(client, monitor, patient, params):
    login(client, monitor)
    response = client.get(reverse("audit_study"), params)
    assert response.status_code == 200
    assert client.get(reverse("audit_patient", args=[patient.pk]), params).status_code == 200


def test_a_filter_that_cannot_be_read_is_named_and_left_out(client, monitor, patient):
    login(client, monitor)
    page = client.get(reverse("audit_study"), {"since": "yesterday", "model": "assessments.visit"})
    text = page.content.decode()
    assert "This filter was left out." in text
    assert {e.model for e in page.context["trail"]} == {"assessments.visit"}  # the other filter holds
    unknown = client.get(reverse("audit_study"), {"patient": "BCH-999"})
    assert "No patient BCH-999 at your sites." in unknown.content.decode() and unknown.context["trail"] == []


def _page_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["audit_study", "audit_patient"])
def test_a_trail_page_costs_the_same_statements_for_3_and_30_records(client, monitor, clinician, patient, page):
    login(client, monitor)
    url = reverse(page, args=[patient.pk] if page == "audit_patient" else [])
    params = {"model": "assessments.supportivecare"}
    supportive_care(patient, clinician, 3)
    few = _page_queries(client, url, params)
    supportive_care(patient, clinician, 27)
    many = _page_queries(client, url, params)
    assert few == many
    everything = _page_queries(client, url, {})
    patient_b = enroll_child(patient.site, clinician, initials="QQQ")
    supportive_care(patient_b, clinician, 30)
    assert _page_queries(client, url, {}) <= everything + 2  # one form more on the page: its rows and versions


def test_selectors_page_in_sql_not_in_python(patient, clinician):
    supportive_care(patient, clinician, 30)
    with CaptureQueriesContext(connection) as queries:
        page = study_trail_page(
            site_ids={patient.site_id}, trail_filter=TrailFilter(model_label="assessments.supportivecare"), page_size=5
        )
    assert len(page.entries) == 5 and page.older
    statements = [q["sql"] for q in queries.captured_queries]
    keyed = [sql for sql in statements if "historicalsupportivecare" in sql and "LIMIT 6" in sql]
    assert keyed and "ORDER BY" in keyed[0]


def test_a_patient_of_another_site_is_not_in_the_study_trail_even_by_id(site_a, site_b, clinician, clinician_b):
    theirs = enroll_child(site_b, clinician_b)
    supportive_care(theirs, clinician_b, 2)
    page = study_trail_page(site_ids={site_a.pk}, trail_filter=TrailFilter(patient_id=theirs.pk))
    assert page.entries == []
    own = study_trail_page(site_ids={site_b.pk}, trail_filter=TrailFilter(patient_id=theirs.pk), page_size=500)
    expected = SupportiveCare.history.filter(patient_id=theirs.pk).count()
    assert len([e for e in own.entries if e.model == "assessments.supportivecare"]) == expected == 2
