"""Writes for the study drug, the end of treatment, subsequent therapy, follow-up and death.

Each write runs in one transaction that first locks the patient's row, so two users (or a
double click) on the same patient are serialised; each keeps its history with a reason;
an update names the version it was loaded with (optimistic locking, trial.versioning).
Input that cannot be saved raises django.core.exceptions.ValidationError as
{field: message}, the message naming the limit. The patient's status is derived from the
recorded facts after every write (patients.rules.treatment.patient_status_derive).
"""

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crf.catalogue import target_of
from crf.edit_checks import auto_queries_live, auto_query_sync
from crf.outbox import responses_recompute_queue
from crf.transactions import retried
from crf.writes import record_lock_for_update, record_save, records_create
from patients import selectors
from patients.models import Death, DoseAdministration, FollowUp, Patient, SubsequentTherapy, TreatmentEnd
from patients.rules.treatment import (
    DoseStatus,
    GivenDose,
    IntervalProblem,
    OffBandDose,
    ScheduledDose,
    administration_time_check,
    dose_amount_problem,
    dose_check,
    dose_interval_problem,
    dose_label,
    dose_neighbours,
    off_band_decisions,
    patient_status_derive,
    slots_for,
    study_day,
    treatment_day_date,
    treatment_end_problems,
    weight_band_change,
)
from patients.services.locking import patient_lock
from trial import clock
from trial.clock import site_today, zone_of
from trial.text_columns import column_errors

CENT = Decimal("0.01")


# Shared pieces


def _lock_patient(patient: Patient) -> Patient:
    return patient_lock(patient.pk, related=("site__trial",))


def _raise(errors: dict[str, list[ValidationError]]) -> None:
    if errors:
        raise ValidationError(errors)


def _add(errors: dict[str, list[ValidationError]], field: str, message: str, *, code: str = "invalid") -> None:
    """One field error with its stable code (docs/api.md, "Error codes")."""
    errors.setdefault(field, []).append(ValidationError(message, code=code))


def _require_change_reason(reason_for_change: str | None) -> str:
    reason = (reason_for_change or "").strip()
    if not reason:
        raise ValidationError(
            {
                "reason_for_change": ValidationError(
                    "A reason for change is required to change saved data.", code="reason_required"
                )
            }
        )
    return reason


def _same(record, values: dict) -> bool:
    return all(getattr(record, field) == value for field, value in values.items())


def _apply(record, values: dict) -> None:
    for field, value in values.items():
        setattr(record, field, value)


def _save_or_update(
    *,
    model,
    existing,
    values: dict,
    create: dict,
    user,
    created_reason: str,
    expected_version: int | None,
    reason_for_change: str | None,
    duplicate_message: tuple[str, str],
):
    """Create the record, or update it under optimistic locking.

    Without an expected version an identical record is returned as it is (a repeated
    submit is harmless) and a different one is refused: changing saved data needs the
    version the user saw and a reason.
    """
    if existing is None:
        record = model(**create, **values)
        record_save(record=record, user=user, reason=created_reason, created=True)
        return record
    if expected_version is None:
        if _same(existing, values):
            return existing
        raise ValidationError({duplicate_message[0]: duplicate_message[1]})
    reason = _require_change_reason(reason_for_change)
    record = record_lock_for_update(model=model, pk=existing.pk, expected_version=expected_version)
    if _same(record, values):
        return record
    _apply(record, values)
    record_save(record=record, user=user, reason=reason)
    return record


def _endpoints_refresh_after_commit(patient: Patient) -> None:
    """Outcome records feed best response and EFS (section 11): re-run the patient's assessments."""
    responses_recompute_queue(patient_id=patient.pk)


def _status_refresh(*, patient: Patient, user, why: str) -> None:
    """Set the status that the recorded facts give (sections 6 and 11); no write when unchanged."""
    _endpoints_refresh_after_commit(patient)
    end = TreatmentEnd.objects.filter(patient=patient).first()
    latest = FollowUp.objects.filter(patient=patient).order_by("-assessed_on").first()
    decision = patient_status_derive(
        treatment_end_reason=None if end is None else end.reason,
        dead=Death.objects.filter(patient=patient).exists(),
        lost_to_follow_up=latest is not None and latest.vital_status == FollowUp.VitalStatus.LOST,
    )
    if patient.status != decision.status.value:
        patient.status = decision.status.value
        record_save(record=patient, user=user, reason=f"{why}. {decision.explanation}")


def _as_decimal(value, field: str, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        _add(errors, field, f"Enter a number, not {value!r}.", code="not_a_number")
        return None
    if not amount.is_finite():
        _add(errors, field, "Enter a finite number.", code="not_finite")
        return None
    if amount != amount.quantize(CENT):
        _add(errors, field, "Enter at most 2 decimal places (0.01 mg).", code="max_decimal_places")
        return None
    return amount


def _latest_dose_date(patient: Patient, *, given_only: bool) -> date | None:
    doses = DoseAdministration.objects.filter(patient=patient)
    if given_only:
        doses = doses.filter(status=DoseAdministration.Status.GIVEN)
    day = doses.order_by("-treatment_day").values_list("treatment_day", flat=True).first()
    return None if day is None else treatment_day_date(patient.first_dose_date, day)


# Study drug (section 6)

# Stable codes of the dose refusals a caller may answer (patients.views, api).
DOSE_INTERVAL_SHORT = "dose_interval_short"
DOSE_ALREADY_RECORDED = "dose_already_recorded"


class DoseAlreadyRecorded(ValidationError):
    """A repeated or stale submit for a slot already recorded: nothing was changed."""

    def __init__(self, dose: DoseAdministration, *, patient: Patient | None = None):
        self.dose = dose
        patient = patient or dose.patient
        message = _(
            "%(dose)s is already recorded as %(shown)s; nothing changed. Open it to change it with a reason for change."
        ) % {
            "dose": _dose_label(patient, dose.treatment_day, dose.slot),
            "shown": _dose_shown(dose, zone_of(patient.site)),
        }
        super().__init__({"slot": ValidationError(message, code=DOSE_ALREADY_RECORDED)})


def needs_interval_confirmation(exc: ValidationError) -> bool:
    """Whether a refusal is only the short interval, which the caller may confirm."""
    errors = getattr(exc, "error_dict", {})
    return set(errors) == {"administered_at"} and all(e.code == DOSE_INTERVAL_SHORT for e in errors["administered_at"])


def _dose_shown(dose: DoseAdministration, zone) -> str:
    """'given at 08:02', 'missed': how a recorded dose reads in a message."""
    shown = dose.get_status_display().lower()
    if dose.administered_at:
        shown = _("%(status)s at %(time)s") % {
            "status": shown,
            "time": dose.administered_at.astimezone(zone).strftime("%H:%M"),
        }
    return shown


def _dose_label(patient: Patient, treatment_day: int, slot: str) -> str:
    on = treatment_day_date(patient.first_dose_date, treatment_day)
    return _("The %(dose)s (%(date)s)") % {"dose": dose_label(slot, treatment_day), "date": on.isoformat()}


def _given(rows, zone) -> dict[tuple[int, str], GivenDose]:
    """(treatment_day, slot, administered_at) rows as the rule's given doses, on the site's clock."""
    return {(day, slot): GivenDose(day, slot, at.astimezone(zone)) for day, slot, at in rows}


@dataclass(frozen=True)
class _DoseContext:
    """What every dose check of one patient reads, loaded once for a batch."""

    patient: Patient
    trial: object
    zone: object
    today: date
    now: datetime
    end: TreatmentEnd | None
    death: Death | None
    given: dict[tuple[int, str], GivenDose]  # the doses recorded as given, by slot

    @classmethod
    def load(cls, patient: Patient) -> "_DoseContext":
        zone = zone_of(patient.site)
        given = DoseAdministration.objects.filter(patient=patient, status=DoseAdministration.Status.GIVEN)
        return cls(
            patient=patient,
            trial=patient.site.trial,
            zone=zone,
            today=site_today(patient.site),
            now=clock.now(),
            end=TreatmentEnd.objects.filter(patient=patient).first(),
            death=Death.objects.filter(patient=patient).first(),
            given=_given(given.values_list("treatment_day", "slot", "administered_at"), zone),
        )

    def interval_problem(self, *, key: tuple[int, str], at: datetime, given=None, later=None) -> IntervalProblem | None:
        """The short interval between a dose given `at` and the other given doses (not its own slot).

        The previous dose is looked for in `given` (default the recorded doses), the next one
        in `later` (default `given`): a batch judges each of its doses against the doses before
        it, its own included, and the recorded ones after it, so one short pair needs one
        confirmation, on its later dose.
        """
        given = self.given if given is None else given
        later = given if later is None else later
        previous, _ = dose_neighbours((dose for slot, dose in given.items() if slot != key), at)
        _, following = dose_neighbours((dose for slot, dose in later.items() if slot != key), at)
        return dose_interval_problem(
            administered=at,
            previous=previous,
            following=following,
            min_interval_hours=self.trial.min_dose_interval_hours,
        )


def _scheduled_day(trial, treatment_day) -> bool:
    return (
        isinstance(treatment_day, int)
        and not isinstance(treatment_day, bool)
        and 1 <= treatment_day <= trial.treatment_days
    )


def _dose_values(
    context: _DoseContext,
    *,
    treatment_day: int,
    slot: str,
    status: str,
    administered_at: datetime | None,
    amount_mg,
    reason: str,
    confirm_short_interval: bool = False,
    given: dict[tuple[int, str], GivenDose] | None = None,
    later: dict[tuple[int, str], GivenDose] | None = None,
) -> tuple[dict, str]:
    """The checked values of one dose (section 6) and its label; ValidationError names each field.

    A given dose closer than the trial's minimum interval to another given dose (`given` and
    `later`, as _DoseContext.interval_problem reads them) is refused with the code
    DOSE_INTERVAL_SHORT unless `confirm_short_interval`; confirmed, it is saved flagged.
    """
    trial = context.trial
    errors: dict[str, list[ValidationError]] = {}
    if not _scheduled_day(trial, treatment_day):
        _add(
            errors, "treatment_day", f"Treatment day must be between 1 and {trial.treatment_days}.", code="out_of_range"
        )
    if slot not in slots_for(trial.doses_per_day):
        _add(errors, "slot", f"Slot must be one of {', '.join(slots_for(trial.doses_per_day))}.", code="invalid_choice")
    if status not in {s.value for s in DoseStatus}:
        _add(errors, "status", "Status must be given, missed or held.", code="invalid_choice")
    if not isinstance(confirm_short_interval, bool):
        _add(errors, "confirm_short_interval", "Confirm short interval: true or false.", code="not_boolean")
    _raise(errors)

    patient, zone = context.patient, context.zone
    scheduled = ScheduledDose(treatment_day, slot, treatment_day_date(patient.first_dose_date, treatment_day))
    label = _dose_label(patient, treatment_day, slot)
    shown_status = str(DoseAdministration.Status(status).label).lower()
    reason = (reason or "").strip()
    amount = _as_decimal(amount_mg, "amount_mg", errors)
    if status == DoseStatus.GIVEN:
        if administered_at is None:
            _add(
                errors,
                "administered_at",
                _("Time given: enter the date and time the dose was given."),
                code="required",
            )
        else:
            if timezone.is_naive(administered_at):
                administered_at = timezone.make_aware(administered_at, zone)
            now = context.now
            local = timezone.localtime(administered_at, zone)
            if administered_at > now:
                _add(
                    errors,
                    "administered_at",
                    _("Time given cannot be in the future (after %(now)s site time).")
                    % {"now": now.astimezone(zone).strftime("%Y-%m-%d %H:%M")},
                    code="date_in_future",
                )
            timing = administration_time_check(scheduled=scheduled, administered_local=local.replace(tzinfo=None))
            if not timing.on_schedule:
                _add(errors, "administered_at", timing.explanation, code="dose_off_schedule")
        if "amount_mg" not in errors:
            problem = dose_amount_problem(None if amount is None else float(amount))
            if problem:
                _add(errors, "amount_mg", problem, code="dose_amount")
    else:
        if not reason:
            _add(errors, "reason", _("A %(status)s dose needs its reason.") % {"status": shown_status}, code="required")
        if administered_at is not None:
            _add(
                errors,
                "administered_at",
                _("A %(status)s dose has no time given; leave it empty.") % {"status": shown_status},
                code="not_applicable",
            )
        if amount is not None:
            _add(
                errors,
                "amount_mg",
                _("A %(status)s dose has no amount; leave it empty.") % {"status": shown_status},
                code="not_applicable",
            )
        if scheduled.date > context.today:
            _add(
                errors,
                "treatment_day",
                _("%(dose)s is in the future; it cannot be recorded as %(status)s yet.")
                % {"dose": label, "status": shown_status},
                code="date_in_future",
            )
    end = context.end
    if end is not None and scheduled.date > end.last_dose_date:
        _add(
            errors,
            "treatment_day",
            _("%(dose)s is after the end of treatment (last dose %(date)s); change the end of treatment first.")
            % {"dose": label, "date": end.last_dose_date.isoformat()},
        )
    death = context.death
    if death is not None and scheduled.date > death.date_of_death:
        _add(
            errors,
            "treatment_day",
            _("%(dose)s is after the date of death (%(date)s).")
            % {"dose": label, "date": death.date_of_death.isoformat()},
            code="after_death",
        )
    _raise(errors)
    interval = None
    if status == DoseStatus.GIVEN:
        at = timezone.localtime(administered_at, zone)
        interval = context.interval_problem(key=(treatment_day, slot), at=at, given=given, later=later)
        if interval is not None and not confirm_short_interval:
            message = f"{interval.explanation} To record it anyway, confirm the short interval."
            params = {"neighbour_at": interval.neighbour.at.isoformat(), "minimum_hours": trial.min_dose_interval_hours}
            raise ValidationError(
                {"administered_at": ValidationError(message, code=DOSE_INTERVAL_SHORT, params=params)}
            )
    values = {
        "status": status,
        "administered_at": administered_at if status == DoseStatus.GIVEN else None,
        "amount_mg": amount if status == DoseStatus.GIVEN else None,
        "reason": reason,
        "short_interval": interval is not None,
        "short_interval_note": f"Confirmed at entry: {interval.explanation}" if interval else "",
    }
    return values, label


def _dose_deviation(values: dict, expected_mg) -> None:
    check = dose_check(
        values["status"], None if values["amount_mg"] is None else float(values["amount_mg"]), float(expected_mg)
    )
    values["deviation"] = check.deviation
    values["deviation_note"] = check.explanation if check.deviation else ""


OFF_BAND_CHECK = "dose.off_band"
SHORT_INTERVAL_CHECK = "dose.short_interval"


def _off_band_queries_sync(patient: Patient) -> None:
    """One query per prescribing decision behind the doses given off the band (section 6).

    A dose given at a prescribed amount is the prescription's deviation, queried once on the
    prescription (patients.services.enrollment); each amount never prescribed is one decision,
    queried on its first dose, and closed once no dose at that amount deviates. Older queries
    on single doses of one decision are closed as superseded by the decision's query.
    """
    doses = list(
        DoseAdministration.objects.filter(patient=patient, status=DoseAdministration.Status.GIVEN, deviation=True)
    )
    key_of = {(d.treatment_day, d.slot): d for d in doses}
    decisions = ()
    if doses:
        prescribed = {patient.prescribed_dose_mg, *patient.history.values_list("prescribed_dose_mg", flat=True)}
        decisions = off_band_decisions(
            (OffBandDose(d.treatment_day, d.slot, float(d.amount_mg), float(d.expected_mg)) for d in doses),
            prescribed_mg=(float(p) for p in prescribed if p is not None),
        )
    live = auto_queries_live(patient=patient, check_code=OFF_BAND_CHECK)
    kept: set[str] = set()
    for decision in decisions:
        members = [key_of[(d.treatment_day, d.slot)] for d in decision.doses]
        anchor = next((dose for dose in members if target_of(dose) in live), members[0])
        kept.add(target_of(anchor))
        auto_query_sync(
            patient=patient,
            record=anchor,
            check_code=OFF_BAND_CHECK,
            failing=True,
            text=f"{decision.explanation} Protocol deviation (section 6): confirm the amounts given or correct them.",
            link=reverse("dose_log", args=[patient.pk]),
            field="amount_mg",
            live=live.get(target_of(anchor)),
        )
    for target, query in live.items():
        if target not in kept:
            auto_query_sync(
                patient=patient, record=query, check_code=OFF_BAND_CHECK, failing=False, text="", live=query
            )


def _short_interval_query_sync(*, patient: Patient, dose: DoseAdministration, **known) -> None:
    """A dose given less than the minimum interval from another, confirmed at entry, is queried."""
    auto_query_sync(
        patient=patient,
        record=dose,
        check_code=SHORT_INTERVAL_CHECK,
        failing=dose.short_interval,
        text=f"Treatment day {dose.treatment_day} ({dose.get_slot_display().lower()}): {dose.short_interval_note} "
        "Check the times given, or correct them.",
        link=reverse("dose_log", args=[patient.pk]),
        field="administered_at",
        **known,
    )


def _short_intervals_recheck(context: _DoseContext, *, written: DoseAdministration, user) -> None:
    """Clear the short-interval flag of other doses whose neighbour moved away (a correction).

    Only flagged doses are judged again, so no other record is rewritten when a dose is added.
    """
    flagged = list(
        DoseAdministration.objects.filter(patient=context.patient, short_interval=True).exclude(pk=written.pk)
    )
    if not flagged:
        return
    given = _given(
        DoseAdministration.objects.filter(patient=context.patient, status=DoseAdministration.Status.GIVEN).values_list(
            "treatment_day", "slot", "administered_at"
        ),
        context.zone,
    )
    for dose in flagged:
        key = (dose.treatment_day, dose.slot)
        if key not in given or context.interval_problem(key=key, at=given[key].at, given=given) is None:
            dose.short_interval, dose.short_interval_note = False, ""
            record_save(
                record=dose,
                user=user,
                reason=f"Short interval resolved by the change of treatment day {written.treatment_day} {written.slot}",
            )
            _short_interval_query_sync(patient=context.patient, dose=dose)


@retried
def dose_record(
    *,
    patient: Patient,
    treatment_day: int,
    slot: str,
    status: str,
    administered_at: datetime | None,
    amount_mg: Decimal | None,
    reason: str,
    user,
    expected_version: int | None = None,
    reason_for_change: str | None = None,
    expect_empty: bool = False,
    confirm_short_interval: bool = False,
) -> DoseAdministration:
    """Record one scheduled dose as given, missed or held (protocol section 6).

    A given dose needs its time and amount; the time falls on the scheduled date in the
    site's time zone (the evening dose also until 06:00 the next day), not in the future,
    and at least the trial's minimum interval from any other given dose unless
    `confirm_short_interval` (then flagged and queried). A missed or held dose needs a
    reason and has no time or amount. No dose is recorded for a date after a recorded end
    of treatment or death. The band's dose at the time of the first entry is kept on the
    row; an amount that differs from it is saved and flagged.

    Idempotent per slot: `expect_empty` says the caller saw the slot empty (a new-dose form,
    "Given now"); if it is recorded by now, DoseAlreadyRecorded is raised and nothing
    changes. Without it an identical repeat returns the dose as it is and a different one
    is refused the same way; changing a dose needs `expected_version` and a reason.
    """
    with transaction.atomic():
        patient = _lock_patient(patient)
        context = _DoseContext.load(patient)
        existing = None
        if _scheduled_day(context.trial, treatment_day) and slot in slots_for(context.trial.doses_per_day):
            existing = DoseAdministration.objects.filter(
                patient=patient, treatment_day=treatment_day, slot=slot
            ).first()
        if existing is not None and expected_version is None and expect_empty:
            raise DoseAlreadyRecorded(existing, patient=patient)
        already_confirmed = (
            existing is not None
            and existing.short_interval
            and administered_at is not None
            and existing.administered_at == administered_at
        )
        values, _label = _dose_values(
            context,
            treatment_day=treatment_day,
            slot=slot,
            status=status,
            administered_at=administered_at,
            amount_mg=amount_mg,
            reason=reason,
            confirm_short_interval=confirm_short_interval or already_confirmed,
        )
        expected_mg = patient.expected_dose_mg if existing is None else existing.expected_mg
        _dose_deviation(values, expected_mg)
        if existing is not None and expected_version is None and not _same(existing, values):
            raise DoseAlreadyRecorded(existing, patient=patient)
        dose = _save_or_update(
            model=DoseAdministration,
            existing=existing,
            values=values,
            create={"patient": patient, "treatment_day": treatment_day, "slot": slot, "expected_mg": expected_mg},
            user=user,
            created_reason=f"Dose recorded: day {treatment_day} {slot} {status}",
            expected_version=expected_version,
            reason_for_change=reason_for_change,
            duplicate_message=("slot", ""),  # refused above, with the dose as recorded
        )
        _short_intervals_recheck(context, written=dose, user=user)
        _short_interval_query_sync(patient=patient, dose=dose)
        _off_band_queries_sync(patient)
        return dose


@dataclass
class DoseBatchOutcome:
    created: list[DoseAdministration] = dataclass_field(default_factory=list)
    existing: int = 0
    errors: dict[int, ValidationError] = dataclass_field(default_factory=dict)


def _batch_given(context: _DoseContext, doses: list[dict], recorded: set) -> dict[tuple[int, str], GivenDose]:
    """The recorded given doses with the batch's new given doses, for the interval check."""
    given = dict(context.given)
    for item in doses:
        day, slot, at = item.get("treatment_day"), item.get("slot"), item.get("administered_at")
        usable = isinstance(day, int) and isinstance(slot, str) and isinstance(at, datetime)
        if usable and item.get("status") == DoseStatus.GIVEN and (day, slot) not in recorded:
            at = timezone.make_aware(at, context.zone) if timezone.is_naive(at) else at
            given.setdefault((day, slot), GivenDose(day, slot, at.astimezone(context.zone)))
    return given


@retried
def doses_record_new(*, patient: Patient, doses: list[dict], user) -> DoseBatchOutcome:
    """Record many new doses of one patient at once (bulk import), with dose_record's checks.

    Each item has dose_record's arguments (treatment_day, slot, status, administered_at,
    amount_mg, reason, confirm_short_interval). Every item is checked first, the minimum
    interval against the recorded doses and the batch's other doses; if any fails, nothing
    is written and the errors are returned by the item's index. A dose already recorded for
    the day and slot is left as it is (counted in `existing`; changing it is dose_record's,
    with a reason). The new doses are written in one statement with their history rows.
    """
    outcome = DoseBatchOutcome()
    with transaction.atomic():
        patient = _lock_patient(patient)
        context = _DoseContext.load(patient)
        existing = set(DoseAdministration.objects.filter(patient=patient).values_list("treatment_day", "slot"))
        given = _batch_given(context, doses, existing)
        seen: set[tuple[int, str]] = set()
        pending: list[DoseAdministration] = []
        for index, item in enumerate(doses):
            try:
                values, label = _dose_values(
                    context,
                    treatment_day=item.get("treatment_day"),
                    slot=item.get("slot"),
                    status=item.get("status"),
                    administered_at=item.get("administered_at"),
                    amount_mg=item.get("amount_mg"),
                    reason=item.get("reason") or "",
                    confirm_short_interval=item.get("confirm_short_interval", False),
                    given=given,
                    later=context.given,
                )
            except ValidationError as exc:
                outcome.errors[index] = exc
                continue
            key = (item["treatment_day"], item["slot"])
            if key in seen:
                outcome.errors[index] = ValidationError({"slot": f"{label} is given twice in this batch."})
                continue
            seen.add(key)
            if key in existing:
                outcome.existing += 1
                continue
            _dose_deviation(values, patient.expected_dose_mg)
            dose = DoseAdministration(
                patient=patient,
                treatment_day=key[0],
                slot=key[1],
                expected_mg=patient.expected_dose_mg,
                created_by=user if getattr(user, "is_authenticated", False) else None,
                updated_by=user if getattr(user, "is_authenticated", False) else None,
                **values,
            )
            if too_long := column_errors(dose):  # as record_save checks a single dose
                outcome.errors[index] = ValidationError(too_long)
                continue
            pending.append(dose)
        if outcome.errors or not pending:
            return outcome
        from crf.locks import lock_check

        for dose in pending:  # a visit lock covers the doses dated in its window, not the patient's all
            lock_check(dose)
        outcome.created = records_create(
            records=pending,
            model=DoseAdministration,
            user=user,
            reason=gettext_noop("Dose recorded (bulk import)"),
            check_lock=False,
        )
        for dose in outcome.created:
            if dose.short_interval:
                _short_interval_query_sync(patient=patient, dose=dose, live=None)
        if any(dose.deviation for dose in outcome.created):
            _off_band_queries_sync(patient)
    return outcome


def dose_given_now(
    *, patient: Patient, treatment_day: int, slot: str, user, expect_empty: bool = False
) -> DoseAdministration:
    """The bedside shortcut: the prescribed dose given now (protocol section 6).

    The amount is the prescribed dose, what the nurse gives; when it differs from the
    band's dose every such dose is flagged as a deviation, as the prescription was. A dose
    less than the minimum interval after another is refused (DOSE_INTERVAL_SHORT): the
    caller offers the dose form with the confirmation instead.
    """
    return dose_record(
        patient=patient,
        treatment_day=treatment_day,
        slot=slot,
        status=DoseStatus.GIVEN.value,
        administered_at=clock.now().replace(second=0, microsecond=0),
        amount_mg=patient.prescribed_dose_mg,
        reason="",
        user=user,
        expect_empty=expect_empty,
    )


def weight_band_check(*, patient: Patient, weight_kg: Decimal | float, measured_on: date | None = None) -> str | None:
    """A warning when a weight re-measured during treatment falls in another dose band (section 6).

    Returns the explanation to raise as a query, or None when the weight stays in the
    enrollment band or was measured outside the treatment period (before day 0, or after
    the last dose / treatment day 28) when `measured_on` is given. The dose is not changed.
    Raises ValidationError({"weight_kg": ...}) for a weight no band covers (<= 0 kg).
    """
    if measured_on is not None:
        end = TreatmentEnd.objects.filter(patient=patient).values_list("last_dose_date", flat=True).first()
        last = end or treatment_day_date(patient.first_dose_date, patient.site.trial.treatment_days)
        if not patient.first_dose_date <= measured_on <= last:
            return None
    try:
        change = weight_band_change(
            float(patient.enrollment_weight_kg), float(weight_kg), selectors.dose_bands(patient.site)
        )
    except ValueError as exc:
        raise ValidationError({"weight_kg": str(exc)}) from exc
    return change.explanation if change.changed else None


# End of treatment (section 6)


@retried
def treatment_end_record(
    *,
    patient: Patient,
    outcome: str,
    reason: str,
    last_dose_date: date,
    user,
    reason_detail: str = "",
    expected_version: int | None = None,
    reason_for_change: str | None = None,
) -> TreatmentEnd:
    """Record (or correct) the end of ruxolitinib: completed 28 days, or discontinued with its reason.

    Sets the patient's status: follow-up, or off study after death or withdrawn consent.
    """
    with transaction.atomic():
        patient = _lock_patient(patient)
        errors: dict[str, list[ValidationError]] = {}
        reason = reason or ""
        if outcome not in TreatmentEnd.Outcome.values:
            _add(errors, "outcome", "Outcome must be completed or discontinued.", code="invalid_choice")
        if reason not in TreatmentEnd.Reason.values:
            _add(errors, "reason", f"Unknown reason {reason!r}.", code="invalid_choice")
        if last_dose_date is None:
            _add(errors, "last_dose_date", _("Enter the date of the last dose."), code="required")
        _raise(errors)
        death = Death.objects.filter(patient=patient).first()
        problems = treatment_end_problems(
            day0=patient.first_dose_date,
            outcome=outcome,
            reason=reason,
            reason_detail=reason_detail or "",
            last_dose_date=last_dose_date,
            today=site_today(patient.site),
            treatment_days=patient.site.trial.treatment_days,
            latest_given_dose_date=_latest_dose_date(patient, given_only=True),
            date_of_death=None if death is None else death.date_of_death,
        )
        for problem in problems:
            _add(errors, problem.field, problem.message, code=problem.code)
        _raise(errors)
        values = {
            "outcome": outcome,
            "reason": reason,
            "reason_detail": (reason_detail or "").strip(),
            "last_dose_date": last_dose_date,
            "study_day": study_day(patient.first_dose_date, last_dose_date),
        }
        record = _save_or_update(
            model=TreatmentEnd,
            existing=TreatmentEnd.objects.filter(patient=patient).first(),
            values=values,
            create={"patient": patient},
            user=user,
            created_reason=gettext_noop("Treatment end recorded"),
            expected_version=expected_version,
            reason_for_change=reason_for_change,
            duplicate_message=(
                "outcome",
                _("The end of treatment is already recorded; edit it with a reason for change."),
            ),
        )
        _status_refresh(patient=patient, user=user, why=f"Treatment end: {record.get_outcome_display()}")
        return record


# Subsequent therapy (section 6: "usually HLH-1994: etoposide + dexamethasone +/- cyclosporine A")


def _therapy_values(
    *,
    patient: Patient,
    regimen: str,
    start_date: date,
    etoposide: bool,
    dexamethasone: bool,
    cyclosporine: bool,
    other_drugs: str,
    response: str,
    outcome: str,
) -> dict:
    errors: dict[str, list[ValidationError]] = {}
    if regimen not in SubsequentTherapy.Regimen.values:
        _add(errors, "regimen", "Regimen must be HLH-1994 or other.", code="invalid_choice")
    if (response or "") not in SubsequentTherapy.Response.values:
        _add(errors, "response", f"Unknown response {response!r}.", code="invalid_choice")
    other_drugs = (other_drugs or "").strip()
    if regimen == SubsequentTherapy.Regimen.HLH_1994 and not (etoposide and dexamethasone):
        _add(
            errors,
            "regimen",
            _("HLH-1994 is etoposide + dexamethasone (+/- cyclosporine A): tick both."),
            code="regimen_drugs",
        )
    if regimen == SubsequentTherapy.Regimen.OTHER and not (etoposide or dexamethasone or cyclosporine or other_drugs):
        _add(errors, "other_drugs", _("Name the drugs of the other regimen."), code="required")
    end = TreatmentEnd.objects.filter(patient=patient).first()
    if start_date is None:
        _add(errors, "start_date", _("Enter the start date."), code="required")
    elif end is None:
        _add(
            errors,
            "start_date",
            _("Subsequent therapy follows ruxolitinib (protocol section 6): record the end of treatment first."),
        )
    else:
        if start_date < end.last_dose_date:
            _add(
                errors,
                "start_date",
                _("Start date cannot be before the last ruxolitinib dose (%(date)s).")
                % {"date": end.last_dose_date.isoformat()},
            )
        today = site_today(patient.site)
        if start_date > today:
            _add(
                errors,
                "start_date",
                _("Start date cannot be in the future (after %(date)s).") % {"date": today.isoformat()},
                code="date_in_future",
            )
        death = Death.objects.filter(patient=patient).first()
        if death is not None and start_date > death.date_of_death:
            _add(
                errors,
                "start_date",
                _("Start date cannot be after the date of death (%(date)s).") % {"date": death.date_of_death},
                code="after_death",
            )
    _raise(errors)
    return {
        "regimen": regimen,
        "start_date": start_date,
        "etoposide": bool(etoposide),
        "dexamethasone": bool(dexamethasone),
        "cyclosporine": bool(cyclosporine),
        "other_drugs": other_drugs,
        "response": response or "",
        "outcome": (outcome or "").strip(),
    }


@retried
def subsequent_therapy_record(
    *,
    patient: Patient,
    regimen: str,
    start_date: date,
    user,
    etoposide: bool = False,
    dexamethasone: bool = False,
    cyclosporine: bool = False,
    other_drugs: str = "",
    response: str = "",
    outcome: str = "",
) -> SubsequentTherapy:
    """Record the therapy that followed ruxolitinib, with its start date and outcome (section 6).

    The same regimen with the same start date is one therapy: submitting it twice returns
    the first when nothing differs, and is refused otherwise (edit it instead).
    """
    with transaction.atomic():
        patient = _lock_patient(patient)
        values = _therapy_values(
            patient=patient,
            regimen=regimen,
            start_date=start_date,
            etoposide=etoposide,
            dexamethasone=dexamethasone,
            cyclosporine=cyclosporine,
            other_drugs=other_drugs,
            response=response,
            outcome=outcome,
        )
        existing = SubsequentTherapy.objects.filter(patient=patient, regimen=regimen, start_date=start_date).first()
        return _save_or_update(
            model=SubsequentTherapy,
            existing=existing,
            values=values,
            create={"patient": patient},
            user=user,
            created_reason=gettext_noop("Subsequent therapy recorded"),
            expected_version=None,
            reason_for_change=None,
            duplicate_message=(
                "start_date",
                f"This regimen starting on {start_date} is already recorded; edit it with a reason for change.",
            ),
        )


@retried
def subsequent_therapy_update(
    *,
    therapy: SubsequentTherapy,
    regimen: str,
    start_date: date,
    user,
    expected_version: int,
    reason_for_change: str,
    etoposide: bool = False,
    dexamethasone: bool = False,
    cyclosporine: bool = False,
    other_drugs: str = "",
    response: str = "",
    outcome: str = "",
) -> SubsequentTherapy:
    """Correct a subsequent therapy or add its response and outcome (with a reason for change)."""
    with transaction.atomic():
        patient = _lock_patient(therapy.patient)
        reason = _require_change_reason(reason_for_change)
        values = _therapy_values(
            patient=patient,
            regimen=regimen,
            start_date=start_date,
            etoposide=etoposide,
            dexamethasone=dexamethasone,
            cyclosporine=cyclosporine,
            other_drugs=other_drugs,
            response=response,
            outcome=outcome,
        )
        clash = (
            SubsequentTherapy.objects.filter(patient=patient, regimen=regimen, start_date=start_date)
            .exclude(pk=therapy.pk)
            .exists()
        )
        if clash:
            raise ValidationError({"start_date": f"Another therapy of this regimen starts on {start_date}."})
        record = record_lock_for_update(model=SubsequentTherapy, pk=therapy.pk, expected_version=expected_version)
        if _same(record, values):
            return record
        _apply(record, values)
        record_save(record=record, user=user, reason=reason)
        return record


# Death (section 11: death is an event of event-free survival)


def _death_problems(
    *, patient: Patient, date_of_death: date | None, cause: str, errors: dict, field: str, cause_field: str
) -> None:
    if date_of_death is None:
        _add(errors, field, _("Enter the date of death."), code="required")
    else:
        today = site_today(patient.site)
        if date_of_death < patient.enrollment_date:
            _add(
                errors,
                field,
                _("Date of death cannot be before enrollment (%(date)s).")
                % {"date": patient.enrollment_date.isoformat()},
            )
        if date_of_death > today:
            _add(
                errors,
                field,
                _("Date of death cannot be in the future (after %(date)s).") % {"date": today.isoformat()},
                code="date_in_future",
            )
        last_dose = _latest_dose_date(patient, given_only=False)
        if last_dose is not None and last_dose > date_of_death:
            _add(
                errors,
                field,
                _("Date of death cannot be before a dose recorded for %(date)s.") % {"date": last_dose.isoformat()},
                code="before_last_dose",
            )
        end = TreatmentEnd.objects.filter(patient=patient).first()
        if end is not None and end.last_dose_date > date_of_death:
            _add(
                errors,
                field,
                _("Date of death cannot be before the last ruxolitinib dose (%(date)s).")
                % {"date": end.last_dose_date.isoformat()},
            )
        seen_alive = (
            FollowUp.objects.filter(patient=patient, assessed_on__gte=date_of_death)
            .exclude(vital_status=FollowUp.VitalStatus.DEAD)
            .order_by("-assessed_on")
            .first()
        )
        if seen_alive is not None:
            _add(
                errors,
                field,
                _("Date of death cannot be before the follow-up of %(date)s (%(status)s).")
                % {"date": seen_alive.assessed_on.isoformat(), "status": seen_alive.get_vital_status_display().lower()},
            )
        reported_earlier = FollowUp.objects.filter(
            patient=patient, vital_status=FollowUp.VitalStatus.DEAD, assessed_on__lt=date_of_death
        ).first()
        if reported_earlier is not None:
            _add(
                errors,
                field,
                _("Date of death cannot be after the follow-up of %(date)s that reported it.")
                % {"date": reported_earlier.assessed_on.isoformat()},
            )
    if not (cause or "").strip():
        _add(errors, cause_field, _("Enter the cause of death."), code="required")


@retried
def death_record(
    *,
    patient: Patient,
    date_of_death: date,
    cause: str,
    user,
    hlh_related: bool | None = None,
    expected_version: int | None = None,
    reason_for_change: str | None = None,
) -> Death:
    """Record (or correct) a death; the patient goes off study (sections 6 and 11)."""
    with transaction.atomic():
        patient = _lock_patient(patient)
        errors: dict[str, list[ValidationError]] = {}
        _death_problems(
            patient=patient,
            date_of_death=date_of_death,
            cause=cause,
            errors=errors,
            field="date_of_death",
            cause_field="cause",
        )
        _raise(errors)
        record = _save_or_update(
            model=Death,
            existing=Death.objects.filter(patient=patient).first(),
            values={"date_of_death": date_of_death, "cause": cause.strip(), "hlh_related": hlh_related},
            create={"patient": patient},
            user=user,
            created_reason=gettext_noop("Death recorded"),
            expected_version=expected_version,
            reason_for_change=reason_for_change,
            duplicate_message=("date_of_death", "A death is already recorded; edit it with a reason for change."),
        )
        _status_refresh(patient=patient, user=user, why="Death recorded")
        return record


# Follow-up (sections 7 and 11: relapse check and survival)


@retried
def follow_up_record(
    *,
    patient: Patient,
    assessed_on: date,
    vital_status: str,
    user,
    hlh_relapse: bool | None = None,
    notes: str = "",
    visit=None,
    date_of_death: date | None = None,
    death_cause: str = "",
    death_hlh_related: bool | None = None,
    follow_up_id: int | None = None,
    expected_version: int | None = None,
    reason_for_change: str | None = None,
) -> FollowUp:
    """Record the patient's status at a follow-up contact: alive, dead or lost.

    "Dead" needs the death: the recorded one, or one created here from `date_of_death` and
    `death_cause`. Dead or lost puts the patient off study; a later contact alive brings a
    patient once lost back to follow-up. One follow-up per date: a repeated identical
    submit returns the first. A correction names the follow-up (`follow_up_id`), the version
    the user loaded and a reason for change; its date may move to a day without another contact.
    """
    with transaction.atomic():
        patient = _lock_patient(patient)
        corrected = None
        if follow_up_id is not None:
            corrected = FollowUp.objects.filter(pk=follow_up_id, patient=patient).first()
            if corrected is None:
                raise ValidationError({"follow_up": "No such follow-up of this patient."})
        errors: dict[str, list[ValidationError]] = {}
        if vital_status not in FollowUp.VitalStatus.values:
            _add(
                errors, "vital_status", "Vital status must be alive, dead or lost to follow-up.", code="invalid_choice"
            )
        _raise(errors)
        if assessed_on is None:
            _add(errors, "assessed_on", "Enter the date of the follow-up.", code="required")
            _raise(errors)
        today = site_today(patient.site)
        if assessed_on < patient.first_dose_date:
            _add(
                errors,
                "assessed_on",
                _("Follow-up date cannot be before day 0, the first dose (%(date)s).")
                % {"date": patient.first_dose_date.isoformat()},
            )
        if assessed_on > today:
            _add(
                errors,
                "assessed_on",
                _("Follow-up date cannot be in the future (after %(date)s).") % {"date": today.isoformat()},
                code="date_in_future",
            )
        if visit is not None and visit.patient_id != patient.pk:
            _add(errors, "visit", "The visit belongs to another patient.", code="wrong_patient")
        death = Death.objects.filter(patient=patient).first()
        death_given = date_of_death is not None or bool((death_cause or "").strip())
        create_death = False
        if vital_status == FollowUp.VitalStatus.DEAD:
            if death is None:
                _death_problems(
                    patient=patient,
                    date_of_death=date_of_death,
                    cause=death_cause,
                    errors=errors,
                    field="date_of_death",
                    cause_field="death_cause",
                )
                create_death = True
                died_on = date_of_death
            else:
                if date_of_death is not None and date_of_death != death.date_of_death:
                    _add(
                        errors,
                        "date_of_death",
                        _("A death on %(date)s is already recorded; correct it on the death page.")
                        % {"date": death.date_of_death.isoformat()},
                    )
                died_on = death.date_of_death
            if died_on is not None and assessed_on < died_on:
                _add(
                    errors,
                    "assessed_on",
                    _("A follow-up on %(date)s cannot report a death on %(died)s.")
                    % {"date": assessed_on.isoformat(), "died": died_on.isoformat()},
                )
        else:
            if death_given:
                _add(
                    errors,
                    "date_of_death",
                    _("Date and cause of death go with the vital status 'Dead'."),
                    code="death_needs_vital_status_dead",
                )
            if death is not None and assessed_on >= death.date_of_death:
                _add(
                    errors,
                    "vital_status",
                    f"The patient's death on {death.date_of_death.isoformat()} is recorded; a contact on "
                    f"{assessed_on.isoformat()} cannot find the patient {vital_status}.",
                )
        _raise(errors)
        if create_death:
            dead = Death(
                patient=patient,
                date_of_death=date_of_death,
                cause=death_cause.strip(),
                hlh_related=death_hlh_related,
            )
            record_save(
                record=dead, user=user, reason=f"Death reported at the follow-up of {assessed_on}", created=True
            )
        same_day = FollowUp.objects.filter(patient=patient, assessed_on=assessed_on)
        values = {
            "vital_status": vital_status,
            "hlh_relapse": hlh_relapse,
            "notes": (notes or "").strip(),
            "visit": visit,
        }
        duplicate = (
            "assessed_on",
            _("A follow-up on %(date)s is already recorded.") % {"date": assessed_on.isoformat()},
        )
        if corrected is not None:
            if same_day.exclude(pk=corrected.pk).exists():
                raise ValidationError({duplicate[0]: duplicate[1]})
            values["assessed_on"] = assessed_on
        record = _save_or_update(
            model=FollowUp,
            existing=corrected or same_day.first(),
            values=values,
            create={"patient": patient, "assessed_on": assessed_on},
            user=user,
            created_reason=gettext_noop("Follow-up recorded"),
            expected_version=expected_version if corrected is not None else None,
            reason_for_change=reason_for_change,
            duplicate_message=duplicate,
        )
        _status_refresh(
            patient=patient, user=user, why=f"Follow-up of {assessed_on}: {record.get_vital_status_display()}"
        )
        return record
