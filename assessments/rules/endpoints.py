"""Each patient's endpoints (protocol section 11): best response up to day 28, durability of
CR and event-free survival (EFS), from the assessments and outcome records."""

from dataclasses import dataclass
from datetime import date, timedelta

from trial.rules.words import gettext, gettext_noop

# Best first: the order in which a response is "better" than another.
RESPONSE_RANK = ("cr", "pr", "improvement", "nr", "progression")
OVERALL_RESPONSE = ("cr", "pr", "improvement")


@dataclass(frozen=True)
class EndpointThresholds:
    best_response_last_day: int = 28  # 1: "best response during RUX up to day 28"
    non_responder_efs_days: int = 1  # 11: "A patient who never responds (NR and therapy changed) has EFS = 1 day"
    # An assessment up to this many days after the last dose still assesses ruxolitinib (see on_ruxolitinib).
    assessed_days_after_last_dose: int = 1


@dataclass(frozen=True)
class AssessedStatus:
    study_day: int
    assessment_date: date
    status: str  # cr, pr, improvement, progression, relapse, nr, not_assessable


@dataclass(frozen=True)
class EndpointInput:
    day0: date
    assessments: tuple[AssessedStatus, ...]
    treatment_end_date: date | None  # last dose, when RUX stopped
    therapy_changed: bool  # RUX discontinued or a subsequent therapy started
    death_date: date | None
    relapse_dates: tuple[date, ...]  # relapses recorded at follow-up contacts
    last_contact: date | None  # last_contact(): latest visit done, follow-up contact reached, or death
    data_cutoff: date | None


@dataclass(frozen=True)
class Endpoints:
    best_response: str | None
    best_response_day: int | None
    overall_response: bool
    efs_event: str  # "" when censored
    efs_event_date: date | None
    efs_days: int | None
    censored_on: date | None
    cr_first_day: int | None
    cr_duration_days: int | None
    explanation: str
    outside_analysis: str = ""  # why the patient is outside the data-cutoff analysis; "" when inside


def outside_cutoff_analysis(*, day0: date, data_cutoff: date | None) -> str:
    """Why a patient is outside the data-cutoff analysis, or "" when inside (section 11).

    An interim cutoff while enrollment goes on is normal: a patient whose first dose comes
    after it has no time on study at the cutoff, so none of their endpoints exist in that
    analysis. The first dose on the cutoff day is inside (day 0 is observed)."""
    if data_cutoff is not None and day0 > data_cutoff:
        return gettext("First dose after the data cutoff (%(day0)s > %(cutoff)s): outside this analysis.") % {
            "day0": day0.isoformat(),
            "cutoff": data_cutoff.isoformat(),
        }
    return ""


# The EFS events as the explanation names them (English: the codes' own words).
EVENT_WORDS = {
    "progression": gettext_noop("progression"),
    "relapse": gettext_noop("relapse"),
    "death": gettext_noop("death"),
}


def efs_explanation(*, event: str, event_date: date | None, efs_days: int | None, censored_on: date | None) -> str:
    """Why the EFS is what it is, in the active language (a stored result keeps the English; a
    page rebuilds it from the stored event, dates and days)."""
    if event == "no_response":
        return gettext("Never responded and therapy changed: EFS = %(days)s day (section 11).") % {"days": efs_days}
    if event:
        return gettext("First event: %(event)s on %(date)s, day %(days)s.") % {
            "event": gettext(EVENT_WORDS.get(event, event)),
            "date": event_date.isoformat() if event_date else "",
            "days": efs_days,
        }
    if censored_on:
        return gettext("No event: censored on %(date)s.") % {"date": censored_on.isoformat()}
    return gettext("No event and no follow-up yet.")


LOST_TO_FOLLOW_UP = "lost"  # the follow-up form's vital status when the patient could not be reached


def last_contact(
    *,
    day0: date,
    visit_dates: tuple[date, ...],
    follow_ups: tuple[tuple[date, str], ...],
    death_date: date | None,
) -> date | None:
    """The patient's last contact on study (section 11, "last follow-up"): the latest visit done,
    follow-up contact (date, vital status) at which the patient was reached, or death.

    It is the one date both EFS censoring and the follow-up time stop at. A follow-up recorded
    as lost to follow-up is the day the site gave up, not a contact: the patient was last known
    on the contact before it. A date before day 0 (a baseline visit before the first dose) is
    before treatment, not follow-up."""
    reached = [on for on, vital_status in follow_ups if vital_status != LOST_TO_FOLLOW_UP]
    dates = [*visit_dates, *reached, *([death_date] if death_date else [])]
    on_study = [d for d in dates if d >= day0]
    return max(on_study) if on_study else None


def observed_until(*, last_contact: date | None, data_cutoff: date | None) -> date | None:
    """The last day a patient is observed in the analysis: the last contact, capped at the
    data cutoff (section 11: "censored at last follow-up or the data cutoff date"). Without a
    contact nothing is observed yet, whatever the cutoff."""
    if last_contact is None:
        return None
    return min(last_contact, data_cutoff) if data_cutoff is not None else last_contact


def on_ruxolitinib(
    assessment_date: date,
    *,
    last_dose_date: date | None,
    days_after_last_dose: int = EndpointThresholds.assessed_days_after_last_dose,
) -> bool:
    """Whether an assessment on this date still assesses ruxolitinib (sections 1, 6, 7 and 11).

    An assessment judges the doses taken before it, and the protocol's own assessments come the
    day after a last dose: the day-28 visit ("primary response") follows the last dose of a
    completed course (treatment day 28 is study day 27, section 6), and the day-3 check follows
    "no response after 3 days" of doses (study days 0-2). So an assessment up to
    `days_after_last_dose` after the last dose is during ruxolitinib; a later one assesses
    whatever came after it. While no end of treatment is recorded, every assessment is.
    """
    return last_dose_date is None or assessment_date <= last_dose_date + timedelta(days=days_after_last_dose)


def best_response(
    assessments: tuple[AssessedStatus, ...],
    *,
    last_day: int,
    stopped_on: date | None,
    days_after_last_dose: int = EndpointThresholds.assessed_days_after_last_dose,
):
    """The best response during ruxolitinib up to day 28 (section 1 and 11).

    Recording the end of treatment never takes away a response assessed while on the drug:
    the assessment the day after the last dose (day 3 after three days of doses, day 28 after a
    completed course) still counts (on_ruxolitinib)."""
    eligible = [
        a
        for a in assessments
        if a.status in RESPONSE_RANK
        and a.study_day <= last_day
        and on_ruxolitinib(a.assessment_date, last_dose_date=stopped_on, days_after_last_dose=days_after_last_dose)
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda a: (RESPONSE_RANK.index(a.status), a.study_day))


def endpoints_compute(data: EndpointInput, t: EndpointThresholds = EndpointThresholds()) -> Endpoints:
    """Best response, CR durability and EFS of one patient (section 11).

    EFS runs from the first dose (day 0) to the first progression, relapse or death. A patient
    who never responds and whose therapy changed has EFS = 1 day. Without an event it is
    censored at the last contact, or at the data cutoff when that comes first. Only data up to
    the cutoff count; a patient whose first dose is after it is outside the analysis and has
    no endpoints (outside_cutoff_analysis).
    """
    outside = outside_cutoff_analysis(day0=data.day0, data_cutoff=data.data_cutoff)
    if outside:
        unknown = ("best_response", "best_response_day", "efs_event_date", "efs_days", "censored_on")
        unknown += ("cr_first_day", "cr_duration_days")
        nothing = {"overall_response": False, "efs_event": "", **dict.fromkeys(unknown)}
        return Endpoints(**nothing, explanation=outside, outside_analysis=outside)
    assessed = tuple(a for a in data.assessments if data.data_cutoff is None or a.assessment_date <= data.data_cutoff)
    best = best_response(
        assessed,
        last_day=t.best_response_last_day,
        stopped_on=data.treatment_end_date,
        days_after_last_dose=t.assessed_days_after_last_dose,
    )
    events: list[tuple[date, str]] = [
        (a.assessment_date, a.status) for a in assessed if a.status in ("progression", "relapse")
    ]
    events += [(d, "relapse") for d in data.relapse_dates]
    if data.death_date is not None:
        events.append((data.death_date, "death"))
    if data.data_cutoff is not None:
        events = [e for e in events if e[0] <= data.data_cutoff]
    # "Never responds" is to ruxolitinib: a response under the therapy that followed it (a CR on
    # HLH-1994 at a follow-up visit) does not undo a non-response to the trial drug.
    ever_responded = any(
        a.status in OVERALL_RESPONSE
        and on_ruxolitinib(
            a.assessment_date,
            last_dose_date=data.treatment_end_date,
            days_after_last_dose=t.assessed_days_after_last_dose,
        )
        for a in assessed
    )
    non_responder = data.therapy_changed and not ever_responded and (best is None or best.status == "nr")

    cr_days = sorted(a.study_day for a in assessed if a.status == "cr")
    cr_first = cr_days[0] if cr_days else None
    event_date, event, efs_days, censored_on = None, "", None, None
    if non_responder:
        event, efs_days = "no_response", t.non_responder_efs_days
    elif events:
        event_date, event = min(events)
        efs_days = max(0, (event_date - data.day0).days)  # a date before day 0 is an entry error, not < 0 days
    else:
        censored_on = observed_until(last_contact=data.last_contact, data_cutoff=data.data_cutoff)
        efs_days = max(0, (censored_on - data.day0).days) if censored_on else None
    why = efs_explanation(event=event, event_date=event_date, efs_days=efs_days, censored_on=censored_on)

    cr_duration = None
    if cr_first is not None:
        cr_start = data.day0.toordinal() + cr_first
        end = None
        relapse_after = sorted(d for d, kind in events if kind in ("relapse", "progression", "death"))
        relapse_after = [d for d in relapse_after if d.toordinal() >= cr_start]
        if relapse_after:
            end = relapse_after[0]
        else:
            end = observed_until(last_contact=data.last_contact, data_cutoff=data.data_cutoff)
        if end is not None:
            cr_duration = max(0, end.toordinal() - cr_start)
    return Endpoints(
        best_response=best.status if best else None,
        best_response_day=best.study_day if best else None,
        overall_response=bool(best and best.status in OVERALL_RESPONSE),
        efs_event=event,
        efs_event_date=event_date,
        efs_days=efs_days,
        censored_on=censored_on,
        cr_first_day=cr_first,
        cr_duration_days=cr_duration,
        explanation=why,
    )


@dataclass(frozen=True)
class FollowUpTime:
    days: int | None
    ended_by: str  # "death", "last_contact", "data_cutoff"; "" when there is no follow-up time
    explanation: str


def follow_up_time(
    *, day0: date, death_date: date | None, last_contact: date | None, data_cutoff: date | None
) -> FollowUpTime:
    """How long a patient has been followed (section 11, "as a publication would"): from the first
    dose (day 0) to death, else to the last contact (last_contact), capped at the data cutoff.

    Not the EFS time: follow-up goes on after an event (a never-responder's EFS of 1 day
    says nothing of how long they were followed). A patient outside the cutoff analysis, or
    without a contact on or after day 0, has no follow-up time."""
    outside = outside_cutoff_analysis(day0=day0, data_cutoff=data_cutoff)
    if outside:
        return FollowUpTime(None, "", outside)
    end, ended_by = (death_date, "death") if death_date is not None else (last_contact, "last_contact")
    if end is None:
        return FollowUpTime(None, "", gettext("No contact since the first dose yet."))
    if data_cutoff is not None and end > data_cutoff:
        end, ended_by = data_cutoff, "data_cutoff"
    days = max(0, (end - day0).days)
    text = gettext("Followed from %(start)s to %(end)s (%(ended_by)s): %(days)s days.") % {
        "start": day0.isoformat(),
        "end": end.isoformat(),
        "ended_by": ended_by,
        "days": days,
    }
    return FollowUpTime(days, ended_by, text)
