"""Follow-up contacts: recorded, listed and corrected."""

from drf_spectacular.utils import extend_schema, extend_schema_view

from api import inputs
from api.resources.base import (
    DATE_FROM,
    DATE_TO,
    IF_MATCH,
    PATIENT,
    SITE,
    FormViewSet,
    _api_names,
    _body,
    _patient_for,
    correction,
)
from api.serializers import FollowUpSerializer, FollowUpWriteSerializer
from patients.models import FollowUp, Patient
from patients.services import follow_up_record

# The death a follow-up reports is the Death's own record: its errors come back under these names.
DEATH_NAMES = {"cause": "death_cause", "hlh_related": "death_hlh_related"}


def _follow_up(*, request, patient: Patient, payload: dict, **correction) -> FollowUp:
    with _api_names(DEATH_NAMES):
        data = FollowUpWriteSerializer.clean(payload)
        return follow_up_record(patient=patient, user=request.user, **data, **correction)


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, DATE_FROM, DATE_TO]))
class FollowUpViewSet(FormViewSet):
    """Follow-up contacts: alive, dead (with the death) or lost; HLH relapse."""

    serializer_class = FollowUpSerializer

    date_field = "assessed_on"

    @extend_schema(request=FollowUpWriteSerializer, responses={201: FollowUpSerializer})
    def create(self, request):
        payload = _body(request)
        patient = _patient_for(request, payload)
        follow_up = _follow_up(request=request, patient=patient, payload=payload)
        return self.created(follow_up)

    @extend_schema(request=FollowUpWriteSerializer, responses={200: FollowUpSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        """Correct a follow-up: the version loaded and a reason for change; the date may move to a free day."""
        follow_up = self.get_object()
        # A death is corrected on its own record: its fields are unknown here.
        version, reason, merged = correction(request, follow_up, inputs.FOLLOW_UP_FIELDS)
        patient = Patient.objects.select_related("site__trial", "screening").get(pk=follow_up.patient_id)
        follow_up = _follow_up(
            request=request,
            patient=patient,
            payload=merged,
            follow_up_id=follow_up.pk,
            expected_version=version,
            reason_for_change=reason,
        )
        return self.corrected(follow_up)
