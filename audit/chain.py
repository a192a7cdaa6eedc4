"""Tamper evidence for the audit tables: one hash chain per table, written by PostgreSQL.

Each row of an audit table (every history table, the security log, query conversations, the
download log) is covered by a link of its table's chain (audit.ChainLink):

    hash(n) = sha256(hash(n-1) + canonical(row n)), hex; hash(0) = 64 zeros

canonical(row) is PostgreSQL's jsonb text of the row (`to_jsonb`, keys in jsonb's order, times
in UTC) keeping the columns the table had when the row was written (audit.ChainEpoch), so a
migration that adds a column does not break the links of older rows. A row changed, deleted or
written with the trigger switched off breaks its table's chain, and `manage.py audit_verify`
names the first broken link. The chain is evidence, not a lock: whoever owns the tables could
rewrite a chain whole, so keep the heads `audit_verify` prints somewhere the database is not.

The links are written by a deferred constraint trigger, at commit, whatever wrote the row
(a service, bulk_create_with_history, the admin, raw SQL). Commits that write audit rows take
one advisory lock while they link them, so two commits never link to the same predecessor
(no fork) and the chain's order is the commit order; the lock is held for the linking only,
not for the transaction, and being one lock it cannot deadlock with itself. The application's
role cannot write the chain: the linking function runs as the tables' owner.

Nothing here exists on SQLite (the embedded default of `make run`).
"""

import hashlib
import json
from dataclasses import dataclass, field

GENESIS = "0" * 64
TRIGGER = "audit_chain"

FUNCTIONS = """
CREATE OR REPLACE FUNCTION audit_chain_row(r anyelement) RETURNS jsonb
    LANGUAGE sql STABLE
    SET "TimeZone" TO 'UTC' SET "IntervalStyle" TO 'postgres' SET extra_float_digits TO '1'
    AS $$ SELECT to_jsonb(r) $$;

CREATE OR REPLACE FUNCTION audit_chain_canonical(rec jsonb, columns jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT coalesce(jsonb_object_agg(key, value), '{{}}'::jsonb)::text
        FROM jsonb_each(rec) WHERE columns ? key $$;

CREATE OR REPLACE FUNCTION audit_chain_append(tbl_name text, pk bigint, rec jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path TO {schema}, pg_temp
    AS $$
DECLARE
    -- In the index's collation: TG_TABLE_NAME is a name, collated "C", and a call's collation
    -- passes to every variable not declared with its own (then the index is not used).
    tbl text COLLATE "default" := tbl_name;
    last_seq bigint := 0;
    last_hash text := repeat('0', 64);
    cols jsonb;
    epoch jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(418581342580);  -- the linking's lock: "audit" in ASCII
    SELECT seq, hash INTO last_seq, last_hash FROM {link} WHERE table_name = tbl ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    -- The row's own columns (jsonb's key order): canonical(rec, cols) is then rec's own text.
    SELECT jsonb_agg(k) INTO cols FROM jsonb_object_keys(rec) AS k;
    SELECT columns INTO epoch FROM {epoch} WHERE table_name = tbl ORDER BY first_seq DESC LIMIT 1;
    IF epoch IS DISTINCT FROM cols THEN
        INSERT INTO {epoch} (table_name, first_seq, columns) VALUES (tbl, last_seq + 1, cols);
    END IF;
    INSERT INTO {link} (table_name, seq, row_pk, hash)
    VALUES (tbl, last_seq + 1, pk,
            encode(sha256(convert_to(last_hash || rec::text, 'UTF8')), 'hex'));
END;
$$;

CREATE OR REPLACE FUNCTION audit_chain_link() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path TO {schema}, pg_temp
    AS $$
DECLARE
    rec jsonb := audit_chain_row(NEW);
BEGIN
    PERFORM audit_chain_append(TG_TABLE_NAME, (rec ->> TG_ARGV[0])::bigint, rec);
    RETURN NULL;
END;
$$;

-- Rows written before the table had its chain (at the migration that starts it), in key order.
CREATE OR REPLACE FUNCTION audit_chain_backfill(tbl text, pkcol text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path TO {schema}, pg_temp
    AS $$
DECLARE
    r record;
    n bigint := 0;
BEGIN
    FOR r IN EXECUTE format(
        'SELECT audit_chain_row(t) AS rec FROM %I t WHERE NOT EXISTS '
        '(SELECT 1 FROM {link} l WHERE l.table_name = %L AND l.row_pk = t.%I) ORDER BY t.%I',
        tbl, tbl, pkcol, pkcol)
    LOOP
        PERFORM audit_chain_append(tbl, (r.rec ->> pkcol)::bigint, r.rec);
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;

-- Only through the trigger (or the owner's backfill): the application cannot forge links.
REVOKE ALL ON FUNCTION audit_chain_append(text, bigint, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_chain_backfill(text, text) FROM PUBLIC;
"""


# Statements with identifiers from the catalogue (table and column names), quoted by _sql.
TRIGGERED = (
    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE t.tgname = %s AND c.relnamespace = current_schema()::regnamespace"
)
CREATE_TRIGGER = (
    "CREATE CONSTRAINT TRIGGER {trigger} AFTER INSERT ON {table} DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE FUNCTION audit_chain_link({pk})"  # the name of the row's key, as a string
)
HAS_CHAIN = "SELECT 1 FROM {epoch} WHERE table_name = %s LIMIT 1"
EPOCHS = "SELECT first_seq, columns FROM {epoch} WHERE table_name = %s ORDER BY first_seq"
# The links of one epoch with the canonical form of each row as it is now (NULL: no such row).
WALK = (
    "SELECT l.seq, l.row_pk, l.hash, CASE WHEN t.{pk} IS NULL THEN NULL "
    "ELSE audit_chain_canonical(audit_chain_row(t), %s::jsonb) END "
    "FROM {link} l LEFT JOIN {table} t ON t.{pk} = l.row_pk "
    "WHERE l.table_name = %s AND l.seq >= %s AND l.seq < %s ORDER BY l.seq"
)
UNLINKED = (
    "SELECT min(t.{pk}), count(*) FROM {table} t "
    "WHERE NOT EXISTS (SELECT 1 FROM {link} l WHERE l.table_name = %s AND l.row_pk = t.{pk})"
)
LINKS = "SELECT count(*) FROM {link} WHERE table_name = %s"
CHAINED = "SELECT DISTINCT table_name FROM {link}"


def _sql(connection, template: str, **identifiers: str) -> str:
    return template.format(**{name: connection.ops.quote_name(value) for name, value in identifiers.items()})


def _names() -> dict[str, str]:
    from audit.models import ChainEpoch, ChainLink

    return {"link": ChainLink._meta.db_table, "epoch": ChainEpoch._meta.db_table}


def _primary_key(connection, cursor, table: str) -> str:
    return connection.introspection.get_primary_key_columns(cursor, table)[0]


def chains_install(connection, tables: list[str]) -> dict[str, int]:
    """Chain each table (PostgreSQL): the functions, a trigger per table, and for a table that
    has no chain yet, links for the rows it already holds. Returns the rows linked per table.

    A table that has a chain is never backfilled: a row that reached it with the trigger off
    stays unlinked, and reported, rather than being adopted by the next migrate."""
    from django.db import transaction

    names = _names()
    linked: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute(_sql(connection, FUNCTIONS, schema=schema, **names))
        cursor.execute(TRIGGERED, [TRIGGER])
        triggered = {row[0] for row in cursor.fetchall()}
        for table in tables:
            pk = _primary_key(connection, cursor, table)
            with transaction.atomic(using=connection.alias):
                if table not in triggered:
                    cursor.execute(_sql(connection, CREATE_TRIGGER, trigger=TRIGGER, table=table, pk=pk))
                cursor.execute(_sql(connection, HAS_CHAIN, **names), [table])
                if cursor.fetchone() is None:
                    cursor.execute("SELECT audit_chain_backfill(%s, %s)", [table, pk])
                    linked[table] = cursor.fetchone()[0]
    return linked


@dataclass(frozen=True)
class Break:
    """One broken link: what is wrong, where, and the hash the chain holds vs the row's now."""

    table: str
    problem: str
    seq: int | None = None
    row_id: int | None = None
    expected: str = ""
    found: str = ""

    def __str__(self) -> str:
        where = [f"link {self.seq}" if self.seq is not None else "", f"row id {self.row_id}" if self.row_id else ""]
        text = f"{self.table}: {', '.join(w for w in where if w)}: {self.problem}"
        if self.expected or self.found:
            text += f" (expected {self.expected or '—'}, found {self.found or '—'})"
        return text


@dataclass
class ChainReport:
    table: str
    links: int = 0
    head: str = GENESIS
    breaks: list[Break] = field(default_factory=list)
    broken: int = 0  # links and rows at fault; `breaks` lists the first of them

    @property
    def intact(self) -> bool:
        return self.broken == 0

    def add(self, fault: Break, count: int = 1) -> None:
        if len(self.breaks) < 20:
            self.breaks.append(fault)
        self.broken += count


def link_hash(previous: str, canonical: str) -> str:
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


def chain_verify(connection, table: str) -> ChainReport:
    """Walk one table's chain from its first link: each link must follow from the one before
    and from its row as it is now; then every row of the table must be in a link."""
    names = _names()
    report = ChainReport(table=table)
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            cursor.execute(_sql(connection, LINKS, **names), [table])
            if links := cursor.fetchone()[0]:
                report.add(Break(table, f"the table is gone ({links} links)"))
            return report
        pk = _primary_key(connection, cursor, table)
        cursor.execute(_sql(connection, EPOCHS, **names), [table])
        epochs = [(first, cols if isinstance(cols, list) else json.loads(cols)) for first, cols in cursor.fetchall()]
    # Each epoch's links are hashed with its columns (the first epoch's from the chain's start).
    bounds = [0] + [first for first, _ in epochs[1:]] + [2**63 - 1]
    previous, expected_seq = GENESIS, 1
    walk = _sql(connection, WALK, pk=pk, table=table, **names)
    for (_, columns), first, until in zip(epochs, bounds, bounds[1:], strict=False):
        with connection.chunked_cursor() as cursor:
            cursor.execute(walk, [json.dumps(columns), table, first, until])
            for seq, row_pk, stored, canonical in cursor:
                if seq != expected_seq:
                    missing = f"links {expected_seq} to {seq - 1} are missing (removed from the chain)"
                    report.add(Break(table, missing, seq=seq), count=seq - expected_seq)
                if canonical is None:
                    report.add(Break(table, "the row is missing (deleted or truncated)", seq, row_pk, expected=stored))
                elif (found := link_hash(previous, canonical)) != stored:
                    report.add(Break(table, "the row or the link before it was changed", seq, row_pk, stored, found))
                previous, expected_seq = stored, seq + 1
                report.links += 1
    report.head = previous
    with connection.cursor() as cursor:
        if not epochs:
            cursor.execute(_sql(connection, LINKS, **names), [table])
            if links := cursor.fetchone()[0]:
                report.add(Break(table, f"the record of the chain's columns is missing ({links} links)"))
        cursor.execute(_sql(connection, UNLINKED, pk=pk, table=table, **names), [table])
        first_unlinked, unlinked = cursor.fetchone()
    if unlinked:
        problem = f"in no link: {unlinked} row(s) written with the chain switched off, from this one"
        report.add(Break(table, problem, row_id=first_unlinked), count=unlinked)
    return report


def chains_verify(connection, tables: list[str] | None = None) -> list[ChainReport]:
    """Every audit table's chain (and any chain whose table is gone), or the tables named."""
    from audit.immutability import audit_table_names

    if tables is None:
        with connection.cursor() as cursor:
            cursor.execute(_sql(connection, CHAINED, **_names()))
            tables = sorted(set(audit_table_names(connection)) | {row[0] for row in cursor})
    return [chain_verify(connection, table) for table in tables]
