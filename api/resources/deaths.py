"""Deaths."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view

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
from api.serializers import DeathSerializer, DeathWriteSerializer
from patients.models import Death, Patient
from patients.services import death_record

DEATH_FIELDS = DeathWriteSerializer.types


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class DeathViewSet(FormViewSet):
    """A patient's death (sections 6 and 11): off study, an event of event-free survival; a grade 5 AE needs it."""

    serializer_class = DeathSerializer
    date_field = "date_of_death"

    @extend_schema(request=DeathWriteSerializer, responses={201: DeathSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        recorded = Death.objects.filter(patient=patient).first()
        if recorded is not None:
            raise ValidationError(
                {"non_field_errors": [f"The death is recorded; correct it with PATCH /deaths/{recorded.pk}/."]}
            )
        data = DeathWriteSerializer.clean(payload, site=patient.site)
        return self.created(death_record(patient=patient, user=request.user, **data))

    @extend_schema(request=DeathWriteSerializer, responses={200: DeathSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        death = self.get_object()
        version, reason, merged = correction(request, death, DEATH_FIELDS, types=DEATH_FIELDS)
        patient = Patient.objects.select_related("site", "screening").get(pk=death.patient_id)
        data = DeathWriteSerializer.clean(merged, site=patient.site)
        return self.corrected(
            death_record(patient=patient, user=request.user, expected_version=version, reason_for_change=reason, **data)
        )
