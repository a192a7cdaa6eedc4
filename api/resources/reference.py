"""Reference lists: the user's sites, the lab catalogue and the CTCAE v3.0 terms."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import (
    SiteSerializer,
)
from assessments.selectors import ctcae_terms_find
from trial.analytes import ANALYTES, units_for
from trial.selectors import user_sites


class SiteListView(APIView):
    @extend_schema(responses={200: SiteSerializer(many=True)})
    def get(self, request):
        return Response(SiteSerializer(user_sites(request.user), many=True).data)


class AnalyteListView(APIView):
    """The lab catalogue: codes, units accepted and physiological limits (a value outside is refused)."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "Analyte",
                fields={
                    "code": serializers.CharField(),
                    "label": serializers.CharField(),
                    "unit": serializers.CharField(),
                    "units": serializers.ListField(child=serializers.CharField()),
                    "minimum": serializers.FloatField(),
                    "maximum": serializers.FloatField(),
                    "group": serializers.CharField(),
                },
                many=True,
            )
        }
    )
    def get(self, request):
        return Response(
            [
                {
                    "code": a.code,
                    "label": a.label,
                    "unit": a.unit,
                    "units": list(units_for(a.code)),
                    "minimum": a.minimum,
                    "maximum": a.maximum,
                    "group": a.group,
                }
                for a in ANALYTES.values()
            ]
        )


CTCAE_SEARCH_LIMIT = 50
CtcaeTermSchema = inline_serializer(
    "CtcaeTerm",
    fields={
        "id": serializers.IntegerField(),
        "code": serializers.CharField(help_text="CTCAE v3.0 code; give it as an adverse event's term_code."),
        "term": serializers.CharField(help_text="The official English term."),
        "category": serializers.CharField(),
    },
    many=True,
)


class CtcaeTermListView(APIView):
    """CTCAE v3.0 terms by name, category or code (the adverse-event page's search)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search", str, required=True, description="Part of a term or category, or a code (up to 60 characters)."
            )
        ],
        responses={200: CtcaeTermSchema},
    )
    def get(self, request):
        query = request.query_params.get("search", "")
        if not query.strip():
            raise ValidationError({"search": ["Give part of a term, a category or a code to search for."]})
        if "\x00" in query:
            raise ValidationError({"search": ["The value contains a NUL character."]})
        terms = ctcae_terms_find(query, limit=CTCAE_SEARCH_LIMIT)
        return Response([{"id": t.pk, "code": t.code, "term": t.term, "category": t.category} for t in terms])
