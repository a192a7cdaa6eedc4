"""Every error as JSON naming the field: service ValidationErrors, stale versions (409), refusals (403),
locks (423) and bodies over the size limit (413, not Django's HTML page).

The messages are in the request's language (Accept-Language, accounts.language): each one is
translated here, when the error is answered, never frozen in English at import; the keys (field
names, "detail", "code") are the same in every language.
"""

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crf.locks import RecordLocked
from crf.transactions import BUSY_MESSAGE, RETRY_AFTER_SECONDS, is_busy, is_conflict
from patients.services import EnrollmentRefused
from queries.services import QueryNotAllowed
from trial.versioning import ConcurrentEditError


class FieldErrors(APIException):
    """400 with {field: [messages]}, as a form shows them."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, errors: dict):
        self.detail = errors


def _json_value(value):
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def coded_errors(exc: DjangoValidationError) -> list[tuple[str, str, str, dict]]:
    """(field, code, message, params) of each error, in order: the stable code a client can act on
    (docs/api.md, "Error codes"), "invalid" where the check gives none, and its parameters."""
    pairs = exc.error_dict.items() if hasattr(exc, "error_dict") else [("non_field_errors", exc.error_list)]
    found = []
    for field, errors in pairs:
        field = "non_field_errors" if field == "__all__" else field
        for error in errors:
            message = error.message % error.params if error.params else error.message
            params = {k: _json_value(v) for k, v in (error.params or {}).items()}
            found.append((field, error.code or "invalid", str(message), params))
    return found


PROBLEM_JSON = "application/problem+json"


def wants_problem(request) -> bool:
    """The client asked for RFC 9457 problem details (Accept: application/problem+json)."""
    return request is not None and PROBLEM_JSON in request.headers.get("Accept", "")


def problem_body(exc: DjangoValidationError) -> dict:
    """A refused input as RFC 9457 problem details, each error with its field, code and parameters."""
    errors = [
        {"field": field, "code": code, "message": message, **({"params": params} if params else {})}
        for field, code, message, params in coded_errors(exc)
    ]
    return {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": _("The input was refused; nothing was saved."),
        "errors": errors,
    }


def validation_error_dict(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): list(v) for k, v in exc.message_dict.items()}
    return {"non_field_errors": list(exc.messages)}


def conflict_body(exc: ConcurrentEditError) -> dict:
    return {
        "detail": str(exc),
        "current_version": exc.record.version,
        "expected_version": exc.expected_version,
        "changes": {field: {"from": old, "to": new} for field, (old, new) in exc.changes.items()},
    }


def locked_body(exc: RecordLocked) -> dict:
    """423 Locked: the refusal and the lock that holds the data."""
    lock = exc.lock
    body: dict = {"detail": " ".join(exc.messages)}
    if lock is not None:
        body["lock"] = {
            "id": lock.pk,
            "scope": lock.scope,
            "level": lock.level,
            "target": lock.target,
            "patient": lock.patient_id,
            "visit": lock.visit_id,
            "locked_by": lock.locked_by.get_username(),
            "locked_at": lock.locked_at.isoformat(),
            "reason": lock.reason,
        }
    return body


def _body_field(context) -> str:
    return getattr(context.get("view"), "body_field", "non_field_errors")


def _flat(messages):
    """The messages of a DRF error detail, however nested (a parse error comes as a list in a list)."""
    if isinstance(messages, (list, tuple)):
        for item in messages:
            yield from _flat(item)
    elif isinstance(messages, dict):
        for item in messages.values():
            yield from _flat(item)
    else:
        yield messages


def exception_handler(exc, context):
    if is_busy(exc) or is_conflict(exc):
        response = Response({"detail": BUSY_MESSAGE, "code": "database_busy"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, RequestDataTooBig):  # Django's own answer would be an HTML page
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20
        message = _("The request body is larger than %(limit)s MB.") % {"limit": f"{limit:g}"}
        if _body_field(context) != "non_field_errors":
            message += " " + _("Send a larger bundle as a ZIP of CSV files (docs/import.md).")
        return Response({_body_field(context): [message]}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # e.g. too many form fields: a bad request, answered as JSON
        return Response({"non_field_errors": [_("The request cannot be read.")]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RecordLocked):
        return Response(locked_body(exc), status=status.HTTP_423_LOCKED)
    if isinstance(exc, DjangoValidationError):
        if wants_problem(context.get("request")):
            return Response(problem_body(exc), status=status.HTTP_400_BAD_REQUEST, content_type=PROBLEM_JSON)
        return Response(validation_error_dict(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConcurrentEditError):
        return Response(conflict_body(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, EnrollmentRefused):
        return Response({"non_field_errors": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, QueryNotAllowed):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, ObjectDoesNotExist):
        exc = Http404()
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": _("You do not have permission to perform this action.")}, status=403)
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_400_BAD_REQUEST:
        # Every 400 names its field, as the schema says: DRF's own {"detail": "JSON parse error ..."} too.
        if isinstance(response.data, list):
            response.data = {"non_field_errors": response.data}
        elif isinstance(response.data, dict) and isinstance(response.data.get("detail"), str):
            response.data = {"non_field_errors": [response.data["detail"]]}
        if wants_problem(context.get("request")) and isinstance(response.data, dict):
            refusal = DjangoValidationError(
                {
                    name: [DjangoValidationError(str(m), code=getattr(m, "code", None) or "invalid") for m in flat]
                    for name, messages in response.data.items()
                    if (flat := list(_flat(messages)))
                }
            )
            return Response(problem_body(refusal), status=status.HTTP_400_BAD_REQUEST, content_type=PROBLEM_JSON)
    return response
