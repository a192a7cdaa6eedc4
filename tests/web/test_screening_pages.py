"""Screening, enrollment and overview pages: bad input named, scoping, roles, concurrent edits."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from patients.models import Patient, Screening
from patients.services import screening_create
from tests.conftest import PASSWORD, SCREENING_DAY, eligible_data, form_payload

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post_screening(client, **overrides):
    return client.post(reverse("screening_create"), form_payload(eligible_data(**overrides)))


def enroll_payload(**overrides):
    data = {
        "enrollment_date": SCREENING_DAY.isoformat(),
        "first_dose_date": (SCREENING_DAY + timedelta(days=1)).isoformat(),
        "weight_kg": "15.0",
        "prescribed_dose_mg": "5",
        "confirm": "on",
    }
    data.update(overrides)
    return data


def test_pages_require_login(client):
    response = client.get(reverse("subject_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_coordinator_screens_and_sees_eligibility_with_reasons(client, coordinator):
    login(client, coordinator)
    response = post_screening(client)
    screening = Screening.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("screening_detail", args=[screening.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'id="eligibility-status">Eligible<' in page
    assert "Fever" in page and "39.5 °C" in page  # the value behind the criterion is shown
    assert 'id="enroll-link"' in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"weight_kg": "0"}, "weight_kg", "Weight must be at least 0.3 kg"),
        ({"weight_kg": "150.01"}, "weight_kg", "Weight must be at most 150 kg"),
        ({"max_temperature_c": "60"}, "max_temperature_c", "Maximum temperature must be at most 45 °C"),
        ({"platelets_10e9_l": "-5"}, "platelets_10e9_l", "Platelets must be at least 0 10^9/L"),
        ({"fibrinogen_g_l": "25"}, "fibrinogen_g_l", "Fibrinogen must be at most 20 g/L"),
        ({"screening_date": "2999-01-01", "consent_date": "2999-01-01"}, "screening_date", "cannot be in the future"),
        (
            {"date_of_birth": (SCREENING_DAY.replace(year=SCREENING_DAY.year - 18)).isoformat()},
            "date_of_birth",
            "18 years old at screening",
        ),
        ({"scd25_unit": ""}, "scd25_unit", "Soluble CD25 unit: choose pg/mL or U/mL"),
        ({"initials": "x1"}, "initials", "Initials are 2 to 4 capital letters"),
    ],
)
def test_bad_input_names_the_field_and_limit_and_saves_nothing(client, coordinator, overrides, field, message):
    login(client, coordinator)
    response = post_screening(client, **overrides)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert Screening.objects.count() == 0


def test_the_day_before_the_18th_birthday_is_accepted(client, coordinator):
    login(client, coordinator)
    dob = SCREENING_DAY.replace(year=SCREENING_DAY.year - 18) + timedelta(days=1)
    response = post_screening(client, date_of_birth=dob.isoformat())
    assert response.status_code == 302


def test_eligible_screening_shows_the_reasons_before_the_enroll_link(client, coordinator, site_a):
    screening = screening_create(site=site_a, data=eligible_data(), user=coordinator)
    page = login(client, coordinator).get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert page.count('id="enroll-link"') == 1
    reasons, link = page.index('id="eligible-reasons"'), page.index('id="enroll-link"')
    assert page.index('id="eligibility"') < reasons < link  # the criteria, then the verdict, then Enroll
    assert "7 of 8 criteria met" in page[reasons:link]


def test_ineligible_screening_shows_why_and_offers_no_enroll(client, coordinator, site_a):
    screening = screening_create(site=site_a, data=eligible_data(parasitic_infection=True), user=coordinator)
    page = login(client, coordinator).get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert 'id="enroll-link"' not in page and reverse("screening_enroll", args=[screening.pk]) not in page
    reasons = re.search(r'<ul class="mb-0" id="ineligible-reasons">(.*?)</ul>', page, re.S).group(1)
    assert "Parasitic infection" in reasons


def test_incomplete_screening_lists_what_is_missing_and_offers_no_enroll(client, coordinator, site_a):
    screening = screening_create(site=site_a, data=eligible_data(consent_date=None), user=coordinator)
    assert screening.eligibility == "incomplete"
    page = login(client, coordinator).get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert 'id="enroll-link"' not in page
    assert re.search(r'id="missing-reasons">\s*<li>', page)


def test_monitor_sees_the_eligibility_but_no_enroll_link(client, coordinator, monitor, site_a):
    screening = screening_create(site=site_a, data=eligible_data(), user=coordinator)
    page = login(client, monitor).get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert 'id="eligible-reasons"' in page and 'id="enroll-link"' not in page


def test_enroll_page_of_an_ineligible_screening_gives_the_reasons_and_no_form(client, coordinator, site_a):
    screening = screening_create(site=site_a, data=eligible_data(parasitic_infection=True), user=coordinator)
    page = login(client, coordinator).get(reverse("screening_enroll", args=[screening.pk])).content.decode()
    assert 'id="ineligible-reasons"' in page and "Parasitic infection" in page
    assert 'id="enrollment-form"' not in page and 'name="enrollment_date"' not in page


def test_enroll_page_of_an_eligible_screening_puts_the_reasons_before_the_form(client, coordinator, site_a):
    screening = screening_create(site=site_a, data=eligible_data(), user=coordinator)
    page = login(client, coordinator).get(reverse("screening_enroll", args=[screening.pk])).content.decode()
    assert (
        page.index('id="eligible-reasons"') < page.index('id="enrollment-form"') < page.index('name="enrollment_date"')
    )


def test_enrollment_page_enrolls_and_overview_shows_risk_and_dose(client, coordinator, site_a):
    login(client, coordinator)
    screening = screening_create(site=site_a, data=eligible_data(), user=coordinator)
    response = client.post(reverse("screening_enroll", args=[screening.pk]), enroll_payload())
    patient = Patient.objects.get()
    assert response["Location"] == reverse("patient_overview", args=[patient.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'id="risk-group">High risk<' in page
    assert "5 mg BID" in page
    assert page.count("<tr><td>Day ") >= 10  # the planned visit calendar


def test_enrollment_refused_for_ineligible_child_through_the_page(client, coordinator, site_a):
    login(client, coordinator)
    screening = screening_create(site=site_a, data=eligible_data(parasitic_infection=True), user=coordinator)
    response = client.post(reverse("screening_enroll", args=[screening.pk]), enroll_payload())
    assert response.status_code == 200
    assert "Parasitic infection" in response.content.decode()
    assert not Patient.objects.exists()


def test_consent_after_first_dose_is_refused(client, coordinator, site_a):
    login(client, coordinator)
    screening = screening_create(
        site=site_a, data=eligible_data(consent_date=SCREENING_DAY + timedelta(days=2)), user=coordinator
    )
    response = client.post(
        reverse("screening_enroll", args=[screening.pk]),
        enroll_payload(enrollment_date=(SCREENING_DAY + timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 200
    assert "must be signed before the first dose" in " ".join(response.context["form"].errors["first_dose_date"])
    assert not Patient.objects.exists()


def test_clinician_of_another_site_gets_404(client, clinician, clinician_b, site_a):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    login(client, clinician_b)
    assert client.get(reverse("screening_detail", args=[screening.pk])).status_code == 404
    assert client.get(reverse("screening_edit", args=[screening.pk])).status_code == 404
    assert screening.screening_number not in client.get(reverse("subject_list")).content.decode()


def test_clinician_of_another_site_gets_404_on_a_patient(client, clinician, clinician_b, site_a):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    login(client, clinician)
    client.post(reverse("screening_enroll", args=[screening.pk]), enroll_payload())
    patient = Patient.objects.get()
    client.logout()
    login(client, clinician_b)
    assert client.get(reverse("patient_overview", args=[patient.pk])).status_code == 404


def test_monitor_reads_but_gets_403_on_every_change(client, monitor, clinician, site_a):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    login(client, monitor)
    assert client.get(reverse("screening_detail", args=[screening.pk])).status_code == 200
    assert client.get(reverse("screening_create")).status_code == 403
    assert post_screening(client).status_code == 403
    assert client.post(reverse("screening_edit", args=[screening.pk]), {}).status_code == 403
    assert client.post(reverse("screening_enroll", args=[screening.pk]), enroll_payload()).status_code == 403
    assert Screening.objects.count() == 1 and not Patient.objects.exists()


def edit_payload(screening, version, reason="Transcription error", **overrides):
    data = form_payload(eligible_data(**overrides))
    data.update({"version": str(version), "reason_for_change": reason})
    return data


def test_edit_requires_a_reason_and_keeps_it_in_history(client, coordinator, site_a):
    screening = screening_create(site=site_a, data=eligible_data(), user=coordinator)
    login(client, coordinator)
    response = client.post(
        reverse("screening_edit", args=[screening.pk]), edit_payload(screening, 1, reason="", ferritin_ug_l="3300")
    )
    assert "reason_for_change" in response.context["form"].errors
    response = client.post(
        reverse("screening_edit", args=[screening.pk]), edit_payload(screening, 1, ferritin_ug_l="3300")
    )
    assert response.status_code == 302
    latest = screening.history.order_by("-history_date").first()
    assert latest.history_change_reason == "Transcription error"
    assert latest.ferritin_ug_l == 3300
    assert latest.version == 2


def test_concurrent_edit_is_refused_and_shows_what_changed(client, coordinator, clinician, site_a):
    screening = screening_create(site=site_a, data=eligible_data(), user=coordinator)
    other = client.__class__()
    login(other, clinician)
    login(client, coordinator)
    # Both opened version 1; the clinician saves first.
    first = other.post(reverse("screening_edit", args=[screening.pk]), edit_payload(screening, 1, ferritin_ug_l="4100"))
    assert first.status_code == 302
    second = client.post(reverse("screening_edit", args=[screening.pk]), edit_payload(screening, 1, alt_u_l="95"))
    assert second.status_code == 409
    page = second.content.decode()
    assert "your changes were not saved" in page
    conflict = page[page.index('id="conflict"') :]
    conflict = conflict[: conflict.index("</div>")]
    assert "<li>Ferritin (µg/L): 3200 → 4100</li>" in conflict  # the field's label, no trailing zeros
    assert "ferritin_ug_l" not in conflict and "{&#x27;" not in conflict  # no column names, no Python dict
    screening.refresh_from_db()
    assert screening.ferritin_ug_l == 4100 and screening.alt_u_l == 90 and screening.version == 2


def test_subject_list_searches_and_filters(client, coordinator, site_a):
    screening_create(site=site_a, data=eligible_data(initials="ABC"), user=coordinator)
    screening_create(site=site_a, data=eligible_data(initials="XYZ", malignancy=True), user=coordinator)
    login(client, coordinator)
    page = client.get(reverse("subject_list"), {"q": "abc"}).content.decode()
    assert "ABC" in page and "XYZ" not in page
    page = client.get(reverse("subject_list"), {"status": "screen_failure"}).content.decode()
    assert "XYZ" in page and "ABC" not in page
    log = client.get(reverse("screening_log")).content.decode()
    assert "Malignancy" in log


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_screening_log_costs_the_same_statements_for_two_or_six_children(client, coordinator, site_a, language):
    """In Chinese the log rebuilds each child's reasons from the stored data (they are stored in
    English); the site's reference ranges are still read once for the page, not once per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Preference

    Preference.objects.create(user=coordinator, language=language)
    login(client, coordinator)
    url = reverse("screening_log")

    def screen(count):
        for n in range(count):
            screening_create(site=site_a, data=eligible_data(initials=f"L{n}{count}"[:3].upper()), user=coordinator)

    screen(2)
    with CaptureQueriesContext(connection) as two:
        assert client.get(url).status_code == 200
    screen(4)
    with CaptureQueriesContext(connection) as six:
        page = client.get(url).content.decode()
    assert page.count('href="/screening/') >= 6
    assert len(six) == len(two)
