"""Response assessments (section 9) and their confirmation."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from api import inputs
from api.resources.base import (
    DATE_FROM,
    DATE_TO,
    IF_MATCH,
    PATIENT,
    SITE,
    ETagMixin,
    ScopedViewSet,
    _api_names,
    _body,
    expected_version,
)
from api.serializers import (
    ResponseAssessmentSerializer,
    ResponseConfirmSerializer,
)
from assessments.models import ResponseAssessment
from assessments.services.responses import response_confirm


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class ResponseAssessmentViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Responses computed at days 3, 7, 14, 21, 28 (section 9) and the investigator's confirmation."""

    perm_model = "assessments.responseassessment"
    action_perms = {"confirm": "assessments.change_responseassessment"}
    serializer_class = ResponseAssessmentSerializer

    def get_queryset(self):
        queryset = self.scoped(ResponseAssessment.objects.order_by("patient_id", "study_day"))
        if self.action != "list":
            return queryset
        return self.filter_common(queryset, date_field="assessment_date")

    @extend_schema(
        request=ResponseConfirmSerializer, responses={200: ResponseAssessmentSerializer}, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        assessment = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        inputs.unknown_fields(payload, {"status", "reason"})
        reason = payload.get("reason") or ""
        if not isinstance(reason, str):
            raise ValidationError({"reason": ["Reason is text."]})
        with _api_names({"confirmation_reason": "reason"}):
            assessment = response_confirm(
                assessment_id=assessment.pk,
                status=str(payload.get("status") or ""),
                reason=reason,
                expected_version=version,
                user=request.user,
            )
        return Response(ResponseAssessmentSerializer(assessment).data)
