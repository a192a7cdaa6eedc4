"""Report statistics (protocol section 11): the hand-worked case and the libraries computed independently."""

import math

import pytest
from lifelines.statistics import logrank_test
from scipy.stats import binomtest, wilcoxon

from assessments.rules.statistics import (
    at_risk_counts,
    day7_value,
    follow_up_summary,
    logrank,
    median_range,
    paired_wilcoxon,
    proportion,
    survival_at,
    survival_curve,
)

# 12 patients: events at days 1, 1, 5, 7 and 28; the other 7 censored after day 200.
HAND_DURATIONS = [1, 1, 5, 7, 28, 201, 210, 230, 250, 270, 300, 365]
HAND_EVENTS = [True] * 5 + [False] * 7


def test_six_month_efs_of_the_hand_worked_case_is_58_3_with_greenwood_se_14_2():
    result = survival_at(HAND_DURATIONS, HAND_EVENTS, day=183)
    # S = 10/12 * 9/10 * 8/9 * 7/8 = 7/12; Var = S^2 (2/(12*10) + 1/(10*9) + 1/(9*8) + 1/(8*7))
    assert round(result.survival, 1) == 58.3
    assert round(result.se, 1) == 14.2
    by_hand = 7 / 12 * math.sqrt(2 / 120 + 1 / 90 + 1 / 72 + 1 / 56)
    assert result.se == pytest.approx(100 * by_hand)
    assert (result.patients, result.events, result.at_risk) == (12, 5, 7)
    assert result.ci_low < result.survival < result.ci_high


def test_survival_before_any_event_is_100_with_zero_se():
    result = survival_at([10, 20, 30], [False, False, False], day=5)
    assert (result.survival, result.se) == (100.0, 0.0)


def test_six_month_estimate_is_not_reached_before_anyone_is_followed_that_long():
    result = survival_at([1, 28, 28], [True, False, False], day=183)
    assert (result.survival, result.se, result.patients, result.events) == (None, None, 3, 1)


def test_no_patients_gives_no_estimate():
    assert survival_at([], [], day=183).survival is None


def test_curve_steps_and_censor_marks():
    curve = survival_curve(HAND_DURATIONS, HAND_EVENTS)
    assert curve.survival[0] == 1.0
    assert curve.survival[-1] == pytest.approx(7 / 12)
    assert curve.censored == (201.0, 210.0, 230.0, 250.0, 270.0, 300.0, 365.0)
    assert at_risk_counts(HAND_DURATIONS, [0, 7, 183]) == (12, 9, 7)


@pytest.mark.parametrize(("count", "total"), [(10, 12), (8, 12), (1, 12), (0, 12), (12, 12), (37, 2000)])
def test_response_rate_ci_is_scipy_exact_clopper_pearson(count, total):
    result = proportion(count, total)
    ci = binomtest(count, total).proportion_ci(confidence_level=0.95, method="exact")
    assert result.percent == pytest.approx(100 * count / total)
    assert (result.ci_low, result.ci_high) == (pytest.approx(100 * ci.low), pytest.approx(100 * ci.high))


def test_published_overall_response_10_of_12_is_83_3_percent():
    result = proportion(10, 12)
    assert round(result.percent, 1) == 83.3
    assert round(result.ci_low, 1) == 51.6 and round(result.ci_high, 1) == 97.9


def test_rate_of_nobody_has_no_percentage():
    assert proportion(0, 0).percent is None


def test_logrank_p_matches_lifelines():
    high = ([1, 1, 5, 7, 28, 40], [True, True, True, True, True, False])
    low = ([201, 210, 230, 250, 20, 300], [False, False, False, False, True, False])
    result = logrank(high[0], high[1], low[0], low[1])
    expected = logrank_test(high[0], low[0], event_observed_A=high[1], event_observed_B=low[1])
    assert result.p_value == pytest.approx(expected.p_value)
    assert result.statistic == pytest.approx(expected.test_statistic)
    assert result.p_value < 0.05


def test_logrank_without_a_group_has_no_p():
    assert logrank([], [], [1, 2], [True, False]).p_value is None


def test_paired_wilcoxon_matches_scipy():
    before = [39.5, 39.8, 40.1, 39.2, 38.9, 39.9, 40.0]
    after = [36.8, 37.9, 36.5, 37.0, 38.8, 36.6, 39.1]
    result = paired_wilcoxon(before, after)
    assert result.p_value == pytest.approx(wilcoxon(before, after).pvalue)
    assert (result.n, result.baseline_median, result.day7_median) == (7, 39.8, 37.0)


def test_paired_wilcoxon_drops_incomplete_pairs_and_refuses_one_pair():
    assert paired_wilcoxon([1.0, None, 3.0], [0.5, 2.0, None]).n == 1
    assert paired_wilcoxon([1.0, None, 3.0], [0.5, 2.0, None]).p_value is None
    assert paired_wilcoxon([1.0, 2.0], [1.0, 2.0]).p_value is None  # no change at all


def test_day7_value_prefers_day_7_then_window():
    assert day7_value([(0, 10.0), (6, 7.0), (7, 5.0), (8, 4.0)], stopped_day=None) == 5.0
    assert day7_value([(0, 10.0), (6, 7.0), (8, 4.0)], stopped_day=None) == 7.0
    assert day7_value([(0, 10.0), (3, 7.0)], stopped_day=None) is None


def test_patient_off_rux_before_day_7_carries_the_last_value_forward():
    assert day7_value([(0, 10.0), (2, 8.0), (3, 6.0), (7, 1.0)], stopped_day=3) == 6.0
    assert day7_value([(0, 10.0)], stopped_day=2) is None


def test_median_range():
    summary = median_range([3.0, None, 1.0, 2.0, 10.0])
    assert (summary.n, summary.median, summary.minimum, summary.maximum) == (4, 2.5, 1.0, 10.0)
    assert median_range([None]).median is None


def test_follow_up_median_and_range_in_days_and_months_by_hand():
    # Four patients followed 3, 61, 183 and 365 days, one without follow-up yet. Median of four =
    # (61 + 183) / 2 = 122 days. A month is 365.25 / 12 = 30.4375 days, so 122 days =
    # 1464 / 365.25 = 4.00821 months, 3 days = 0.09856 months, 365 days = 4380 / 365.25 = 11.99179.
    summary = follow_up_summary([183, None, 3, 365, 61])
    assert (summary.n, summary.days.median, summary.days.minimum, summary.days.maximum) == (4, 122, 3, 365)
    assert summary.months.median == pytest.approx(4.00821, abs=1e-5)
    assert summary.months.minimum == pytest.approx(0.09856, abs=1e-5)
    assert summary.months.maximum == pytest.approx(11.99179, abs=1e-5)
    assert summary.days_per_month == 30.4375


def test_follow_up_of_nobody_is_empty():
    summary = follow_up_summary([None])
    assert (summary.n, summary.days.median, summary.months.median) == (0, None, None)
