"""Append-only audit tables in PostgreSQL: UPDATE and DELETE are refused by a trigger, and
each row is linked into its table's hash chain (audit/chain.py).

The trigger binds whoever connects, the tables' owner included, whatever path (application,
admin, shell, raw SQL) tries; the application's own role is also refused by its privileges
(`manage.py db_roles`), which keep it from TRUNCATE and from switching triggers off.
"""

from django.apps import apps
from django.db import connections

from audit.chain import chains_install

# Append-only beside the history tables: the security log, query conversations, downloads.
LOGS = ["audit.AuthEvent", "crf.QueryMessage", "exports.DownloadLog"]
# The chain itself is append-only too.
CHAIN = ["audit.ChainLink", "audit.ChainEpoch"]

# An UPDATE that writes a row back exactly as it is changes nothing and passes: Django's test
# runner writes its saved rows back that way (serialized_rollback), the seeded configuration's
# first history rows included.
FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit rows cannot be changed or deleted (table %)', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def db_tables(labels: list[str]) -> set[str]:
    return {apps.get_model(label)._meta.db_table for label in labels}


def audit_table_names(connection) -> list[str]:
    """The chained, append-only tables present: every history table and the logs."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    logs = db_tables(LOGS)
    return sorted(t for t in tables if "_historical" in t or t in logs)


def append_only_table_names(connection) -> list[str]:
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
    return sorted(set(audit_table_names(connection)) | (db_tables(CHAIN) & present))


def history_tables_protect(*, using: str = "default") -> list[str]:
    """Install the append-only trigger on every audit table and the chain, and chain the audit
    tables (rows already there are linked when a table gets its chain)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    tables = append_only_table_names(connection)
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {quoted} "
                "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
            )
    chains_install(connection, audit_table_names(connection))
    return tables
