"""Shared fixtures: the seeded trial, a second site, one user per role, eligible screening data."""

import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from trial.models import Role, Site, SiteMembership, Trial

PASSWORD = "a-Strong-test-pass-7"

# ECRF_TEST_CLOCK=HH:MM runs the session with the clock set to that UTC time of today (or to an
# ISO 8601 instant) and moving on from there: `make test` runs the time-sensitive modules again
# at 23:30 UTC, when Beijing's date is already tomorrow's.
_SESSION_CLOCK = None


def _compile_catalogues() -> None:
    """The Chinese pages need the compiled catalogue (make messages); build it when it is missing or
    older than its .po, so a test run straight from pytest sees the same pages as `make test`."""
    import shutil
    import subprocess
    from pathlib import Path

    for po in (Path(__file__).resolve().parent.parent / "locale").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            msgfmt = shutil.which("msgfmt") or "/usr/bin/msgfmt"
            subprocess.run([msgfmt, "--check", "-o", str(mo), str(po)], check=True)  # noqa: S603 - the project's .po


def pytest_configure(config):
    global _SESSION_CLOCK
    _compile_catalogues()
    value = os.environ.get("ECRF_TEST_CLOCK", "").strip()
    if not value:
        return
    import time_machine

    if len(value) == 5 and value[2] == ":":
        now = datetime.now(UTC)
        at = now.replace(hour=int(value[:2]), minute=int(value[3:]), second=0, microsecond=0)
    else:
        at = datetime.fromisoformat(value)
    _SESSION_CLOCK = time_machine.travel(at, tick=True)
    _SESSION_CLOCK.start()


def pytest_report_header(config):
    if _SESSION_CLOCK is not None:
        return f"clock: {datetime.now(UTC).isoformat(timespec='minutes')} (ECRF_TEST_CLOCK)"
    return None


@pytest.fixture(autouse=True)
def _postgres_only(request):
    """The suite runs on PostgreSQL, as production does (make test sets DATABASE_URL)."""
    if "django_db_setup" in request.fixturenames or request.node.get_closest_marker("django_db"):
        assert connection.vendor == "postgresql", "run the suite with make test (PostgreSQL)"


@pytest.fixture
def trial(db) -> Trial:
    return Trial.objects.get(registry_id="ChiCTR2000029977")


@pytest.fixture
def site_a(trial) -> Site:
    return Site.objects.get(trial=trial, code="BCH")


@pytest.fixture
def site_b(trial) -> Site:
    return Site.objects.create(trial=trial, code="SCH", name="Second Children's Hospital", time_zone="Asia/Shanghai")


def make_user(username: str, role: Role, *sites: Site) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, first_name=username.title())
    user.groups.add(Group.objects.get(name=role.value))
    for site in sites:
        SiteMembership.objects.create(user=user, site=site)
    return user


@pytest.fixture
def clinician(site_a) -> User:
    return make_user("clin_a", Role.CLINICIAN, site_a)


@pytest.fixture
def coordinator(site_a) -> User:
    return make_user("coord_a", Role.COORDINATOR, site_a)


@pytest.fixture
def monitor(site_a) -> User:
    return make_user("mon_a", Role.MONITOR, site_a)


@pytest.fixture
def data_manager(site_a) -> User:
    return make_user("dm_a", Role.DATA_MANAGER, site_a)


@pytest.fixture
def clinician_b(site_b) -> User:
    return make_user("clin_b", Role.CLINICIAN, site_b)


SCREENING_DAY = date(2026, 3, 2)


def eligible_data(**overrides) -> dict:
    """A child who meets 7 of 8 HLH-2004 criteria and no exclusion: eligible."""
    data = {
        "initials": "ZXY",
        "sex": "M",
        "date_of_birth": SCREENING_DAY - timedelta(days=365 * 4 + 30),
        "screening_date": SCREENING_DAY,
        "weight_kg": Decimal("15.0"),
        "height_cm": Decimal("102"),
        "consent_date": SCREENING_DAY,
        "consent_signer_initials": "MW",
        "consent_relation": "mother",
        "new_diagnosis": True,
        "prior_hlh_chemotherapy": False,
        "molecular_diagnosis": False,
        "max_temperature_c": Decimal("39.5"),
        "splenomegaly": True,
        "spleen_cm": Decimal("3"),
        "hemoglobin_g_l": Decimal("80"),
        "anc_10e9_l": Decimal("0.8"),
        "platelets_10e9_l": Decimal("45"),
        "triglycerides_mmol_l": Decimal("3.5"),
        "fibrinogen_g_l": Decimal("1.2"),
        "hemophagocytosis": True,
        "nk_activity_pct": Decimal("20"),
        "ferritin_ug_l": Decimal("3200"),
        "scd25_value": Decimal("30000"),
        "scd25_unit": "pg/mL",
        "cns_involvement": False,
        "serious_non_lab_manifestation": False,
        "ifn_gamma_pg_ml": Decimal("150"),
        "alt_u_l": Decimal("90"),
        "creatinine_umol_l": Decimal("30"),
        "cirrhosis": False,
        "nyha_class": 1,
        "malignancy": False,
        "parasitic_infection": False,
        "severe_allergy_history": False,
        "corticosteroids_received": False,
        "ebv_dna_whole_blood": Decimal("25000"),
        "ebv_dna_plasma": Decimal("900"),
        "ebna_igg_positive": False,
        "vca_igg_positive": True,
        "vca_igm_positive": True,
        "caebv_diagnosis": False,
        "aid_diagnosis": False,
        "wes_done": True,
        "wes_pathogenic_variant": False,
    }
    data.update(overrides)
    return data


def form_payload(data: dict) -> dict:
    """The same data as a browser would post it."""
    out = {}
    for key, value in data.items():
        if value is None:
            out[key] = ""
        elif value is True:
            out[key] = "true"
        elif value is False:
            out[key] = "false"
        else:
            out[key] = str(value)
    return out


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Logins are frequent in the page tests; the production hasher is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


DAY0 = SCREENING_DAY + timedelta(days=1)


def enroll_child(site: Site, user: User, *, weight: str = "15.0", dose: str = "5", **overrides):
    """Screen and enroll an eligible child; day 0 is the day after screening."""
    from patients.services import patient_enroll, screening_create

    screening = screening_create(site=site, data=eligible_data(weight_kg=Decimal(weight), **overrides), user=user)
    return patient_enroll(
        screening_id=screening.pk,
        enrollment_date=SCREENING_DAY,
        first_dose_date=DAY0,
        enrollment_weight_kg=Decimal(weight),
        prescribed_dose_mg=Decimal(dose),
        user=user,
    )


@pytest.fixture
def patient(site_a, clinician):
    return enroll_child(site_a, clinician)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in Chinese leaves its language active
    in the thread (as a real server's next request would not see it)."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_sign_in_lockout(settings):
    # The test client signs in without a request object, which django-axes needs; the
    # lockout itself is tested through the sign-in page (tests/audit/test_security.py).
    settings.AXES_ENABLED = False


@pytest.fixture
def all_ages_ranges_only(trial):
    """The ranges as first seeded: the trial defaults for all ages, without the age-banded rows.

    For the tests written against those numbers (ferritin <= 500 µg/L, Hb 110-160 g/L for a
    four-year-old), whose subject is not which band applies to a child.
    """
    from trial.models import ReferenceRange

    ReferenceRange.objects.filter(trial=trial, site__isnull=True).exclude(age_min_days=None, age_max_days=None).delete()


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db") if item is not None else None
    return bool(marker and marker.kwargs.get("transaction"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A test on real transactions (a live server, a worker) ends with the database emptied, and
    serialized rollback brings the migrations' rows (the trial, the CTCAE terms, the roles) back
    only at the start of the next such test. In one process those tests run last; spread over
    processes (`make test`) other modules follow them, so the rows are put back at once."""
    yield
    if not _transactional(item) or _transactional(nextitem):
        return
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        for connection in connections.all(initialized_only=True):
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents:
                connection.creation.deserialize_db_from_string(contents)
