"""The embedded default of `make run` (SQLite, tasks in-process, DEBUG off): the demo data load
through the import, the main pages and the ODM export answer, a form lock holds, errors are
the eCRF's own pages (never a debug page), and a casebook renders off the request, on SQLite.
The rest of the suite runs on PostgreSQL, so SQL that only PostgreSQL understands would otherwise go unnoticed here."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SMOKE = """
from django.test import Client
from django.urls import reverse
from assessments.models import LabPanel
from patients.models import Patient
from review.services import form_lock_set
from crf.locks import lock_check, RecordLocked
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


# Under make run's settings: no debug page for a 404 or a crash, and the pages still have their CSS.
ERROR_PAGES = """
import re
from unittest import mock
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

assert settings.DEBUG is False, settings.DEBUG
client = Client(raise_request_exception=False)
client.force_login(User.objects.get(username="clinician"))

def shown(response):
    page = response.content.decode()
    for leak in ("Traceback", "SECRET_KEY", "DATABASES", "Django settings", "forced failure", "DEBUG = True"):
        assert leak not in page, (response.status_code, leak)
    return page

page = shown(client.get("/no-such-page/"))
assert 'id="not-found"' in page and "Page not found" in page, page
with mock.patch("patients.selectors.subject_list", side_effect=RuntimeError("forced failure")):
    response = client.get(reverse("subject_list"))
assert response.status_code == 500, response.status_code
page = shown(response)
assert 'id="server-error"' in page and "Something went wrong" in page, page
response = client.get(reverse("screening_create") + "?site=abc")
assert response.status_code == 400 and "Site must be a whole number" in shown(response)
monitor = Client(raise_request_exception=False)
monitor.force_login(User.objects.get(username="monitor"))
response = monitor.get(reverse("screening_create"))  # monitors read, they do not enter data
assert response.status_code == 403 and "Not allowed" in shown(response)

page = client.get(reverse("subject_list")).content.decode()
stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
assert len(stylesheets) == 2, stylesheets
for href in stylesheets:
    css = client.get(href)
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css"), (href, css.status_code)
print("ERROR PAGES OK")
"""


# The embedded default renders a PDF on its background thread (crf.background), on SQLite: the
# request answers with the casebook queued while the render waits on an event, the page keeps
# reading and the status poll keeps answering beside the render's writes (WAL, busy timeout),
# and the render then completes to a PDF.
BACKGROUND = """
import threading, time
import weasyprint
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from crf.background import background_idle
from exports.models import GeneratedDocument
from patients.models import Patient

assert settings.TASKS_IN_BACKGROUND is True, settings.TASKS_IN_BACKGROUND
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    assert cursor.fetchone()[0] == "wal"
started, release, real = threading.Event(), threading.Event(), weasyprint.HTML
class GatedHTML:
    def __init__(self, *args, **kwargs):
        self.html = real(*args, **kwargs)
    def write_pdf(self, *args, **kwargs):
        started.set()
        assert release.wait(60), "never released"
        return self.html.write_pdf(*args, **kwargs)
weasyprint.HTML = GatedHTML

client = Client()
client.force_login(User.objects.get(username="monitor"))
patient = Patient.objects.order_by("id").first()
response = client.post(reverse("document_generate", args=[patient.pk]), {"kind": "casebook"})
assert response.status_code == 302, response.status_code
document = GeneratedDocument.objects.filter(patient=patient, kind="casebook").latest("created_at")
assert document.status in ("queued", "rendering"), document.status
assert started.wait(60), "the render never started"
status = client.get(reverse("document_status", args=[document.pk])).json()
assert (status["status"], status["progress"]) == ("rendering", 40), status
assert client.get(reverse("patient_documents", args=[patient.pk])).status_code == 200
release.set()
assert background_idle(timeout=120)
status = client.get(reverse("document_status", args=[document.pk])).json()
assert (status["status"], status["progress"]) == ("done", 100), status
download = client.get(status["download_url"])
assert b"".join(download.streaming_content).startswith(b"%PDF")
print("BACKGROUND OK")
"""


def runserver_line(*args: str, env: dict[str, str] | None = None) -> str:
    """The runserver command `make run` would execute (make -n prints it, runs nothing)."""
    make = shutil.which("make")
    assert make, "make is needed: the front door is make run"
    done = subprocess.run(  # noqa: S603
        [make, "-n", "run", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return next(row for row in done.stdout.splitlines() if "manage.py runserver" in row)


def make_run_env() -> dict[str, str]:
    """The variables `make run` gives runserver, read from the Makefile's own recipe."""
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"}
    env["DEBUG"] = "1"  # exported in the shell: make run must not pass it on
    words = shlex.split(runserver_line(env=env))
    return dict(word.split("=", 1) for word in words[words.index("env") + 1 :] if re.match(r"^[A-Z_]+=", word))


def test_make_run_serves_without_debug_unless_asked_on_the_command_line():
    assert make_run_env() == {"DEBUG": "0"}
    assert "DEBUG=1" in runserver_line("DEBUG=1")  # the developer's explicit opt-in


def test_make_run_path_works_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(make_run_env())
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
    assert "ERROR PAGES OK" in manage("shell", "-c", ERROR_PAGES)
    assert "BACKGROUND OK" in manage("shell", "-c", BACKGROUND)
