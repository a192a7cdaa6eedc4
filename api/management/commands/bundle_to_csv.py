"""Write a JSON bundle as the CSV bundle (docs/import.md): a ZIP, or its CSV files in a folder.

The files have every column, so the output of a small bundle is a template for a migration;
`bundle_to_csv api/fixtures/demo_bundle.json api/fixtures/demo_bundle_csv` writes the demo data.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from api.csv_bundle import bundle_to_csv_files, bundle_to_csv_zip


class Command(BaseCommand):
    help = "Write a JSON import bundle as CSV files: OUT.zip, or a folder of CSV files."

    def add_arguments(self, parser):
        parser.add_argument("bundle", help="Path of the JSON bundle.")
        parser.add_argument("out", help="The ZIP to write (name ending .zip), or a folder for the CSV files.")

    def handle(self, *args, bundle, out, **options):
        try:
            data = json.loads(Path(bundle).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"Cannot read the bundle: {exc}") from None
        if not isinstance(data, dict):
            raise CommandError("The bundle is a JSON object.")
        target = Path(out)
        if target.suffix.lower() == ".zip":
            target.write_bytes(bundle_to_csv_zip(data))
        else:
            target.mkdir(parents=True, exist_ok=True)
            for name, text in bundle_to_csv_files(data).items():
                (target / name).write_bytes(text.encode("utf-8"))
        self.stdout.write(self.style.SUCCESS(f"Wrote {target}."))
