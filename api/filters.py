"""The list endpoints' query parameters, read strictly: a value the API does not know is a 400 naming it.

`?status=AAA` is not "no such records" but a mistake the caller should see, as are a site or
a patient that is not one of the user's (the same answer whether it exists elsewhere or not),
a date that is not YYYY-MM-DD in ASCII digits, and an id in other digits than 0-9.
"""

from datetime import date

from django.core.exceptions import ValidationError

from api import scalars


def _raw(request, name: str) -> str | None:
    raw = request.query_params.get(name)
    return None if raw in (None, "") else raw


def choice(request, name: str, choices) -> str | None:
    """One of `choices` (a TextChoices class or a list of values), else 400 listing them."""
    raw = _raw(request, name)
    values = list(getattr(choices, "values", choices))
    if raw is not None and raw not in values:
        raise ValidationError({name: [f"{name.replace('_', ' ').capitalize()} must be one of {', '.join(values)}."]})
    return raw


def day(request, name: str) -> date | None:
    raw = _raw(request, name)
    return None if raw is None else scalars.day(raw, field=name, impossible=scalars.DATE_MESSAGE)


def record_id(request, name: str, queryset, *, label: str) -> int | None:
    """The id of one of the user's records (`queryset` is already scoped to the user's sites)."""
    raw = _raw(request, name)
    if raw is None:
        return None
    pk = scalars.whole_number(raw, field=name, message="Enter a whole number (an id).")
    if pk < 1 or not queryset.filter(pk=pk).exists():
        raise ValidationError({name: [f"No {label} {pk} at your sites."]})
    return pk


def site_code(request, name: str, sites) -> str | None:
    """The code of one of the user's sites."""
    raw = _raw(request, name)
    codes = sorted(site.code for site in sites)
    if raw is not None and raw not in codes:
        raise ValidationError({name: [f"Choose one of your sites: {', '.join(codes) or 'none'}."]})
    return raw
