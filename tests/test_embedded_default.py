"""The embedded default of `make run` (SQLite, tasks in-process): the demo data load through the
import, the main pages and the ODM export answer and a form lock holds, on SQLite. The rest of the suite runs on
PostgreSQL, so SQL that only PostgreSQL understands would otherwise go unnoticed here."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SMOKE = """
from django.test import Client
from django.urls import reverse
from assessments.models import LabPanel
from patients.models import Patient
from review.services import form_lock_set, lock_check, RecordLocked
from django.contrib.auth.models import User

client = Client()
client.force_login(User.objects.get(username="datamanager"))  # sign-in itself is tested on PostgreSQL
patient = Patient.objects.order_by("id").first()
panel = LabPanel.objects.filter(patient=patient).first()
for url in (
    reverse("subject_list"), reverse("study_report"), reverse("study_report_json"),
    reverse("patient_overview", args=[patient.pk]), reverse("lab_panel_edit", args=[panel.visit_id]),
    reverse("patient_queries", args=[patient.pk]), reverse("exports_home"), "/api/v1/patients/",
):
    status = client.get(url).status_code
    assert status == 200, (url, status)
# The ODM export (latest history row per record) on SQLite, as a data manager downloads it.
from exports.odm import NS, odm_validate
from lxml import etree
response = client.get(reverse("odm_download"))
assert response.status_code == 200, response.status_code
document = b"".join(response.streaming_content)
assert odm_validate(document) == [], odm_validate(document)
root = etree.fromstring(document)
assert len(root.xpath("//odm:SubjectData", namespaces={"odm": NS})) == Patient.objects.count()
assert root.xpath("//odm:ItemGroupData/odm:AuditRecord/odm:DateTimeStamp", namespaces={"odm": NS})
print("ODM OK")
form_lock_set(record=panel, level="lock", user=User.objects.get(username="datamanager"), reason="Checked")
try:
    lock_check(panel.results.first())
except RecordLocked:
    print("LOCK HOLDS")
print("SMOKE OK", Patient.objects.count())
"""


def test_make_run_path_works_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    env["MEDIA_ROOT"] = str(tmp_path / "media")

    def manage(*args: str) -> str:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    assert "Demo data loaded." in manage("demo_seed")
    out = manage("shell", "-c", SMOKE)
    assert "LOCK HOLDS" in out and "ODM OK" in out and "SMOKE OK 3" in out, out
