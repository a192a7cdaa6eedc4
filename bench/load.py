"""`make load`: 20 clients writing through the API for 60 s against gunicorn and a real worker.

Everything runs on 127.0.0.1: a fresh PostgreSQL database (ecrf_load), the Redis of the
machine, gunicorn serving the project (3 workers, as docker-compose.yml), one Celery worker.
Each client signs in with its own token and, for the whole run, records G-CSF doses, study-drug
doses, lab corrections and adverse events of the patients it shares with the others (so writes
race for the same patients and the recompute worker runs among them). Afterwards every write the
server accepted (201/200) must be in the database exactly once with its history row and its
author, and no request may have failed (a 5xx, a dropped connection). 409 (a concurrent edit)
and 400 (a dose slot already taken by another client) are the product's answers to races, not
errors; they are counted.

Exit status 1 when anything failed. Bounded: CLIENTS x DURATION, then it stops by itself.
"""

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "20"))
DURATION = float(os.environ.get("LOAD_SECONDS", "60"))
PATIENTS = int(os.environ.get("LOAD_PATIENTS", "8"))
PORT = int(os.environ.get("LOAD_PORT", "8765"))
HOST = "127.0.0.1"


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    accepted: list[tuple[str, int, int]] = field(default_factory=list)  # (kind, id, client)
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)


def request(conn, method: str, path: str, token: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = None
    return response.status, parsed


def client(index: int, token: str, user_id: int, patients: list[dict], deadline: float, tally: Tally) -> None:
    rng = random.Random(index)
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        patient = rng.choice(patients)
        kind = rng.choice(["gcsf", "dose", "lab", "ae"])
        try:
            started = time.perf_counter()
            if kind == "gcsf":
                body = {
                    "patient": patient["id"],
                    "kind": "gcsf",
                    "given_on": patient["day0"],
                    "detail": f"c{index}-{n}",
                }
                status, data = request(conn, "POST", "/api/v1/supportive-care/", token, body)
                kind_key = "supportivecare"
            elif kind == "dose":
                day, slot = rng.randint(1, 28), rng.choice(["am", "pm"])
                body = {
                    "patient": patient["id"],
                    "treatment_day": day,
                    "slot": slot,
                    "status": "missed",
                    "reason": f"load c{index}-{n}",
                }
                status, data = request(conn, "POST", "/api/v1/doses/", token, body)
                kind_key = "doseadministration"
            elif kind == "lab":
                status, panel = request(conn, "GET", f"/api/v1/lab-panels/{patient['panel']}/", token)
                if status != 200:
                    raise RuntimeError(f"GET lab panel answered {status}")
                body = {
                    "values": [{"analyte": "FERRITIN", "value": str(rng.randint(300, 3000))}],
                    "version": panel["version"],
                    "reason_for_change": f"load c{index}-{n}",
                }
                status, data = request(conn, "PATCH", f"/api/v1/lab-panels/{patient['panel']}/", token, body)
                kind_key = "labpanel"
            else:
                body = {
                    "patient": patient["id"],
                    "term_code": "GI110",
                    "grade": 1,
                    "onset_date": patient["day0"],
                    "relationship": "unlikely",
                    "action_taken": "none",
                    "outcome": "recovered",
                    "description": f"load c{index}-{n}",
                }
                status, data = request(conn, "POST", "/api/v1/adverse-events/", token, body)
                kind_key = "adverseevent"
            elapsed = time.perf_counter() - started
        except Exception as exc:  # a dropped connection, a timeout: a failure
            with tally.lock:
                tally.failures.append(f"client {index}: {kind}: {type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            continue
        with tally.lock:
            tally.statuses[status] += 1
            tally.latencies.append(elapsed)
            if status >= 500:
                tally.failures.append(f"client {index}: {kind}: {status} {data}")
            elif status in (200, 201) and isinstance(data, dict) and "id" in data:
                tally.accepted.append((kind_key, data["id"], user_id, data.get("version")))
    conn.close()


def server_env(database_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "0",
        "ALLOWED_HOSTS": HOST,
    }


def main() -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from api.importing import bundle_import
    from assessments.models import LabPanel
    from bench.api import bench_bundle
    from trial.models import Site, SiteMembership

    site = Site.objects.get(code="BCH")
    users = []
    for index in range(CLIENTS):
        user = User.objects.create_user(f"load{index}", password=None)
        user.groups.add(Group.objects.get(name="clinician" if index % 2 else "coordinator"))
        SiteMembership.objects.create(user=user, site=site)
        users.append((user, Token.objects.create(user=user).key))
    bundle = bench_bundle(PATIENTS, days_ago=40, lab_days={"BASE": 0, "D3": 3}, prefix="LOAD")
    for record in bundle["patients"]:
        record["doses"] = []  # the dose slots are the clients' to fill (and race for)
    bundle_import(bundle=bundle, user=users[0][0])
    patients = []
    for panel in LabPanel.objects.filter(visit__definition__code="D3").select_related("patient"):
        patients.append({"id": panel.patient_id, "panel": panel.pk, "day0": panel.patient.first_dose_date.isoformat()})
    database_url = os.environ["DATABASE_URL"]
    env = server_env(database_url)
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            "3",
            "--graceful-timeout",
            "10",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config.celery", "worker", "-P", "solo", "-l", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tally = Tally()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                probe = http.client.HTTPConnection(HOST, PORT, timeout=2)
                probe.request("GET", "/login/")
                probe.getresponse().read()
                break
            except OSError:
                time.sleep(0.3)
        started = time.monotonic()
        threads = [
            threading.Thread(target=client, args=(i, token, user.pk, patients, started + DURATION, tally))
            for i, (user, token) in enumerate(users)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(DURATION + 60)
        elapsed = time.monotonic() - started
    finally:
        for process in (gunicorn, worker):
            process.terminate()
        for process in (gunicorn, worker):
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    # Every accepted write is there once, with a history row by its author.
    from django.apps import apps

    missing = []
    counted = Counter((kind, pk) for kind, pk, _, _ in tally.accepted)
    for (kind, pk), times in counted.items():
        if kind != "labpanel" and times != 1:
            missing.append(f"{kind} {pk} accepted {times} times")
    for kind, pk, user_id, version in tally.accepted:
        model = apps.get_model("patients" if kind == "doseadministration" else "assessments", kind)
        history = model.history.filter(id=pk)
        if kind == "labpanel":
            history = history.filter(version=version)
        if not model.objects.filter(pk=pk).exists() or not history.filter(history_user_id=user_id).exists():
            missing.append(f"{kind} {pk} (version {version}) without its row or its author's history")
    latencies = sorted(tally.latencies)
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
    p95 = latencies[int(len(latencies) * 0.95)] * 1000 if latencies else 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crf_queuedtask WHERE sent_at IS NULL")
        pending = cursor.fetchone()[0]
    print(f"{CLIENTS} clients for {elapsed:.0f} s on {HOST}:{PORT}: {sum(tally.statuses.values())} requests")
    print(f"statuses: {dict(sorted(tally.statuses.items()))}; latency p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    print(f"accepted writes: {len(tally.accepted)}, checked in the database: {len(tally.accepted) - len(missing)}")
    print(f"tasks still queued in the outbox: {pending}")
    print(f"errors: {len(tally.failures)}; missing or duplicated: {len(missing)}")
    for line in (tally.failures + missing)[:20]:
        print("  ", line)
    return 1 if tally.failures or missing else 0


if __name__ == "__main__":
    sys.exit(main())
