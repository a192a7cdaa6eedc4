"""The index the trail's pages read by: (history_date, history_id) on every history table.

A page of the trail is the rows before a cursor in that order, LIMIT 51, from each history
table; an index on the time alone makes the database sort every row of an instant shared by
thousands (a bulk import writes its rows at one instant), an index on both reads 51 entries.
The history tables belong to the apps whose records they keep, and are added by their
migrations; like the append-only trigger (audit.immutability), the index follows every migrate.
"""

from django.db import connections
from simple_history.models import registered_models


def index_name(table: str) -> str:
    return f"{table}_trail_order"[:63]  # PostgreSQL's limit on a name


def history_tables_index(*, using: str = "default") -> list[str]:
    """Create the trail's index on each history table that lacks it; returns the tables indexed."""
    connection = connections[using]
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
    tables = sorted(m.history.model._meta.db_table for m in registered_models.values())
    done = []
    with connection.cursor() as cursor:
        for table in tables:
            if table not in present:
                continue
            quote = connection.ops.quote_name
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(index_name(table))} ON {quote(table)} "
                "(history_date DESC, history_id DESC)"
            )
            done.append(table)
    return done
