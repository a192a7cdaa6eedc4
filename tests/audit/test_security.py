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
