"""Reference ranges are per site and optionally by age; the rules read them as arguments."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from assessments.models import LabResult, Visit
from assessments.services.labs import Measurement, lab_panel_save
from assessments.services.responses import PatientData
from patients.services import screening_create
from tests.conftest import DAY0, SCREENING_DAY, eligible_data, enroll_child
from trial.analytes import ANALYTES
from trial.models import ReferenceRange
from trial.selectors import reference_ranges_for

pytestmark = pytest.mark.django_db


def test_protocol_defaults_apply_when_a_site_has_none(site_a, all_ages_ranges_only):
    ranges = reference_ranges_for(site=site_a, age_days=1000)
    assert ranges["FERRITIN"].upper == 500
    assert ranges["SCD25"].upper == 6400
    assert ranges["NKACT"].lower == 15.11
    assert (ranges["FIBRINO"].lower, ranges["FIBRINO"].upper) == (2.0, 4.0)


def test_site_range_beats_default_and_age_specific_beats_all_ages(site_a, site_b, trial, all_ages_ranges_only):
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


# The age-banded trial defaults (trial migration 0005): a child's range comes from its band.
FIVE_YEARS_DAYS = 1986  # "hemoglobin 85 g/L (low) at 1986 days of age": 5 years 5 months
BANDED = ("HGB", "WBC", "NEUT", "PLAT", "ALT", "AST", "CREAT", "FIBRINO", "FERRITIN")
EIGHTEEN_YEARS_DAYS = 6575  # 18 x 365.25, rounded


def five_year_old(site, user):
    # Labs are sampled on day 7, eight days after screening (tests.conftest.DAY0 + 7).
    born = SCREENING_DAY + timedelta(days=8) - timedelta(days=FIVE_YEARS_DAYS)
    return enroll_child(site, user, date_of_birth=born)


def save_labs(patient, code, day, values):
    visit = Visit.objects.get(patient=patient, definition__code=code)
    when = datetime.combine(DAY0 + timedelta(days=day), time(8), tzinfo=UTC)
    return lab_panel_save(
        visit=visit,
        sampled_at=when,
        values={k: Measurement(Decimal(v), unit, when) for k, (v, unit) in values.items()},
        panel_data={},
        user=None,
        today=DAY0 + timedelta(days=40),
    )


def result(outcome, code):
    return LabResult.objects.get(panel=outcome.panel, analyte=code)


def test_a_five_year_olds_hemoglobin_is_judged_by_the_2_to_6_year_band(site_a, clinician):
    # Dallman (Nathan and Oski): 2-6 years, mean 12.5 g/dL, -2 SD 11.5 g/dL -> lower limit 115 g/L.
    child = five_year_old(site_a, clinician)
    normal = result(save_labs(child, "D7", 7, {"HGB": ("115", "g/L")}), "HGB")
    low = result(save_labs(child, "D14", 14, {"HGB": ("105", "g/L")}), "HGB")
    assert (normal.flag, normal.reference_low, normal.reference_high) == ("N", Decimal("115.000"), Decimal("135.000"))
    assert low.flag == "L"
    assert "Dallman" in normal.reference_source


def test_a_five_year_olds_blood_count_no_longer_gets_the_adult_limits(site_a):
    ranges = reference_ranges_for(site=site_a, age_days=FIVE_YEARS_DAYS)
    # Adult seed: Hb 110-160 g/L, ANC 2-7, WBC 4-10 x10^9/L, ALT <= 40 U/L.
    assert (ranges["HGB"].lower, ranges["HGB"].upper) == (115, 135)
    assert (ranges["NEUT"].lower, ranges["NEUT"].upper) == (1.5, 8.5)
    assert (ranges["WBC"].lower, ranges["WBC"].upper) == (5.5, 17.0)
    assert (ranges["PLAT"].lower, ranges["PLAT"].upper) == (150, 450)
    assert (ranges["ALT"].lower, ranges["ALT"].upper) == (9, 25)
    assert (ranges["CREAT"].lower, ranges["CREAT"].upper) == (27, 54)  # CALIPER 5-<12 years


def test_an_analyte_with_only_the_all_ages_range_still_flags_a_child(site_a, clinician):
    child = five_year_old(site_a, clinician)
    trig = result(save_labs(child, "D7", 7, {"TRIG": ("2.0", "mmol/L")}), "TRIG")
    assert (trig.flag, trig.reference_high) == ("H", Decimal("1.700"))
    assert trig.reference_source == "RUX-HLH protocol section 8 default (all ages)"


def test_the_sites_own_range_for_the_age_wins_over_the_pediatric_default(site_a, site_b, trial, clinician):
    ReferenceRange.objects.create(
        trial=trial,
        site=site_a,
        analyte="HGB",
        unit="g/L",
        lower=Decimal("100"),
        upper=Decimal("140"),
        age_min_days=730,
        age_max_days=2191,
        source="BCH laboratory 2025",
    )
    child = five_year_old(site_a, clinician)
    hb = result(save_labs(child, "D7", 7, {"HGB": ("105", "g/L")}), "HGB")
    assert (hb.flag, hb.reference_low, hb.reference_source) == ("N", Decimal("100.000"), "BCH laboratory 2025")
    assert reference_ranges_for(site=site_b, age_days=FIVE_YEARS_DAYS)["HGB"].lower == 115


def test_an_adult_and_a_summary_without_age_get_the_all_ages_rows(site_a):
    for age in (EIGHTEEN_YEARS_DAYS, None):
        ranges = reference_ranges_for(site=site_a, age_days=age)
        assert (ranges["HGB"].lower, ranges["HGB"].upper) == (110, 160)
        assert ranges["FERRITIN"].upper == 500
    assert reference_ranges_for(site=site_a, age_days=EIGHTEEN_YEARS_DAYS - 1)["HGB"].lower == 120


@pytest.mark.parametrize("code", BANDED)
def test_each_day_of_childhood_has_exactly_one_default_band_in_the_analytes_unit(trial, code):
    rows = list(ReferenceRange.objects.filter(trial=trial, site=None, analyte=code).exclude(age_min_days=None))
    assert {r.unit for r in rows} == {ANALYTES[code].unit}
    bands = sorted((r.age_min_days, r.age_max_days) for r in rows)
    assert bands[0][0] == 0 and bands[-1][1] == EIGHTEEN_YEARS_DAYS
    assert all(end == start for (_, end), (start, _) in pairwise(bands))  # no gap, no overlap
    assert all(r.source and r.lower is not None and r.upper is not None and r.lower < r.upper for r in rows)


def test_every_trial_default_names_its_source(trial):
    assert not ReferenceRange.objects.filter(trial=trial, site=None, source="").exists()


def test_the_response_criteria_keep_the_protocol_limits_for_a_child(site_a, clinician):
    # Section 9 "within the reference range" with the section 8 defaults: the pediatric ferritin
    # band (7-140 µg/L) would make a ferritin of 320 abnormal and move the response.
    child = five_year_old(site_a, clinician)
    limits = PatientData(child).limits(DAY0 + timedelta(days=7))
    assert (limits.ferritin, limits.triglycerides, limits.scd25) == (500, 1.7, 6400)


def test_the_admin_lists_and_edits_each_ranges_source(admin_client, trial):
    from django.urls import reverse

    listing = admin_client.get(reverse("admin:trial_referencerange_changelist") + "?q=CALIPER").content.decode()
    assert "Colantonio DA et al., Clin Chem 2012" in listing and "Dallman" not in listing
    row = ReferenceRange.objects.get(trial=trial, site=None, analyte="HGB", age_min_days=730)
    form = admin_client.get(reverse("admin:trial_referencerange_change", args=[row.pk])).content.decode()
    assert 'name="source"' in form and "Dallman PR" in form
