"""Response assessments: load a patient's data once, apply the section 9 rule at each
assessment day reached, store result and reasons, keep endpoints current, raise alerts."""

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext, gettext_noop

from assessments.models import LabPanel, LabResult, PatientEndpoints, ResponseAssessment, SupportiveCare, Visit
from assessments.rules.endpoints import AssessedStatus, EndpointInput, endpoints_compute, last_contact
from assessments.rules.response import (
    RESPONSE_LABELS,
    CodedMissing,
    Marker,
    MarkerValues,
    Observation,
    Response,
    ResponseInput,
    ResponseThresholds,
    UpperLimits,
    response_assess,
    value_for_assessment,
)
from assessments.rules.schedule import markers_expected
from assessments.selectors import related_or_none
from crf.catalogue import target_of
from crf.edit_checks import auto_queries_live, auto_query_sync
from crf.locks import PatientLocks
from crf.outbox import responses_key, responses_recompute_queue, tasks_pending
from crf.roles import RESPONSE_ALERT
from crf.transactions import retried
from crf.writes import record_save, records_create
from patients.models import Patient
from trial import clock
from trial.clock import site_today
from trial.models import Site, VisitDefinition
from trial.rules.age import age_in_days
from trial.rules.ranges import criteria_rows
from trial.selectors import reference_ranges_pick, reference_rows

# Lab analyte code behind each numeric marker.
MARKER_ANALYTES = {
    "max_temperature_c": "TEMP",
    "anc": "NEUT",
    "platelets": "PLAT",
    "fibrinogen": "FIBRINO",
    "scd25": "SCD25",
    "ferritin": "FERRITIN",
    "triglycerides": "TRIG",
    "spleen_cm": "SPLEEN",
}
# The rule's marker behind each numeric marker field (a coded value names it).
CODED_MARKERS = {
    "max_temperature_c": Marker.FEVER,
    "anc": Marker.ANC,
    "platelets": Marker.PLATELETS,
    "fibrinogen": Marker.FIBRINOGEN,
    "scd25": Marker.SCD25,
    "ferritin": Marker.FERRITIN,
    "triglycerides": Marker.TRIGLYCERIDES,
    "spleen_cm": Marker.SPLEEN,
}
# The screening form's field for the same marker, used when the baseline panel lacks it.
SCREENING_FIELDS = {
    "max_temperature_c": "max_temperature_c",
    "anc": "anc_10e9_l",
    "platelets": "platelets_10e9_l",
    "fibrinogen": "fibrinogen_g_l",
    "scd25": "scd25_value",
    "ferritin": "ferritin_ug_l",
    "triglycerides": "triglycerides_mmol_l",
    "spleen_cm": "spleen_cm",
}


def _union_sql() -> str:
    """One round trip for the patient's time series: marker values, coded (missing) marker values
    as "code|reason", CNS findings, G-CSF and
    transfusions, follow-up contacts, subsequent therapies, treatment end and death
    (kind, code, value, text, at, on, flag)."""
    from patients.models import Death, FollowUp, SubsequentTherapy, TreatmentEnd

    lab, panel, care = LabResult._meta.db_table, LabPanel._meta.db_table, SupportiveCare._meta.db_table
    follow, therapy = FollowUp._meta.db_table, SubsequentTherapy._meta.db_table
    end, death = TreatmentEnd._meta.db_table, Death._meta.db_table
    analytes = ", ".join(f"'{code}'" for code in MARKER_ANALYTES.values())  # our own constants
    return f"""
        SELECT 'lab', analyte, value, unit, sampled_at, CAST(NULL AS date), CAST(NULL AS boolean)
          FROM {lab} WHERE patient_id = %(p)s AND analyte IN ({analytes}) AND value IS NOT NULL
        UNION ALL
        SELECT 'coded', analyte, NULL, missing || '|' || missing_reason, sampled_at, NULL, NULL
          FROM {lab} WHERE patient_id = %(p)s AND analyte IN ({analytes}) AND value IS NULL
        UNION ALL
        SELECT 'cns', NULL, NULL, NULL, sampled_at, NULL, cns_symptoms
          FROM {panel} WHERE patient_id = %(p)s AND cns_symptoms IS NOT NULL
        UNION ALL
        SELECT 'care', kind, NULL, product, NULL, given_on, NULL FROM {care} WHERE patient_id = %(p)s
        UNION ALL
        SELECT 'follow_up', vital_status, NULL, NULL, NULL, assessed_on, hlh_relapse
          FROM {follow} WHERE patient_id = %(p)s
        UNION ALL
        SELECT 'therapy', NULL, NULL, NULL, NULL, start_date, NULL FROM {therapy} WHERE patient_id = %(p)s
        UNION ALL
        SELECT 'end', outcome, NULL, NULL, NULL, last_dose_date, NULL FROM {end} WHERE patient_id = %(p)s
        UNION ALL
        SELECT 'death', NULL, NULL, NULL, NULL, date_of_death, NULL FROM {death} WHERE patient_id = %(p)s
    """  # noqa: S608 - table names come from the models, values are parameters


# What an assessment reads of the patient and the records hanging on it (fewer columns, less work).
PATIENT_FIELDS = (
    "id",
    "subject_number",
    "first_dose_date",
    "status",
    "site__id",
    "site__code",
    "site__time_zone",
    "site__trial_id",
    "site__trial__data_cutoff_date",
    "screening__id",
    "screening__date_of_birth",
    "screening__screening_date",
    "screening__splenomegaly",
    "screening__cns_involvement",
    "screening__scd25_unit",
    *(f"screening__{field}" for field in SCREENING_FIELDS.values()),
    *(f"endpoints__{f.name}" for f in PatientEndpoints._meta.concrete_fields if f.name != "patient"),
)


def _typed(row: tuple) -> tuple:
    """Raw rows come typed from PostgreSQL and as text from SQLite (the embedded default)."""
    kind, code, value, text, at, on, flag = row
    if isinstance(at, str):
        at = parse_datetime(at)
        if at is not None and timezone.is_naive(at):
            at = timezone.make_aware(at, UTC)
    if isinstance(on, str):
        on = parse_date(on)
    if flag is not None:
        flag = bool(flag)
    return kind, code, value, text, at, on, flag


class PatientData:
    """Everything the rule reads for one patient, loaded in a constant number of queries."""

    def __init__(self, patient: Patient):
        self.patient = patient
        self.zone = clock.zone_of(patient.site)
        self.results: dict[str, list[tuple[Observation, str]]] = defaultdict(list)
        # Values recorded with a missing-data code: (when, (code, reason)) by analyte; never a value.
        self.coded: dict[str, list[tuple[Observation, tuple[str, str]]]] = defaultdict(list)
        self.cns: list[tuple[Observation, bool]] = []
        self.gcsf: tuple[date, ...] = ()
        self.platelet_transfusions: tuple[date, ...] = ()
        self.follow_ups: list[tuple[date, bool | None, str]] = []  # (assessed on, HLH relapse, vital status)
        self.therapy_started = False
        self.treatment_end: tuple[str, date] | None = None  # (outcome, last dose date)
        self.death_date: date | None = None
        with connection.cursor() as cursor:
            cursor.execute(_union_sql(), {"p": patient.pk})
            rows = [_typed(row) for row in cursor.fetchall()]
        gcsf, platelets = [], []
        for kind, code, value, text, at, on, flag in rows:
            if kind == "lab":
                local = at.astimezone(self.zone).replace(tzinfo=None)
                self.results[code].append((Observation(local, float(value)), text))
            elif kind == "coded":
                local = at.astimezone(self.zone).replace(tzinfo=None)
                missing, _, reason = text.partition("|")
                self.coded[code].append((Observation(local, 0.0), (missing, reason)))
            elif kind == "cns":
                self.cns.append((Observation(at.astimezone(self.zone).replace(tzinfo=None), 0.0), flag))
            elif kind == "care" and code == SupportiveCare.Kind.GCSF:
                gcsf.append(on)
            elif kind == "care" and text == SupportiveCare.Product.PLATELETS:
                platelets.append(on)
            elif kind == "follow_up":
                self.follow_ups.append((on, flag, code))
            elif kind == "therapy":
                self.therapy_started = True
            elif kind == "end":
                self.treatment_end = (code, on)
            elif kind == "death":
                self.death_date = on
        self.gcsf, self.platelet_transfusions = tuple(gcsf), tuple(platelets)
        self.visits = list(
            Visit.objects.filter(patient=patient)
            .select_related("definition")
            .only(
                "id",
                "patient_id",
                "name",
                "planned_date",
                "planned_day",
                "window_start",
                "visit_date",
                "not_done",
                "unscheduled",
                "definition__response_assessment",
                "definition__kind",
            )
            .order_by("planned_date", "id")
        )
        self.assessments = {a.visit_id: a for a in ResponseAssessment.objects.filter(patient=patient).order_by()}
        self.reference_rows = reference_rows(site=patient.site)
        self.missing_queries = auto_queries_live(patient=patient, check_code="response.missing_markers")

    def _pick(self, series, *, on: date, window_start: date):
        chosen = value_for_assessment([obs for obs, _ in series], assessment_date=on, window_start=window_start)
        if chosen is None:
            return None, None
        return chosen, next(extra for obs, extra in series if obs is chosen)

    def markers_at(self, *, on: date, window_start: date) -> tuple[MarkerValues, dict]:
        values, sources, coded = {}, {}, []
        for name, analyte in MARKER_ANALYTES.items():
            chosen, unit = self._pick(self.results.get(analyte, []), on=on, window_start=window_start)
            values[name] = chosen.value if chosen else None
            if name == "scd25":
                values["scd25_unit"] = unit
            if chosen:
                sources[name] = chosen.sampled_at.isoformat(timespec="minutes")
            else:
                # No value: a code recorded in the same window says why (it is missing all the same).
                when, code = self._pick(self.coded.get(analyte, []), on=on, window_start=window_start)
                if when is not None:
                    coded.append(CodedMissing(marker=CODED_MARKERS[name], code=code[0], reason=code[1]))
        values["coded"] = tuple(coded)
        chosen, abnormal = self._pick(self.cns, on=on, window_start=window_start)
        values["cns_abnormal"] = abnormal if chosen else None
        return MarkerValues(**values), sources

    def baseline(self) -> MarkerValues:
        """Baseline: the latest value in the screening window (day -7 to 0), else the screening form."""
        day0 = self.patient.first_dose_date
        screening = self.patient.screening
        window_start = min(screening.screening_date, day0.fromordinal(day0.toordinal() - 7))
        panel_values, _ = self.markers_at(on=day0, window_start=window_start)
        merged = asdict(panel_values)
        merged["coded"] = ()  # a baseline without a value is "baseline not measured", whatever the code
        for name, field in SCREENING_FIELDS.items():
            if merged[name] is None and getattr(screening, field) is not None:
                merged[name] = float(getattr(screening, field))
                if name == "scd25":
                    merged["scd25_unit"] = screening.scd25_unit or None
        if merged["spleen_cm"] is None and screening.splenomegaly is False:
            merged["spleen_cm"] = 0.0
        if merged["cns_abnormal"] is None:
            merged["cns_abnormal"] = screening.cns_involvement
        return MarkerValues(**merged)

    def limits(self, on: date) -> UpperLimits:
        # Section 9 judges these markers against the protocol default or the site's own range,
        # never against the published population bands (trial.rules.ranges.criteria_rows).
        ranges = reference_ranges_pick(
            criteria_rows(self.reference_rows), age_days=age_in_days(self.patient.screening.date_of_birth, on)
        )
        scd25 = ranges.get("SCD25")
        return UpperLimits(
            scd25=scd25.upper if scd25 else None,
            scd25_unit=scd25.unit if scd25 else "pg/mL",
            ferritin=ranges["FERRITIN"].upper if "FERRITIN" in ranges else None,
            triglycerides=ranges["TRIG"].upper if "TRIG" in ranges else None,
        )


def assessment_visits_reached(data: PatientData, today: date) -> list[Visit]:
    return [
        v
        for v in data.visits
        if v.definition is not None
        and v.definition.response_assessment
        and not v.not_done
        and (v.visit_date or v.planned_date) <= today
    ]


def _digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _detail(result, sources: dict, baseline_sources: str) -> dict:
    return {
        "status": result.status.value,
        "label": result.label,
        "decided_by": result.decided_by,
        "missing": [m.value for m in result.missing],
        "counts": {
            "normalised": result.normalised,
            "improved": result.improved,
            "worsened": result.worsened,
            "abnormal": result.abnormal,
        },
        "markers": [
            {
                "marker": m.marker.value,
                "label": m.label,
                "baseline": m.baseline,
                "current": m.current,
                "baseline_abnormal": m.baseline_abnormal,
                "normal": m.normal,
                "improved": m.improved,
                "worsened": m.worsened,
                "supported": m.supported,
                "explanation": m.explanation,
                "coded": {"code": m.coded.code, "reason": m.coded.reason} if m.coded else None,
            }
            for m in result.markers
        ],
        "sampled": sources,
        "baseline_source": baseline_sources,
    }


@retried
def response_assess_patient(*, patient_id: int, today: date | None = None) -> list[ResponseAssessment]:
    """Assess every assessment day the patient has reached (section 9); safe to run twice.

    A stored result whose inputs did not change is left alone. A confirmed result is never
    overwritten: a different computation is stored beside it and flagged for review.
    """
    with transaction.atomic():
        patient = (
            Patient.objects.select_for_update(no_key=True, of=("self",))
            .select_related("site__trial", "screening", "endpoints")
            .only(*PATIENT_FIELDS)
            .get(pk=patient_id)
        )
        today = today or site_today(patient.site)
        locks = PatientLocks.load(patient.pk)
        if locks.whole is not None:
            return []  # frozen or locked data keep the results they were locked with
        data = PatientData(patient)
        baseline = data.baseline()
        changed: list[ResponseAssessment] = []
        new: list[ResponseAssessment] = []
        previous_cr, fever_resolved = False, False
        afebrile_below = ResponseThresholds().afebrile_below_c
        for visit in assessment_visits_reached(data, today):
            on = visit.visit_date or visit.planned_date
            current, sources = data.markers_at(on=on, window_start=visit.window_start or on)
            rule_input = ResponseInput(
                assessment_date=on,
                baseline=baseline,
                current=current,
                gcsf_dates=data.gcsf,
                platelet_transfusion_dates=data.platelet_transfusions,
                previous_cr=previous_cr,
                fever_resolved_before=fever_resolved,
                limits=data.limits(on),
            )
            with translation.override("en"):  # the stored reasons are English; the page rebuilds them
                result = response_assess(rule_input)
            digest = _digest(asdict(rule_input))
            detail = _detail(result, sources, "baseline visit panel, else the screening form")
            existing = data.assessments.get(visit.pk)
            # A frozen or locked visit keeps the result (and the queries) it was locked with; its
            # status still counts for the later days, and a save elsewhere never fails because of it.
            frozen = locks.holds(visit_id=visit.pk, targets=(target_of(existing),) if existing is not None else ())
            live = data.missing_queries.pop(target_of(visit), None)
            if not frozen:
                stored = _store(
                    patient=patient, visit=visit, on=on, result=result, detail=detail, digest=digest, existing=existing
                )
                if stored is not None:
                    changed.append(stored)
                    data.assessments[visit.pk] = stored
                    if stored.pk is None:
                        new.append(stored)
                _missing_markers_query(
                    patient=patient,
                    visit=visit,
                    result=result,
                    on=on,
                    today=today,
                    expected=_markers_expected(data, visit, on).expected,
                    live=live,
                )
            kept = data.assessments.get(visit.pk)
            counted = kept.status if kept is not None else result.status.value
            previous_cr = previous_cr or counted == Response.CR.value
            fever_resolved = fever_resolved or bool(
                current.max_temperature_c is not None and current.max_temperature_c < afebrile_below
            )
        _missing_markers_close_rest(patient=patient, data=data, locks=locks)
        if new:
            # The engine's own rows: the locked visits were skipped above (PatientLocks).
            records_create(
                records=new, model=ResponseAssessment, user=None, reason=gettext_noop("Computed"), check_lock=False
            )
        patient_endpoints_refresh(patient=patient, data=data)
        for assessment in changed:
            _alert(patient=patient, assessment=assessment, today=today)
    return changed


def _markers_expected(data: PatientData, visit: Visit, on: date):
    """Whether the visit's markers will come at all (not done, after death, after the drug stopped)."""
    return markers_expected(
        assessment_date=on,
        follow_up_visit=visit.definition is not None and visit.definition.kind == VisitDefinition.Kind.FOLLOW_UP,
        not_done=visit.not_done,
        last_dose_date=data.treatment_end[1] if data.treatment_end else None,
        death_date=data.death_date,
    )


def _missing_markers_query(
    *, patient: Patient, visit: Visit, result, on: date, today: date, expected: bool, live
) -> None:
    """An assessment day passed with markers missing raises a query on the visit; it closes itself
    once the markers are entered, or once the assessment is no longer expected (markers_expected)."""
    failing = expected and bool(result.missing) and result.status is Response.NOT_ASSESSABLE and today > on
    names = ", ".join(m.label for m in result.markers if m.missing)
    auto_query_sync(
        patient=patient,
        record=visit,
        check_code="response.missing_markers",
        failing=failing,
        text=f"Response at {visit.name} ({on.isoformat()}) cannot be assessed: missing {names}. "
        "Enter the values sampled that day or earlier in the visit window (protocol 12.4), or mark them not done.",
        link=reverse("lab_panel_edit", args=[visit.pk]),
        live=live,
    )


def _missing_markers_close_rest(*, patient: Patient, data: PatientData, locks: PatientLocks) -> None:
    """Close the open missing-marker queries of visits recorded as not done since they were raised
    (the loop above no longer assesses them); a frozen or locked visit keeps its queries."""
    not_done = {target_of(v): v for v in data.visits if v.not_done}
    for target, live in data.missing_queries.items():
        if target in not_done and not locks.holds(visit_id=not_done[target].pk, targets=(target,)):
            auto_query_sync(
                patient=patient,
                record=not_done[target],
                check_code="response.missing_markers",
                failing=False,
                text=live.text,
                live=live,
            )


def _store(*, patient, visit, on, result, detail, digest, existing):
    now = timezone.now()
    status = result.status.value
    if existing is None:
        assessment = ResponseAssessment(
            patient=patient,
            visit=visit,
            study_day=(on - patient.first_dose_date).days,
            assessment_date=on,
            computed_status=status,
            computed_detail=detail,
            inputs_digest=digest,
            computed_at=now,
        )
        return assessment  # inserted with the patient's other new results, in one statement
    if existing.inputs_digest == digest:
        return None
    existing.inputs_digest = digest
    existing.assessment_date = on
    existing.study_day = (on - patient.first_dose_date).days
    if existing.confirmed_status:
        existing.recomputed_status, existing.recomputed_detail, existing.recomputed_at = status, detail, now
        existing.needs_review = status != existing.confirmed_status or status != existing.computed_status
        reason = gettext_noop("Recomputed after a data change; confirmed result kept, flagged for review")
    else:
        existing.computed_status, existing.computed_detail, existing.computed_at = status, detail, now
        reason = gettext_noop("Recomputed after a data change")
    record_save(record=existing, user=None, reason=reason)
    return existing


def patient_endpoints_refresh(*, patient: Patient, data: PatientData | None = None) -> PatientEndpoints:
    """Best response, CR durability and EFS (section 11) from the current records."""
    if data is not None:
        assessments = sorted(data.assessments.values(), key=lambda a: a.study_day)
        visits = data.visits
    else:
        assessments = list(ResponseAssessment.objects.filter(patient=patient).order_by("study_day"))
        visits = list(patient.visits.all())
    if data is not None:
        follow_ups, therapy_started = data.follow_ups, data.therapy_started
        end, death_date = data.treatment_end, data.death_date
    else:
        follow_ups = list(patient.follow_ups.values_list("assessed_on", "hlh_relapse", "vital_status"))
        therapy_started = patient.subsequent_therapies.exists()
        record = related_or_none(patient, "treatment_end")
        end = (record.outcome, record.last_dose_date) if record else None
        death = related_or_none(patient, "death")
        death_date = death.date_of_death if death else None
    contact = last_contact(
        day0=patient.first_dose_date,
        visit_dates=tuple(v.visit_date for v in visits if v.visit_date),
        follow_ups=tuple((d, vital_status) for d, _, vital_status in follow_ups),
        death_date=death_date,
    )
    with translation.override("en"):  # the stored explanation is English; the page rebuilds it
        result = endpoints_compute(
            EndpointInput(
                day0=patient.first_dose_date,
                assessments=tuple(AssessedStatus(a.study_day, a.assessment_date, a.status) for a in assessments),
                treatment_end_date=end[1] if end else None,
                therapy_changed=bool((end and end[0] == "discontinued") or therapy_started),
                death_date=death_date,
                relapse_dates=tuple(d for d, relapse, _ in follow_ups if relapse),
                last_contact=contact,
                data_cutoff=patient.site.trial.data_cutoff_date,
            )
        )
    values = {
        "best_response": result.best_response or "",
        "best_response_day": result.best_response_day,
        "overall_response": result.overall_response,
        "efs_event": result.efs_event,
        "efs_event_date": result.efs_event_date,
        "efs_days": result.efs_days,
        "efs_censored_on": result.censored_on,
        "cr_first_day": result.cr_first_day,
        "cr_duration_days": result.cr_duration_days,
        "detail": {"efs": result.explanation, "outside_analysis": result.outside_analysis},
    }
    endpoints = related_or_none(patient, "endpoints")
    now = clock.now()
    if endpoints is None:
        endpoints = PatientEndpoints.objects.create(patient=patient, computed_at=now, assessed_at=now, **values)
    elif any(getattr(endpoints, k) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(endpoints, key, value)
        endpoints.computed_at = endpoints.assessed_at = now
        endpoints.save()
    else:
        # Unchanged: only the time of the run, which the sweep compares with the data's (stale runs).
        PatientEndpoints.objects.filter(pk=endpoints.pk).update(assessed_at=now)
        endpoints.assessed_at = now
    return endpoints


def _alert(*, patient: Patient, assessment: ResponseAssessment, today: date) -> None:
    """Day 3 without response, progression or relapse: tell the site's clinicians and coordinators."""
    from notifications.services import notifications_send
    from trial.selectors import site_users_with_perm

    status = assessment.recomputed_status or assessment.computed_status
    link = reverse("patient_responses", args=[patient.pk])
    values = {"subject": patient.subject_number, "day": assessment.study_day}
    # Written in each recipient's language (notifications_send calls these under it).
    if assessment.study_day <= 3 and status == Response.NO_RESPONSE.value:

        def title() -> str:
            return gettext("%(subject)s: no response at day 3 — protocol says change therapy") % values

        key = f"response:{assessment.pk}:day3-nr"
    elif status in (Response.PROGRESSION.value, Response.RELAPSE.value):
        english = RESPONSE_LABELS[Response(status)]

        def title() -> str:
            return gettext("%(subject)s: %(response)s at day %(day)s") % {
                **values,
                "response": gettext(english).lower(),
            }

        key = f"response:{assessment.pk}:{status}"
    else:
        return
    recipients = site_users_with_perm(site_id=patient.site_id, perm=RESPONSE_ALERT)
    notifications_send(
        recipients=recipients,
        kind="response",
        title=title,
        body=assessment.computed_detail.get("decided_by", ""),
        link=link,
        source_key=key,
    )


@retried
def response_confirm(
    *, assessment_id: int, status: str, reason: str, expected_version: int, user
) -> ResponseAssessment:
    """The investigator confirms the computed response or records another with a reason (section 9)."""
    from django.core.exceptions import ValidationError

    from crf.writes import record_lock_for_update

    valid = {r.value for r in Response if r is not Response.NOT_ASSESSABLE}
    if status not in valid:
        raise ValidationError(
            {"status": gettext("Choose CR, PR, HLH improvement, progression, relapse or no response.")}
        )
    with transaction.atomic():
        assessment = record_lock_for_update(
            model=ResponseAssessment, pk=assessment_id, expected_version=expected_version
        )
        if assessment.recomputed_status:
            # Reviewing a flagged recomputation: it becomes the computation the confirmation stands on.
            assessment.computed_status = assessment.recomputed_status
            assessment.computed_detail = assessment.recomputed_detail
            assessment.computed_at = assessment.recomputed_at
            assessment.recomputed_status, assessment.recomputed_detail, assessment.recomputed_at = "", {}, None
        if status != assessment.computed_status and not reason.strip():
            raise ValidationError(
                {"reason": gettext("Give the reason for recording a response other than the computed one.")}
            )
        assessment.confirmed_status = status
        assessment.confirmation_reason = reason.strip()
        assessment.confirmed_by = user
        assessment.confirmed_at = timezone.now()
        assessment.needs_review = False
        record_save(
            record=assessment,
            user=user,
            reason=gettext_noop("Confirmed")
            if status == assessment.computed_status
            else f"Recorded as {status}: {reason.strip()}",
        )
        patient_endpoints_refresh(patient=assessment.patient)
    return assessment


def response_sweep_due(*, now: datetime | None = None, today: date | None = None) -> list[int]:
    """Patients with an assessment day reached and no stored assessment for it.

    "Reached" is judged in each site's calendar at the instant `now`; `today` instead names
    one calendar date for every site.
    """
    at = now or clock.now()
    reached = Q()
    for site in Site.objects.only("id", "time_zone"):
        reached |= Q(patient__site_id=site.pk, planned_date__lte=today or site_today(site, at=at))
    if not reached:
        return []
    due = (
        Visit.objects.filter(
            definition__response_assessment=True,
            not_done=False,
            response_assessment__isnull=True,
            patient__status__in=[Patient.Status.ON_TREATMENT, Patient.Status.FOLLOW_UP],
        )
        .filter(reached)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    return sorted(set(due) | set(response_stale()))


# The records the response engine reads (PatientData): a change to one after the patient's last
# run means that run missed it (its task was lost: a broker restarted without its queue).
def _response_inputs():
    from patients.models import Death, FollowUp, SubsequentTherapy, TreatmentEnd

    entered_visits = Visit.objects.filter(Q(visit_date__isnull=False) | Q(not_done=True))
    return (
        LabPanel.objects.all(),
        SupportiveCare.objects.all(),
        entered_visits,
        TreatmentEnd.objects.all(),
        FollowUp.objects.all(),
        Death.objects.all(),
        SubsequentTherapy.objects.all(),
    )


def response_stale(*, patient_ids: list[int] | None = None) -> list[int]:
    """Patients whose response inputs changed after their assessments last ran, or who have
    data but were never assessed (a recomputation whose task was lost)."""
    ran = OuterRef("endpoints__assessed_at")
    never = Q(endpoints__isnull=True) | Q(endpoints__assessed_at__isnull=True)
    newer, entered = Q(pk__in=[]), Q(pk__in=[])
    for rows in _response_inputs():
        newer |= Exists(rows.filter(patient_id=OuterRef("pk"), updated_at__gt=ran))
        entered |= Exists(rows.filter(patient_id=OuterRef("pk")))
    patients = Patient.objects.filter(status__in=[Patient.Status.ON_TREATMENT, Patient.Status.FOLLOW_UP])
    if patient_ids is not None:
        patients = patients.filter(pk__in=patient_ids)
    return list(patients.filter(newer | (never & entered)).values_list("pk", flat=True))


def response_queue_for_patient(*, patient_id: int) -> None:
    """Re-run the patient's assessments once the current transaction commits (crf.outbox)."""
    responses_recompute_queue(patient_id=patient_id)


def response_recompute_pending(*, patient_id: int) -> bool:
    """Whether the patient's responses wait for a recomputation: queued and not yet taken by a
    worker (the broker may be down), or data changed after the last run."""
    return tasks_pending(keys=[responses_key(patient_id)]) or patient_id in response_stale(patient_ids=[patient_id])


def response_queue_after_lab_save(*, visit: Visit) -> None:
    """Labs saved on or after an assessment day, or at baseline, re-run the patient's assessments."""
    day = visit.planned_day if visit.planned_day is not None else 0
    first_assessment_day = 3
    if day <= 0 or day >= first_assessment_day or visit.unscheduled:
        response_queue_for_patient(patient_id=visit.patient_id)
