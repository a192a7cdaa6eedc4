"""A day is the site's day, whatever the door and whatever the hour in UTC.

The clock is frozen at instants where the site's date and the UTC date differ (or are about
to): 15:59, 16:01 and 23:59 UTC for a site in Asia/Shanghai (UTC+8) and 04:59 / 05:01 UTC for
a site in America/New_York (UTC-5 in December). At each, screening, enrollment, lab entry by
the page, the API and the import, a dose, the nightly sweep and the report must all use the
site's date. The expected local dates and times are written out by hand in the table.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from api.importing import bundle_import
from assessments.models import LabPanel, Visit
from assessments.services.responses import response_sweep_due
from patients.models import DoseAdministration, Patient, Screening
from patients.services import patient_enroll, screening_create
from tests.api.conftest import client_for
from tests.conftest import eligible_data, form_payload, make_user
from trial.models import Role, Site

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Moment:
    zone: str
    utc: datetime  # the frozen instant
    local_date: date  # the site's date at that instant (by hand)
    just_before: str  # one minute (or more) before the site's wall clock, as typed at the bedside

    @property
    def id(self) -> str:
        return f"{self.zone}@{self.utc:%H:%M}Z"


MOMENTS = [
    Moment("Asia/Shanghai", datetime(2026, 12, 1, 15, 59, tzinfo=UTC), date(2026, 12, 1), "2026-12-01T23:58"),
    Moment("Asia/Shanghai", datetime(2026, 12, 1, 16, 1, tzinfo=UTC), date(2026, 12, 2), "2026-12-02T00:00"),
    Moment("Asia/Shanghai", datetime(2026, 12, 1, 23, 59, tzinfo=UTC), date(2026, 12, 2), "2026-12-02T07:30"),
    Moment("America/New_York", datetime(2026, 12, 2, 4, 59, tzinfo=UTC), date(2026, 12, 1), "2026-12-01T23:58"),
    Moment("America/New_York", datetime(2026, 12, 2, 5, 1, tzinfo=UTC), date(2026, 12, 2), "2026-12-02T00:00"),
]


@pytest.fixture(params=MOMENTS, ids=[m.id for m in MOMENTS])
def moment(request):
    with time_machine.travel(request.param.utc, tick=False):
        yield request.param


@pytest.fixture
def site(trial, moment) -> Site:
    if moment.zone == "Asia/Shanghai":
        return Site.objects.get(trial=trial, code="BCH")
    return Site.objects.create(trial=trial, code="NYC", name="New York Children's", time_zone=moment.zone)


@pytest.fixture
def user(site):
    return make_user(f"clin_{site.code.lower()}", Role.CLINICIAN, site)


def child_data(screened: date, **overrides) -> dict:
    return eligible_data(
        screening_date=screened, consent_date=screened, date_of_birth=screened - timedelta(days=4 * 365), **overrides
    )


def enrolled(site, user, *, day0: date) -> Patient:
    """A child whose day 0 (first dose) is `day0`, screened and enrolled the day before."""
    screening = screening_create(site=site, data=child_data(day0 - timedelta(days=1)), user=user)
    return patient_enroll(
        screening_id=screening.pk,
        enrollment_date=day0 - timedelta(days=1),
        first_dose_date=day0,
        enrollment_weight_kg=Decimal("15.0"),
        prescribed_dose_mg=Decimal("5"),
        user=user,
    )


def test_screening_on_the_sites_today_is_accepted_and_tomorrow_is_in_the_future(site, user, moment):
    client = Client()
    client.force_login(user)
    url = reverse("screening_create")
    tomorrow = moment.local_date + timedelta(days=1)
    refused = client.post(url, {**form_payload(child_data(tomorrow)), "site": site.pk})
    assert refused.status_code == 200
    assert f"cannot be in the future (after {moment.local_date.isoformat()})" in refused.content.decode()
    assert client.post(url, {**form_payload(child_data(moment.local_date)), "site": site.pk}).status_code == 302
    api = client_for(user)
    payload = {k: (str(v) if isinstance(v, (Decimal, date)) else v) for k, v in child_data(tomorrow).items()}
    response = api.post("/api/v1/screenings/", {**payload, "site": site.code}, format="json")
    assert response.status_code == 400, response.content
    assert moment.local_date.isoformat() in response.content.decode()
    assert Screening.objects.filter(screening_date=moment.local_date).count() == 1


def test_enrollment_with_day_0_today_at_the_site(site, user, moment):
    screening = screening_create(site=site, data=child_data(moment.local_date), user=user)
    body = {
        "enrollment_date": moment.local_date.isoformat(),
        "first_dose_date": moment.local_date.isoformat(),
        "weight_kg": "15.0",
        "prescribed_dose_mg": "5",
    }
    response = client_for(user).post(f"/api/v1/screenings/{screening.pk}/enroll/", body, format="json")
    assert response.status_code == 201, response.content
    patient = Patient.objects.get(screening=screening)
    # The calendar's day 3 is three of the site's days later.
    assert Visit.objects.get(patient=patient, definition__code="D3").planned_date == moment.local_date + timedelta(3)


@pytest.mark.parametrize("door", ["page", "api", "import"])
def test_a_lab_panel_sampled_just_now_is_dated_the_sites_day(site, user, moment, door):
    # Day 3 is the site's today: the response assessment of that day is due now.
    patient = enrolled(site, user, day0=moment.local_date - timedelta(days=3))
    visit = Visit.objects.get(patient=patient, definition__code="D3")
    values = [{"analyte": "TEMP", "value": "38.2"}, {"analyte": "FERRITIN", "value": "1800"}]
    if door == "page":
        client = Client()
        client.force_login(user)
        data = {
            "visit_date": moment.local_date.isoformat(),
            "sampled_at": moment.just_before,
            "v_TEMP": "38.2",
            "v_FERRITIN": "1800",
        }
        response = client.post(reverse("lab_panel_edit", args=[visit.pk]), data)
        assert response.status_code == 302, response.content.decode()[-3000:]
    elif door == "api":
        body = {"visit": visit.pk, "sampled_at": moment.just_before, "values": values}
        response = client_for(user).post("/api/v1/lab-panels/", body, format="json")
        assert response.status_code == 201, response.content
    else:
        # The import's patient is its own (the import enrolls it), with the same calendar.
        screened = moment.local_date - timedelta(days=4)
        bundle = {
            "format": "rux-hlh-bundle/1",
            "patients": [
                {
                    "site": site.code,
                    "screening_number": "SRC-1",
                    "screening": {
                        k: (str(v) if isinstance(v, (Decimal, date)) else v) for k, v in child_data(screened).items()
                    },
                    "enrollment": {
                        "enrollment_date": screened.isoformat(),
                        "first_dose_date": (screened + timedelta(1)).isoformat(),
                        "weight_kg": "15.0",
                        "prescribed_dose_mg": "5",
                    },
                    "labs": [{"visit": "D3", "sampled_at": moment.just_before, "values": values}],
                }
            ],
        }
        bundle_import(bundle=bundle, user=user)
        visit = Visit.objects.get(patient__screening__initials="ZXY", definition__code="D3", lab_panel__isnull=False)
    visit.refresh_from_db()
    panel = LabPanel.objects.get(visit=visit)
    assert visit.visit_date == moment.local_date
    assert not visit.out_of_window
    local = panel.sampled_at.astimezone(ZoneInfo(moment.zone))
    assert local.strftime("%Y-%m-%dT%H:%M") == moment.just_before
    # No "out of window" query for a visit done on its day.
    assert not visit.patient.queries.filter(check_code="visit.out_of_window").exists()


def test_a_dose_given_just_now_is_on_the_sites_treatment_day(site, user, moment):
    patient = enrolled(site, user, day0=moment.local_date - timedelta(days=3))
    treatment_day = 4  # day 0 + 3 days: today at the site
    hour = int(moment.just_before[11:13])
    slot = "am" if hour < 12 else "pm"
    body = {
        "patient": patient.pk,
        "treatment_day": treatment_day,
        "slot": slot,
        "status": "given",
        "administered_at": moment.just_before,
        "amount_mg": "5",
    }
    response = client_for(user).post("/api/v1/doses/", body, format="json")
    assert response.status_code == 201, response.content
    # The next day's dose is in the future at the site.
    tomorrow = {**body, "treatment_day": treatment_day + 1, "status": "missed", "reason": "x"}
    tomorrow.pop("administered_at"), tomorrow.pop("amount_mg")
    refused = client_for(user).post("/api/v1/doses/", tomorrow, format="json")
    assert refused.status_code == 400 and "in the future" in refused.content.decode()
    dose = DoseAdministration.objects.get(patient=patient)
    assert dose.administered_at.astimezone(ZoneInfo(moment.zone)).date() == moment.local_date


def test_the_sweep_finds_the_assessment_day_the_site_has_reached(site, user, moment):
    due_today = enrolled(site, user, day0=moment.local_date - timedelta(days=3))
    due_tomorrow = enrolled(site, user, day0=moment.local_date - timedelta(days=2))
    # A task or a management command passes no date: the instant alone, read at each site.
    due = response_sweep_due()
    assert due_today.pk in due
    assert due_tomorrow.pk not in due


def test_the_report_page_json_and_api_say_the_sites_today(site, user, moment):
    enrolled(site, user, day0=moment.local_date - timedelta(days=3))
    client = Client()
    client.force_login(user)
    page = client.get(reverse("study_report_json")).json()
    api = client_for(user).get("/api/v1/report/").json()
    assert page["today"] == api["today"] == moment.local_date.isoformat()
    assert page["site_dates"] == api["site_dates"] == {site.code: moment.local_date.isoformat()}
    # Four of the site's days of treatment so far (day 0 to day 3).
    assert page["outcomes"][0]["treatment_days"] == api["outcomes"][0]["treatment_days"] == 4
