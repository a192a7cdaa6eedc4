"""End of treatment."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)

from api import inputs
from api.resources.base import (
    IF_MATCH,
    PATIENT,
    SITE,
    FormViewSet,
    _body,
    _patient_for,
    correction,
)
from api.serializers import (
    TreatmentEndSerializer,
    TreatmentEndWriteSerializer,
)
from patients.models import (
    Patient,
    TreatmentEnd,
)
from patients.services import (
    treatment_end_record,
)


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT]))
class TreatmentEndViewSet(FormViewSet):
    """End of ruxolitinib: completed 28 days, or discontinued with its reason (section 6)."""

    serializer_class = TreatmentEndSerializer

    @extend_schema(request=TreatmentEndWriteSerializer, responses={201: TreatmentEndSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
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
            **TreatmentEndWriteSerializer.clean(payload),
            user=request.user,
        )
        return self.created(end)

    @extend_schema(request=TreatmentEndWriteSerializer, responses={200: TreatmentEndSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        """Correct the end of treatment: the version loaded and a reason for change."""
        end = self.get_object()
        version, reason, merged = correction(request, end, inputs.TREATMENT_END_FIELDS)
        patient = Patient.objects.select_related("site__trial", "screening").get(pk=end.patient_id)
        end = treatment_end_record(
            patient=patient,
            **TreatmentEndWriteSerializer.clean(merged),
            user=request.user,
            expected_version=version,
            reason_for_change=reason,
        )
        return self.corrected(end)
