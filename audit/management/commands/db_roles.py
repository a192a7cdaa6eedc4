"""Print or apply the SQL of the two database roles (audit/privileges.py)."""

import os

import dj_database_url
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from audit.privileges import bootstrap, grants, statements_apply

DEFAULT_APP_ROLE = "ecrf_app"


class Command(BaseCommand):
    help = (
        "The application's database role: the grants it needs on the tables there are now (run as "
        "the owner, DATABASE_URL, after every migrate), or with --bootstrap both roles and the "
        "database given to the owner (run once as a superuser, DATABASE_ADMIN_URL). Prints the SQL; "
        "--apply runs it in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Run the SQL (default: print it).")
        parser.add_argument(
            "--bootstrap",
            action="store_true",
            help="Create the owner (DATABASE_URL's user) and the application's role (APP_DATABASE_URL's user) "
            "as the superuser of DATABASE_ADMIN_URL.",
        )
        parser.add_argument(
            "--app-role", default="", help="The application's role (default: APP_DATABASE_URL's user, else ecrf_app)."
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args, apply, bootstrap, app_role, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are for PostgreSQL; the embedded default (SQLite) has none.")
        app = dj_database_url.parse(os.environ["APP_DATABASE_URL"]) if os.environ.get("APP_DATABASE_URL") else {}
        app_role = app_role or app.get("USER") or DEFAULT_APP_ROLE
        if bootstrap:
            self._bootstrap(connection.settings_dict, {**app, "USER": app_role}, apply=apply)
            return
        statements = grants(app_role=app_role, using=database)
        if apply:
            with transaction.atomic(using=database), connection.cursor() as cursor:
                statements_apply(statements, cursor)
        self._report(statements, apply)

    def _bootstrap(self, owner: dict, app: dict, *, apply: bool) -> None:
        import psycopg2

        admin_url = os.environ.get("DATABASE_ADMIN_URL")
        if not admin_url:
            raise CommandError("--bootstrap connects as a superuser: set DATABASE_ADMIN_URL.")
        if apply and "PASSWORD" not in app:
            raise CommandError("--bootstrap --apply sets the application's password: set APP_DATABASE_URL.")
        admin = dj_database_url.parse(admin_url)
        conn = psycopg2.connect(
            dbname=owner["NAME"],
            user=admin["USER"],
            password=admin.get("PASSWORD") or None,
            host=admin.get("HOST") or None,
            port=admin.get("PORT") or None,
        )
        try:
            statements = bootstrap(owner=owner, app=app, database=owner["NAME"], connection=conn)
            if apply:
                with conn, conn.cursor() as cursor:
                    statements_apply(statements, cursor)
        finally:
            conn.close()
        self._report(statements, apply)

    def _report(self, statements, applied: bool) -> None:
        for statement in statements:
            self.stdout.write(f"{statement};")
        if applied:
            self.stdout.write(self.style.SUCCESS(f"Applied {len(statements)} statements."))
