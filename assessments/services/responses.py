"""Response assessments: load a patient's data once, apply the section 9 rule at each
assessment day reached, store result and reasons, keep endpoints current, raise alerts."""

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict
from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from assessments.models import LabPanel, LabResult, PatientEndpoints, ResponseAssessment, SupportiveCare, Visit
from assessments.rules.endpoints import AssessedStatus, EndpointInput, endpoints_compute
from assessments.rules.response import (
    RESPONSE_LABELS,
    MarkerValues,
    Observation,
    Response,
    ResponseInput,
    UpperLimits,
    response_assess,
    value_for_assessment,
)
from patients.models import Patient
from queries.services import auto_query_sync
from trial.rules.age import age_in_days
from trial.selectors import reference_ranges_for
from trial.versioning import record_save

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


class PatientData:
    """Everything the rule reads for one patient, loaded in a constant number of queries."""

    def __init__(self, patient: Patient):
        self.patient = patient
        self.zone = ZoneInfo(patient.site.time_zone)
        self.results: dict[str, list[tuple[Observation, str]]] = defaultdict(list)
        for analyte, value, unit, sampled_at in LabResult.objects.filter(
            patient=patient, analyte__in=MARKER_ANALYTES.values()
        ).values_list("analyte", "value", "unit", "sampled_at"):
            self.results[analyte].append(
                (Observation(sampled_at.astimezone(self.zone).replace(tzinfo=None), float(value)), unit)
            )
        self.cns: list[tuple[Observation, bool]] = [
            (Observation(sampled_at.astimezone(self.zone).replace(tzinfo=None), 0.0), abnormal)
            for sampled_at, abnormal in LabPanel.objects.filter(
                patient=patient, cns_symptoms__isnull=False
            ).values_list("sampled_at", "cns_symptoms")
        ]
        support = list(SupportiveCare.objects.filter(patient=patient).values_list("kind", "product", "given_on"))
        self.gcsf = tuple(d for kind, _, d in support if kind == SupportiveCare.Kind.GCSF)
        self.platelet_transfusions = tuple(
            d for kind, product, d in support if kind == SupportiveCare.Kind.TRANSFUSION and product == "platelets"
        )
        self.visits = list(
            Visit.objects.filter(patient=patient).select_related("definition").order_by("planned_date", "id")
        )
        self.assessments = {a.visit_id: a for a in ResponseAssessment.objects.filter(patient=patient)}

    def _pick(self, series, *, on: date, window_start: date):
        chosen = value_for_assessment([obs for obs, _ in series], assessment_date=on, window_start=window_start)
        if chosen is None:
            return None, None
        return chosen, next(extra for obs, extra in series if obs is chosen)

    def markers_at(self, *, on: date, window_start: date) -> tuple[MarkerValues, dict]:
        values, sources = {}, {}
        for name, analyte in MARKER_ANALYTES.items():
            chosen, unit = self._pick(self.results.get(analyte, []), on=on, window_start=window_start)
            values[name] = chosen.value if chosen else None
            if name == "scd25":
                values["scd25_unit"] = unit
            if chosen:
                sources[name] = chosen.sampled_at.isoformat(timespec="minutes")
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
        ranges = reference_ranges_for(
            site=self.patient.site, age_days=age_in_days(self.patient.screening.date_of_birth, on)
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
            }
            for m in result.markers
        ],
        "sampled": sources,
        "baseline_source": baseline_sources,
    }


def response_assess_patient(*, patient_id: int, today: date | None = None) -> list[ResponseAssessment]:
    """Assess every assessment day the patient has reached (section 9); safe to run twice.

    A stored result whose inputs did not change is left alone. A confirmed result is never
    overwritten: a different computation is stored beside it and flagged for review.
    """
    with transaction.atomic():
        patient = Patient.objects.select_for_update().select_related("site", "screening").get(pk=patient_id)
        today = today or timezone.localdate(timezone=ZoneInfo(patient.site.time_zone))
        data = PatientData(patient)
        baseline = data.baseline()
        changed: list[ResponseAssessment] = []
        previous_cr, fever_resolved = False, False
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
            result = response_assess(rule_input)
            digest = _digest(asdict(rule_input))
            detail = _detail(result, sources, "baseline visit panel, else the screening form")
            existing = data.assessments.get(visit.pk)
            stored = _store(
                patient=patient, visit=visit, on=on, result=result, detail=detail, digest=digest, existing=existing
            )
            if stored is not None:
                changed.append(stored)
                data.assessments[visit.pk] = stored
            _missing_markers_query(patient=patient, visit=visit, result=result, on=on, today=today)
            counted = data.assessments[visit.pk].status
            previous_cr = previous_cr or counted == Response.CR.value
            fever_resolved = fever_resolved or bool(
                current.max_temperature_c is not None and current.max_temperature_c < 37.5
            )
        patient_endpoints_refresh(patient=patient, data=data)
        for assessment in changed:
            _alert(patient=patient, assessment=assessment, today=today)
    return changed


def _missing_markers_query(*, patient: Patient, visit: Visit, result, on: date, today: date) -> None:
    """An assessment day passed with markers missing raises a query on the visit; it closes itself
    once the markers are entered."""
    failing = bool(result.missing) and result.status is Response.NOT_ASSESSABLE and today > on
    names = ", ".join(m.label for m in result.markers if m.missing)
    auto_query_sync(
        patient=patient,
        record=visit,
        check_code="response.missing_markers",
        failing=failing,
        text=f"Response at {visit.name} ({on.isoformat()}) cannot be assessed: missing {names}. "
        "Enter the values sampled that day or earlier in the visit window (protocol 12.4), or mark them not done.",
        link=reverse("lab_panel_edit", args=[visit.pk]),
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
        record_save(record=assessment, user=None, reason="Computed", created=True)
        return assessment
    if existing.inputs_digest == digest:
        return None
    existing.inputs_digest = digest
    existing.assessment_date = on
    existing.study_day = (on - patient.first_dose_date).days
    if existing.confirmed_status:
        existing.recomputed_status, existing.recomputed_detail, existing.recomputed_at = status, detail, now
        existing.needs_review = status != existing.confirmed_status or status != existing.computed_status
        reason = "Recomputed after a data change; confirmed result kept, flagged for review"
    else:
        existing.computed_status, existing.computed_detail, existing.computed_at = status, detail, now
        reason = "Recomputed after a data change"
    record_save(record=existing, user=None, reason=reason)
    return existing


def patient_endpoints_refresh(*, patient: Patient, data: PatientData | None = None) -> PatientEndpoints:
    """Best response, CR durability and EFS (section 11) from the current records."""
    assessments = ResponseAssessment.objects.filter(patient=patient).order_by("study_day")
    treatment_end = getattr(patient, "treatment_end", None) if hasattr(patient, "treatment_end") else None
    death = patient.death if hasattr(patient, "death") else None
    follow_ups = list(patient.follow_ups.values_list("assessed_on", "hlh_relapse"))
    visit_dates = [v.visit_date for v in (data.visits if data else patient.visits.all()) if v.visit_date]
    contacts = [d for d, _ in follow_ups] + visit_dates + ([death.date_of_death] if death else [])
    result = endpoints_compute(
        EndpointInput(
            day0=patient.first_dose_date,
            assessments=tuple(AssessedStatus(a.study_day, a.assessment_date, a.status) for a in assessments),
            treatment_end_date=treatment_end.last_dose_date if treatment_end else None,
            therapy_changed=bool(
                (treatment_end and treatment_end.outcome == "discontinued") or patient.subsequent_therapies.exists()
            ),
            death_date=death.date_of_death if death else None,
            relapse_dates=tuple(d for d, relapse in follow_ups if relapse),
            last_contact=max(contacts) if contacts else None,
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
        "detail": {"efs": result.explanation},
        "computed_at": timezone.now(),
    }
    endpoints, _ = PatientEndpoints.objects.update_or_create(patient=patient, defaults=values)
    return endpoints


def _alert(*, patient: Patient, assessment: ResponseAssessment, today: date) -> None:
    """Day 3 without response, progression or relapse: tell the site's clinicians and coordinators."""
    from notifications.services import notifications_send
    from trial.selectors import site_users_with_roles

    status = assessment.recomputed_status or assessment.computed_status
    link = reverse("patient_responses", args=[patient.pk])
    if assessment.study_day <= 3 and status == Response.NO_RESPONSE.value:
        title = f"{patient.subject_number}: no response at day 3 — protocol says change therapy"
        key = f"response:{assessment.pk}:day3-nr"
    elif status in (Response.PROGRESSION.value, Response.RELAPSE.value):
        title = f"{patient.subject_number}: {RESPONSE_LABELS[Response(status)].lower()} at day {assessment.study_day}"
        key = f"response:{assessment.pk}:{status}"
    else:
        return
    recipients = site_users_with_roles(site=patient.site, roles=("clinician", "coordinator"))
    notifications_send(
        recipients=recipients,
        kind="response",
        title=title,
        body=assessment.computed_detail.get("decided_by", ""),
        link=link,
        source_key=key,
    )


def response_confirm(
    *, assessment_id: int, status: str, reason: str, expected_version: int, user
) -> ResponseAssessment:
    """The investigator confirms the computed response or records another with a reason (section 9)."""
    from django.core.exceptions import ValidationError

    from trial.versioning import record_lock_for_update

    valid = {r.value for r in Response if r is not Response.NOT_ASSESSABLE}
    if status not in valid:
        raise ValidationError({"status": "Choose CR, PR, HLH improvement, progression, relapse or no response."})
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
            raise ValidationError({"reason": "Give the reason for recording a response other than the computed one."})
        assessment.confirmed_status = status
        assessment.confirmation_reason = reason.strip()
        assessment.confirmed_by = user
        assessment.confirmed_at = timezone.now()
        assessment.needs_review = False
        record_save(
            record=assessment,
            user=user,
            reason="Confirmed" if status == assessment.computed_status else f"Recorded as {status}: {reason.strip()}",
        )
        patient_endpoints_refresh(patient=assessment.patient)
    return assessment


def response_sweep_due(*, today: date | None = None) -> list[int]:
    """Patients with an assessment day reached and no stored assessment for it."""
    today = today or timezone.localdate()
    due = (
        Visit.objects.filter(
            definition__response_assessment=True,
            not_done=False,
            response_assessment__isnull=True,
            patient__status__in=[Patient.Status.ON_TREATMENT, Patient.Status.FOLLOW_UP],
        )
        .filter(planned_date__lte=today)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    return sorted(set(due))


def response_queue_for_patient(*, patient_id: int) -> None:
    """Re-run the patient's assessments after the current transaction commits (idempotent task)."""
    from assessments.tasks import response_assess_patient_task

    transaction.on_commit(lambda: response_assess_patient_task.delay(patient_id))


def response_queue_after_lab_save(*, visit: Visit) -> None:
    """Labs saved on or after an assessment day, or at baseline, re-run the patient's assessments."""
    day = visit.planned_day if visit.planned_day is not None else 0
    first_assessment_day = 3
    if day <= 0 or day >= first_assessment_day or visit.unscheduled:
        response_queue_for_patient(patient_id=visit.patient_id)
