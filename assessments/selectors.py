"""Reads for visits and labs: statuses, trends and the clinician's worklist."""

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q
from django.utils.translation import gettext

from assessments.models import CtcaeTerm, LabPanel, LabResult, Visit
from assessments.rules.expectations import expected_groups, missing_expected
from assessments.rules.schedule import VisitStatus, visit_status
from assessments.rules.term_search import SearchableTerm, terms_search
from patients.models import Patient
from trial import clock
from trial.analytes import ANALYTES, SCREENING_FIELDS
from trial.models import Site
from trial.selectors import user_site_ids

TREND_LENGTH = 3


def related_or_none(obj, name: str):
    """A reverse one-to-one (treatment end, death, endpoints) or None when the row does not exist."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class VisitRow:
    visit: Visit
    status: VisitStatus
    expected: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def missing_labels(self) -> list[str]:
        return [ANALYTES[code].label for code in self.missing]


def visit_expected_groups(visit: Visit) -> tuple[str, ...]:
    definition = visit.definition
    if definition is None:
        return ()
    return expected_groups(
        kind=definition.kind,
        full_hlh_panel=definition.full_hlh_panel,
        response_assessment=definition.response_assessment,
    )


def _row(visit: Visit, today: date) -> VisitRow:
    status = visit_status(
        today=today,
        window_start=visit.window_start,
        window_end=visit.window_end,
        planned_date=visit.planned_date,
        visit_date=visit.visit_date,
        not_done=visit.not_done,
    )
    expected = visit_expected_groups(visit)
    panel = getattr(visit, "lab_panel", None) if hasattr(visit, "lab_panel") else None
    entered = {r.analyte for r in panel.results.all()} if panel is not None else set()
    return VisitRow(
        visit=visit, status=status, expected=expected, missing=missing_expected(groups=expected, entered=entered)
    )


def _visits_query():
    return Visit.objects.select_related(
        "definition", "lab_panel", "patient__site", "patient__screening"
    ).prefetch_related(Prefetch("lab_panel__results", queryset=LabResult.objects.only("id", "panel_id", "analyte")))


def visit_rows(*, patient: Patient, today: date) -> list[VisitRow]:
    return [_row(v, today) for v in _visits_query().filter(patient=patient)]


def lab_trends(*, patient: Patient, before: datetime | None, exclude_panel: LabPanel | None = None) -> dict[str, list]:
    """The last values of each analyte sampled before a moment, newest first."""
    rows = LabResult.objects.filter(patient=patient).order_by("analyte", "-sampled_at")
    if before is not None:
        rows = rows.filter(sampled_at__lte=before)
    if exclude_panel is not None:
        rows = rows.exclude(panel=exclude_panel)
    trends: dict[str, list] = defaultdict(list)
    for result in rows.only("analyte", "value", "unit", "flag", "sampled_at", "missing", "missing_reason"):
        if len(trends[result.analyte]) < TREND_LENGTH:
            trends[result.analyte].append(result)
    return dict(trends)


def coded_lab_values(*, patient: Patient, codes) -> dict[str, list]:
    """The patient's values recorded with a missing-data code (no number), by analyte, oldest first."""
    rows = LabResult.objects.filter(patient=patient, analyte__in=list(codes), value__isnull=True)
    coded: dict[str, list] = defaultdict(list)
    for result in rows.select_related("panel__visit").order_by("sampled_at"):
        coded[result.analyte].append(result)
    return dict(coded)


@dataclass(frozen=True)
class BaselineValue:
    """An analyte's screening (baseline) value, from the screening form (protocol section 7)."""

    code: str
    value: Decimal
    unit: str
    on: date

    @property
    def label(self) -> str:
        return gettext("Baseline (screening, %(date)s)") % {"date": self.on.isoformat()}


def baseline_value_of(screening, code: str) -> BaselineValue | None:
    """The screening form's value of one analyte, or None when it was not entered (or sCD25 has no unit)."""
    name = SCREENING_FIELDS.get(code)
    value = getattr(screening, name, None) if name else None
    if value is None:
        return None
    unit = ANALYTES[code].unit
    if code == "SCD25":
        unit = screening.scd25_unit
        if not unit:
            return None
    return BaselineValue(code=code, value=value, unit=unit, on=screening.screening_date)


def baseline_values(*, patient: Patient) -> dict[str, BaselineValue]:
    """Every analyte's baseline (screening) value of a patient, by analyte code."""
    screening = patient.screening
    found = {code: baseline_value_of(screening, code) for code in SCREENING_FIELDS}
    return {code: value for code, value in found.items() if value is not None}


def next_visit_to_enter(*, patient: Patient, after: Visit, today: date) -> VisitRow | None:
    """Where "save and next" goes after the labs of `after`: the first visit of the patient that is
    due or overdue today (the schedule's statuses), else the next visit of the schedule after it
    that is still upcoming; None when there is neither."""
    rows = [row for row in visit_rows(patient=patient, today=today) if row.visit.pk != after.pk]
    for row in rows:
        if row.status in (VisitStatus.DUE, VisitStatus.OVERDUE):
            return row
    start = after.planned_date or after.visit_date
    for row in rows:
        planned = row.visit.planned_date
        if row.status is VisitStatus.UPCOMING and (start is None or planned is None or planned > start):
            return row
    return None


def site_dates(*, user, now: datetime | None = None) -> dict[int, date]:
    """Today at each of the user's sites (each in its own time zone)."""
    at = now or clock.now()
    return {site.pk: clock.site_today(site, at=at) for site in Site.objects.filter(id__in=user_site_ids(user))}


def worklist(*, user, now: datetime | None = None, today: date | None = None) -> list[VisitRow]:
    """Visits of the user's patients whose window is open today (the patient's site's day), not done yet.

    `today` names one date for every site instead of each site's own.
    """
    days = {pk: today or day for pk, day in site_dates(user=user, now=now).items()}
    open_today = Q(pk__in=[])
    for site_id, day in days.items():
        open_today |= Q(patient__site_id=site_id, window_start__lte=day, window_end__gte=day)
    visits = _visits_query().filter(
        open_today,
        patient__status__in=[Patient.Status.ON_TREATMENT, Patient.Status.FOLLOW_UP],
        visit_date__isnull=True,
        not_done=False,
    )
    rows = [_row(v, days[v.patient.site_id]) for v in visits.order_by("planned_date", "patient__subject_number")]
    return [row for row in rows if row.status in (VisitStatus.DUE, VisitStatus.OVERDUE)]


SYNONYMS_CSV = Path(__file__).resolve().parent / "data" / "ctcae_v3_synonyms.csv"


@cache
def ctcae_synonyms() -> dict[str, tuple[str, ...]]:
    """Code -> the common words for the term (assessments/data/ctcae_v3_synonyms.csv)."""
    found: dict[str, list[str]] = defaultdict(list)
    with SYNONYMS_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found[row["code"].strip()].append(row["synonym"].strip())
    return {code: tuple(synonyms) for code, synonyms in found.items()}


def ctcae_terms_find(query: str, *, limit: int) -> list:
    """CTCAE v3.0 terms found by the words of the query in their name, code, category or common
    synonyms (assessments.rules.term_search), best first: the page's search and the API's alike."""
    query = (query or "").strip()[:60]
    if not query:
        return []
    synonyms = ctcae_synonyms()
    rows = CtcaeTerm.objects.values_list("code", "term", "category")
    searchable = [SearchableTerm(code, term, category, synonyms.get(code, ())) for code, term, category in rows]
    codes = [t.code for t in terms_search(query, searchable, limit=limit)]
    by_code = CtcaeTerm.objects.in_bulk(codes, field_name="code")
    return [by_code[code] for code in codes]
