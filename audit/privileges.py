"""Two database roles (PostgreSQL): an owner that runs migrations and owns every table, and the
application's role, which the web app and the Celery worker and beat connect as.

The application's role is no superuser and owns nothing, so it cannot TRUNCATE, ALTER TABLE
... DISABLE TRIGGER or SET session_replication_role. It reads and writes the ordinary tables;
of the audit tables (history, security log, query conversations, downloads) it may only read
and add rows, and the hash chain (audit/chain.py) and the migration record it may only read.

`manage.py db_roles --bootstrap` (as a superuser, once per database, idempotent) creates the two
roles and gives the owner the database; `manage.py db_roles` (as the owner, after every
migrate) grants the application's role what it needs on the tables there are now.
"""

from dataclasses import dataclass

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from audit.immutability import CHAIN, audit_table_names, db_tables

ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple = ()
    shown: str = ""  # the statement as printed (a password masked)

    def __str__(self) -> str:
        return self.shown or self.sql


def _ident(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def grants(*, app_role: str, using: str = "default") -> list[Statement]:
    """The application's privileges on the tables of the current schema, from nothing: run as
    the owner after migrate (in one transaction, so the application never sees a gap)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        tables = set(connection.introspection.table_names(cursor))
    audit = set(audit_table_names(connection))
    # Read only: the chain is the database's to write, the record of migrations the owner's.
    read_only = db_tables(CHAIN) | {MigrationRecorder.Migration._meta.db_table}
    role, q_schema = _ident(connection, app_role), _ident(connection, schema)

    def on(names) -> str:
        return ", ".join(_ident(connection, t) for t in sorted(names))

    out = [
        Statement(f"REVOKE ALL ON ALL TABLES IN SCHEMA {q_schema} FROM {role}"),
        Statement(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {q_schema} FROM {role}"),
        Statement(f"REVOKE CREATE ON SCHEMA {q_schema} FROM PUBLIC"),
        Statement(f"GRANT USAGE ON SCHEMA {q_schema} TO {role}"),
        Statement(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {q_schema} TO {role}"),
    ]
    if ordinary := tables - audit - read_only:
        out.append(Statement(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {on(ordinary)} TO {role}"))
    if audit:
        out.append(Statement(f"GRANT SELECT, INSERT ON TABLE {on(audit)} TO {role}"))
    if present := read_only & tables:
        out.append(Statement(f"GRANT SELECT ON TABLE {on(present)} TO {role}"))
    return out


def bootstrap(*, owner: dict, app: dict, database: str, connection) -> list[Statement]:
    """As a superuser: both roles (created, or their attributes and passwords set again), the
    database and its schema given to the owner, and tables left by an older deployment (whose
    application connected as the superuser) handed over to the owner too.

    `owner` and `app` are Django database settings (USER, PASSWORD); `connection` is a DB-API
    connection to the database as the superuser."""
    quote = _quote_with(connection)
    out = []
    for role in (owner, app):
        name = role["USER"]
        out.append(
            Statement(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) "
                f"THEN CREATE ROLE {quote(name)}; END IF; END $$",
                (name,),
                f"CREATE ROLE {quote(name)} (unless it exists)",
            )
        )
        out.append(
            Statement(
                f"ALTER ROLE {quote(name)} {ROLE_ATTRIBUTES} PASSWORD %s",
                (role.get("PASSWORD") or None,),
                f"ALTER ROLE {quote(name)} {ROLE_ATTRIBUTES} PASSWORD '********'",
            )
        )
    owner_role, app_role, db = quote(owner["USER"]), quote(app["USER"]), quote(database)
    out += [
        Statement(f"ALTER DATABASE {db} OWNER TO {owner_role}"),
        Statement(f"REVOKE ALL ON DATABASE {db} FROM PUBLIC"),
        Statement(f"GRANT CONNECT ON DATABASE {db} TO {app_role}"),
        Statement(f"ALTER SCHEMA public OWNER TO {owner_role}"),
        Statement("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
    ]
    with connection.cursor() as cursor:
        cursor.execute(ADOPTABLE, (owner["USER"], owner["USER"]))
        out += [Statement(f"ALTER {kind} {name} OWNER TO {owner_role}") for kind, name in cursor.fetchall()]
    return out


# Objects of the public schema another role owns (all of them before the owner exists): tables
# (their sequences and indexes follow them), sequences of their own, and functions (the audit
# triggers'); extensions' are left.
ADOPTABLE = """
SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END,
       format('%%I.%%I', n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'S')
  AND c.relowner <> coalesce((SELECT oid FROM pg_roles WHERE rolname = %s), 0)
  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT 'FUNCTION', format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND p.proowner <> coalesce((SELECT oid FROM pg_roles WHERE rolname = %s), 0)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""


def _quote_with(connection):
    from psycopg2.extensions import quote_ident

    return lambda name: quote_ident(name, connection)


def statements_apply(statements: list[Statement], cursor) -> None:
    for statement in statements:
        cursor.execute(statement.sql, statement.params or None)
