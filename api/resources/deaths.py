"""Deaths."""

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
    DeathSerializer,
    DeathWriteSerializer,
)
from patients.forms import DeathForm
from patients.models import (
    Death,
    Patient,
)
from patients.services import (
    death_record,
)

DEATH_FIELDS = json_types("patients.death")


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
        version, reason, merged = correction(request, death, DEATH_FIELDS, types=DEATH_FIELDS)
        patient = Patient.objects.select_related("site", "screening").get(pk=death.patient_id)
        data = _form_clean(DeathForm, merged, site=patient.site)
        with _reason_field():
            death = death_record(
                patient=patient, user=request.user, expected_version=version, change_reason=reason, **data
            )
        return _etag(Response(DeathSerializer(death).data), death)
