"""Reference lists: the user's sites and the lab catalogue."""

from drf_spectacular.utils import (
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import (
    SiteSerializer,
)
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
