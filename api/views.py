"""The REST API: thin views that validate with the pages' forms and write through the services."""

import json
from datetime import date
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from api import inputs
from api.models import ImportJob
from api.permissions import RolePermission
from api.serializers import (
    AdverseEventSerializer,
    AdverseEventWriteSerializer,
    DoseSerializer,
    DoseWriteSerializer,
    EnrollSerializer,
    FollowUpSerializer,
    FollowUpWriteSerializer,
    ImportJobSerializer,
    LabPanelSaveResultSerializer,
    LabPanelSerializer,
    LabPanelWriteSerializer,
    PatientSerializer,
    ResponseAssessmentSerializer,
    ResponseConfirmSerializer,
    ScreeningSerializer,
    ScreeningWriteSerializer,
    SiteSerializer,
    TreatmentEndSerializer,
    TreatmentEndWriteSerializer,
    UnscheduledVisitSerializer,
    VisitNotDoneSerializer,
    VisitSerializer,
)
from assessments.models import AdverseEvent, CtcaeTerm, LabPanel, ResponseAssessment, Visit
from assessments.services.adverse_events import adverse_event_record, adverse_event_update
from assessments.services.labs import lab_panel_save
from assessments.services.responses import response_confirm
from assessments.services.visits import visit_not_done_record, visit_unscheduled_add
from patients.models import DoseAdministration, FollowUp, Patient, Screening, TreatmentEnd
from patients.services import (
    dose_record,
    follow_up_record,
    patient_enroll,
    screening_create,
    screening_update,
    treatment_end_record,
)
from trial.analytes import ANALYTES, units_for
from trial.forms import site_today
from trial.selectors import user_site_ids, user_sites

SITE = OpenApiParameter("site", str, description="Site code, e.g. BCH.")
PATIENT = OpenApiParameter("patient", int, description="Patient id.")
VISIT = OpenApiParameter("visit", int, description="Visit id.")
DATE_FROM = OpenApiParameter("date_from", OpenApiTypes.DATE, description="On or after (YYYY-MM-DD).")
DATE_TO = OpenApiParameter("date_to", OpenApiTypes.DATE, description="On or before (YYYY-MM-DD).")
IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, description="The ETag (version) you loaded; same as body 'version'."
)


def _date_param(request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    day = parse_date(raw) if len(raw) == 10 else None
    if day is None:
        raise ValidationError({name: ["Enter a date as YYYY-MM-DD."]})
    return day


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit():
        raise ValidationError({name: ["Enter a whole number (an id)."]})
    return int(raw)


def _body(request) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})
    return dict(data)


def expected_version(request, payload: dict) -> int:
    """The version the client loaded: body 'version' or the If-Match header (the ETag)."""
    raw = payload.pop("version", None)
    if raw is None:
        raw = (request.headers.get("If-Match") or "").strip().removeprefix("W/").strip('"') or None
    if raw is None:
        raise ValidationError({"version": ["Send the version you loaded (field 'version' or the If-Match header)."]})
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({"version": ["Version is a whole number."]}) from None
    if isinstance(raw, bool) or value < 1:
        raise ValidationError({"version": ["Version is a whole number."]})
    return value


class ETagMixin:
    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = f'"{instance.version}"'
        return response


class ScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [RolePermission]
    site_field = "patient__site_id"

    def scoped(self, queryset):
        return queryset.filter(**{f"{self.site_field}__in": user_site_ids(self.request.user)})

    def filter_common(self, queryset, *, date_field: str | None = None, patient_field: str | None = "patient_id"):
        site = self.request.query_params.get("site")
        if site:
            queryset = queryset.filter(**{self.site_field.replace("_id", "__code"): site})
        if patient_field and (patient := _int_param(self.request, "patient")) is not None:
            queryset = queryset.filter(**{patient_field: patient})
        if date_field:
            if (start := _date_param(self.request, "date_from")) is not None:
                queryset = queryset.filter(**{f"{date_field}__gte": start})
            if (end := _date_param(self.request, "date_to")) is not None:
                queryset = queryset.filter(**{f"{date_field}__lte": end})
        return queryset


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SITE,
            DATE_FROM,
            DATE_TO,
            OpenApiParameter("status", str, enum=[c.value for c in Screening.Status]),
            OpenApiParameter("eligibility", str, enum=["eligible", "ineligible", "incomplete"]),
        ]
    ),
)
class ScreeningViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Screenings with their computed eligibility and its reasons (protocol section 3)."""

    perm_model = "patients.screening"
    action_perms = {"enroll": "patients.enroll_patient"}
    serializer_class = ScreeningSerializer
    site_field = "site_id"

    def get_queryset(self):
        queryset = self.scoped(Screening.objects.select_related("site", "patient").order_by("id"))
        if self.action != "list":
            return queryset
        queryset = self.filter_common(queryset, date_field="screening_date", patient_field=None)
        for name in ("status", "eligibility"):
            if value := self.request.query_params.get(name):
                queryset = queryset.filter(**{name: value})
        return queryset

    @extend_schema(request=ScreeningWriteSerializer, responses={201: ScreeningSerializer})
    def create(self, request):
        payload = _body(request)
        code = payload.pop("site", None)
        site = user_sites(request.user).filter(code=code).first() if isinstance(code, str) else None
        if site is None:
            raise ValidationError(
                {"site": [f"Choose one of your sites: {', '.join(s.code for s in user_sites(request.user))}."]}
            )
        data = inputs.screening_clean(site=site, payload=payload)
        screening = screening_create(site=site, data=data, user=request.user)
        return Response(ScreeningSerializer(screening).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ScreeningWriteSerializer, responses={200: ScreeningSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        screening = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        payload.setdefault("reason_for_change", "")
        data, version, reason = inputs.screening_change_clean(screening=screening, payload=payload, version=version)
        screening = screening_update(
            screening_id=screening.pk, data=data, expected_version=version, user=request.user, reason=reason
        )
        response = Response(ScreeningSerializer(screening).data)
        response["ETag"] = f'"{screening.version}"'
        return response

    @extend_schema(request=EnrollSerializer, responses={201: PatientSerializer})
    @action(detail=True, methods=["post"])
    def enroll(self, request, pk=None):
        """Enroll an eligible child: subject number, etiology, risk group, dose band, visit calendar."""
        screening = self.get_object()
        if hasattr(screening, "patient"):
            raise ValidationError({"non_field_errors": [f"{screening} is already enrolled."]})
        data = inputs.enrollment_clean(screening=screening, payload=_body(request))
        patient = patient_enroll(screening_id=screening.pk, user=request.user, **data)
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SITE,
            DATE_FROM,
            DATE_TO,
            OpenApiParameter("status", str, enum=[c.value for c in Patient.Status]),
            OpenApiParameter("risk_group", str, enum=[c.value for c in Patient.RiskGroup]),
            OpenApiParameter("etiology", str, enum=[c.value for c in Patient.Etiology]),
        ]
    )
)
class PatientViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Enrolled patients: subject number, etiology (section 4), risk group (5), dose band (6)."""

    perm_model = "patients.patient"
    serializer_class = PatientSerializer
    site_field = "site_id"

    def get_queryset(self):
        queryset = self.scoped(Patient.objects.select_related("site", "screening").order_by("id"))
        if self.action != "list":
            return queryset
        queryset = self.filter_common(queryset, date_field="enrollment_date", patient_field=None)
        for name in ("status", "risk_group", "etiology"):
            if value := self.request.query_params.get(name):
                queryset = queryset.filter(**{name: value})
        return queryset


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class VisitViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Planned and unscheduled visits; date filters apply to the planned date."""

    perm_model = "assessments.visit"
    serializer_class = VisitSerializer

    action_perms = {"not_done": "assessments.change_visit"}

    def get_queryset(self):
        queryset = self.scoped(Visit.objects.select_related("definition", "lab_panel").order_by("patient_id", "id"))
        if self.action != "list":
            return queryset
        return self.filter_common(queryset, date_field="planned_date")

    @extend_schema(request=UnscheduledVisitSerializer, responses={201: VisitSerializer})
    def create(self, request):
        """An unscheduled visit on any day after enrollment (section 7)."""
        payload = _body(request)
        patient = _patient_for(request, payload)
        inputs.unknown_fields(payload, {"visit_date", "reason"})
        visit = visit_unscheduled_add(
            patient=patient,
            visit_date=inputs.parse_day(payload.get("visit_date"), field="visit_date"),
            reason=_text(payload, "reason"),
            user=request.user,
            today=site_today(patient.site),
        )
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VisitNotDoneSerializer, responses={200: VisitSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"], url_path="not-done")
    def not_done(self, request, pk=None):
        """Record that a planned visit was not done, with the reason."""
        visit = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        inputs.unknown_fields(payload, {"reason"})
        visit = visit_not_done_record(
            visit_id=visit.pk, reason=_text(payload, "reason"), expected_version=version, user=request.user
        )
        return Response(VisitSerializer(visit).data)


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, VISIT, DATE_FROM, DATE_TO]))
class LabPanelViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Lab panels of visits (section 8): values with units and sampling times, flagged H/L."""

    perm_model = "assessments.labpanel"
    serializer_class = LabPanelSerializer

    def get_queryset(self):
        queryset = self.scoped(LabPanel.objects.prefetch_related("results").order_by("id"))
        if self.action != "list":
            return queryset
        queryset = self.filter_common(queryset, date_field="sampled_at__date")
        if (visit := _int_param(self.request, "visit")) is not None:
            queryset = queryset.filter(visit_id=visit)
        return queryset

    def _save(self, *, visit: Visit, payload: dict, panel: LabPanel | None):
        patient = visit.patient
        zone = ZoneInfo(patient.site.time_zone)
        version = expected_version(self.request, payload) if panel else None
        reason = payload.pop("reason_for_change", None) if panel else None
        payload.pop("visit", None)
        if panel is not None:
            current = [
                {"analyte": r.analyte, "value": str(r.value), "unit": r.unit, "sampled_at": r.sampled_at.isoformat()}
                for r in panel.results.all()
            ]
            sent = {item.get("analyte") for item in payload.get("values") or [] if isinstance(item, dict)}
            if isinstance(payload.get("values", []), list):
                payload["values"] = [*(payload.get("values") or []), *(c for c in current if c["analyte"] not in sent)]
            payload.setdefault("sampled_at", panel.sampled_at.isoformat())
        cleaned = inputs.lab_panel_clean(payload, zone=zone)
        outcome = lab_panel_save(
            visit=visit,
            sampled_at=cleaned["sampled_at"],
            values=cleaned["values"],
            panel_data=cleaned["panel_data"],
            visit_date=cleaned["visit_date"],
            user=self.request.user,
            expected_version=version,
            reason=reason,
            today=site_today(patient.site),
        )
        panel = LabPanel.objects.prefetch_related("results").get(pk=outcome.panel.pk)
        panel.warnings = outcome.warnings
        response = Response(
            LabPanelSaveResultSerializer(panel).data, status=status.HTTP_200_OK if version else status.HTTP_201_CREATED
        )
        response["ETag"] = f'"{panel.version}"'
        return response

    @extend_schema(request=LabPanelWriteSerializer, responses={201: LabPanelSaveResultSerializer})
    def create(self, request):
        payload = _body(request)
        visit_id = payload.get("visit")
        if isinstance(visit_id, bool) or not isinstance(visit_id, int):
            raise ValidationError({"visit": ["Give the visit id (GET /api/v1/visits/?patient=<id>)."]})
        visit = (
            Visit.objects.select_related("patient__site")
            .filter(pk=visit_id, patient__site_id__in=user_site_ids(request.user))
            .first()
        )
        if visit is None:
            raise Http404
        if LabPanel.objects.filter(visit=visit).exists():
            raise ValidationError(
                {"visit": ["This visit already has a lab panel; correct it with PATCH /lab-panels/<id>/."]}
            )
        return self._save(visit=visit, payload=payload, panel=None)

    @extend_schema(
        request=LabPanelWriteSerializer, responses={200: LabPanelSaveResultSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        panel = self.get_object()
        visit = Visit.objects.select_related("patient__site").get(pk=panel.visit_id)
        return self._save(visit=visit, payload=_body(request), panel=panel)


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class ResponseAssessmentViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Responses computed at days 3, 7, 14, 21, 28 (section 9) and the investigator's confirmation."""

    perm_model = "assessments.responseassessment"
    action_perms = {"confirm": "assessments.change_responseassessment"}
    serializer_class = ResponseAssessmentSerializer

    def get_queryset(self):
        queryset = self.scoped(ResponseAssessment.objects.order_by("patient_id", "study_day"))
        if self.action != "list":
            return queryset
        return self.filter_common(queryset, date_field="assessment_date")

    @extend_schema(
        request=ResponseConfirmSerializer, responses={200: ResponseAssessmentSerializer}, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        assessment = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        inputs.unknown_fields(payload, {"status", "reason"})
        reason = payload.get("reason") or ""
        if not isinstance(reason, str):
            raise ValidationError({"reason": ["Reason is text."]})
        assessment = response_confirm(
            assessment_id=assessment.pk,
            status=str(payload.get("status") or ""),
            reason=reason,
            expected_version=version,
            user=request.user,
        )
        return Response(ResponseAssessmentSerializer(assessment).data)


AE_INPUT = {f for f in AdverseEventWriteSerializer.Meta.fields if f not in {"patient", "version", "reason_for_change"}}


def _ae_data(payload: dict) -> dict:
    inputs.unknown_fields(payload, AE_INPUT)
    if "term_code" in payload:
        code = payload.pop("term_code")
        term = CtcaeTerm.objects.filter(code=code).first() if isinstance(code, str) else None
        if term is None:
            raise ValidationError({"term_code": [f"Unknown CTCAE v3.0 code {code}."]})
        payload["term"] = term
    if "grade" in payload and not isinstance(payload["grade"], int):
        payload["grade"] = str(payload["grade"])
    for name in ("term", "relationship", "action_taken", "outcome", "other_specify", "description"):
        if name in payload and payload[name] is not None and not isinstance(payload[name], (str, int, CtcaeTerm)):
            raise ValidationError({name: ["Enter text."]})
    return payload


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class AdverseEventViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Adverse events graded by CTCAE v3.0 (section 10); a serious one notifies at once."""

    perm_model = "assessments.adverseevent"
    serializer_class = AdverseEventSerializer

    def get_queryset(self):
        queryset = self.scoped(AdverseEvent.objects.select_related("term").order_by("id"))
        if self.action != "list":
            return queryset
        return self.filter_common(queryset, date_field="onset_date")

    @extend_schema(request=AdverseEventWriteSerializer, responses={201: AdverseEventSerializer})
    def create(self, request):
        payload = _body(request)
        patient_id = payload.pop("patient", None)
        if isinstance(patient_id, bool) or not isinstance(patient_id, int):
            raise ValidationError({"patient": ["Give the patient id."]})
        patient = Patient.objects.filter(pk=patient_id, site_id__in=user_site_ids(request.user)).first()
        if patient is None:
            raise Http404
        ae = adverse_event_record(patient=patient, data=_ae_data(payload), user=request.user)
        return Response(AdverseEventSerializer(ae).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AdverseEventWriteSerializer, responses={200: AdverseEventSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        ae = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        reason = payload.pop("reason_for_change", "")
        if not isinstance(reason, str):
            raise ValidationError({"reason_for_change": ["Enter text."]})
        ae = adverse_event_update(
            ae_id=ae.pk, data=_ae_data(payload), expected_version=version, user=request.user, reason=reason
        )
        response = Response(AdverseEventSerializer(ae).data)
        response["ETag"] = f'"{ae.version}"'
        return response


def _patient_for(request, payload: dict) -> Patient:
    patient_id = payload.pop("patient", None)
    if isinstance(patient_id, bool) or not isinstance(patient_id, int):
        raise ValidationError({"patient": ["Give the patient id."]})
    patient = (
        Patient.objects.select_related("site", "screening")
        .filter(pk=patient_id, site_id__in=user_site_ids(request.user))
        .first()
    )
    if patient is None:
        raise Http404
    return patient


def _text(payload: dict, name: str) -> str:
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({name: ["Enter text."]})
    return value


def _optional_bool(payload: dict, name: str) -> bool | None:
    value = payload.get(name)
    if value not in (True, False, None):
        raise ValidationError({name: ["true, false or null (not known)."]})
    return value


DOSE_FIELDS = {"treatment_day", "slot", "status", "administered_at", "amount_mg", "reason"}


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT]))
class DoseViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Ruxolitinib doses, twice daily on treatment days 1-28 (section 6): given (time, amount), missed or held."""

    perm_model = "patients.doseadministration"
    serializer_class = DoseSerializer

    def get_queryset(self):
        queryset = self.scoped(DoseAdministration.objects.order_by("patient_id", "treatment_day", "slot"))
        return self.filter_common(queryset) if self.action == "list" else queryset

    def _record(self, *, patient: Patient, payload: dict, **extra):
        inputs.unknown_fields(payload, DOSE_FIELDS)
        zone = ZoneInfo(patient.site.time_zone)
        at = payload.get("administered_at")
        administered_at = inputs.parse_moment(at, zone=zone, field="administered_at") if at else None
        amount = payload.get("amount_mg")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float, str))):
            raise ValidationError({"amount_mg": ["Enter a number."]})
        return dose_record(
            patient=patient,
            treatment_day=payload.get("treatment_day"),
            slot=payload.get("slot"),
            status=payload.get("status"),
            administered_at=administered_at,
            amount_mg=amount,
            reason=_text(payload, "reason"),
            user=self.request.user,
            **extra,
        )

    @extend_schema(request=DoseWriteSerializer, responses={201: DoseSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        day, slot = payload.get("treatment_day"), payload.get("slot")
        recorded = isinstance(day, int) and isinstance(slot, str)
        if recorded and DoseAdministration.objects.filter(patient=patient, treatment_day=day, slot=slot).exists():
            raise ValidationError({"slot": ["This dose is recorded; correct it with PATCH /doses/<id>/."]})
        dose = self._record(patient=patient, payload=payload)
        return Response(DoseSerializer(dose).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DoseWriteSerializer, responses={200: DoseSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        dose = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        change_reason = _text(payload, "reason_for_change")
        payload.pop("reason_for_change", None)
        payload.pop("patient", None)
        current = {
            "treatment_day": dose.treatment_day,
            "slot": dose.slot,
            "status": dose.status,
            "administered_at": dose.administered_at.isoformat() if dose.administered_at else None,
            "amount_mg": str(dose.amount_mg) if dose.amount_mg is not None else None,
            "reason": dose.reason,
        }
        patient = Patient.objects.select_related("site", "screening").get(pk=dose.patient_id)
        dose = self._record(
            patient=patient,
            payload={**current, **payload},
            expected_version=version,
            change_reason=change_reason,
        )
        return Response(DoseSerializer(dose).data)


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT]))
class TreatmentEndViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """End of ruxolitinib: completed 28 days, or discontinued with its reason (section 6)."""

    perm_model = "patients.treatmentend"
    serializer_class = TreatmentEndSerializer

    def get_queryset(self):
        queryset = self.scoped(TreatmentEnd.objects.order_by("id"))
        return self.filter_common(queryset) if self.action == "list" else queryset

    @extend_schema(request=TreatmentEndWriteSerializer, responses={201: TreatmentEndSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        inputs.unknown_fields(payload, {"outcome", "reason", "reason_detail", "last_dose_date"})
        if TreatmentEnd.objects.filter(patient=patient).exists():
            raise ValidationError({"non_field_errors": ["The end of treatment is recorded; correct it on its page."]})
        end = treatment_end_record(
            patient=patient,
            outcome=_text(payload, "outcome"),
            reason=_text(payload, "reason"),
            reason_detail=_text(payload, "reason_detail"),
            last_dose_date=inputs.parse_day(payload.get("last_dose_date"), field="last_dose_date"),
            user=request.user,
        )
        return Response(TreatmentEndSerializer(end).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class FollowUpViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Follow-up contacts: alive, dead (with the death) or lost; HLH relapse."""

    perm_model = "patients.followup"
    serializer_class = FollowUpSerializer

    def get_queryset(self):
        queryset = self.scoped(FollowUp.objects.order_by("id"))
        return self.filter_common(queryset, date_field="assessed_on") if self.action == "list" else queryset

    @extend_schema(request=FollowUpWriteSerializer, responses={201: FollowUpSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        inputs.unknown_fields(
            payload,
            {
                "assessed_on",
                "vital_status",
                "hlh_relapse",
                "notes",
                "date_of_death",
                "death_cause",
                "death_hlh_related",
            },
        )
        death = payload.get("date_of_death")
        follow_up = follow_up_record(
            patient=patient,
            assessed_on=inputs.parse_day(payload.get("assessed_on"), field="assessed_on"),
            vital_status=_text(payload, "vital_status"),
            hlh_relapse=_optional_bool(payload, "hlh_relapse"),
            notes=_text(payload, "notes"),
            date_of_death=inputs.parse_day(death, field="date_of_death") if death else None,
            death_cause=_text(payload, "death_cause"),
            death_hlh_related=_optional_bool(payload, "death_hlh_related"),
            user=request.user,
        )
        return Response(FollowUpSerializer(follow_up).data, status=status.HTTP_201_CREATED)


class SiteListView(APIView):
    @extend_schema(responses={200: SiteSerializer(many=True)})
    def get(self, request):
        return Response(SiteSerializer(user_sites(request.user), many=True).data)


class AnalyteListView(APIView):
    """The lab catalogue: codes, units accepted and physiological limits (a value outside is refused)."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "Analyte",
                fields={
                    "code": serializers.CharField(),
                    "label": serializers.CharField(),
                    "unit": serializers.CharField(),
                    "units": serializers.ListField(child=serializers.CharField()),
                    "minimum": serializers.FloatField(),
                    "maximum": serializers.FloatField(),
                    "group": serializers.CharField(),
                },
                many=True,
            )
        }
    )
    def get(self, request):
        return Response(
            [
                {
                    "code": a.code,
                    "label": a.label,
                    "unit": a.unit,
                    "units": list(units_for(a.code)),
                    "minimum": a.minimum,
                    "maximum": a.maximum,
                    "group": a.group,
                }
                for a in ANALYTES.values()
            ]
        )


class ImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """POST a bundle (docs/import.md); a Celery task validates everything, then writes all or nothing."""

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.none()  # typed path parameter in the schema; get_queryset scopes
    permission_classes = [RolePermission]
    perm_model = "patients.screening"

    def get_queryset(self):
        return ImportJob.objects.filter(created_by=self.request.user)

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={202: ImportJobSerializer},
        description="Body: the bundle of docs/import.md. Poll GET /imports/{id}/ for progress and errors.",
    )
    def create(self, request):
        from api.tasks import import_bundle_task

        if not request.user.has_perm("patients.enroll_patient"):
            return Response({"detail": "You do not have permission to perform this action."}, status=403)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Send the bundle as a JSON object."]})
        try:
            text = json.dumps(request.data)
            text.encode("utf-8")
        except (TypeError, ValueError, UnicodeEncodeError):
            raise ValidationError({"non_field_errors": ["The bundle is not valid UTF-8 JSON."]}) from None
        if "\\u0000" in text:
            raise ValidationError({"non_field_errors": ["The bundle contains a NUL character (\\u0000)."]})
        job = ImportJob.objects.create(bundle=request.data, created_by=request.user)
        transaction.on_commit(lambda: import_bundle_task.delay(job.pk))
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    def retrieve(self, request, *args, **kwargs):
        job = self.get_object()
        return Response(ImportJobSerializer(job).data)
