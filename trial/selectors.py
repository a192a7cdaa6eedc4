"""Reads of the trial configuration: reference ranges, dose bands, schedule, users' sites."""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from trial.models import DoseBand, ReferenceRange, Role, Site, Trial, VisitDefinition
from trial.rules.criteria import fmt
from trial.rules.ranges import ranges_pick


@dataclass(frozen=True)
class Range:
    analyte: str
    unit: str
    lower: float | None
    upper: float | None
    source: str = ""

    @property
    def label(self) -> str:
        return range_label(self.lower, self.upper, self.unit)


def range_label(lower, upper, unit: str = "") -> str:
    """A reference range as the pages and PDFs print it: "2–4 g/L", "≤ 1.7 mmol/L", "≥ 15.11 %".

    One limit alone reads as a bound, never as an open interval ("–1.7"); "" without limits.
    """
    low = None if lower is None else fmt(float(lower))
    high = None if upper is None else fmt(float(upper))
    if low is not None and high is not None:
        text = f"{low}–{high}"
    elif high is not None:
        text = f"≤ {high}"
    elif low is not None:
        text = f"≥ {low}"
    else:
        return ""
    return f"{text} {unit}" if unit else text


def trial_current() -> Trial:
    return Trial.objects.order_by("id").first()


# Set by reference_rows_memo() for a long write (a bulk import) that reads the same ranges for
# every panel inside one transaction.
_ROWS_MEMO: ContextVar[dict | None] = ContextVar("reference_rows_memo", default=None)


def reference_rows(*, site: Site) -> list[ReferenceRange]:
    """Every range that may apply at a site: its own and the trial defaults (one query)."""
    memo = _ROWS_MEMO.get()
    if memo is not None and site.pk in memo:
        return memo[site.pk]
    rows = list(
        ReferenceRange.objects.filter(Q(site_id=site.pk) | Q(site__isnull=True), trial_id=site.trial_id).order_by()
    )
    if memo is not None:
        memo[site.pk] = rows
    return rows


@contextmanager
def reference_rows_memo():
    """Read each site's reference ranges once inside the block (one transaction, e.g. an import)."""
    token = _ROWS_MEMO.set({})
    try:
        yield
    finally:
        _ROWS_MEMO.reset(token)


def reference_ranges_pick(rows: list[ReferenceRange], *, age_days: int | None) -> dict[str, Range]:
    """The normal range of every analyte for a child of this age among the rows.

    A site's own range beats the trial default; an age-specific range beats one for all ages
    (trial.rules.ranges).
    """
    return {
        analyte: Range(
            analyte=analyte,
            unit=row.unit,
            lower=float(row.lower) if row.lower is not None else None,
            upper=float(row.upper) if row.upper is not None else None,
            source=row.source,
        )
        for analyte, row in ranges_pick(rows, age_days=age_days).items()
    }


def reference_ranges_for(*, site: Site, age_days: int | None) -> dict[str, Range]:
    """The normal range of every analyte for a child of this age at this site."""
    return reference_ranges_pick(reference_rows(site=site), age_days=age_days)


def dose_bands_for(*, trial: Trial) -> QuerySet[DoseBand]:
    return DoseBand.objects.filter(trial=trial)


def visit_definitions_for(*, trial: Trial) -> QuerySet[VisitDefinition]:
    return VisitDefinition.objects.filter(trial=trial)


def user_site_ids(user) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return set(Site.objects.values_list("id", flat=True))
    return set(user.site_memberships.values_list("site_id", flat=True))


def user_sites(user) -> QuerySet[Site]:
    return Site.objects.filter(id__in=user_site_ids(user)).order_by("code")


def user_roles(user) -> list[str]:
    names = set(user.groups.values_list("name", flat=True))
    return [role.label for role in Role if role.value in names]


def site_users_with_perm(*, site_id: int, perm: str):
    """Active users of the site who hold the permission through their role or directly (alert recipients)."""
    from django.contrib.auth import get_user_model

    app_label, codename = perm.split(".")
    holds = Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    holds |= Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
    return (
        get_user_model()
        .objects.filter(is_active=True, site_memberships__site_id=site_id)
        .filter(holds)
        .distinct()
        .order_by("username")
    )
