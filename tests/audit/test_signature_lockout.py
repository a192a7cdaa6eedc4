"""The signature password gets the sign-in's lockout (django-axes) and every attempt is logged."""

import pytest
from django.urls import reverse

from audit.models import AuthEvent
from review.models import Signature
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    return settings


def sign(client, patient, password: str):
    return client.post(
        reverse("patient_review", args=[patient.pk]),
        # The patient has the edit checks' open queries; signing over them is confirmed.
        {"action": "sign", "visit": "", "password": password, "confirm_open_queries": "1"},
        follow=True,
    )


def test_five_wrong_signature_passwords_lock_signing_and_sign_in(client, patient, clinician, axes_on):
    client.force_login(clinician)
    for attempt in range(1, axes_on.AXES_FAILURE_LIMIT):
        page = sign(client, patient, "wrong")
        assert page.status_code == 200
        assert "The password is not correct. After 5 wrong passwords sign-in and signing are locked for 30 minutes" in (
            page.content.decode()
        ), attempt
    last = sign(client, patient, "wrong")  # the fifth
    assert last.status_code == 200
    locked = "5 wrong passwords for clin_a from this address: sign-in, signing and API tokens are refused for 30 min"
    assert locked in last.content.decode()
    # The right password no longer signs ...
    refused = sign(client, patient, PASSWORD)
    assert refused.status_code == 200 and locked in refused.content.decode()
    assert "Nothing was signed." in refused.content.decode()
    assert not Signature.objects.filter(patient=patient).exists()
    # ... nor signs in, from this address.
    client.logout()
    sign_in = client.post(reverse("login"), {"username": clinician.username, "password": PASSWORD})
    assert sign_in.status_code == 429 and locked in sign_in.content.decode()
    assert "_auth_user_id" not in client.session
    # Every attempt is in the security log: six at the signature, one at the sign-in page.
    kinds = list(AuthEvent.objects.filter(username=clinician.username).order_by("id").values_list("kind", flat=True))
    assert kinds.count("sign_failed") == 6
    assert kinds[-1] == "login_failed"


def test_a_signature_is_logged_with_what_was_signed(client, patient, clinician, axes_on):
    client.force_login(clinician)
    page = sign(client, patient, PASSWORD)
    assert "Signed." in page.content.decode()
    event = AuthEvent.objects.get(kind="signature")
    assert (event.user, event.ip_address) == (clinician, "127.0.0.1")
    assert event.detail == f"{patient.subject_number}: casebook"
    assert Signature.objects.filter(patient=patient, signer=clinician).count() == 1


def test_wrong_sign_in_passwords_count_against_signing_too(client, patient, clinician, axes_on):
    """One counter per username and address, whichever door the password was typed at."""
    for _ in range(axes_on.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": clinician.username, "password": "wrong"})
    client.force_login(clinician)  # e.g. a session opened before the attempts
    page = sign(client, patient, PASSWORD)
    assert "sign-in, signing and API tokens are refused for 30 minutes" in page.content.decode()
    assert not Signature.objects.exists()
