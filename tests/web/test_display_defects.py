"""What the pages and PDFs print: each value once, as entered, with its unit and in a clinician's words."""

import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from assessments.models import CtcaeTerm, Visit
from assessments.services.labs import Measurement, lab_panel_save
from crf.models import DataLock
from exports.casebook import casebook_context, field_display
from patients.models import Screening
from patients.services import patient_enroll, screening_create
from tests.conftest import DAY0, PASSWORD, SCREENING_DAY, eligible_data, enroll_child
from tests.services.test_treatment import enroll

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with that id (tags dropped, spaces collapsed)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(div|span|dd|h2)>', html, re.S)
    assert match, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def save_day7_labs(patient, user, values: dict[str, tuple[str, str]]):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    when = datetime.combine(DAY0 + timedelta(days=7), time(8), tzinfo=SHANGHAI)
    lab_panel_save(
        visit=visit,
        sampled_at=when,
        values={k: Measurement(Decimal(v), unit, when) for k, (v, unit) in values.items()},
        panel_data={"cns_symptoms": False},
        user=user,
    )
    return visit


# "Protocol deviation: Protocol deviation: ..."


def test_overview_names_a_prescribed_dose_deviation_once(client, site_a, clinician):
    patient = enroll_child(site_a, clinician, weight="15.0", dose="6")
    login(client, clinician)
    html = client.get(reverse("patient_overview", args=[patient.pk])).content.decode()
    shown = text_of(html, "dose-deviation")
    assert shown.count("Protocol deviation") == 1
    assert shown.startswith("Protocol deviation: prescribed 6 mg")


def test_dose_given_off_band_is_reported_with_one_deviation_note(client, site_a, clinician):
    today = timezone.localdate(timezone=SHANGHAI)
    patient = enroll(
        site_a, clinician, screening_day=today - timedelta(days=3), day0=today - timedelta(days=2), dose="6"
    )
    login(client, clinician)
    response = client.post(reverse("dose_record", args=[patient.pk, 3, "am"]), {"given_now": "1"})
    assert response.status_code == 302
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(notes) == 1 and "was recorded as given" in notes[0]
    assert notes[0].count("Protocol deviation") == 1


# Reference ranges "–1.7 mmol/L" after a save


def test_saved_value_with_an_upper_limit_only_shows_the_range_as_a_bound(
    client, clinician, patient, all_ages_ranges_only
):
    visit = save_day7_labs(patient, clinician, {"TRIG": ("2.4", "mmol/L"), "HGB": ("95", "g/L")})
    login(client, clinician)
    html = client.get(reverse("lab_panel_edit", args=[visit.pk])).content.decode()
    trig = re.search(r'data-analyte="TRIG">(.*?)</tr>', html, re.S).group(1)
    hgb = re.search(r'data-analyte="HGB">(.*?)</tr>', html, re.S).group(1)
    assert "≤ 1.7 mmol/L" in trig and "–1.7" not in trig
    assert "110–160 g/L" in hgb


# EBV DNA 0 shown as "—"


def test_overview_shows_a_zero_ebv_dna_and_spleen_as_zero(client, site_a, clinician):
    patient = enroll_child(site_a, clinician, ebv_dna_whole_blood=Decimal("0"), spleen_cm=Decimal("0"))
    login(client, clinician)
    html = client.get(reverse("patient_overview", args=[patient.pk])).content.decode()
    ebv = re.search(r"EBV DNA \(blood / plasma\)</dt><dd[^>]*>(.*?)</dd>", html).group(1)
    spleen = re.search(r"Spleen</dt><dd[^>]*>(.*?)</dd>", html).group(1)
    assert ebv == "0 / 900 copies/mL"
    assert spleen == "0 cm below costal margin"


# "Visit lockd."


def test_locking_a_visit_from_the_review_page_says_visit_locked(client, site_a, clinician, data_manager):
    patient = enroll_child(site_a, clinician)
    visit = save_day7_labs(patient, clinician, {"HGB": ("95", "g/L")})
    login(client, data_manager)
    response = client.post(
        reverse("patient_review", args=[patient.pk]),
        {"action": "lock", "level": "lock", "visit": visit.pk, "reason": "Monitoring done"},
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Visit locked."]
    assert DataLock.objects.filter(visit=visit, level="lock").exists()


# MELD 7 in the PDF, 7.5 on the page


def test_meld_is_printed_alike_on_the_screening_page_and_in_the_pdf(client, site_a, clinician):
    screening = screening_create(
        site=site_a,
        data=eligible_data(
            cirrhosis=True, bilirubin_umol_l=Decimal("30"), inr=Decimal("1.3"), dialysis_twice_past_week=False
        ),
        user=clinician,
    )
    # Section 3 by hand: bilirubin 30 µmol/L / 17.1 in mg/dL, INR 1.3, creatinine 30 µmol/L floored at 1.
    expected = 3.78 * math.log(30 / 17.1) + 11.2 * math.log(1.3) + 9.57 * math.log(1.0) + 6.43
    shown = f"{Decimal(expected).quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
    assert shown == "11.49"
    login(client, clinician)
    page = client.get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert f"MELD: {shown}" in page
    patient = patient_enroll(
        screening_id=screening.pk,
        enrollment_date=SCREENING_DAY,
        first_dose_date=DAY0,
        enrollment_weight_kg=Decimal("15.0"),
        prescribed_dose_mg=Decimal("5"),
        user=clinician,
    )
    pdf_html = render_to_string("exports/forms/screening.html", {**casebook_context(patient), "first": True})
    assert re.search(r'<td class="label">MELD</td><td>([^<]*)</td>', pdf_html).group(1) == shown


# "8 of 8 met" over a table with a ✗ row


def test_hlh2004_heading_counts_the_clinical_criteria_apart_from_the_molecular_one(client, site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(nk_activity_pct=Decimal("5")), user=clinician)
    login(client, clinician)
    html = client.get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert 'data-code="hlh2004.molecular" data-verdict="not_met"' in html
    assert text_of(html, "hlh2004-tally") == "— molecular diagnosis no; 8 of 8 clinical criteria met"


# "hemoglobin 85 g/L (low) at 1986 days of age"


def test_hemoglobin_age_reads_in_years_and_months(client, site_a, clinician):
    assert SCREENING_DAY == date(2026, 3, 2)
    born = date(2021, 1, 2)  # 5 years and 2 months before the screening day
    screening = screening_create(site=site_a, data=eligible_data(date_of_birth=born), user=clinician)
    login(client, clinician)
    html = client.get(reverse("screening_detail", args=[screening.pk])).content.decode()
    assert "hemoglobin 80 g/L (low) at 5 years 2 months of age" in html
    assert "days of age" not in html


# "38.2000 °C" in the casebook


def test_casebook_prints_values_as_entered_in_forms_and_trail(site_a, clinician):
    patient = enroll_child(site_a, clinician, weight="15.0")
    save_day7_labs(patient, clinician, {"TEMP": ("38.2", "°C")})
    context = casebook_context(patient)
    entries = [e for e in context["audit_trail"] if e.model == "assessments.labresult"]
    assert [e.record.split(",")[0] for e in entries] == ["Maximum temperature"]  # named as on the lab page
    assert [c.new for c in entries[0].changes if c.field == "value"] == ["38.2"]
    assert field_display(Screening.objects.get(pk=patient.screening_id), "weight_kg") == "15"
    html = render_to_string("exports/forms/audit.html", {**context, "first": True})
    assert "38.2000" not in html and "Maximum temperature" in html


# "ALT- SGPT"


def test_ctcae_terms_are_stored_as_ctcae_prints_them():
    assert CtcaeTerm.objects.get(code="ME105").term == "ALT, SGPT"
    assert CtcaeTerm.objects.get(code="CG104").term == "C-P arrest, non-fatal, cause unknown"
    # A dash set off by spaces is part of the term and stays.
    assert CtcaeTerm.objects.get(code="DT102").term == "Death - disease progression NOS"
    assert not CtcaeTerm.objects.filter(term__regex=r"\S- ").exists()
