import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(clinician) -> APIClient:
    return client_for(clinician)


@pytest.fixture
def api_monitor(monitor) -> APIClient:
    return client_for(monitor)


@pytest.fixture
def api_b(clinician_b) -> APIClient:
    return client_for(clinician_b)


def dose_body(patient, **overrides) -> dict:
    """POST doses/: the morning dose of treatment day 1, given at 08:00 (site time)."""
    from tests.conftest import DAY0

    body = {
        "patient": patient.pk,
        "treatment_day": 1,
        "slot": "am",
        "status": "given",
        "administered_at": f"{DAY0}T08:00",
        "amount_mg": "5",
    }
    return {**body, **overrides}
