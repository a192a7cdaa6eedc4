"""Lab panels (protocol section 8)."""

from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.response import Response

from api import filters
from api.resources.base import (
    DATE_FROM,
    DATE_TO,
    IF_MATCH,
    PATIENT,
    SITE,
    VISIT,
    ETagMixin,
    ScopedViewSet,
    _body,
    _change_reason,
    expected_version,
)
from api.serializers import (
    LabPanelSaveResultSerializer,
    LabPanelSerializer,
    LabPanelWriteSerializer,
)
from assessments.models import LabPanel, Visit
from assessments.services.labs import lab_panel_save
from trial.clock import site_today
from trial.selectors import user_site_ids


def _saved_item(result) -> dict:
    """A saved value as a PATCH body's item: its number, or its missing-data code and reason."""
    item = {"analyte": result.analyte, "unit": result.unit, "sampled_at": result.sampled_at.isoformat()}
    if result.missing:
        return {**item, "missing": result.missing, "missing_reason": result.missing_reason}
    return {**item, "value": str(result.value)}


@extend_schema_view(list=extend_schema(parameters=[SITE, PATIENT, VISIT, DATE_FROM, DATE_TO]))
class LabPanelViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Lab panels of visits (section 8): values with units and sampling times, flagged H/L."""

    perm_model = "assessments.labpanel"
    serializer_class = LabPanelSerializer

    def get_queryset(self):
        queryset = self.scoped(LabPanel.objects.prefetch_related("results").order_by("id"))
        if self.action != "list":
            return queryset
        queryset = self.filter_common(queryset, date_field="sampled_at__date")
        visits = self.scoped(Visit.objects.all())
        if (visit := filters.record_id(self.request, "visit", visits, label="visit")) is not None:
            queryset = queryset.filter(visit_id=visit)
        return queryset

    def _save(self, *, visit: Visit, payload: dict, panel: LabPanel | None):
        patient = visit.patient
        zone = ZoneInfo(patient.site.time_zone)
        version = expected_version(self.request, payload) if panel else None
        reason = (_change_reason(payload) or None) if panel else None
        payload.pop("visit", None)
        if panel is not None:
            current = [_saved_item(r) for r in panel.results.all()]
            sent = {item.get("analyte") for item in payload.get("values") or [] if isinstance(item, dict)}
            if isinstance(payload.get("values", []), list):
                payload["values"] = [*(payload.get("values") or []), *(c for c in current if c["analyte"] not in sent)]
            payload.setdefault("sampled_at", panel.sampled_at.isoformat())
        cleaned = LabPanelWriteSerializer.clean(payload, zone=zone)
        outcome = lab_panel_save(
            visit=visit,
            sampled_at=cleaned["sampled_at"],
            values=cleaned["values"],
            panel_data=cleaned["panel_data"],
            visit_date=cleaned["visit_date"],
            user=self.request.user,
            expected_version=version,
            reason_for_change=reason,
            today=site_today(patient.site),
        )
        panel = LabPanel.objects.prefetch_related("results").get(pk=outcome.panel.pk)
        panel.warnings = outcome.warnings
        response = Response(
            LabPanelSaveResultSerializer(panel).data, status=status.HTTP_200_OK if version else status.HTTP_201_CREATED
        )
        response["ETag"] = f'"{panel.version}"'
        return response

    @extend_schema(request=LabPanelWriteSerializer, responses={201: LabPanelSaveResultSerializer})
    def create(self, request):
        payload = _body(request)
        visit_id = payload.get("visit")
        if isinstance(visit_id, bool) or not isinstance(visit_id, int):
            raise ValidationError({"visit": ["Give the visit id (GET /api/v1/visits/?patient=<id>)."]})
        visit = (
            Visit.objects.select_related("patient__site")
            .filter(pk=visit_id, patient__site_id__in=user_site_ids(request.user))
            .first()
        )
        if visit is None:
            raise Http404
        if LabPanel.objects.filter(visit=visit).exists():
            raise ValidationError(
                {"visit": ["This visit already has a lab panel; correct it with PATCH /lab-panels/<id>/."]}
            )
        return self._save(visit=visit, payload=payload, panel=None)

    @extend_schema(
        request=LabPanelWriteSerializer, responses={200: LabPanelSaveResultSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        panel = self.get_object()
        visit = Visit.objects.select_related("patient__site").get(pk=panel.visit_id)
        return self._save(visit=visit, payload=_body(request), panel=panel)
