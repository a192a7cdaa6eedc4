"""Import a trial's existing data from a JSON bundle or a CSV bundle (ZIP) (docs/import.md); all or nothing."""

import io
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError

from api.bundle_zip import is_zip
from api.csv_bundle import csv_bundle_import
from api.importing import ImportFailed, bundle_import
from api.parsing import json_loads


def progress_bar(stream):
    def show(done: int, total: int) -> None:
        width = 40
        filled = int(width * done / total) if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


class Command(BaseCommand):
    help = "Import screenings, enrollments, visits with labs, doses, AEs, treatment end and follow-up from a bundle."

    def add_arguments(self, parser):
        parser.add_argument(
            "bundle", help="Path of the JSON bundle or of the CSV bundle (.zip), or - for standard input."
        )
        parser.add_argument("--user", required=True, help="Username the records are entered as (history).")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, bundle, user, quiet=False, **options):
        try:
            account = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {user}.") from None
        try:
            if bundle == "-":
                stdin = getattr(sys.stdin, "buffer", None)
                source = io.BytesIO(stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8"))
            else:
                source = open(bundle, "rb")  # closed below (with source); a ZIP is read from it as a stream
        except OSError as exc:
            raise CommandError(f"Cannot read the bundle: {exc}") from None
        with source:
            self.import_from(
                source, csv_zip=bundle.lower().endswith(".zip") or is_zip(source), user=account, quiet=quiet
            )

    def import_from(self, source, *, csv_zip: bool, user, quiet: bool) -> None:
        data = None
        if not csv_zip:
            try:  # the API's reading: no NaN, no NUL or lone surrogate, bounded nesting
                data = json_loads(source.read())
            except ValidationError as exc:
                problems = "; ".join(f"{field}: {' '.join(map(str, m))}" for field, m in exc.detail.items())
                raise CommandError(f"Cannot read the bundle: {problems}") from None
        progress = None if quiet else progress_bar(self.stderr)
        try:
            if csv_zip:
                result = csv_bundle_import(data=source, user=user, progress=progress)
            else:
                result = bundle_import(bundle=data, user=user, progress=progress)
        except ImportFailed as exc:
            for error in exc.errors:
                field = f" {error['field']}:" if error["field"] else ""
                self.stderr.write(f"{error['row'] or '(bundle)'}{field} {error['message']}")
            raise CommandError(str(exc)) from None
        summary = result.as_dict()
        created = ", ".join(f"{n} {k}" for k, n in summary["created"].items()) or "nothing new"
        skipped = ", ".join(f"{n} {k}" for k, n in summary["skipped_existing"].items())
        self.stdout.write(
            self.style.SUCCESS(f"Imported: {created}." + (f" Already there: {skipped}." if skipped else ""))
        )
