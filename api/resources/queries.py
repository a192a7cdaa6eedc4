"""Data queries."""

import re

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
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
    PATIENT,
    SITE,
    TEXT,
    ETagMixin,
    ScopedViewSet,
    _bad_text,
    _body,
    _etag,
    _patient_for,
    _typed,
    expected_version,
)
from api.serializers import (
    DataQueryDetailSerializer,
    DataQuerySerializer,
    QueryRaiseSerializer,
    QueryStepSerializer,
)
from crf.models import DataQuery, QueryMessage
from queries.selectors import query_targets
from queries.services import (
    QueryNotAllowed,
    query_answer,
    query_can_raise,
    query_close,
    query_comment,
    query_raise,
    query_reopen,
    query_step_check,
)

QUERY_FORM = OpenApiParameter(
    "form", str, description="The queried record's form (app.model), e.g. patients.screening, assessments.labpanel."
)


QUERY_FORM_PATTERN = re.compile(r"[a-z_]+\.[a-z_]+")


QUERY_STEPS = {"answer": query_answer, "close": query_close, "reopen": query_reopen}


def _message_text(payload: dict) -> str:
    text = payload.get("text")
    if not isinstance(text, str) or _bad_text(text):
        raise ValidationError({"text": ["Write the message as text."]})
    return text


def _optional_version(request, payload: dict) -> int | None:
    """Query steps may name the version they were made against (409 if it moved on); the pages do not."""
    if "version" in payload or request.headers.get("If-Match"):
        return expected_version(request, payload)
    return None


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SITE,
            PATIENT,
            QUERY_FORM,
            DATE_FROM,
            DATE_TO,
            OpenApiParameter("status", str, enum=[c.value for c in DataQuery.Status]),
            OpenApiParameter("origin", str, enum=[c.value for c in DataQuery.Origin]),
        ]
    )
)
class DataQueryViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Data queries on a patient's records: open -> answered (site) -> closed or re-opened (monitor, data manager).

    Automatic ones come from the edit checks and close themselves once the data pass.
    """

    serializer_class = DataQuerySerializer

    def get_serializer_class(self):
        return DataQueryDetailSerializer if self.action != "list" else DataQuerySerializer

    def get_queryset(self):
        queryset = self.scoped(
            DataQuery.objects.select_related("patient__site", "raised_by", "closed_by").order_by("id")
        )
        if self.action != "list":
            return queryset.prefetch_related(Prefetch("messages", QueryMessage.objects.select_related("author")))
        queryset = self.filter_common(queryset, date_field="created_at__date")
        queryset = self.filter_choices(queryset, {"status": DataQuery.Status, "origin": DataQuery.Origin})
        if form := self.request.query_params.get("form"):
            if not QUERY_FORM_PATTERN.fullmatch(form):
                raise ValidationError({"form": ["Give the form as app.model, e.g. assessments.labpanel."]})
            queryset = queryset.filter(target__startswith=f"{form}:")
        return queryset

    def _detail(self, query: DataQuery, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=query.pk)
        return _etag(Response(DataQueryDetailSerializer(fresh).data, status=code), fresh)

    @extend_schema(request=QueryRaiseSerializer, responses={201: DataQueryDetailSerializer})
    def create(self, request):
        if not query_can_raise(request.user):
            raise QueryNotAllowed("Only monitors and data managers raise queries.")
        payload = _body(request)
        patient = _patient_for(request, payload)
        _typed(payload, {"target": TEXT, "field": TEXT, "text": TEXT})
        target = payload.get("target")
        targets = dict(query_targets(patient))
        if target not in targets:
            raise ValidationError({"target": [f"Record: choose one of this patient's records ({', '.join(targets)})."]})
        field = (payload.get("field") or "").strip()
        limit = DataQuery._meta.get_field("field").max_length
        if len(field) > limit:
            raise ValidationError({"field": [f"Field must be at most {limit} characters (it has {len(field)})."]})
        query = query_raise(
            patient=patient, target=target, field=field, text=payload.get("text") or "", user=request.user
        )
        return self._detail(query, status.HTTP_201_CREATED)

    def _step(self, request, name: str) -> Response:
        query = self.get_object()
        query_step_check(request.user, name)  # a refused role is a 403 whatever the body
        payload = _body(request)
        version = _optional_version(request, payload)
        inputs.unknown_fields(payload, {"text"})
        text = _message_text(payload)
        if name == "comment":
            query = query_comment(query_id=query.pk, user=request.user, text=text)
        else:
            query = QUERY_STEPS[name](query_id=query.pk, user=request.user, text=text, expected_version=version)
        return self._detail(query)

    @extend_schema(request=QueryStepSerializer, responses={200: DataQueryDetailSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """The site answers (clinicians, coordinators): open -> answered."""
        return self._step(request, "answer")

    @extend_schema(request=QueryStepSerializer, responses={200: DataQueryDetailSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Monitors and data managers close: open or answered -> closed."""
        return self._step(request, "close")

    @extend_schema(request=QueryStepSerializer, responses={200: DataQueryDetailSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Monitors and data managers re-open: answered or closed -> open."""
        return self._step(request, "reopen")

    @extend_schema(request=QueryStepSerializer, responses={200: DataQueryDetailSerializer})
    @action(detail=True, methods=["post"])
    def messages(self, request, pk=None):
        """A message in the conversation without a change of status (not on a closed query)."""
        return self._step(request, "comment")
