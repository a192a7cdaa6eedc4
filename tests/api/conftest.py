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
