"""Enrolled patients."""

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins

from api.resources.base import (
    DATE_FROM,
    DATE_TO,
    SITE,
    ETagMixin,
    ScopedViewSet,
)
from api.serializers import (
    PatientSerializer,
)
from patients.models import (
    Patient,
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SITE,
            DATE_FROM,
            DATE_TO,
            OpenApiParameter("status", str, enum=[c.value for c in Patient.Status]),
            OpenApiParameter("risk_group", str, enum=[c.value for c in Patient.RiskGroup]),
            OpenApiParameter("etiology", str, enum=[c.value for c in Patient.Etiology]),
        ]
    )
)
class PatientViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Enrolled patients: subject number, etiology (section 4), risk group (5), dose band (6)."""

    perm_model = "patients.patient"
    serializer_class = PatientSerializer
    site_field = "site_id"

    def get_queryset(self):
        queryset = self.scoped(Patient.objects.select_related("site", "screening").order_by("id"))
        if self.action != "list":
            return queryset
        queryset = self.filter_common(queryset, date_field="enrollment_date", patient_field=None)
        return self.filter_choices(
            queryset, {"status": Patient.Status, "risk_group": Patient.RiskGroup, "etiology": Patient.Etiology}
        )
