"""Ruxolitinib doses (section 6)."""

from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework import serializers as drf
from rest_framework.decorators import action
from rest_framework.response import Response

from api import inputs
from api.errors import validation_error_dict
from api.resources.base import (
    IF_MATCH,
    PATIENT,
    SITE,
    ETagMixin,
    ScopedViewSet,
    _body,
    _change_reason,
    _patient_for,
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
    doses_record_new,
)

# A batch is one patient's doses, e.g. a day's or a week's paper log entered at once: at most
# the 56 doses of the 28 treatment days.
BATCH_LIMIT = 56


class DoseBatchSerializer(drf.Serializer):
    patient = drf.IntegerField()
    doses = DoseWriteSerializer(many=True, help_text=f"At most {BATCH_LIMIT}; each as POST /doses/ takes it.")


class DoseBatchResultSerializer(drf.Serializer):
    created = DoseSerializer(many=True)
    already_recorded = drf.IntegerField(
        help_text="Doses of the batch whose day and slot were recorded: left as they are."
    )


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT]))
class DoseViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Ruxolitinib doses, twice daily on treatment days 1-28 (section 6): given (time, amount), missed or held."""

    perm_model = "patients.doseadministration"
    action_perms = {"batch": "patients.add_doseadministration"}
    serializer_class = DoseSerializer

    def get_queryset(self):
        queryset = self.scoped(DoseAdministration.objects.order_by("patient_id", "treatment_day", "slot"))
        return self.filter_common(queryset) if self.action == "list" else queryset

    def _record(self, *, patient: Patient, payload: dict, **extra):
        return dose_record(
            patient=patient,
            **DoseWriteSerializer.clean(payload, zone=ZoneInfo(patient.site.time_zone)),
            user=self.request.user,
            **extra,
        )

    @extend_schema(
        request=DoseBatchSerializer,
        responses={201: DoseBatchResultSerializer},
        description="A refused batch is a 400 whose `doses` lists each dose's errors ({field: [message]}, {} for "
        "a dose without error) in the order sent; nothing of the batch is kept.",
    )
    @action(detail=False, methods=["post"], url_path="batch")
    def batch(self, request):
        """Several doses of one patient in one request, all or none: each is checked as POST /doses/ checks
        it (the interval between two doses of the batch counts too); if any is refused, none is kept and the
        answer lists each dose's errors in the order sent. A day and slot already recorded is left as it is
        (counted in already_recorded; correct it with PATCH /doses/<id>/)."""
        payload = _body(request)
        patient = _patient_for(request, payload)
        inputs.unknown_fields(payload, {"doses"})
        items = payload.get("doses")
        if not isinstance(items, list) or not items:
            raise ValidationError({"doses": ["Send the doses as a list of dose objects."]})
        if len(items) > BATCH_LIMIT:
            raise ValidationError({"doses": [f"At most {BATCH_LIMIT} doses in one batch (sent {len(items)})."]})
        parsed, errors = [], []
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise ValidationError({"non_field_errors": ["Send each dose as a JSON object."]})
                parsed.append(DoseWriteSerializer.clean(dict(item), zone=ZoneInfo(patient.site.time_zone)))
                errors.append({})
            except ValidationError as exc:
                errors.append(validation_error_dict(exc))
        if any(errors):
            return Response({"doses": errors}, status=status.HTTP_400_BAD_REQUEST)
        outcome = doses_record_new(patient=patient, doses=parsed, user=request.user)
        if outcome.errors:
            errors = [
                validation_error_dict(outcome.errors[i]) if i in outcome.errors else {} for i in range(len(parsed))
            ]
            return Response({"doses": errors}, status=status.HTTP_400_BAD_REQUEST)
        doses = DoseAdministration.objects.filter(pk__in=[d.pk for d in outcome.created]).order_by(
            "treatment_day", "slot"
        )
        return Response(
            {"created": DoseSerializer(doses, many=True).data, "already_recorded": outcome.existing},
            status=status.HTTP_201_CREATED,
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
        reason_for_change = _change_reason(payload)
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
            reason_for_change=reason_for_change,
        )
        return Response(DoseSerializer(dose).data)
