"""Which reference range applies to a child of a given age (protocol section 8).

Section 8: "Reference ranges are per site and may depend on age". Of the rows that cover an
age, the site's own wins over the trial default, and at the same level a row for an age band
wins over a row for all ages. A band includes its first day and excludes its last
(`age_min_days <= age < age_max_days`). Rows are anything with the model's attributes
(site_id, analyte, age_min_days, age_max_days), so the rule needs no database.
"""

from collections.abc import Iterable
from typing import Protocol, TypeVar


class RangeRow(Protocol):
    site_id: int | None
    analyte: str
    age_min_days: int | None
    age_max_days: int | None


Row = TypeVar("Row", bound=RangeRow)


def age_banded(row: RangeRow) -> bool:
    return row.age_min_days is not None or row.age_max_days is not None


def range_covers(row: RangeRow, age_days: int | None) -> bool:
    """Whether the row applies at this age; without an age only the rows for all ages apply."""
    if age_days is None:
        return not age_banded(row)
    if row.age_min_days is not None and age_days < row.age_min_days:
        return False
    return row.age_max_days is None or age_days < row.age_max_days


def range_rank(row: RangeRow) -> tuple[int, int]:
    """(site's own, age-banded): a site's row first, then a banded row over one for all ages."""
    return int(row.site_id is not None), int(age_banded(row))


def ranges_pick(rows: Iterable[Row], *, age_days: int | None) -> dict[str, Row]:
    """The row that applies to each analyte at this age (the first of equal rank is kept)."""
    best: dict[str, Row] = {}
    for row in rows:
        if not range_covers(row, age_days):
            continue
        if row.analyte not in best or range_rank(row) > range_rank(best[row.analyte]):
            best[row.analyte] = row
    return best


def criteria_rows(rows: Iterable[Row]) -> list[Row]:
    """The rows the response criteria judge "within the reference range" against (section 9).

    The trial's criteria were set with the section 8 defaults (ferritin <= 500 µg/L,
    triglycerides <= 1.7 mmol/L, sCD25 <= 6,400 pg/mL) or the site's own laboratory range;
    the published population intervals seeded as age-banded trial defaults flag values for
    the reader and grade lab adverse events, but do not move a response.
    """
    return [row for row in rows if row.site_id is not None or not age_banded(row)]
