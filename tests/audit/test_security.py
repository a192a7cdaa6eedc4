"""Sign-in lockout, session timeout, deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_repeated_failed_sign_ins_lock_the_username_out(client, clinician, settings):
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": clinician.username, "password": "wrong"})
    locked = client.post(reverse("login"), {"username": clinician.username, "password": PASSWORD})
    assert locked.status_code == 429  # the right password no longer opens the account
    assert "_auth_user_id" not in client.session


def test_sessions_time_out_after_30_idle_minutes():
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True


def test_production_settings_pass_the_deploy_check():
    env = dict(
        os.environ,
        DEBUG="0",
        HTTPS="1",
        SECRET_KEY="k9$Vq2!pZr7#LwX4@mB8^tYc6&nH1*eJ5(uF3)gD0_sA-oQ+iW=yT",
        ALLOWED_HOSTS="ecrf.example.org",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests of this run, never on a server
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# Serious adverse events reach the patient's site only.


@pytest.mark.django_db
def test_a_serious_adverse_event_notifies_only_the_coordinators_and_monitors_of_its_site(
    patient, clinician, coordinator, monitor, site_a, site_b, django_capture_on_commit_callbacks
):
    from django.core import mail

    from assessments.services.adverse_events import adverse_event_record
    from notifications.models import Notification
    from tests.conftest import make_user
    from tests.services.test_adverse_events import serious_data
    from trial.models import Role

    monitor_b = make_user("mon_b", Role.MONITOR, site_b)  # same trial, another site
    coordinator_b = make_user("coord_b", Role.COORDINATOR, site_b)
    both = make_user("mon_ab", Role.MONITOR, site_a, site_b)  # monitors both sites: is told once
    for user in (coordinator, monitor, monitor_b, coordinator_b, both):
        user.email = f"{user.username}@example.org"
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        ae = adverse_event_record(patient=patient, data=serious_data(), user=clinician)
    told = sorted(Notification.objects.filter(source_key=f"sae:{ae.pk}").values_list("recipient__username", flat=True))
    assert told == sorted([coordinator.username, monitor.username, both.username])
    mailed = sorted(address for message in mail.outbox for address in message.to)
    assert mailed == sorted(f"{u}@example.org" for u in told)
    assert not any(patient.subject_number in m.body for m in mail.outbox if m.to[0].startswith(("mon_b", "coord_b")))


# The API's description, the Content-Security-Policy, the secret key of a server.


@pytest.mark.django_db
def test_the_api_schema_and_its_pages_are_for_signed_in_users_only(client, monitor):
    assert client.get(reverse("api_schema")).status_code == 401
    for name in ("api_docs", "api_redoc"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    client.force_login(monitor)
    schema = client.get(reverse("api_schema"))
    assert schema.status_code == 200 and b"/api/v1/patients/" in schema.content
    docs = client.get(reverse("api_docs"))
    assert docs.status_code == 200 and b"<script>" not in docs.content  # the start-up script is a file
    assert client.get(reverse("api_docs") + "?script=").status_code == 200
    assert client.get(reverse("api_redoc")).status_code == 200


POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
def test_every_response_carries_the_content_security_policy(client, clinician, patient):
    anonymous = [reverse("login"), reverse("api_sites"), "/no-such-page/", reverse("home")]
    for url in anonymous:
        assert policy_of(client.get(url)) == POLICY, url
    client.force_login(clinician)
    for url in (reverse("patient_overview", args=[patient.pk]), reverse("dose_log", args=[patient.pk])):
        response = client.get(url)
        assert response.status_code == 200 and policy_of(response) == POLICY, url
    # ReDoc alone may use inline styles and a blob: worker; scripts stay the site's own everywhere.
    redoc = policy_of(client.get(reverse("api_redoc")))
    assert redoc == {**POLICY, "style-src": ["'self'", "'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}


def test_no_template_has_an_inline_script_style_or_handler():
    """What the policy would refuse in a browser (tests/e2e/test_csp_browser.py checks the pages there)."""
    import re

    offending = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        if path.parts[-2] == "forms" or path.name == "_base.html" or "exports/_base.html" in text:
            continue  # the PDF templates: WeasyPrint reads them, no browser
        if re.search(r"<script>|<script(?![^>]*\ssrc=)[^>]*>|\sstyle=\"|\son[a-z]+=\"|<style", text):
            offending.append(str(path.relative_to(ROOT)))
    assert offending == []


def test_a_server_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(HTTPS="1", DEBUG="0", ALLOWED_HOSTS="ecrf.example.org")

    def start(env):
        command = [sys.executable, "-c", "import config.settings"]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603

    result = start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set and HTTPS=1" in result.stderr
    assert "Set SECRET_KEY in the environment" in result.stderr
    # Without HTTPS (a developer's laptop) the embedded key still serves.
    env.pop("HTTPS")
    assert start(env).returncode == 0
