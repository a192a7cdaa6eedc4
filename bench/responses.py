"""Response engine benchmark (issue "Response engine"): one assessment, and the nightly sweep of
every patient through one real Celery worker on Redis."""

import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import ResponseAssessment
from assessments.services.responses import response_assess_patient
from assessments.tasks import response_sweep_task
from config.celery import app
from crf.models import DataQuery
from patients.models import Patient

ROOT = Path(__file__).resolve().parent.parent


def _one_assessment(patient_ids: list[int]) -> dict:
    first, rerun, queries = [], [], set()
    for pid in patient_ids:
        ResponseAssessment.objects.filter(patient_id=pid).delete()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response_assess_patient(patient_id=pid)
        first.append((time.perf_counter() - started) * 1000)
        queries.add(len(ctx.captured_queries))
        started = time.perf_counter()
        response_assess_patient(patient_id=pid)
        rerun.append((time.perf_counter() - started) * 1000)
    return {
        "first_median_ms": statistics.median(first),
        "first_p95_ms": sorted(first)[int(len(first) * 0.95) - 1],
        "rerun_median_ms": statistics.median(rerun),
        "queries": sorted(queries),
    }


def _sweep(expected: int) -> dict:
    ResponseAssessment.objects.all().delete()
    DataQuery.objects.filter(check_code="response.missing_markers").delete()
    env = dict(os.environ, CELERY_TASK_ALWAYS_EAGER="0")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency=2",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        app.conf.task_always_eager = False
        app.control.purge()
        time.sleep(3)  # let the worker connect
        started = time.perf_counter()
        response_sweep_task.delay()
        deadline = started + 600
        while time.perf_counter() < deadline:
            if ResponseAssessment.objects.count() >= expected:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return {"sweep_s": elapsed, "assessments": ResponseAssessment.objects.count()}


def run(*, sample: int = 20) -> dict:
    patients = list(Patient.objects.order_by("id").values_list("id", flat=True))
    per_patient = 4  # days 3, 7, 14 and 28 reached; follow-up days are still ahead
    step = max(1, len(patients) // sample)
    single = _one_assessment(patients[::step][:sample])
    sweep = _sweep(expected=len(patients) * per_patient)
    return {
        "patients": len(patients),
        "per_patient": per_patient,
        **single,
        **sweep,
        "today": _bench_today().isoformat(),
    }


def _bench_today():
    """Today at the bench cohort's site (BCH, Asia/Shanghai): the day the sweep reaches."""
    from trial.clock import site_today
    from trial.models import Site

    return site_today(Site.objects.get(code="BCH"))


def day0_for_bench():
    """Day 0 such that day 28 has just been reached today."""
    return _bench_today() - timedelta(days=29)
