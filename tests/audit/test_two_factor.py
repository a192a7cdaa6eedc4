"""Two-factor sign-in (TOTP): set up from the secret the page shows, asked for at sign-in and at
the API token endpoint, required for the roles TWO_FACTOR_ROLES names. The codes are computed
here from the shown secret (RFC 6238), not by the library under test."""

import base64
import hashlib
import hmac
import re
import struct
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from audit.models import AuthEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 9, 0, 5, tzinfo=UTC)  # 5 s into a 30 s time step


def totp(secret: str, at: float, *, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 TOTP (HMAC-SHA1) of a base32 secret at Unix time `at`."""
    key = base64.b32decode(secret.replace(" ", "").upper())
    digest = hmac.new(key, struct.pack(">Q", int(at) // step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def enrol(client, user) -> str:
    """Set up an authenticator as a user would, from the secret the page shows; returns the secret."""
    page = client.get(reverse("two_factor")).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    assert "<svg" in page and 'class="segno"' in page  # the QR code, inline
    uri = re.search(r'id="totp-uri">([^<]+)<', page).group(1)
    assert uri.startswith(f"otpauth://totp/RUX-HLH%20eCRF%3A{user.username}?secret={secret.replace(' ', '')}")
    done = client.post(reverse("two_factor"), {"code": totp(secret, time.time())})
    assert done.status_code == 302, done.content.decode()
    return secret


def sign_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_setting_up_and_signing_in_with_a_code(client, monitor):
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(monitor)
        page = client.get(reverse("two_factor")).content.decode()
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
        wrong = client.post(reverse("two_factor"), {"code": "000000" if totp(secret, time.time()) != "000000" else "1"})
        assert wrong.status_code == 200
        assert "The code is not correct or was already used" in wrong.content.decode()
        clock.shift(2)  # django-otp's back-off after a wrong code: 1 s
        assert enrol(client, monitor) == secret
        assert TOTPDevice.objects.get(user=monitor).confirmed
        client.logout()

        clock.shift(30)  # the next time step: a code is good once
        sign_in(client, monitor)
        held = client.get(reverse("subject_list"))
        assert held.status_code == 302 and held["Location"] == f"{reverse('two_factor_verify')}?next=%2Fpatients%2F"
        assert client.get(reverse("api_sites")).status_code == 403  # the API, with this session
        verified = client.post(
            reverse("two_factor_verify"), {"code": totp(secret, time.time()), "next": reverse("subject_list")}
        )
        assert verified.status_code == 302 and verified["Location"] == reverse("subject_list")
        assert client.get(reverse("subject_list")).status_code == 200
    kinds = list(AuthEvent.objects.filter(user=monitor).order_by("id").values_list("kind", "detail"))
    assert ("otp_failed", "setting up") in kinds and ("otp_enrolled", "") in kinds
    assert kinds[-1] == ("otp_verified", "sign-in")


def test_a_code_is_good_once_and_wrong_codes_are_refused_and_logged(client, monitor):
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(monitor)
        secret = enrol(client, monitor)
        client.logout()
        sign_in(client, monitor)
        replay = client.post(reverse("two_factor_verify"), {"code": totp(secret, time.time())})
        assert replay.status_code == 200 and "was already used" in replay.content.decode()
        clock.shift(1)
        too_soon = client.post(reverse("two_factor_verify"), {"code": "12345x"})
        assert "Enter the 6 digits of your authenticator app." in too_soon.content.decode()
        assert client.get(reverse("worklist")).status_code == 302
    assert AuthEvent.objects.filter(user=monitor, kind="otp_failed").count() == 2


def test_required_roles_must_set_up_a_second_factor_before_anything_else(client, monitor, clinician, settings):
    settings.TWO_FACTOR_ROLES = ["monitor", "data_manager"]
    sign_in(client, monitor)
    sent = client.get(reverse("worklist"))
    assert sent.status_code == 302 and sent["Location"] == f"{reverse('two_factor')}?next=%2Fworklist%2F"
    page = client.get(reverse("two_factor")).content.decode()
    assert "Your role (Monitor) signs in with a password and a code" in page
    with time_machine.travel(START, tick=False):
        enrol(client, monitor)
        assert client.get(reverse("worklist")).status_code == 200  # setting up verified this session
        off = client.post(reverse("two_factor"), {"code": "123456"})
    assert "Your role (Monitor) must sign in with two factors in this trial." in off.content.decode()
    assert TOTPDevice.objects.filter(user=monitor, confirmed=True).exists()
    client.logout()
    sign_in(client, clinician)  # a role not named signs in with the password alone
    assert client.get(reverse("worklist")).status_code == 200


def test_the_token_endpoint_asks_for_the_code(client, monitor, clinician, settings):
    settings.TWO_FACTOR_ROLES = ["monitor"]
    api = APIClient()
    body = {"username": monitor.username, "password": PASSWORD}
    not_set_up = api.post("/api/v1/auth/token/", body, format="json")
    assert not_set_up.status_code == 400
    assert not_set_up.json() == {
        "otp": ["Your role (monitor) signs in with two factors: set up an authenticator at /account/two-factor/."]
    }
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(monitor)
        secret = enrol(client, monitor)
        clock.shift(30)
        missing = api.post("/api/v1/auth/token/", body, format="json")
        assert missing.json() == {
            "otp": ["This account signs in with two factors: send the 6-digit code of your app as 'otp'."]
        }
        wrong = api.post("/api/v1/auth/token/", {**body, "otp": "99999"}, format="json")
        assert wrong.status_code == 400 and wrong.json() == {"otp": ["Enter the 6 digits of your authenticator app."]}
        issued = api.post("/api/v1/auth/token/", {**body, "otp": totp(secret, time.time())}, format="json")
        assert issued.status_code == 200 and issued.json()["token"]
    assert AuthEvent.objects.filter(user=monitor, kind="otp_verified", detail="API token").count() == 1
    plain = api.post("/api/v1/auth/token/", {"username": clinician.username, "password": PASSWORD}, format="json")
    assert plain.status_code == 200


def test_anyone_may_turn_it_on_and_off_where_not_required(client, clinician):
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(clinician)
        secret = enrol(client, clinician)
        page = client.get(reverse("two_factor")).content.decode()
        assert 'id="two-factor-on"' in page and "totp-secret" not in page  # the secret is shown only once set up
        clock.shift(timedelta(seconds=30))
        off = client.post(reverse("two_factor"), {"code": totp(secret, time.time())})
        assert off.status_code == 302
    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert AuthEvent.objects.filter(user=clinician, kind="otp_removed").exists()


def test_an_unknown_role_name_is_a_configuration_error(settings):
    from accounts.checks import credentials_settings

    settings.TWO_FACTOR_ROLES = ["monitors"]
    errors = credentials_settings()
    assert [e.id for e in errors] == ["accounts.E001"]
    assert "monitors" in errors[0].msg
