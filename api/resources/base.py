"""What every resource shares: the request body, the version a client loaded, the reason for
change, scoping to the user's sites and the common filters."""

from contextlib import contextmanager
from datetime import date
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
)
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from api import filters, inputs, scalars
from api.permissions import RolePermission
from patients.models import (
    Patient,
)
from trial.selectors import user_site_ids, user_sites
from trial.text_columns import length_message, text_problem
from trial.versioning import REASON_MAX_LENGTH

SITE = OpenApiParameter("site", str, description="Site code, e.g. BCH.")


PATIENT = OpenApiParameter("patient", int, description="Patient id.")


VISIT = OpenApiParameter("visit", int, description="Visit id.")


DATE_FROM = OpenApiParameter("date_from", OpenApiTypes.DATE, description="On or after (YYYY-MM-DD).")


DATE_TO = OpenApiParameter("date_to", OpenApiTypes.DATE, description="On or before (YYYY-MM-DD).")


IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, description="The ETag (version) you loaded; same as body 'version'."
)


def _bad_text(value: str) -> bool:
    return text_problem(value) is not None


def _day(value, *, field: str) -> date:
    return scalars.day(value, field=field, impossible=scalars.DATE_MESSAGE)


def _moment(value, *, zone: ZoneInfo, field: str):
    return scalars.moment(value, zone=zone, field=field)


def _body(request) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise scalars.refusal("non_field_errors", "Send a JSON object.", "not_an_object")
    return dict(data)


def expected_version(request, payload: dict) -> int:
    """The version the client loaded: body 'version' or the If-Match header (the ETag)."""
    raw = payload.pop("version", None)
    if raw is None:
        raw = (request.headers.get("If-Match") or "").strip().removeprefix("W/").strip('"') or None
    if raw is None:
        raise scalars.refusal(
            "version", "Send the version you loaded (field 'version' or the If-Match header).", "version_required"
        )
    if isinstance(raw, bool):
        raise scalars.refusal("version", "Version is a whole number.", "not_whole_number")
    value = scalars.whole_number(raw, field="version", message="Version is a whole number.")
    if value < 1:
        raise scalars.refusal("version", "Version is a whole number.", "not_whole_number")
    return value


def _change_reason(payload: dict) -> str:
    """The reason for change of saved data (required by the services), within what the history keeps."""
    reason = payload.pop("reason_for_change", None)
    if reason is None:
        return ""
    if not isinstance(reason, str) or _bad_text(reason):
        raise scalars.refusal("reason_for_change", "Enter text.", "not_text")
    if len(reason.strip()) > REASON_MAX_LENGTH:
        message = length_message("Reason for change", REASON_MAX_LENGTH, len(reason.strip()))
        raise scalars.refusal("reason_for_change", message, "max_length", {"limit_value": REASON_MAX_LENGTH})
    return reason


@contextmanager
def _api_names(names: dict[str, str]):
    """A service's errors under the API's names of its fields (the model's or the service's differ)."""
    try:
        yield
    except ValidationError as exc:
        if not (hasattr(exc, "error_dict") and set(exc.error_dict) & set(names)):
            raise
        raise ValidationError({names.get(key, key): v for key, v in exc.message_dict.items()}) from exc


class ETagMixin:
    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = f'"{instance.version}"'
        return response


class ScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [RolePermission]
    site_field = "patient__site_id"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for name, value in request.query_params.items():
            if "\x00" in value:  # the database refuses it in any text it compares
                raise ValidationError({name: ["The value contains a NUL character."]})

    def scoped(self, queryset):
        return queryset.filter(**{f"{self.site_field}__in": user_site_ids(self.request.user)})

    def filter_common(self, queryset, *, date_field: str | None = None, patient_field: str | None = "patient_id"):
        """site, patient and date_from/date_to; a site or patient not the user's is a 400 naming it."""
        request = self.request
        if site := filters.site_code(request, "site", user_sites(request.user)):
            queryset = queryset.filter(**{self.site_field.replace("_id", "__code"): site})
        if patient_field:
            patients = Patient.objects.filter(site_id__in=user_site_ids(request.user))
            if (patient := filters.record_id(request, "patient", patients, label="patient")) is not None:
                queryset = queryset.filter(**{patient_field: patient})
        if date_field:
            if (start := filters.day(request, "date_from")) is not None:
                queryset = queryset.filter(**{f"{date_field}__gte": start})
            if (end := filters.day(request, "date_to")) is not None:
                queryset = queryset.filter(**{f"{date_field}__lte": end})
        return queryset

    def filter_choices(self, queryset, choices: dict):
        """Filters on a field's choices ({"status": Screening.Status}); a value not among them is a 400."""
        for name, values in choices.items():
            if (value := filters.choice(self.request, name, values)) is not None:
                queryset = queryset.filter(**{name: value})
        return queryset


class FormViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A catalogued form as a resource: list (site, patient, dates), retrieve with its ETag, and the
    answers of create (201) and PATCH (200 with the new ETag) in the form's read serializer."""

    date_field: str | None = None  # the date that date_from/date_to filter on
    ordering: tuple[str, ...] = ("id",)

    @property
    def perm_model(self) -> str:
        return self.serializer_class.Meta.model._meta.label_lower

    def get_queryset(self):
        queryset = self.scoped(self.serializer_class.Meta.model.objects.order_by(*self.ordering))
        return self.filter_common(queryset, date_field=self.date_field) if self.action == "list" else queryset

    def created(self, record) -> Response:
        return Response(self.serializer_class(record).data, status=status.HTTP_201_CREATED)

    def corrected(self, record) -> Response:
        return _etag(Response(self.serializer_class(record).data), record)


def _patient_for(request, payload: dict) -> Patient:
    patient_id = payload.pop("patient", None)
    if isinstance(patient_id, bool) or not isinstance(patient_id, int):
        raise scalars.refusal("patient", "Give the patient id.", "required")
    patient = (
        Patient.objects.select_related("site", "screening")
        .filter(pk=patient_id, site_id__in=user_site_ids(request.user))
        .first()
    )
    if patient is None:
        raise Http404
    return patient


# The typed readers of the input adapters (api/inputs.py), under the names the resources use.
_text = inputs.text
_optional_bool = inputs.optional_bool


# The JSON types of the fields of the forms the page's form validates (api/inputs.py).
TEXT, BOOL, NULL_BOOL, DATE = inputs.TEXT, inputs.BOOL, inputs.NULL_BOOL, inputs.DATE
json_types = inputs.json_types
_typed = inputs.typed_values
_form_clean = inputs.page_form_clean


def _as_json(value):
    return value.isoformat() if isinstance(value, date) else value


def _current(record, fields) -> dict:
    return {name: _as_json(getattr(record, name)) for name in fields}


def _etag(response: Response, record) -> Response:
    response["ETag"] = f'"{record.version}"'
    return response


def correction(request, record, fields, *, types: dict[str, str] | None = None) -> tuple[int, str, dict]:
    """A PATCH of a form: the version the client loaded, the reason for change, and the record's
    current values with those sent over them. The fields sent are checked by their JSON types
    (`types`) or, for a form whose service types them, only for unknown names."""
    payload = _body(request)
    version = expected_version(request, payload)
    reason = _change_reason(payload)
    payload.pop("patient", None)
    if types is not None:
        _typed(payload, types)
    else:
        inputs.unknown_fields(payload, fields)
    return version, reason, {**_current(record, fields), **payload}
