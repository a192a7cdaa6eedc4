"""The blank CRF book: every form of the schedule with empty fields, for paper back-up and review.

Each visit's lab form lists the section 8 variables by group, as the lab page does, in two
columns so that one visit is one page; the groups the visit expects (assessments/rules/
expectations.py) are marked, the others are optional.
"""

from itertools import zip_longest

from django.utils.translation import gettext_lazy as _

from assessments.rules.expectations import expected_groups
from exports.casebook import SCREENING_SECTIONS
from patients.models import Screening
from trial.analytes import ANALYTES, GROUP_ORDER
from trial.models import VisitDefinition
from trial.selectors import trial_current


def _group_rows(groups: tuple[str, ...]) -> list[tuple[str, object]]:
    """("group", name) and ("analyte", Analyte) rows in the order of the lab page."""
    rows: list[tuple[str, object]] = []
    for group in groups:
        members = [a for a in ANALYTES.values() if a.group == group]
        if members:
            rows.append(("group", group))
            rows.extend(("analyte", a) for a in members)
    return rows


def lab_form_columns() -> list[tuple]:
    """The lab form's rows as (left, right) pairs: the groups split in two columns of about equal length."""
    rows = _group_rows(GROUP_ORDER)
    starts = [index for index, (kind, _) in enumerate(rows) if kind == "group"] or [0]
    split = min(starts, key=lambda index: max(index, len(rows) - index))
    return list(zip_longest(rows[:split], rows[split:], fillvalue=None))


# The book's own words, each printed through {% bilingual %} (exports/templatetags/documents.py).
LABELS = {
    "title": _("Blank CRF book"),
    "screening": _("Screening and eligibility"),
    "visit_crf": _("Visit CRF"),
    "planned_day": _("Planned day"),
    "visit_date": _("Date of visit"),
    "sampled_at": _("Sampled at (date and time)"),
    "not_done": _("Visit not done: reason"),
    "test": _("Test"),
    "result": _("Result"),
    "unit": _("Unit"),
    "completed_by": _("Completed by (name, signature, date)"),
}


def blank_book_context() -> dict:
    """The forms with their labels left untranslated (msgids and lazy verbose names): the
    template prints each in the document's language, or in two for the bilingual book."""
    trial = trial_current()
    sections = [
        (title, [Screening._meta.get_field(n).verbose_name for n in names]) for title, names in SCREENING_SECTIONS
    ]
    visits = []
    for definition in VisitDefinition.objects.filter(trial=trial).order_by("order", "day"):
        visits.append(
            {
                "definition": definition,
                "expected": set(
                    expected_groups(
                        kind=definition.kind,
                        full_hlh_panel=definition.full_hlh_panel,
                        response_assessment=definition.response_assessment,
                    )
                ),
            }
        )
    return {"screening_blank": sections, "visits": visits, "lab_rows": lab_form_columns(), "labels": LABELS}
