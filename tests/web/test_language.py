"""The pages' language: the user's choice, else the browser's, else the site's, else English;
dates in the language's format, ISO input in both; the switch keeps the page."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django import forms
from django.urls import reverse
from django.utils import translation

from accounts.language import request_language
from accounts.models import Preference
from assessments.models import LabPanel, Visit
from tests.conftest import DAY0, PASSWORD

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.8"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
# The navbar's "Patients" in each language (locale/zh_Hans/LC_MESSAGES/django.po).
NAV = {"en": ">Patients</a>", "zh-hans": ">患者</a>"}


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def page_language(client, url="/patients/", **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response["Content-Language"]


def test_the_browser_language_is_used_when_the_user_chose_none(client, clinician):
    login(client, clinician)
    assert page_language(client, **CHINESE) == "zh-hans"
    assert page_language(client, **ENGLISH) == "en"
    assert NAV["zh-hans"] in client.get("/patients/", **CHINESE).content.decode()


def test_the_users_choice_comes_before_the_browser(client, clinician):
    Preference.objects.create(user=clinician, language="zh-hans")
    login(client, clinician)
    assert page_language(client, **ENGLISH) == "zh-hans"


def test_the_sites_default_language_when_the_browser_asks_for_neither(client, clinician, site_a):
    site_a.default_language = "zh-hans"
    site_a.save()
    login(client, clinician)
    assert page_language(client, **FRENCH) == "zh-hans"
    assert page_language(client) == "zh-hans"
    # The browser's own choice of a language the pages speak still comes first.
    assert page_language(client, **ENGLISH) == "en"


def test_english_when_nothing_names_a_language(client, clinician):
    login(client, clinician)
    assert page_language(client, **FRENCH) == "en"


def test_sites_with_different_defaults_fall_back_to_english(client, clinician, site_a, site_b):
    from trial.models import SiteMembership

    site_a.default_language = "zh-hans"
    site_a.save()
    SiteMembership.objects.create(user=clinician, site=site_b)
    login(client, clinician)
    assert page_language(client, **FRENCH) == "en"


def test_the_sign_in_page_follows_accept_language(client):
    chinese = client.get(reverse("login"), **CHINESE).content.decode()
    assert '<h1 class="h4 mb-1">登录</h1>' in chinese and 'lang="zh-hans"' in chinese
    assert '<h1 class="h4 mb-1">Sign in</h1>' in client.get(reverse("login"), **ENGLISH).content.decode()


def test_switch_stores_the_choice_and_returns_to_the_same_page(client, clinician, patient):
    login(client, clinician)
    back = reverse("visit_calendar", args=[patient.pk]) + "?tab=labs"
    response = client.post(reverse("language_switch"), {"language": "zh-hans", "next": back}, **ENGLISH)
    assert response.status_code == 302 and response["Location"] == back
    assert Preference.objects.get(user=clinician).language == "zh-hans"
    # The browser still asks for English; the choice wins.
    assert page_language(client, back, **ENGLISH) == "zh-hans"
    client.post(reverse("language_switch"), {"language": "en", "next": back})
    assert Preference.objects.get(user=clinician).language == "en"
    assert page_language(client, back, **CHINESE) == "en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_switch_never_redirects_off_the_site(client, clinician, target):
    login(client, clinician)
    response = client.post(reverse("language_switch"), {"language": "zh-hans", "next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_switch_refuses_a_language_the_pages_do_not_speak(client, clinician):
    login(client, clinician)
    assert client.post(reverse("language_switch"), {"language": "fr", "next": "/"}).status_code == 400
    assert client.get(reverse("language_switch")).status_code == 405
    assert not Preference.objects.exists()


def test_an_anonymous_switch_sets_the_cookie_for_the_sign_in_page(client):
    response = client.post(reverse("language_switch"), {"language": "zh-hans", "next": reverse("login")}, **ENGLISH)
    assert response.status_code == 302 and response.cookies["django_language"].value == "zh-hans"
    assert page_language(client, reverse("login"), **ENGLISH) == "zh-hans"


def test_the_header_has_the_switch_to_the_other_language(client, clinician):
    login(client, clinician)
    english = client.get("/patients/?q=BCH", **ENGLISH).content.decode()
    assert 'id="language-switch"' in english and 'value="zh-hans"' in english and "简体中文" in english
    assert 'name="next" value="/patients/?q=BCH"' in english
    chinese = client.get("/patients/", **CHINESE).content.decode()
    assert 'value="en"' in chinese and ">English</button>" in chinese


def test_request_language_of_the_api_is_the_header_only(rf, clinician):
    Preference.objects.create(user=clinician, language="zh-hans")
    request = rf.get("/api/v1/patients/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    request.user = clinician
    assert request_language(request) == "zh-hans"
    request = rf.get("/api/v1/patients/")
    request.user = clinician
    assert request_language(request) == "en"


# Dates: ISO in English, 2026年12月2日 in Chinese; machine forms (ISO) read in both.


def test_the_worklist_date_in_each_language(client, clinician):
    login(client, clinician)
    noon = datetime.combine(date(2026, 12, 2), time(12, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(noon, tick=False):
        english = client.get(reverse("worklist"), **ENGLISH).content.decode()
        chinese = client.get(reverse("worklist"), **CHINESE).content.decode()
    assert "Wednesday 2026-12-02" in english and "12/02/2026" not in english and "Dec" not in english
    assert "星期三 2026年12月2日" in chinese
    assert "今日应访" in chinese


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_iso_dates_are_read_in_both_languages(language):
    with translation.override(language):
        field = forms.DateField()
        assert field.clean("2026-12-02") == date(2026, 12, 2)
        assert forms.DateTimeField().clean("2026-12-02 14:30").replace(tzinfo=None) == datetime(2026, 12, 2, 14, 30)


def test_an_american_date_is_never_read(settings):
    with translation.override("en"), pytest.raises(forms.ValidationError):
        forms.DateField().clean("12/02/2026")


def test_the_lab_page_dates_in_each_language(client, clinician, patient):
    login(client, clinician)
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    url = reverse("lab_panel_edit", args=[visit.pk])
    planned = visit.planned_date
    english = client.get(url, **ENGLISH).content.decode()
    chinese = client.get(url, **CHINESE).content.decode()
    assert f"planned {planned.isoformat()}, window" in english
    assert f"计划 {planned.year}年{planned.month}月{planned.day}日，访视窗 {visit.window_start.isoformat()}" in chinese
    assert "铁蛋白" in chinese and "可溶性CD25" in chinese


def test_a_validation_error_in_chinese_names_the_field_and_the_limit(client, clinician, patient):
    login(client, clinician)
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    day = (DAY0 + timedelta(days=7)).isoformat()
    data = {"visit_date": day, "sampled_at": f"{day}T08:30", "v_TEMP": "60", "v_FERRITIN": "2400"}
    page = client.post(reverse("lab_panel_edit", args=[visit.pk]), data, **CHINESE).content.decode()
    assert "最高体温不得高于 45 °C（录入值：60）。" in page
    assert "未保存任何数据。请更正：" in page
    # The typed values stay in the form, and nothing was written.
    assert 'value="2400"' in page
    assert not LabPanel.objects.exists()
