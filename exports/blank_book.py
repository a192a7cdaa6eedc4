"""The blank CRF book: every form of the schedule with empty fields, for paper back-up and review."""

from exports.casebook import SCREENING_SECTIONS, label_of
from patients.models import Screening
from trial.analytes import ANALYTES
from trial.models import VisitDefinition
from trial.selectors import trial_current


def blank_book_context() -> dict:
    trial = trial_current()
    sections = [(title, [label_of(Screening, n) for n in names]) for title, names in SCREENING_SECTIONS]
    return {
        "screening_blank": sections,
        "visit_definitions": VisitDefinition.objects.filter(trial=trial).order_by("order", "day"),
        "analytes": list(ANALYTES.values()),
    }
