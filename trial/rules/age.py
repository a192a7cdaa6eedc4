"""Age arithmetic for eligibility (protocol section 3) and risk (section 5).

Ages are birthday-based completed years, as a clinician states them. A child born on
29 February has its birthday on 1 March in non-leap years (the day after 28 February is
the first day on which the full number of years has passed). The reference date is
always an argument, never today's date.
"""

from datetime import date, timedelta

from trial.rules.words import ngettext, pgettext


def anniversary(date_of_birth: date, years: int) -> date:
    """The date of the `years`-th birthday (29 February -> 1 March in non-leap years)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:
        # Only 29 February can fail: that birthday falls on 1 March in a common year.
        return date(date_of_birth.year + years, 2, 28) + timedelta(days=1)


def age_in_years(date_of_birth: date, on: date) -> int:
    """Completed years of age on `on`; the birthday itself counts as the new year."""
    _check_order(date_of_birth, on)
    years = on.year - date_of_birth.year
    if on < anniversary(date_of_birth, years):
        years -= 1
    return years


def age_in_days(date_of_birth: date, on: date) -> int:
    """Days of life on `on` (0 on the day of birth)."""
    _check_order(date_of_birth, on)
    return (on - date_of_birth).days


def age_in_months(date_of_birth: date, on: date) -> int:
    """Completed months of age on `on`. As for birthdays, a monthly anniversary that a month
    lacks (born on the 31st, in April) falls on the 1st of the next month."""
    _check_order(date_of_birth, on)
    months = (on.year - date_of_birth.year) * 12 + on.month - date_of_birth.month
    if on.day < date_of_birth.day:
        months -= 1
    return months


def age_label(date_of_birth: date, on: date) -> str:
    """Age as a paediatrician writes it: "20 days" under a month, "8 months" under two years,
    then "5 years 5 months" ("3 years" on a birthday month)."""
    months = age_in_months(date_of_birth, on)
    if months < 1:
        return _days(age_in_days(date_of_birth, on))
    if months < 24:
        return _months(months)
    years, rest = divmod(months, 12)
    if not rest:
        return _years(years)
    return pgettext("age", "%(years)s %(months)s") % {"years": _years(years), "months": _months(rest)}


def _days(n: int) -> str:
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": n}


def _months(n: int) -> str:
    return ngettext("%(n)s month", "%(n)s months", n) % {"n": n}


def _years(n: int) -> str:
    return ngettext("%(n)s year", "%(n)s years", n) % {"n": n}


def has_reached_age(date_of_birth: date, on: date, years: int) -> bool:
    """True on and after the `years`-th birthday."""
    _check_order(date_of_birth, on)
    return on >= anniversary(date_of_birth, years)


def _check_order(date_of_birth: date, on: date) -> None:
    # A birth after the reference date is a data-entry error, not an age.
    if on < date_of_birth:
        raise ValueError(f"Date of birth {date_of_birth.isoformat()} is after {on.isoformat()}.")
