"""Ruxolitinib doses (section 6)."""

from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.response import Response

from api import inputs, scalars
from api.resources.base import (
    IF_MATCH,
    PATIENT,
    SITE,
    ETagMixin,
    ScopedViewSet,
    _body,
    _change_reason,
    _moment,
    _patient_for,
    _reason_field,
    _text,
    expected_version,
)
from api.serializers import (
    DoseSerializer,
    DoseWriteSerializer,
)
from patients.models import (
    DoseAdministration,
    Patient,
)
from patients.services import (
    DoseAlreadyRecorded,
    dose_record,
)


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
