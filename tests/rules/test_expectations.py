"""Which lab groups each visit expects (protocol section 7 schedule of assessments)."""

from assessments.rules.expectations import expected_groups, missing_expected


def test_daily_visit_expects_temperature_and_blood_count_only():
    # "Daily, week 1 | 1 to 7 (exact day) | max temperature, CBC (as available)"
    assert expected_groups(kind="daily", full_hlh_panel=False, response_assessment=False) == (
        "Vital signs",
        "Blood count",
    )


def test_day_3_response_check_expects_the_hlh_markers():
    # "Efficacy day 3 | 3 | early response check"
    groups = expected_groups(kind="efficacy", full_hlh_panel=False, response_assessment=True)
    assert "HLH markers" in groups and "Spleen and CNS" in groups and "Liver" not in groups


def test_day_7_full_panel_expects_markers_cytokines_and_safety_labs():
    # "Efficacy day 7 | 7 (+/-1) | full HLH panel, response"
    groups = expected_groups(kind="efficacy", full_hlh_panel=True, response_assessment=True)
    assert set(groups) >= {"HLH markers", "Cytokines", "Liver", "Kidney"}


def test_follow_up_expects_ebv_dna_and_safety_labs():
    # "Follow-up | ... | relapse check, EBV DNA, safety labs, survival"
    groups = expected_groups(kind="follow_up", full_hlh_panel=False, response_assessment=True)
    assert "Infection / EBV" in groups and "Liver" in groups


def test_missing_lists_core_values_not_entered():
    groups = ("Vital signs", "Blood count")
    assert missing_expected(groups=groups, entered={"TEMP", "HGB"}) == ("NEUT", "PLAT")
    assert missing_expected(groups=groups, entered={"TEMP", "HGB", "NEUT", "PLAT"}) == ()
