"""What an enrollment must satisfy to be stored: protocol sections 3, 6, 7 and 8.

- Section 7: "Screening / baseline | -7 to 0" (day 0 = first RUX dose). Day 0 is therefore
  on or after the screening date and at most `screening_window_days` (7) days after it.
- The enrollment date is the day the child joins: not before screening, not after the site's
  today; day 0 is not before the enrollment date.
- Section 3, inclusion 5: consent is signed "before any study procedure", so day 0 is not
  before the consent date. (Age < 18 at consent, inclusion 4, is judged by the eligibility
  rule that patient_enroll re-evaluates; an ineligible child is refused before these checks.)
- Section 8: "A value outside physiological limits (e.g. ... weight 300 kg) is rejected with
  a message naming the field and the limit": the weight lies within the catalogue's and the
  trial's limits.
- Section 6: "A prescribed dose that differs from the band is a protocol deviation: allowed
  to save (clinical reality) but flagged". So only an impossible dose is refused here (not
  more than 0 mg, or above the trial's ceiling for one dose); an off-band one is not.

Every problem names its field, a stable code and a message with the limit. The dates and
limits are arguments; nothing here reads the clock or the database.
"""

from dataclasses import dataclass
from datetime import date

from trial.rules.criteria import fmt
from trial.rules.words import gettext as _

SCREENING_WINDOW_DAYS = 7  # section 7: screening / baseline is the day -7 to 0 visit


@dataclass(frozen=True)
class Problem:
    """One reason the enrollment cannot be stored: its field, a stable code and a message naming the limit."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class EnrollmentLimits:
    min_weight_kg: float
    max_weight_kg: float
    max_dose_mg: float
    screening_window_days: int = SCREENING_WINDOW_DAYS


@dataclass(frozen=True)
class EnrollmentInput:
    screening_date: date
    consent_date: date | None
    enrollment_date: date
    first_dose_date: date
    enrollment_weight_kg: float
    prescribed_dose_mg: float


def enrollment_date_problems(data: EnrollmentInput, *, today: date) -> list[Problem]:
    """The enrollment date lies between the screening date and the site's today (section 7)."""
    problems = []
    if data.enrollment_date > today:
        problems.append(
            Problem(
                "enrollment_date",
                "enrollment_date_in_future",
                _("Enrollment date cannot be in the future (after %(date)s).") % {"date": today.isoformat()},
            )
        )
    if data.enrollment_date < data.screening_date:
        problems.append(
            Problem(
                "enrollment_date",
                "enrollment_before_screening",
                _("Enrollment date cannot be before screening (%(date)s).") % {"date": data.screening_date.isoformat()},
            )
        )
    return problems


def first_dose_problems(data: EnrollmentInput, *, window_days: int = SCREENING_WINDOW_DAYS) -> list[Problem]:
    """Day 0 falls within the screening window, on or after enrollment and consent (sections 3 and 7)."""
    day0, screened = data.first_dose_date, data.screening_date
    problems = []
    if day0 < screened:
        problems.append(
            Problem(
                "first_dose_date",
                "first_dose_before_screening",
                _(
                    "Day 0 cannot be before screening (%(date)s); screening is the day -%(days)s "
                    "to 0 visit (protocol section 7)."
                )
                % {"date": screened.isoformat(), "days": window_days},
            )
        )
    elif (day0 - screened).days > window_days:
        problems.append(
            Problem(
                "first_dose_date",
                "first_dose_after_screening_window",
                _(
                    "Day 0 must be within %(days)s days of screening (%(date)s), i.e. on or before "
                    "%(latest)s; screening is the day -%(days)s to 0 visit (protocol section 7)."
                )
                % {
                    "days": window_days,
                    "date": screened.isoformat(),
                    "latest": date.fromordinal(screened.toordinal() + window_days).isoformat(),
                },
            )
        )
    if day0 < data.enrollment_date:
        problems.append(
            Problem(
                "first_dose_date",
                "first_dose_before_enrollment",
                _("Day 0 cannot be before the enrollment date (%(date)s).")
                % {"date": data.enrollment_date.isoformat()},
            )
        )
    if data.consent_date is not None and data.consent_date > day0:
        problems.append(
            Problem(
                "first_dose_date",
                "first_dose_before_consent",
                _("Consent (%(date)s) must be signed before the first dose (protocol section 3).")
                % {"date": data.consent_date.isoformat()},
            )
        )
    return problems


def weight_problem(weight_kg: float, limits: EnrollmentLimits) -> Problem | None:
    """The weight at enrollment lies within the physiological limits (section 8); both limits are allowed."""
    low, high = limits.min_weight_kg, limits.max_weight_kg
    entered = _("(entered %(value)s)") % {"value": fmt(weight_kg, "kg")}
    if weight_kg < low:
        return Problem(
            "enrollment_weight_kg",
            "weight_below_minimum",
            _("Weight at enrollment must be at least %(limit)s %(entered)s.")
            % {"limit": fmt(low, "kg"), "entered": entered},
        )
    if weight_kg > high:
        return Problem(
            "enrollment_weight_kg",
            "weight_above_maximum",
            _("Weight at enrollment must be at most %(limit)s %(entered)s.")
            % {"limit": fmt(high, "kg"), "entered": entered},
        )
    if not low <= weight_kg <= high:  # NaN
        return Problem(
            "enrollment_weight_kg",
            "weight_not_a_number",
            _("Weight at enrollment must be a number of kg %(entered)s.") % {"entered": entered},
        )
    return None


def dose_problem(dose_mg: float, limits: EnrollmentLimits) -> Problem | None:
    """The prescribed dose is possible: more than 0 and at most the ceiling (section 6; off-band is allowed)."""
    entered = _("(entered %(value)s)") % {"value": fmt(dose_mg, "mg")}
    if dose_mg <= 0:
        return Problem(
            "prescribed_dose_mg",
            "dose_not_positive",
            _("Prescribed dose must be more than 0 mg %(entered)s.") % {"entered": entered},
        )
    if dose_mg > limits.max_dose_mg:
        return Problem(
            "prescribed_dose_mg",
            "dose_above_maximum",
            _(
                "Prescribed dose must be at most %(limit)s twice daily %(entered)s; a dose other "
                "than the weight band's is allowed and flagged (protocol section 6), an impossible one is not."
            )
            % {"limit": fmt(limits.max_dose_mg, "mg"), "entered": entered},
        )
    if not 0 < dose_mg <= limits.max_dose_mg:  # NaN
        return Problem(
            "prescribed_dose_mg",
            "dose_not_a_number",
            _("Prescribed dose must be a number of mg %(entered)s.") % {"entered": entered},
        )
    return None


def enrollment_problems(data: EnrollmentInput, *, limits: EnrollmentLimits, today: date) -> tuple[Problem, ...]:
    """Every reason the enrollment cannot be stored, in the order of the page's fields (empty: it can)."""
    problems = [
        *enrollment_date_problems(data, today=today),
        *first_dose_problems(data, window_days=limits.screening_window_days),
    ]
    for problem in (weight_problem(data.enrollment_weight_kg, limits), dose_problem(data.prescribed_dose_mg, limits)):
        if problem is not None:
            problems.append(problem)
    return tuple(problems)
