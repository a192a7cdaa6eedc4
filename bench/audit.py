"""Audit trail benchmark: the study trail and a patient's trail, a page at a time, against the
cohort bench/run.py has built, each as a ratio to a trivial page (the floor every page pays:
session, user, middleware, the base template).

The cohort is written with bulk inserts and has no history; `history_create` gives every record
of it the history row a service would have written (created, by the system, dated when the
record happened), in SQL, so the trail is as long as the data: one row per screening, patient,
visit, lab panel and lab value. They are not linked into the hash chains (`audit_verify` would
report them): this database is the benchmark's, thrown away by the next `make bench`.
"""

import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import LabPanel, LabResult, Visit
from audit.chain import TRIGGER
from patients.models import Patient, Screening
from trial.models import Site, SiteMembership

RUNS = 7
# The instant each record happened, as SQL over its own table: when its history row is dated.
HAPPENED = {
    Screening: "screening_date::timestamptz",
    Patient: "enrollment_date::timestamptz",
    Visit: "coalesce(visit_date, planned_date, current_date)::timestamptz",
    LabPanel: "sampled_at",
    LabResult: "sampled_at + interval '1 minute'",
}


def history_create() -> int:
    """The created-row of every record of the bulk-built cohort (run once, right after it is built,
    before any service writes); returns the rows written."""
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")  # 420,000 lab values in one statement
        for model, happened in HAPPENED.items():
            history = model.history.model
            table, history_table = model._meta.db_table, history._meta.db_table
            own = {f.column for f in model._meta.concrete_fields}
            columns = [f.column for f in history._meta.concrete_fields if f.column in own]
            into = ", ".join(f'"{c}"' for c in columns)
            values = ", ".join(f'r."{c}"' for c in columns)
            # Table and column names from the models' metadata, never from input.
            sql = (
                f'INSERT INTO "{history_table}" ({into}, history_date, history_type, history_change_reason, '  # noqa: S608
                "history_user_id, history_user_roles) "
                f"SELECT {values}, {happened}, '+', 'Created', NULL, '' FROM \"{table}\" r"
            )
            # The bench's own database: these synthetic rows are not linked into the tables' hash
            # chains (linking is a cost of the write, about 1 ms a row, not of reading the trail).
            cursor.execute(f'ALTER TABLE "{history_table}" DISABLE TRIGGER {TRIGGER}')
            cursor.execute(sql)
            written += cursor.rowcount
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred checks now, then the table may change
            cursor.execute(f'ALTER TABLE "{history_table}" ENABLE TRIGGER {TRIGGER}')
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return written


def security_create(user, count: int) -> int:
    """`count` security events a minute apart, newest now: every other one the reader's own
    sign-in, the others failed sign-ins of a name no site knows (outside the reader's log, so the
    page filters as it reads). In SQL, not linked into the table's hash chain (as above)."""
    from audit.models import AuthEvent

    table = AuthEvent._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER {TRIGGER}')
        cursor.execute(
            f'INSERT INTO "{table}" (kind, user_id, username, at, ip_address, detail) '  # noqa: S608
            "SELECT CASE WHEN g %% 2 = 0 THEN 'login' ELSE 'login_failed' END, "
            "CASE WHEN g %% 2 = 0 THEN %s END, CASE WHEN g %% 2 = 0 THEN %s ELSE 'unknown-person' END, "
            "now() - g * interval '1 minute', '10.0.0.7', '' FROM generate_series(1, %s) g",
            [user.pk, user.username, count],
        )
        written = cursor.rowcount
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER {TRIGGER}')
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
    return written


def _timed(client: Client, url: str, params: dict | None, floor: str) -> tuple[float, float, int]:
    """Median milliseconds of RUNS requests of the page and of the floor, taken in turn (one of
    each to warm up) so that both see the same load; and the page's statements."""
    client.get(url, params or {})
    client.get(floor)
    page_ms, floor_ms = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url, params or {})
        page_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        started = time.perf_counter()
        client.get(floor)
        floor_ms.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, params or {})
    return statistics.median(page_ms), statistics.median(floor_ms), len(captured)


def run(*, written: int, history_s: float) -> list[str]:
    user, _ = get_user_model().objects.get_or_create(username="bench_audit", defaults={"first_name": "Bench"})
    user.groups.add(*_groups("monitor"))
    site = Site.objects.order_by("id").first()
    SiteMembership.objects.get_or_create(user=user, site=site)
    client = Client()
    client.force_login(user)
    patients = Patient.objects.count()
    patient = Patient.objects.filter(site=site).order_by("id").first()
    rows = sum(model.history.count() for model in HAPPENED)
    security_rows = security_create(user, patients * 10)

    floor = reverse("notification_list")
    with CaptureQueriesContext(connection) as captured:
        client.get(floor)
    floor_q = len(captured)
    study = reverse("audit_study")
    first = client.get(study)
    older = first.context["older_url"] if first.context and "older_url" in first.context else ""
    security = reverse("audit_security")
    security_first = client.get(security)
    security_older = security_first.context.get("older_url", "") if security_first.context else ""
    pages = [
        ("study trail, newest page", study, None),
        ("study trail, the next (older) page", study + older, None),
        ("study trail, lab values only", study, {"model": "assessments.labresult"}),
        ("study trail, one patient", study, {"patient": patient.subject_number}),
        ("a patient's trail, newest page", reverse("audit_patient", args=[patient.pk]), None),
        ("security log, newest page", security, None),
        ("security log, the next (older) page", security + security_older, None),
    ]
    lines = [
        f"## Audit trail at {patients} patients",
        "",
        f"{patients} patients; their history: {rows} rows of screenings, enrollments, visits, lab panels and "
        f"lab values ({written} written for the bulk-built cohort in {history_s:.1f} s, in SQL); a security log of "
        f"{security_rows} events, half of them the reader's. Each page shows "
        "50 entries; the floor is a trivial page (`/notifications/`, empty: session, user, base template; "
        f"{floor_q} SQL statements), requested in turn with each page so both see the same load. "
        f"Medians of {RUNS} requests after one to warm up.",
        "",
        "| page | target | time | floor | × floor | SQL statements |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, url, params in pages:
        ms, floor_ms, queries = _timed(client, url, params, floor)
        lines.append(
            f"| {name} | < 150 ms, < 10 × floor | {ms:.0f} ms | {floor_ms:.0f} ms | {ms / floor_ms:.1f} | {queries} |"
        )
    lines.append("")
    return lines


def _groups(*names):
    from django.contrib.auth.models import Group

    return Group.objects.filter(name__in=names)
