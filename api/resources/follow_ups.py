"""Follow-up contacts."""

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.response import Response

from api import inputs
from api.resources.base import (
    DATE_FROM,
    DATE_TO,
    PATIENT,
    SITE,
    ETagMixin,
    ScopedViewSet,
    _api_names,
    _body,
    _day,
    _optional_bool,
    _patient_for,
    _text,
)
from api.serializers import (
    FollowUpSerializer,
    FollowUpWriteSerializer,
)
from patients.models import (
    FollowUp,
)
from patients.services import (
    follow_up_record,
)


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class FollowUpViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Follow-up contacts: alive, dead (with the death) or lost; HLH relapse."""

    perm_model = "patients.followup"
    serializer_class = FollowUpSerializer

    def get_queryset(self):
        queryset = self.scoped(FollowUp.objects.order_by("id"))
        return self.filter_common(queryset, date_field="assessed_on") if self.action == "list" else queryset

    @extend_schema(request=FollowUpWriteSerializer, responses={201: FollowUpSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        inputs.unknown_fields(
            payload,
            {
                "assessed_on",
                "vital_status",
                "hlh_relapse",
                "notes",
                "date_of_death",
                "death_cause",
                "death_hlh_related",
            },
        )
        death = payload.get("date_of_death")
        with _api_names({"cause": "death_cause", "hlh_related": "death_hlh_related"}):  # the Death's own fields
            follow_up = follow_up_record(
                patient=patient,
                assessed_on=_day(payload.get("assessed_on"), field="assessed_on"),
                vital_status=_text(payload, "vital_status"),
                hlh_relapse=_optional_bool(payload, "hlh_relapse"),
                notes=_text(payload, "notes"),
                date_of_death=_day(death, field="date_of_death") if death else None,
                death_cause=_text(payload, "death_cause"),
                death_hlh_related=_optional_bool(payload, "death_hlh_related"),
                user=request.user,
            )
        return Response(FollowUpSerializer(follow_up).data, status=status.HTTP_201_CREATED)
