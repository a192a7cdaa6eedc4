"""Every form page shows its records' live queries: listed at the top with a link to the record,
and each beside the field it is on (the adverse events, doses, G-CSF and transfusions,
responses, end of treatment, subsequent therapy, follow-up and death), in one statement."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import ResponseAssessment
from assessments.services.adverse_events import adverse_event_record
from assessments.services.labs import supportive_care_record
from assessments.services.responses import response_assess_patient
from crf.catalogue import form_of, target_of
from patients.services.treatment import (
    death_record,
    dose_record,
    follow_up_record,
    subsequent_therapy_record,
    treatment_end_record,
)
from queries.services import query_raise
from tests.conftest import DAY0, PASSWORD
from tests.services.test_adverse_events import ae_data
from tests.services.test_responses import NORMAL, record

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def ask(patient, record, field, monitor, text="Please check against source."):
    assert field == "" or field in dict(form_of(record).labelled_fields), field
    return query_raise(patient=patient, target=target_of(record), field=field, text=text, user=monitor)


def badges(html: str) -> dict[str, list[str]]:
    """The query statuses shown beside each field, by field name (placed, listed or in a row)."""
    found: dict[str, list[str]] = {}
    for name, inner in re.findall(r'data-field-queries="(\w+)">(.*?)</span>', html, re.S):
        found.setdefault(name, []).extend(re.findall(r'data-query-status="(\w+)"', inner))
    return {name: statuses for name, statuses in found.items() if statuses}


def listed(html: str) -> str:
    """The list of the page's queries at its top."""
    match = re.search(r'<div class="card border-danger-subtle mb-3" id="page-queries">(.*?)</div></div>', html, re.S)
    return match.group(1) if match else ""


def an_ae(patient, clinician, **overrides):
    return adverse_event_record(patient=patient, data=ae_data(**overrides), user=clinician)


def a_dose(patient, clinician, day=1):
    return dose_record(
        patient=patient,
        treatment_day=day,
        slot="am",
        status="given",
        administered_at=datetime.combine(DAY0 + timedelta(days=day - 1), time(8), tzinfo=SHANGHAI),
        amount_mg=Decimal("5"),
        reason="",
        user=clinician,
    )


def an_end(patient, clinician):
    return treatment_end_record(
        patient=patient,
        outcome="discontinued",
        reason="no_response_day3",
        last_dose_date=DAY0 + timedelta(days=3),
        user=clinician,
    )


def test_the_adverse_event_list_and_form_show_a_query_on_a_field(client, monitor, clinician, patient):
    ae = an_ae(patient, clinician)
    ask(patient, ae, "grade", monitor)
    page = login(client, clinician).get(reverse("ae_list", args=[patient.pk])).content.decode()
    row = re.search(rf'<tr id="ae-{ae.pk}".*?</tr>', page, re.S).group(0)
    assert badges(row) == {"grade": ["open"]}
    assert f'#ae-{ae.pk}"' in listed(page)
    assert "Adverse event" in listed(page) and "Grade" in listed(page)
    form = client.get(reverse("ae_edit", args=[ae.pk])).content.decode()
    assert re.search(r'data-place-beside="id_grade">Grade\s*<span[^>]*data-field-queries="grade"><a[^>]*open', form)
    assert "js/field_queries.js" in form


def test_the_dose_form_shows_a_query_on_the_amount(client, monitor, clinician, patient):
    dose = a_dose(patient, clinician)
    ask(patient, dose, "amount_mg", monitor)
    form = login(client, clinician).get(reverse("dose_record", args=[patient.pk, 1, "am"])).content.decode()
    assert badges(form) == {"amount_mg": ["open"]}
    assert 'data-place-beside="id_amount_mg"' in form and "js/field_queries.js" in form


def test_the_dose_grid_shows_each_doses_queries_in_its_cell_in_one_statement(client, monitor, clinician, patient):
    first, second, third = (a_dose(patient, clinician, day=day) for day in (1, 2, 3))
    ask(patient, first, "amount_mg", monitor)
    url = reverse("dose_log", args=[patient.pk])
    login(client, clinician)
    with CaptureQueriesContext(connection) as one:
        page = client.get(url).content.decode()

    def cell(day):
        return re.search(rf'<td id="dose-{day}-am".*?</td>', page, re.S).group(0)

    assert re.findall(r'data-query-status="(\w+)"', cell(1)) == ["open"]
    assert re.findall(r'data-query-status="(\w+)"', cell(2)) == []
    assert "Amount" in listed(page) or "amount" in listed(page).lower()
    ask(patient, second, "", monitor)  # on the whole dose
    ask(patient, third, "administered_at", monitor)
    with CaptureQueriesContext(connection) as three:
        page = client.get(url).content.decode()
    for day in (1, 2, 3):
        assert re.findall(r'data-query-status="(\w+)"', cell(day)) == ["open"], day
    assert len(listed(page).split("<li")) - 1 == 3
    assert sum(1 for q in three.captured_queries if 'FROM "queries_dataquery"' in q["sql"]) == 1
    assert len(three) == len(one)


def test_the_supportive_care_page_shows_a_query_on_the_product(client, monitor, clinician, patient):
    care = supportive_care_record(
        patient=patient,
        kind="transfusion",
        product="platelets",
        given_on=DAY0 + timedelta(days=2),
        detail="",
        user=clinician,
    )
    ask(patient, care, "product", monitor)
    page = login(client, clinician).get(reverse("supportive_care", args=[patient.pk])).content.decode()
    row = re.search(rf'<tr id="support-{care.pk}">.*?</tr>', page, re.S).group(0)
    assert badges(row) == {"product": ["open"]}
    assert "G-CSF or transfusion" in listed(page)


def test_the_response_page_shows_a_query_on_the_confirmation(client, monitor, clinician, patient):
    record(patient, "D3", NORMAL, day=3, user=clinician)
    response_assess_patient(patient_id=patient.pk, today=DAY0 + timedelta(days=4))
    assessment = ResponseAssessment.objects.get(patient=patient, study_day=3)
    ask(patient, assessment, "confirmed_status", monitor)
    page = login(client, clinician).get(reverse("patient_responses", args=[patient.pk])).content.decode()
    card = re.search(r'<div class="card mb-3[^"]*" id="assessment-day-3">.*?<div class="card-body">', page, re.S)
    assert badges(card.group(0)) == {"confirmed_status": ["open"]}
    assert "Response assessment" in listed(page) and "#assessment-day-3" in listed(page)


def test_the_treatment_summary_shows_queries_on_each_of_its_records(client, monitor, clinician, patient):
    end = an_end(patient, clinician)
    therapy = subsequent_therapy_record(
        patient=patient,
        regimen="hlh1994",
        start_date=DAY0 + timedelta(days=4),
        user=clinician,
        etoposide=True,
        dexamethasone=True,
    )
    follow_up = follow_up_record(
        patient=patient, assessed_on=DAY0 + timedelta(days=56), vital_status="alive", user=clinician
    )
    death = death_record(patient=patient, date_of_death=DAY0 + timedelta(days=70), cause="HLH", user=clinician)
    ask(patient, end, "last_dose_date", monitor)
    ask(patient, therapy, "start_date", monitor)
    ask(patient, follow_up, "vital_status", monitor)
    ask(patient, death, "cause", monitor)
    page = login(client, clinician).get(reverse("treatment_summary", args=[patient.pk])).content.decode()
    top = listed(page)
    for title in ("End of treatment", "Subsequent therapy", "Follow-up", "Death"):
        assert title in top, title
    body = page.split('id="page-queries"', 1)[1].split("</ul>", 1)[1]  # the cards and tables below the list
    assert badges(body) == {
        "last_dose_date": ["open"],
        "cause": ["open"],
        "start_date": ["open"],
        "vital_status": ["open"],
    }
    therapy_row = re.search(rf'<tr id="therapy-{therapy.pk}">.*?</tr>', page, re.S).group(0)
    assert badges(therapy_row) == {"start_date": ["open"]}


def test_the_death_end_of_treatment_and_therapy_forms_place_the_badge_beside_the_label(
    client, monitor, clinician, patient
):
    end = an_end(patient, clinician)
    therapy = subsequent_therapy_record(
        patient=patient,
        regimen="hlh1994",
        start_date=DAY0 + timedelta(days=4),
        user=clinician,
        etoposide=True,
        dexamethasone=True,
    )
    death = death_record(patient=patient, date_of_death=DAY0 + timedelta(days=70), cause="HLH", user=clinician)
    ask(patient, end, "reason", monitor)
    ask(patient, therapy, "regimen", monitor)
    ask(patient, death, "date_of_death", monitor)
    login(client, clinician)
    pages = {
        "reason": client.get(reverse("treatment_end", args=[patient.pk])).content.decode(),
        "regimen": client.get(reverse("subsequent_therapy_edit", args=[patient.pk, therapy.pk])).content.decode(),
        "date_of_death": client.get(reverse("death_record", args=[patient.pk])).content.decode(),
    }
    for field, html in pages.items():
        assert badges(html) == {field: ["open"]}, field
        assert f'data-place-beside="id_{field}"' in html and "js/field_queries.js" in html


def test_the_follow_up_form_lists_the_queries_of_the_earlier_contacts(client, monitor, clinician, patient):
    an_end(patient, clinician)
    earlier = follow_up_record(
        patient=patient, assessed_on=DAY0 + timedelta(days=56), vital_status="alive", user=clinician
    )
    ask(patient, earlier, "notes", monitor)
    page = login(client, clinician).get(reverse("follow_up_add", args=[patient.pk])).content.decode()
    assert "Follow-up" in listed(page) and badges(listed(page)) == {"notes": ["open"]}


def test_a_page_reads_its_badges_in_one_statement_whatever_the_number_of_queried_records(
    client, monitor, clinician, patient
):
    events = [an_ae(patient, clinician, onset_date=DAY0 + timedelta(days=day)) for day in (2, 4, 6)]
    ask(patient, events[0], "grade", monitor)
    url = reverse("ae_list", args=[patient.pk])
    login(client, clinician)
    with CaptureQueriesContext(connection) as one:
        assert badges(client.get(url).content.decode()) == {"grade": ["open", "open"]}  # in the list and the row
    ask(patient, events[1], "outcome", monitor)
    ask(patient, events[2], "onset_date", monitor)
    with CaptureQueriesContext(connection) as three:
        page = client.get(url).content.decode()
    assert len(listed(page).split("<li")) - 1 == 3
    assert badges(page) == {"grade": ["open", "open"], "outcome": ["open", "open"], "onset_date": ["open", "open"]}
    assert sum(1 for q in three.captured_queries if 'FROM "queries_dataquery"' in q["sql"]) == 1
    assert len(three) == len(one)
