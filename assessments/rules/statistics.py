"""The study report's statistics (protocol section 11): numbers in, numbers out.

Binomial response rates with exact (Clopper-Pearson) intervals, the Kaplan-Meier estimate of
event-free survival with Greenwood's standard error, the log-rank test between risk groups,
and the paired Wilcoxon signed-rank test of the week-1 change of a marker. The libraries do
the statistics (scipy, lifelines); this module only shapes their inputs and outputs. No Django.
"""

import math
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy.stats import binomtest, wilcoxon

CONFIDENCE = 0.95
SIX_MONTHS_DAYS = 183  # protocol 12.5: "6 months = day 183 after the first dose"
# Follow-up in months: a month is a twelfth of the mean (Julian) year, 365.25 / 12 = 30.4375 days.
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Proportion:
    count: int
    total: int
    percent: float | None
    ci_low: float | None  # percent
    ci_high: float | None  # percent


def proportion(count: int, total: int, *, confidence: float = CONFIDENCE) -> Proportion:
    """Count and percentage with the exact (Clopper-Pearson) binomial interval (section 11)."""
    if total == 0:
        return Proportion(count, total, None, None, None)
    ci = binomtest(count, total).proportion_ci(confidence_level=confidence, method="exact")
    return Proportion(count, total, 100 * count / total, 100 * ci.low, 100 * ci.high)


@dataclass(frozen=True)
class SurvivalAt:
    """Kaplan-Meier estimate at one time with Greenwood's standard error (section 11)."""

    day: int
    patients: int
    events: int
    survival: float | None  # percent
    se: float | None  # percent, Greenwood
    ci_low: float | None  # percent, lifelines' exponential Greenwood interval
    ci_high: float | None
    at_risk: int


@dataclass(frozen=True)
class SurvivalCurve:
    """The step function for a plot: times, survival (fraction) and the censoring times."""

    times: tuple[float, ...]
    survival: tuple[float, ...]
    censored: tuple[float, ...]


def _fit(durations: Sequence[float], events: Sequence[bool]) -> KaplanMeierFitter:
    return KaplanMeierFitter(alpha=1 - CONFIDENCE).fit(list(durations), event_observed=[bool(e) for e in events])


def greenwood_variance(fitter: KaplanMeierFitter, at: float) -> float:
    """Greenwood's variance S(t)^2 * sum d / (n (n - d)) over event times <= t.

    lifelines gives a confidence interval but not the standard error itself, so the variance is
    taken from its event table."""
    table = fitter.event_table
    table = table[(table.index <= at) & (table["observed"] > 0)]
    n, d = table["at_risk"].to_numpy(float), table["observed"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n > d, d / (n * (n - d)), np.inf)
    survival = float(fitter.survival_function_at_times(at).iloc[0])
    total = float(terms.sum())
    return 0.0 if survival == 0 else survival**2 * total


def survival_at(durations: Sequence[float], events: Sequence[bool], *, day: int = SIX_MONTHS_DAYS) -> SurvivalAt:
    """Kaplan-Meier event-free survival at `day` with its Greenwood standard error."""
    if not durations:
        return SurvivalAt(day, 0, 0, None, None, None, None, 0)
    fitter = _fit(durations, events)
    survival = float(fitter.survival_function_at_times(day).iloc[0])
    if max(durations) < day and survival > 0:
        # Not defined beyond the longest follow-up unless everyone has had an event: not reached.
        return SurvivalAt(day, len(durations), sum(1 for e in events if e), None, None, None, None, 0)
    variance = greenwood_variance(fitter, day)
    ci = fitter.confidence_interval_survival_function_
    before = ci[ci.index <= day]
    low, high = (float(before.iloc[-1, 0]), float(before.iloc[-1, 1])) if len(before) else (1.0, 1.0)
    at_risk = sum(1 for t in durations if t >= day)
    return SurvivalAt(
        day=day,
        patients=len(durations),
        events=sum(1 for e in events if e),
        survival=100 * survival,
        se=100 * math.sqrt(variance) if math.isfinite(variance) else None,
        ci_low=100 * low if not math.isnan(low) else None,
        ci_high=100 * high if not math.isnan(high) else None,
        at_risk=at_risk,
    )


def survival_curve(durations: Sequence[float], events: Sequence[bool]) -> SurvivalCurve:
    if not durations:
        return SurvivalCurve((), (), ())
    fitter = _fit(durations, events)
    frame = fitter.survival_function_
    return SurvivalCurve(
        times=tuple(float(t) for t in frame.index),
        survival=tuple(float(s) for s in frame.iloc[:, 0]),
        censored=tuple(float(t) for t, e in zip(durations, events, strict=True) if not e),
    )


def at_risk_counts(durations: Sequence[float], times: Sequence[float]) -> tuple[int, ...]:
    """Patients still under observation (no event, not censored) at each time, for the table under a curve."""
    return tuple(sum(1 for d in durations if d >= t) for t in times)


@dataclass(frozen=True)
class LogRank:
    statistic: float | None
    p_value: float | None


def logrank(
    durations_a: Sequence[float], events_a: Sequence[bool], durations_b: Sequence[float], events_b: Sequence[bool]
) -> LogRank:
    """Log-rank test between two groups (section 11: high vs low risk)."""
    if not durations_a or not durations_b or (not any(events_a) and not any(events_b)):
        return LogRank(None, None)
    result = logrank_test(
        list(durations_a),
        list(durations_b),
        event_observed_A=[bool(e) for e in events_a],
        event_observed_B=[bool(e) for e in events_b],
    )
    return LogRank(float(result.test_statistic), float(result.p_value))


@dataclass(frozen=True)
class Summary:
    n: int
    median: float | None
    minimum: float | None
    maximum: float | None


def median_range(values: Sequence[float | None]) -> Summary:
    present = [v for v in values if v is not None]
    if not present:
        return Summary(0, None, None, None)
    return Summary(len(present), float(statistics.median(present)), float(min(present)), float(max(present)))


@dataclass(frozen=True)
class FollowUpSummary:
    """Median and range of the follow-up times (section 11), in days and in months."""

    n: int
    days: Summary
    months: Summary
    days_per_month: float


def follow_up_summary(days: Sequence[float | None], *, days_per_month: float = DAYS_PER_MONTH) -> FollowUpSummary:
    """The follow-up of the patients with a follow-up time, as a publication reports it:
    median and range in days, and the same in months of `days_per_month` days."""
    in_days = median_range(days)

    def months(value: float | None) -> float | None:
        return None if value is None else value / days_per_month

    in_months = Summary(in_days.n, months(in_days.median), months(in_days.minimum), months(in_days.maximum))
    return FollowUpSummary(in_days.n, in_days, in_months, days_per_month)


@dataclass(frozen=True)
class PairedTest:
    n: int
    baseline_median: float | None
    day7_median: float | None
    p_value: float | None  # None when the test cannot be run (fewer than 2 pairs, or no change at all)


def paired_wilcoxon(before: Sequence[float], after: Sequence[float]) -> PairedTest:
    """Paired Wilcoxon signed-rank test of baseline vs day 7 (section 11)."""
    pairs = [(b, a) for b, a in zip(before, after, strict=True) if b is not None and a is not None]
    n = len(pairs)
    b = [p[0] for p in pairs]
    a = [p[1] for p in pairs]
    p_value = None
    if n >= 2 and any(x != y for x, y in pairs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns about small samples and ties; the p-value stands
            p_value = float(wilcoxon(b, a).pvalue)
    return PairedTest(
        n=n,
        baseline_median=float(statistics.median(b)) if b else None,
        day7_median=float(statistics.median(a)) if a else None,
        p_value=p_value,
    )


def day7_value(
    points: Sequence[tuple[int, float]], *, stopped_day: int | None, day: int = 7, window: int = 1
) -> float | None:
    """The marker's value for the week-1 comparison (section 11).

    A patient who stopped ruxolitinib before day 7 contributes the last value known while on it
    (last value carried forward). Otherwise the value sampled on day 7, else the nearest within
    the visit window (+/- 1 day, the earlier first)."""
    ordered = sorted(points)
    if stopped_day is not None and stopped_day < day:
        on_treatment = [v for d, v in ordered if 0 < d <= stopped_day]
        return on_treatment[-1] if on_treatment else None
    by_day = dict(ordered)
    for offset in sorted(range(-window, window + 1), key=lambda o: (abs(o), o)):
        if day + offset in by_day:
            return by_day[day + offset]
    return None
