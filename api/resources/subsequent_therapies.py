"""Therapy after ruxolitinib."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.response import Response

from api.resources.base import (
    DATE_FROM,
    DATE_TO,
    IF_MATCH,
    PATIENT,
    SITE,
    ETagMixin,
    ScopedViewSet,
    _body,
    _etag,
    _form_clean,
    _patient_for,
    _reason_field,
    _typed,
    correction,
    json_types,
)
from api.serializers import (
    SubsequentTherapySerializer,
    SubsequentTherapyWriteSerializer,
)
from patients.forms import SubsequentTherapyForm
from patients.models import (
    Patient,
    SubsequentTherapy,
)
from patients.services import (
    subsequent_therapy_record,
    subsequent_therapy_update,
)

THERAPY_FIELDS = json_types("patients.subsequenttherapy")


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
        version, reason, merged = correction(request, therapy, THERAPY_FIELDS, types=THERAPY_FIELDS)
        patient = Patient.objects.select_related("site").get(pk=therapy.patient_id)
        data = _form_clean(SubsequentTherapyForm, merged, site=patient.site)
        with _reason_field():
            therapy = subsequent_therapy_update(
                therapy=therapy, user=request.user, expected_version=version, change_reason=reason, **data
            )
        return _etag(Response(SubsequentTherapySerializer(therapy).data), therapy)
