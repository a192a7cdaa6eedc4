"""Lab panel save benchmark: one visit's panel of 5 and of 30 values posted through the page, each as
a ratio to a trivial page (the floor every request pays), with the save's SQL statements."""

import statistics
import time
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import LabPanel, Visit
from patients.models import Patient
from trial import clock
from trial.models import SiteMembership

RUNS = 5
# Values a bedside panel holds, inside their limits (the first five and all thirty).
VALUES = {
    "TEMP": "37.0", "WEIGHT": "15.0", "HGB": "120", "WBC": "6.0", "NEUT": "3.0", "PLAT": "250", "TRIG": "1.2",
    "FIBRINO": "3.0", "FERRITIN": "100", "SCD25": "1500", "NKACT": "20", "CD107A": "15", "IFNG": "5", "IL6": "4",
    "IL10": "3", "TNFA": "6", "IL18": "200", "ALT": "25", "AST": "30", "GGT": "20", "ALB": "40", "BILI": "8",
    "BILIND": "5", "BILDIR": "3", "CREAT": "35", "UREA": "4", "CRCL": "110", "GFR": "110", "INR": "1.0", "SPLEEN": "0",
}  # fmt: skip


def timed_ratio(action: Callable[[], object], floor: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """Median milliseconds of `action` and of `floor`, taken in turn so that both see the same load."""
    action_ms, floor_ms = [], []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        action_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        floor()
        floor_ms.append((time.perf_counter() - started) * 1000)
    return statistics.median(action_ms), statistics.median(floor_ms)


def panel_post(visit: Visit, codes) -> dict:
    """The page's POST of a new panel with these values, sampled at 08:00 of the visit's day."""
    day = (visit.visit_date or visit.planned_date).isoformat()
    data = {"visit_date": day, "sampled_at": f"{day}T08:00"}
    data.update({f"v_{code}": VALUES[code] for code in codes})
    return data


def _free_visits(patient_ids, needed: int) -> list[Visit]:
    """Visits whose day has come, without labs (a visit date in the future is refused).

    The bench cohort has every past visit's panel, so the latest past visit of some patients is
    freed first: its panel (values, suggestions) is deleted before the timing, as if not yet entered.
    """
    before = clock.now().date()  # UTC's date: no site is behind it by a day and ahead of it here
    past = Visit.objects.filter(patient_id__in=patient_ids, planned_date__isnull=False, planned_date__lt=before)
    free = list(past.filter(lab_panel__isnull=True).exclude(definition__code="BASE"))
    if len(free) < needed:
        taken = past.filter(lab_panel__isnull=False).exclude(definition__code="BASE").order_by("-planned_date")
        LabPanel.objects.filter(visit__in=list(taken[: needed - len(free)])).delete()
    return list(
        past.filter(lab_panel__isnull=True)
        .exclude(definition__code="BASE")
        .select_related("patient__site")
        .order_by("patient_id", "planned_date")
    )


def run() -> list[str]:
    user, _ = get_user_model().objects.get_or_create(username="bench_labs", defaults={"is_superuser": True})
    client = Client()
    client.force_login(user)
    patients = LabPanel.objects.values_list("patient_id", flat=True).distinct()[:50]
    visits = _free_visits(list(patients), needed=2 * RUNS)
    for site in {visit.patient.site for visit in visits}:
        SiteMembership.objects.get_or_create(user=user, site=site)
    floor_url = reverse("notification_list")
    rows = []
    queue = iter(visits)  # each save takes a visit of its own
    for size in (5, 30):
        codes = list(VALUES)[:size]
        statements = []

        def save(codes=codes, queue=queue, statements=statements):
            visit = next(queue)
            url = reverse("lab_panel_edit", args=[visit.pk])
            with CaptureQueriesContext(connection) as captured:
                response = client.post(url, panel_post(visit, codes))
            if response.status_code != 302:
                form = response.context["form"] if response.context else None
                raise AssertionError(f"{url}: {response.status_code} {form.errors.as_text() if form else ''}")
            statements.append(len(captured))

        ms, floor_ms = timed_ratio(save, lambda: client.get(floor_url))
        rows.append((size, ms, floor_ms, statements[-1]))
    lines = [
        f"## Lab panel save at {Patient.objects.count()} patients",
        "",
        "A new panel posted through the lab page (`/visits/<id>/labs/`: form, checks, values, history, "
        "AE suggestions, the response assessment queued), answered with its redirect; the floor is a "
        f"trivial page (`/notifications/`) requested in turn. Medians of {RUNS} saves on visits without labs.",
        "",
        "| values | target | time | floor | × floor | SQL statements |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size, ms, floor_ms, statements in rows:
        lines.append(
            f"| {size} | < 500 ms, constant statements | {ms:.0f} ms | {floor_ms:.0f} ms | "
            f"{ms / floor_ms:.1f} | {statements} |"
        )
    lines.append("")
    return lines
