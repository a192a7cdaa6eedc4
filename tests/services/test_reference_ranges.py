"""Reference ranges are per site and optionally by age; the rules read them as arguments."""

from decimal import Decimal

import pytest

from patients.services import screening_create
from tests.conftest import eligible_data
from trial.models import ReferenceRange
from trial.selectors import reference_ranges_for

pytestmark = pytest.mark.django_db


def test_protocol_defaults_apply_when_a_site_has_none(site_a):
    ranges = reference_ranges_for(site=site_a, age_days=1000)
    assert ranges["FERRITIN"].upper == 500
    assert ranges["SCD25"].upper == 6400
    assert ranges["NKACT"].lower == 15.11
    assert (ranges["FIBRINO"].lower, ranges["FIBRINO"].upper) == (2.0, 4.0)


def test_site_range_beats_default_and_age_specific_beats_all_ages(site_a, site_b, trial):
    ReferenceRange.objects.create(trial=trial, site=site_b, analyte="ALT", unit="U/L", upper=Decimal("50"))
    ReferenceRange.objects.create(
        trial=trial, site=site_b, analyte="ALT", unit="U/L", upper=Decimal("60"), age_min_days=0, age_max_days=365
    )
    assert reference_ranges_for(site=site_a, age_days=200)["ALT"].upper == 40
    assert reference_ranges_for(site=site_b, age_days=200)["ALT"].upper == 60
    assert reference_ranges_for(site=site_b, age_days=365)["ALT"].upper == 50  # age_max_days is exclusive


def test_site_nk_reference_changes_the_hlh2004_criterion(site_a, site_b, trial, clinician):
    # NK activity 20 %: normal against the default 15.11 %, low against a site limit of 25 %.
    ReferenceRange.objects.create(trial=trial, site=site_b, analyte="NKACT", unit="%", lower=Decimal("25"))
    at_a = screening_create(site=site_a, data=eligible_data(), user=clinician)
    at_b = screening_create(site=site_b, data=eligible_data(), user=clinician)

    def nk(screening):
        return next(c for c in screening.eligibility_detail["hlh2004"]["criteria"] if "NK" in c["label"])

    assert nk(at_a)["met"] is False
    assert nk(at_b)["met"] is True
    assert at_b.eligibility_detail["hlh2004"]["criteria_met"] == 8
