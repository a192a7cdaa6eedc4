"""Append-only audit tables in PostgreSQL: UPDATE and DELETE are refused by a trigger.

The application connects as a role that owns its tables, so revoking privileges would not
bind it; a trigger does, whatever path (application, admin, shell, raw SQL) tries.
"""

from django.db import connections

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


def audit_table_names(connection) -> list[str]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    return sorted(t for t in tables if "_historical" in t or t == "audit_authevent")


def history_tables_protect(*, using: str = "default") -> list[str]:
    """Install the append-only trigger on every history table and the security log."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    tables = audit_table_names(connection)
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"DROP TRIGGER IF EXISTS audit_append_only ON {quoted}")
            cursor.execute(
                f"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {quoted} "
                "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
            )
    return tables
