"""The API's messages follow Accept-Language; its keys (field names) never change."""

from datetime import timedelta

import pytest

from assessments.models import LabPanel, Visit
from tests.conftest import DAY0

pytestmark = pytest.mark.django_db


def lab_body(visit, temp: str) -> dict:
    day = (DAY0 + timedelta(days=7)).isoformat()
    values = [{"analyte": "TEMP", "value": temp, "unit": "°C"}]
    return {"visit": visit.pk, "sampled_at": f"{day}T08:00", "values": values}


def test_a_bad_value_answers_in_chinese_with_the_same_keys(api, patient):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    english = api.post("/api/v1/lab-panels/", lab_body(visit, "60"), format="json", HTTP_ACCEPT_LANGUAGE="en")
    chinese = api.post("/api/v1/lab-panels/", lab_body(visit, "60"), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert english.status_code == chinese.status_code == 400
    assert english.json() == {"values[0].value": ["Maximum temperature must be at most 45 °C (entered 60)."]}
    assert chinese.json() == {"values[0].value": ["最高体温不得高于 45 °C（录入值：60）。"]}
    assert chinese["Content-Language"] == "zh-hans"
    assert not LabPanel.objects.exists()


def test_a_bad_date_answers_in_chinese(api, patient):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    body = lab_body(visit, "38") | {"sampled_at": "02/12/2026 08:00"}
    response = api.post("/api/v1/lab-panels/", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    english = api.post("/api/v1/lab-panels/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == english.status_code == 400
    assert sorted(response.json()) == sorted(english.json())
    assert english.json()["sampled_at"] == ["Enter a date and time as YYYY-MM-DDTHH:MM (ISO 8601)."]
    assert response.json()["sampled_at"] == ["请按 YYYY-MM-DDTHH:MM（ISO 8601）格式输入日期和时间。"]


def test_without_accept_language_the_api_speaks_english(api, patient):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    response = api.post("/api/v1/lab-panels/", lab_body(visit, "60"), format="json")
    assert response.json() == {"values[0].value": ["Maximum temperature must be at most 45 °C (entered 60)."]}


def test_drf_own_messages_follow_the_language_too(client):
    response = client.get("/api/v1/patients/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code in (401, 403)
    assert list(response.json()) == ["detail"]
    assert response.json()["detail"] == "身份认证信息未提供。"


@pytest.mark.parametrize(
    ("values", "key", "english", "chinese"),
    [
        (
            [{"analyte": "NOPE", "value": "1"}],
            "values[0].analyte",
            "Unknown analyte NOPE; see GET /api/v1/analytes/.",
            "未知检测项目 NOPE；见 GET /api/v1/analytes/。",
        ),
        (
            [{"analyte": "TEMP", "value": "37.0", "unit": "°C"}, {"analyte": "TEMP", "value": "37.1", "unit": "°C"}],
            "values[1].analyte",
            "TEMP is entered twice in this panel.",
            "TEMP 在本次实验室检查中录入了两次。",
        ),
    ],
)
def test_the_input_adapters_refusals_answer_in_chinese_too(api, patient, values, key, english, chinese):
    visit = Visit.objects.get(patient=patient, definition__code="D7")
    body = lab_body(visit, "37") | {"values": values}
    in_english = api.post("/api/v1/lab-panels/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    in_chinese = api.post("/api/v1/lab-panels/", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert in_english.status_code == in_chinese.status_code == 400
    assert in_english.json()[key] == [english]
    assert in_chinese.json()[key] == [chinese]
    assert not LabPanel.objects.exists()
