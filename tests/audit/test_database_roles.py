"""The two database roles of a server, set up as docker-compose does (a superuser bootstraps the
roles, the owner migrates and grants), on a database of its own: the application's role cannot
empty, rewrite or unguard the audit tables, and its ordinary work goes on."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg2
import pytest
from django.db import connection
from psycopg2 import errors

from audit.privileges import ROLE_ATTRIBUTES, bootstrap

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-role-test-password"

pytestmark = pytest.mark.database_roles

WORK = """
from django.contrib.auth.models import Group, User
from patients.services import screening_create
from tests.conftest import eligible_data
from trial.models import Site, SiteMembership

site = Site.objects.get(code="BCH")
user = User.objects.create_user("role_test_clinician", password="a-Strong-test-pass-7")
user.groups.add(Group.objects.get(name="clinician"))
SiteMembership.objects.create(user=user, site=site)
screening = screening_create(site=site, data=eligible_data(), user=user)
print("SCREENED", screening.screening_number)
"""


def _url(role: str, name: str) -> str:
    settings = connection.settings_dict
    return f"postgres://{role}:{PASSWORD}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"


def _connect(role: str, name: str):
    settings = connection.settings_dict
    return psycopg2.connect(
        dbname=name, user=role, password=PASSWORD, host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432
    )


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def _drop(superuser, name: str, roles: list[str]) -> None:
    with superuser.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(scope="module")
def deployment():
    settings = connection.settings_dict
    base = settings["NAME"].removeprefix("test_")  # ecrf in make test, a worktree's own name otherwise
    name, owner, app = f"{base}_roles", f"{base}_roles_owner", f"{base}_roles_app"
    superuser = psycopg2.connect(
        dbname="postgres",
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )
    superuser.autocommit = True
    _drop(superuser, name, [owner, app])
    with superuser.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin_url = _url(settings["USER"], name).replace(f":{PASSWORD}@", f":{settings['PASSWORD'] or ''}@")
    env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    as_owner = {**env, "DATABASE_URL": _url(owner, name), "APP_DATABASE_URL": _url(app, name)}
    try:
        for step in (
            _manage({**as_owner, "DATABASE_ADMIN_URL": admin_url}, "db_roles", "--bootstrap", "--apply"),
            _manage(as_owner, "migrate", "--noinput", "-v0"),
            _manage(as_owner, "db_roles", "--apply"),
        ):
            assert step.returncode == 0, step.stdout + step.stderr
        yield {"name": name, "owner": owner, "app": app, "as_app": {**env, "DATABASE_URL": _url(app, name)}}
    finally:
        _drop(superuser, name, [owner, app])
        superuser.close()


def refused(conn, sql: str) -> str:
    with pytest.raises(errors.InsufficientPrivilege) as refusal, conn.cursor() as cursor:
        cursor.execute(sql)
    conn.rollback()
    return str(refusal.value)


def test_the_owner_owns_every_table_and_the_application_is_no_superuser(deployment):
    conn = _connect(deployment["app"], deployment["name"])
    with conn.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        assert cursor.fetchall() == [(deployment["owner"],)]
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles "
            "WHERE rolname IN (%s, %s)",
            [deployment["owner"], deployment["app"]],
        )
        assert cursor.fetchall() == [(False, False, False, False, False)] * 2
    conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE trial_historicalreferencerange",
        "TRUNCATE audit_authevent",
        "UPDATE trial_historicalreferencerange SET upper = 1",
        "DELETE FROM trial_historicalreferencerange",
        "UPDATE queries_querymessage SET text = 'changed'",
        "DELETE FROM exports_downloadlog",
        "UPDATE audit_authevent SET detail = 'changed'",
        "ALTER TABLE trial_historicalreferencerange DISABLE TRIGGER audit_append_only",
        "ALTER TABLE trial_historicalreferencerange DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "INSERT INTO audit_chainlink (table_name, seq, row_pk, hash) VALUES ('audit_authevent', 999, 1, 'forged')",
        "SELECT audit_chain_append('audit_authevent', 1, '{}'::jsonb)",
        "DROP TRIGGER audit_chain ON audit_authevent",
        "CREATE TABLE public.ecrf_roles_test (id int)",
    ],
)
def test_the_application_role_cannot_empty_rewrite_or_unguard_the_audit_tables(deployment, sql):
    conn = _connect(deployment["app"], deployment["name"])
    refused(conn, sql)
    conn.close()


def test_the_application_role_does_its_ordinary_work_and_the_chain_follows(deployment):
    conn = _connect(deployment["app"], deployment["name"])
    with conn.cursor() as cursor:  # an ordinary change and a new row of the security log, committed
        cursor.execute("UPDATE trial_site SET name = name WHERE code = 'BCH'")
        cursor.execute("INSERT INTO audit_authevent (kind, username, at, detail) VALUES ('login', 'x', now(), '')")
    conn.commit()
    conn.close()
    work = _manage(deployment["as_app"], "shell", "-c", WORK)  # through the services, as the web app does
    assert work.returncode == 0 and "SCREENED BCH-S001" in work.stdout, work.stdout + work.stderr
    verified = _manage(deployment["as_app"], "audit_verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ok      patients_historicalscreening" in verified.stdout and "BROKEN" not in verified.stdout


def test_two_commits_at_once_do_not_fork_the_chain(deployment):
    """Both transactions write audit rows, then commit together: one links after the other."""
    conns = [_connect(deployment["app"], deployment["name"]) for _ in range(2)]
    for i, conn in enumerate(conns):
        with conn.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_authevent (kind, username, at, detail) "
                "SELECT 'login', %s, now(), '' FROM generate_series(1, 200)",
                [f"racer{i}"],
            )
    start = threading.Barrier(2)

    def commit(conn) -> None:
        start.wait()
        conn.commit()

    threads = [threading.Thread(target=commit, args=(conn,)) for conn in conns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with conns[0].cursor() as cursor:
        cursor.execute("SELECT seq, row_pk FROM audit_chainlink WHERE table_name = 'audit_authevent' ORDER BY seq")
        links = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM audit_authevent")
        rows = cursor.fetchone()[0]
    for conn in conns:
        conn.close()
    assert [seq for seq, _ in links] == list(range(1, rows + 1))
    assert len({pk for _, pk in links}) == rows
    verified = _manage(deployment["as_app"], "audit_verify", "audit_authevent")
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.django_db
def test_a_deployment_whose_application_was_the_superuser_hands_its_tables_to_the_owner():
    """Before the two roles, the application migrated as the superuser and owns everything: the
    bootstrap gives the owner the tables and the audit functions, or migrate would fail as it."""
    connection.ensure_connection()
    owner, app = {"USER": "ecrf_owner_to_be"}, {"USER": "ecrf_app"}
    shown = [str(s) for s in bootstrap(owner=owner, app=app, database="ecrf", connection=connection.connection)]
    assert 'ALTER TABLE public.trial_trial OWNER TO "ecrf_owner_to_be"' in shown
    assert 'ALTER TABLE public.trial_historicalreferencerange OWNER TO "ecrf_owner_to_be"' in shown
    assert (
        'ALTER FUNCTION public.audit_chain_append(tbl_name text, pk bigint, rec jsonb) OWNER TO "ecrf_owner_to_be"'
        in shown
    )
    assert not [s for s in shown if "SEQUENCE" in s]  # identity sequences follow their tables
    assert f"ALTER ROLE \"ecrf_app\" {ROLE_ATTRIBUTES} PASSWORD '********'" in shown
