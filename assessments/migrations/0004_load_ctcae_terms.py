"""Load the CTCAE v3.0 terms from assessments/data/ctcae_v3_terms.csv (source in its README)."""

import csv
from pathlib import Path

from django.db import migrations

CSV = Path(__file__).resolve().parent.parent / "data" / "ctcae_v3_terms.csv"


def load(apps, schema_editor):
    CtcaeTerm = apps.get_model("assessments", "CtcaeTerm")
    with CSV.open(encoding="utf-8") as handle:
        rows = [CtcaeTerm(code=r["code"], term=r["term"], category=r["category"]) for r in csv.DictReader(handle)]
    CtcaeTerm.objects.bulk_create(rows, ignore_conflicts=True)


def unload(apps, schema_editor):
    apps.get_model("assessments", "CtcaeTerm").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("assessments", "0003_ctcaeterm_historicalvisit_not_done_and_more")]
    operations = [migrations.RunPython(load, unload)]
