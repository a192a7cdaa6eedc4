"""Walk the hash chain of every audit table and name the first broken link of each."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from audit.chain import chains_verify


class Command(BaseCommand):
    help = (
        "Verify the hash chains of the audit tables (history, security log, query conversations, "
        "downloads): prints each table's head, or its first broken link (table, row id, expected and "
        "found hash), and exits non-zero when a chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("tables", nargs="*", help="Only these tables (default: every audit table).")
        parser.add_argument("--database", default="default")

    def handle(self, *args, tables, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("The audit tables are chained in PostgreSQL only; this database is not.")
        outermost = not connection.in_atomic_block
        with transaction.atomic(using=database):
            if outermost:  # one snapshot for every table, and the links streamed, not held
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            reports = chains_verify(connection, tables or None)
        broken = [r for r in reports if not r.intact]
        for report in reports:
            if report.intact:
                self.stdout.write(f"ok      {report.table}: {report.links} links, head {report.head}")
            else:
                more = f" (and {report.broken - 1} more)" if report.broken > 1 else ""
                self.stdout.write(f"BROKEN  {report.breaks[0]}{more}")
        if broken:
            raise CommandError(f"{len(broken)} of {len(reports)} audit tables have a broken chain.")
        self.stdout.write(self.style.SUCCESS(f"All {len(reports)} audit chains are intact."))
