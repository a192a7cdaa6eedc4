"""Study drug, end of treatment and the course afterwards: protocol sections 6, 7 and 11.

Day 0 is the first ruxolitinib dose (section 7). Ruxolitinib is given twice daily for 28
consecutive days, 56 doses (section 6). Treatment day N (1..28) is the calendar date
day 0 + (N - 1) days, so treatment day 1 is study day 0 and treatment day 28 is study day 27.

Decisions taken here where the protocol leaves room:
- A dose belongs to its scheduled treatment day. It must be given on that day's date in the
  site's time zone; the evening dose may also be given in the early hours of the next day,
  up to `evening_grace_hours` (default 6, i.e. before 06:00) after midnight: a late
  bedtime dose is still that evening's dose. The morning dose is never given the day before.
- Missed and held doses carry a reason and no time or amount: their date is the scheduled
  date and their time the slot. They are counted, but only a *given* dose whose amount
  differs from the band's dose is a dose deviation.
- "Completed 28 days" means the last dose was taken on treatment day 28 (study day 27) or
  later; a last dose on treatment day 27 (study day 26) or earlier is a discontinuation
  and needs its reason. Doses missed or held on the way do not change the outcome: they
  show in the dose counts.
- The last dose cannot fall after treatment day 28: the protocol gives one 28-day cycle.
- Two given doses must be at least the trial's `min_dose_interval_hours` apart (default 8 h,
  `trial.models.Trial`; 0 turns the check off). Twice daily means about 12 h apart; 8 h leaves
  the ward +/- 2 h around 08:00 / 20:00, and a bedtime dose as late as midnight before the
  08:00 morning dose, yet stops the 08:00 + 08:15 double dose of a stale page. A shorter
  interval is not refused outright (clinical reality, as for the amount): it needs an
  explicit confirmation, and the dose is then flagged and queried. Exactly the interval is
  enough. Elapsed time counts, not the wall clock (a clock change is not an hour gained).
- The next dose "opens" when its slot's window starts (00:00 of its date) and the minimum
  interval since the latest given dose has passed; a slot whose window closes before it
  opens is passed over (it can still be recorded from its form, with the confirmation).
- A dose given at an amount other than the band's belongs to a prescribing decision: the
  prescription (an amount ever prescribed to the patient: one query, on the prescription,
  raised at enrollment) or, for an amount never prescribed, one decision per amount. One
  query per decision, never one per dose; each dose keeps its own flag.
- The patient's status follows from the recorded facts, never from the order they were
  entered: off study after death, loss to follow-up (the latest follow-up) or a treatment
  end for death or withdrawn consent; follow-up after any other treatment end; otherwise
  on treatment.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum

from patients.rules.dosing import PROTOCOL_BANDS, DoseBand, DoseBandResult, dose_band_for_weight, weight_band_changed
from trial.rules.criteria import fmt
from trial.rules.words import gettext as _

TREATMENT_DAYS = 28  # section 6: "Duration: 28 consecutive days (56 doses)"
DOSES_PER_DAY = 2  # section 1: "oral ruxolitinib (RUX), twice daily (BID)"
EVENING_GRACE_HOURS = 6  # decision above: an evening dose may be given until 06:00 the next day
MAX_SINGLE_DOSE_MG = 50.0  # an impossible amount for this trial (the largest band gives 10 mg)

SLOTS = ("am", "pm")
SLOT_LABELS = {"am": "morning", "pm": "evening"}


def slot_shown(slot: str) -> str:
    """A dose slot as the reader's language names it: "morning", "evening"."""
    return {"am": _("morning"), "pm": _("evening")}.get(slot, slot)


def dose_label(slot: str, treatment_day: int) -> str:
    """ "morning dose of treatment day 3" in the reader's language, for pages and messages."""
    if slot == "pm":
        return _("evening dose of treatment day %(day)s") % {"day": treatment_day}
    if slot == "am":
        return _("morning dose of treatment day %(day)s") % {"day": treatment_day}
    return f"{slot} {treatment_day}"


class DoseStatus(str, Enum):
    GIVEN = "given"
    MISSED = "missed"
    HELD = "held"


class TreatmentOutcome(str, Enum):
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"


class PatientStatus(str, Enum):
    ON_TREATMENT = "on_treatment"
    FOLLOW_UP = "follow_up"
    OFF_STUDY = "off_study"


# Section 6 reasons to stop ruxolitinib, plus the two that also end the study for the child.
OFF_STUDY_END_REASONS = frozenset({"death", "consent_withdrawn"})


@dataclass(frozen=True)
class ScheduledDose:
    treatment_day: int  # 1..28
    slot: str  # "am" or "pm"
    date: date

    @property
    def study_day(self) -> int:
        return self.treatment_day - 1

    @property
    def slot_label(self) -> str:
        return slot_shown(self.slot)


@dataclass(frozen=True)
class DoseCheck:
    status: DoseStatus
    amount_mg: float | None
    expected_mg: float
    deviation: bool
    explanation: str


@dataclass(frozen=True)
class TimingCheck:
    on_schedule: bool
    explanation: str


@dataclass(frozen=True)
class Problem:
    """One reason an entry cannot be saved: the field it concerns, a message naming the limit and
    its stable code (docs/api.md, "Error codes")."""

    field: str
    message: str
    code: str = "invalid"


@dataclass(frozen=True)
class CompletionCheck:
    study_day: int  # of the last dose, day 0 being the first dose
    treatment_day: int  # study_day + 1
    completed: bool  # the last dose was on treatment day 28 or later
    explanation: str


@dataclass(frozen=True)
class StatusDecision:
    status: PatientStatus
    explanation: str


@dataclass(frozen=True)
class WeightBandChange:
    changed: bool
    enrollment: DoseBandResult
    current: DoseBandResult
    explanation: str


@dataclass(frozen=True)
class DoseCounts:
    planned: int
    given: int
    missed: int
    held: int
    not_recorded: int
    deviations: int


def slots_for(doses_per_day: int = DOSES_PER_DAY) -> tuple[str, ...]:
    """The named slots of a treatment day: morning, then evening (section 1: twice daily)."""
    if not 1 <= doses_per_day <= len(SLOTS):
        raise ValueError(f"Doses per day must be between 1 and {len(SLOTS)}, not {doses_per_day}.")
    return SLOTS[:doses_per_day]


def treatment_day_date(day0: date, treatment_day: int) -> date:
    """The calendar date of treatment day N: day 0 + (N - 1) days (sections 6 and 7)."""
    return day0 + timedelta(days=treatment_day - 1)


def study_day(day0: date, on: date) -> int:
    """Days since the first dose: day 0 is the first dose (section 7)."""
    return (on - day0).days


def dose_schedule(
    day0: date, treatment_days: int = TREATMENT_DAYS, doses_per_day: int = DOSES_PER_DAY
) -> tuple[ScheduledDose, ...]:
    """Every scheduled dose, in order (section 6: twice daily for 28 consecutive days, 56 doses)."""
    if treatment_days < 1:
        raise ValueError(f"Treatment days must be at least 1, not {treatment_days}.")
    return tuple(
        ScheduledDose(treatment_day=day, slot=slot, date=treatment_day_date(day0, day))
        for day in range(1, treatment_days + 1)
        for slot in slots_for(doses_per_day)
    )


def dose_check(status: DoseStatus | str, amount_mg: float | None, expected_mg: float) -> DoseCheck:
    """Whether a recorded dose deviates from the weight band's dose (section 6).

    "A prescribed dose that differs from the band is a protocol deviation: allowed to save
    but flagged." A given dose of any other amount, by however little, is a deviation; a
    missed or held dose is counted but is not a dose deviation.
    """
    status = DoseStatus(status)
    if status is not DoseStatus.GIVEN:
        return DoseCheck(
            status=status,
            amount_mg=None,
            expected_mg=expected_mg,
            deviation=False,
            explanation=f"Dose {status.value}: counted as {status.value}; no amount was given.",
        )
    if amount_mg is None:
        raise ValueError("A given dose needs its amount.")
    # The tolerance absorbs binary noise from decimal entry only; 0.01 mg off is a deviation.
    matches = math.isclose(amount_mg, expected_mg, rel_tol=0, abs_tol=1e-9)
    if matches:
        why = f"Given {fmt(amount_mg, 'mg')}, the weight band's dose."
    else:
        why = (
            f"Protocol deviation: given {fmt(amount_mg, 'mg')}, but the weight band's dose is "
            f"{fmt(expected_mg, 'mg')} (protocol section 6)."
        )
    return DoseCheck(
        status=status, amount_mg=amount_mg, expected_mg=expected_mg, deviation=not matches, explanation=why
    )


def dose_amount_problem(amount_mg: float | None, maximum_mg: float = MAX_SINGLE_DOSE_MG) -> str | None:
    """The amount of a given dose must be more than 0 and at most an impossible ceiling."""
    if amount_mg is None:
        return "Amount (mg): enter the amount given."
    if not amount_mg > 0:
        return f"Amount must be more than 0 mg, not {fmt(amount_mg, 'mg')}."
    if amount_mg > maximum_mg:
        return f"Amount must be at most {fmt(maximum_mg, 'mg')} for one dose, not {fmt(amount_mg, 'mg')}."
    return None


def administration_time_check(
    *,
    scheduled: ScheduledDose,
    administered_local: datetime,
    evening_grace_hours: int = EVENING_GRACE_HOURS,
) -> TimingCheck:
    """Whether a dose was given on its scheduled date, in the site's local time (sections 6 and 7).

    The evening dose may also be given up to `evening_grace_hours` after midnight; the
    morning dose only on its date (see the module's decisions).
    """
    local_date = administered_local.date()
    label = f"The {SLOT_LABELS.get(scheduled.slot, scheduled.slot)} dose of treatment day {scheduled.treatment_day}"
    given = administered_local.strftime("%Y-%m-%d %H:%M")
    if local_date == scheduled.date:
        return TimingCheck(True, f"{label} was given on its date ({given}).")
    next_day = scheduled.date + timedelta(days=1)
    grace_end = time(evening_grace_hours)
    if scheduled.slot == "pm" and evening_grace_hours > 0:
        if local_date == next_day and administered_local.time() < grace_end:
            return TimingCheck(True, f"{label} was given after midnight ({given}), within the evening's grace.")
        allowed = f"on {scheduled.date.isoformat()} or before {grace_end.strftime('%H:%M')} on {next_day.isoformat()}"
    else:
        allowed = f"on {scheduled.date.isoformat()}"
    return TimingCheck(False, f"{label} must be given {allowed} (site time), not {given}.")


def dose_window(scheduled: ScheduledDose, evening_grace_hours: int = EVENING_GRACE_HOURS) -> tuple[datetime, datetime]:
    """When a scheduled dose may be given, as site wall-clock times [start, end) (sections 6, 7).

    From 00:00 of its date until midnight; the evening dose until `evening_grace_hours` the
    next morning. The same window as administration_time_check.
    """
    start = datetime.combine(scheduled.date, time(0))
    end = start + timedelta(days=1)
    if scheduled.slot == "pm":
        end += timedelta(hours=evening_grace_hours)
    return start, end


# The interval between two given doses (section 1: "twice daily"; the decision above)


@dataclass(frozen=True)
class _SlotDose:
    treatment_day: int
    slot: str

    @property
    def label(self) -> str:
        return f"the {SLOT_LABELS.get(self.slot, self.slot)} dose of treatment day {self.treatment_day}"


@dataclass(frozen=True)
class GivenDose(_SlotDose):
    """A dose recorded as given: its slot and when (an aware date-time on the site's clock)."""

    at: datetime


@dataclass(frozen=True)
class IntervalProblem:
    neighbour: GivenDose
    gap: timedelta
    minimum: timedelta
    explanation: str


@dataclass(frozen=True)
class NextDose:
    scheduled: ScheduledDose
    opens_at: datetime  # on the site's clock
    due: bool  # open at the moment asked about
    explanation: str


def _instant(moment: datetime) -> datetime:
    # Python compares and subtracts aware date-times of one zone by their wall clock; use instants.
    return moment.astimezone(UTC)


def _duration(gap: timedelta) -> str:
    hours, minutes = divmod(int(gap.total_seconds() // 60), 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def _when(moment: datetime) -> str:
    return moment.strftime("%H:%M on %Y-%m-%d")


def dose_neighbours(given: Iterable[GivenDose], administered: datetime) -> tuple[GivenDose | None, GivenDose | None]:
    """The given doses next to a time: the latest at or before it, and the first after it."""
    moment = _instant(administered)
    doses = tuple(given)
    before = [g for g in doses if _instant(g.at) <= moment]
    after = [g for g in doses if _instant(g.at) > moment]
    return (
        max(before, key=lambda g: _instant(g.at), default=None),
        min(after, key=lambda g: _instant(g.at), default=None),
    )


def dose_interval_problem(
    *,
    administered: datetime,
    previous: GivenDose | None,
    following: GivenDose | None,
    min_interval_hours: int,
) -> IntervalProblem | None:
    """A given dose closer to a neighbouring given dose than the minimum interval (section 1, BID).

    Exactly the minimum interval is enough; one minute less is not. The previous dose is
    judged first. An interval of 0 hours turns the check off.
    """
    minimum = timedelta(hours=min_interval_hours)
    if minimum <= timedelta(0):
        return None
    moment = _instant(administered)
    limit = f"doses must be at least {_duration(minimum)} apart (twice daily, protocol section 6)"
    for neighbour, gap, relation in (
        (previous, None if previous is None else moment - _instant(previous.at), ("after", "previous")),
        (following, None if following is None else _instant(following.at) - moment, ("before", "next")),
    ):
        if neighbour is None or gap >= minimum:
            continue
        side, which = relation
        lead = "At the same minute as" if gap < timedelta(minutes=1) else f"Only {_duration(gap)} {side}"
        why = f"{lead} the {which} dose ({neighbour.label}, given at {_when(neighbour.at)}, site time); {limit}."
        return IntervalProblem(neighbour=neighbour, gap=gap, minimum=minimum, explanation=why)
    return None


def next_dose(
    *,
    schedule: Sequence[ScheduledDose],
    recorded: Iterable[tuple[int, str]],
    latest_given: datetime | None,
    now: datetime,
    min_interval_hours: int,
    evening_grace_hours: int = EVENING_GRACE_HOURS,
    last_date: date | None = None,
) -> NextDose | None:
    """The dose to give next and when it opens, on the site's clock (section 6; decisions above).

    The first scheduled dose, in order, that is not recorded and whose window has not closed:
    it opens when its window starts and `min_interval_hours` after the latest given dose,
    whichever is later; a dose whose window would close before it opens is passed over.
    None when nothing is left to give: every dose recorded or past, or after `last_date`
    (the recorded end of treatment or death). `now` and `latest_given` are aware.
    """
    zone = now.tzinfo
    done = set(recorded)
    minimum = timedelta(hours=max(min_interval_hours, 0))
    earliest = None if latest_given is None else (_instant(latest_given) + minimum).astimezone(zone)
    for scheduled in schedule:
        if (scheduled.treatment_day, scheduled.slot) in done:
            continue
        if last_date is not None and scheduled.date > last_date:
            break
        start, end = (moment.replace(tzinfo=zone) for moment in dose_window(scheduled, evening_grace_hours))
        if _instant(end) <= _instant(now):
            continue
        opens, why = start, _("its day begins")
        if earliest is not None and _instant(earliest) > _instant(start):
            opens = earliest
            why = _("%(duration)s after the latest dose, given at %(when)s") % {
                "duration": _duration(minimum),
                "when": _when(latest_given),
            }
        if _instant(opens) >= _instant(end):
            continue
        due = _instant(opens) <= _instant(now)
        label = dose_label(scheduled.slot, scheduled.treatment_day)
        shown = {"dose": label, "when": _when(opens), "why": why}
        explanation = (
            _("The %(dose)s is due now.") if due else _("The %(dose)s opens at %(when)s (site time): %(why)s.")
        ) % shown
        return NextDose(scheduled=scheduled, opens_at=opens, due=due, explanation=explanation)
    return None


# Doses given off the band: one query per prescribing decision (section 6)


@dataclass(frozen=True)
class OffBandDose(_SlotDose):
    """A given dose flagged as a deviation from the band (dose_check)."""

    amount_mg: float
    expected_mg: float


@dataclass(frozen=True)
class OffBandDecision:
    amount_mg: float
    expected_mg: float
    doses: tuple[OffBandDose, ...]  # in schedule order
    explanation: str


def off_band_decisions(
    deviating: Iterable[OffBandDose], *, prescribed_mg: Iterable[float]
) -> tuple[OffBandDecision, ...]:
    """The prescribing decisions behind the doses given off the weight band (section 6).

    "A prescribed dose that differs from the band is a protocol deviation: allowed to save
    (clinical reality) but flagged, with a data query raised automatically." One decision,
    one query: a dose given at an amount prescribed to the patient (now or before) is that
    prescription's deviation, queried once on the prescription; the doses given at an amount
    never prescribed are one decision per amount. `deviating` are the given doses flagged
    as deviations; each keeps its own flag.
    """
    prescribed = tuple(prescribed_mg)
    groups: dict[float, list[OffBandDose]] = {}
    for dose in deviating:
        if any(math.isclose(dose.amount_mg, p, rel_tol=0, abs_tol=1e-9) for p in prescribed):
            continue
        groups.setdefault(round(dose.amount_mg, 2), []).append(dose)
    decisions = []
    for amount, doses in sorted(groups.items()):
        doses.sort(key=lambda d: (d.treatment_day, SLOTS.index(d.slot) if d.slot in SLOTS else len(SLOTS)))
        first = doses[0]
        why = (
            f"Given {fmt(amount, 'mg')} instead of the weight band's {fmt(first.expected_mg, 'mg')}, an amount never "
            f"prescribed, from {first.label} on; every such dose is flagged on the dose log."
        )
        decisions.append(OffBandDecision(amount, first.expected_mg, tuple(doses), why))
    return tuple(decisions)


def completion_check(day0: date, last_dose_date: date, treatment_days: int = TREATMENT_DAYS) -> CompletionCheck:
    """Whether the last dose completes the 28-day cycle (section 6: "28 consecutive days").

    Completed = the last dose on treatment day 28 (study day 27) or later. Study day 26
    (treatment day 27) is one day short: a discontinuation.
    """
    day = study_day(day0, last_dose_date)
    needed = treatment_days - 1
    completed = day >= needed
    last_day = treatment_day_date(day0, treatment_days)
    shown = {
        "date": last_dose_date.isoformat(),
        "day": day,
        "treatment_day": day + 1,
        "days": treatment_days,
        "last_day": last_day.isoformat(),
        "needed": needed,
    }
    if completed:
        why = (
            _(
                "Last dose on %(date)s: study day %(day)s (treatment day %(treatment_day)s), "
                "on or after treatment day %(days)s (%(last_day)s)."
            )
            % shown
        )
    else:
        why = (
            _(
                "Last dose on %(date)s: study day %(day)s (treatment day %(treatment_day)s), before "
                "treatment day %(days)s (%(last_day)s, study day %(needed)s): not a completed %(days)s-day course."
            )
            % shown
        )
    return CompletionCheck(study_day=day, treatment_day=day + 1, completed=completed, explanation=why)


def treatment_end_problems(
    *,
    day0: date,
    outcome: TreatmentOutcome | str,
    reason: str,
    reason_detail: str,
    last_dose_date: date,
    today: date,
    treatment_days: int = TREATMENT_DAYS,
    latest_given_dose_date: date | None = None,
    date_of_death: date | None = None,
) -> tuple[Problem, ...]:
    """What stops an end of treatment from being saved (sections 6 and 7).

    The last dose lies between day 0 and treatment day 28, not in the future, not before a
    dose already recorded as given, not after death. "Completed" needs the last dose on
    treatment day 28 or later and no reason; "discontinued" needs one of section 6's reasons
    ("Record the reason, the day, and the subsequent therapy"), with a detail for "other".
    """
    outcome = TreatmentOutcome(outcome)
    problems: list[Problem] = []
    last_scheduled = treatment_day_date(day0, treatment_days)
    if last_dose_date < day0:
        problems.append(
            Problem(
                "last_dose_date",
                _("Last dose date cannot be before day 0, the first dose (%(date)s).") % {"date": day0.isoformat()},
                "last_dose_before_day_0",
            )
        )
    elif last_dose_date > last_scheduled:
        problems.append(
            Problem(
                "last_dose_date",
                _(
                    "Last dose date cannot be after treatment day %(days)s (%(date)s): "
                    "the protocol gives one %(days)s-day course."
                )
                % {"days": treatment_days, "date": last_scheduled.isoformat()},
                "last_dose_after_course",
            )
        )
    if last_dose_date > today:
        problems.append(
            Problem(
                "last_dose_date",
                _("Last dose date cannot be in the future (after %(date)s).") % {"date": today.isoformat()},
                "date_in_future",
            )
        )
    if latest_given_dose_date is not None and last_dose_date < latest_given_dose_date:
        problems.append(
            Problem(
                "last_dose_date",
                _("Last dose date cannot be before a dose recorded as given on %(date)s.")
                % {"date": latest_given_dose_date.isoformat()},
                "before_last_dose",
            )
        )
    if date_of_death is not None and last_dose_date > date_of_death:
        problems.append(
            Problem(
                "last_dose_date",
                _("Last dose date cannot be after the date of death (%(date)s).") % {"date": date_of_death.isoformat()},
                "after_death",
            )
        )
    if outcome is TreatmentOutcome.COMPLETED:
        if reason:
            problems.append(
                Problem(
                    "reason", _("A completed course has no discontinuation reason; leave it empty."), "not_applicable"
                )
            )
        check = completion_check(day0, last_dose_date, treatment_days)
        if last_dose_date >= day0 and not check.completed:
            problems.append(
                Problem(
                    "outcome",
                    _(
                        "Completed needs the last dose on treatment day %(days)s (study day "
                        "%(study_day)s, %(date)s) or later; the last dose on "
                        "%(last)s is treatment day %(treatment_day)s. "
                        "Record it as discontinued with its reason."
                    )
                    % {
                        "days": treatment_days,
                        "study_day": treatment_days - 1,
                        "date": last_scheduled.isoformat(),
                        "last": last_dose_date.isoformat(),
                        "treatment_day": check.treatment_day,
                    },
                    "course_not_completed",
                )
            )
    else:
        if not reason:
            problems.append(
                Problem("reason", _("A discontinuation needs its reason (protocol section 6)."), "required")
            )
        elif reason == "other" and not reason_detail.strip():
            problems.append(Problem("reason_detail", _("Describe the reason when it is 'Other'."), "required"))
    return tuple(problems)


def patient_status_derive(
    *,
    treatment_end_reason: str | None,
    dead: bool,
    lost_to_follow_up: bool,
    off_study_reasons: frozenset[str] = OFF_STUDY_END_REASONS,
) -> StatusDecision:
    """The patient's status from the recorded facts (sections 6 and 11).

    `treatment_end_reason` is None while no treatment end is recorded, "" for a completed
    course. `lost_to_follow_up` is the latest follow-up's answer.
    """
    if dead:
        return StatusDecision(PatientStatus.OFF_STUDY, "Off study: death recorded.")
    if lost_to_follow_up:
        return StatusDecision(PatientStatus.OFF_STUDY, "Off study: lost to follow-up at the latest contact.")
    if treatment_end_reason is None:
        return StatusDecision(PatientStatus.ON_TREATMENT, "On treatment: no end of treatment recorded.")
    if treatment_end_reason in off_study_reasons:
        return StatusDecision(
            PatientStatus.OFF_STUDY, f"Off study: treatment ended ({treatment_end_reason.replace('_', ' ')})."
        )
    return StatusDecision(PatientStatus.FOLLOW_UP, "Follow-up: treatment ended.")


def weight_band_change(
    enrollment_weight_kg: float, new_weight_kg: float, bands: tuple[DoseBand, ...] = PROTOCOL_BANDS
) -> WeightBandChange:
    """Whether a weight re-measured during treatment falls in another dose band (section 6).

    "A weight re-measured during treatment that falls in another band raises a query." The
    dose itself is not changed: the investigator decides.
    """
    enrollment = dose_band_for_weight(enrollment_weight_kg, bands)
    current = dose_band_for_weight(new_weight_kg, bands)
    changed = weight_band_changed(enrollment, new_weight_kg, bands)
    if changed:
        why = (
            f"Weight {fmt(new_weight_kg, 'kg')} is in the band {current.band.label} "
            f"({fmt(current.dose_mg, 'mg')} twice daily); at enrollment {fmt(enrollment_weight_kg, 'kg')} was in "
            f"{enrollment.band.label} ({fmt(enrollment.dose_mg, 'mg')}). Protocol section 6: a weight in another "
            "band raises a query; the dose is not changed automatically."
        )
    else:
        why = f"Weight {fmt(new_weight_kg, 'kg')} stays in the enrollment band {enrollment.band.label}."
    return WeightBandChange(changed=changed, enrollment=enrollment, current=current, explanation=why)


def dose_counts(
    records: Iterable[tuple[str, bool]],
    treatment_days: int = TREATMENT_DAYS,
    doses_per_day: int = DOSES_PER_DAY,
) -> DoseCounts:
    """Given, missed and held doses of the 56 planned, and dose deviations (sections 6 and 11).

    `records` are (status, deviation) pairs, one per recorded dose.
    """
    planned = treatment_days * doses_per_day
    tally = {s: 0 for s in DoseStatus}
    deviations = 0
    for status, deviation in records:
        tally[DoseStatus(status)] += 1
        deviations += bool(deviation)
    recorded = sum(tally.values())
    return DoseCounts(
        planned=planned,
        given=tally[DoseStatus.GIVEN],
        missed=tally[DoseStatus.MISSED],
        held=tally[DoseStatus.HELD],
        not_recorded=max(planned - recorded, 0),
        deviations=deviations,
    )
