"""Screenings and enrollment (protocol section 3)."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
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
    SITE,
    ETagMixin,
    ScopedViewSet,
    _body,
    expected_version,
)
from api.serializers import (
    EnrollSerializer,
    PatientSerializer,
    ScreeningSerializer,
    ScreeningWriteSerializer,
)
from patients.models import (
    Eligibility,
    Screening,
)
from patients.services import (
    patient_enroll,
    screening_create,
    screening_update,
)
from trial.selectors import user_sites


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SITE,
            DATE_FROM,
            DATE_TO,
            OpenApiParameter("status", str, enum=[c.value for c in Screening.Status]),
            OpenApiParameter("eligibility", str, enum=[c.value for c in Eligibility]),
        ]
    ),
)
class ScreeningViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Screenings with their computed eligibility and its reasons (protocol section 3)."""

    perm_model = "patients.screening"
    action_perms = {"enroll": "patients.enroll_patient"}
    serializer_class = ScreeningSerializer
    site_field = "site_id"

    def get_queryset(self):
        queryset = self.scoped(Screening.objects.select_related("site", "patient").order_by("id"))
        if self.action != "list":
            return queryset
        queryset = self.filter_common(queryset, date_field="screening_date", patient_field=None)
        return self.filter_choices(queryset, {"status": Screening.Status, "eligibility": Eligibility})

    @extend_schema(request=ScreeningWriteSerializer, responses={201: ScreeningSerializer})
    def create(self, request):
        payload = _body(request)
        code = payload.pop("site", None)
        site = user_sites(request.user).filter(code=code).first() if isinstance(code, str) else None
        if site is None:
            raise ValidationError(
                {"site": [f"Choose one of your sites: {', '.join(s.code for s in user_sites(request.user))}."]}
            )
        data = ScreeningWriteSerializer.clean(payload, site=site)
        screening = screening_create(site=site, data=data, user=request.user)
        return Response(ScreeningSerializer(screening).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ScreeningWriteSerializer, responses={200: ScreeningSerializer}, parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        screening = self.get_object()
        payload = _body(request)
        version = expected_version(request, payload)
        payload.setdefault("reason_for_change", "")
        change = ScreeningWriteSerializer.clean(payload, screening=screening, version=version)
        screening = screening_update(screening_id=screening.pk, user=request.user, **change)
        response = Response(ScreeningSerializer(screening).data)
        response["ETag"] = f'"{screening.version}"'
        return response

    @extend_schema(request=EnrollSerializer, responses={201: PatientSerializer})
    @action(detail=True, methods=["post"])
    def enroll(self, request, pk=None):
        """Enroll an eligible child: subject number, etiology, risk group, dose band, visit calendar."""
        screening = self.get_object()
        if hasattr(screening, "patient"):
            raise ValidationError({"non_field_errors": [f"{screening} is already enrolled."]})
        payload = _body(request)
        with inputs.errors_as_sent(payload, inputs.FORMER_ENROLL_NAMES):
            data = EnrollSerializer.clean(payload, screening=screening)
            patient = patient_enroll(screening_id=screening.pk, user=request.user, **data)
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)
