"""Therapy after ruxolitinib."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)

from api.resources.base import (
    DATE_FROM,
    DATE_TO,
    IF_MATCH,
    PATIENT,
    SITE,
    FormViewSet,
    _body,
    _patient_for,
    correction,
)
from api.serializers import (
    SubsequentTherapySerializer,
    SubsequentTherapyWriteSerializer,
)
from patients.models import (
    Patient,
    SubsequentTherapy,
)
from patients.services import (
    subsequent_therapy_record,
    subsequent_therapy_update,
)

THERAPY_FIELDS = SubsequentTherapyWriteSerializer.types


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class SubsequentTherapyViewSet(FormViewSet):
    """Therapy after ruxolitinib (section 6), usually HLH-1994: etoposide + dexamethasone +/- cyclosporine A."""

    serializer_class = SubsequentTherapySerializer

    date_field = "start_date"

    @extend_schema(request=SubsequentTherapyWriteSerializer, responses={201: SubsequentTherapySerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        data = SubsequentTherapyWriteSerializer.clean(payload, site=patient.site)
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
        return self.created(therapy)

    @extend_schema(
        request=SubsequentTherapyWriteSerializer, responses={200: SubsequentTherapySerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        therapy = self.get_object()
        version, reason, merged = correction(request, therapy, THERAPY_FIELDS, types=THERAPY_FIELDS)
        patient = Patient.objects.select_related("site").get(pk=therapy.patient_id)
        data = SubsequentTherapyWriteSerializer.clean(merged, site=patient.site)
        therapy = subsequent_therapy_update(
            therapy=therapy, user=request.user, expected_version=version, reason_for_change=reason, **data
        )
        return self.corrected(therapy)
