"""Property-based: cases generated from the live OpenAPI schema never get a 500, and every
documented response conforms to the schema (schemathesis, bounded and deterministic)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import enroll_child


@pytest.fixture
def live_schema(db, clinician):
    from config.wsgi import application

    # As Django's test client does: keep the test's connection (and transaction) open across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # The schema is served to signed-in users only.
    headers = {"Authorization": f"Token {Token.objects.get_or_create(user=clinician)[0].key}"}
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, headers=headers)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def token(site_a, clinician) -> str:
    enroll_child(site_a, clinician)
    return Token.objects.get_or_create(user=clinician)[0].key


SETTINGS = hypothesis_settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_no_server_error_and_schema_conformance(live_schema, token):
    """Every operation, 25 deterministic cases each (schemathesis's own pytest plugin needs an older pytest)."""
    failures = []
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @SETTINGS
        @given(case=operation.as_strategy())
        def run(case):
            response = case.call(headers={"Authorization": f"Token {token}"})
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:800]}")
    assert not failures, "\n\n".join(failures)
