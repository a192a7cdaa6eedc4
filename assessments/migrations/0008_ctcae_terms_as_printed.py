"""CTCAE v3.0 terms as the CTCAE document prints them: "ALT, SGPT", not the tabulation's "ALT- SGPT".

The shipped tabulation (assessments/data/ctcae_v3_terms.csv) joins a term and its qualifier
with "- "; CTCAE writes ", ". A hyphen inside a word (C-P arrest) or set off by spaces
("Death - disease progression NOS") stays as it is.
"""

import re

from django.db import migrations

SEPARATOR = re.compile(r"(?<=\S)-\s+")


def printed(term: str) -> str:
    return re.sub(r"\s{2,}", " ", SEPARATOR.sub(", ", term)).strip()


def forwards(apps, schema_editor):
    CtcaeTerm = apps.get_model("assessments", "CtcaeTerm")
    changed = []
    for term in CtcaeTerm.objects.all():
        text = printed(term.term)
        if text != term.term:
            term.term = text
            changed.append(term)
    CtcaeTerm.objects.bulk_update(changed, ["term"])


class Migration(migrations.Migration):
    dependencies = [("assessments", "0007_endpoints_assessed_at")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
