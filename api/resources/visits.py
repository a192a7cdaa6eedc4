"""Visits: planned, unscheduled, not done."""

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
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
    _body,
    _day,
    _patient_for,
    _text,
    expected_version,
)
from api.serializers import (
    UnscheduledVisitSerializer,
    VisitNotDoneSerializer,
    VisitSerializer,
)
from assessments.models import Visit
from assessments.services.visits import visit_not_done_record, visit_unscheduled_add
from trial.clock import site_today


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class VisitViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Planned and unscheduled visits; date filters apply to the planned date."""

    perm_model = "assessments.visit"
    serializer_class = VisitSerializer

    action_perms = {"not_done": "assessments.change_visit"}

    def get_queryset(self):
        queryset = self.scoped(Visit.objects.select_related("definition", "lab_panel").order_by("patient_id", "id"))
        if self.action != "list":
            return queryset
        return self.filter_common(queryset, date_field="planned_date")

    @extend_schema(request=UnscheduledVisitSerializer, responses={201: VisitSerializer})
    def create(self, request):
        """An unscheduled visit on any day after enrollment (section 7)."""
        payload = _body(request)
        patient = _patient_for(request, payload)
        inputs.unknown_fields(payload, {"visit_date", "reason"})
        visit = visit_unscheduled_add(
            patient=patient,
            visit_date=_day(payload.get("visit_date"), field="visit_date"),
            reason=_text(payload, "reason"),
            user=request.user,
            today=site_today(patient.site),
        )
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VisitNotDoneSerializer, responses={200: VisitSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"], url_path="not-done")
    def not_done(self, request, pk=None):
        """Record that a planned visit was not done, with the reason."""
        visit = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        inputs.unknown_fields(payload, {"reason"})
        visit = visit_not_done_record(
            visit_id=visit.pk, reason=_text(payload, "reason"), expected_version=version, user=request.user
        )
        return Response(VisitSerializer(visit).data)
