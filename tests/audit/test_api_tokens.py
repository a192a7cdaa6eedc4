"""API tokens expire, end with a changed password or a deactivated account, and are logged when
issued and (once a day) used, without a write on every request."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import TokenUse
from audit.models import AuthEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def obtain(username: str, password: str = PASSWORD, **extra):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password, **extra}, format="json")


def using(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_lasts_24_hours_from_its_issue_and_then_is_refused(clinician):
    with time_machine.travel(NOON, tick=False):
        issued = obtain(clinician.username)
        assert issued.status_code == 200
        key = issued.json()["token"]
        assert issued.json()["expires_at"] == "2026-03-11T12:00:00Z"
        assert AuthEvent.objects.filter(kind="token_issued", user=clinician).count() == 1
        assert obtain(clinician.username).json()["token"] == key  # the one held while it lasts
    with time_machine.travel(NOON + timedelta(hours=23, minutes=59), tick=False):
        assert using(key).get("/api/v1/sites/").status_code == 200
    with time_machine.travel(NOON + timedelta(hours=24), tick=False):
        expired = using(key).get("/api/v1/sites/")
        assert expired.status_code == 401
        assert expired.json()["detail"] == (
            "The token expired at 2026-03-11 12:00 UTC (a token lasts 24 hours); "
            "ask for a new one with POST /api/v1/auth/token/."
        )
        assert not Token.objects.filter(key=key).exists()
        assert AuthEvent.objects.filter(kind="token_expired", user=clinician).exists()
        fresh = obtain(clinician.username).json()
        assert fresh["token"] != key and fresh["expires_at"] == "2026-03-12T12:00:00Z"


def test_the_lifetime_is_a_setting(clinician, settings):
    settings.API_TOKEN_HOURS = 2
    with time_machine.travel(NOON, tick=False):
        key = obtain(clinician.username).json()["token"]
    with time_machine.travel(NOON + timedelta(hours=2), tick=False):
        assert using(key).get("/api/v1/sites/").status_code == 401


def test_a_changed_password_or_a_deactivated_account_revokes_the_token(clinician, coordinator):
    key = obtain(clinician.username).json()["token"]
    clinician.set_password("another-Strong-pass-8")
    clinician.save()
    assert using(key).get("/api/v1/sites/").status_code == 401
    assert not Token.objects.filter(user=clinician).exists()
    assert AuthEvent.objects.get(kind="token_revoked", user=clinician).detail == "Password changed"

    other = obtain(coordinator.username).json()["token"]
    coordinator.last_name = "Renamed"
    coordinator.save()  # any other change keeps it
    coordinator.save(update_fields=["last_login"])
    assert using(other).get("/api/v1/sites/").status_code == 200
    coordinator.is_active = False
    coordinator.save()
    assert not Token.objects.filter(user=coordinator).exists()
    assert AuthEvent.objects.get(kind="token_revoked", user=coordinator).detail == "Account deactivated"


def test_use_is_noted_to_the_minute_and_logged_once_a_day(clinician, settings):
    settings.API_TOKEN_HOURS = 72
    with time_machine.travel(NOON, tick=False):
        key = obtain(clinician.username).json()["token"]
        client = using(key)
        client.get("/api/v1/sites/")
        assert TokenUse.objects.get(token_id=key).last_used_at == NOON
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/sites/").status_code == 200
        writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE"))]
        assert writes == [], "a second use within the minute writes nothing"
    with time_machine.travel(NOON + timedelta(minutes=5), tick=False):
        client.get("/api/v1/sites/")
        assert TokenUse.objects.get(token_id=key).last_used_at == NOON + timedelta(minutes=5)
    with time_machine.travel(NOON + timedelta(days=1), tick=False):
        client.get("/api/v1/analytes/")
    used = AuthEvent.objects.filter(kind="token_used", user=clinician).order_by("id")
    assert [(e.at.date().isoformat(), e.detail) for e in used] == [
        ("2026-03-10", "GET /api/v1/sites/"),
        ("2026-03-11", "GET /api/v1/analytes/"),
    ]


def test_the_token_endpoint_has_the_sign_in_lockout_and_logs_failures(clinician, settings):
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = obtain(clinician.username, "wrong")
        assert wrong.status_code == 400
        assert wrong.json() == {"non_field_errors": ["Unable to sign in with this username and password."]}
    assert obtain(clinician.username, "wrong").status_code == 429
    locked = obtain(clinician.username)
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("5 wrong passwords for clin_a from this address")
    assert not Token.objects.filter(user=clinician).exists()
    failures = AuthEvent.objects.filter(kind="login_failed", username=clinician.username)
    assert failures.count() == 6 and {e.detail for e in failures} == {"API token"}


def test_the_token_endpoint_names_each_missing_or_too_long_field():
    assert APIClient().post(TOKEN_URL, {}, format="json").json() == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }
    too_long = APIClient().post(TOKEN_URL, {"username": "x" * 151, "password": "p"}, format="json")
    assert too_long.status_code == 400
    assert too_long.json() == {"username": ["Ensure this field has no more than 150 characters."]}
