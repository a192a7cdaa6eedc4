"""Adverse events, CTCAE v3.0 (section 10)."""

from django.core.exceptions import ValidationError
from django.http import Http404
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
    _change_reason,
    expected_version,
)
from api.serializers import (
    AdverseEventSerializer,
    AdverseEventWriteSerializer,
)
from assessments.models import AdverseEvent
from assessments.services.adverse_events import adverse_event_record, adverse_event_update
from patients.models import (
    Patient,
)
from trial.selectors import user_site_ids


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
        ae = adverse_event_record(patient=patient, data=AdverseEventWriteSerializer.clean(payload), user=request.user)
        return Response(AdverseEventSerializer(ae).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AdverseEventWriteSerializer, responses={200: AdverseEventSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        ae = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        reason = _change_reason(payload)
        ae = adverse_event_update(
            ae_id=ae.pk,
            data=AdverseEventWriteSerializer.clean(payload),
            expected_version=version,
            user=request.user,
            reason_for_change=reason,
        )
        response = Response(AdverseEventSerializer(ae).data)
        response["ETag"] = f'"{ae.version}"'
        return response
