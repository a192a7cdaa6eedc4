"""Study report (protocol section 11) from a small cohort built with the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from scipy.stats import binomtest

from assessments.models import CtcaeTerm, PatientEndpoints
from assessments.report import data_version, study_report
from assessments.services.adverse_events import adverse_event_record
from assessments.services.responses import response_assess_patient
from patients.services import screening_create
from patients.services.treatment import follow_up_record, subsequent_therapy_record, treatment_end_record
from tests.conftest import DAY0, eligible_data, enroll_child
from tests.services.test_responses import NORMAL, UNCHANGED, record

pytestmark = pytest.mark.django_db

TODAY = DAY0 + timedelta(days=10)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def ae(patient, user, *, code="IN102", grade=3, action="none", day=4):
    return adverse_event_record(
        patient=patient,
        data={
            "term": CtcaeTerm.objects.get(code=code),
            "other_specify": "",
            "grade": grade,
            "onset_date": DAY0 + timedelta(days=day),
            "resolution_date": None,
            "serious": False,
            "relationship": "possible",
            "action_taken": action,
            "outcome": "recovering",
            "description": "",
        },
        user=user,
    )


@pytest.fixture
def cohort(site_a, site_b, clinician, clinician_b):
    """A high-risk responder (CR at day 7), a low-risk non-responder who stopped at day 3 and
    went on to HLH-1994, a screen failure, and a patient of another site."""
    responder = enroll_child(site_a, clinician, initials="CR")
    record(responder, "D3", UNCHANGED, day=3, user=clinician)
    record(responder, "D7", NORMAL, day=7, user=clinician)
    response_assess_patient(patient_id=responder.pk, today=TODAY)
    ae(responder, clinician, grade=3)
    ae(responder, clinician, grade=2, day=5)
    follow_up_record(patient=responder, assessed_on=DAY0 + timedelta(days=190), vital_status="alive", user=clinician)
    response_assess_patient(patient_id=responder.pk, today=TODAY)

    # Low risk: only ferritin of the risk items is met.
    stopper = enroll_child(
        site_a, clinician, initials="NR", scd25_value=20000, ifn_gamma_pg_ml=50, anc_10e9_l=0.8, alt_u_l=90
    )
    record(stopper, "D3", UNCHANGED, day=3, user=clinician)
    treatment_end_record(
        patient=stopper,
        outcome="discontinued",
        reason="no_response_day3",
        last_dose_date=DAY0 + timedelta(days=3),
        user=clinician,
    )
    subsequent_therapy_record(
        patient=stopper,
        regimen="hlh1994",
        start_date=DAY0 + timedelta(days=4),
        etoposide=True,
        dexamethasone=True,
        user=clinician,
    )
    ae(stopper, clinician, grade=2, action="discontinued", day=2)
    response_assess_patient(patient_id=stopper.pk, today=TODAY)

    screening_create(site=site_a, data=eligible_data(initials="SF", prior_hlh_chemotherapy=True), user=clinician)
    enroll_child(site_b, clinician_b, initials="OT")
    return responder, stopper


def test_enrollment_counts_only_the_users_sites(cohort, site_a):
    responder, stopper = cohort
    assert (responder.risk_group, stopper.risk_group) == ("high", "low")
    report = study_report(site_ids={site_a.pk}, today=TODAY)
    e = report["enrollment"]
    assert (e["screened"], e["screen_failures"], e["enrolled"]) == (3, 1, 2)
    assert (e["on_treatment"], e["discontinued"], e["in_follow_up"], e["deaths"]) == (1, 1, 1, 0)
    assert e["discontinued_by_reason"] == [{"reason": "No response by day 3", "count": 1}]
    assert len(e["screen_failures_by_criterion"]) == 1 and e["screen_failures_by_criterion"][0]["count"] == 1
    assert report["sites"] == ["BCH"]


def test_response_rates_over_all_enrolled_with_exact_ci(cohort, site_a):
    report = study_report(site_ids={site_a.pk}, today=TODAY)
    rates = {r["group"]: r for r in report["response_rates"]}
    overall = rates["all"]
    ci = binomtest(1, 2).proportion_ci(method="exact")
    assert (overall["n"], overall["cr"]["count"], overall["or"]["count"], overall["pr"]["count"]) == (2, 1, 1, 0)
    assert overall["cr"]["percent"] == 50.0
    assert overall["cr"]["ci_low"] == pytest.approx(100 * ci.low)
    assert overall["cr"]["ci_high"] == pytest.approx(100 * ci.high)
    assert rates["risk:high"]["cr"]["count"] == 1 and rates["risk:high"]["n"] == 1
    assert rates["risk:low"]["or"]["count"] == 0 and rates["risk:low"]["n"] == 1
    assert rates["etiology:ebv"]["n"] == 2


def test_outcomes_table_and_efs(cohort, site_a):
    responder, stopper = cohort
    report = study_report(site_ids={site_a.pk}, today=TODAY)
    rows = {o["subject"]: o for o in report["outcomes"]}
    nr = rows[stopper.subject_number]
    assert (nr["best_response"], nr["efs_days"], nr["efs_event"]) == ("nr", 1, "no_response")
    assert (nr["treatment_days"], nr["stop_reason"]) == (4, "No response by day 3")
    assert nr["subsequent_therapy"] == "HLH-1994 (E, D) from day 4"
    cr = rows[responder.subject_number]
    endpoints = PatientEndpoints.objects.get(patient=responder)
    assert (cr["best_response"], cr["best_response_day"], cr["efs_event"]) == ("cr", 7, "")
    assert cr["efs_days"] == endpoints.efs_days and cr["treatment_days"] == 11
    efs = report["efs"]
    # One event (day 1) among 2 at risk, the other censored at day 190: S = 50 %, SE = 0.5 * sqrt(1 / (2 * 1)).
    assert cr["efs_days"] == 190
    assert (efs["overall"]["patients"], efs["overall"]["events"]) == (2, 1)
    assert round(efs["overall"]["survival"], 1) == 50.0
    assert round(efs["overall"]["se"], 1) == 35.4
    assert {g["group"]: g["survival"] for g in efs["by_risk"]} == {"high": 100.0, "low": 0.0}
    assert efs["logrank_high_vs_low"]["p_value"] is not None


def test_baseline_table_and_week1_and_adverse_events(cohort, site_a):
    responder, stopper = cohort
    report = study_report(site_ids={site_a.pk}, today=TODAY)
    baseline = report["baseline"]
    assert baseline["patients"] == sorted([responder.subject_number, stopper.subject_number])
    ferritin = next(r for r in baseline["rows"] if r["label"] == "Ferritin")
    assert ferritin["values"] == [3200.0, 3200.0] and ferritin["footnote"]
    scd25 = next(r for r in baseline["rows"] if r["label"] == "Soluble CD25")
    assert scd25["summary"]["median"] == 25000.0
    assert any("Ferritin: normal ≤ 500" in note for note in baseline["footnotes"])
    temp = next(m for m in report["week1"] if m["code"] == "TEMP")
    assert (temp["cr"]["n"], temp["cr"]["baseline_median"], temp["cr"]["day7_median"]) == (1, 39.5, 36.8)
    # Off ruxolitinib at day 3: the day-3 value is carried forward.
    assert (temp["non_cr"]["n"], temp["non_cr"]["day7_median"]) == (1, 39.0)
    aes = report["adverse_events"]
    assert aes["total_events"] == 3
    assert aes["summary"] == [{"term": "Febrile neutropenia", "patients": 2, "by_max_grade": [0, 1, 1, 0, 0]}]
    stopped = next(p for p in aes["patients"] if p["subject"] == stopper.subject_number)
    assert stopped["discontinued"] == [{"term": "Febrile neutropenia", "grade": 2}]


def test_report_is_cached_until_the_data_change(cohort, site_a, clinician):
    responder, _ = cohort
    first = study_report(site_ids={site_a.pk}, today=TODAY)
    version = data_version()
    assert study_report(site_ids={site_a.pk}, today=TODAY)["data_version"] == first["data_version"]
    ae(responder, clinician, code="IN102", grade=4, day=6)
    assert data_version() != version
    again = study_report(site_ids={site_a.pk}, today=TODAY)
    assert again["data_version"] != first["data_version"]
    assert again["adverse_events"]["total_events"] == 4


def test_confirmed_response_counts_over_the_computed_one(cohort, site_a, clinician):
    from assessments.models import ResponseAssessment
    from assessments.services.responses import response_confirm

    responder, _ = cohort
    day7 = ResponseAssessment.objects.get(patient=responder, study_day=7)
    response_confirm(
        assessment_id=day7.pk,
        status="pr",
        reason="Spleen still palpable",
        expected_version=day7.version,
        user=clinician,
    )
    overall = study_report(site_ids={site_a.pk}, today=TODAY)["response_rates"][0]
    assert (overall["cr"]["count"], overall["pr"]["count"], overall["or"]["count"]) == (0, 1, 1)


def test_report_of_no_patients_has_empty_figures(db):
    report = study_report(site_ids=set(), today=TODAY)
    assert report["enrollment"]["enrolled"] == 0
    assert report["response_rates"][0]["or"]["percent"] is None
    assert report["efs"]["overall"]["survival"] is None
    assert report["efs"]["logrank_high_vs_low"]["p_value"] is None
    assert all(m["cr"]["n"] == 0 for m in report["week1"])


def enroll_late(site, user, *, first_dose_day: int):
    """A child whose first dose comes `first_dose_day` days after the cohort's day 0."""
    from patients.services import patient_enroll
    from tests.conftest import SCREENING_DAY

    first_dose = DAY0 + timedelta(days=first_dose_day)
    screened = first_dose - timedelta(days=1)  # day 0 comes within 7 days of screening (section 7)
    data = eligible_data(
        initials="LT",
        screening_date=screened,
        consent_date=screened,
        date_of_birth=SCREENING_DAY - timedelta(days=365 * 4 + 30),
    )
    screening = screening_create(site=site, data=data, user=user)
    return patient_enroll(
        screening_id=screening.pk,
        enrollment_date=screened,
        first_dose_date=first_dose,
        enrollment_weight_kg=eligible_data()["weight_kg"],
        prescribed_dose_mg=Decimal("5"),
        user=user,
    )


def test_patient_dosed_after_the_data_cutoff_is_outside_the_analysis(
    cohort, site_a, clinician, trial, django_capture_on_commit_callbacks
):
    # Protocol 11: censoring at "the data cutoff date (a study setting)"; an interim cutoff while
    # enrollment goes on leaves the later patient outside that analysis: listed, not counted.
    responder, _ = cohort
    trial.data_cutoff_date = DAY0 + timedelta(days=195)
    trial.save()
    late = enroll_late(site_a, clinician, first_dose_day=200)
    with django_capture_on_commit_callbacks(execute=True):
        record(late, "BASE", UNCHANGED, day=200, user=clinician)  # the late child's day 0: no error
    assert PatientEndpoints.objects.get(patient=late).efs_days is None
    report = study_report(site_ids={site_a.pk}, today=TODAY)
    assert report["enrollment"]["enrolled"] == 3
    analysis = report["analysis"]
    assert analysis["data_cutoffs"] == [(DAY0 + timedelta(days=195)).isoformat()]
    assert analysis["patients"] == 2
    assert [o["subject"] for o in analysis["outside_cutoff"]] == [late.subject_number]
    assert "First dose after the data cutoff" in analysis["outside_cutoff"][0]["reason"]
    assert report["response_rates"][0]["n"] == 2  # the denominator leaves the late child out
    assert report["efs"]["overall"]["patients"] == 2
    assert {m["code"]: m["non_cr"]["n"] for m in report["week1"]}["TEMP"] == 1  # the stopper only
    rows = {o["subject"]: o for o in report["outcomes"]}
    assert rows[late.subject_number]["outside_analysis"] and not rows[responder.subject_number]["outside_analysis"]


def test_setting_the_data_cutoff_gives_a_new_report(cohort, site_a, trial):
    first = study_report(site_ids={site_a.pk}, today=TODAY)
    trial.data_cutoff_date = DAY0 - timedelta(days=1)
    trial.save()
    again = study_report(site_ids={site_a.pk}, today=TODAY)
    assert again["data_version"] != first["data_version"]
    assert again["analysis"]["patients"] == 0 and len(again["analysis"]["outside_cutoff"]) == 2
    assert again["response_rates"][0]["n"] == 0


def test_follow_up_is_first_dose_to_last_contact_in_days_and_months(cohort, site_a):
    # Section 11's follow-up, as a publication reports it. By hand: the responder's last contact
    # is the day-190 follow-up, the stopper's the day-3 visit (their EFS of 1 day is not their
    # follow-up). Median (190 + 3) / 2 = 96.5 days; a month is 365.25 / 12 = 30.4375 days, so
    # 96.5 days = 1158 / 365.25 = 3.17043 months, 3 days = 0.09856, 190 days = 2280 / 365.25 = 6.24230.
    responder, stopper = cohort
    report = study_report(site_ids={site_a.pk}, today=TODAY)
    rows = {o["subject"]: o for o in report["outcomes"]}
    assert (rows[responder.subject_number]["follow_up_days"], rows[stopper.subject_number]["follow_up_days"]) == (
        190,
        3,
    )
    assert rows[stopper.subject_number]["efs_days"] == 1
    follow_up = report["follow_up"]
    assert follow_up["n"] == 2 and follow_up["days_per_month"] == 30.4375
    assert (follow_up["days"]["median"], follow_up["days"]["minimum"], follow_up["days"]["maximum"]) == (96.5, 3, 190)
    assert follow_up["months"]["median"] == pytest.approx(3.17043, abs=1e-5)
    assert follow_up["months"]["minimum"] == pytest.approx(0.09856, abs=1e-5)
    assert follow_up["months"]["maximum"] == pytest.approx(6.24230, abs=1e-5)
    assert "follow_up_days" not in report["efs"]  # the EFS times are not the follow-up


def test_follow_up_stops_at_death_and_at_the_data_cutoff(cohort, site_a, clinician, trial):
    from patients.services.treatment import death_record

    responder, stopper = cohort
    death_record(patient=stopper, date_of_death=DAY0 + timedelta(days=40), cause="HLH", user=clinician)
    trial.data_cutoff_date = DAY0 + timedelta(days=150)
    trial.save()
    rows = {o["subject"]: o for o in study_report(site_ids={site_a.pk}, today=TODAY)["outcomes"]}
    assert (rows[stopper.subject_number]["follow_up_days"], rows[stopper.subject_number]["follow_up_ended_by"]) == (
        40,
        "death",
    )
    responder_row = rows[responder.subject_number]
    assert (responder_row["follow_up_days"], responder_row["follow_up_ended_by"]) == (150, "data_cutoff")
