"""Study report benchmark (issue "Study report"): the first computation from the data and the
cached render, for the cohort bench/run.py has built."""

import statistics
import time

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from assessments.report import study_report
from patients.models import Patient
from trial.models import Site


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def run() -> list[str]:
    user, _ = get_user_model().objects.get_or_create(
        username="bench-report", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(user)
    site_ids = set(Site.objects.values_list("id", flat=True))
    patients = Patient.objects.count()

    cache.clear()
    first_build = _timed(lambda: study_report(site_ids=site_ids))
    cache.clear()
    first_page = _timed(lambda: client.get(reverse("study_report")))
    cached_page = [_timed(lambda: client.get(reverse("study_report"))) for _ in range(5)]
    cached_json = [_timed(lambda: client.get(reverse("study_report_json"))) for _ in range(5)]
    plots = ["km", "marker-FERRITIN"]
    first_plots = {name: _timed(lambda n=name: client.get(reverse("study_report_plot", args=[n]))) for name in plots}
    cached_plots = [_timed(lambda: client.get(reverse("study_report_plot", args=["km"]))) for _ in range(5)]
    page = client.get(reverse("study_report"))
    assert page.status_code == 200, page.status_code
    return [
        "## Study report",
        "",
        f"The report page (`/report/`) for the same {patients} patients: every table and statistic computed "
        "from the data, then served from the cache (keyed by a data version: any write gives a new key).",
        "",
        "| measure | target | result |",
        "| --- | --- | --- |",
        f"| first computation of the report (tables, rates, Kaplan-Meier, Wilcoxon) | — | {first_build:.0f} ms |",
        f"| first page render (computation + HTML) | — | {first_page:.0f} ms |",
        f"| page render, cached (median of 5) | < 2 s | {statistics.median(cached_page):.0f} ms |",
        f"| JSON, cached (median of 5) | — | {statistics.median(cached_json):.0f} ms |",
        f"| Kaplan-Meier plot, first / cached (median of 5) | — | {first_plots['km']:.0f} ms / "
        f"{statistics.median(cached_plots):.0f} ms |",
        f"| ferritin trajectories plot ({patients} patients), first | — | {first_plots['marker-FERRITIN']:.0f} ms |",
        f"| page size | — | {len(page.content) / 1024:.0f} KiB |",
        "",
    ]
