"""Follow-up contacts: recorded, listed and corrected."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
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
    _day,
    _etag,
    _optional_bool,
    _patient_for,
    _text,
    correction,
)
from api.serializers import FollowUpSerializer, FollowUpWriteSerializer
from crf.catalogue import fields_of
from patients.models import FollowUp, Patient
from patients.services import follow_up_record

FOLLOW_UP_FIELDS = fields_of("patients.followup")
DEATH_AT_FOLLOW_UP = ("date_of_death", "death_cause", "death_hlh_related")
# The death a follow-up reports is the Death's own record: its errors come back under these names.
DEATH_NAMES = {"cause": "death_cause", "hlh_related": "death_hlh_related"}


def _follow_up(*, request, patient: Patient, payload: dict, **correction) -> FollowUp:
    death = payload.get("date_of_death")
    with _api_names({**DEATH_NAMES, "change_reason": "reason_for_change"}):
        return follow_up_record(
            patient=patient,
            assessed_on=_day(payload.get("assessed_on"), field="assessed_on"),
            vital_status=_text(payload, "vital_status"),
            hlh_relapse=_optional_bool(payload, "hlh_relapse"),
            notes=_text(payload, "notes"),
            date_of_death=_day(death, field="date_of_death") if death else None,
            death_cause=_text(payload, "death_cause"),
            death_hlh_related=_optional_bool(payload, "death_hlh_related"),
            user=request.user,
            **correction,
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
        inputs.unknown_fields(payload, {*FOLLOW_UP_FIELDS, *DEATH_AT_FOLLOW_UP})
        follow_up = _follow_up(request=request, patient=patient, payload=payload)
        return Response(FollowUpSerializer(follow_up).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FollowUpWriteSerializer, responses={200: FollowUpSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        """Correct a follow-up: the version loaded and a reason for change; the date may move to a free day."""
        follow_up = self.get_object()
        # A death is corrected on its own record: its fields are unknown here.
        version, reason, merged = correction(request, follow_up, FOLLOW_UP_FIELDS)
        patient = Patient.objects.select_related("site__trial", "screening").get(pk=follow_up.patient_id)
        follow_up = _follow_up(
            request=request,
            patient=patient,
            payload=merged,
            follow_up_id=follow_up.pk,
            expected_version=version,
            change_reason=reason,
        )
        return _etag(Response(FollowUpSerializer(follow_up).data), follow_up)
