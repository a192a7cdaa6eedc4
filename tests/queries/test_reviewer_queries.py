"""Queries as reviewers use them: a field picked from the record's form, named as on the form, a
badge beside it on the form page, steps shown by permission, assignment, e-mails, ageing, CSV."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import LabPanel
from crf.edit_checks import target_of
from crf.models import DataQuery, QueryMessage
from patients.models import DoseAdministration, Screening
from queries.services import query_answer, query_close, query_raise, query_reopen
from tests.conftest import PASSWORD
from tests.review.test_review import save_day7
from trial.analytes import ANALYTES

pytestmark = pytest.mark.django_db


def login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def raise_on(client, patient, target, field, text="Please check against source.", **extra):
    return client.post(
        reverse("patient_queries", args=[patient.pk]), {"target": target, "field": field, "text": text, **extra}
    )


def test_the_raise_form_offers_each_records_fields_labelled_as_on_the_form(client, monitor, clinician, patient):
    panel = save_day7(patient, clinician).panel
    login(client, monitor)
    page = client.get(reverse("patient_queries", args=[patient.pk]), {"target": target_of(panel)}).content.decode()
    ferritin = Screening._meta.get_field("ferritin_ug_l").verbose_name
    assert f'<option value="ferritin_ug_l">{ferritin}</option>' in page.replace("&#x27;", "'")
    assert '<option value="HGB">Hemoglobin</option>' in page  # the lab page's label of HGB
    assert f'<option value="sampled_at">{LabPanel._meta.get_field("sampled_at").verbose_name}</option>' in page
    # The chosen record's form is the group offered; the others are hidden until chosen.
    assert re.search(r'<optgroup label="Lab panel" data-form="assessments.labpanel">', page)
    assert re.search(r'<optgroup label="Screening" data-form="patients.screening" disabled hidden>', page)


def test_a_field_not_on_the_records_form_is_refused_by_name_and_the_text_kept(client, monitor, patient):
    login(client, monitor)
    response = raise_on(client, patient, target_of(patient.screening), "amount_mg", text="Dose typed here?")
    page = response.content.decode()
    assert response.status_code == 400
    assert "“amount_mg” is not a field of the Screening form" in page
    assert "Dose typed here?</textarea>" in page
    assert not DataQuery.objects.filter(origin="manual").exists()
    with pytest.raises(Exception, match="not a field of the Enrollment form"):
        query_raise(patient=patient, target=target_of(patient), field="ferritin", text="x", user=monitor)
    assert not DataQuery.objects.filter(origin="manual").exists()


def test_pages_name_the_field_as_on_its_form_and_link_to_the_record(client, monitor, clinician, patient):
    panel = save_day7(patient, clinician).panel
    login(client, monitor)
    assert raise_on(client, patient, target_of(panel), "FERRITIN").status_code == 302
    query = DataQuery.objects.get(origin="manual")
    lab_page = reverse("lab_panel_edit", args=[panel.visit_id])
    detail = client.get(reverse("query_detail", args=[query.pk])).content.decode()
    assert f'href="{lab_page}#q-FERRITIN" id="query-record-link"' in detail
    assert f">{ANALYTES['FERRITIN'].label}</span>" in detail
    listing = client.get(reverse("query_list")).content.decode()
    assert f'<td class="small" data-field="FERRITIN">{ANALYTES["FERRITIN"].label}</td>' in listing
    assert f'<a href="{lab_page}">' in listing
    # An edit check's query names its field as the form does, too.
    dose = DataQuery(patient=patient, target=f"patients.doseadministration:{panel.pk}", field="amount_mg")
    from queries.selectors import field_label

    assert field_label(dose.target, dose.field) == DoseAdministration._meta.get_field("amount_mg").verbose_name


def _forms_on(page: str) -> set[str]:
    return set(re.findall(r'id="(answer|close|reopen|comment|assign)-form"', page))


def test_each_user_is_offered_only_the_steps_their_role_may_take(client, monitor, clinician, data_manager, patient):
    query = query_raise(patient=patient, target=target_of(patient), field="", text="Weight?", user=monitor)
    url = reverse("query_detail", args=[query.pk])
    assert _forms_on(login(client, clinician).get(url).content.decode()) == {"answer", "comment"}
    assert _forms_on(login(client, monitor).get(url).content.decode()) == {"close", "comment", "assign"}
    query_answer(query_id=query.pk, user=clinician, text="15 kg on the scale.")
    assert _forms_on(login(client, data_manager).get(url).content.decode()) == {"close", "reopen", "comment", "assign"}
    assert _forms_on(login(client, clinician).get(url).content.decode()) == {"comment"}
    query_close(query_id=query.pk, user=monitor, text="OK")
    assert _forms_on(login(client, clinician).get(url).content.decode()) == set()
    assert _forms_on(login(client, monitor).get(url).content.decode()) == {"reopen"}


def test_a_refused_step_shows_the_reason_with_the_text_typed(client, monitor, clinician, patient):
    query = query_raise(patient=patient, target=target_of(patient), field="", text="Weight?", user=monitor)
    query_answer(query_id=query.pk, user=clinician, text="First answer")
    login(client, clinician)
    response = client.post(reverse("query_action", args=[query.pk, "answer"]), {"text": "A second long answer"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "it cannot be answered" in page and "A second long answer" in page
    assert query.messages.count() == 2


def _badges(page: str) -> dict[str, list[str]]:
    """The query statuses shown beside each field of the lab page, by field name."""
    return {
        name: re.findall(r'data-query-status="(\w+)"', inner)
        for name, inner in re.findall(r'data-field-queries="(\w+)">(.*?)</span>', page)
        if inner
    }


def test_the_lab_page_shows_each_live_query_beside_its_field_in_constant_sql(client, monitor, clinician, patient):
    panel = save_day7(patient, clinician).panel
    url = reverse("lab_panel_edit", args=[panel.visit_id])
    first = query_raise(patient=patient, target=target_of(panel), field="FERRITIN", text="Unit?", user=monitor)
    login(client, monitor)
    with CaptureQueriesContext(connection) as one:
        assert _badges(client.get(url).content.decode()) == {"FERRITIN": ["open"]}
    for field in ("HGB", "PLAT", "cmv", "sampled_at"):
        query_raise(patient=patient, target=target_of(panel), field=field, text="Check", user=monitor)
    query_answer(query_id=first.pk, user=clinician, text="µg/L")
    closed = query_raise(patient=patient, target=target_of(panel), field="ALT", text="Check", user=monitor)
    query_close(query_id=closed.pk, user=monitor, text="Withdrawn")
    with CaptureQueriesContext(connection) as six:
        page = client.get(url).content.decode()
    assert _badges(page) == {
        "sampled_at": ["open"],
        "FERRITIN": ["answered"],
        "HGB": ["open"],
        "PLAT": ["open"],
        "cmv": ["open"],
    }
    assert len(six) == len(one)
    assert 'id="raise-query-link"' in page


def test_the_site_sees_the_badges_but_no_raise_link(client, monitor, clinician, patient):
    panel = save_day7(patient, clinician).panel
    query_raise(patient=patient, target=target_of(panel), field="", text="Whole panel?", user=monitor)
    page = login(client, clinician).get(reverse("lab_panel_edit", args=[panel.visit_id])).content.decode()
    assert _badges(page) == {"record": ["open"]}
    assert 'id="raise-query-link"' not in page


def test_a_query_is_assigned_to_a_user_of_the_patients_site_only(
    client, monitor, coordinator, clinician, clinician_b, patient
):
    login(client, monitor)
    response = raise_on(client, patient, target_of(patient), "", assignee=str(clinician_b.pk))
    assert response.status_code == 400
    assert "Assignee: choose a member of site BCH who answers queries." in response.content.decode()
    assert not DataQuery.objects.filter(origin="manual").exists()
    assert raise_on(client, patient, target_of(patient), "", assignee=str(coordinator.pk)).status_code == 302
    query = DataQuery.objects.get(origin="manual")
    assert query.assignee == coordinator
    client.post(reverse("query_action", args=[query.pk, "assign"]), {"assignee": str(clinician.pk)})
    query.refresh_from_db()
    assert query.assignee == clinician
    assert query.messages.last().action == QueryMessage.Action.ASSIGN
    login(client, clinician)
    assert client.post(reverse("query_action", args=[query.pk, "assign"]), {"assignee": ""}).status_code == 403
    query.refresh_from_db()
    assert query.assignee == clinician


def test_mails_go_to_the_assignee_or_the_site_the_raiser_and_the_site_again(
    monitor, coordinator, clinician, clinician_b, patient, django_capture_on_commit_callbacks
):
    for user in (monitor, coordinator, clinician, clinician_b):
        user.email = f"{user.username}@example.org"
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        assigned = query_raise(
            patient=patient, target=target_of(patient), field="", text="A", user=monitor, assignee_id=coordinator.pk
        )
    assert [m.to for m in mail.outbox] == [["coord_a@example.org"]]
    assert patient.subject_number in mail.outbox[0].subject and "Query raised" in mail.outbox[0].subject
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        query = query_raise(
            patient=patient, target=target_of(patient.screening), field="ferritin_ug_l", text="B", user=monitor
        )
    assert sorted(m.to[0] for m in mail.outbox) == ["clin_a@example.org", "coord_a@example.org"]
    assert "Ferritin (µg/L)" in mail.outbox[0].subject
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        query_answer(query_id=query.pk, user=clinician, text="Source says 3200.")
    assert [m.to for m in mail.outbox] == [["mon_a@example.org"]]
    assert "Source says 3200." in mail.outbox[0].body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        query_reopen(query_id=query.pk, user=monitor, text="Attach the sheet.")
    assert sorted(m.to[0] for m in mail.outbox) == ["clin_a@example.org", "coord_a@example.org"]
    assert assigned.status == "open"


def test_the_ageing_filter_counts_days_of_the_patients_site(client, monitor, patient, monkeypatch):
    # Beijing is UTC+8: at 01:00 UTC on 20 March it is already 09:00 there.
    now = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)
    rows = {}
    for name, raised in {
        "six_days": datetime(2026, 3, 14, 15, 30, tzinfo=UTC),  # 14 March, 23:30 in Beijing
        "five_days": datetime(2026, 3, 14, 16, 30, tzinfo=UTC),  # 15 March, 00:30 in Beijing
        "closed_old": datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    }.items():
        query = query_raise(patient=patient, target=target_of(patient), field="", text=name, user=monitor)
        DataQuery.objects.filter(pk=query.pk).update(created_at=raised)
        rows[name] = query
    query_close(query_id=rows["closed_old"].pk, user=monitor, text="Done")
    monkeypatch.setattr("trial.clock.now", lambda: now)
    login(client, monitor)
    page = client.get(reverse("query_list"), {"older_than": "5"}).content.decode()
    shown = set(re.findall(r'data-query="(\d+)"', page))
    assert shown == {str(rows["six_days"].pk)}
    assert re.search(rf'data-query="{rows["six_days"].pk}".*?<td class="small text-end">6</td>', page, re.S)
    page = client.get(reverse("query_list"), {"older_than": "4"}).content.decode()
    assert set(re.findall(r'data-query="(\d+)"', page)) == {str(rows["six_days"].pk), str(rows["five_days"].pk)}
    page = client.get(reverse("query_list"), {"older_than": "99999"}).content.decode()
    assert "must be at most 3650" in page and "Open for more than (days)" in page


def test_the_csv_export_is_the_filtered_list_with_formulas_neutralised(client, monitor, clinician_b, site_b, patient):
    from tests.conftest import enroll_child

    other = enroll_child(site_b, clinician_b)
    query_raise(patient=patient, target=target_of(patient), field="prescribed_dose_mg", text="=1+1", user=monitor)
    closed = query_raise(patient=patient, target=target_of(patient), field="", text="Closed one", user=monitor)
    query_close(query_id=closed.pk, user=monitor, text="Done")
    assert other.site_id != patient.site_id
    login(client, monitor)
    response = client.get(reverse("query_export"), {"status": "open"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["question"] for row in table] == ["'=1+1"]
    assert table[0]["field"] == "Prescribed dose (mg, twice daily)" and table[0]["field_name"] == "prescribed_dose_mg"
    assert table[0]["subject_number"] == patient.subject_number and table[0]["status"] == "Open"
    assert table[0]["record_url"].endswith(reverse("patient_overview", args=[patient.pk]))
    bad = client.get(reverse("query_export"), {"older_than": "-1"})
    assert bad.status_code == 400 and "must be at least 0" in bad.content.decode()


def test_the_screening_pages_list_each_query_by_its_fields_label_beside_that_field(client, monitor, clinician, patient):
    screening = patient.screening
    query_raise(patient=patient, target=target_of(screening), field="ferritin_ug_l", text="3020?", user=monitor)
    label = str(Screening._meta.get_field("ferritin_ug_l").verbose_name)  # a lazy translation
    edit = login(client, clinician).get(reverse("screening_edit", args=[screening.pk])).content.decode()
    assert re.search(rf'data-place-beside="id_ferritin_ug_l">{re.escape(label)}\s*<span[^>]*data-field-queries', edit)
    assert 'for="id_ferritin_ug_l"' in edit  # the label the page's script sets the badge beside
    assert "js/field_queries.js" in edit
    detail = login(client, monitor).get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert re.search(
        rf'{re.escape(label)}\s*<span[^>]*data-field-queries="ferritin_ug_l"><a[^>]*data-query-status="open"', detail
    )
    assert 'id="raise-query-link"' in detail


def test_the_csv_export_for_excel_starts_with_the_byte_order_mark(client, monitor, patient):
    query_raise(patient=patient, target=target_of(patient), field="", text="体重请核实", user=monitor)
    login(client, monitor)
    plain = client.get(reverse("query_export")).content
    excel = client.get(reverse("query_export"), {"excel": "1"}).content
    assert excel.startswith(b"\xef\xbb\xbf") and not plain.startswith(b"\xef\xbb\xbf")
    assert excel[3:] == plain
    assert "体重请核实".encode() in excel
