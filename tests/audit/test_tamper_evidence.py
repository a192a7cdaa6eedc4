"""Each audit table's rows are hash-chained in the database; `audit_verify` names the first
broken link when a row is changed, deleted or written behind the guards' back."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from simple_history.utils import bulk_create_with_history

from assessments.models import SupportiveCare
from audit.chain import GENESIS
from audit.immutability import audit_table_names
from audit.models import AuthEvent, ChainLink
from crf.models import QueryMessage
from exports.models import DownloadLog
from patients.models import Screening
from patients.services import screening_create
from queries.services import query_raise
from tests.conftest import DAY0, eligible_data

pytestmark = pytest.mark.django_db


def link_now() -> None:
    """Commit's work: the links are written by deferred triggers, which a test never commits."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def as_superuser_without_triggers(sql: str, params=()) -> None:
    """What the owner or a superuser could do: switch the guards off and write."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = origin")


def verify(*tables: str) -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("audit_verify", *tables, stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def test_every_audit_table_is_chained_and_the_logs_are_append_only():
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_object_table FROM information_schema.triggers WHERE trigger_name = 'audit_chain'")
        chained = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT event_object_table FROM information_schema.triggers WHERE trigger_name = 'audit_append_only'"
        )
        append_only = {row[0] for row in cursor.fetchall()}
    tables = set(audit_table_names(connection))
    logs = {AuthEvent._meta.db_table, QueryMessage._meta.db_table, DownloadLog._meta.db_table}
    assert logs | {"patients_historicalscreening", "trial_historicalreferencerange", "audit_historicaluser"} <= tables
    assert tables <= chained
    assert tables | {ChainLink._meta.db_table, "audit_chainepoch"} <= append_only


@pytest.mark.parametrize("table", ["queries_querymessage", "exports_downloadlog", "audit_chainlink"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id + 1000", "DELETE FROM {table}"])
def test_query_conversations_downloads_and_the_chain_cannot_be_changed(patient, clinician, monitor, table, statement):
    query_raise(patient=patient, target=f"patients.patient:{patient.pk}", field="", text="Check", user=monitor)
    DownloadLog.objects.create(user=monitor, export="csv_zip")
    link_now()
    with pytest.raises(DatabaseError, match="audit rows cannot be changed or deleted"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement.format(table=table))


def test_rows_already_there_when_the_chain_began_are_linked_in_key_order():
    """The seeded configuration's first history rows were written by a migration before the
    chain existed; the migration that starts a table's chain links them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT history_id FROM trial_historicalreferencerange ORDER BY history_id")
        rows = [row[0] for row in cursor.fetchall()]
    links = ChainLink.objects.filter(table_name="trial_historicalreferencerange").order_by("seq")
    # The trial's first 12 ranges (0002), and the rows of later migrations: the pediatric bands
    # and the sources they name (0005), linked when written before the chain began.
    assert len(rows) > 12 and len(links) >= 12
    assert [(link.seq, link.row_pk) for link in links] == list(enumerate(rows[: len(links)], start=1))
    assert verify("trial_historicalreferencerange")[0]


def test_the_link_is_sha256_of_the_previous_hash_and_the_rows_jsonb_text(site_a, clinician):
    screening_create(site=site_a, data=eligible_data(), user=clinician)
    link_now()
    first, *_ = ChainLink.objects.filter(table_name="patients_historicalscreening").order_by("seq")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        cursor.execute(
            "SELECT to_jsonb(t)::text FROM patients_historicalscreening t WHERE history_id = %s", [first.row_pk]
        )
        canonical = cursor.fetchone()[0]
    assert first.seq == 1 and '"history_type": "+"' in canonical and "+00:00" in canonical
    assert first.hash == hashlib.sha256((GENESIS + canonical).encode()).hexdigest()


def test_a_row_changed_behind_the_guards_back_is_named_by_audit_verify(site_a, clinician):
    screening = screening_create(site=site_a, data=eligible_data(), user=clinician)
    screening_create(site=site_a, data=eligible_data(initials="ABC"), user=clinician)
    link_now()
    assert verify()[0]
    row = Screening.history.get(id=screening.pk)
    link = ChainLink.objects.get(table_name="patients_historicalscreening", row_pk=row.history_id)

    as_superuser_without_triggers(
        "UPDATE patients_historicalscreening SET ferritin_ug_l = 900 WHERE history_id = %s", [row.history_id]
    )
    intact, out = verify()
    assert not intact
    broken = [line for line in out.splitlines() if line.startswith("BROKEN")]
    assert len(broken) == 1  # the other tables and the other screening's row are intact
    assert f"patients_historicalscreening: link {link.seq}, row id {row.history_id}: " in broken[0]
    assert f"expected {link.hash}, found " in broken[0]


def test_deleted_rows_and_rows_written_with_the_chain_off_break_it(site_a, clinician, patient):
    records = [SupportiveCare(patient=patient, kind="gcsf", given_on=DAY0) for _ in range(3)]
    bulk_create_with_history(records, SupportiveCare, default_user=clinician)
    link_now()
    table = "assessments_historicalsupportivecare"
    assert verify(table)[0]
    rows = list(SupportiveCare.history.order_by("history_id").values_list("history_id", flat=True))

    as_superuser_without_triggers(f"DELETE FROM {table} WHERE history_id = %s", [rows[1]])  # noqa: S608
    intact, out = verify(table)
    assert not intact and f"row id {rows[1]}: the row is missing (deleted or truncated)" in out

    as_superuser_without_triggers(
        "INSERT INTO audit_authevent (kind, username, at, detail) VALUES ('login', 'ghost', now(), '')"
    )
    ghost = AuthEvent.objects.get(username="ghost")
    intact, out = verify("audit_authevent")
    assert not intact and f"audit_authevent: row id {ghost.pk}: in no link" in out


def test_bulk_inserts_are_linked_one_after_the_other(patient, clinician):
    records = [SupportiveCare(patient=patient, kind="gcsf", given_on=DAY0) for _ in range(50)]
    bulk_create_with_history(records, SupportiveCare, default_user=clinician)
    link_now()
    links = list(ChainLink.objects.filter(table_name="assessments_historicalsupportivecare").order_by("seq"))
    assert [link.seq for link in links] == list(range(1, 51))
    assert len({link.row_pk for link in links}) == 50
    assert verify("assessments_historicalsupportivecare")[0]


def test_a_row_written_back_unchanged_passes_the_guard(site_a, clinician):
    """Django's test runner writes saved rows back as they are (serialized rollback)."""
    screening_create(site=site_a, data=eligible_data(), user=clinician)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_historicalscreening SET ferritin_ug_l = ferritin_ug_l")
        assert cursor.rowcount >= 1
