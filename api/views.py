"""The REST API: thin views that validate with the pages' forms and write through the services."""

import math
import re
from contextlib import contextmanager
from datetime import date
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from api import filters, inputs, scalars
from api.bundle_zip import MAX_TOTAL_BYTES, BundleTooLarge, is_zip, megabytes
from api.csv_bundle import CsvBundleReader
from api.models import ImportJob
from api.parsing import BUNDLE_FIELD, BodyTooLarge, BundleMultiPartParser, StrictJSONParser, ZipBodyParser, json_loads
from api.permissions import RolePermission
from api.serializers import (
    AdverseEventSerializer,
    AdverseEventWriteSerializer,
    DataQueryDetailSerializer,
    DataQuerySerializer,
    DeathSerializer,
    DeathWriteSerializer,
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
    QueryRaiseSerializer,
    QueryStepSerializer,
    ResponseAssessmentSerializer,
    ResponseConfirmSerializer,
    ScreeningSerializer,
    ScreeningWriteSerializer,
    SiteSerializer,
    SubsequentTherapySerializer,
    SubsequentTherapyWriteSerializer,
    SupportiveCareSerializer,
    SupportiveCareWriteSerializer,
    TreatmentEndSerializer,
    TreatmentEndWriteSerializer,
    UnscheduledVisitSerializer,
    VisitNotDoneSerializer,
    VisitSerializer,
)
from assessments.forms.labs import SupportiveCareForm
from assessments.models import AdverseEvent, CtcaeTerm, LabPanel, ResponseAssessment, SupportiveCare, Visit
from assessments.report import study_report
from assessments.services.adverse_events import adverse_event_record, adverse_event_update
from assessments.services.labs import lab_panel_save, supportive_care_record, supportive_care_update
from assessments.services.responses import response_confirm
from assessments.services.visits import visit_not_done_record, visit_unscheduled_add
from crf.models import DataQuery, QueryMessage
from crf.outbox import task_enqueue
from patients.forms import DeathForm, SubsequentTherapyForm
from patients.models import (
    Death,
    DoseAdministration,
    Eligibility,
    FollowUp,
    Patient,
    Screening,
    SubsequentTherapy,
    TreatmentEnd,
)
from patients.services import (
    DoseAlreadyRecorded,
    death_record,
    dose_record,
    follow_up_record,
    patient_enroll,
    screening_create,
    screening_update,
    subsequent_therapy_record,
    subsequent_therapy_update,
    treatment_end_record,
)
from queries.selectors import query_targets
from queries.services import (
    QueryNotAllowed,
    query_answer,
    query_can_raise,
    query_close,
    query_comment,
    query_raise,
    query_reopen,
    query_step_check,
)
from trial.analytes import ANALYTES, units_for
from trial.clock import site_today
from trial.selectors import user_site_ids, user_sites
from trial.text_columns import length_message, text_problem
from trial.versioning import REASON_MAX_LENGTH

SITE = OpenApiParameter("site", str, description="Site code, e.g. BCH.")
PATIENT = OpenApiParameter("patient", int, description="Patient id.")
VISIT = OpenApiParameter("visit", int, description="Visit id.")
DATE_FROM = OpenApiParameter("date_from", OpenApiTypes.DATE, description="On or after (YYYY-MM-DD).")
DATE_TO = OpenApiParameter("date_to", OpenApiTypes.DATE, description="On or before (YYYY-MM-DD).")
IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, description="The ETag (version) you loaded; same as body 'version'."
)


def _bad_text(value: str) -> bool:
    return text_problem(value) is not None


def _day(value, *, field: str) -> date:
    return scalars.day(value, field=field, impossible=scalars.DATE_MESSAGE)


def _moment(value, *, zone: ZoneInfo, field: str):
    return scalars.moment(value, zone=zone, field=field)


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
    if isinstance(raw, bool):
        raise ValidationError({"version": ["Version is a whole number."]})
    value = scalars.whole_number(raw, field="version", message="Version is a whole number.")
    if value < 1:
        raise ValidationError({"version": ["Version is a whole number."]})
    return value


def _change_reason(payload: dict) -> str:
    """The reason for change of saved data (required by the services), within what the history keeps."""
    reason = payload.pop("reason_for_change", None)
    if reason is None:
        return ""
    if not isinstance(reason, str) or _bad_text(reason):
        raise ValidationError({"reason_for_change": ["Enter text."]})
    if len(reason.strip()) > REASON_MAX_LENGTH:
        message = length_message("Reason for change", REASON_MAX_LENGTH, len(reason.strip()))
        raise ValidationError({"reason_for_change": [message]})
    return reason


@contextmanager
def _api_names(names: dict[str, str]):
    """A service's errors under the API's names of its fields (the model's or the service's differ)."""
    try:
        yield
    except ValidationError as exc:
        if not (hasattr(exc, "error_dict") and set(exc.error_dict) & set(names)):
            raise
        raise ValidationError({names.get(key, key): v for key, v in exc.message_dict.items()}) from exc


def _reason_field():
    """The services call the reason for change `change_reason`; the API (and the pages) `reason_for_change`."""
    return _api_names({"change_reason": "reason_for_change"})


class ETagMixin:
    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = f'"{instance.version}"'
        return response


class ScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [RolePermission]
    site_field = "patient__site_id"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for name, value in request.query_params.items():
            if "\x00" in value:  # the database refuses it in any text it compares
                raise ValidationError({name: ["The value contains a NUL character."]})

    def scoped(self, queryset):
        return queryset.filter(**{f"{self.site_field}__in": user_site_ids(self.request.user)})

    def filter_common(self, queryset, *, date_field: str | None = None, patient_field: str | None = "patient_id"):
        """site, patient and date_from/date_to; a site or patient not the user's is a 400 naming it."""
        request = self.request
        if site := filters.site_code(request, "site", user_sites(request.user)):
            queryset = queryset.filter(**{self.site_field.replace("_id", "__code"): site})
        if patient_field:
            patients = Patient.objects.filter(site_id__in=user_site_ids(request.user))
            if (patient := filters.record_id(request, "patient", patients, label="patient")) is not None:
                queryset = queryset.filter(**{patient_field: patient})
        if date_field:
            if (start := filters.day(request, "date_from")) is not None:
                queryset = queryset.filter(**{f"{date_field}__gte": start})
            if (end := filters.day(request, "date_to")) is not None:
                queryset = queryset.filter(**{f"{date_field}__lte": end})
        return queryset

    def filter_choices(self, queryset, choices: dict):
        """Filters on a field's choices ({"status": Screening.Status}); a value not among them is a 400."""
        for name, values in choices.items():
            if (value := filters.choice(self.request, name, values)) is not None:
                queryset = queryset.filter(**{name: value})
        return queryset


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SITE,
            DATE_FROM,
            DATE_TO,
            OpenApiParameter("status", str, enum=[c.value for c in Screening.Status]),
            OpenApiParameter("eligibility", str, enum=[c.value for c in Eligibility]),
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
        return self.filter_choices(queryset, {"status": Screening.Status, "eligibility": Eligibility})

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
        return self.filter_choices(
            queryset, {"status": Patient.Status, "risk_group": Patient.RiskGroup, "etiology": Patient.Etiology}
        )


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
            visit_date=_day(payload.get("visit_date"), field="visit_date"),
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
        visits = self.scoped(Visit.objects.all())
        if (visit := filters.record_id(self.request, "visit", visits, label="visit")) is not None:
            queryset = queryset.filter(visit_id=visit)
        return queryset

    def _save(self, *, visit: Visit, payload: dict, panel: LabPanel | None):
        patient = visit.patient
        zone = ZoneInfo(patient.site.time_zone)
        version = expected_version(self.request, payload) if panel else None
        reason = (_change_reason(payload) or None) if panel else None
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
        with _api_names({"confirmation_reason": "reason"}):
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
    payload.update(scalars.strict_values(payload, inputs.AE_VALUES))
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
        reason = _change_reason(payload)
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


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT]))
class DoseViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Ruxolitinib doses, twice daily on treatment days 1-28 (section 6): given (time, amount), missed or held."""

    perm_model = "patients.doseadministration"
    serializer_class = DoseSerializer

    def get_queryset(self):
        queryset = self.scoped(DoseAdministration.objects.order_by("patient_id", "treatment_day", "slot"))
        return self.filter_common(queryset) if self.action == "list" else queryset

    def _record(self, *, patient: Patient, payload: dict, **extra):
        inputs.unknown_fields(payload, inputs.DOSE_FIELDS)
        zone = ZoneInfo(patient.site.time_zone)
        at = payload.get("administered_at")
        administered_at = _moment(at, zone=zone, field="administered_at") if at else None
        amount = payload.get("amount_mg")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float, str))):
            raise ValidationError({"amount_mg": ["Enter a number."]})
        amount = scalars.strict_values(payload, inputs.DOSE_VALUES).get("amount_mg")
        return dose_record(
            patient=patient,
            treatment_day=payload.get("treatment_day"),
            slot=payload.get("slot"),
            status=payload.get("status"),
            administered_at=administered_at,
            amount_mg=amount,
            reason=_text(payload, "reason"),
            user=self.request.user,
            confirm_short_interval=payload.get("confirm_short_interval", False),
            **extra,
        )

    @extend_schema(request=DoseWriteSerializer, responses={201: DoseSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        try:
            dose = self._record(patient=patient, payload=payload, expect_empty=True)
        except DoseAlreadyRecorded as exc:  # a repeated or stale POST changes nothing
            raise ValidationError({"slot": [f"{' '.join(exc.messages)} (PATCH /doses/{exc.dose.pk}/)"]}) from exc
        return Response(DoseSerializer(dose).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DoseWriteSerializer, responses={200: DoseSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        dose = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        change_reason = _change_reason(payload)
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
        with _reason_field():
            dose = self._record(
                patient=patient,
                payload={**current, **payload},
                expected_version=version,
                change_reason=change_reason,
            )
        return Response(DoseSerializer(dose).data)


TREATMENT_END_FIELDS = ("outcome", "reason", "reason_detail", "last_dose_date")


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
        inputs.unknown_fields(payload, TREATMENT_END_FIELDS)
        recorded = TreatmentEnd.objects.filter(patient=patient).first()
        if recorded is not None:
            raise ValidationError(
                {
                    "non_field_errors": [
                        f"The end of treatment is recorded; correct it with PATCH /treatment-ends/{recorded.pk}/."
                    ]
                }
            )
        end = treatment_end_record(
            patient=patient,
            outcome=_text(payload, "outcome"),
            reason=_text(payload, "reason"),
            reason_detail=_text(payload, "reason_detail"),
            last_dose_date=_day(payload.get("last_dose_date"), field="last_dose_date"),
            user=request.user,
        )
        return Response(TreatmentEndSerializer(end).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TreatmentEndWriteSerializer, responses={200: TreatmentEndSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        """Correct the end of treatment: the version loaded and a reason for change."""
        end = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        reason = _change_reason(payload)
        payload.pop("patient", None)
        inputs.unknown_fields(payload, TREATMENT_END_FIELDS)
        merged = {**_current(end, TREATMENT_END_FIELDS), **payload}
        patient = Patient.objects.select_related("site__trial", "screening").get(pk=end.patient_id)
        with _reason_field():
            end = treatment_end_record(
                patient=patient,
                outcome=_text(merged, "outcome"),
                reason=_text(merged, "reason"),
                reason_detail=_text(merged, "reason_detail"),
                last_dose_date=_day(merged.get("last_dose_date"), field="last_dose_date"),
                user=request.user,
                expected_version=version,
                change_reason=reason,
            )
        return _etag(Response(TreatmentEndSerializer(end).data), end)


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
        with _api_names({"cause": "death_cause", "hlh_related": "death_hlh_related"}):  # the Death's own fields
            follow_up = follow_up_record(
                patient=patient,
                assessed_on=_day(payload.get("assessed_on"), field="assessed_on"),
                vital_status=_text(payload, "vital_status"),
                hlh_relapse=_optional_bool(payload, "hlh_relapse"),
                notes=_text(payload, "notes"),
                date_of_death=_day(death, field="date_of_death") if death else None,
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
    parser_classes = [StrictJSONParser, BundleMultiPartParser, ZipBodyParser]
    body_field = BUNDLE_FIELD  # a body over the size limit is refused naming it (api.errors)

    def get_queryset(self):
        return ImportJob.objects.filter(created_by=self.request.user)

    @extend_schema(
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": inline_serializer(
                name="ImportUpload",
                fields={
                    "bundle": serializers.FileField(
                        help_text="A ZIP of CSV files (one per form) or a JSON bundle file; see docs/import.md."
                    )
                },
            ),
            "application/zip": OpenApiTypes.BINARY,
        },
        responses={202: ImportJobSerializer},
        description=(
            "Body: the JSON bundle of docs/import.md, or the CSV bundle (a ZIP of CSV files) as the body "
            "(Content-Type: application/zip) or as the multipart file field `bundle`. Poll GET /imports/{id}/ "
            "for progress and errors; a CSV bundle's errors name the file, line and column. A bundle over a "
            "size limit is refused at once with 413 naming the limit (docs/import.md)."
        ),
    )
    def create(self, request):
        if not request.user.has_perm("patients.enroll_patient"):
            return Response({"detail": "You do not have permission to perform this action."}, status=403)
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type == "application/zip":
            data = request.data
            if not hasattr(data, "read") or not is_zip(data):
                raise ValidationError({"non_field_errors": ["The body is not a ZIP file of CSV files."]})
            return self.csv_job(request, data)
        if content_type == "multipart/form-data":
            upload = request.FILES.get("bundle")
            if upload is None:
                raise ValidationError(
                    {"bundle": ["Send the bundle as the file field 'bundle': a ZIP of CSV files or a JSON file."]}
                )
            if is_zip(upload):
                return self.csv_job(request, upload)
            if upload.size > MAX_TOTAL_BYTES:
                raise BodyTooLarge(
                    BUNDLE_FIELD, f"A JSON bundle is at most {megabytes(MAX_TOTAL_BYTES)}; split the bundle."
                )
            bundle = json_loads(upload.read(), field="bundle", not_json="Neither a ZIP of CSV files nor a JSON bundle.")
            return self.json_job(request, bundle)
        return self.json_job(request, request.data)

    def json_job(self, request, bundle):
        # Its text was read by api.parsing: no NUL, no lone surrogate, no NaN, nested within bounds.
        if not isinstance(bundle, dict):
            raise ValidationError({"non_field_errors": ["Send the bundle as a JSON object."]})
        return self.queued(ImportJob.objects.create(bundle=bundle, created_by=request.user))

    def csv_job(self, request, data):
        """Read the CSV files now: the job keeps the JSON bundle, each record's file and line, and the
        errors of the CSV files (the task still checks the rest, to list every error at once)."""
        try:
            bundle, locations, errors = CsvBundleReader().convert(data)
        except BundleTooLarge as exc:  # refused before a row is read, and nothing is stored
            raise BodyTooLarge(BUNDLE_FIELD, str(exc)) from None
        if bundle is None:  # the ZIP, screenings.csv or enrollments.csv cannot be read: nothing to check
            job = ImportJob.objects.create(
                bundle={},
                created_by=request.user,
                status=ImportJob.Status.FAILED,
                errors=errors,
                finished_at=timezone.now(),
            )
            return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        return self.queued(
            ImportJob.objects.create(bundle=bundle, locations=locations, errors=errors, created_by=request.user)
        )

    def queued(self, job: ImportJob) -> Response:
        from api.tasks import import_key

        task_enqueue("api.import_bundle", job.pk, key=import_key(job.pk))
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    def retrieve(self, request, *args, **kwargs):
        from api.tasks import import_job_check

        job = import_job_check(self.get_object())  # a job lost with its worker is queued again
        return Response(ImportJobSerializer(job).data)


# Supportive care, subsequent therapy, death: JSON types checked here, then the page's own form
# cleans the values (same messages, same length and choice limits) and the page's service writes.

TEXT, BOOL, NULL_BOOL, DATE = "text", "bool", "null_bool", "date"


def _typed(payload: dict, spec: dict[str, str]) -> None:
    """Refuse unknown fields and values of the wrong JSON type, each error under its field."""
    inputs.unknown_fields(payload, spec)
    errors: dict[str, list[str]] = {}
    for name, value in payload.items():
        kind = spec[name]
        if kind == TEXT and value is not None and not isinstance(value, str):
            errors[name] = ["Enter text."]
        elif kind == TEXT and isinstance(value, str) and (problem := text_problem(value)):
            errors[name] = [problem]
        elif kind == BOOL and not isinstance(value, bool):
            errors[name] = ["true or false."]
        elif kind == NULL_BOOL and value is not None and not isinstance(value, bool):
            errors[name] = ["true, false or null (not known)."]
        elif kind == DATE and value is not None:
            try:
                _day(value, field=name)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def _form_clean(form_class, values: dict, **kwargs) -> dict:
    """The values as the page's form cleans them (its errors by field, as on the page)."""
    inputs.strict_form_values(form_class, values)
    form = form_class(data=inputs.form_data(values), **kwargs)
    if not form.is_valid():
        raise ValidationError(inputs.form_errors(form))
    return form.cleaned_data


def _as_json(value):
    return value.isoformat() if isinstance(value, date) else value


def _current(record, fields) -> dict:
    return {name: _as_json(getattr(record, name)) for name in fields}


def _etag(response: Response, record) -> Response:
    response["ETag"] = f'"{record.version}"'
    return response


CARE_FIELDS = {"kind": TEXT, "product": TEXT, "given_on": DATE, "detail": TEXT}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SITE,
            PATIENT,
            DATE_FROM,
            DATE_TO,
            OpenApiParameter("kind", str, enum=[c.value for c in SupportiveCare.Kind]),
        ]
    )
)
class SupportiveCareViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """G-CSF and transfusions (section 9): counts supported in the 4 days before do not count for a response."""

    perm_model = "assessments.supportivecare"
    serializer_class = SupportiveCareSerializer

    def get_queryset(self):
        queryset = self.scoped(SupportiveCare.objects.order_by("id"))
        if self.action != "list":
            return queryset
        queryset = self.filter_common(queryset, date_field="given_on")
        return self.filter_choices(queryset, {"kind": SupportiveCare.Kind})

    @extend_schema(request=SupportiveCareWriteSerializer, responses={201: SupportiveCareSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        _typed(payload, CARE_FIELDS)
        data = _form_clean(SupportiveCareForm, payload)
        care = supportive_care_record(patient=patient, **data, user=request.user, today=site_today(patient.site))
        return Response(SupportiveCareSerializer(care).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SupportiveCareWriteSerializer, responses={200: SupportiveCareSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        care = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        reason = _change_reason(payload)
        payload.pop("patient", None)
        _typed(payload, CARE_FIELDS)
        data = _form_clean(SupportiveCareForm, {**_current(care, CARE_FIELDS), **payload})
        patient = Patient.objects.select_related("site").get(pk=care.patient_id)
        care = supportive_care_update(
            care_id=care.pk,
            **data,
            user=request.user,
            expected_version=version,
            reason=reason,
            today=site_today(patient.site),
        )
        return _etag(Response(SupportiveCareSerializer(care).data), care)


THERAPY_FIELDS = {
    "regimen": TEXT,
    "start_date": DATE,
    "etoposide": BOOL,
    "dexamethasone": BOOL,
    "cyclosporine": BOOL,
    "other_drugs": TEXT,
    "response": TEXT,
    "outcome": TEXT,
}


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class SubsequentTherapyViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Therapy after ruxolitinib (section 6), usually HLH-1994: etoposide + dexamethasone +/- cyclosporine A."""

    perm_model = "patients.subsequenttherapy"
    serializer_class = SubsequentTherapySerializer

    def get_queryset(self):
        queryset = self.scoped(SubsequentTherapy.objects.order_by("id"))
        return self.filter_common(queryset, date_field="start_date") if self.action == "list" else queryset

    @extend_schema(request=SubsequentTherapyWriteSerializer, responses={201: SubsequentTherapySerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        _typed(payload, THERAPY_FIELDS)
        data = _form_clean(SubsequentTherapyForm, payload, site=patient.site)
        existing = SubsequentTherapy.objects.filter(
            patient=patient, regimen=data["regimen"], start_date=data["start_date"]
        ).first()
        if existing is not None:
            raise ValidationError(
                {
                    "start_date": [
                        f"This regimen starting on {data['start_date']} is recorded; "
                        f"correct it with PATCH /subsequent-therapies/{existing.pk}/."
                    ]
                }
            )
        therapy = subsequent_therapy_record(patient=patient, user=request.user, **data)
        return Response(SubsequentTherapySerializer(therapy).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SubsequentTherapyWriteSerializer, responses={200: SubsequentTherapySerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        therapy = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        reason = _change_reason(payload)
        payload.pop("patient", None)
        _typed(payload, THERAPY_FIELDS)
        patient = Patient.objects.select_related("site").get(pk=therapy.patient_id)
        data = _form_clean(SubsequentTherapyForm, {**_current(therapy, THERAPY_FIELDS), **payload}, site=patient.site)
        with _reason_field():
            therapy = subsequent_therapy_update(
                therapy=therapy, user=request.user, expected_version=version, change_reason=reason, **data
            )
        return _etag(Response(SubsequentTherapySerializer(therapy).data), therapy)


DEATH_FIELDS = {"date_of_death": DATE, "cause": TEXT, "hlh_related": NULL_BOOL}


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class DeathViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A patient's death (sections 6 and 11): off study, an event of event-free survival; a grade 5 AE needs it."""

    perm_model = "patients.death"
    serializer_class = DeathSerializer

    def get_queryset(self):
        queryset = self.scoped(Death.objects.order_by("id"))
        return self.filter_common(queryset, date_field="date_of_death") if self.action == "list" else queryset

    @extend_schema(request=DeathWriteSerializer, responses={201: DeathSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        _typed(payload, DEATH_FIELDS)
        recorded = Death.objects.filter(patient=patient).first()
        if recorded is not None:
            raise ValidationError(
                {"non_field_errors": [f"The death is recorded; correct it with PATCH /deaths/{recorded.pk}/."]}
            )
        data = _form_clean(DeathForm, payload, site=patient.site)
        death = death_record(patient=patient, user=request.user, **data)
        return Response(DeathSerializer(death).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DeathWriteSerializer, responses={200: DeathSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        death = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        reason = _change_reason(payload)
        payload.pop("patient", None)
        _typed(payload, DEATH_FIELDS)
        patient = Patient.objects.select_related("site", "screening").get(pk=death.patient_id)
        data = _form_clean(DeathForm, {**_current(death, DEATH_FIELDS), **payload}, site=patient.site)
        with _reason_field():
            death = death_record(
                patient=patient, user=request.user, expected_version=version, change_reason=reason, **data
            )
        return _etag(Response(DeathSerializer(death).data), death)


# Data queries: each step through the queries services, with the pages' lifecycle and role rules.

QUERY_FORM = OpenApiParameter(
    "form", str, description="The queried record's form (app.model), e.g. patients.screening, assessments.labpanel."
)
QUERY_FORM_PATTERN = re.compile(r"[a-z_]+\.[a-z_]+")
QUERY_STEPS = {"answer": query_answer, "close": query_close, "reopen": query_reopen}


def _message_text(payload: dict) -> str:
    text = payload.get("text")
    if not isinstance(text, str) or _bad_text(text):
        raise ValidationError({"text": ["Write the message as text."]})
    return text


def _optional_version(request, payload: dict) -> int | None:
    """Query steps may name the version they were made against (409 if it moved on); the pages do not."""
    if "version" in payload or request.headers.get("If-Match"):
        return expected_version(request, payload)
    return None


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SITE,
            PATIENT,
            QUERY_FORM,
            DATE_FROM,
            DATE_TO,
            OpenApiParameter("status", str, enum=[c.value for c in DataQuery.Status]),
            OpenApiParameter("origin", str, enum=[c.value for c in DataQuery.Origin]),
        ]
    )
)
class DataQueryViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Data queries on a patient's records: open -> answered (site) -> closed or re-opened (monitor, data manager).

    Automatic ones come from the edit checks and close themselves once the data pass.
    """

    serializer_class = DataQuerySerializer

    def get_serializer_class(self):
        return DataQueryDetailSerializer if self.action != "list" else DataQuerySerializer

    def get_queryset(self):
        queryset = self.scoped(
            DataQuery.objects.select_related("patient__site", "raised_by", "closed_by").order_by("id")
        )
        if self.action != "list":
            return queryset.prefetch_related(Prefetch("messages", QueryMessage.objects.select_related("author")))
        queryset = self.filter_common(queryset, date_field="created_at__date")
        queryset = self.filter_choices(queryset, {"status": DataQuery.Status, "origin": DataQuery.Origin})
        if form := self.request.query_params.get("form"):
            if not QUERY_FORM_PATTERN.fullmatch(form):
                raise ValidationError({"form": ["Give the form as app.model, e.g. assessments.labpanel."]})
            queryset = queryset.filter(target__startswith=f"{form}:")
        return queryset

    def _detail(self, query: DataQuery, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=query.pk)
        return _etag(Response(DataQueryDetailSerializer(fresh).data, status=code), fresh)

    @extend_schema(request=QueryRaiseSerializer, responses={201: DataQueryDetailSerializer})
    def create(self, request):
        if not query_can_raise(request.user):
            raise QueryNotAllowed("Only monitors and data managers raise queries.")
        payload = _body(request)
        patient = _patient_for(request, payload)
        _typed(payload, {"target": TEXT, "field": TEXT, "text": TEXT})
        target = payload.get("target")
        targets = dict(query_targets(patient))
        if target not in targets:
            raise ValidationError({"target": [f"Record: choose one of this patient's records ({', '.join(targets)})."]})
        field = (payload.get("field") or "").strip()
        limit = DataQuery._meta.get_field("field").max_length
        if len(field) > limit:
            raise ValidationError({"field": [f"Field must be at most {limit} characters (it has {len(field)})."]})
        query = query_raise(
            patient=patient, target=target, field=field, text=payload.get("text") or "", user=request.user
        )
        return self._detail(query, status.HTTP_201_CREATED)

    def _step(self, request, name: str) -> Response:
        query = self.get_object()
        query_step_check(request.user, name)  # a refused role is a 403 whatever the body
        payload = _body(request)
        version = _optional_version(request, payload)
        inputs.unknown_fields(payload, {"text"})
        text = _message_text(payload)
        if name == "comment":
            query = query_comment(query_id=query.pk, user=request.user, text=text)
        else:
            query = QUERY_STEPS[name](query_id=query.pk, user=request.user, text=text, expected_version=version)
        return self._detail(query)

    @extend_schema(request=QueryStepSerializer, responses={200: DataQueryDetailSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """The site answers (clinicians, coordinators): open -> answered."""
        return self._step(request, "answer")

    @extend_schema(request=QueryStepSerializer, responses={200: DataQueryDetailSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Monitors and data managers close: open or answered -> closed."""
        return self._step(request, "close")

    @extend_schema(request=QueryStepSerializer, responses={200: DataQueryDetailSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Monitors and data managers re-open: answered or closed -> open."""
        return self._step(request, "reopen")

    @extend_schema(request=QueryStepSerializer, responses={200: DataQueryDetailSerializer})
    @action(detail=True, methods=["post"])
    def messages(self, request, pk=None):
        """A message in the conversation without a change of status (not on a closed query)."""
        return self._step(request, "comment")


def _finite(value):
    """NaN and infinity are not JSON: a figure that cannot be computed is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


REPORT_SCHEMA = inline_serializer(
    "StudyReport",
    fields={
        "generated_at": serializers.CharField(help_text="When the figures were computed (ISO 8601)."),
        "today": serializers.DateField(
            help_text="The day the report was computed for: the latest of the sites' dates (each site's own zone)."
        ),
        "site_dates": serializers.DictField(
            child=serializers.DateField(), help_text="Each site's date (its own time zone) when computed: {code: date}."
        ),
        "data_version": serializers.CharField(help_text="Changes with any write to the data the report reads."),
        "sites": serializers.ListField(child=serializers.CharField(), help_text="Site codes the figures cover."),
        "enrollment": inline_serializer(
            "StudyReportEnrollment",
            fields={
                "screened": serializers.IntegerField(),
                "screen_failures": serializers.IntegerField(),
                "screen_failures_by_criterion": serializers.ListField(
                    child=serializers.DictField(), help_text="[{criterion, count}]"
                ),
                "enrolled": serializers.IntegerField(),
                "on_treatment": serializers.IntegerField(),
                "completed_28_days": serializers.IntegerField(),
                "discontinued": serializers.IntegerField(),
                "discontinued_by_reason": serializers.ListField(
                    child=serializers.DictField(), help_text="[{reason, count}]"
                ),
                "in_follow_up": serializers.IntegerField(),
                "deaths": serializers.IntegerField(),
            },
        ),
        "baseline": serializers.DictField(
            help_text="Baseline characteristics: {patients: [subject], rows: [{label, unit, values, display, "
            "summary: {n, median, minimum, maximum}, summary_display, footnote}], footnotes: [text]}."
        ),
        "outcomes": serializers.ListField(
            child=serializers.DictField(),
            help_text="Per patient: subject, etiology, risk_group, treatment_days, stop_reason, best_response "
            "(and day), response_duration_days, subsequent_therapy, survival, alive, efs_days, efs_event, "
            "outside_analysis (why the patient is outside the data-cutoff analysis, else empty).",
        ),
        "analysis": serializers.DictField(
            help_text="The data-cutoff analysis that response rates, EFS, follow-up and week-1 figures count: "
            "{data_cutoffs: [date], patients, outside_cutoff: [{subject, reason}]} (first dose after the cutoff)."
        ),
        "response_rates": serializers.ListField(
            child=serializers.DictField(),
            help_text="Best overall response to day 28 by group: {group, label, n, cr, pr, improvement, or}, each "
            "{count, total, percent, ci_low, ci_high} with the exact 95 % interval.",
        ),
        "efs": serializers.DictField(
            help_text="Kaplan-Meier event-free survival at day 183: overall, by_risk, logrank_high_vs_low, "
            "without_follow_up (patients without an EFS time yet)."
        ),
        "follow_up": serializers.DictField(
            help_text="Follow-up from the first dose to death or last contact, capped at the data cutoff (not the "
            "EFS times): {n, days: {n, median, minimum, maximum}, months: (the same), days_per_month (30.4375), "
            "without_follow_up}. Per patient in outcomes: last_contact, follow_up_days, follow_up_ended_by."
        ),
        "week1": serializers.ListField(
            child=serializers.DictField(),
            help_text="Baseline vs day 7 per marker in CR and non-CR patients: {code, label, unit, cr, non_cr}, "
            "each {n, baseline_median, day7_median, p_value} (paired Wilcoxon).",
        ),
        "adverse_events": serializers.DictField(
            help_text="{patients: [{subject, dose_mg, treatment_days, events, discontinued}], summary: [{term, "
            "patients, by_max_grade}], total_events, serious}."
        ),
        "normal_ranges": serializers.DictField(help_text="{analyte: {lower, upper, unit, label}} used in footnotes."),
    },
)


class StudyReportView(APIView):
    """The study report's figures (section 11) for your sites: the same as the report page and /report.json."""

    @extend_schema(
        responses={
            200: OpenApiResponse(
                REPORT_SCHEMA,
                description="Enrollment, baseline, outcomes, response rates, EFS, week-1 markers and adverse "
                "events of the enrolled patients at your sites; cached until the data change or the day does. "
                "A figure that cannot be computed is null.",
            )
        }
    )
    def get(self, request):
        report = study_report(site_ids=user_site_ids(request.user))
        response = Response(_finite(report))
        response["Cache-Control"] = "private, max-age=60"
        return response
