"""G-CSF and transfusions."""

from drf_spectacular.utils import (
    OpenApiParameter,
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
    _patient_for,
    correction,
)
from api.serializers import (
    SupportiveCareSerializer,
    SupportiveCareWriteSerializer,
)
from assessments.models import SupportiveCare
from assessments.services.labs import supportive_care_record, supportive_care_update
from patients.models import (
    Patient,
)
from trial.clock import site_today

CARE_FIELDS = SupportiveCareWriteSerializer.types


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
        data = SupportiveCareWriteSerializer.clean(payload)
        care = supportive_care_record(patient=patient, **data, user=request.user, today=site_today(patient.site))
        return Response(SupportiveCareSerializer(care).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SupportiveCareWriteSerializer, responses={200: SupportiveCareSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        care = self.get_object()
        version, reason, merged = correction(request, care, CARE_FIELDS, types=CARE_FIELDS)
        data = SupportiveCareWriteSerializer.clean(merged)
        patient = Patient.objects.select_related("site").get(pk=care.patient_id)
        care = supportive_care_update(
            care_id=care.pk,
            **data,
            user=request.user,
            expected_version=version,
            reason_for_change=reason,
            today=site_today(patient.site),
        )
        return _etag(Response(SupportiveCareSerializer(care).data), care)
