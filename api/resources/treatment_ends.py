"""End of treatment."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.response import Response

from api import inputs
from api.resources.base import (
    IF_MATCH,
    PATIENT,
    SITE,
    ETagMixin,
    ScopedViewSet,
    _body,
    _day,
    _etag,
    _patient_for,
    _reason_field,
    _text,
    correction,
)
from api.serializers import (
    TreatmentEndSerializer,
    TreatmentEndWriteSerializer,
)
from crf.catalogue import fields_of
from patients.models import (
    Patient,
    TreatmentEnd,
)
from patients.services import (
    treatment_end_record,
)

TREATMENT_END_FIELDS = fields_of("patients.treatmentend")


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
        version, reason, merged = correction(request, end, TREATMENT_END_FIELDS)
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
