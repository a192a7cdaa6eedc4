"""Study report pages: tables and real plots, the same figures as JSON, site scoping, login."""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.services.test_report import cohort  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_report_page_shows_the_tables_and_plots(client, clinician, cohort):  # noqa: F811
    responder, stopper = cohort
    page = login(client, clinician).get(reverse("study_report"))
    assert page.status_code == 200
    html = page.content.decode()
    for table in ("enrollment-table", "baseline-table", "outcomes-table", "rates-table", "efs-table"):
        assert f'id="{table}"' in html
    for table in ("week1-table", "ae-summary-table", "ae-patient-table"):
        assert f'id="{table}"' in html
    assert responder.subject_number in html and stopper.subject_number in html
    assert "1 (50.0 %; 1.3–98.7)" in html  # CR 1/2 with its exact interval
    assert '<img class="img-fluid bg-white border" id="km-plot" src="/report/plots/km.png"' in html
    assert html.count('src="/report/plots/marker-') == 9


def test_plots_are_png_images(client, clinician, cohort):  # noqa: F811
    login(client, clinician)
    for name in ("km", "marker-FERRITIN", "marker-TEMP"):
        response = client.get(reverse("study_report_plot", args=[name]))
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert response.content.startswith(PNG)
    assert client.get(reverse("study_report_plot", args=["nothing"])).status_code == 404


def test_json_has_the_same_figures_as_the_page(client, clinician, cohort):  # noqa: F811
    login(client, clinician)
    data = json.loads(client.get(reverse("study_report_json")).content)
    html = client.get(reverse("study_report")).content.decode()
    assert data["enrollment"]["enrolled"] == 2
    assert f'<td data-key="enrolled">{data["enrollment"]["enrolled"]}</td>' in html
    overall = data["efs"]["overall"]
    assert f"{overall['survival']:.1f} %" in html and f"{overall['se']:.1f} %" in html
    assert {o["subject"] for o in data["outcomes"]} == {p.subject_number for p in cohort}


def test_other_sites_patients_are_not_counted(client, clinician_b, cohort):  # noqa: F811
    login(client, clinician_b)
    data = json.loads(client.get(reverse("study_report_json")).content)
    assert data["enrollment"]["enrolled"] == 1 and data["sites"] == ["SCH"]
    assert not {o["subject"] for o in data["outcomes"]} & {p.subject_number for p in cohort}
    html = client.get(reverse("study_report")).content.decode()
    assert cohort[0].subject_number not in html


def test_login_required(client, cohort):  # noqa: F811
    for name in ("study_report", "study_report_json"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(reverse("study_report_plot", args=["km"])).status_code == 302


def test_patient_trajectories_tab_and_plot(client, clinician, clinician_b, cohort):  # noqa: F811
    responder, _ = cohort
    login(client, clinician)
    page = client.get(reverse("patient_trajectories", args=[responder.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Trajectories" in html and html.count(f'src="/patients/{responder.pk}/trajectories/') == 9
    image = client.get(reverse("patient_trajectory_plot", args=[responder.pk, "FERRITIN"]))
    assert image.status_code == 200 and image.content.startswith(PNG)
    overview = client.get(reverse("patient_overview", args=[responder.pk])).content.decode()
    assert reverse("patient_trajectories", args=[responder.pk]) in overview
    login(client, clinician_b)
    assert client.get(reverse("patient_trajectories", args=[responder.pk])).status_code == 404
    assert client.get(reverse("patient_trajectory_plot", args=[responder.pk, "FERRITIN"])).status_code == 404


def test_user_without_sites_sees_an_empty_report(client, cohort):  # noqa: F811
    from tests.conftest import make_user
    from trial.models import Role

    nobody = make_user("nobody", Role.MONITOR)
    login(client, nobody)
    page = client.get(reverse("study_report"))
    assert page.status_code == 200 and "No patient enrolled at your sites." in page.content.decode()
    assert client.get(reverse("study_report_plot", args=["km"])).content.startswith(PNG)
    assert client.get(reverse("study_report_plot", args=["marker-SCD25"])).content.startswith(PNG)


def test_per_patient_tables_are_paged_and_the_summaries_cover_everyone(client, clinician, cohort, monkeypatch):  # noqa: F811
    monkeypatch.setattr("assessments.views.report.PATIENTS_PER_PAGE", 1)
    login(client, clinician)
    data = json.loads(client.get(reverse("study_report_json")).content)
    subjects = data["baseline"]["patients"]
    assert len(subjects) == 2
    first = client.get(reverse("study_report")).content.decode()
    second = client.get(reverse("study_report"), {"patients": 2}).content.decode()
    for html, shown, hidden in ((first, subjects[0], subjects[1]), (second, subjects[1], subjects[0])):
        assert f"<th>{shown}</th>" in html and f"<th>{hidden}</th>" not in html  # baseline column
        assert f'data-subject="{shown}"' in html and f'data-subject="{hidden}"' not in html  # outcome row
        assert "Median (range), all 2" in html
    assert "Patients 1–1 of 2" in first and "Patients 2–2 of 2" in second
    # The summary column is the same on both pages: computed over every patient.
    weight = next(r for r in data["baseline"]["rows"] if r["label"].startswith("Weight"))
    assert weight["summary_display"] in first and weight["summary_display"] in second


def test_page_and_pdf_label_patients_outside_the_cutoff_analysis(client, clinician, cohort, trial):  # noqa: F811
    from datetime import timedelta

    from exports.documents import document_html
    from exports.models import GeneratedDocument
    from tests.conftest import DAY0

    responder, stopper = cohort
    trial.data_cutoff_date = DAY0 - timedelta(days=1)
    trial.save()
    html = login(client, clinician).get(reverse("study_report")).content.decode()
    assert 'id="cutoff-analysis"' in html and f'data-outside="{responder.subject_number}"' in html
    assert html.count("outside the cutoff analysis") == 2
    pdf_html = document_html(GeneratedDocument(kind=GeneratedDocument.Kind.STUDY_REPORT, requested_by=clinician))
    assert f'data-outside="{stopper.subject_number}"' in pdf_html
    assert pdf_html.count("outside the cutoff analysis") == 2


def test_page_json_and_pdf_show_the_follow_up_in_days_and_months(client, clinician, cohort):  # noqa: F811
    # Hand-worked in tests/services/test_report.py: follow-up 190 and 3 days, median 96.5 days.
    from exports.documents import document_html
    from exports.models import GeneratedDocument

    login(client, clinician)
    data = json.loads(client.get(reverse("study_report_json")).content)
    assert data["follow_up"]["days"]["median"] == 96.5 and data["follow_up"]["n"] == 2
    html = client.get(reverse("study_report")).content.decode()
    expected = "median <strong>96.5 days (3.2 months)</strong>, range 3–190 days (0.1–6.2 months), n = 2."
    assert expected in html
    pdf_html = document_html(GeneratedDocument(kind=GeneratedDocument.Kind.STUDY_REPORT, requested_by=clinician))
    assert expected in pdf_html and "A month is 30.4375 days" in pdf_html
